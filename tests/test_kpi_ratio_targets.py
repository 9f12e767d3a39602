"""Ratio KPIs (`ratio: [numerator, denominator]`) and `targets:` of `segc report`
(issue 19, DESIGN §8.3): a ratio is the sum of the numerator over the sum of the
denominator (each sum on its own; not the mean of per-member ratios), computed by hand
here on rows where the two differ, on DuckDB and PostgreSQL; a denominator sum of 0, or
no denominator at all, is missing; targets give met / missed / no value and the gap in
the table, JSON, CSV and HTML; bad declarations are diagnostics with their place in
segc.yml, read alike by both segc.yml readers; and `report --by home_store` (an
event-derived `agg: mode` feature) against a computation in Python."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import segc
from segc.apps.report.measure import ALL, POPULATION, build_report
from segc.apps.report.targets import check_target
from segc.cli.main import app
from segc.schema.segc_yml import Targets
from tests.conftest import EXAMPLE

runner = CliRunner()

# id, tier, revenue, orders, optin (None: missing). Chosen so that the sum / sum differs
# from the mean of per-member ratios, a member has a revenue but no order count (4), an
# order count but no revenue (3), a group has no order count at all (b) and a member has
# 0 orders (7), a group has order counts but no revenue (d).
ROWS = [
    (1, "a", 100.0, 2, True), (2, "a", 30.0, 1, False), (3, "a", None, 3, True),
    (4, "b", 50.0, None, False), (5, "b", None, None, True),
    (6, "c", 12.0, 4, True), (7, "c", 0.0, 0, None), (8, "d", None, 2, False),
]
CONFIG = """\
name: ratios
base: people
key: id
as_of: 2024-07-01
min_group: 1  # a handful of rows: every group shown
sources:
  people: {table: s.people, path: data/people.parquet, sensitive: [religion]}
features:
  tier: {type: string}
  revenue: {type: float}
  orders: {type: int}
  optin: {type: bool}
  religion: {type: string}
kpis:
  basket:
    ratio: [revenue, orders]
    targets: {min: 30}
  nothing:
    ratio: [revenue, orders - orders]   # every denominator 0 (or missing)
  optin_share:
    share_of: optin
    targets: {min: 0.5, max: 0.7}
  revenue_total:
    sum: revenue
    targets: {max: 150}
