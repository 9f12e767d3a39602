"""The rules around segmentations, seen as a user sees them on the command line: the
diagnostics of a segmentation (duplicate branch, `else` not last, a shadowed branch),
size rules in `segc count` (min_size warnings, errors under --strict, empty branches),
the sensitive policy in the population and in segmentations, and the transition matrix
of a segmentation without `else` over a population that changes between the two dates
(so its "(no branch)" and "(not in population)" rows and columns are exercised)."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from tests.conftest import EXAMPLE

runner = CliRunner()
LOCATION = re.compile(r"main\.seg:(\d+):(\d+)")
START, END = "2024-01-01", "2024-07-01"
QUADRANT = """
segmentation quadrant {
  frequent_big     = purchases_365d >= 5 and basket_avg > 80
  frequent_small   = purchases_365d >= 5
  occasional_big   = purchases_365d >= 1 and basket_avg > 80
  occasional_small = purchases_365d >= 1
}
"""


def cli(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def retail_copy(folder: Path, segments: str, **changes) -> Path:
    """The retail example's segc.yml (data paths made absolute, no scores or KPIs) with
    `changes`, and one .seg file."""
    config = yaml.safe_load((EXAMPLE / "segc.yml").read_text(encoding="utf-8"))
    for source in config["sources"].values():
        if "path" in source:
            source["path"] = str(EXAMPLE / source["path"])
    config.pop("scores", None)
    config.pop("kpis", None)
    config.pop("experiments", None)  # its arms are the example's segments
    config["allow_outside_paths"] = True  # the example's data, read where it is
    config.update(changes)
    folder.mkdir(parents=True)
    (folder / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    (folder / "segments").mkdir()
    (folder / "segments" / "main.seg").write_text(segments, encoding="utf-8")
    return folder


# ---- diagnostics of a segmentation ------------------------------------------------------

@pytest.mark.parametrize("seg, code, line_col, fragments", [
    ("segmentation t {\n  a = age > 60\n  a = age > 30\n}\n", "E206", (3, 3),
     ["branch `a` appears twice in `t`", "rename one of them"]),
    ("segmentation t {\n  a = age > 60\n  rest = else\n  b = age > 30\n}\n", "E207", (3, 3),
     ["`else` must be the last branch", "the branches after it could never match"]),
    # the grammar takes `{ }`: compile, build, docs, profile and transitions then had tracebacks
    ("segmentation t { }\n", "E215", (1, 14), ["segmentation `t` has no branch", "at least one branch"]),
])
def test_segmentation_errors(tmp_path, seg, code, line_col, fragments):
    root = retail_copy(tmp_path / "p", seg)
    result = cli("check", str(root))
    assert result.exit_code == 1, result.output
    assert f"error[{code}]" in result.stderr and f"main.seg:{line_col[0]}:{line_col[1]}" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.mark.parametrize("seg, shadowed", [
    # the second branch is provably inside the first: never matches
    ("segmentation t {\n  a = revenue_365d >= 300\n  b = revenue_365d >= 1000\n  c = else\n}\n", "b"),
    ("segmentation t {\n  a = age > 30\n  b = age > 30 and email_optin\n}\n", "b"),
    ("segmentation t {\n  a = age < 30\n  b = age <= 18\n}\n", "b"),
    # ordered from the most demanding: every branch can match
    ("segmentation t {\n  a = revenue_365d >= 1000\n  b = revenue_365d >= 300\n  c = else\n}\n", None),
    (QUADRANT, None),
    ("segmentation t {\n  a = age >= 30\n  b = age > 30\n}\n", "b"),
    ("segmentation t {\n  a = age > 30\n  b = age >= 30\n}\n", None),  # 30 itself is left for b
])
def test_shadowed_branch_warning(tmp_path, seg, shadowed):
    root = retail_copy(tmp_path / "p", seg)
    result = cli("check", str(root), "--format", "json")
    assert result.exit_code == 0, result.output
    warnings = [d for d in json.loads(result.stdout)["diagnostics"] if d["code"] == "W102"]
    if shadowed is None:
        assert warnings == []
    else:
        (w,) = warnings
        assert f"branch `{shadowed}` can never match" in w["message"] and w["hints"] == ["reorder the branches"]
        assert w["file"].endswith("segments/main.seg") and (w["line"], w["col"]) == (3, 3)


def test_shadowed_branch_is_empty_when_counted(tmp_path):
    """What W102 claims at compile time, `segc count` measures: the branch is empty."""
    root = retail_copy(tmp_path / "p", "segmentation t {\n  a = revenue_365d >= 300\n"
                                       "  b = revenue_365d >= 1000\n  c = else\n}\n", min_size=1)
    result = cli("count", str(root))
    assert result.exit_code == 0, result.output
    assert "warning[W741]: branch `t.b` is empty" in result.stderr
    assert "main.seg:3:3" in result.stderr and "hint:" in result.stderr


# ---- size rules -------------------------------------------------------------------------

SIZES = """@min_size(1000000)
segment everyone_buying = purchases_365d >= 1
segment big_spenders = revenue_365d >= 4000
@min_size(1)
segment big_spenders_ok = revenue_365d >= 4000
"""


@pytest.fixture(scope="module")
def sized(tmp_path_factory):
    root = retail_copy(tmp_path_factory.mktemp("sizes") / "p", SIZES, min_size=200)
    counts = {s.name: s.count for s in segc.load_project(root).count().segments}
    # the rules are about these sizes: check the data still gives them
    assert counts["everyone_buying"] < 1000000 and 1 <= counts["big_spenders"] < 200, counts
    return root, counts


def test_min_size_warnings_point_at_the_definition(sized):
    root, counts = sized
    result = cli("count", str(root))
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert f"warning[W740]: `everyone_buying` has {counts['everyone_buying']:,} members, below its min_size 1,000,000" in err
    assert f"warning[W740]: `big_spenders` has {counts['big_spenders']:,} members, below its min_size 200" in err
    assert "big_spenders_ok" not in err  # its own @min_size(1) wins over the project's 200
    assert [m.groups() for m in LOCATION.finditer(err)] == [("2", "9"), ("3", "9")]
    assert "lower its `@min_size`" in err and "lower `min_size:` in segc.yml" in err
    assert "error" not in err


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_strict_fails_on_a_too_small_segment(sized, fmt):
    root, counts = sized
    result = cli("count", str(root), "--strict", "--format", fmt)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("error[E740]") == 2 and "2 errors (--strict)" in result.stderr
    assert "main.seg:3:9" in result.stderr
    if fmt == "json":  # the data is still printed, and only the data is on stdout
        assert {s["name"]: s["count"] for s in json.loads(result.stdout)["segments"]} == counts
    # without --strict, the same run succeeds; json/csv keep stderr free of warnings
    relaxed = cli("count", str(root), "--format", fmt)
    assert relaxed.exit_code == 0 and ("W740" in relaxed.stderr) == (fmt == "table")


def test_strict_passes_when_every_segment_is_large_enough(sized):
    root, _counts = sized
    result = cli("count", "big_spenders_ok", "-p", str(root), "--strict")
    assert result.exit_code == 0, result.output
    assert "E740" not in result.stderr and "W740" not in result.stderr


# ---- W742: a feature missing for many ---------------------------------------------------

MISSING = """segment big_basket = basket_avg > 80
segment small_basket = basket_avg < 20 and email_optin
segment young = age < 30
segment optin = email_optin
"""


def _missing_retail(tmp_path, **features):
    """The example's features without the example's `ignore_warnings:` (it silences W742
    where the missing values are its design), with `features`' changes."""
    config = yaml.safe_load((EXAMPLE / "segc.yml").read_text(encoding="utf-8"))
    for feature in config["features"].values():
        feature.pop("ignore_warnings", None)
    for name, changes in features.items():
        config["features"][name].update(changes)
    return retail_copy(tmp_path / "p", MISSING, features=config["features"])


