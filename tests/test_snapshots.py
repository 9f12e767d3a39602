"""`segc snapshot` and `segc changes` (DESIGN §8.2) on DuckDB (the local parquet store) and
PostgreSQL (a warehouse table): snapshot at D1, change the data (new orders, attributes
overwritten, customers deleted), snapshot at D2; `changes --since D1` must be the set
differences of the memberships, computed here from `segc compile`'s queries (select;
`--form label` for segmentations) run on the engine before and after the change.
Re-running an as-of replaces it; a snapshot killed mid-write leaves the store as it was.
A small copy of the example (customers 1..2000) keeps it quick."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from segc.front.errors import SegcError
from segc.run.postgres_engine import PostgresEngine
from tests.conftest import EXAMPLE, drop_experiments
from tests.test_engines_parity import postgres_copy

D1, D2 = "2024-06-01", "2024-07-01"
runner = CliRunner()
# the data changes between the snapshots, the same SQL on DuckDB and PostgreSQL
MUTATIONS = [
    # new completed orders (one per customer ending in 3, after D1, before D2)
    "INSERT INTO {orders} SELECT o.order_id + 100000000, o.customer_id, TIMESTAMP '2024-06-20 10:00:00', 950.0, "
    "o.category, 'completed', o.store FROM {orders} o WHERE o.customer_id % 10 = 3 "
    "AND o.order_id IN (SELECT MIN(order_id) FROM {orders} GROUP BY customer_id)",
    "UPDATE {customers} SET country = 'DE' WHERE customer_id % 7 = 0",  # attributes overwritten
    "UPDATE {customers} SET age = 70 WHERE customer_id % 11 = 0",
    "DELETE FROM {customers} WHERE customer_id % 50 = 0",  # customers deleted
]
TABLES = {"customers": "shop.customers", "orders": "shop.orders", "carts": "shop.carts"}


def small_copy(folder: Path) -> Path:
    """The example with customers 1..2000 (and their orders and carts)."""
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(".segc", "build"))
    for name in TABLES:
        path = folder / "data" / f"{name}.parquet"
        duckdb.execute(f"COPY (SELECT * FROM read_parquet('{EXAMPLE / 'data' / f'{name}.parquet'}') "
                       f"WHERE customer_id <= 2000) TO '{path}' (FORMAT parquet)")
    return folder


def mutate_files(root: Path) -> None:
    con = duckdb.connect()
    for name in TABLES:
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{root / 'data' / f'{name}.parquet'}')")
    for statement in MUTATIONS:
        con.execute(statement.format(**{n: n for n in TABLES}))
    for name in TABLES:
        con.execute(f"COPY {name} TO '{root / 'data' / f'{name}.parquet'}' (FORMAT parquet)")
    con.close()


def memberships(project: segc.Project, dialect: str, as_of: str) -> set[tuple]:
    """(definition, branch, key) of every segment and segmentation, from `segc compile`."""
    out = set()
    for name in list(project.checked.segmentations) + [
            n for n in project.checked.segments if n.partition(".")[0] not in project.checked.segmentations]:
        rows = project.engine.execute(project.compile(name, dialect=dialect, as_of=as_of, pretty=False))
        whole = name in project.checked.segmentations
        out |= {(name, r[1] if whole else None, r[0]) for r in rows}
    return out


def expected_changes(before: set, after: set) -> set[tuple]:
    return {(d, b, k, "entered") for d, b, k in after - before} | {(d, b, k, "exited") for d, b, k in before - after}


def got_changes(result) -> set[tuple]:
    assert result.columns[:4] == ["customer_id", "definition", "branch", "change"]
    rows = [(d, b, k, c) for k, d, b, c, *_ in result.rows]
    assert len(rows) == len(set(rows))
    return set(rows)


# ---- DuckDB, the local store ------------------------------------------------------------------

@pytest.fixture(scope="module")
def duck_run(tmp_path_factory):
    """Snapshot at D1, D2 before the change (expected: nothing changes since D2), the data
    changed, then `changes --since D1` as of D2 (via the CLI, json)."""
    root = small_copy(tmp_path_factory.mktemp("duck") / "shop")
    project = segc.load_project(root)
    before = memberships(project, "duckdb", D1)
    assert runner.invoke(app, ["snapshot", "-p", str(root), "--as-of", D1]).exit_code == 0
    mutate_files(root)
    project = segc.load_project(root)
    after = memberships(project, "duckdb", D2)
    result = runner.invoke(app, ["changes", "-p", str(root), "--since", D1, "--as-of", D2, "--format", "json",
                                 "--with", "country,age"])
    assert result.exit_code == 0, result.output
    return root, project, before, after, json.loads(result.stdout)


def test_changes_are_the_set_differences_on_duckdb(duck_run):
    root, project, before, after, data = duck_run
    got = {(r["definition"], r["branch"], r["customer_id"], r["change"]) for r in data["rows"]}
    want = expected_changes(before, after)
    assert got == want and len(got) == len(data["rows"])
    # every kind of change is there: segments and branches, both ways, moves between branches
    assert {c for *_x, c in got} == {"entered", "exited"} and any(b for _d, b, _k, _c in got)
    moved = {(d, k) for d, b, k, c in got if b and c == "entered"} & {(d, k) for d, b, k, c in got if b and c == "exited"}
    assert moved
    counts = {c["definition"]: (c["entered"], c["exited"]) for c in data["counts"]}
    assert sum(e + x for e, x in counts.values()) == len(got)
    # the snapshot at D2 stores the membership after the change; D1's is kept as it was
    assert runner.invoke(app, ["snapshot", "-p", str(root), "--as-of", D2]).exit_code == 0
    stored = f"{root}/.segc/snapshots/as_of=%s/part.parquet"
    for d, want_rows in ((D1, before), (D2, after)):
        rows = duckdb.execute(f"SELECT definition, branch, key, as_of FROM read_parquet('{stored % d}') "
                              "WHERE key IS NOT NULL").fetchall()  # not the segmentations' whole marks
        assert {r[:3] for r in rows} == want_rows and len(rows) == len(want_rows)
        assert {str(r[3]) for r in rows} == {d}


def test_the_payload_is_read_at_the_new_as_of_also_for_exited_members(duck_run):
    root, project, before, after, data = duck_run
    con = duckdb.connect()
    now = dict(con.execute(f"SELECT customer_id, country FROM read_parquet('{root / 'data' / 'customers.parquet'}')")
               .fetchall())
    exited = [r for r in data["rows"] if r["change"] == "exited"]
    assert exited and all(r["country"] == now.get(r["customer_id"]) for r in data["rows"] if r["customer_id"] in now
                          and r["country"] is not None)
    deleted = [r for r in data["rows"] if r["customer_id"] % 50 == 0]
    assert deleted and all(r["change"] == "exited" and r["country"] is None for r in deleted)
    assert any(r["country"] == "DE" and r["customer_id"] % 7 == 0 for r in exited)  # overwritten since D1


def test_rerunning_an_as_of_replaces_it(duck_run, tmp_path):
    root, project, *_ = duck_run
    once = project.snapshot(as_of=D2)
    again = project.snapshot(as_of=D2)
    assert once.counts == again.counts
    part = root / ".segc" / "snapshots" / f"as_of={D2}" / "part.parquet"
    n, distinct = duckdb.execute(f"SELECT COUNT(*), COUNT(DISTINCT (key, definition, branch)) FROM "
                                 f"read_parquet('{part}') WHERE key IS NOT NULL").fetchone()
    assert n == distinct == sum(c for *_x, c in once.counts)
    # a snapshot of one definition replaces its rows only
    project.snapshot(["loyal_big_basket"], as_of=D2)
    assert duckdb.execute(f"SELECT COUNT(*) FROM read_parquet('{part}') WHERE key IS NOT NULL").fetchone()[0] == n
    assert project.changes(since=D2, as_of=D2).rows == []  # nothing changed since


def test_since_last_is_the_latest_snapshot_before_the_as_of(duck_run):
    root, project, *_ = duck_run
    assert project.changes(["quadrant"], since="last", as_of=D2).since == D1
    with pytest.raises(SegcError) as e:
        project.changes(since="last", as_of=D1)
    assert e.value.diagnostics[0].code == "E770" and "segc snapshot" in e.value.diagnostics[0].hints[0]
    result = runner.invoke(app, ["changes", "-p", str(root), "--since", "2020-01-01"])
    assert result.exit_code == 1 and "error[E770]" in result.stderr and "Traceback" not in result.output


def test_changes_api_gives_dataframe_friendly_forms(duck_run):
    root, project, *_ = duck_run
    result = project.changes(["loyal_big_basket"], since=D1, as_of=D2, with_=["email", "country"])
    records, columns = result.records(), result.column_dict()
    # --with's order; email is a column of the base (segc.yml `columns:`), country a feature
    assert list(columns) == result.columns == ["customer_id", "definition", "branch", "change", "email", "country"]
    assert len(records) == len(result.rows) == len(columns["customer_id"])
    emails = dict(duckdb.execute(f"SELECT customer_id, email FROM read_parquet('{root / 'data' / 'customers.parquet'}')")
                  .fetchall())
    assert records and all(r["email"] == emails.get(r["customer_id"]) for r in records)


def test_with_sensitive_or_unknown_columns_is_refused_without_values(duck_run):
    root, *_ = duck_run
    result = runner.invoke(app, ["changes", "loyal_big_basket", "-p", str(root), "--since", D1,
                                 "--with", "religion,emal"])
    assert result.exit_code == 1
    assert "error[E501]" in result.stderr and "error[E772]" in result.stderr and "Traceback" not in result.output


KILLED_AT = '''
import os, signal, sys
import segc.front.files as files

AT = sys.argv[1]

def step(name):  # SIGKILL: no cleanup, as a cancelled CI job or the OOM killer
    if name == AT:
        os.kill(os.getpid(), signal.SIGKILL)

files._step = step
from segc.cli.main import main
sys.argv = ["segc", *sys.argv[2:]]
main()
'''


@pytest.mark.parametrize("step", ["writing", "before-swap", "old-moved"])
def test_a_snapshot_killed_mid_write_leaves_the_store_unchanged(duck_run, step):
    root, project, before, *_ = duck_run
    store = root / ".segc" / "snapshots"
    # D1 holds the membership before the data changed: a new snapshot of D1 would differ
    files = {p.relative_to(store).as_posix(): p.read_bytes() for p in store.glob("as_of=*/part.parquet")}
    killed = subprocess.run([sys.executable, "-c", KILLED_AT, step, "snapshot", "-p", str(root), "--as-of", D1],
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # a reader puts back a partition whose swap was killed half-way, and sees the store as it was
    again = segc.load_project(root)
    assert again.changes(["loyal_big_basket"], since=D1, as_of=D2).since == D1
    assert {p.relative_to(store).as_posix(): p.read_bytes() for p in store.glob("as_of=*/part.parquet")} == files
    stored = duckdb.execute(f"SELECT definition, branch, key FROM read_parquet('{store}/as_of={D1}/part.parquet') "
                            "WHERE key IS NOT NULL")  # the members (not a segmentation's whole mark)
    assert set(stored.fetchall()) == before


# ---- PostgreSQL, a warehouse table ------------------------------------------------------------

@pytest.fixture(scope="module")
def pg_run(pg_dsn, tmp_path_factory):
    root = small_copy(tmp_path_factory.mktemp("pg") / "shop")
    database = f"segc_snap_{os.getpid()}"
    project = segc.load_project(root)
    dsn = postgres_copy(pg_dsn, database, project)
    engine = PostgresEngine(dsn)
    project.use_engine(engine)
    before = memberships(project, "postgres", D1)
    project.snapshot(as_of=D1, table="crm.segc_snapshots")
    for statement in MUTATIONS:
        engine.execute_in_transaction([statement.format(**TABLES)])
    after = memberships(project, "postgres", D2)
    yield root, project, dsn, before, after
    engine.close()


def test_changes_are_the_set_differences_on_postgres(pg_run):
    root, project, dsn, before, after = pg_run
    result = project.changes(since=D1, as_of=D2, with_=["country"], table="crm.segc_snapshots")
    assert got_changes(result) == expected_changes(before, after)
    stored = project.engine.execute(f"SELECT definition, branch, key FROM crm.segc_snapshots WHERE as_of = DATE '{D1}' "
                                    "AND key IS NOT NULL")
    assert set(stored) == before and len(stored) == len(before)


def test_postgres_snapshot_replaces_its_as_of_in_one_table(pg_run):
    root, project, dsn, before, after = pg_run
    first = project.snapshot(as_of=D2, table="crm.segc_snapshots")
    again = runner.invoke(app, ["snapshot", "-p", str(root), "--as-of", D2, "--engine", "postgres", "--dsn", dsn,
                                "--table", "crm.segc_snapshots", "--format", "json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["definitions"] == first.to_dict()["definitions"]
    n, distinct = project.engine.execute("SELECT COUNT(*), COUNT(DISTINCT (key, definition, branch)) "
                                         f"FROM crm.segc_snapshots WHERE as_of = DATE '{D2}' AND key IS NOT NULL")[0]
    assert n == distinct == sum(c for *_x, c in first.counts)
    stored = project.engine.execute(f"SELECT definition, branch, key FROM crm.segc_snapshots WHERE as_of = DATE '{D2}' "
                                    "AND key IS NOT NULL")
    assert set(stored) == after
    assert project.changes(since="last", as_of=D2, table="crm.segc_snapshots").since == D1


def test_the_store_must_fit_the_engine(pg_run):
    root, project, dsn, *_ = pg_run
    with pytest.raises(SegcError) as e:
        project.snapshot(as_of=D2)  # postgres without --table
    assert e.value.diagnostics[0].code == "E771"
    with pytest.raises(SegcError) as e:
        segc.load_project(root).snapshot(as_of=D2, table="crm.x")  # --table on DuckDB
    assert e.value.diagnostics[0].code == "E771"
    with pytest.raises(SegcError) as e:
        project.snapshot(as_of=D2, table="crm.x; DROP TABLE y")
    assert e.value.diagnostics[0].code == "E771"


# ---- segc build --template changes: the same rows, computed in the warehouse --------------------

GOLDEN = Path(__file__).resolve().parent / "golden_changes"
UPDATE = os.environ.get("SEGC_UPDATE_GOLDEN") == "1"
GOLDEN_NAMES = ["loyal_big_basket", "quadrant", "value_tier"]  # a segment; segmentations without and with else


def template_rows(project, dialect: str, schema: str | None, run) -> set[tuple]:
    from segc.apps.build import render_build

    files, _manifest = render_build(project, "changes", dialect, schema=schema)
    out = set()
    for rel, data in files.items():
        if rel.endswith(".sql"):
            body = "\n".join(ln for ln in data.decode().splitlines() if not ln.startswith("--")).strip().rstrip(";")
            rows = run(body)
            assert len(rows) == len(set(rows))
            out |= {(d, b, k, c) for k, d, b, c in rows}
    return out


def test_template_changes_gives_the_rows_of_segc_changes_on_duckdb(duck_run):
    root, project, *_ = duck_run
    con = project.duckdb()
    con.execute(f"CREATE OR REPLACE TABLE segc_snapshots AS SELECT * FROM read_parquet("
                f"'{root}/.segc/snapshots/as_of=*/part.parquet', hive_partitioning = false)")
    want = got_changes(project.changes(since="last"))
    assert want and template_rows(project, "duckdb", None, lambda sql: con.execute(sql).fetchall()) == want


def test_template_changes_gives_the_rows_of_segc_changes_on_postgres(pg_run):
    root, project, *_ = pg_run
    want = got_changes(project.changes(since="last", table="crm.segc_snapshots"))
    assert want and template_rows(project, "postgres", "crm", project.engine.execute) == want


@pytest.mark.parametrize("dialect", ["duckdb", "sqlite", "postgres", "mysql", "snowflake", "bigquery", "redshift",
                                     "trino", "databricks", "spark", "tsql"])
def test_template_changes_golden_in_every_dialect(dialect):
    import sqlglot

    from segc.apps.build import render_build

    files, _manifest = render_build(segc.load_project(EXAMPLE), "changes", dialect, schema="crm", names=GOLDEN_NAMES)
    for name in GOLDEN_NAMES:
        got = files[f"{name}.sql"].decode()
        assert [s for s in sqlglot.parse(got, read=dialect) if s is not None]
        golden = GOLDEN / dialect / f"{name}.sql"
        if UPDATE:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(got, encoding="utf-8")
        assert golden.read_text(encoding="utf-8") == got, f"{golden} differs (SEGC_UPDATE_GOLDEN=1 to accept)"


def test_readme_activation_examples_run(tmp_path, monkeypatch):
    """The README's "Activation" console lines, on a copy of the example (they write its store)."""
    import shlex

    text = (EXAMPLE.parent.parent / "README.md").read_text(encoding="utf-8")
    section = text.split("### Activation: snapshots and changes", 1)[1].split("\n### ", 1)[0]
    console = section.split("```console", 1)[1].split("```", 1)[0]
    lines = [ln[2:] for ln in console.splitlines() if ln.startswith("$ segc ")]
    assert any(ln.startswith("segc snapshot") for ln in lines) and any(ln.startswith("segc changes") for ln in lines)
    shutil.copytree(EXAMPLE, tmp_path / "examples" / "retail", ignore=shutil.ignore_patterns(".segc", "build"))
    monkeypatch.chdir(tmp_path)
    outputs = [runner.invoke(app, shlex.split(line, comments=True)[1:]) for line in lines]
    assert all(r.exit_code == 0 for r in outputs), [r.output for r in outputs]
    shown = [ln for ln in console.splitlines() if ln and not ln.startswith(("$", "..."))]
    assert outputs[-1].stdout.splitlines()[:len(shown)] == shown  # the rows the README shows
    # the Python block, on the same copy (its comments show the first keys)
    code = section.split("```python", 1)[1].split("```", 1)[0]
    scope = {"project": segc.load_project(tmp_path / "examples" / "retail")}
    exec(code, scope)
    assert scope["project"].members("loyal_big_basket")[:3] == [1, 13, 46]
    assert scope["project"].members("quadrant")[:2] == [(1, "frequent_big"), (2, "occasional_small")]
    assert scope["changes"].since == "2024-06-30" and scope["records"]


