"""Execute generated SQL on real engines: DuckDB, SQLite and PostgreSQL.

    eng = open_engine("sqlite")                      # or "duckdb", or "postgres" + pg_dsn
    eng.load({"shop.orders": ({"customer_id": "int", "ordered_at": "timestamp"}, rows)})
    eng.query('SELECT COUNT(*) FROM "shop"."orders"')  # -> [(3,)]
    eng.close()

``Engine.name`` is also the sqlglot dialect name. Tables are loaded from Python rows
(dicts keyed by column name; a missing key is NULL) with declared segc types; values
are checked and converted by declared type, then inserted with parameter binding.

Storage per engine:

    segc type   DuckDB     PostgreSQL         SQLite
    int         BIGINT     BIGINT             INTEGER
    float       DOUBLE     DOUBLE PRECISION   REAL
    string      VARCHAR    TEXT               TEXT
    bool        BOOLEAN    BOOLEAN            INTEGER 0/1
    date        DATE       DATE               TEXT 'YYYY-MM-DD'
    timestamp   TIMESTAMP  TIMESTAMP          TEXT 'YYYY-MM-DD HH:MM:SS' (space separator)

A dotted table name ``schema.table`` creates the schema (SQLite: ``ATTACH ':memory:'``).
Every PostgreSQL engine gets a fresh database on the server (dropped on close), so
engines never see each other's tables. ``query`` returns the driver's rows unchanged;
``normalize`` maps one engine's value of a segc type to a comparable Python value.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
import sqlite3
from typing import Any

ENGINES = ("duckdb", "sqlite", "postgres")
SEGC_TYPES = ("int", "float", "string", "bool", "date", "timestamp")

_NATIVE_TYPES = {
    "duckdb": {
        "int": "BIGINT", "float": "DOUBLE", "string": "VARCHAR",
        "bool": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP",
    },
    "postgres": {
        "int": "BIGINT", "float": "DOUBLE PRECISION", "string": "TEXT",
        "bool": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP",
    },
    "sqlite": {
        "int": "INTEGER", "float": "REAL", "string": "TEXT",
        "bool": "INTEGER", "date": "TEXT", "timestamp": "TEXT",
    },
}

Tables = dict[str, tuple[dict[str, str], list[dict[str, Any]]]]


def quote(name: str) -> str:
    """A double-quoted identifier (standard SQL; valid on all three engines)."""
    if "\x00" in name:
        raise ValueError(f"identifier contains NUL: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def split_table(name: str) -> tuple[str | None, str]:
    """``"shop.orders"`` -> ``("shop", "orders")``; ``"orders"`` -> ``(None, "orders")``."""
    parts = name.split(".")
    if len(parts) == 1:
        return None, name
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1]
    raise ValueError(f"table name must be `table` or `schema.table`, got {name!r}")


# ---------------------------------------------------------------- value conversion


def to_python(value: Any, segc_type: str, *, where: str = "value") -> Any:
    """Check ``value`` against ``segc_type``; return the canonical Python value.

    int -> int, float -> float, string -> str, bool -> bool, date -> datetime.date,
    timestamp -> naive datetime.datetime; None stays None. Dates and timestamps may be
    ISO strings (as YAML fixtures give them); a date is accepted for a timestamp
    (midnight). Anything else is a TypeError/ValueError naming ``where``: fixture
    data that is not what it declares (YAML reads `NO` as false) must not be guessed.
    """
    if value is None:
        return None
    bad = TypeError(f"{where}: {value!r} ({type(value).__name__}) is not a valid {segc_type}")
    if segc_type == "int":
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise bad
    if segc_type == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        if not math.isfinite(value):
            raise ValueError(f"{where}: {value!r} is not finite (engines disagree on NaN/inf)")
        return float(value)
    if segc_type == "string":
        if not isinstance(value, str):
            raise bad
        if "\x00" in value:
            raise ValueError(f"{where}: strings may not contain NUL")
        return value
    if segc_type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise bad
    if segc_type == "date":
        if isinstance(value, dt.datetime):
            raise bad
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{where}: {value!r} is not an ISO date YYYY-MM-DD") from None
        raise bad
    if segc_type == "timestamp":
        if isinstance(value, dt.datetime):
            result = value
        elif isinstance(value, dt.date):
            result = dt.datetime(value.year, value.month, value.day)
        elif isinstance(value, str):
            try:
                result = dt.datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{where}: {value!r} is not an ISO timestamp YYYY-MM-DDTHH:MM:SS") from None
        else:
            raise bad
        if result.tzinfo is not None:
            raise ValueError(f"{where}: {value!r} has a time zone; segc timestamps are naive")
        return result
    raise ValueError(f"{where}: unknown segc type {segc_type!r} (expected one of {', '.join(SEGC_TYPES)})")


def _to_sqlite(value: Any, segc_type: str) -> Any:
    if value is None:
        return None
    if segc_type == "bool":
        return int(value)
    if segc_type == "date":
        return value.isoformat()
    if segc_type == "timestamp":
        return value.isoformat(sep=" ")  # 'YYYY-MM-DD HH:MM:SS[.ffffff]'
    return value


def normalize(value: Any, segc_type: str) -> Any:
    """A value read back from any engine, as the canonical Python value of its type.

    Undoes SQLite's storage (0/1 bools, text dates/timestamps) and PostgreSQL's
    Decimal (NUMERIC results of AVG/SUM over integers) so results compare across
    engines. Floats are returned as floats: compare them with a tolerance.
    """
    if value is None:
        return None
    if segc_type == "int":
        return int(value)
    if segc_type == "float":
        return float(value)
    if segc_type == "bool":
        return bool(value)
    if segc_type == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, str):
            return dt.date.fromisoformat(value[:10])
        return value
    if segc_type == "timestamp":
        if isinstance(value, str):
            return dt.datetime.fromisoformat(value)
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day)
        return value
    return value


# ------------------------------------------------------------------------- engines


class Engine:
    """One connection to one engine; ``name`` is also the sqlglot dialect."""

    name: str

    def load(self, tables: Tables) -> None:
        """Create (replacing same-named tables) and fill each table."""
        for table, (columns, rows) in tables.items():
            schema, bare = split_table(table)
            if not columns:
                raise ValueError(f"table {table!r}: no columns declared")
            unknown = {c: t for c, t in columns.items() if t not in SEGC_TYPES}
            if unknown:
                raise ValueError(f"table {table!r}: unknown segc types {unknown} (expected {', '.join(SEGC_TYPES)})")
            names = list(columns)
            values = []
            for i, row in enumerate(rows):
                extra = set(row) - set(columns)
                if extra:
                    raise ValueError(f"table {table!r} row {i}: undeclared columns {sorted(extra)}")
                values.append(tuple(
                    self._convert(to_python(row.get(c), columns[c], where=f"{table}[{i}].{c}"), columns[c])
                    for c in names
                ))
            qualified = (quote(schema) + "." if schema else "") + quote(bare)
            ddl = ", ".join(f"{quote(c)} {_NATIVE_TYPES[self.name][columns[c]]}" for c in names)
            self._create(schema, qualified, ddl, len(names), values)

    def query(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # per engine
    def _convert(self, value: Any, segc_type: str) -> Any:
        return value

    def _create(self, schema: str | None, qualified: str, ddl: str, width: int, values: list[tuple]) -> None:
        raise NotImplementedError

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Engine {self.name}>"


class DuckDBEngine(Engine):
    name = "duckdb"

    def __init__(self) -> None:
        import duckdb

        self.con = duckdb.connect(":memory:")

    def _create(self, schema, qualified, ddl, width, values):
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            if schema:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
            con.execute(f"DROP TABLE IF EXISTS {qualified}")
            con.execute(f"CREATE TABLE {qualified} ({ddl})")
            # Multi-row VALUES with bound parameters: far faster than executemany.
            row_marks = "(" + ", ".join("?" * width) + ")"
            for chunk in _chunks(values, max(1, 1000 // width)):
                con.execute(
                    f"INSERT INTO {qualified} VALUES " + ", ".join([row_marks] * len(chunk)),
                    [v for row in chunk for v in row],
                )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def query(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def close(self) -> None:
        self.con.close()


class SQLiteEngine(Engine):
    name = "sqlite"

    def __init__(self) -> None:
        self.con = sqlite3.connect(":memory:", isolation_level=None)
        # SQLite reads a double-quoted name that matches no column as a string literal
        # ("DQS" misfeature): a typo would silently compare against a constant. Python
        # 3.12+ can switch it off; on 3.11 the other engines catch such typos.
        if hasattr(self.con, "setconfig"):
            self.con.setconfig(sqlite3.SQLITE_DBCONFIG_DQS_DML, False)
            self.con.setconfig(sqlite3.SQLITE_DBCONFIG_DQS_DDL, False)

    def _convert(self, value, segc_type):
        return _to_sqlite(value, segc_type)

    def _create(self, schema, qualified, ddl, width, values):
        con = self.con
        if schema:
            attached = {row[1] for row in con.execute("PRAGMA database_list")}
            if schema not in attached:
                con.execute(f"ATTACH DATABASE ':memory:' AS {quote(schema)}")
        con.execute("BEGIN")
        try:
            con.execute(f"DROP TABLE IF EXISTS {qualified}")
            con.execute(f"CREATE TABLE {qualified} ({ddl})")
            con.executemany(f"INSERT INTO {qualified} VALUES ({', '.join('?' * width)})", values)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def query(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def close(self) -> None:
        self.con.close()


_pg_counter = itertools.count()
_pg_admin: dict[str, Any] = {}  # server DSN -> autocommit connection used to create/drop databases


def _pg_admin_connection(dsn: str):
    import psycopg

    con = _pg_admin.get(dsn)
    if con is None or con.closed:
        con = _pg_admin[dsn] = psycopg.connect(dsn, autocommit=True)
    return con


class PostgresEngine(Engine):
    """A fresh database on the server per engine (created from template0, dropped on close)."""

    name = "postgres"

    def __init__(self, dsn: str) -> None:
        import psycopg
        from psycopg.conninfo import make_conninfo

        self.server_dsn = dsn
        admin = _pg_admin_connection(dsn)
        self.database = f"segc_test_{os.getpid()}_{next(_pg_counter)}"
        # FILE_COPY (PostgreSQL 15+) takes ~10 ms with fsync off; WAL_LOG ~60 ms.
        strategy = " STRATEGY FILE_COPY" if admin.info.server_version >= 150000 else ""
        admin.execute(f"CREATE DATABASE {quote(self.database)} TEMPLATE template0 ENCODING 'UTF8'{strategy}")
        # autocommit: a failing query does not poison the next ones.
        self.con = psycopg.connect(make_conninfo(dsn, dbname=self.database), autocommit=True)

    def _create(self, schema, qualified, ddl, width, values):
        with self.con.transaction(), self.con.cursor() as cur:
            if schema:
                cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
            cur.execute(f"DROP TABLE IF EXISTS {qualified}")
            cur.execute(f"CREATE TABLE {qualified} ({ddl})")
            if values:
                cur.executemany(f"INSERT INTO {qualified} VALUES ({', '.join(['%s'] * width)})", values)

    def query(self, sql: str) -> list[tuple]:
        with self.con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description is not None else []

    def close(self) -> None:
        if self.con.closed:
            return
        self.con.close()
        try:
            _pg_admin_connection(self.server_dsn).execute(f"DROP DATABASE IF EXISTS {quote(self.database)} WITH (FORCE)")
        except Exception:
            pass  # the server is throwaway; a leftover database is harmless


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def open_engine(name: str, pg_dsn: str | None = None) -> Engine:
    """A new, empty engine. ``postgres`` needs the DSN of a server (see pg_server)."""
    if name == "duckdb":
        return DuckDBEngine()
    if name == "sqlite":
        return SQLiteEngine()
    if name == "postgres":
        if not pg_dsn:
            raise ValueError("open_engine('postgres') needs pg_dsn (start a server with tests/pg_server.py)")
        return PostgresEngine(pg_dsn)
    raise ValueError(f"unknown engine {name!r} (expected one of {', '.join(ENGINES)})")