def test_missing_feature_warning_names_its_segments_and_points_at_segc_yml(tmp_path):
    root = _missing_retail(tmp_path)
    result = cli("count", str(root))
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stderr.splitlines() if "warning[W742]" in line]
    assert "`basket_avg` (used by `big_basket` and `small_basket`) is missing for 26%" in line
    assert re.search(r"--> \S*segc\.yml:\d+:3", result.stderr)  # the feature's declaration
    assert "`ignore_warnings: [W742]` on `basket_avg`" in result.stderr


def test_missing_feature_warning_silenced_per_feature(tmp_path):
    root = _missing_retail(tmp_path, basket_avg={"ignore_warnings": ["W742"]})
    result = cli("count", str(root))
    assert result.exit_code == 0, result.output
    assert "W742" not in result.stderr


def test_the_example_counts_without_warnings():
    """newuser11 F1: `segc count examples/retail`, the README's first command on the
    example, ended with five W742 blocks (about 35 lines of stderr) for the order features
    that are missing by design for the customers who never ordered; the example's segc.yml
    silences W742 on those five features, saying why."""
    for args in (["count", str(EXAMPLE)], ["count", "--strict", str(EXAMPLE)],
                 ["count", "quadrant", "rfm.champions", "-p", str(EXAMPLE)]):
        result = cli(*args)
        assert result.exit_code == 0, result.output
        assert result.stderr == "", result.stderr
    features = segc.load_project(EXAMPLE).schema.features
    assert {name for name, f in features.items() if "W742" in f.ignore_warnings} == {
        "basket_avg", "first_order_at", "last_order_at", "home_store", "second_order_at"}


