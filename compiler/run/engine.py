"""Where compiled SQL runs. Every engine executes the same compiler output, rendered for
its dialect: DuckDB (embedded, over the project's local files; the default; duckdb_engine.py),
PostgreSQL (a DSN; the sources are tables in the database; postgres_engine.py) and Spark
(local mode or a cluster; the sources are catalog tables or the project's parquet files;
spark_engine.py). connect.py opens one by name."""
from __future__ import annotations

from pathlib import Path

from segc.front.errors import Diagnostic, SegcError
from segc.run.masking import mask_values


def engine_message(e: BaseException | str) -> str:
    """The telling line of an engine error with every value masked (masking.py: they may be
    personal data). Every engine error segc shows goes through here."""
    lines = [ln.strip() for ln in mask_values(str(e).strip()).splitlines() if ln.strip()]
    if not lines:
        return type(e).__name__
    message = lines[0]
    # DuckDB's CSV errors say where on their first line and what on a later one
    if "CSV Error on Line" in message:
        message += ": " + next((ln for ln in lines if ln.startswith("Error when converting")), "")
    return message.rstrip(": ")[:300]


def open_duckdb():
    """A new in-memory DuckDB whose session time zone is UTC. DuckDB's default is the
    process's local time zone (TZ), which decides how a TIMESTAMPTZ value compares with a
    timestamp or date: the same data gave other counts under TZ=Asia/Tokyo than under
    TZ=UTC. Every DuckDB connection segc opens comes from here."""
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    return con


class Engine:
    """An open connection that runs SQL of one dialect."""

    dialect = ""
    name = ""

    def execute(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def close(self) -> None:
        pass


def naive_utc(v):
    """A TIMESTAMPTZ value as segc's timestamps are: its UTC wall time, without a zone.
    DuckDB and psycopg return an aware datetime, which printed `2023-10-20T16:02:06+00:00`
    where the same data in a TIMESTAMP column printed `2023-10-20T16:02:06`."""
    import datetime as dt

    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return v


def duckdb_path(path) -> str:
    """A local path as DuckDB must be given it. DuckDB encodes the text in UTF-8 to open the
    file, while Python decoded the file system's bytes in the locale's encoding: in a Latin-1
    locale `/home/josé/` (UTF-8 bytes on disk) became `josÃ©` and was not found, and with
    LC_ALL=C PYTHONUTF8=0 its surrogates failed to convert. The bytes, read as UTF-8, are the
    name DuckDB opens; bytes that are no UTF-8 are left to DuckDB's own error."""
    import os

    raw = os.fsencode(str(path))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return str(path)


def source_file(schema, root: Path, src) -> tuple[Path, str]:
    """The local file of a source, resolved in the project (and how messages name it);
    E702 when it does not exist."""
    display = str(Path(src.path))
    try:
        path = (Path(root) / src.path).resolve()
        found = path.exists()
    except (OSError, ValueError) as e:  # a name too long, a NUL character
        raise SegcError(Diagnostic("E702", f"data file of source `{src.name}` cannot be opened: "
                                   f"{getattr(e, 'strerror', None) or e}",
                                   schema.key_span("sources", src.name, "path"),
                                   hints=("fix `path:`",))) from None
    if not found:
        raise SegcError(Diagnostic("E702", f"data file of source `{src.name}` not found: {display}",
                                   schema.key_span("sources", src.name, "path"),
                                   hints=("generate or copy the data, or fix `path:`",)))
    return path, display
