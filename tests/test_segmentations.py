"""Segmentations (exclusive, exhaustive with `else`), ranking against plain Python with
ties and missing values, the transition matrix, and min_size rules."""
from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from tests.conftest import EXAMPLE, table_columns, write_project
from tests.engines import ENGINES, open_engine

rng = random.Random(7)
ROWS = [{"id": i,
         "score": rng.choice([None, None, 1, 2, 2, 3, 5, 5, 5, 8, 13, -1, 2.5]),
         "age": rng.choice([None, 18, 25, 25, 40, 40, 40, 65]),
         "test": rng.random() < 0.1}
        for i in range(1, 201)]
CONFIG = {
    "name": "seg", "base": "customers", "key": "id", "as_of": "2024-06-01",
    "population": "not test",
    "sources": {"customers": {"table": "customers"}},
    "features": {"score": {"type": "float"}, "age": {"type": "int"}, "test": {"type": "bool", "nullable": False}},
}
SEGMENTS = """
segmentation tier {
  high = score >= 5
  mid  = score >= 2
  low  = else
}
segmentation partial {
  young = age < 30
  old   = age >= 60
}
"""
POP = [r for r in ROWS if not r["test"]]


@pytest.fixture(scope="module")
def env(tmp_path_factory, pg_dsn):
    root = write_project(tmp_path_factory.mktemp("seg"), CONFIG, SEGMENTS)
    project = segc.load_project(root)
    engines = {}
    for name in ENGINES:
        e = open_engine(name, pg_dsn)
        e.load({"customers": (table_columns(CONFIG)["customers"], ROWS)})
        engines[name] = e
    yield project, engines
    for e in engines.values():
        e.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_segmentation_exclusive_and_exhaustive(env, engine):
    project, engines = env
    rows = engines[engine].query(project.compile("tier", dialect=engine, form="label"))
    keys = [k for k, _ in rows]
    assert len(keys) == len(set(keys)) == len(POP)  # each member of the population once
    expected = {r["id"]: "high" if r["score"] is not None and r["score"] >= 5 else
                "mid" if r["score"] is not None and r["score"] >= 2 else "low" for r in POP}
    assert dict(rows) == expected
    counts = [engines[engine].query(project.compile(f"tier.{b}", dialect=engine, form="count"))[0][0]
              for b in ("high", "mid", "low")]
    assert sum(counts) == len(POP)


@pytest.mark.parametrize("engine", ENGINES)
def test_segmentation_without_else_leaves_the_rest_out(env, engine):
    project, engines = env
    rows = dict(engines[engine].query(project.compile("partial", dialect=engine, form="label")))
    expected = {r["id"]: "young" if r["age"] < 30 else "old" for r in POP
                if r["age"] is not None and (r["age"] < 30 or r["age"] >= 60)}
    assert rows == expected


def _top(values: dict, pct: float, top: bool) -> set:
    present = {k: v for k, v in values.items() if v is not None}
    share = Fraction(str(pct)) / 100
    out = set()
    for k, v in present.items():
        n = sum(1 for w in present.values() if (w >= v if top else w <= v))
        if Fraction(n, len(present)) <= share:
            out.add(k)
    return out


def _quantile(values: dict, n: int) -> dict:
    present = [v for v in values.values() if v is not None]
    return {k: math.ceil(Fraction(n * sum(1 for w in present if w <= v), len(present)))
            for k, v in values.items() if v is not None}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("pct", [1, 10, 25, 33.3, 50, 100])
def test_top_and_bottom_match_python(env, engine, pct):
    """1%: nobody qualifies (the smallest share is 1 / present), and `not` is everyone."""
    project, engines = env
    scores = {r["id"]: r["score"] for r in POP}
    for direction in ("top", "bottom"):
        expected = _top(scores, pct, direction == "top")
        sql = project.compile_expression(f"{direction} {pct}% by score", dialect=engine)
        got = {k for (k,) in engines[engine].query(sql)}
        assert got == expected, (direction, pct)
        sql = project.compile_expression(f"not {direction} {pct}% by score", dialect=engine)
        assert {k for (k,) in engines[engine].query(sql)} == {r["id"] for r in POP} - expected, (direction, pct)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("n", [2, 4, 5, 10])
def test_quantile_score_matches_python(env, engine, n):
    project, engines = env
    for feature in ("score", "age"):
        expected = _quantile({r["id"]: r[feature] for r in POP}, n)
        for q in range(1, n + 1):
            sql = project.compile_expression(f"quantile_score({feature}, {n}) = {q}", dialect=engine)
            got = {k for (k,) in engines[engine].query(sql)}
            assert got == {k for k, v in expected.items() if v == q}, (feature, n, q)
        missing = project.compile_expression(f"quantile_score({feature}, {n}) is missing", dialect=engine)
        assert {k for (k,) in engines[engine].query(missing)} == {r["id"] for r in POP if r[feature] is None}


@pytest.mark.parametrize("engine", ENGINES)
def test_percentile_scores_match_python(env, engine):
    """n = 100, the most quantiles allowed (each score above 1 is a cut in the SQL)."""
    project, engines = env
    expected = _quantile({r["id"]: r["score"] for r in POP}, 100)
    for q in sorted(set(expected.values()) | {1, 99, 100}):
        sql = project.compile_expression(f"quantile_score(score, 100) = {q}", dialect=engine)
        assert {k for (k,) in engines[engine].query(sql)} == {k for k, v in expected.items() if v == q}, q


