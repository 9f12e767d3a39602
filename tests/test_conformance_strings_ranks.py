"""The top/bottom N, trim and matches cases of the events conformance suite (DESIGN §8.1),
on DuckDB, SQLite and PostgreSQL, and on Spark once. The suite is read from a copy
(tests/strrank/events.yml, = shared/conformance/events.yml) without the three features
first/last/nth/mode bring (last_amount, home_store, second_order_at), which this branch
does not have: the merge with the PICKS branch moves these cases to tests/test_conformance.py
(tests/conformance/events.yml) and removes this file and the copy.

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

SUITE = yaml.safe_load((Path(__file__).parent / "strrank" / "events.yml").read_text(encoding="utf-8"))
PICKS_FEATURES = ("last_amount", "home_store", "second_order_at")
MINE = ("top ", "bottom ", "trim(", " matches ")
CASES = [c for c in SUITE["cases"] if any(w in c["expr"] for w in MINE)]


def _config() -> dict:
    project = dict(SUITE["project"])
    project["features"] = {k: v for k, v in project["features"].items() if k not in PICKS_FEATURES}
    return project


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
@pytest.mark.parametrize("case", CASES, ids=[c["expr"] for c in CASES])
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


def test_cases_on_spark(tmp_path):
    """Spark reads local files: the rows are written to parquet by DuckDB, as
    tests/test_conformance.py::test_every_case_on_spark does."""
    from segc.run.spark_engine import SparkEngine, start_session
    from tests.engines import open_engine
    from tests.test_engines_parity import TEST_SPARK

    base = _config()
    config = {**base, "sources": {s: {**src, "path": f"data/{src.get('table', s)}.parquet"}
                                  for s, src in base["sources"].items()}}
    root = write_project(tmp_path / "events", config)
    (root / "data").mkdir()
    with open_engine("duckdb") as duck:
        for t, cols in table_columns(base).items():
            duck.load({t: (cols, SUITE["rows"].get(t.split(".")[-1], []))})
            duck.query(f"COPY {t} TO '{root}/data/{t}.parquet' (FORMAT parquet)")
    project = segc.load_project(root)
    session, owner, _folder = start_session("local[2]", settings=TEST_SPARK)
    try:
        spark = SparkEngine(project.schema, root, session=session)
        population = spark.execute(project.compile_expression("true", dialect="spark", form="count"))[0][0]
        for case in CASES:
            expr = case["expr"]
            sql = project.compile_expression(expr, dialect="spark")
            members = sorted(row[0] for row in spark.execute(sql))
            assert members == sorted(case["members"]), f"{expr!r} on spark:\n{sql}"
            negated = spark.execute(project.compile_expression(f"not ({expr})", dialect="spark", form="count"))
            assert len(members) + negated[0][0] == population, f"not ({expr}) on spark"
    finally:
        if owner:
            session.stop()
