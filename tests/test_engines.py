"""The test infrastructure itself: tables load and read back identically on every engine."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from tests.engines import ENGINES, normalize, open_engine, to_python

pytest_plugins = ["tests.pg_fixture"]  # pg_dsn, open_engines (also registered by conftest)

HOSTILE = [
    "it's",
    'say "hi"',
    "back\\slash",
    "trailing\\",
    "new\nline\r\ttab",
    "emoji 🎉 and é",
    "100% off",
    "snake_case",
    "%_\\%",
    "''; DROP TABLE x; --",
    "",
    "   ",
]

COLUMNS = {
    "id": "int",
    "City Name": "string",
    "select": "string",  # a reserved word
    "amount": "float",
    "active": "bool",
    "born": "date",
    "seen_at": "timestamp",
}

ROWS = [
    {"id": 1, "City Name": "Paris", "select": HOSTILE[0], "amount": 12.5, "active": True,
     "born": dt.date(1990, 2, 28), "seen_at": dt.datetime(2024, 6, 30, 23, 59, 59)},
    # every column NULL but the key (missing keys are NULL too)
    {"id": 2, "City Name": None, "select": None, "amount": None, "active": None, "born": None},
    # ISO strings as YAML fixtures give them, ints where floats are declared, 0/1 bools
    {"id": 3, "City Name": "Zürich", "select": HOSTILE[1], "amount": 7, "active": 0,
     "born": "2000-02-29", "seen_at": "2024-01-01T10:00:00"},
    {"id": 4, "City Name": "", "select": HOSTILE[2], "amount": -0.25, "active": False,
     "born": dt.date(1970, 1, 1), "seen_at": dt.date(2024, 3, 1)},
    {"id": -5, "City Name": "Bruxelles", "select": "x", "amount": 1e300, "active": 1,
     "born": "1900-01-01", "seen_at": "2024-02-29 00:00:01"},
    {"id": 2**62, "amount": 0.1, "seen_at": dt.datetime(2024, 5, 1, 8, 30, 0, 250000)},  # big int, microseconds
] + [
    {"id": 100 + i, "City Name": s, "select": s, "amount": float(i), "active": i % 2 == 0,
     "born": dt.date(2024, 1, 1) + dt.timedelta(days=i), "seen_at": dt.datetime(2024, 1, 1, i, 0, 0)}
    for i, s in enumerate(HOSTILE)
]

TABLES = {"shop.order": (COLUMNS, ROWS)}
SELECT_ALL = 'SELECT {} FROM "shop"."order" ORDER BY "id"'.format(
    ", ".join('"' + c.replace('"', '""') + '"' for c in COLUMNS)
)


def expected_rows():
    return sorted(
        (tuple(to_python(row.get(c), t) for c, t in COLUMNS.items()) for row in ROWS),
        key=lambda r: r[0],
    )


def normalized(rows):
    return [tuple(normalize(v, t) for v, t in zip(row, COLUMNS.values())) for row in rows]


@pytest.fixture(params=ENGINES)
def engine(request, pg_dsn):
    with open_engine(request.param, pg_dsn) as eng:
        yield eng


def test_postgres_server_started(pg_dsn):
    with psycopg.connect(pg_dsn) as con:
        version = con.execute("SELECT version()").fetchone()[0]
        assert version.startswith("PostgreSQL"), version
        settings = dict(con.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('fsync', 'full_page_writes', 'synchronous_commit', 'listen_addresses')"
        ).fetchall())
    assert settings == {"fsync": "off", "full_page_writes": "off",
                        "synchronous_commit": "off", "listen_addresses": "127.0.0.1"}
    with open_engine("postgres", pg_dsn) as eng:
        assert eng.query("SELECT version()")[0][0] == version


def test_round_trip(engine):
    engine.load(TABLES)
    assert normalized(engine.query(SELECT_ALL)) == expected_rows()


def test_null_is_sql_null(engine):
    engine.load(TABLES)
    nulls = engine.query(
        'SELECT COUNT(*) FROM "shop"."order" WHERE "City Name" IS NULL AND "select" IS NULL '
        'AND "amount" IS NULL AND "active" IS NULL AND "born" IS NULL AND "seen_at" IS NULL'
    )
    assert nulls == [(1,)]
    # the empty string is not NULL
    assert engine.query('SELECT "id" FROM "shop"."order" WHERE "City Name" = \'\' ORDER BY 1') == [(4,), (110,)]


def test_storage_representation(engine):
    """The raw values each driver returns: native types, or SQLite's text/0-1 convention."""
    engine.load(TABLES)
    row = engine.query('SELECT "active", "born", "seen_at", "amount" FROM "shop"."order" WHERE "id" = 1')[0]
    if engine.name == "sqlite":
        assert row == (1, "1990-02-28", "2024-06-30 23:59:59", 12.5)
    else:
        assert row == (True, dt.date(1990, 2, 28), dt.datetime(2024, 6, 30, 23, 59, 59), 12.5)
    # ISO 'T' input is stored with SQLite's space separator; a date given for a timestamp is midnight
    got = engine.query('SELECT "seen_at" FROM "shop"."order" WHERE "id" IN (3, 4) ORDER BY "id"')
    if engine.name == "sqlite":
        assert got == [("2024-01-01 10:00:00",), ("2024-03-01 00:00:00",)]
    else:
        assert got == [(dt.datetime(2024, 1, 1, 10),), (dt.datetime(2024, 3, 1),)]


