"""The sequence cases of events.yml (DESIGN §8.1: `followed by`, `not followed by`,
`preceded by`) on DuckDB, SQLite and PostgreSQL, and on Spark (one test for all).

The events.yml project is loaded WITHOUT the three features built on another branch
(last_amount, home_store, second_order_at: `agg: last|mode|nth`); the merge replaces this
file's loading by tests/test_conformance.py's, and tests/conformance_pending/ goes."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import segc
from tests.conftest import table_columns, write_project
from tests.engines import ENGINES

SUITE = yaml.safe_load((Path(__file__).parent / "conformance_pending" / "events.yml").read_text(encoding="utf-8"))
PICKS = ("last_amount", "home_store", "second_order_at")
PROJECT = {**SUITE["project"], "features": {k: v for k, v in SUITE["project"]["features"].items() if k not in PICKS}}
CASES = [c for c in SUITE["cases"] if any(w in c["expr"] for w in ("followed by", "preceded by"))]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, pg_dsn):
    from tests.engines import open_engine

    project = segc.load_project(write_project(tmp_path_factory.mktemp("events"), PROJECT, ""))
    tables = {t: (cols, SUITE["rows"].get(t.split(".")[-1], [])) for t, cols in table_columns(PROJECT).items()}
    engines = {}
    for name in ENGINES:
        engines[name] = open_engine(name, pg_dsn)
        engines[name].load(tables)
    yield project, engines
    for e in engines.values():
        e.close()


def test_the_sequence_cases_are_there():
    assert len(CASES) == 6


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("expr,members", [(c["expr"], c["members"]) for c in CASES], ids=range(len(CASES)))
def test_sequence_case(loaded, engine, expr, members):
    project, engines = loaded
    eng = engines[engine]
    sql = project.compile_expression(expr, dialect=engine)
    assert sorted(row[0] for row in eng.query(sql)) == sorted(members), f"{expr!r} on {engine}:\n{sql}"
    population = eng.query(project.compile_expression("true", dialect=engine, form="count"))[0][0]
    negated = eng.query(project.compile_expression(f"not ({expr})", dialect=engine, form="count"))[0][0]
    assert len(members) + negated == population


def test_sequence_cases_on_spark(tmp_path):
    """As tests/test_conformance.py's Spark test: the rows written to parquet by DuckDB,
    the project's sources pointing at them, one session for every case. The merge with
    tests/conformance/events.yml removes this test: test_conformance.py's Spark test then
    runs these cases."""
    from segc.run.spark_engine import SparkEngine, start_session
    from tests.engines import open_engine
    from tests.test_engines_parity import TEST_SPARK

    config = {**PROJECT, "sources": {s: {**src, "path": f"data/{src.get('table', s)}.parquet"}
                                     for s, src in PROJECT["sources"].items()}}
    root = write_project(tmp_path / "events", config, "")
    (root / "data").mkdir()
    with open_engine("duckdb") as duck:
        for t, cols in table_columns(PROJECT).items():
            duck.load({t: (cols, SUITE["rows"].get(t.split(".")[-1], []))})
            duck.query(f"COPY {t} TO '{root}/data/{t}.parquet' (FORMAT parquet)")
    project = segc.load_project(root)
    session, owner, _folder = start_session("local[2]", settings=TEST_SPARK)
    try:
        spark = SparkEngine(project.schema, root, session=session)
        population = spark.execute(project.compile_expression("true", dialect="spark", form="count"))[0][0]
        for case in CASES:
            sql = project.compile_expression(case["expr"], dialect="spark")
            members = sorted(row[0] for row in spark.execute(sql))
            assert members == sorted(case["members"]), f"{case['expr']!r} on spark:\n{sql}"
            negated = spark.execute(project.compile_expression(f"not ({case['expr']})", dialect="spark", form="count"))
            assert len(members) + negated[0][0] == population
    finally:
        if owner:
            session.stop()
