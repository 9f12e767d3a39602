"""The snapshot store's writes (compiler/run/snapshots.py): a snapshot replaces exactly the
rows it stores (a branch named alone: that branch's rows only), on the local store and
in a PostgreSQL table; two snapshots at once take turns (neither loses nor doubles rows); a folder of the local
store that is not a partition is an error naming it, never a traceback; `--since last`
is each definition's own latest snapshot (in `changes` and in `build -t changes`). A small copy of the example (customers 1..2000) keeps it quick."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time

import duckdb
import pytest

import segc
from segc.cli.main import app
from segc.run.postgres_engine import PostgresEngine
from tests.test_engines_parity import postgres_copy
from tests.test_snapshots import got_changes, runner, small_copy, template_rows

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
    assert len([k for k in whole if k[0] == "quadrant"]) == 5 and whole[("quadrant", None)] == 1  # + its whole mark
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
    assert len([k for k in whole if k[0] == "quadrant"]) == 5 and whole[("quadrant", None)] == 1  # + its whole mark
    pg.snapshot(["quadrant.frequent_big"], as_of=D, table="crm.branch_alone")
    assert stored_pg(pg, "crm.branch_alone") == whole
    pg.snapshot(["quadrant"], as_of=D, table="crm.branch_alone")
    assert stored_pg(pg, "crm.branch_alone") == whole


# ---- two writers at once: they take turns (S2) ------------------------------------------------

SLOW_WRITER = '''
import pathlib, sys, time
import segc.front.files as files

MARK = pathlib.Path(sys.argv[1])

def step(name):  # the new partition is being written: the kept rows were read already
    if name == "writing" and not MARK.exists():
        MARK.write_text("writing")
        time.sleep(3)

files._step = step
from segc.cli.main import main
sys.argv = ["segc", *sys.argv[2:]]
main()
'''


def test_two_snapshots_at_one_as_of_keep_both_runs_rows(tmp_path):
    root = small_copy(tmp_path / "shop")
    d = "2024-03-14"
    mark = tmp_path / "mark"
    cli = [sys.executable, "-c", SLOW_WRITER]
    slow = subprocess.Popen([*cli, str(mark), "snapshot", "-p", str(root), "--as-of", d, "loyal_big_basket"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not mark.exists() and slow.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert mark.exists(), slow.communicate()
    # the second run starts while the first holds its rows in hand, not yet swapped in
    other = subprocess.run([*cli, str(tmp_path / "never"), "snapshot", "-p", str(root), "--as-of", d,
                            "loyal_small_basket"], capture_output=True, text=True, timeout=120)
    out, err = slow.communicate(timeout=120)
    assert slow.returncode == 0 and other.returncode == 0, (err, other.stderr)
    assert {k[0] for k in stored_local(root, d)} == {"loyal_big_basket", "loyal_small_basket"}


class SlowCommit(PostgresEngine):
    """A snapshot transaction that, having run its statements, waits before committing."""

    def __init__(self, dsn, started: threading.Event):
        super().__init__(dsn)
        self.started = started

    def execute_in_transaction(self, statements):
        with self.con.transaction(), self.con.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
            self.started.set()
            time.sleep(2)


def test_two_snapshots_at_one_as_of_in_postgres_do_not_duplicate(pg, tmp_path):
    name, d = "crm.two_writers", "2024-03-14"
    pg.snapshot(["loyal_big_basket"], as_of=d, table=name)
    once = stored_pg(pg, name, d)
    dsn = pg.engine.con.info.dsn
    started = threading.Event()
    first = segc.load_project(pg.root)
    first.use_engine(SlowCommit(dsn, started))
    errors = []

    def run():
        try:
            first.snapshot(["loyal_big_basket"], as_of=d, table=name)
        except Exception as e:  # reported below
            errors.append(e)

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(60)
    second = segc.load_project(pg.root)
    second.use_engine(PostgresEngine(dsn))
    second.snapshot(["loyal_big_basket"], as_of=d, table=name)  # while the first is not committed yet
    thread.join(60)
    assert not errors
    assert stored_pg(pg, name, d) == once  # each row once
    n, distinct = pg.engine.execute(f"SELECT COUNT(*), COUNT(DISTINCT key) FROM {name} WHERE as_of = DATE '{d}'")[0]
    assert n == distinct
    first.engine.close(), second.engine.close()


# ---- a folder of the store whose name is not a date (S1) ---------------------------------------

@pytest.mark.parametrize("name", ["as_of=2024-02-30", "as_of=0000-01-01", "as_of=soon"])
def test_a_partition_folder_that_is_not_a_date_is_e704_naming_it(tmp_path, name):
    root = small_copy(tmp_path / "shop")
    assert runner.invoke(app, ["snapshot", "-p", str(root), "--as-of", D, "loyal_target", "loyal_control"]).exit_code == 0
    stray = root / ".segc" / "snapshots" / name
    stray.mkdir()
    shutil.copy(root / ".segc" / "snapshots" / f"as_of={D}" / "part.parquet", stray / "part.parquet")
    for args in (["changes", "loyal_big_basket", "--as-of", "2024-07-01"],
                 ["snapshot", "loyal_big_basket", "--as-of", "2024-06-15"], ["lift", "spring_loyalty"]):
        result = runner.invoke(app, [*args, "-p", str(root)])
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert "error[E704]" in result.stderr and f"`.segc/snapshots/{name}`" in result.stderr
        assert "remove that folder, or rename it" in result.stderr


# ---- `--since last` is each definition's latest snapshot (C1) ---------------------------------

def test_since_last_is_each_definitions_own_latest_snapshot(tmp_path):
    root = small_copy(tmp_path / "shop")
    project = segc.load_project(root)
    project.snapshot(as_of="2024-05-01")  # everything
    project.snapshot(["quadrant", "loyal_big_basket"], as_of=D)  # a partial one, later
    last = project.changes(["rfm", "quadrant"], since="last", as_of="2024-07-01")
    assert last.since_by == {"rfm": "2024-05-01", "quadrant": D} and not last.warnings
    own = project.changes(["rfm"], since="2024-05-01", as_of="2024-07-01")
    assert sorted(r for r in last.rows if r[1] == "rfm") == sorted(own.rows) and own.rows
    assert got_changes(last) == got_changes(own) | got_changes(project.changes(["quadrant"], since=D, as_of="2024-07-01"))
    text = runner.invoke(app, ["changes", "rfm", "quadrant", "-p", str(root), "--as-of", "2024-07-01"])
    assert text.exit_code == 0 and "W770" not in text.output and "each definition's latest snapshot" in text.stdout
    # the SQL of `build -t changes` (over a table of the store's rows) gives the same rows
    con = project.duckdb()
    con.execute(f"CREATE OR REPLACE TABLE segc_snapshots AS SELECT * FROM read_parquet("
                f"'{root}/.segc/snapshots/as_of=*/part.parquet', hive_partitioning = false)")
    want = got_changes(project.changes(since="last"))
    assert want and template_rows(project, "duckdb", None, lambda sql: con.execute(sql).fetchall()) == want
    rfm = {r for r in want if r[0] == "rfm"}
    assert rfm and rfm != {r for r in want if r[0] == "rfm" and r[3] == "entered"}  # not the whole segment entered


# ---- --with repeated: every one kept, in order (S6) ---------------------------------------------

def test_with_repeated_keeps_every_column_in_order(tmp_path):
    root = small_copy(tmp_path / "shop")
    assert runner.invoke(app, ["snapshot", "loyal_big_basket", "-p", str(root), "--as-of", D]).exit_code == 0
    result = runner.invoke(app, ["changes", "loyal_big_basket", "-p", str(root), "--as-of", "2024-07-01", "--format",
                                 "csv", "--with", "email", "--with", "first_name", "--with", "age,country"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "customer_id,definition,branch,change,email,first_name,age,country"


# ---- a damaged partition: named, and replaced by a snapshot at its date (S3) -------------------

@pytest.mark.parametrize("damage", [b"garbage\n", b""])
def test_a_damaged_partition_is_named_and_a_snapshot_replaces_it(tmp_path, damage):
    root = small_copy(tmp_path / "shop")
    assert runner.invoke(app, ["snapshot", "-p", str(root), "--as-of", D, "loyal_big_basket", "quadrant"]).exit_code == 0
    shown = f".segc/snapshots/as_of={D}/part.parquet"
    (root / shown).write_bytes(damage)
    for since in (["--since", D], []):
        result = runner.invoke(app, ["changes", "loyal_big_basket", "-p", str(root), "--as-of", "2024-07-01", *since])
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert "error[E704]" in result.stderr and f"`{shown}`" in result.stderr
        assert f"segc snapshot --as-of {D}" in result.stderr
    again = runner.invoke(app, ["snapshot", "-p", str(root), "--as-of", D, "loyal_big_basket"])
    assert again.exit_code == 0, again.output
    assert "warning[W704]" in again.stderr and f"`{shown}`" in again.stderr
    assert set(stored_local(root)) == {("loyal_big_basket", None)}
    assert runner.invoke(app, ["changes", "loyal_big_basket", "-p", str(root), "--as-of", "2024-07-01"]).exit_code == 0


# ---- a definition stored empty is still recorded (S5) -----------------------------------------

def test_a_definition_with_no_member_is_recorded_with_its_hash(tmp_path):
    root = small_copy(tmp_path / "shop")
    (root / "segments" / "zz.seg").write_text("## Nobody yet\nsegment super_fans = purchases_365d > 500\n",
                                              encoding="utf-8")
    project = segc.load_project(root)
    stored = project.snapshot(["super_fans", "loyal_big_basket"], as_of=D)
    assert ("super_fans", None, 0) in stored.counts
    result = project.changes(["super_fans", "loyal_big_basket"], since="last", as_of="2024-07-01")
    assert not result.warnings and not [r for r in result.rows if r[1] == "super_fans"]
    assert all(r[0] is not None for r in result.rows)
    # an edit of the empty definition is seen (its hash was stored)
    (root / "segments" / "zz.seg").write_text("segment super_fans = purchases_365d > 400\n", encoding="utf-8")
    edited = segc.load_project(root).changes(["super_fans"], since="last", as_of="2024-07-01")
    assert [w.code for w in edited.warnings] == ["W770"] and "definition hash" in edited.warnings[0].message


def test_a_definition_with_no_member_is_recorded_in_a_postgres_table(pg_dsn, tmp_path):
    root = small_copy(tmp_path / "shop")
    (root / "segments" / "zz.seg").write_text("segment super_fans = purchases_365d > 500\n", encoding="utf-8")
    project = segc.load_project(root)
    engine = PostgresEngine(postgres_copy(pg_dsn, f"segc_empty_{os.getpid()}", project))
    project.use_engine(engine)
    try:
        stored = project.snapshot(["super_fans", "loyal_big_basket"], as_of=D, table="crm.empty_defs")
        assert ("super_fans", None, 0) in stored.counts
        result = project.changes(["super_fans", "loyal_big_basket"], since="last", as_of="2024-07-01",
                                 table="crm.empty_defs")
        assert not result.warnings and all(r[0] is not None for r in result.rows)
    finally:
        engine.close()


# ---- a whole segmentation's `last` is the latest snapshot that stored it whole (S4 x C1) --------

def whole_then_one_branch(project, table=None):
    """quadrant whole at 2024-05-01, then quadrant.frequent_big alone at D (later)."""
    store = {"table": table} if table else {}
    project.snapshot(["quadrant", "loyal_big_basket"], as_of="2024-05-01", **store)
    project.snapshot(["quadrant.frequent_big"], as_of=D, **store)
    last = project.changes(["quadrant"], since="last", as_of="2024-07-01", **store)
    assert last.since_by == {"quadrant": "2024-05-01"} and not last.warnings  # not D: it holds one branch only
    whole = project.changes(["quadrant"], since="2024-05-01", as_of="2024-07-01", **store)
    assert got_changes(last) == got_changes(whole)
    stored = {b: n for _d, b, n in project.snapshot(["quadrant"], as_of="2024-04-01", **store).counts}
    for branch in ("frequent_small", "occasional_big", "occasional_small"):  # not every member "entered"
        entered = [r for r in last.rows if r[2] == branch and r[3] == "entered"]
        assert len(entered) < stored[branch] / 2, branch
    # a branch alone: its own latest snapshot (D), alone or with the whole
    alone = project.changes(["quadrant.frequent_big"], since="last", as_of="2024-07-01", **store)
    assert alone.since_by == {"quadrant.frequent_big": D} and not alone.warnings
    both = project.changes(["quadrant", "quadrant.occasional_big"], since="last", as_of="2024-07-01", **store)
    assert both.since_by == {"quadrant": "2024-05-01", "quadrant.occasional_big": "2024-05-01"}
    assert got_changes(both) == got_changes(last)
    return last


def test_a_whole_segmentation_is_compared_with_its_latest_whole_snapshot_locally(tmp_path):
    root = small_copy(tmp_path / "shop")
    project = segc.load_project(root)
    last = whole_then_one_branch(project)
    text = runner.invoke(app, ["changes", "quadrant", "-p", str(root), "--as-of", "2024-07-01"])
    assert text.exit_code == 0 and "W770" not in text.output and "2024-05-01" in text.stdout
    # the SQL of `build -t changes` over a table of the store's rows agrees
    con = project.duckdb()
    con.execute(f"CREATE OR REPLACE TABLE segc_snapshots AS SELECT * FROM read_parquet("
                f"'{root}/.segc/snapshots/as_of=*/part.parquet', hive_partitioning = false)")
    want = got_changes(project.changes(["quadrant", "loyal_big_basket"], since="last", as_of="2024-07-01"))
    assert got_changes(last) <= want
    built = template_rows(project, "duckdb", None, lambda sql: con.execute(sql).fetchall())
    assert {r for r in built if r[0] in ("quadrant", "loyal_big_basket")} == want


def test_a_whole_segmentation_is_compared_with_its_latest_whole_snapshot_in_postgres(pg_dsn, tmp_path):
    root = small_copy(tmp_path / "shop")
    project = segc.load_project(root)
    engine = PostgresEngine(postgres_copy(pg_dsn, f"segc_whole_{os.getpid()}", project))
    project.use_engine(engine)
    try:
        whole_then_one_branch(project, table="crm.segc_snapshots")
        want = got_changes(project.changes(["quadrant", "loyal_big_basket"], since="last", as_of="2024-07-01",
                                           table="crm.segc_snapshots"))
        built = template_rows(project, "postgres", "crm", project.engine.execute)
        assert {r for r in built if r[0] in ("quadrant", "loyal_big_basket")} == want
    finally:
        engine.close()


def test_a_segmentation_only_ever_stored_by_branch_is_w770_naming_it(tmp_path):
    root = small_copy(tmp_path / "shop")
    project = segc.load_project(root)
    project.snapshot(["quadrant.frequent_big"], as_of=D)
    last = project.changes(["quadrant"], since="last", as_of="2024-07-01")
    assert [w.code for w in last.warnings] == ["W770"] and "not stored whole" in last.warnings[0].message
    assert "segc snapshot quadrant" in last.warnings[0].hints[0]


# ---- a store written before the whole mark (segc before it): its whole dates still count ----------

def strip_marks(project, d, table=None):
    """The snapshot of `d` as a segc without WHOLE_MARK wrote it: no NULL-key, NULL-branch row."""
    mark = "key IS NULL AND branch IS NULL"
    if table:
        project.engine.execute_in_transaction([f"DELETE FROM {table} WHERE as_of = DATE '{d}' AND {mark}"])
        return
    part = project.root / ".segc" / "snapshots" / f"as_of={d}" / "part.parquet"
    con = duckdb.connect()
    con.execute(f"CREATE TABLE kept AS SELECT * FROM read_parquet('{part}') WHERE NOT ({mark})")
    con.execute(f"COPY kept TO '{part}' (FORMAT parquet)")
    con.close()


def legacy_then_new(project, table=None):
    """quadrant whole at 2024-04-01 (today's segc: marked), whole at 2024-05-01 by an older
    segc (no mark), then quadrant.frequent_big alone at D: `last` of the whole is 2024-05-01
    (its rows carry the whole's hash), not D (one branch) nor 2024-04-01 (the only mark)."""
    store = {"table": table} if table else {}
    project.snapshot(["quadrant", "loyal_big_basket"], as_of="2024-04-01", **store)
    project.snapshot(["quadrant", "loyal_big_basket"], as_of="2024-05-01", **store)
    strip_marks(project, "2024-05-01", table)
    project.snapshot(["quadrant.frequent_big"], as_of=D, **store)
    last = project.changes(["quadrant"], since="last", as_of="2024-07-01", **store)
    assert last.since_by == {"quadrant": "2024-05-01"} and not last.warnings
    assert got_changes(last) == got_changes(project.changes(["quadrant"], since="2024-05-01", as_of="2024-07-01",
                                                            **store))
    alone = project.changes(["quadrant.frequent_big"], since="last", as_of="2024-07-01", **store)
    assert alone.since_by == {"quadrant.frequent_big": D} and not alone.warnings


def test_a_store_written_before_the_whole_mark_keeps_its_whole_dates_locally(tmp_path):
    root = small_copy(tmp_path / "shop")
    project = segc.load_project(root)
    legacy_then_new(project)
    con = project.duckdb()  # build -t changes agrees
    con.execute(f"CREATE OR REPLACE TABLE segc_snapshots AS SELECT * FROM read_parquet("
                f"'{root}/.segc/snapshots/as_of=*/part.parquet', hive_partitioning = false)")
    want = got_changes(project.changes(["quadrant", "loyal_big_basket"], since="last", as_of="2024-07-01"))
    built = template_rows(project, "duckdb", None, lambda sql: con.execute(sql).fetchall())
    assert {r for r in built if r[0] in ("quadrant", "loyal_big_basket")} == want


def test_a_store_written_before_the_whole_mark_keeps_its_whole_dates_in_postgres(pg_dsn, tmp_path):
    root = small_copy(tmp_path / "shop")
    project = segc.load_project(root)
    engine = PostgresEngine(postgres_copy(pg_dsn, f"segc_legacy_{os.getpid()}", project))
    project.use_engine(engine)
    try:
        legacy_then_new(project, table="crm.segc_snapshots")
        want = got_changes(project.changes(["quadrant", "loyal_big_basket"], since="last", as_of="2024-07-01",
                                           table="crm.segc_snapshots"))
        built = template_rows(project, "postgres", "crm", project.engine.execute)
        assert {r for r in built if r[0] in ("quadrant", "loyal_big_basket")} == want
    finally:
        engine.close()


def test_w770_of_a_whole_segmentation_says_what_happened(tmp_path):
    """Stored whole by a segc without the mark, then edited: W770 says it changed (not
    'only branches stored alone'); with --since DATE, not 'nor in an earlier one'."""
    root = small_copy(tmp_path / "shop")
    project = segc.load_project(root)
    project.snapshot(["quadrant"], as_of="2024-05-01")
    strip_marks(project, "2024-05-01")
    project.snapshot(["quadrant.frequent_big"], as_of=D)
    seg = root / "segments" / "rfm.seg"
    seg.write_text(seg.read_text().replace("frequent_small   = purchases_365d >= 5", "frequent_small   = purchases_365d >= 6"))
    edited = segc.load_project(root).changes(["quadrant"], since="2024-05-01", as_of="2024-07-01")
    assert [w.code for w in edited.warnings] == ["W770"] and "definition hash" in edited.warnings[0].message
    one_branch = segc.load_project(root).changes(["quadrant"], since=D, as_of="2024-07-01")
    assert [w.code for w in one_branch.warnings] == ["W770"], one_branch.warnings
    assert "not stored whole" in one_branch.warnings[0].message and "earlier" not in one_branch.warnings[0].message


def test_a_definition_named_twice_or_a_branch_beside_its_whole_is_stored_once(local):
    project = segc.load_project(local)
    d = "2024-03-15"
    once = project.snapshot(["quadrant", "loyal_big_basket"], as_of=d)
    twice = project.snapshot(["quadrant", "quadrant.frequent_big", "loyal_big_basket", "loyal_big_basket"], as_of=d)
    assert twice.counts == once.counts  # each (definition, branch) once, its members counted once
    part = local / ".segc" / "snapshots" / f"as_of={d}" / "part.parquet"
    n, distinct = duckdb.execute(f"SELECT COUNT(*), COUNT(DISTINCT (key, definition, branch)) FROM "
                                 f"read_parquet('{part}') WHERE key IS NOT NULL").fetchone()
    assert n == distinct == sum(c for *_x, c in once.counts)