def test_changes_out_writes_a_file_and_replaces_only_its_own(duck_run, tmp_path):
    root, *_ = duck_run
    out = tmp_path / "changes.csv"
    args = ["changes", "loyal_big_basket", "-p", str(root), "--since", D1, "--with", "country", "--format", "csv"]
    first = runner.invoke(app, [*args, "--out", str(out)])
    assert first.exit_code == 0, first.output
    printed = runner.invoke(app, args).stdout
    assert out.read_text(encoding="utf-8") == printed and printed.startswith("customer_id,definition,branch,change,country\n")
    assert runner.invoke(app, [*args, "--out", str(out)]).exit_code == 0  # its own file: replaced
    other = tmp_path / "notes.csv"
    other.write_text("my notes\n", encoding="utf-8")
    refused = runner.invoke(app, [*args, "--out", str(other)])
    assert refused.exit_code == 1 and "error[E822]" in refused.stderr
    assert other.read_text(encoding="utf-8") == "my notes\n"
    counts = runner.invoke(app, ["changes", "loyal_big_basket", "-p", str(root), "--since", D1, "--format", "table"])
    assert counts.exit_code == 0 and "loyal_big_basket" in counts.stdout and "entered" in counts.stdout


def test_a_definition_edited_since_the_snapshot_is_w770(tmp_path):
    root = small_copy(tmp_path / "shop")
    project = segc.load_project(root)
    project.snapshot(["loyal_big_basket", "quadrant", "at_risk"], as_of=D1)
    assert project.changes(["loyal_big_basket", "quadrant.frequent_big", "at_risk"], since=D1).warnings == ()
    rfm = root / "segments" / "rfm.seg"
    rfm.write_text(rfm.read_text(encoding="utf-8").replace("purchases_365d >= 5 and basket_avg > $min_basket",
                                                           "purchases_365d >= 6 and basket_avg > $min_basket"),
                   encoding="utf-8")
    edited = segc.load_project(root).changes(["loyal_big_basket", "at_risk", "inactive_6m"], since=D1)
    # at_risk uses loyal_big_basket: its hash (its compiled SQL) changed too
    assert [d.code for d in edited.warnings] == ["W770"] * 3, edited.warnings
    assert "`loyal_big_basket` changed since" in edited.warnings[0].message
    assert "`at_risk` changed since" in edited.warnings[1].message
    assert "`inactive_6m` is not in the snapshot" in edited.warnings[2].message
    result = runner.invoke(app, ["changes", "loyal_big_basket", "-p", str(root), "--since", D1, "--format", "csv"])
    assert result.exit_code == 0 and "warning[W770]" in result.stderr and "W770" not in result.stdout


