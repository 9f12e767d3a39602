"""The example project gives identical results on DuckDB, PostgreSQL and Spark.

The retail example's parquet data is loaded into the throwaway PostgreSQL server (one
COPY per table) and registered in one Spark session in local mode, shared by the whole
module. count, overlap and transitions must be identical; sample and profile agree (floats
of averages and standard deviations to 1e-9, their summation order differs by engine).

No Spark, no Java or no PostgreSQL is a failure, never a skip.
"""
from __future__ import annotations

import math
import os

import psycopg
import pytest
from psycopg import sql as pgsql
from psycopg.conninfo import make_conninfo
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from segc.run.postgres_engine import PostgresEngine
from tests.conftest import EXAMPLE, write_project

OVERLAP = ["inactive_6m", "engaged_30d", "loyal_big_basket", "big_spenders_fr_be", "top_revenue_10pct",
           "value_tier.very_good", "rfm.champions", "never_ordered"]
SAMPLES = ["at_risk", "top_revenue_10pct", "rfm.champions"]
PROFILED = "loyal_big_basket"

# duckdb type of a parquet column -> PostgreSQL type
PG_TYPES = {"BIGINT": "BIGINT", "INTEGER": "INTEGER", "DOUBLE": "DOUBLE PRECISION", "VARCHAR": "TEXT",
            "BOOLEAN": "BOOLEAN", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP"}

# Spark settings for a fast test session on small data (measured on 2 cores: the first
# count 32 s -> 8 s): the JIT's quick first tier only, two partitions, no adaptive
# re-planning between stages. None of them changes a result.
TEST_SPARK = {"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
              "spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2",
              "spark.sql.adaptive.enabled": "false"}


def load_into_postgres(dsn: str, project: segc.Project) -> None:
    """Each source's parquet file into a table of the same name: duckdb reads it, CSV text
    goes through COPY ... FROM STDIN."""
    import duckdb

    duck = duckdb.connect()
    with psycopg.connect(dsn, autocommit=True) as con:
        for src in project.schema.sources.values():
            schema_name, table_name = src.table.split(".")
            path = str(project.root / src.path)
            columns = duck.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
            target = pgsql.Identifier(schema_name, table_name)
            con.execute(pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(schema_name)))
            con.execute(pgsql.SQL("CREATE TABLE {} ({})").format(target, pgsql.SQL(", ").join(
                pgsql.SQL("{} {}").format(pgsql.Identifier(name), pgsql.SQL(PG_TYPES[kind]))
                for name, kind, *_ in columns)))
            csv = _csv(duck, path)
            with con.cursor().copy(pgsql.SQL("COPY {} FROM STDIN (FORMAT csv, NULL '\\N')").format(target)) as copy:
                copy.write(csv)
    duck.close()


def postgres_copy(pg_dsn: str, database: str, project: segc.Project) -> str:
    """The DSN of a new database `database` on the test server holding the project's data."""
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(pgsql.SQL("DROP DATABASE IF EXISTS {}").format(pgsql.Identifier(database)))
        con.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(database)))
    dsn = make_conninfo(pg_dsn, dbname=database)
    load_into_postgres(dsn, project)
    return dsn


