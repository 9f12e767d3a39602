"""Counts do not depend on the time zone of the machine: a TIMESTAMPTZ column declared
`type: timestamp`, with values around midnight UTC, counted in child processes under
TZ=Asia/Tokyo, TZ=America/New_York and TZ=UTC (DuckDB), and PGTZ likewise (PostgreSQL,
whose client sessions take their time zone from PGTZ). Every engine session is pinned
to UTC (run/engine.open_duckdb, the PostgreSQL and Spark engines)."""
from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import psycopg
import pytest
from psycopg import sql as pgsql
from psycopg.conninfo import make_conninfo

from tests.conftest import write_project

CONFIG = {
    "name": "tz", "entity": "customer", "base": "customers", "key": "customer_id", "as_of": "2024-07-01",
    "min_size": 1, "sources": {"customers": {"table": "shop.customers", "path": "data/customers.parquet"}},
    "features": {"last_seen": {"type": "timestamp"}},
}
SEGMENTS = """\
segment late = last_seen >= 2024-07-01
segment day = last_seen within 2024-06-30 to 2024-06-30
segment recent = last_seen within last 1 days
"""
# one customer an hour from 2024-06-30 12:00 UTC to 2024-07-01 11:00 UTC: in UTC, half
# of them are on 2024-06-30 and half on 2024-07-01
HOURS = 24
EXPECTED = {"late": 12, "day": 12, "recent": 12}
ZONES = ("UTC", "Asia/Tokyo", "America/New_York")
CLI = "import sys; sys.argv[0] = 'segc'; from segc.cli.main import main; main()"


def _counts(root, env: dict[str, str], *extra: str) -> dict[str, int]:
    result = subprocess.run([sys.executable, "-c", CLI, "count", "-p", str(root), "-f", "csv", *extra],
                            capture_output=True, text=True, timeout=120, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr
    rows = [line.split(",") for line in result.stdout.splitlines()[1:]]
    return {name: int(count) for name, count, _share in rows if not name.startswith("(")}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = write_project(tmp_path_factory.mktemp("tz"), CONFIG, SEGMENTS)
    (root / "data").mkdir()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"COPY (SELECT i AS customer_id, TIMESTAMPTZ '2024-06-30 12:00:00+00' + i * INTERVAL 1 HOUR "
                f"AS last_seen FROM range(0, {HOURS}) AS t(i)) TO '{root / 'data' / 'customers.parquet'}' "
                "(FORMAT parquet)")
    assert con.execute(f"DESCRIBE SELECT * FROM '{root / 'data' / 'customers.parquet'}'").fetchall()[1][1] \
        == "TIMESTAMP WITH TIME ZONE"
    return root


@pytest.mark.parametrize("zone", ZONES)
def test_duckdb_counts_do_not_depend_on_tz(root, zone):
    assert _counts(root, {"TZ": zone}) == EXPECTED


def test_every_duckdb_connection_is_utc(monkeypatch):
    from segc.run.memory import open_memory

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert open_memory("duckdb").execute("SELECT current_setting('TimeZone')").fetchone()[0] == "UTC"


@pytest.fixture(scope="module")
def pg_database(pg_dsn):
    name = "segc_tz"
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(pgsql.SQL("DROP DATABASE IF EXISTS {}").format(pgsql.Identifier(name)))
        admin.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
    dsn = make_conninfo(pg_dsn, dbname=name)
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("CREATE SCHEMA shop")
        con.execute("CREATE TABLE shop.customers (customer_id BIGINT, last_seen TIMESTAMPTZ)")
        con.execute(f"INSERT INTO shop.customers SELECT i, TIMESTAMPTZ '2024-06-30 12:00:00+00' + i * INTERVAL '1 hour' "
                    f"FROM generate_series(0, {HOURS - 1}) AS t(i)")
    return dsn


@pytest.mark.parametrize("zone", ZONES)
def test_postgres_counts_do_not_depend_on_the_session_time_zone(root, pg_database, zone):
    assert _counts(root, {"PGTZ": zone, "TZ": zone}, "--engine", "postgres", "--dsn", pg_database) == EXPECTED


def test_spark_counts_do_not_depend_on_tz(root):
    """Spark local mode in a child process whose JVM and Python run in Asia/Tokyo: the
    session's time zone is UTC (slow: one Spark start)."""
    assert _counts(root, {"TZ": "Asia/Tokyo"}, "--engine", "spark") == EXPECTED