def test_a_project_without_segments_is_e211_not_a_traceback(tmp_path):
    root = small_copy(tmp_path / "shop")
    for f in (root / "segments").glob("*.seg"):
        f.unlink()
    drop_experiments(root)
    for command in (["snapshot"], ["changes"]):
        result = runner.invoke(app, [*command, "-p", str(root)])
        assert result.exit_code == 1 and "error[E211]" in result.stderr, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_snapshot_lists_every_branch_also_an_empty_one(duck_run):
    root, project, *_ = duck_run
    result = project.snapshot(["quadrant", "loyal_big_basket"], as_of="2000-01-01")  # before any order
    branches = [b for b, _p in project.checked.segmentations["quadrant"].branches]
    assert result.counts == [("quadrant", b, 0) for b in branches] + [("loyal_big_basket", None, 0)]


def test_a_sensitive_with_is_one_E501_naming_the_definitions(tmp_path):
    """`segc changes --with religion` gave one identical E501 per definition (37, 112
    lines): one per name now, naming a few definitions and how many more."""
    root = small_copy(tmp_path / "shop")
    every = runner.invoke(app, ["changes", "-p", str(root), "--with", "religion", "--format", "csv"])
    assert every.exit_code == 1 and every.stderr.count("error[E501]") == 1, every.stderr
    assert "--with `religion`: sensitive data that none of the " in every.stderr and "1 error" in every.stderr
    (root / "segments" / "faith.seg").write_text('@allow_sensitive("consent")\nsegment devout = religion = "x"\n',
                                                 encoding="utf-8")
    names = ["devout", "loyal_big_basket", "at_risk", "big_basket_90d", "shoe_fans", "young_urban_fr"]
    some = runner.invoke(app, ["changes", *names, "-p", str(root), "--with", "religion,age"])
    assert some.exit_code == 1 and some.stderr.count("error[E501]") == 1, some.stderr
    assert ("--with `religion`: sensitive data that `loyal_big_basket`, `at_risk`, `big_basket_90d` and 2 more "
            "do not use with @allow_sensitive") in some.stderr, some.stderr
    one = runner.invoke(app, ["changes", "at_risk", "devout", "-p", str(root), "--with", "religion"])
    assert "--with `religion`: sensitive data that `at_risk` does not use with @allow_sensitive" in one.stderr