def test_declared_column_types(engine):
    engine.load(TABLES)
    if engine.name == "sqlite":
        got = {r[1]: r[2] for r in engine.query('PRAGMA "shop".table_info("order")')}
        want = {"id": "INTEGER", "City Name": "TEXT", "select": "TEXT", "amount": "REAL",
                "active": "INTEGER", "born": "TEXT", "seen_at": "TEXT"}
    else:
        got = dict(engine.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'shop' AND table_name = 'order'"
        ))
        text, double, ts = (
            ("VARCHAR", "DOUBLE", "TIMESTAMP") if engine.name == "duckdb"
            else ("text", "double precision", "timestamp without time zone")
        )
        want = {"id": "BIGINT", "City Name": text, "select": text, "amount": double,
                "active": "BOOLEAN", "born": "DATE", "seen_at": ts}
        if engine.name == "postgres":
            want = {k: v.lower() for k, v in want.items()}
    assert got == want


def test_strings_are_exact(engine):
    """Hostile strings survive byte for byte and compare equal in SQL (no escaping artefacts)."""
    engine.load({"t": ({"s": "string", "n": "int"}, [{"s": s, "n": len(s)} for s in HOSTILE])})
    got = sorted(r[0] for r in engine.query('SELECT "s" FROM "t"'))
    assert got == sorted(HOSTILE)
    # one code point per character on every engine (the emoji is a single code point)
    assert engine.query('SELECT COUNT(*) FROM "t" WHERE LENGTH("s") <> "n"') == [(0,)]


def test_dates_usable_in_sql(engine):
    """Stored dates/timestamps work with each engine's date functions and compare with literals."""
    engine.load(TABLES)
    if engine.name == "sqlite":
        sql = ('SELECT "id" FROM "shop"."order" WHERE DATE("born", \'+1 day\') = \'1990-03-01\' '
               'AND "seen_at" >= \'2024-06-30 23:59:59\'')
    else:
        sql = ('SELECT "id" FROM "shop"."order" WHERE "born" + INTERVAL \'1 day\' = DATE \'1990-03-01\' '
               'AND "seen_at" >= TIMESTAMP \'2024-06-30 23:59:59\'')
    assert engine.query(sql) == [(1,)]


def test_load_replaces_and_unqualified_tables(engine):
    engine.load(TABLES)
    engine.load({
        "shop.order": ({"k": "int"}, [{"k": 1}, {"k": 2}]),  # same name, new shape
        "customers": ({"customer_id": "int"}, []),            # no schema, no rows
        "shop.customers": ({"customer_id": "int"}, [{"customer_id": 9}]),
    })
    assert engine.query('SELECT "k" FROM "shop"."order" ORDER BY 1') == [(1,), (2,)]
    assert engine.query('SELECT COUNT(*) FROM "customers"') == [(0,)]
    assert engine.query('SELECT "customer_id" FROM "shop"."customers"') == [(9,)]
    engine.load({"customers": ({"customer_id": "int"}, [{"customer_id": 3}])})
    assert engine.query('SELECT "customer_id" FROM "customers"') == [(3,)]


