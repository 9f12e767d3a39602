"""segc.run.memory, the loader `segc test` and the test harness share: every segc type
reads back as stored (NULLs, hostile strings and column names, schemas) on DuckDB,
SQLite and PostgreSQL; names and types are checked before the database is touched;
`segc test` refuses engines without an in-memory database (E808)."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

import segc
from segc.front.errors import SegcError
from segc.apps.segtest import run_tests
from segc.run.memory import ENGINES, Table, create_tables, open_memory
from tests.conftest import EXAMPLE
from tests.engines import open_engine

COLUMNS = {
    "id": "int",
    "select": "string",  # a reserved word
    "City Name": "string",  # a space
    'say "hi"': "float",  # a double quote
    "active": "bool",
    "born": "date",
    "seen_at": "timestamp",
}
ROWS = [
    (1, "it's", "back\\slash", 12.5, True, dt.date(1990, 2, 28), dt.datetime(2024, 6, 30, 23, 59, 59)),
    (2, None, None, None, None, None, None),
    (3, "", "'; DROP TABLE x; --", -0.25, False, dt.date(2000, 2, 29), dt.datetime(2024, 5, 1, 8, 30, 0, 250000)),
]
# SQLite has no boolean, date or timestamp type: 0/1, ISO text with a space separator
SQLITE_ROWS = [
    (1, "it's", "back\\slash", 12.5, 1, "1990-02-28", "2024-06-30 23:59:59"),
    (2, None, None, None, None, None, None),
    (3, "", "'; DROP TABLE x; --", -0.25, 0, "2000-02-29", "2024-05-01 08:30:00.250000"),
]
SELECT = ('SELECT "id", "select", "City Name", "say ""hi""", "active", "born", "seen_at" '
          'FROM "shop"."order" ORDER BY "id"')


@pytest.fixture(params=ENGINES)
def database(request):
    """(engine, connection): in memory, or a fresh PostgreSQL database."""
    engine = request.param
    if engine == "postgres":
        with open_engine("postgres", request.getfixturevalue("pg_dsn")) as pg:
            yield engine, pg.con
        return
    con = open_memory(engine)
    yield engine, con
    con.close()


def read(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()  # DuckDB, sqlite3 and psycopg connections all have execute()


def test_every_type_reads_back_as_stored(database):
    engine, con = database
    create_tables(con, engine, [Table("shop.order", COLUMNS, ROWS)])
    assert read(con, SELECT) == (SQLITE_ROWS if engine == "sqlite" else ROWS)


def test_nulls_are_sql_nulls(database):
    engine, con = database
    create_tables(con, engine, [Table("shop.order", COLUMNS, ROWS)])
    where = " AND ".join(f'"{c}" IS NULL' for c in ("select", "City Name", "active", "born", "seen_at"))
    assert read(con, f'SELECT "id" FROM "shop"."order" WHERE {where}') == [(2,)]
    assert read(con, 'SELECT "id" FROM "shop"."order" WHERE "select" = \'\'') == [(3,)]  # '' is not NULL


def test_tables_are_replaced_and_schemas_reused(database):
    engine, con = database
    create_tables(con, engine, [Table("shop.order", COLUMNS, ROWS), Table("plain", {"k": "int"}, [])])
    create_tables(con, engine, [("shop.order", {"k": "int"}, [(7,)]), ("shop.other", {"k": "int"}, [(8,)])])
    assert read(con, 'SELECT "k" FROM "shop"."order"') == [(7,)]
    assert read(con, 'SELECT "k" FROM "shop"."other"') == [(8,)]
    assert read(con, 'SELECT COUNT(*) FROM "plain"') == [(0,)]


def test_names_and_types_are_checked_before_loading(database):
    engine, con = database
    with pytest.raises(ValueError, match="unknown segc type 'decimal'"):
        create_tables(con, engine, [("first", {"k": "int"}, [(1,)]), ("second", {"k": "decimal"}, [])])
    with pytest.raises(ValueError, match="no columns"):
        create_tables(con, engine, [("first", {"k": "int"}, [(1,)]), ("second", {}, [])])
    with pytest.raises(ValueError, match="not `a..b`"):
        create_tables(con, engine, [("first", {"k": "int"}, [(1,)]), ("a..b", {"k": "int"}, [])])
    create_tables(con, engine, [("first", {"n": "int"}, [])])  # "first" was never created: no clash
    assert read(con, 'SELECT COUNT(*) FROM "first"') == [(0,)]


def test_three_part_names_on_duckdb_only():
    con = open_memory("duckdb")
    create_tables(con, "duckdb", [("wh.crm.people", {"id": "int"}, [(1,)]), ("wh.crm.visits", {"id": "int"}, [])])
    assert read(con, 'SELECT "id" FROM "wh"."crm"."people"') == [(1,)]
    con.close()
    con = open_memory("sqlite")
    with pytest.raises(ValueError, match="`table` or `schema.table`, not `wh.crm.people`"):
        create_tables(con, "sqlite", [("wh.crm.people", {"id": "int"}, [])])
    con.close()


def test_duckdb_rows_past_one_insert():
    """DuckDB inserts rows in chunks of bound parameters: every chunk lands, the last one short."""
    con = open_memory("duckdb")
    create_tables(con, "duckdb", [("big", {"a": "int", "b": "string"}, [(i, str(i)) for i in range(2501)])])
    assert read(con, 'SELECT COUNT(*), SUM("a"), COUNT(DISTINCT "b") FROM "big"') == [(2501, sum(range(2501)), 2501)]
    con.close()


def test_no_driver_imported_with_the_module():
    code = ("import sys, segc.run.memory\n"
            "print([m for m in ('duckdb', 'sqlite3', 'psycopg') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("engine,hint", [("postgres", ()), ("sqlit", ("did you mean `sqlite`?",))])
def test_segc_test_on_an_unsupported_engine(engine, hint):
    with pytest.raises(SegcError) as info:
        run_tests(segc.load_project(EXAMPLE), engines=("duckdb", engine))
    [d] = info.value.diagnostics
    assert (d.code, d.message, d.hints) == ("E808", f"segc test runs on duckdb, sqlite, not `{engine}`", hint)


def test_segc_test_three_part_table(make_project):
    config = {"name": "wh", "base": "people", "key": "id", "sources": {"people": {"table": "wh.crm.people"}},
              "features": {"age": {"type": "int"}}}
    root = make_project(config, "segment adults = age >= 18\n")
    (root / "tests").mkdir()
    (root / "tests" / "t.yml").write_text("as_of: 2024-01-01\nrows:\n  people:\n    - {id: 1, age: 30}\n"
                                          "    - {id: 2, age: 9}\nexpect:\n  adults: [1]\n", encoding="utf-8")
    project = segc.load_project(root)
    assert run_tests(project, engines=("duckdb",)).ok
    with pytest.raises(SegcError) as info:
        run_tests(project, engines=("sqlite",))
    [d] = info.value.diagnostics
    assert d.code == "E807" and "source `people`" in d.message and "`wh.crm.people`" in d.message