def _csv(duck, path: str) -> bytes:
    """The file as CSV text (no header, NULL as \\N), written by duckdb to a temp file."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "t.csv")
        duck.execute(f"COPY (SELECT * FROM read_parquet(?)) TO '{out}' (FORMAT csv, HEADER false, NULLSTR '\\N')",
                     [path])
        with open(out, "rb") as fh:
            return fh.read()


@pytest.fixture(scope="module")
def duck() -> segc.Project:
    return segc.load_project(EXAMPLE)


@pytest.fixture(scope="module")
def postgres(pg_dsn) -> segc.Project:
    project = segc.load_project(EXAMPLE)
    engine = PostgresEngine(postgres_copy(pg_dsn, f"segc_parity_{os.getpid()}", project))
    yield project.use_engine(engine)
    engine.close()


@pytest.fixture(scope="module")
def spark_session():
    from segc.run.spark_engine import start_session

    session, owner, _folder = start_session("local[2]", settings=TEST_SPARK)
    yield session
    if owner:
        session.stop()


@pytest.fixture(scope="module")
def spark(spark_session) -> segc.Project:
    from segc.run.spark_engine import SparkEngine

    project = segc.load_project(EXAMPLE)
    return project.use_engine(SparkEngine(project.schema, project.root, session=spark_session))


@pytest.fixture(scope="module")
def engines(duck, postgres, spark) -> dict[str, segc.Project]:
    return {"duckdb": duck, "postgres": postgres, "spark": spark}


def test_engines_are_the_real_ones(engines):
    assert [p.engine.dialect for p in engines.values()] == ["duckdb", "postgres", "spark"]


def test_count_identical(engines):
    results = {name: p.count() for name, p in engines.items()}
    assert results["duckdb"].population > 10_000
    assert len(results["duckdb"].segments) == len(engines["duckdb"].segment_names)
    assert results["postgres"] == results["duckdb"]
    assert results["spark"] == results["duckdb"]


def test_shifted_timestamps_identical(engines):
    """A timestamp shifted by days or months keeps its time of day on every engine (Spark's
    DATE_ADD and ADD_MONTHS return dates)."""
    expr = "last_order_at + 3 days > 2024-03-04T12:00:00 and last_order_at + 1 month < 2024-04-20T12:00:00"
    counts = {name: p.engine.execute(p.compile_expression(expr, dialect=p.engine.dialect, form="count"))[0][0]
              for name, p in engines.items()}
    duck = engines["duckdb"].duckdb()
    expected = duck.execute("SELECT count(*) FROM (SELECT customer_id, max(ordered_at) AS t FROM shop.orders "
                            "WHERE ordered_at < DATE '2024-07-01' GROUP BY customer_id) JOIN shop.customers "
                            "USING (customer_id) WHERE NOT is_test AND t > TIMESTAMP '2024-03-01 12:00:00' "
                            "AND t < TIMESTAMP '2024-03-20 12:00:00'").fetchone()[0]
    assert expected > 0
    assert counts == {"duckdb": expected, "postgres": expected, "spark": expected}


def test_overlap_identical(engines):
    results = {name: p.overlap(OVERLAP) for name, p in engines.items()}
    assert all(results["duckdb"].matrix[i][i] > 0 for i in range(len(OVERLAP)))
    assert results["postgres"] == results["duckdb"]
    assert results["spark"] == results["duckdb"]


def test_transitions_identical(engines):
    results = {name: p.transitions("value_tier", "2024-01-01", "2024-07-01") for name, p in engines.items()}
    assert sum(results["duckdb"].counts.values()) > 10_000
    assert results["postgres"] == results["duckdb"]
    assert results["spark"] == results["duckdb"]


def approx(value):
    """Floats to 1e-9 (relative), everything else exactly."""
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-9, abs=1e-12) if math.isfinite(value) else value
    if isinstance(value, (list, tuple)):
        return type(value)(approx(v) for v in value)
    return value


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_agrees(engines, name):
    results = {engine: p.sample(name, n=15) for engine, p in engines.items()}
    want = results["duckdb"]
    assert len(want.rows) == 15
    for engine in ("postgres", "spark"):
        got = results[engine]
        assert (got.columns, got.masked) == (want.columns, want.masked), engine
        assert [approx(list(r)) for r in want.rows] == [list(r) for r in got.rows], engine


def test_profile_agrees(engines):
    results = {engine: p.profile(PROFILED) for engine, p in engines.items()}
    want = results["duckdb"]
    assert want.size > 0 and want.numeric and want.categorical
    for engine in ("postgres", "spark"):
        got = results[engine]
        assert (got.size, got.population) == (want.size, want.population), engine
        assert got.categorical == want.categorical, engine
        assert [approx(list(vars(n).values())) for n in want.numeric] == \
               [list(vars(n).values()) for n in got.numeric], engine


# ---- the CLI on Spark (the module's session is reused by open_engine) ----

def _all_output(result) -> str:
    try:
        return result.stdout + result.stderr
    except ValueError:
        return result.output


def test_cli_count_on_spark(spark_session, duck):
    result = CliRunner().invoke(app, ["count", str(EXAMPLE), "--engine", "spark", "--format", "json"])
    assert result.exit_code == 0, _all_output(result)
    import json

    got = json.loads(result.stdout)
    assert got["population"] == duck.count().population
    assert "WARN" not in _all_output(result) and "Stage" not in _all_output(result)


def test_cli_spark_missing_table(spark_session, tmp_path):
    root = write_project(tmp_path / "p", {
        "name": "t", "entity": "customer", "base": "customers", "key": "id",
        "sources": {"customers": {"table": "nowhere.segc_missing_customers"}},
        "features": {"age": {"type": "int"}}}, "segment adults = age >= 18\n")
    result = CliRunner().invoke(app, ["count", str(root), "--engine", "spark"])
    out = _all_output(result)
    assert result.exit_code == 1, out
    assert "nowhere.segc_missing_customers" in out and "not found in the Spark catalog" in out
    assert "Traceback" not in out


# ---- sources on Spark: catalog tables as they are, local files registered (and replaced) ----

def test_spark_uses_a_catalog_table(spark_session, tmp_path):
    from segc.run.spark_engine import SparkEngine

    people = EXAMPLE / "data" / "customers.parquet"
    spark_session.sql("CREATE DATABASE IF NOT EXISTS segc_wh")
    spark_session.sql(f"CREATE TABLE IF NOT EXISTS segc_wh.people USING parquet OPTIONS (path '{people}')")
    config = {"name": "t", "entity": "customer", "base": "people", "key": "customer_id",
              "sources": {"people": {"table": "segc_wh.people"}},  # no path: only the catalog has it
              "features": {"age": {"type": "int"}, "country": {"type": "string"}}}
    root = write_project(tmp_path / "p", config, 'segment adults_fr = age >= 18 and country = "FR"\n')
    project = segc.load_project(root)
    result = project.use_engine(SparkEngine(project.schema, project.root, session=spark_session)).count()
    import duckdb

    want = duckdb.execute("SELECT count(*), count_if(age >= 18 AND country = 'FR') FROM read_parquet(?)",
                          [str(people)]).fetchone()
    assert (result.population, result.segments[0].count) == want


def test_spark_replaces_its_own_registration(spark_session, spark, tmp_path):
    """Another project with the same table names but other files: not the first one's data."""
    import shutil

    import duckdb
    from segc.run.spark_engine import SparkEngine

    root = tmp_path / "small"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("data", "tests", "build"))
    (root / "data").mkdir()
    for table in ("orders", "carts"):
        shutil.copy(EXAMPLE / "data" / f"{table}.parquet", root / "data")
    source = EXAMPLE / "data" / "customers.parquet"
    duckdb.execute(f"COPY (SELECT * FROM read_parquet('{source}') WHERE customer_id <= 3000) "
                   f"TO '{root / 'data' / 'customers.parquet'}' (FORMAT parquet)")
    small_duck = segc.load_project(root)
    small_spark = segc.load_project(root)
    small_spark.use_engine(SparkEngine(small_spark.schema, small_spark.root, session=spark_session))
    want = small_duck.count()
    assert want.population < 3000
    try:
        assert small_spark.count() == want
    finally:  # the table names point at the small files now: back to the example's
        SparkEngine(spark.schema, spark.root, session=spark_session)
    assert spark.count().population > 3000