"""
SEGMENTS = "segment everyone = true\nsegment buyers = orders >= 1\n"
GROUPS = (ALL, "a", "b", "c", "d")


def cli(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def make_project(root: Path, config: str = CONFIG) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "segments").mkdir()
    (root / "segc.yml").write_text(config, encoding="utf-8")
    (root / "segments" / "s.seg").write_text(SEGMENTS, encoding="utf-8")
    con = duckdb.connect()
    con.execute("CREATE TABLE people (id BIGINT, tier VARCHAR, revenue DOUBLE, orders BIGINT, optin BOOLEAN, "
                "religion VARCHAR)")
    con.executemany("INSERT INTO people VALUES (?, ?, ?, ?, ?, 'x')", [list(r) for r in ROWS])
    con.execute(f"COPY people TO '{root / 'data' / 'people.parquet'}' (FORMAT parquet)")
    con.close()
    return root


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("ratios") / "p")


@pytest.fixture(scope="module")
def duck(root):
    return build_report(segc.load_project(root), ["everyone", "buyers"], by="tier", periods=2)


# ---- the hand computation ---------------------------------------------------------------------

def members(segment: str, group) -> list[tuple]:
    keep = (lambda r: True) if segment in (POPULATION, "everyone") else (lambda r: r[3] is not None and r[3] >= 1)
    return [r for r in ROWS if keep(r) and (group is ALL or r[1] == group)]


def ratio_by_hand(rows, numerator, denominator):
    """Each sum on its own: a missing value adds nothing to its sum; missing when the
    denominators add up to 0 (or there is none)."""
    num = sum(v for r in rows if (v := numerator(r)) is not None)
    den = sum(v for r in rows if (v := denominator(r)) is not None)
    return num / den if den else None


def basket(rows):
    return ratio_by_hand(rows, lambda r: r[2], lambda r: r[3])


def nothing(rows):
    return ratio_by_hand(rows, lambda r: r[2], lambda r: None if r[3] is None else r[3] - r[3])


def mean_of_ratios(rows):
    ratios = [r[2] / r[3] for r in rows if r[2] is not None and r[3]]
    return sum(ratios) / len(ratios)


def expected(segment: str, group) -> dict:
    rows = members(segment, group)
    return {"basket": basket(rows), "nothing": nothing(rows),
            "revenue_total": sum(r[2] for r in rows if r[2] is not None)}


def approx(value):
    return None if value is None else pytest.approx(value, rel=1e-12)


# ---- the ratio ---------------------------------------------------------------------------------

def test_the_ratio_is_a_sum_over_a_sum_not_a_mean_of_ratios(duck):
    everyone = members("everyone", ALL)
    assert basket(everyone) == pytest.approx(192 / 12)  # (100 + 30 + 50 + 12 + 0) / (2 + 1 + 3 + 4 + 0 + 2)
    assert mean_of_ratios(everyone) == pytest.approx((50 + 30 + 3) / 3)  # what it must not be
    assert duck.row("everyone").current.kpis["basket"] == pytest.approx(192 / 12)
    for segment in (POPULATION, "everyone", "buyers"):
        for group in GROUPS:
            for name, value in expected(segment, group).items():
                assert duck.row(segment, group).current.kpis[name] == approx(value), (segment, group, name)


def test_missing_denominators_and_a_zero_sum_give_a_missing_ratio(duck):
    assert duck.row("everyone", "b").current.kpis["basket"] is None  # no order count in group b
    assert duck.row("buyers", "b").current.size == 0  # no member at all
    assert duck.row("buyers", "b").current.kpis["basket"] is None
    for group in GROUPS:  # every denominator 0 or missing: missing, never a division error
        assert duck.row("everyone", group).current.kpis["nothing"] is None
    # a member whose denominator is missing still adds its numerator (member 4's 50.0),
    # one whose numerator is missing still adds its denominator (member 3's 3 orders)
    assert duck.row("everyone", ALL).current.kpis["basket"] == pytest.approx((100 + 30 + 50 + 12) / (2 + 1 + 3 + 4 + 2))
    assert duck.row("everyone", "d").current.kpis["basket"] == 0  # no numerator at all: a sum of nothing, 0


def test_a_ratio_changes_relatively_like_an_average(duck):
    assert not duck.is_share("basket")
    row = duck.row("everyone")  # the data is static: the same value one period earlier
    change = row.change("basket", duck.is_share("basket"))
    assert (change.absolute, change.relative) == (0, 0)


def test_the_same_ratios_on_postgres(pg_dsn, root, duck):
    from segc.run.postgres_engine import PostgresEngine
    from tests.test_engines_parity import postgres_copy

    project = segc.load_project(root)
    engine = PostgresEngine(postgres_copy(pg_dsn, f"segc_ratios_{os.getpid()}", project))
    try:
        pg = build_report(project.use_engine(engine), ["everyone", "buyers"], by="tier", periods=2)
    finally:
        engine.close()
    assert pg.groups == duck.groups == ["a", "b", "c", "d"]
    for segment in (POPULATION, "everyone", "buyers"):
        for group in GROUPS:
            for name, value in expected(segment, group).items():
                assert pg.row(segment, group).current.kpis[name] == approx(value), (segment, group, name)


# ---- targets -----------------------------------------------------------------------------------

@pytest.mark.parametrize("targets, value, met, gap", [
    (Targets(0.4, None), 0.35, False, 0.35 - 0.4),  # below min: value - min, negative
    (Targets(0.4, None), 0.4, True, 0),  # on the bound: met
    (Targets(None, 120.0), 130.0, False, 10.0),  # above max: value - max, positive
    (Targets(None, 120.0), 100.0, True, 0),
    (Targets(1.0, 2.0), 1.5, True, 0),
    (Targets(1.0, 2.0), 0.5, False, -0.5),
    (Targets(1.0, 2.0), 2.5, False, 0.5),
    (Targets(1.0, 2.0), None, None, None),  # no value: neither met nor missed
])
def test_the_gap_and_its_sign(targets, value, met, gap):
    check = check_target(targets, value)
    assert (check.met, check.gap) == (met, gap)
    assert (check.min, check.max) == (targets.min, targets.max)


def expected_targets(segment: str, group) -> dict:
    """{kpi: (met, gap)} by hand, from the rows."""
    rows = members(segment, group)
    b = basket(rows)
    share = sum(r[4] is True for r in rows) / len(rows) if rows else None  # a missing optin is not a yes
    total = sum(r[2] for r in rows if r[2] is not None)
    return {
        "basket": (None, None) if b is None else (True, 0) if b >= 30 else (False, b - 30),
        "optin_share": (None, None) if share is None else (False, share - 0.5) if share < 0.5 else
        (False, share - 0.7) if share > 0.7 else (True, 0),
        "revenue_total": (False, total - 150) if total > 150 else (True, 0),
    }


def test_targets_in_json(root):
    result = cli("report", "everyone", "buyers", "-p", str(root), "--by", "tier", "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    kpis = {k["name"]: k for k in body["kpis"]}
    assert kpis["basket"]["expression"] == ["revenue", "orders"] and kpis["basket"]["kind"] == "ratio"
    assert kpis["basket"]["targets"] == {"min": 30.0, "max": None}
    assert kpis["optin_share"]["targets"] == {"min": 0.5, "max": 0.7}
    assert kpis["nothing"]["targets"] is None
    seen = Counter()
    for row in body["rows"]:
        group = ALL if row["group"] == "(all)" else row["group"]
        assert set(row["targets"]) == {"basket", "optin_share", "revenue_total"}  # only KPIs with targets
        for name, (met, gap) in expected_targets(row["segment"], group).items():
            t = row["targets"][name]
            assert t["met"] is met, (row["segment"], group, name)  # a bool or null, never a string
            assert (t["gap"] is None) if gap is None else t["gap"] == pytest.approx(gap, abs=1e-12)
            assert gap is None or isinstance(t["gap"], (int, float))
            seen[met] += 1
    assert seen[True] and seen[False] and seen[None]  # met, missed and no value all shown


def test_targets_in_csv(root):
    result = cli("report", "everyone", "buyers", "-p", str(root), "--by", "tier", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(lines[0])[-5:] == ["target_min", "target_max", "met", "gap", "group_kind"]
    checked = 0
    for line in lines:
        group = ALL if line["group"] == "(all)" else line["group"]
        targets = expected_targets(line["segment"], group)
        if line["metric"] not in targets:
            assert (line["target_min"], line["target_max"], line["met"], line["gap"]) == ("", "", "", "")
            continue
        met, gap = targets[line["metric"]]
        assert line["met"] == {True: "true", False: "false", None: ""}[met]
        assert (line["gap"] == "") if gap is None else float(line["gap"]) == pytest.approx(gap, abs=1e-12)
        bounds = {"basket": ("30.0", ""), "optin_share": ("0.5", "0.7"), "revenue_total": ("", "150.0")}
        assert (line["target_min"], line["target_max"]) == bounds[line["metric"]]
        checked += 1
    assert checked == 3 * 3 * 5  # 3 KPIs with targets x (population + 2 segments) x 5 groups


def test_targets_in_the_table(root):
    result = runner.invoke(app, ["report", "everyone", "-p", str(root), "-k", "basket", "-k", "optin_share"],
                           env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "✗ -14.00 vs ≥ 30.00" in out  # everyone: 16.00, 14.00 below min
    # optin share of everyone: 4 of 8 = 50.0%, on the min bound: met
    assert "✓ ≥ 50.0% and ≤ 70.0%" in out
    assert "basket = ratio: [revenue, orders] (target ≥ 30.00)" in out
    assert "optin_share = share_of: optin (target ≥ 50.0% and ≤ 70.0%)" in out
    assert "targets: ✓ met, ✗ missed" in out


def test_targets_in_the_table_with_no_value(root):
    result = runner.invoke(app, ["report", "buyers", "-p", str(root), "-k", "basket", "--by", "tier"],
                           env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "? ≥ 30.00" in result.stdout  # buyers in group b: no member, no value


def test_targets_in_html(root, tmp_path):
    out = tmp_path / "r.html"
    result = cli("report", "everyone", "buyers", "-p", str(root), "--by", "tier", "--format", "html", "--out", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    marks = re.findall(r'<span class="target( met| miss|)" title="[^"]*">([^<]*)</span>', page)
    # every row (population + 2 segments, 5 groups each) x 3 KPIs with targets
    assert len(marks) == 3 * 5 * 3
    assert ("miss", "✗ -14.00 vs ≥ 30.00") in [(c.strip(), t) for c, t in marks]
    assert {c.strip() for c, _ in marks} == {"met", "miss", ""}
    assert "<code>ratio: [revenue, orders]</code>" in page
    assert '<b class="target">target ≥ 50.0% and ≤ 70.0%</b>' in page  # with the KPI's definition


# ---- bad declarations ------------------------------------------------------------------------------

def _broken(tmp_path, old: str, new: str) -> tuple[Path, str]:
    assert CONFIG.count(old) == 1
    text = CONFIG.replace(old, new)
    return make_project(tmp_path / "p", text), text


def _place(text: str, needle: str, nth: int = 0) -> str:
    """`segc.yml:LINE:COL` of the start of `needle` (its nth occurrence) in `text`."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    line = text[:at].count("\n") + 1
    return f"segc.yml:{line}:{at - text.rfind(chr(10), 0, at)}"


