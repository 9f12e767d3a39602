"""Typed fixture rows -> tables in a database that lives as long as a test. `segc test`
(apps/segtest.py) and the test suite's harness (tests/engines.py) both load through here,
so what a segment test sees is what the compiler's own tests see.

    con = open_memory("sqlite")                  # or "duckdb"
    create_tables(con, "sqlite", [Table("shop.orders", {"customer_id": "int", "ordered_at": "timestamp"},
                                        [(1, datetime(2024, 6, 20, 10, 0))])])

PostgreSQL has no in-memory database: pass a psycopg connection to `create_tables`
(the harness opens a fresh database per engine on a throwaway server).

A table is its warehouse name, its columns {name: segc type} in order, and its rows:
tuples of canonical Python values in column order (int, float, str, bool, datetime.date,
naive datetime.datetime; None is NULL). Values are bound as parameters, never spliced
into SQL; the DDL is built as sqlglot trees with every identifier quoted.

Storage per engine:

    segc type   DuckDB     PostgreSQL         SQLite
    int         BIGINT     BIGINT             INTEGER
    float       DOUBLE     DOUBLE PRECISION   REAL
    string      VARCHAR    TEXT               TEXT
    bool        BOOLEAN    BOOLEAN            INTEGER 0/1
    date        DATE       DATE               TEXT 'YYYY-MM-DD'
    timestamp   TIMESTAMP  TIMESTAMP          TEXT 'YYYY-MM-DD HH:MM:SS[.ffffff]' (space separator)

SQLite gets functions it lacks or has otherwise than DuckDB: `md5`, `regexp`, and `lower`
and `upper` folding every letter as DuckDB does (its own fold ASCII only).

Names: `table` and `schema.table` everywhere (the schema is created; SQLite attaches an
in-memory database under the schema's name), `catalog.schema.table` on DuckDB (an
in-memory database attached as the catalog). A table that exists is replaced.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from sqlglot import exp

from segc.run.regex_match import compile_tokens, search

IN_MEMORY = ("duckdb", "sqlite")  # the engines `open_memory` opens
# functions `open_memory` registers beyond the engine's own (render's `provided=`)
PROVIDED = {"duckdb": (), "sqlite": ("md5", "regexp")}
ENGINES = (*IN_MEMORY, "postgres")  # the engines `create_tables` fills

_NATIVE_TYPES = {
    "duckdb": {"int": "BIGINT", "float": "DOUBLE", "string": "VARCHAR",
               "bool": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP"},
    "postgres": {"int": "BIGINT", "float": "DOUBLE PRECISION", "string": "TEXT",
                 "bool": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP"},
    "sqlite": {"int": "INTEGER", "float": "REAL", "string": "TEXT",
               "bool": "INTEGER", "date": "TEXT", "timestamp": "TEXT"},
}

# The most parts of a table name per engine: a catalog is an in-memory database that only
# DuckDB holds next to schemas (SQLite's attached databases are its schemas; PostgreSQL's
# catalog is the database connected to).
_MAX_PARTS = {"duckdb": 3, "sqlite": 2, "postgres": 2}
_SHAPES = {2: "`table` or `schema.table`", 3: "`table`, `schema.table` or `catalog.schema.table`"}

# Bound values per DuckDB INSERT: DuckDB runs executemany one row at a time, about ten
# times slower than one multi-row VALUES per chunk (2,000 rows: 0.9 s against 0.07 s).
_DUCKDB_PARAMS_PER_INSERT = 1000


class Table(NamedTuple):
    name: str  # warehouse name, e.g. shop.orders
    columns: dict[str, str]  # column -> segc type, in creation order
    rows: list[tuple]  # canonical Python values, in column order


def open_memory(engine: str):
    """A new, empty in-memory connection of DuckDB or SQLite."""
    if engine == "duckdb":
        from segc.run.engine import open_duckdb

        return open_duckdb()
    if engine == "sqlite":
        return _open_sqlite()
    raise ValueError(f"no in-memory database for {engine!r} (expected one of {', '.join(IN_MEMORY)})")


def _open_sqlite():
    import sqlite3

    # autocommit: transactions are create_tables' own, none is left open behind the caller
    # (Python's sqlite3 otherwise begins one before the first INSERT)
    con = sqlite3.connect(":memory:", isolation_level=None)
    # SQLite reads a double-quoted name that matches no column as a string literal
    # ("DQS" misfeature): a typo would silently compare against a constant. Python
    # 3.12+ can switch it off; on 3.11 the other engines catch such typos.
    if hasattr(con, "setconfig"):
        con.setconfig(sqlite3.SQLITE_DBCONFIG_DQS_DML, False)
        con.setconfig(sqlite3.SQLITE_DBCONFIG_DQS_DDL, False)
    # SQLite has no MD5, which `holdout` needs (backend/holdout.py): the other engines'
    con.create_function("md5", 1, _md5, deterministic=True)
    # nor regular expressions, which `matches` needs: `x REGEXP p` calls regexp(p, x)
    con.create_function("regexp", 2, _regexp, deterministic=True)
    # and its LOWER/UPPER fold ASCII only (`lower(city) = "münchen"` missed "MÜNCHEN"):
    # DuckDB's, character by character, replace them
    con.create_function("lower", 1, _lower, deterministic=True)
    con.create_function("upper", 1, _upper, deterministic=True)
    return con


# where one character's case is not one character in Python's full mapping, DuckDB's
# (Unicode's simple mapping, and its own ß -> ẞ)
_LOWER_ONE = {"\u0130": "i"}  # İ
_UPPER_ONE = {"\u00df": "\u1e9e"}  # ß -> ẞ


@functools.lru_cache(maxsize=4096)
def _lower_char(ch: str) -> str:
    low = ch.lower()
    return low if len(low) == 1 else _LOWER_ONE.get(ch, ch)


@functools.lru_cache(maxsize=4096)
def _upper_char(ch: str) -> str:
    up = ch.upper()
    if len(up) == 1:
        return up
    title = ch.title()  # ᾀ -> ᾈ: Unicode's simple uppercase is the titlecase letter
    return title if len(title) == 1 and title != ch else _UPPER_ONE.get(ch, ch)


def _lower(value):
    """LOWER as DuckDB computes it: each character on its own, to one character (no final
    sigma, İ -> i); NULL for NULL (segc lowers text only: another value is left as it is)."""
    if not isinstance(value, str):
        return value
    return value.lower() if value.isascii() else "".join(map(_lower_char, value))


def _upper(value):
    """UPPER as DuckDB computes it: each character on its own, to one character (ß -> ẞ,
    not SS); NULL for NULL."""
    if not isinstance(value, str):
        return value
    return value.upper() if value.isascii() else "".join(map(_upper_char, value))


def _regexp(pattern, value):
    """`matches` as DESIGN §8.1 means it (Python's re.search, `$` the end of the string, in
    linear time: run/regex_match.py),
    for the pattern segc wrote (backend/strings.py: `.` already a set without LF); NULL
    for NULL, so that `not` keeps the missing out as on the other engines."""
    if value is None or pattern is None:
        return None
    return search(_compiled(pattern), value)


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str):
    # not Python's re, which backtracks: `^(a+)+$` would take hours on 30 `a`s and a `!`
    from segc.front.regex_subset import parse

    return compile_tokens(parse(pattern))


def _md5(value):
    """MD5 as DuckDB, PostgreSQL and Spark compute it: lowercase hex of the digest of the
    text's UTF-8 bytes (a blob's own bytes); NULL for NULL."""
    import hashlib

    if value is None:
        return None
    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return hashlib.md5(data).hexdigest()


def table_parts(engine: str, name: str) -> tuple[str, ...]:
    """The parts of a warehouse table name, or ValueError if `engine` cannot hold it."""
    _check_engine(engine)
    parts = tuple(name.split("."))
    limit = _MAX_PARTS[engine]
    if len(parts) > limit or not all(parts):
        raise ValueError(f"{engine} holds tables named {_SHAPES[limit]}, not `{name}`")
    return parts


def create_tables(con, engine: str, tables: Iterable[Table]) -> None:
    """Create (replacing same-named tables) and fill each table. Every name and type is
    checked before the database is touched."""
    _check_engine(engine)
    statements = [_statements(engine, Table(*t)) for t in tables]
    _attach(con, engine, statements)
    for s in statements:
        # a transaction per table: a DuckDB transaction writes to one attached database at most
        with _transaction(con, engine) as run:
            for sql in s.ddl:
                run.execute(sql)
            _insert(run, engine, s)


# ---- statements ------------------------------------------------------------------------

class _Statements(NamedTuple):
    parts: tuple[str, ...]
    ddl: list[str]  # CREATE SCHEMA (where there is one), DROP TABLE, CREATE TABLE
    target: exp.Table  # of the INSERTs, whose shape depends on the number of rows
    width: int  # columns
    rows: list[tuple]  # as stored


def _statements(engine: str, table: Table) -> _Statements:
    parts = table_parts(engine, table.name)
    if not table.columns:
        raise ValueError(f"table `{table.name}`: no columns")
    *qualifiers, name = parts
    target = exp.Table(this=_identifier(name), **_qualifiers(qualifiers))
    # SQLite's schemas are attached databases (see _attach), not created
    ddl = [_create_schema(qualifiers, engine)] if qualifiers and engine != "sqlite" else []
    ddl.append(exp.Drop(tables=[target.copy()], kind="TABLE", exists=True).sql(engine))
    ddl.append(_create_table(target, table, engine))
    types = list(table.columns.values())
    rows = [tuple(_stored(v, t, engine) for v, t in zip(row, types)) for row in table.rows]
    return _Statements(parts, ddl, target, len(types), rows)


def _stored(value: Any, segc_type: str, engine: str) -> Any:
    """A canonical Python value as the engine stores it: SQLite has no boolean, date or
    timestamp type (0/1, ISO text with a space separator, which its date functions read)."""
    if value is None or engine != "sqlite":
        return value
    if segc_type == "bool":
        return int(value)
    if segc_type == "date":
        return value.isoformat()
    if segc_type == "timestamp":
        return value.isoformat(sep=" ")
    return value


def _identifier(name: str) -> exp.Identifier:
    if "\x00" in name:
        raise ValueError(f"identifier contains NUL: {name!r}")
    return exp.to_identifier(name, quoted=True)


def _qualifiers(qualifiers: list[str]) -> dict[str, exp.Identifier]:
    """`schema` or `catalog.schema` as the arguments of an exp.Table."""
    return dict(zip(("db", "catalog"), map(_identifier, reversed(qualifiers))))


def _create_schema(qualifiers: list[str], engine: str) -> str:
    return exp.Create(this=exp.Table(**_qualifiers(qualifiers)), kind="SCHEMA", exists=True).sql(engine)


def _create_table(target: exp.Table, table: Table, engine: str) -> str:
    columns = [exp.ColumnDef(this=_identifier(column), kind=_native_type(engine, segc_type, table.name))
               for column, segc_type in table.columns.items()]
    return exp.Create(this=exp.Schema(this=target.copy(), expressions=columns), kind="TABLE").sql(engine)


def _native_type(engine: str, segc_type: str, table: str) -> exp.DataType:
    native = _NATIVE_TYPES[engine].get(segc_type)
    if native is None:
        raise ValueError(f"table `{table}`: unknown segc type {segc_type!r} "
                         f"(expected one of {', '.join(_NATIVE_TYPES[engine])})")
    return exp.DataType.build(native, dialect=engine)


def _insert_sql(target: exp.Table, width: int, count: int, engine: str) -> str:
    """INSERT of `count` rows of `width` placeholders (rendered as the driver's: ? or %s)."""
    values = exp.Values(expressions=[exp.Tuple(expressions=[exp.Placeholder() for _ in range(width)])
                                     for _ in range(count)])
    return exp.insert(values, target).sql(engine)


# ---- running ---------------------------------------------------------------------------

def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} (expected one of {', '.join(ENGINES)})")


