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


TABLE: dict[str, Dialect] = {d.name: d for d in (
    Dialect("duckdb", rewrite="duckdb"),
    Dialect("sqlite", rewrite="sqlite", schema_parts=1),
    Dialect("postgres", rewrite="postgres"),
    Dialect("mysql", rewrite="mysql", schema_parts=1),
    Dialect("snowflake", rewrite="snowflake"),
    Dialect("bigquery", rewrite="bigquery"),
    Dialect("redshift"),
    Dialect("trino", rewrite="trino"),
    Dialect("databricks", rewrite="databricks"),
    Dialect("spark", rewrite="spark"),
    Dialect("tsql", rewrite="tsql"),
)}
DIALECTS: tuple[str, ...] = tuple(TABLE)

# segc.yml `quoting:` (docs/language.md, "Names in the SQL"): `preserve` quotes every name as
# written; `fold` writes plain names unquoted, case-folded as the dialect folds them
QUOTING = ("preserve", "fold")
