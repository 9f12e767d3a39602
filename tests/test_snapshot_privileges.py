"""`segc snapshot --table` as a least-privileged role: a DBA grants a CI job SELECT, INSERT and
DELETE on the snapshot table (and SELECT on the sources), nothing else. segc sent
`CREATE SCHEMA IF NOT EXISTS` and `CREATE TABLE IF NOT EXISTS` on every write, which
PostgreSQL refuses without the CREATE privilege even when the object exists ("permission
denied for database"), so that role could never snapshot (s12C F13). They are sent only
when the table (or schema) is missing.
"""
from __future__ import annotations

import os

import psycopg
import pytest
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

import segc
from segc.run.postgres_engine import PostgresEngine
from tests.test_engines_parity import postgres_copy
from tests.test_snapshots import small_copy


@pytest.fixture(scope="module")
def setup(pg_dsn, tmp_path_factory):
    root = small_copy(tmp_path_factory.mktemp("priv") / "shop")
    owner_dsn = postgres_copy(pg_dsn, f"segc_priv_{os.getpid()}", segc.load_project(root))
    role = f"segc_ci_{os.getpid()}"
    with psycopg.connect(owner_dsn, autocommit=True) as con:
        con.execute(pgsql.SQL("DROP ROLE IF EXISTS {}").format(pgsql.Identifier(role)))
        con.execute(pgsql.SQL("CREATE ROLE {} LOGIN").format(pgsql.Identifier(role)))
        con.execute(pgsql.SQL("REVOKE CREATE ON DATABASE {} FROM PUBLIC").format(
            pgsql.Identifier(conninfo_to_dict(owner_dsn)["dbname"])))
        con.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        schemas = [r[0] for r in con.execute("SELECT DISTINCT table_schema FROM information_schema.tables "
                                             "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")]
        for schema in schemas:
            con.execute(pgsql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(pgsql.Identifier(schema), pgsql.Identifier(role)))
            con.execute(pgsql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                pgsql.Identifier(schema), pgsql.Identifier(role)))
    # the owner creates the store once
    owner = segc.load_project(root)
    engine = PostgresEngine(owner_dsn)
    owner.use_engine(engine).snapshot(["loyal_big_basket"], as_of="2024-06-01", table="crm.ci_snaps")
    engine.close()
    with psycopg.connect(owner_dsn, autocommit=True) as con:
        con.execute(pgsql.SQL("GRANT USAGE ON SCHEMA crm TO {}").format(pgsql.Identifier(role)))
        con.execute(pgsql.SQL("GRANT SELECT, INSERT, DELETE ON crm.ci_snaps TO {}").format(pgsql.Identifier(role)))
    return root, make_conninfo(owner_dsn, user=role)


def test_a_role_with_insert_and_delete_on_the_table_takes_snapshots(setup):
    root, dsn = setup
    engine = PostgresEngine(dsn)
    try:
        project = segc.load_project(root).use_engine(engine)
        taken = project.snapshot(["loyal_big_basket"], as_of="2024-07-01", table="crm.ci_snaps")
        assert taken.counts
        project.snapshot(["loyal_big_basket"], as_of="2024-07-01", table="crm.ci_snaps")  # a rerun replaces
        changes = project.changes(["loyal_big_basket"], since="2024-06-01", as_of="2024-07-01", table="crm.ci_snaps")
        assert changes.rows
        (n,) = engine.execute("SELECT COUNT(*) FROM crm.ci_snaps WHERE as_of = DATE '2024-07-01'")[0]
        assert n == sum(count for _d, _b, count in taken.counts) > 0  # replaced, not doubled
    finally:
        engine.close()
