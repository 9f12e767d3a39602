"""`segc build -t view|table|dbt`: a definition (or --schema part) longer than the dialect
keeps is refused (E827 / E826). PostgreSQL cuts a name at 63 bytes with a mere NOTICE, so two
segments sharing their first 63 characters were one table: the second file's DROP removed
the first one's table (s12C F1). Executed on a throwaway PostgreSQL: a name of exactly 63
characters is kept as written.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import psycopg
import pytest

import segc
from segc.apps.build import render_build
from tests.conftest import EXAMPLE
from tests.test_engines_parity import postgres_copy

LONG = "a" * 190


@pytest.fixture
def long_names(tmp_path) -> Path:
    root = tmp_path / "retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("generate.py", "build"))
    (root / "segments" / "long.seg").write_text(
        f"segment {LONG}_one = age > 30\nsegment {LONG}_two = age <= 30\nsegment {'b' * 63} = age > 40\n",
        encoding="utf-8")
    return root


@pytest.mark.parametrize("template", ["view", "table", "dbt"])
@pytest.mark.parametrize("dialect, limit, unit", [("postgres", 63, "bytes"), ("redshift", 127, "bytes"),
                                                  ("mysql", 64, "characters"), ("tsql", 128, "characters")])
def test_a_name_longer_than_the_dialect_keeps_is_refused(long_names, template, dialect, limit, unit):
    project = segc.load_project(long_names)
    with pytest.raises(segc.SegcError) as e:
        render_build(project, template, dialect, names=[f"{LONG}_one", f"{LONG}_two"])
    assert [d.code for d in e.value.diagnostics] == ["E827", "E827"]
    d = e.value.diagnostics[0]
    assert f"at most {limit} {unit}" in d.message and d.hints
    assert d.message.startswith(f"`{LONG}_one`: ") and d.span is not None  # located at the definition


@pytest.mark.parametrize("template", ["select", "members"])
def test_templates_that_name_no_table_take_any_length(long_names, template):
    project = segc.load_project(long_names)
    files, _ = render_build(project, template, "postgres", names=[f"{LONG}_one", f"{LONG}_two"])
    assert len(files) == 3  # two definitions and the manifest


def test_no_limit_on_duckdb(long_names):
    files, _ = render_build(segc.load_project(long_names), "table", "duckdb", names=[f"{LONG}_one"])
    assert len(files) == 2


@pytest.mark.parametrize("schema", ["s" * 64, "db." + "é" * 32])
def test_a_schema_part_longer_than_postgres_keeps_is_refused(long_names, schema):
    with pytest.raises(segc.SegcError) as e:
        render_build(segc.load_project(long_names), "table", "postgres", schema=schema, names=["at_risk"])
    (d,) = e.value.diagnostics
    assert d.code == "E826" and "at most 63 bytes" in d.message


def test_a_63_character_name_is_kept_on_postgres(long_names, pg_dsn):
    project = segc.load_project(long_names)
    name = "b" * 63
    files, _ = render_build(project, "table", "postgres", schema="segs", names=[name])
    dsn = postgres_copy(pg_dsn, f"segc_names_{os.getpid()}", project)
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("CREATE SCHEMA segs")
        con.execute(files[f"{name}.sql"].decode("utf-8"))
        tables = con.execute("SELECT table_name::text FROM information_schema.tables "
                             "WHERE table_schema = 'segs'").fetchall()
        assert tables == [(name,)]
        (n,) = con.execute(f'SELECT count(*) FROM segs."{name}"').fetchone()
    assert n == next(s.count for s in project.count([name]).segments)


@pytest.mark.parametrize("name", ["crm." + "t" * 64, "t" * 64 + ".snaps", "crm." + "t" * 70 + "_other"])
def test_a_snapshot_table_name_longer_than_postgres_keeps_is_refused(name):
    """`--table crm.<70 letters>` and `crm.<70 letters>_other` were one PostgreSQL table
    (cut at 63 bytes): each snapshot and changes read the other's rows (s12C F8)."""
    from segc.run.snapshots import TableStore

    with pytest.raises(segc.SegcError) as e:
        TableStore(segc.load_project(EXAMPLE), name)
    (d,) = e.value.diagnostics
    assert d.code == "E771" and "at most 63 bytes" in d.message


def test_a_63_byte_snapshot_table_name_is_taken():
    from segc.run.snapshots import TableStore

    store = TableStore(segc.load_project(EXAMPLE), "c" * 63 + "." + "t" * 63)
    assert store.name.endswith("t" * 63)
