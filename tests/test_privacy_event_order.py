"""The columns an event aggregate reads without naming them (DESIGN §8.5, check/policy.py):
a source's `time:` (every aggregate keeps the events before the as-of, a window or a
sequence's `within` compares times) and its `order_by:` (first / last / nth take the
event at a place in that order). When one of them is sensitive, an expression that
aggregates that source reads sensitive data — inline, through a feature of segc.yml
(marked sensitive like one that names the column) and through a sequence's Y side — and
needs @allow_sensitive. Marking such a feature `sensitive: true` does not make the time
column sensitive in turn (the feature's own columns are what it marks)."""
from __future__ import annotations

import shutil

import pytest
import yaml
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from segc.front.errors import SegcError
from tests.conftest import EXAMPLE

ALLOW = '@allow_sensitive("consent")\n'

# expression -> the sensitive columns it reads, with orders' time sensitive (TIME) or
# orders' tie-breaker sensitive (ORDER); [] = reads neither
CASES = [
    ('count(orders) > 2', ["orders.ordered_at"], []),
    ('count(orders during last 7 days) > 0', ["orders.ordered_at"], []),
    ('sum(orders.amount where category = "shoes") > 10', ["orders.ordered_at"], []),
    ('purchases_90d > 1', ["purchases_90d"], []),                   # a feature of segc.yml
    ('last(orders.category) = "shoes"', ["orders.ordered_at"], ["orders.store"]),
    ('first(orders.category) = "shoes"', ["orders.ordered_at"], ["orders.store"]),
    ('nth(orders.category, 2) = "shoes"', ["orders.ordered_at"], ["orders.store"]),
    ('mode(orders.category) = "shoes"', ["orders.ordered_at"], []),   # ties broken by the value
    ('home_store = "Lyon Part-Dieu"', ["home_store"], ["home_store"]),  # agg: mode over store itself
    ('second_order_at is present', ["second_order_at"], ["second_order_at"]),  # agg: nth
    ('last_category = "shoes"', ["last_category"], ["last_category"]),           # agg: last
    ('count(orders where category = "shoes" followed by orders where category = "bags" within 7 days) >= 1',
     ["orders.ordered_at"], []),
    # the Y side only: carts' own aggregate reads carts' time, the orders' times decide
    ('exists(carts where abandoned during last 7 days not followed by orders within 2 days)',
     ["orders.ordered_at"], []),
    # a column named in a sequence's `where`, X side and Y side, and in a pattern
    ('count(orders where store = "x" followed by orders within 7 days) >= 1', ["orders.ordered_at"], ["orders.store"]),
    ('exists(carts followed by orders where store = "x" within 2 days)', ["orders.ordered_at"], ["orders.store"]),
    ('exists(orders where store matches "^Ly")', ["orders.ordered_at"], ["orders.store"]),
    ('age > 30', [], []),
]


def _project(tmp_path, sensitive: list[str], order_by: list[str] | None = None, marked: str | None = None):
    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("segments", "tests", "models"))
    (root / "segments").mkdir()
    config = yaml.safe_load((root / "segc.yml").read_text(encoding="utf-8"))
    for k in ("scores", "kpis", "experiments"):
        config.pop(k, None)
    orders = config["sources"]["orders"]
    orders["sensitive"] = sensitive
    if order_by is not None:
        orders["order_by"] = order_by
    config["features"]["last_category"] = {"type": "string", "from": "orders", "agg": "last", "column": "category"}
    if marked:
        config["features"][marked]["sensitive"] = True
    (root / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    # the example's own segments read orders: only the ones of each test are kept
    (root / "segments" / "a.seg").write_text("segment adults = age >= 18\n", encoding="utf-8")
    return root


def _reads(project, text: str) -> list[str]:
    try:
        project.compile_expression(text)
    except SegcError as e:
        assert [d.code for d in e.diagnostics] == ["E501"], e.diagnostics
        return sorted(n.strip("`,") for n in e.diagnostics[0].message.split("uses ")[1].split()
                      if n.startswith("`"))
    return []


@pytest.mark.parametrize("variant", ["time", "order"])
def test_time_and_order_of_the_events_are_read(tmp_path, variant):
    if variant == "time":
        root = _project(tmp_path, ["ordered_at"])
    else:
        root = _project(tmp_path, ["store"], order_by=["store", "order_id"])
    project = segc.load_project(root)
    got = {text: _reads(project, text) for text, _t, _o in CASES}
    want = {text: (t if variant == "time" else o) for text, t, o in CASES}
    assert got == want


def test_a_segment_needs_the_allowance(tmp_path):
    root = _project(tmp_path, ["store"], order_by=["store"])
    seg = root / "segments" / "a.seg"
    runner = CliRunner()
    for text, _t, reads in CASES:
        seg.write_text(f"segment s = {text}\n", encoding="utf-8")
        result = runner.invoke(app, ["check", str(root)])
        assert (result.exit_code, "E501" in result.output) == ((1, True) if reads else (0, False)), (text, result.output)
        seg.write_text(f"{ALLOW}segment s = {text}\n", encoding="utf-8")
        result = runner.invoke(app, ["check", str(root)])
        assert result.exit_code == 0, (text, result.output)


def test_report_by_a_pick_ordered_by_a_sensitive_column_is_refused(tmp_path):
    root = _project(tmp_path, ["store"], order_by=["store"])
    (root / "segments" / "a.seg").write_text("segment adults = age >= 18\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(root), "--by", "last_category"])
    assert result.exit_code == 1 and "E945" in result.output, result.output


def test_a_feature_marked_sensitive_does_not_mark_the_time(tmp_path):
    """`purchases_90d: {sensitive: true}` marks what it reads for its value (nothing: a
    count), not the time every aggregate of orders reads."""
    project = segc.load_project(_project(tmp_path, [], marked="purchases_90d"))
    assert _reads(project, "purchases_90d > 1") == ["purchases_90d"]
    assert _reads(project, "count(orders) > 2") == []
    assert _reads(project, 'last(orders.category) = "shoes"') == []
