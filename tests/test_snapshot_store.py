"""The snapshot store's writes (compiler/run/snapshots.py): a snapshot replaces exactly the
rows it stores (a branch named alone: that branch's rows only), on the local store and
in a PostgreSQL table. A small copy of the example (customers 1..2000) keeps it quick."""
from __future__ import annotations

import os

import duckdb
import pytest

import segc
from segc.run.postgres_engine import PostgresEngine
from tests.test_engines_parity import postgres_copy
from tests.test_snapshots import small_copy

D = "2024-06-01"


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    return small_copy(tmp_path_factory.mktemp("store") / "shop")


def stored_local(root, d=D) -> dict[tuple, int]:
    part = root / ".segc" / "snapshots" / f"as_of={d}" / "part.parquet"
    return {(r[0], r[1]): r[2] for r in duckdb.execute(
        f"SELECT definition, branch, COUNT(*) FROM read_parquet('{part}') GROUP BY ALL").fetchall()}


def test_a_branch_alone_replaces_only_its_rows_on_the_local_store(local):
    project = segc.load_project(local)
    project.snapshot(["quadrant", "loyal_big_basket"], as_of=D)
    whole = stored_local(local)
    assert len([k for k in whole if k[0] == "quadrant"]) == 4
    project.snapshot(["quadrant.frequent_big"], as_of=D)
    assert stored_local(local) == whole  # the sibling branches (and the other definitions) are kept
    assert project.changes(["quadrant"], since=D, as_of=D).rows == [] and not project.changes(
        ["quadrant"], since=D, as_of=D).warnings
    project.snapshot(["quadrant"], as_of=D)  # the whole segmentation replaces every branch, no duplicate
    assert stored_local(local) == whole


@pytest.fixture(scope="module")
def pg(pg_dsn, tmp_path_factory):
    root = small_copy(tmp_path_factory.mktemp("pgstore") / "shop")
    project = segc.load_project(root)
    engine = PostgresEngine(postgres_copy(pg_dsn, f"segc_store_{os.getpid()}", project))
    project.use_engine(engine)
    yield project
    engine.close()


def stored_pg(project, name, d=D) -> dict[tuple, int]:
    return {(r[0], r[1]): r[2] for r in project.engine.execute(
        f"SELECT definition, branch, COUNT(*) FROM {name} WHERE as_of = DATE '{d}' GROUP BY 1, 2")}


def test_a_branch_alone_replaces_only_its_rows_in_a_postgres_table(pg):
    pg.snapshot(["quadrant", "loyal_big_basket"], as_of=D, table="crm.branch_alone")
    whole = stored_pg(pg, "crm.branch_alone")
    assert len([k for k in whole if k[0] == "quadrant"]) == 4
    pg.snapshot(["quadrant.frequent_big"], as_of=D, table="crm.branch_alone")
    assert stored_pg(pg, "crm.branch_alone") == whole
    pg.snapshot(["quadrant"], as_of=D, table="crm.branch_alone")
    assert stored_pg(pg, "crm.branch_alone") == whole