def test_many_rows(engine):
    rows = [{"a": i, "b": str(i), "c": i % 3 == 0} for i in range(2500)]
    engine.load({"big": ({"a": "int", "b": "string", "c": "bool"}, rows)})
    assert normalized_count(engine.query('SELECT COUNT(*), SUM("a"), COUNT(DISTINCT "b") FROM "big"')) == (2500, sum(range(2500)), 2500)


def normalized_count(rows):
    return tuple(int(v) for v in rows[0])


def test_engines_are_isolated(open_engines, pg_dsn):
    first = open_engines()
    second = open_engines()
    assert [e.name for e in first] == list(ENGINES)
    for a, b in zip(first, second):
        a.load({"shop.t": ({"x": "int"}, [{"x": 1}])})
        b.load({"shop.t": ({"x": "int"}, [{"x": 2}, {"x": 3}])})
        assert a.query('SELECT COUNT(*) FROM "shop"."t"') == [(1,)]
        assert b.query('SELECT COUNT(*) FROM "shop"."t"') == [(2,)]
    # closing a Postgres engine drops its database
    pg = first[-1]
    pg.close()
    with psycopg.connect(pg_dsn) as con:
        assert con.execute("SELECT 1 FROM pg_database WHERE datname = %s", [pg.database]).fetchall() == []


def test_failed_query_does_not_poison_engine(engine):
    engine.load({"t": ({"x": "int"}, [{"x": 1}])})
    with pytest.raises(Exception):
        engine.query('SELECT "x" FROM "no_such_table"')
    assert engine.query('SELECT "x" FROM "t"') == [(1,)]


@pytest.mark.parametrize(
    ("value", "segc_type", "error"),
    [
        (False, "string", TypeError),          # YAML reads `NO` (Norway) as false
        (1, "string", TypeError),
        (True, "int", TypeError),
        (1.5, "int", TypeError),
        (2, "bool", TypeError),
        (float("nan"), "float", ValueError),
        ("a\x00b", "string", ValueError),
        ("2024-13-01", "date", ValueError),
        (dt.datetime(2024, 1, 1), "date", TypeError),
        (dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), "timestamp", ValueError),
        ("x", "decimal", ValueError),
    ],
)
def test_bad_values_are_rejected(value, segc_type, error):
    with pytest.raises(error):
        to_python(value, segc_type)


def test_load_rejects_undeclared_columns_and_bad_names():
    with open_engine("duckdb") as eng:
        with pytest.raises(ValueError, match="undeclared"):
            eng.load({"t": ({"a": "int"}, [{"a": 1, "b": 2}])})
        with pytest.raises(ValueError, match="schema.table"):
            eng.load({"a.b.c": ({"a": "int"}, [])})
        with pytest.raises(TypeError, match=r"t\[0\]\.a"):
            eng.load({"t": ({"a": "string"}, [{"a": False}])})


def test_postgres_needs_a_dsn():
    with pytest.raises(ValueError, match="pg_dsn"):
        open_engine("postgres")


def test_missing_postgres_is_an_error_not_a_skip(monkeypatch):
    from tests import pg_server

    monkeypatch.setattr(pg_server.shutil, "which", lambda name: None)
    monkeypatch.setattr(pg_server.glob, "glob", lambda pattern: [])
    with pytest.raises(RuntimeError, match="apt-get install -y postgresql"):
        pg_server.start()


def test_server_stop_is_clean():
    from tests import pg_server

    server = pg_server.start()
    with psycopg.connect(server.dsn) as con:
        assert con.execute("SELECT 1").fetchone() == (1,)
    server.stop()
    server.stop()  # idempotent (atexit calls it again)
    assert not server.root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.dsn, connect_timeout=2)
