"""Execute generated SQL on real engines: DuckDB, SQLite and PostgreSQL.

    eng = open_engine("sqlite")                      # or "duckdb", or "postgres" + pg_dsn
    eng.load({"shop.orders": ({"customer_id": "int", "ordered_at": "timestamp"}, rows)})
    eng.query('SELECT COUNT(*) FROM "shop"."orders"')  # -> [(3,)]
    eng.close()

``Engine.name`` is also the sqlglot dialect name. Tables are loaded from Python rows
(dicts keyed by column name; a missing key is NULL) with declared segc types; values
are checked and converted by declared type, then loaded by segc.run.memory (the loader
`segc test` uses too), whose docstring shows the storage per engine.

A table is named ``table`` or ``schema.table`` (the schema is created; SQLite:
``ATTACH ':memory:'``). Every PostgreSQL engine gets a fresh database on the server
(dropped on close), so engines never see each other's tables. ``query`` returns the driver's rows unchanged;
``normalize`` maps one engine's value of a segc type to a comparable Python value.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
from typing import Any

from sqlglot import exp

from segc.run.memory import ENGINES, IN_MEMORY, Table, create_tables, open_memory

SEGC_TYPES = ("int", "float", "string", "bool", "date", "timestamp")

Tables = dict[str, tuple[dict[str, str], list[dict[str, Any]]]]


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
    con: Any

    def load(self, tables: Tables) -> None:
        """Create (replacing same-named tables) and fill each table."""
        create_tables(self.con, self.name, [_table(name, columns, rows) for name, (columns, rows) in tables.items()])

    def query(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Engine {self.name}>"


def _table(name: str, columns: dict[str, str], rows: list[dict[str, Any]]) -> Table:
    """Fixture rows (dicts, values as tests write them) as a table of canonical rows."""
    if name.count(".") > 1:  # DuckDB alone would take catalog.schema.table: keep tests portable
        raise ValueError(f"table name must be `table` or `schema.table`, got {name!r}")
    values = []
    for i, row in enumerate(rows):
        extra = set(row) - set(columns)
        if extra:
            raise ValueError(f"table {name!r} row {i}: undeclared columns {sorted(extra)}")
        values.append(tuple(to_python(row.get(c), t, where=f"{name}[{i}].{c}") for c, t in columns.items()))
    return Table(name, columns, values)


class MemoryEngine(Engine):
    """DuckDB or SQLite, in memory."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.con = open_memory(name)

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
        admin.execute(f"CREATE DATABASE {self._quoted()} TEMPLATE template0 ENCODING 'UTF8'{strategy}")
        # autocommit: a failing query does not poison the next ones.
        self.con = psycopg.connect(make_conninfo(dsn, dbname=self.database), autocommit=True)

    def _quoted(self) -> str:
        return exp.to_identifier(self.database, quoted=True).sql("postgres")

    def query(self, sql: str) -> list[tuple]:
        with self.con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description is not None else []

    def close(self) -> None:
        if self.con.closed:
            return
        self.con.close()
        try:
            _pg_admin_connection(self.server_dsn).execute(f"DROP DATABASE IF EXISTS {self._quoted()} WITH (FORCE)")
        except Exception:
            pass  # the server is throwaway; a leftover database is harmless


def open_engine(name: str, pg_dsn: str | None = None) -> Engine:
    """A new, empty engine. ``postgres`` needs the DSN of a server (see pg_server)."""
    if name in IN_MEMORY:
        return MemoryEngine(name)
    if name == "postgres":
        if not pg_dsn:
            raise ValueError("open_engine('postgres') needs pg_dsn (start a server with tests/pg_server.py)")
        return PostgresEngine(pg_dsn)
    raise ValueError(f"unknown engine {name!r} (expected one of {', '.join(ENGINES)})")