def test_ignore_warnings_takes_only_feature_warnings(tmp_path):
    root = _missing_retail(tmp_path, basket_avg={"ignore_warnings": ["W740"]})
    result = cli("check", str(root))
    assert result.exit_code == 1
    assert "error[E005]: `W740` is not a warning about a feature" in result.stderr
    assert "W742 (missing for more than 20% of the population)" in result.stderr


# ---- sensitive features -----------------------------------------------------------------

def test_sensitive_feature_in_the_population_is_an_error(tmp_path):
    root = retail_copy(tmp_path / "p", "segment a = email_optin\n",
                       population="not is_test and religion is missing")
    result = cli("check", str(root))
    assert result.exit_code == 1
    assert "error[E501]: the population uses the sensitive feature `religion`" in result.stderr
    assert "segc.yml:" in result.stderr and "@allow_sensitive cannot reach" in result.stderr


def test_sensitive_feature_in_a_segmentation_is_reported_once(tmp_path):
    seg = ('segmentation faith {\n  a = religion = "x"\n  b = age > 30\n  c = else\n}\n'
           "segment uses_branch = faith.b and email_optin\n")
    root = retail_copy(tmp_path / "p", seg)
    result = cli("check", str(root), "--format", "json")
    assert result.exit_code == 1
    found = [(d["message"], d["line"]) for d in json.loads(result.stdout)["diagnostics"] if d["code"] == "E501"]
    # `faith.b` excludes `faith.a`'s customers: it reads religion too
    assert found == [("`faith` uses the sensitive feature `religion`", 1),
                     ("`uses_branch` uses the sensitive feature `religion`", 6)]
    allowed = seg.replace("segmentation", '@allow_sensitive("audit")\nsegmentation').replace(
        "segment uses_branch", '@allow_sensitive("audit")\nsegment uses_branch')
    (root / "segments" / "main.seg").write_text(allowed, encoding="utf-8")
    result = cli("check", str(root), "--format", "json")
    assert result.exit_code == 0, result.output
    segments = json.loads(result.stdout)["segments"]
    assert {n: s["sensitive"] for n, s in segments.items()} == {
        "faith.a": {"religion": "audit"}, "faith.b": {"religion": "audit"}, "faith.c": {"religion": "audit"},
        "uses_branch": {"religion": "audit"}}


def test_a_sensitive_column_under_another_name_is_sensitive(tmp_path):
    """Renaming (`column:`), an `sql:` expression or another aggregate of the same event
    column reads sensitive data too: such a feature is sensitive by construction (DESIGN
    §8.5, schema/physical.py), so a segment using it needs @allow_sensitive."""
    features = yaml.safe_load((EXAMPLE / "segc.yml").read_text(encoding="utf-8"))["features"]
    features.update({
        "faith": {"type": "string", "column": "Religion"},
        "pious": {"type": "bool", "sql": "religion = 'x'"},
        "status_mix": {"type": "int", "from": "orders", "agg": "count_distinct", "column": "status",
                       "sensitive": True},
        "statuses": {"type": "int", "from": "orders", "agg": "count_distinct", "column": "status"},
    })
    uses = 'segment a = faith = "x"\nsegment b = pious\nsegment c = statuses > 1\nsegment d = email_optin\n'
    root = retail_copy(tmp_path / "p", uses, features=features)
    result = cli("check", str(root), "--format", "json")
    assert result.exit_code == 1
    found = sorted(d["message"] for d in json.loads(result.stdout)["diagnostics"] if d["code"] == "E501")
    assert found == ["`a` uses the sensitive feature `faith`", "`b` uses the sensitive feature `pious`",
                     "`c` uses the sensitive feature `statuses`"]
    allowed = "".join(f'@allow_sensitive("consent")\n{line}\n' for line in uses.splitlines())
    root = retail_copy(tmp_path / "q", allowed, features=features)
    assert cli("check", str(root)).exit_code == 0


# ---- transitions ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def moving(tmp_path_factory):
    """Customers enter the population with their first order, so the population differs
    between the dates; `quadrant` has no `else`."""
    root = retail_copy(tmp_path_factory.mktemp("moving") / "p", QUADRANT,
                       population="not is_test and orders_total >= 1")
    return segc.load_project(root)


