"""Beyond the events conformance suite (tests/conformance/events.yml, run on every engine by
tests/test_conformance.py): top/bottom N, trim and matches inside an aggregate and on an
aggregate's ties, on DuckDB, SQLite and PostgreSQL, on the suite's rows; `segc test`'s
SQLite running `matches`; and the reference interpreter on every case of the suite.

Where a dialect cannot express a construct (SQLite has no regex), the case must raise the
diagnostic of UNSUPPORTED (tests/test_conformance.py) instead of giving members."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import segc
from segc.front.errors import SegcError
from tests.conftest import table_columns, write_project
from tests.engines import ENGINES
from tests.test_conformance import unsupported_code

SUITE = yaml.safe_load((Path(__file__).parent / "conformance" / "events.yml").read_text(encoding="utf-8"))
MINE = ("top ", "bottom ", "trim(", " matches ")
CASES = [c for c in SUITE["cases"] if any(w in c["expr"] for w in MINE)]  # of this file's constructs
# beyond events.yml: inside an aggregate's `where` (worked out by hand from the rows; the
# order at the as-of never counts), and ranks of an aggregate with ties
EXTRA = [
    {"expr": 'count(orders where category matches "^s[a-z]+s$") >= 1', "members": [1, 2, 3, 5, 6]},
    {"expr": 'exists(orders where not category matches "e")', "members": [1, 7, 8]},  # bags only: totes, shoes, sneakers have an e
    {"expr": 'count(orders where trim(store) = "A") = 2', "members": [1, 5, 7]},
    {"expr": 'bottom 3 by count(orders)', "members": [2, 4, 5, 6, 7, 8]},  # 0, 1, then the four 2s tie
    {"expr": 'top 3 by count(orders) and name matches "a$"', "members": [2, 3, 5, 7]},
]


def _config() -> dict:
    return SUITE["project"]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, pg_dsn):
    from tests.engines import open_engine

    config = _config()
    project = segc.load_project(write_project(tmp_path_factory.mktemp("events"), config))
    columns = table_columns(config)
    tables = {t: (cols, SUITE["rows"].get(t.split(".")[-1], [])) for t, cols in columns.items()}
    engines = {}
    for name in ENGINES:
        engines[name] = open_engine(name, pg_dsn)
        engines[name].load(tables)
    yield project, engines
    for e in engines.values():
        e.close()


def test_cases_are_found():
    assert len(CASES) == 11


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", EXTRA, ids=[c["expr"] for c in EXTRA])
def test_case(loaded, engine, case):
    project, engines = loaded
    eng, expr = engines[engine], case["expr"]
    code = unsupported_code(engine, expr)
    if code:
        with pytest.raises(SegcError) as info:
            project.compile_expression(expr, dialect=engine)
        assert [d.code for d in info.value.diagnostics] == [code]
        return
    sql = project.compile_expression(expr, dialect=engine)
    members = sorted(row[0] for row in eng.query(sql))
    assert members == sorted(case["members"]), f"{expr!r} on {engine}:\n{sql}"
    population = eng.query(project.compile_expression("true", dialect=engine, form="count"))[0][0]
    negated = eng.query(project.compile_expression(f"not ({expr})", dialect=engine, form="count"))[0][0]
    assert len(members) + negated == population



@pytest.mark.parametrize("engine", ENGINES)
def test_nested_repetitions_at_the_bound_run(loaded, engine):
    # the largest nesting the subset accepts (10 x 10 x 10) runs on every engine that has
    # regexes, with the members of the same test written as an equality
    project, engines = loaded
    expr = 'count(orders where category matches "^(((s|h|o|e){1,10}){1,10}){1,10}$") >= 1'
    if unsupported_code(engine, expr):
        return
    want = sorted(r[0] for r in engines[engine].query(
        project.compile_expression('count(orders where category = "shoes") >= 1', dialect=engine)))
    got = sorted(r[0] for r in engines[engine].query(project.compile_expression(expr, dialect=engine)))
    assert want and got == want


def test_segc_test_runs_matches_on_its_sqlite(tmp_path):
    """`segc test`'s in-memory SQLite registers `regexp` (run/memory.py) with the meaning
    of DESIGN §8.1, so a project's `matches` segments are tested there too, with the same
    members as on DuckDB; a warehouse SQLite (`segc build --dialect sqlite`) stays E602."""
    from segc.apps.segtest import run_tests

    cases = [c for c in CASES if " matches " in c["expr"]]
    segments = "".join(f"segment m{i} = {c['expr']}\n" for i, c in enumerate(cases))
    root = write_project(tmp_path / "p", _config(), segments)
    (root / "tests").mkdir()
    fixture = {"as_of": str(SUITE["project"]["as_of"]), "rows": SUITE["rows"],
               "expect": {f"m{i}": c["members"] for i, c in enumerate(cases)}}
    (root / "tests" / "matches.yml").write_text(yaml.safe_dump(fixture), encoding="utf-8")
    report = run_tests(segc.load_project(root))
    assert report.ok and set(report.engines) == {"duckdb", "sqlite"}, report.to_dict() \
        if hasattr(report, "to_dict") else report
    with pytest.raises(SegcError) as info:
        segc.load_project(root).compile("m0", dialect="sqlite")
    assert info.value.diagnostics[0].code == "E602"


def test_reference_agrees(tmp_path):
    """The reference interpreter (tests/reference.py) gives the members of every case of the
    suite, worked out by hand (`matches` read on its own, with Python's re)."""
    from tests import reference as ref
    from tests.test_differential import _parse

    project = segc.load_project(write_project(tmp_path / "p", _config()))
    schema = project.schema
    entities = {row[schema.key]: {n: row.get(f.column or n) for n, f in schema.features.items() if f.kind == "column"}
                for row in SUITE["rows"]["customers"]}
    events = {name: [{**r, src.time: _parse(r[src.time], "timestamp")} for r in SUITE["rows"].get(name, [])]
              for name, src in schema.sources.items() if name != schema.base}
    world = ref.World(entities, events, project.as_of, schema)
    for case in SUITE["cases"] + EXTRA:
        members, unknown = ref.evaluate(world, project.check_expression(case["expr"])[0], project.checked.population)
        assert not unknown and sorted(members) == sorted(case["members"]), case["expr"]