@pytest.mark.parametrize("old, new, code, words, needle", [
    # shapes: not a list of two strings (pydantic's reading, E004, at the value)
    ("ratio: [revenue, orders]\n", "ratio: revenue / orders\n", "E004", "a list of two expressions", "revenue / orders"),
    ("ratio: [revenue, orders]\n", "ratio: [revenue]\n", "E004", "a list of two expressions", "[revenue]"),
    ("ratio: [revenue, orders]\n", "ratio: [revenue, orders, optin]\n", "E004", "[numerator, denominator]",
     "[revenue, orders, optin]"),
    ("ratio: [revenue, orders]\n", "ratio: [revenue, 2]\n", "E004", "a list of two expressions", "[revenue, 2]"),
    ("ratio: [revenue, orders]\n", "ratio: [revenue, orders]\n    sum: revenue\n", "E941", "exactly one of",
     "basket:"),
    # the sides: numbers, located at the side that is not one
    ("ratio: [revenue, orders]\n", "ratio: [revenue, tier]\n", "E942",
     "the denominator of `ratio:` needs a number, and this is a string", "tier]"),
    ("ratio: [revenue, orders]\n", "ratio: [optin, orders]\n", "E942",
     "the numerator of `ratio:` needs a number, and this is a condition", "optin, orders"),
    ("ratio: [revenue, orders]\n", "ratio: [revenue, ordrs]\n", "E201", "`ordrs`", "ordrs"),
    ("ratio: [revenue, orders]\n", "ratio: [revenue, length(religion)]\n", "E501", "may not be used by a KPI",
     "length(religion)"),
    # targets
    ("targets: {min: 0.5, max: 0.7}", "targets: {min: 0.8, max: 0.7}", "E949", "`min: 0.8` is above `max: 0.7`",
     "targets: {min: 0.8"),
    ("targets: {min: 0.5, max: 0.7}", "targets: {min: 50}", "E949", "is not a fraction", "targets: {min: 50}"),
    ("targets: {min: 30}", "targets: {}", "E949", "sets neither `min:` nor `max:`", "targets: {}"),
    ("targets: {min: 30}", "targets: {min: yes}", "E004", "a target is a number", "yes}"),
    ("targets: {min: 30}", 'targets: {min: "30"}', "E004", "a target is a number", '"30"}'),
    ("targets: {min: 30}", "targets: {mn: 30}", "E004", "did you mean `min`?", "mn: 30"),
    ("targets: {min: 30}", "targets: [30]", "E004", "targets", "[30]"),
])
def test_bad_declarations(tmp_path, old, new, code, words, needle):
    root, text = _broken(tmp_path, old, new)
    result = cli("check", str(root))
    assert result.exit_code == 1, result.output
    assert f"error[{code}]" in result.stderr and words in result.stderr, result.stderr
    line = _place(text, needle).rsplit(":", 1)[0]
    assert f"{line}:" in result.stderr, (line, result.stderr)  # the line of the offending part
    if code in ("E942", "E201", "E501"):  # located at the side itself, to the column
        assert _place(text, needle) in result.stderr, result.stderr


