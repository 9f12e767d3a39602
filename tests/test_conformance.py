"""The language conformance cases (tests/conformance/*.yml, copied from shared/): every
case's exact members, executed on DuckDB, SQLite and PostgreSQL (one test per case), and
on Spark (one test for all: its session is slow to start and each query costs ~0.2 s)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import segc
from segc.front.errors import SegcError
from tests.conftest import table_columns, write_project
from tests.engines import ENGINES

CASES_DIR = Path(__file__).parent / "conformance"
SUITES = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(CASES_DIR.glob("*.yml"))}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, pg_dsn):
    """Per suite: the project, and each engine with the suite's rows loaded (once)."""
    from tests.engines import open_engine

    out, engines = {}, []
    for name, suite in SUITES.items():
        root = write_project(tmp_path_factory.mktemp(name), suite["project"], suite["segments"])
        project = segc.load_project(root)
        columns = table_columns(suite["project"])
        tables = {t: (cols, suite["rows"].get(t.split(".")[-1], [])) for t, cols in columns.items()}
        for engine_name in ENGINES:
            engine = open_engine(engine_name, pg_dsn)
            engine.load(tables)
            engines.append(engine)
            out[(name, engine_name)] = (project, engine)
    yield out
    for e in engines:
        e.close()


CASES = [(suite, i, case["expr"]) for suite, data in SUITES.items() for i, case in enumerate(data["cases"])]

# (engine, construct) -> the diagnostic code a case using the construct must raise there
# instead of giving members: a dialect that cannot express it (DESIGN §8.1: no regex in SQLite).
UNSUPPORTED = {("sqlite", "matches"): "E602"}
_CONSTRUCT_WORDS = {"matches": " matches "}


def unsupported_code(engine: str, expr: str) -> str | None:
    """The code `expr` must raise on `engine`, or None when it must run."""
    for (eng, construct), code in UNSUPPORTED.items():
        if eng == engine and _CONSTRUCT_WORDS[construct] in f" {expr} ":
            return code
    return None


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("suite,index,expr", CASES, ids=[f"{s}-{i}" for s, i, _ in CASES])
def test_case(loaded, engine, suite, index, expr):
    project, eng = loaded[(suite, engine)]
    code = unsupported_code(engine, expr)
    if code:
        with pytest.raises(SegcError) as info:
            project.compile_expression(expr, dialect=engine)
        assert [d.code for d in info.value.diagnostics] == [code]
        return
    expected = sorted(SUITES[suite]["cases"][index]["members"])
    sql = project.compile_expression(expr, dialect=engine)
    members = sorted(row[0] for row in eng.query(sql))
    assert members == expected, f"{expr!r} on {engine}:\n{sql}"
    # the complement within the population: |A| + |not A| = |population|
    population = eng.query(project.compile_expression("true", dialect=engine, form="count"))[0][0]
    negated = eng.query(project.compile_expression(f"not ({expr})", dialect=engine, form="count"))[0][0]
    assert len(members) + negated == population


def test_every_case_on_spark(tmp_path):
    """Spark reads local files: each suite's rows are written to parquet by DuckDB (the
    harness's typed loader) and the project's sources point at them."""
    from segc.run.spark_engine import SparkEngine, start_session
    from tests.engines import open_engine
    from tests.test_engines_parity import TEST_SPARK

    session, owner, _folder = start_session("local[2]", settings=TEST_SPARK)
    try:
        for name, suite in SUITES.items():
            config = {**suite["project"], "sources": {s: {**src, "path": f"data/{src.get('table', s)}.parquet"}
                                                      for s, src in suite["project"]["sources"].items()}}
            root = write_project(tmp_path / name, config, suite["segments"])
            (root / "data").mkdir()
            with open_engine("duckdb") as duck:
                for t, cols in table_columns(suite["project"]).items():
                    duck.load({t: (cols, suite["rows"].get(t.split(".")[-1], []))})
                    duck.query(f"COPY {t} TO '{root}/data/{t}.parquet' (FORMAT parquet)")
            project = segc.load_project(root)
            spark = SparkEngine(project.schema, root, session=session)
            population = spark.execute(project.compile_expression("true", dialect="spark", form="count"))[0][0]
            for case in suite["cases"]:
                expr = case["expr"]
                sql = project.compile_expression(expr, dialect="spark")
                members = sorted(row[0] for row in spark.execute(sql))
                assert members == sorted(case["members"]), f"{name}: {expr!r} on spark:\n{sql}"
                negated = spark.execute(project.compile_expression(f"not ({expr})", dialect="spark", form="count"))
                assert len(members) + negated[0][0] == population, f"{name}: not ({expr}) on spark"
    finally:
        if owner:
            session.stop()