def _attach(con, engine: str, statements: list[_Statements]) -> None:
    """In-memory databases for SQLite's schemas and DuckDB's catalogs, outside any
    transaction (SQLite refuses ATTACH inside one)."""
    if engine == "postgres":
        return
    wanted = {s.parts[0] for s in statements if len(s.parts) == (2 if engine == "sqlite" else 3)}
    attached = {row[1] for row in con.execute("PRAGMA database_list").fetchall()}  # (seq, name, file)
    for name in sorted(wanted - attached):
        con.execute(exp.Attach(this=exp.alias_(exp.Literal.string(":memory:"), _identifier(name))).sql(engine))


@contextmanager
def _transaction(con, engine: str) -> Iterator[Any]:
    """Yields what runs the statements: a cursor for psycopg, else the connection."""
    if engine == "postgres":
        with con.transaction(), con.cursor() as cur:
            yield cur
        return
    con.execute("BEGIN")
    try:
        yield con
    except BaseException:
        con.rollback()
        raise
    con.commit()


def _insert(run, engine: str, s: _Statements) -> None:
    if not s.rows:
        return
    if engine != "duckdb":
        run.executemany(_insert_sql(s.target, s.width, 1, engine), s.rows)
        return
    per_insert = max(1, _DUCKDB_PARAMS_PER_INSERT // s.width)
    sql = {}  # rows per INSERT -> its SQL: every chunk but the last has the same size
    for start in range(0, len(s.rows), per_insert):
        chunk = s.rows[start:start + per_insert]
        if len(chunk) not in sql:
            sql[len(chunk)] = _insert_sql(s.target, s.width, len(chunk), engine)
        run.execute(sql[len(chunk)], [v for row in chunk for v in row])
