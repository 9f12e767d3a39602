"""`segc lift` takes its arms from the snapshot stored at assigned_at (issue 19, DESIGN
§8.3): after the data changes, the snapshot keeps the arms as assigned where the
point-in-time membership moves; without a snapshot, point-in-time; a snapshot whose
definition of an arm differs (or that lacks an arm) is not used, with W770. On the local
store (DuckDB) and a warehouse table (PostgreSQL, `--table`)."""
from __future__ import annotations

import math
import os
import shutil

import duckdb
import pytest
from typer.testing import CliRunner

import segc
from segc.apps.lift import lift
from segc.cli.main import app
from segc.run.postgres_engine import PostgresEngine
from tests.conftest import EXAMPLE
from tests.test_engines_parity import postgres_copy

A = "2024-03-01"  # spring_loyalty's assigned_at
MOVED = 50  # target members made test accounts after the snapshot: out of the population


def _figures(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ("membership", "warnings")}


def _same_up_to_float_order(a, b) -> bool:
    """Equal, floats to 1e-9 relative: PostgreSQL adds floats in its plan's order (parallel
    workers included, docs/language.md), so two query shapes over the same rows may differ
    in the last bits of a sum; every count, arm and text stays exact."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_up_to_float_order(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_up_to_float_order(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return type(a) is type(b) and a == b


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("generate.py", "build", ".segc", "tests"))
    return root


def _moved(project) -> list[int]:
    return project.members("loyal_target", A)[:MOVED]


def _make_test_accounts(root, keys: list[int]) -> None:
    """Rewrite customers.parquet with is_test = true for `keys`: the point-in-time
    population at assigned_at no longer holds them."""
    path = root / "data" / "customers.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * REPLACE (is_test OR customer_id IN (SELECT unnest($keys::BIGINT[])) AS is_test) "
                f"FROM read_parquet('{path}') ORDER BY customer_id) TO '{path}.new' (FORMAT parquet)", {"keys": keys})
    os.replace(f"{path}.new", path)


def test_lift_reads_the_arms_from_the_snapshot_at_assigned_at(root):
    before = lift(segc.load_project(root), "spring_loyalty")
    assert before["membership"] == "point-in-time at assigned_at"
    project = segc.load_project(root)
    moved = _moved(project)
    project.snapshot(["loyal_target", "loyal_control"], as_of=A)
    _make_test_accounts(root, moved)

    frozen = lift(segc.load_project(root), "spring_loyalty")
    assert frozen["membership"] == f"snapshot of {A} (.segc/snapshots)" and frozen["warnings"] == []
    assert _figures(frozen) == _figures(before)  # the arms as assigned, every figure the same

    shutil.rmtree(root / ".segc")  # no snapshot: the point-in-time arms, which moved
    now = lift(segc.load_project(root), "spring_loyalty")
    assert now["membership"] == "point-in-time at assigned_at"
    assert now["srm"]["n_target"] == before["srm"]["n_target"] - MOVED


def test_a_snapshot_of_another_definition_is_not_used_w770(root):
    segc.load_project(root).snapshot(["loyal_target", "loyal_control"], as_of=A)
    seg = root / "segments" / "experiments.seg"
    seg.write_text(seg.read_text().replace("holdout 10%", "holdout 12%"))
    result = lift(segc.load_project(root), "spring_loyalty")
    assert result["membership"] == "point-in-time at assigned_at"
    assert [w.split(" ", 2)[:2] for w in result["warnings"]] == [["W770", "`loyal_target`"], ["W770", "`loyal_control`"]]
    assert "changed since the snapshot of 2024-03-01" in result["warnings"][0]


def test_a_snapshot_without_an_arm_is_not_used_and_the_cli_says_so(root):
    segc.load_project(root).snapshot(["loyal_target"], as_of=A)
    result = CliRunner().invoke(app, ["lift", "spring_loyalty", "-p", str(root)])
    assert result.exit_code == 0, result.output
    assert "W770 `loyal_control` is not in the snapshot of 2024-03-01" in result.output
    assert "arms: point-in-time at assigned_at" in result.output
    segc.load_project(root).snapshot(["loyal_control"], as_of=A)  # the date's other rows are kept
    result = CliRunner().invoke(app, ["lift", "spring_loyalty", "-p", str(root)])
    assert "arms: snapshot of 2024-03-01 (.segc/snapshots)" in result.output and "W770" not in result.output


BRANCH_ARMS = """  br:
    target: quadrant.frequent_big
    control: quadrant.frequent_small
    assigned_at: 2024-03-01
    until: 2024-05-01
    metrics:
      buyers: 'exists(orders where status = "completed" during experiment)'
      revenue: 'sum(orders.amount where status = "completed" during experiment)'
"""


def test_frozen_branch_arms_hold_only_their_own_branch(root):
    """Arms that are branches of one segmentation, frozen from a snapshot of it: each arm
    is its branch's stored rows, not every stored row of the segmentation (attack11 L3:
    the other branches' members were counted as control)."""
    yml = root / "segc.yml"
    yml.write_text(yml.read_text() + BRANCH_ARMS)
    live = lift(segc.load_project(root), "br")
    assert live["membership"] == "point-in-time at assigned_at"
    segc.load_project(root).snapshot(["quadrant"], as_of=A)
    frozen = lift(segc.load_project(root), "br")
    assert frozen["membership"] == f"snapshot of {A} (.segc/snapshots)"
    assert not any(w.startswith("W770") for w in frozen["warnings"])
    assert _figures(frozen) == _figures(live)
    assert [m["n_control"] for m in frozen["metrics"].values()] == [frozen["srm"]["n_control"]] * 2


@pytest.fixture
def pg_project(pg_dsn, root):
    database = f"segc_lift_frozen_{os.getpid()}"
    project = segc.load_project(root)
    dsn = postgres_copy(pg_dsn, database, project)
    engine = PostgresEngine(dsn)
    yield project.use_engine(engine), engine
    engine.close()


def test_lift_reads_the_arms_from_a_warehouse_table_on_postgres(pg_project):
    project, engine = pg_project
    before = lift(project, "spring_loyalty")
    moved = _moved(project)
    project.snapshot(["loyal_target", "loyal_control"], as_of=A, table="crm.segc_snapshots")
    engine.execute_in_transaction([f"UPDATE shop.customers SET is_test = TRUE WHERE customer_id IN "
                                   f"({', '.join(str(k) for k in moved)})"])
    frozen = lift(project, "spring_loyalty", table="crm.segc_snapshots")
    assert frozen["membership"] == f"snapshot of {A} (crm.segc_snapshots)"
    assert _same_up_to_float_order(_figures(frozen), _figures(before))
    now = lift(project, "spring_loyalty")  # no table named: point-in-time
    assert now["membership"] == "point-in-time at assigned_at"
    assert now["srm"]["n_target"] == before["srm"]["n_target"] - MOVED
