"""The one table of dialects. Every list of dialects in segc reads it: segc.yml's
`dialect:`, `--dialect` in --help, the build, the catalogue, and the tests (golden SQL per
dialect). A dialect is sqlglot's dialect of the same name, plus the rewrites of
rewrites.py that fix what sqlglot renders wrong for it. Adding a dialect is one line here
(and its rewrites, if it needs any).

Kept free of imports: segc.yml's model and the CLI's --help read it without loading
sqlglot."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    name: str                   # segc's name, and sqlglot's
    rewrite: str | None = None  # the table of rewrites.py applied as it is rendered
    schema_parts: int = 2       # parts of the name a table lives in: `db.schema`, or only `schema`
    # the longest name of a table, view or schema the database keeps as written (None: no
    # limit segc knows of); PostgreSQL and Redshift count UTF-8 bytes and silently cut a longer
    # name, so two long names sharing their first 63 bytes are one table
    max_name: int | None = None
    name_in_bytes: bool = False


TABLE: dict[str, Dialect] = {d.name: d for d in (
    Dialect("duckdb", rewrite="duckdb"),
    Dialect("sqlite", rewrite="sqlite", schema_parts=1),
    Dialect("postgres", rewrite="postgres", max_name=63, name_in_bytes=True),
    Dialect("mysql", rewrite="mysql", schema_parts=1, max_name=64),
    Dialect("snowflake", rewrite="snowflake", max_name=255),
    Dialect("bigquery", rewrite="bigquery"),
    Dialect("redshift", max_name=127, name_in_bytes=True),
    Dialect("trino", rewrite="trino"),
    Dialect("databricks", rewrite="databricks"),
    Dialect("spark", rewrite="spark"),
    Dialect("tsql", rewrite="tsql", max_name=128),
)}
DIALECTS: tuple[str, ...] = tuple(TABLE)


def name_too_long(name: str, dialect: str) -> int | None:
    """The dialect's limit when `name` (one part of a table's name) exceeds it, else None."""
    d = TABLE[dialect]
    if d.max_name is None:
        return None
    size = len(name.encode("utf-8")) if d.name_in_bytes else len(name)
    return d.max_name if size > d.max_name else None


# segc.yml `quoting:` (docs/language.md, "Names in the SQL"): `preserve` quotes every name as
# written; `fold` writes plain names unquoted, case-folded as the dialect folds them
QUOTING = ("preserve", "fold")
