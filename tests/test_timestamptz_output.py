"""A TIMESTAMPTZ column read as a `timestamp` feature prints its UTC wall time, as a
TIMESTAMP column does, on DuckDB (a parquet file written from zone-aware times) and on
PostgreSQL: `sample` printed `2023-10-20T16:02:06+00:00` on a PostgreSQL timestamptz column
where the example's parquet gives `2023-10-20T16:02:06` (s12C F17).
"""
from __future__ import annotations

import json
import os

import duckdb
import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from typer.testing import CliRunner

from segc.cli.main import app
from tests.conftest import write_project

CONFIG = {"name": "tz", "entity": "customer", "base": "customers", "key": "customer_id", "as_of": "2024-07-01",
          "sources": {"customers": {"table": "crm.customers", "path": "data/customers.parquet"}},
          "features": {"seen_at": {"type": "timestamp"}}}


@pytest.fixture(scope="module")
def setup(tmp_path_factory, pg_dsn):
    root = write_project(tmp_path_factory.mktemp("tz"), CONFIG, "segment seen = seen_at < 2024-01-01T00:00:00\n")
    (root / "data").mkdir()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("COPY (SELECT 1 AS customer_id, TIMESTAMPTZ '2023-10-20 16:02:06+00' AS seen_at) "
                f"TO '{root / 'data' / 'customers.parquet'}' (FORMAT parquet)")
    assert "TIME ZONE" in str(con.execute(f"DESCRIBE SELECT * FROM '{root / 'data' / 'customers.parquet'}'").fetchall())
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS segc_tz_out")
        c.execute("CREATE DATABASE segc_tz_out")
    dsn = make_conninfo(pg_dsn, dbname="segc_tz_out")
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("CREATE SCHEMA crm; CREATE TABLE crm.customers (customer_id bigint, seen_at timestamptz);"
                  "INSERT INTO crm.customers VALUES (1, '2023-10-20 16:02:06+00')")
    return root, dsn


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_a_timestamptz_prints_its_utc_wall_time(setup, engine):
    root, dsn = setup
    extra = ["--engine", "postgres", "--dsn", dsn] if engine == "postgres" else []
    for fmt in ("json", "text"):
        result = CliRunner().invoke(app, ["sample", "seen", "-p", str(root), "--format", fmt, *extra])
        assert result.exit_code == 0, result.output
        assert "2023-10-20T16:02:06" in result.stdout and "+00:00" not in result.stdout, result.stdout
    rows = json.loads(CliRunner().invoke(app, ["sample", "seen", "-p", str(root), "--format", "json", *extra]).stdout)
    assert rows == [{"customer_id": 1, "seen_at": "2023-10-20T16:02:06"}]