def test_both_sides_are_reported_in_one_run(tmp_path):
    root, _ = _broken(tmp_path, "ratio: [revenue, orders]\n", "ratio: [tier, optin]\n")
    result = cli("check", str(root))
    assert result.exit_code == 1
    assert "the numerator of `ratio:`" in result.stderr and "the denominator of `ratio:`" in result.stderr


# ---- both readers of segc.yml ------------------------------------------------------------------

READ = [  # read by the plain reader, as pydantic reads them
    {"ratio": ["a", "b"]}, {"ratio": ["a", "b"], "targets": {"min": 1}}, {"ratio": ["a", "b"], "targets": {"max": 1.5}},
    {"sum": "a", "targets": {"min": 1, "max": 2.5}}, {"sum": "a", "targets": {}}, {"sum": "a", "targets": None},
    {"ratio": None}, {"sum": "a", "targets": {"min": None, "max": 3}},
]
REJECTED = [  # pydantic's errors (E004); the plain reader leaves them to it
    {"ratio": ["a"]}, {"ratio": ["a", "b", "c"]}, {"ratio": "a / b"}, {"ratio": ["a", 1]}, {"ratio": [True, "b"]},
    {"ratio": []}, {"sum": "a", "targets": {"min": True}}, {"sum": "a", "targets": {"min": "1"}},
    {"sum": "a", "targets": {"min": float("inf")}}, {"sum": "a", "targets": {"max": float("nan")}},
    {"sum": "a", "targets": {"min": 10 ** 400}}, {"sum": "a", "targets": {"mn": 1}}, {"sum": "a", "targets": [1]},
    {"sum": "a", "targets": {"min": dt.date(2024, 1, 1)}},
]