def _side(project, as_of):
    con = project.duckdb()
    population = {k for (k,) in con.execute(project.compile_expression("true", dialect="duckdb", as_of=as_of)).fetchall()}
    labels = dict(con.execute(project.compile("quadrant", dialect="duckdb", as_of=as_of)).fetchall())
    assert set(labels) <= population
    return population, labels


def test_transitions_with_unmatched_and_a_changing_population(moving):
    result = moving.transitions("quadrant", START, END)
    (pop_a, a), (pop_b, b) = _side(moving, START), _side(moving, END)

    def where(key, population, labels):
        return labels.get(key, "(no branch)") if key in population else "(not in population)"

    expected: dict = {}
    for key in pop_a | pop_b:
        pair = (where(key, pop_a, a), where(key, pop_b, b))
        expected[pair] = expected.get(pair, 0) + 1
    assert {k: v for k, v in result.counts.items() if v} == expected
    names = ["frequent_big", "frequent_small", "occasional_big", "occasional_small"]
    assert result.rows == result.columns == names + ["(no branch)", "(not in population)"]
    # the data must make every kind of move happen, or this test proves little
    assert expected.get(("(not in population)", "occasional_small"), 0) > 0
    assert sum(v for (f, _t), v in expected.items() if f == "(no branch)") > 0
    # rows sum to the branch sizes at --from, as `segc count` measures them
    sizes = {s.name: s.count for s in moving.count([f"quadrant.{n}" for n in names], as_of=START).segments}
    for n in names:
        assert result.row_total(n) == sizes[f"quadrant.{n}"]
    assert result.row_total("(no branch)") == len(pop_a) - sum(sizes.values())
    assert result.row_total("(not in population)") == len(pop_b - pop_a)


def test_transitions_formats_agree(moving):
    root = str(moving.root)
    result = moving.transitions("quadrant", START, END)
    data = json.loads(cli("transitions", "quadrant", "--from", START, "--to", END, "-p", root,
                          "--format", "json").stdout)
    rows = list(csv.DictReader(io.StringIO(cli("transitions", "quadrant", "--from", START, "--to", END,
                                                "-p", root, "--format", "csv").stdout)))
    assert len(rows) == len(result.rows) * len(result.columns)
    by_row = {r["from"]: r for r in data["rows"]}
    for r in rows:
        n, total = result.counts.get((r["from"], r["to"]), 0), result.row_total(r["from"])
        assert int(r["count"]) == by_row[r["from"]]["to"][r["to"]] == n
        if total:
            assert float(r["row_share"]) == pytest.approx(n / total, abs=1e-6)
            assert by_row[r["from"]]["share"][r["to"]] == pytest.approx(n / total)
        else:
            assert r["row_share"] == "" and by_row[r["from"]]["share"][r["to"]] is None
    for r in data["rows"]:
        assert r["total"] == sum(r["to"].values())
        if r["total"]:
            assert sum(r["share"].values()) == pytest.approx(1.0)
    table = cli("transitions", "quadrant", "--from", START, "--to", END, "-p", root)
    assert table.exit_code == 0 and f"{result.row_total('frequent_big'):,}" in table.stdout


@pytest.mark.parametrize("args, fragments", [
    (["--from", "2024-13-01", "--to", END], ["error[E009]", "--from `2024-13-01` is not a date", "YYYY-MM-DD"]),
    (["--from", START, "--to", "today"], ["error[E009]", "--to `today` is not a date"]),
    (["--from", END, "--to", START], ["error[E009]", "--from 2024-07-01 is not before --to 2024-01-01",
                                      "swap the dates"]),
])
def test_transitions_bad_dates(args, fragments):
    result = cli("transitions", "value_tier", *args, "-p", str(EXAMPLE))
    assert result.exit_code == 1
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_transitions_of_a_segment_is_an_error():
    result = cli("transitions", "loyal_big_basket", "--from", START, "--to", END, "-p", str(EXAMPLE))
    assert result.exit_code == 1
    # a segment is known, just not what transitions take: E011 (E212 said "unknown")
    assert "error[E011]: `loyal_big_basket` is a segment: segc transitions takes a segmentation" in result.stderr
    assert "segmentations: quadrant, rfm, value_tier" in result.stderr
    unknown = cli("transitions", "valu_tier", "--from", START, "--to", END, "-p", str(EXAMPLE))
    assert unknown.exit_code == 1 and "error[E212]" in unknown.stderr and "did you mean `value_tier`?" in unknown.stderr
