"""Opening an engine by name (`--engine duckdb|postgres|spark`)."""
from __future__ import annotations

from pathlib import Path

from segc.front.errors import Diagnostic, SegcError, suggest
from segc.run.engine import Engine
from segc.schema.segc_yml import Schema

ENGINES = ("duckdb", "postgres", "spark")


def open_engine(kind: str, schema: Schema, root: Path, dsn: str | None = None,
                master: str | None = None) -> Engine:
    if kind == "duckdb":
        from segc.run.duckdb_engine import DuckDBEngine

        return DuckDBEngine(schema, root)
    if kind == "postgres":
        if not dsn:
            raise SegcError(Diagnostic("E723", "the postgres engine needs a DSN",
                                       hints=("pass --dsn or set the environment variable SEGC_DSN",)))
        from segc.run.postgres_engine import PostgresEngine

        return PostgresEngine(dsn)
    if kind == "spark":
        from segc.run.spark_engine import SparkEngine

        return SparkEngine(schema, root, master)
    close = suggest(kind, ENGINES)
    raise SegcError(Diagnostic("E724", f"unknown engine `{kind}`", hints=(
        *((f"did you mean `{close}`?",) if close else ()), "engines: " + ", ".join(ENGINES))))
