"""Where compiled SQL runs. Every engine executes the same compiler output, rendered for
its dialect: DuckDB (embedded, over the project's local files; the default; duckdb_engine.py),
PostgreSQL (a DSN; the sources are tables in the database; postgres_engine.py) and Spark
(local mode or a cluster; the sources are catalog tables or the project's parquet files;
spark_engine.py). connect.py opens one by name."""
from __future__ import annotations

import re
from pathlib import Path

from segc.front.errors import Diagnostic, SegcError


def engine_message(e: Exception) -> str:
    """The first line of an engine error, without quoted values (they may be personal data)."""
    return re.sub(r"'[^']*'", "'…'", str(e).split("\n")[0])[:300]


class Engine:
    """An open connection that runs SQL of one dialect."""

    dialect = ""
    name = ""

    def execute(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def close(self) -> None:
        pass


def source_file(schema, root: Path, src) -> tuple[Path, str]:
    """The local file of a source, resolved in the project (and how messages name it);
    E702 when it does not exist."""
    path = (Path(root) / src.path).resolve()
    display = str(Path(src.path))
    if not path.exists():
        raise SegcError(Diagnostic("E702", f"data file of source `{src.name}` not found: {display}",
                                   schema.key_span("sources", src.name, "path"),
                                   hints=("generate or copy the data, or fix `path:`",)))
    return path, display