# ---- control groups: `holdout` hashes keys the same way on Spark ----

def test_holdout_identical_on_spark(engines, spark_session, tmp_path):
    """The example's control group member for member on the three engines; then 100,000
    integer keys and hostile string keys on Spark and DuckDB against the rule computed
    with hashlib (tests/test_holdout.py does the same for DuckDB and PostgreSQL)."""
    import hashlib

    import duckdb
    from segc.run.spark_engine import SparkEngine

    def members(p: segc.Project, name: str) -> set:
        return {r[0] for r in p.engine.execute(p.compile(name, dialect=p.engine.dialect))}

    want = members(engines["duckdb"], "loyal_control")
    assert 0 < len(want) < len(members(engines["duckdb"], "loyal_big_basket"))
    assert members(engines["postgres"], "loyal_control") == want
    assert members(engines["spark"], "loyal_control") == want

    strings = ["", " ", "O'Brien", 'say "hi"', "back\\slash", "100%", "a_b", "café", "cafe\u0301", "東京",
               "😀 party", "tab\tnew\nline", "'; DROP TABLE x; --", "Straße", "\u202eevil", "01", "1.0"]
    root = tmp_path / "ab"
    (root / "data").mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"COPY (SELECT range AS id FROM range(1, 100001)) TO '{root / 'data' / 'ints.parquet'}' (FORMAT parquet)")
    con.execute("CREATE TABLE s (id VARCHAR)")
    con.executemany("INSERT INTO s VALUES (?)", [[k] for k in strings])
    con.execute(f"COPY s TO '{root / 'data' / 'strings.parquet'}' (FORMAT parquet)")
    con.close()
    segments = 'segment control = holdout 10% seed "spring"\n' \
               'segment third = holdout 33.3% seed "it\'s é 😀"\n' \
               'segment half = not holdout 50% seed "x"\n'
    for table, keys in (("ints", range(1, 100001)), ("strings", strings)):
        config = {"name": "ab", "entity": "customer", "base": "people", "key": "id",
                  "sources": {"people": {"table": f"segc_ab.{table}", "path": f"data/{table}.parquet"}},
                  "features": {"id": {"type": "string" if table == "strings" else "int", "nullable": False}}}
        duck = segc.load_project(write_project(root, config, segments))
        spark = segc.load_project(root)
        spark.use_engine(SparkEngine(spark.schema, spark.root, session=spark_session))
        for name, seed, share, inside in (("control", "spring", 0.1, True), ("third", "it's é 😀", 0.333, True),
                                          ("half", "x", 0.5, False)):
            bound = int(share * 2**32)
            expected = {k for k in keys
                        if (int(hashlib.md5(f"{seed}:{k}".encode()).hexdigest()[:8], 16) < bound) == inside}
            assert members(duck, name) == expected, (table, name)
            assert members(spark, name) == expected, (table, name)