@pytest.mark.parametrize("kpi, outcome", [(k, "read") for k in READ] + [(k, "rejected") for k in REJECTED])
def test_both_readers_agree(kpi, outcome):
    from tests.test_segc_yml_plain import MINIMAL, _agree

    assert _agree({**MINIMAL, "kpis": {"k": kpi}}) == outcome


def test_the_targets_fields_are_pydantics():
    from segc.schema.segc_yml_plain import PLAIN_FIELDS
    from segc.schema.segc_yml_pydantic import TargetsModel

    assert list(PLAIN_FIELDS["kpi_targets"]) == list(TargetsModel.model_fields)
    assert all(default is None for _attr, _read, default in PLAIN_FIELDS["kpi_targets"].values())


# ---- the example: a ratio, targets, and KPIs per point of sale ------------------------------------

def test_the_example_shows_a_miss_and_a_met_target():
    retail = segc.load_project(EXAMPLE)
    assert retail.kpis["basket_value"].definition == "ratio: [revenue_365d, purchases_365d]"
    r = build_report(retail, ["big_basket_90d", "winback_email"], periods=2)
    marks = Counter(t.met for row in r.rows for t in r.targets(row).values())
    assert marks[True] and marks[False]


def _rows(path: Path) -> list[dict]:
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{path}')")
    return [dict(zip(rel.columns, r)) for r in rel.fetchall()]


def test_report_by_home_store_an_event_derived_mode():
    """KPIs per point of sale: --by home_store (`from: orders, agg: mode, column: store`),
    each store's population and basket_value against Python over the same rows."""
    project = segc.load_project(EXAMPLE)
    f = project.schema.features["home_store"]
    assert (f.source, f.agg, f.column) == ("orders", "mode", "store")
    r = build_report(project, ["new_signups"], kpis=["basket_value"], by="home_store", periods=2)

    as_of = dt.datetime(2024, 7, 1)
    orders = defaultdict(list)
    for o in _rows(EXAMPLE / "data" / "orders.parquet"):
        if o["ordered_at"] < as_of:
            orders[o["customer_id"]].append(o)
    groups: dict = defaultdict(lambda: [0, 0.0, 0])  # population, revenue_365d, purchases_365d
    for c in _rows(EXAMPLE / "data" / "customers.parquet"):
        if c["is_test"]:
            continue
        mine = orders[c["customer_id"]]
        counts = Counter(o["store"] for o in mine if o["store"] is not None)
        top = max(counts.values(), default=0)
        store = min((s for s, n in counts.items() if n == top), default=None)  # a tie: the smallest
        recent = [o for o in mine if o["status"] == "completed" and o["ordered_at"] >= as_of - dt.timedelta(days=365)]
        g = groups[store]
        g[0] += 1
        g[1] += sum(o["amount"] for o in recent)
        g[2] += len(recent)
    assert len(groups) > 3
    small = {s for s, g in groups.items() if g[0] < project.schema.min_group}
    assert not small  # every store shown by name (no `(other)` to add up)
    assert r.groups == sorted((s for s in groups if s is not None)) + ([None] if None in groups else [])
    for store, (population, revenue, purchases) in groups.items():
        row = r.row(POPULATION, store)
        assert row.current.size == population, store
        value = row.current.kpis["basket_value"]
        if purchases:
            assert value == pytest.approx(revenue / purchases, rel=1e-9), store
        else:  # customers without an order (home_store missing): no denominator, no ratio
            assert store is None and value is None
    assert None in groups  # that case was seen