def test_transitions_agree_with_each_side_joined_in_python():
    project = segc.load_project(EXAMPLE)
    start, end = "2024-01-01", "2024-07-01"
    result = project.transitions("value_tier", start, end)
    con = project.duckdb()
    a = dict(con.execute(project.compile("value_tier", dialect="duckdb", as_of=start)).fetchall())
    b = dict(con.execute(project.compile("value_tier", dialect="duckdb", as_of=end)).fetchall())
    expected: dict = {}
    for key in set(a) | set(b):
        pair = (a.get(key, "(not in population)"), b.get(key, "(not in population)"))
        expected[pair] = expected.get(pair, 0) + 1
    assert {k: v for k, v in result.counts.items() if v} == expected
    for branch in ("very_good", "good", "average", "occasional"):
        size = project.count([f"value_tier.{branch}"], as_of=start).segments[0].count
        assert result.row_total(branch) == size


def test_transitions_cli_formats():
    runner = CliRunner()
    out = runner.invoke(app, ["transitions", "value_tier", "--from", "2024-01-01", "--to", "2024-07-01",
                              "-p", str(EXAMPLE), "--format", "json"])
    assert out.exit_code == 0, out.output
    import json

    data = json.loads(out.stdout)
    assert data["from"] == "2024-01-01" and [r["from"] for r in data["rows"]][:2] == ["very_good", "good"]
    bad = runner.invoke(app, ["transitions", "value_tierr", "--from", "2024-01-01", "--to", "2024-07-01",
                              "-p", str(EXAMPLE)])
    assert bad.exit_code == 1 and "did you mean `value_tier`" in bad.output


def test_min_size_warning_and_strict(tmp_path):
    config = dict(CONFIG, min_size=50)
    root = write_project(tmp_path / "p", {**config, "sources": {"customers": {"table": "customers", "path": "c.csv"}}},
                         "segment rare = score = 13\n@min_size(1)\nsegment rare_ok = score = 13\n")
    lines = ["id,score,age,test"] + [f"{r['id']},{'' if r['score'] is None else r['score']},"
                                     f"{'' if r['age'] is None else r['age']},{str(r['test']).lower()}" for r in ROWS]
    (root / "c.csv").write_text("\n".join(lines) + "\n")
    project = segc.load_project(root)
    result = project.count()
    rare, rare_ok = result.segments
    assert rare.count == sum(1 for r in POP if r["score"] == 13) and rare.too_small and not rare_ok.too_small
    runner = CliRunner()
    ok = runner.invoke(app, ["count", "-p", str(root)])
    assert ok.exit_code == 0 and "below its min_size 50" in ok.output
    strict = runner.invoke(app, ["count", "-p", str(root), "--strict"])
    assert strict.exit_code == 1


def test_empty_branch_is_reported_at_preview_time(tmp_path):
    root = write_project(tmp_path / "p", {**CONFIG, "sources": {"customers": {"table": "customers", "path": "c.csv"}}},
                         "segmentation s {\n  big = score > 100\n  rest = else\n}\n")
    (root / "c.csv").write_text("id,score,age,test\n1,5,30,false\n2,,40,false\n")
    result = segc.load_project(root).count()
    assert result.empty_branches == ["s.big"]
    out = CliRunner().invoke(app, ["count", "-p", str(root)])
    assert out.exit_code == 0 and "branch `s.big` is empty" in out.output


def _branch_counts(project, engine, names: list[str]) -> dict[str, int]:
    """The sizes `segc count` computes (project.counts_query) of every branch of `names`."""
    from segc.backend.render import render

    targets = project.targets(names)
    row = engine.query(render(project.counts_query(names), engine.name, pretty=False))[0]
    return {t.name: int(c or 0) for t, c in zip(targets, row[1:])}


@pytest.mark.parametrize("engine", ENGINES)
def test_count_gives_each_branch_its_members(env, engine):
    """`segc count` counts a segmentation's branches through its label, computed once a
    row: each branch as many as the first-match rule gives it, beside a plain segment."""
    project, engines = env
    tier = {"high": 0, "mid": 0, "low": 0}
    partial = {"young": 0, "old": 0}
    for r in POP:
        s, a = r["score"], r["age"]
        tier["high" if s is not None and s >= 5 else "mid" if s is not None and s >= 2 else "low"] += 1
        if a is not None and (a < 30 or a >= 60):
            partial["young" if a < 30 else "old"] += 1
    got = _branch_counts(project, engines[engine], ["tier", "partial.old", "tier.mid"])
    assert got == {**{f"tier.{b}": n for b, n in tier.items()}, "partial.old": partial["old"], "tier.mid": tier["mid"]}


def test_many_branches_are_counted_in_a_query_linear_in_them(env, tmp_path):
    """Each branch's own condition holds every earlier branch (quadratic: 400 branches
    were 15 s, then E105); the count's query grows with the branches, not their square."""
    project, engines = env
    sizes = {}
    for n in (200, 400):
        text = "segmentation by_age {\n" + "".join(f"  b{i} = age = {i}\n" for i in range(n)) + "  rest = else\n}\n"
        many = segc.load_project(write_project(tmp_path / str(n), CONFIG, text))
        from segc.backend.render import render

        sizes[n] = len(render(many.counts_query(["by_age"]), "duckdb", pretty=False))
    assert sizes[400] < 2.2 * sizes[200]
    got = _branch_counts(many, engines["duckdb"], ["by_age"])
    ages = [r["age"] for r in POP]
    assert got == {**{f"by_age.b{i}": ages.count(i) for i in range(400)}, "by_age.rest": ages.count(None)}