def test_snapshot_then_changes_in_a_pinned_project_is_told_the_day_before(tmp_path):
    """`segc snapshot && segc changes` with `as_of:` pinned: E770's hint told the user to
    take the snapshot just taken. The one at the as-of is not before it: the hint says so
    and gives the day before."""
    root = small_copy(tmp_path / "shop")  # as_of: 2024-07-01 in segc.yml
    first = runner.invoke(app, ["changes", "-p", str(root)])
    assert first.exit_code == 1 and "e.g. `segc snapshot --as-of 2024-06-30`" in first.stderr, first.stderr
    assert runner.invoke(app, ["snapshot", "-p", str(root)]).exit_code == 0
    result = runner.invoke(app, ["changes", "-p", str(root)])
    assert result.exit_code == 1 and "error[E770]: no snapshot before 2024-07-01" in result.stderr
    assert "the snapshot at 2024-07-01 is the as-of itself, not one before it" in result.stderr, result.stderr
    assert "`segc snapshot --as-of 2024-06-30`" in result.stderr
    assert runner.invoke(app, ["snapshot", "-p", str(root), "--as-of", "2024-06-30"]).exit_code == 0
    assert runner.invoke(app, ["changes", "-p", str(root)]).exit_code == 0


def test_the_changes_file_names_the_store_as_segc_snapshot_takes_it():
    """`--table` takes schema.table (E771 for more): with a database in --schema the
    comment names the table to write without it, and says where to connect."""
    from segc.apps.build import render_build
    from segc.run.snapshots import TABLE_NAME

    for schema, store, connect in (("crm", "crm.segc_snapshots", False), ("shop.crm", "crm.segc_snapshots", True)):
        files, _ = render_build(segc.load_project(EXAMPLE), "changes", "tsql", schema=schema, names=["rfm"])
        comment = next(line for line in files["rfm.sql"].decode().splitlines() if "segc snapshot --table" in line)
        written = comment.split("--table ")[1].split("`")[0]
        assert written == store and TABLE_NAME.match(written), comment
        assert ("connected to that database" in comment) == connect, comment
