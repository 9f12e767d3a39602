"""Text keys on a PostgreSQL database whose collation is not C (ICU en-US here; libc en_US.UTF-8
alike, the default of most clusters): `segc sample`'s "first N by key" were other customers than
on DuckDB (`_z, a-2, a1` for `A3, B2, Zed`), and the rows of `changes`, the members and the
feature matrix of `discover` / `score fit` came in another order (s12C F11). Every ORDER BY
on a key or a definition's name now follows the bytes on PostgreSQL too (rewrites.binary_order).
"""
from __future__ import annotations

import json

import psycopg
import pytest
from psycopg import sql as pgsql
from psycopg.conninfo import make_conninfo
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from segc.run.postgres_engine import PostgresEngine
from tests.conftest import write_project

KEYS = ["a1", "B2", "a10", "_z", "Zed", "b3", "a-2", "A3", "é1", "E2"]
CONFIG = {"name": "coll", "entity": "customer", "base": "customers", "key": "customer_id", "as_of": "2024-07-01",
          "sources": {"customers": {"table": "crm.customers", "path": "data/customers.csv",
                                    "columns": {"customer_id": "string"}}},
          "min_group": 2,
          "features": {"n": {"type": "int"}, "tag": {"type": "string"}}}
TAGS = ["b", "B", "a", "A", "_x"]  # each held by 2 customers: the tie-break of profile's top values


@pytest.fixture(scope="module")
def setup(pg_dsn, tmp_path_factory):
    root = write_project(tmp_path_factory.mktemp("coll"), CONFIG,
                         "segment everyone = n >= 0\nsegmentation parity {\n  even = n % 2 = 0\n  odd = else\n}\n")
    (root / "data").mkdir()
    rows = [(k, i, TAGS[i % 5]) for i, k in enumerate(KEYS)]
    (root / "data" / "customers.csv").write_text("customer_id,n,tag\n" + "".join(f"{k},{n},{t}\n" for k, n, t in rows),
                                                 encoding="utf-8")
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute("DROP DATABASE IF EXISTS segc_collation")
        con.execute("CREATE DATABASE segc_collation LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C' "
                    "TEMPLATE template0 ENCODING 'UTF8'")
    dsn = make_conninfo(pg_dsn, dbname="segc_collation")
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("CREATE SCHEMA crm; CREATE TABLE crm.customers (customer_id text, n bigint, tag text)")
        with con.cursor() as cur:
            cur.executemany("INSERT INTO crm.customers VALUES (%s, %s, %s)", rows)
        # the database really orders otherwise than the bytes
        ordered = [r[0] for r in con.execute("SELECT customer_id FROM crm.customers ORDER BY 1")]
        assert ordered != sorted(KEYS, key=lambda k: k.encode())
    return root, dsn


def test_sample_first_by_key_as_on_duckdb(setup):
    root, dsn = setup
    runner = CliRunner()
    duck = runner.invoke(app, ["sample", "everyone", "-n", "3", "-p", str(root), "--format", "json"])
    pg = runner.invoke(app, ["sample", "everyone", "-n", "3", "-p", str(root), "--format", "json",
                             "--engine", "postgres", "--dsn", dsn])
    assert duck.exit_code == pg.exit_code == 0, pg.output
    keys = [r["customer_id"] for r in json.loads(pg.stdout)]
    assert keys == [r["customer_id"] for r in json.loads(duck.stdout)] == sorted(KEYS, key=str.encode)[:3]


def test_members_and_feature_matrix_in_byte_order(setup):
    root, dsn = setup
    duck = segc.load_project(root)
    engine = PostgresEngine(dsn)
    try:
        pg = segc.load_project(root).use_engine(engine)
        assert pg.members("everyone") == duck.members("everyone") == sorted(KEYS, key=str.encode)
        assert pg.members("parity") == duck.members("parity")
        assert pg.feature_matrix(["n"])[0] == duck.feature_matrix(["n"])[0]
    finally:
        engine.close()


def test_profile_top_values_tie_in_byte_order(setup):
    root, dsn = setup
    runner = CliRunner()
    args = ["profile", "everyone", "-p", str(root), "--format", "json"]
    duck = runner.invoke(app, args)
    pg = runner.invoke(app, [*args, "--engine", "postgres", "--dsn", dsn])
    assert duck.exit_code == pg.exit_code == 0, pg.output
    assert json.loads(pg.stdout) == json.loads(duck.stdout)
    assert "_x" in duck.stdout and duck.stdout.index('"A"') < duck.stdout.index('"a"')
