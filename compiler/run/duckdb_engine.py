"""The embedded DuckDB engine: the project's local files as views, queries run so that
Ctrl-C stops them at once.

CSV files are read by DuckDB's `read_csv_auto` with the options of the source in segc.yml
(`dateformat`, `timestampformat`, `delimiter`, `header`); DuckDB detects the rest, but a
column it reads as text that segc.yml types otherwise is read as declared. A CSV
value that DuckDB cannot convert (a date in another format, a word in a number column) is
E707, naming the file, the column and the line, never the value."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlglot import exp

from segc.backend.trees import ident, table
from segc.front.errors import Diagnostic, Interrupted, SegcError
from segc.run.engine import Engine, duckdb_path, engine_message, naive_utc, open_duckdb, source_file
from segc.schema.physical import normalised_table
from segc.schema.segc_yml import Schema, SourceDef

_READERS = {".parquet": "read_parquet", ".csv": "read_csv_auto", ".json": "read_json_auto",
            ".jsonl": "read_json_auto", ".ndjson": "read_json_auto"}
_DATABASES = (".duckdb", ".db", ".ddb")
_CSV_OPTIONS = {"dateformat": "dateformat", "timestampformat": "timestampformat", "delimiter": "delim",
                "header": "header"}  # segc.yml's name -> read_csv's
_TEMPORAL = ("date", "timestamp")


@dataclass
class _Files:
    """What the views read, for messages about the data: each CSV file by its resolved path
    (source, as messages name it), and the columns segc.yml declares a date or a timestamp
    that DuckDB read as text (source, file, column, type)."""
    csv: dict[str, tuple[SourceDef, str]] = field(default_factory=dict)
    text_dates: list[tuple[SourceDef, str, str, str]] = field(default_factory=list)


def local_name(src: SourceDef) -> str:
    """The view a source's data is read through on the local DuckDB: its `table:` without a
    catalog (`schema.table` or `table`)."""
    return ".".join(src.table.split(".")[-2:])


def _connect(schema: Schema, root: Path):
    """An in-memory DuckDB where each source's warehouse name is a view over its local file
    (user files are only read), and what messages need to know of the files."""
    import duckdb

    con = open_duckdb()
    # segc shows its own progress indicator; DuckDB's would write to stderr even in pipes
    con.execute("SET enable_progress_bar = false")
    files = _Files()
    attached: dict[str, str] = {}  # database file -> alias
    views: set[str] = set()  # a second source over the same table reads the view already made
    for src in schema.sources.values():
        view = normalised_table(local_name(src))
        if view in views:
            continue
        views.add(view)
        if src.path is None:
            raise SegcError(Diagnostic("E701", f"source `{src.name}` has no `path:` to preview on DuckDB",
                                       schema.key_span("sources", src.name),
                                       hints=("add `path: data/<file>.parquet` (csv, parquet or json)",
                                              "or run where the tables are: `--engine postgres --dsn ...`",)))
        path, display = source_file(schema, root, src)
        suffix = path.suffix.lower()
        target = table(local_name(src))
        statements = []
        if suffix in _DATABASES:
            # a DuckDB database file: attached read-only, the source's table read from it
            if str(path) not in attached:
                attached[str(path)] = f"segc_db_{len(attached)}"
                statements.append(exp.Attach(
                    this=exp.alias_(exp.Literal.string(duckdb_path(path)), ident(attached[str(path)])), exists=False,
                    expressions=[exp.AttachOption(this=exp.var("READ_ONLY"))]))
            alias = attached[str(path)]
            scan = exp.select(exp.Star()).from_(table(f"{alias}.{src.table}"))
        elif suffix in _READERS:
            scan = exp.select(exp.Star()).from_(exp.Table(this=exp.Anonymous(
                this=_READERS[suffix], expressions=[exp.Literal.string(duckdb_path(path)), *_csv_options(src, suffix)])))
        else:
            raise SegcError(Diagnostic("E703", f"cannot read `{display}`: use .parquet, .csv, .json or a "
                                       ".duckdb database", schema.key_span("sources", src.name, "path"),
                                       hints=("convert the file, or load it into a table and give `table:`",)))
        statements.append(exp.Create(this=target, kind="VIEW", expression=scan))
        if target.args.get("db") is not None:
            statements.insert(len(statements) - 1, exp.Create(this=exp.Table(this=target.args["db"].copy()), kind="SCHEMA", exists=True))
        try:
            for statement in statements:
                con.execute(statement.sql(dialect="duckdb"))
            read = con.execute(exp.select(exp.Star()).from_(target.copy()).limit(0).sql(dialect="duckdb"))
            read.fetchall()
        except duckdb.Error as e:
            raise SegcError(Diagnostic("E704", f"cannot read data file {display} of source `{src.name}`",
                                       schema.key_span("sources", src.name, "path"),
                                       hints=(engine_message(e),))) from None
        if suffix == ".csv":
            files.csv[str(path)] = (src, display)
            read_as = {d[0]: str(d[1]).upper() for d in read.description}
            # a column the sniffer read as text but segc.yml types otherwise (empty in every
            # line it sampled, or in all) is read as declared: its empty cells are then
            # missing values, and a value that does not convert is E707 at its line
            typed = {column: _DUCKDB_TYPES[type_] for column, type_ in declared_columns(schema, src).items()
                     if type_ in _DUCKDB_TYPES and read_as.get(column) == "VARCHAR"}
            if typed:
                scan = exp.select(exp.Star()).from_(exp.Table(this=exp.Anonymous(
                    this=_READERS[suffix], expressions=[exp.Literal.string(duckdb_path(path)), *_csv_options(src, suffix),
                                                        _column_types(typed)])))
                con.execute(exp.Create(this=target.copy(), kind="VIEW", expression=scan, replace=True).sql(dialect="duckdb"))
    return con, files


_DUCKDB_TYPES = {"int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP"}


def _column_types(typed: dict[str, str]) -> exp.Expression:
    """read_csv's `types = {'column': 'TYPE', ...}`."""
    return exp.EQ(this=exp.column("types"), expression=exp.Struct(expressions=[
        exp.PropertyEQ(this=exp.Literal.string(c), expression=exp.Literal.string(t)) for c, t in sorted(typed.items())]))


def _csv_options(src: SourceDef, suffix: str) -> list[exp.Expression]:
    """`name = value` arguments of read_csv for the options segc.yml sets."""
    if suffix != ".csv":
        return []
    return [exp.EQ(this=exp.column(_CSV_OPTIONS[k]),
                   expression=exp.Boolean(this=v) if isinstance(v, bool) else exp.Literal.string(v))
            for k, v in src.csv.items()]


def declared_columns(schema: Schema, src: SourceDef) -> dict[str, str]:
    """The columns of a source's file that segc.yml gives a type: the base's column
    features, an event source's `time:` and `columns:`."""
    out = {f.column: f.type for f in schema.features.values() if f.kind == "column"} if src.name == schema.base else {}
    if src.time:
        out[src.time] = "timestamp"
    out.update(src.columns)
    return out


def _csv_diagnostics(schema: Schema, files: _Files, e: Exception) -> list[Diagnostic]:
    """E707 for a failed query that CSV data explains: a declared date or timestamp column
    read as text (the query then compares text with dates), or a value DuckDB could not
    convert on some line. None of them carries the value."""
    text = str(e)
    failed = re.search(r'CSV Error on Line: (\d+)', text)
    column = re.search(r'Error when converting column "([^"\n]*)"\. Could not convert string .* to \'([A-Z_ ]+)', text)
    where = re.search(r"^\s*file = (.*)$", text, re.M)
    if failed and column and where and where.group(1).strip() in files.csv:
        src, display = files.csv[where.group(1).strip()]
        name, type_ = column.group(1), column.group(2)
        temporal = type_.startswith(("DATE", "TIMESTAMP"))
        hint = (f"set `{'dateformat' if type_ == 'DATE' else 'timestampformat'}:` on source `{src.name}` "
                "(e.g. \"%d/%m/%Y\") if the file writes its dates another way, or fix that line"
                if temporal else "fix that line, or make the column hold only such values")
        return [Diagnostic("E707", f"column `{name}` of {display} (source `{src.name}`): line {failed.group(1)} "
                           f"holds a value that DuckDB cannot read as {type_} (the type segc.yml declares, or DuckDB "
                           "detected from the first lines)",
                           schema.key_span("sources", src.name, "path"), hints=(hint,))]
    if not text.startswith("Binder Error") or "VARCHAR" not in text:  # not text compared with dates
        return []
    return [Diagnostic("E707", f"column `{column}` of {display} (source `{src.name}`) is declared {type_} "
                       "in segc.yml, but DuckDB could not read its values as such, so it read them as text",
                       schema.key_span("sources", src.name, "path"),
                       hints=(f"set `{'dateformat' if type_ == 'date' else 'timestampformat'}:` on source "
                              f"`{src.name}` to the file's format, e.g. \"%d.%m.%Y\" (strftime fields)",))
            for src, display, column, type_ in files.text_dates]


def run(con, sql: str, explain=None) -> list[tuple]:
    """The query's rows. It runs in a worker thread so that Ctrl-C reaches the main thread
    at once: DuckDB checks for interrupts only between some operators (a window sort kept a
    query running 14 s after Ctrl-C), so the main thread interrupts it and gives up.
    `explain`: error -> the diagnostics that explain it better than E705, if any."""
    import threading

    import duckdb

    outcome: dict = {}

    def work():
        try:
            cursor = con.execute(sql)
            rows = cursor.fetchall()
            zoned = [i for i, d in enumerate(cursor.description or ()) if str(d[1]) == "TIMESTAMP WITH TIME ZONE"]
            if zoned:  # a TIMESTAMPTZ column (parquet written from aware times): its UTC wall time
                rows = [tuple(naive_utc(v) if i in zoned else v for i, v in enumerate(r)) for r in rows]
            outcome["rows"] = rows
        except BaseException as e:  # handed to the main thread
            outcome["error"] = e

    worker = threading.Thread(target=work, name="segc-duckdb", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.05)
    except KeyboardInterrupt:
        con.interrupt()
        raise Interrupted("interrupted: the query was cancelled") from None
    if "rows" in outcome:
        return outcome["rows"]
    try:
        raise outcome["error"]
    except duckdb.Error as e:
        better = explain(e) if explain else None
        if better:
            raise SegcError(better) from None
        raise SegcError(Diagnostic("E705", "the query failed on DuckDB",
                                   hints=(engine_message(e),
                                          "check that the data files match segc.yml (`segc check --data`)"))) from None


class DuckDBEngine(Engine):
    dialect = name = "duckdb"

    def __init__(self, schema: Schema, root: Path):
        self.schema = schema
        self.con, self._files = _connect(schema, root)

    def execute(self, sql: str) -> list[tuple]:
        return run(self.con, sql, explain=lambda e: _csv_diagnostics(self.schema, self._files, e))

    def close(self) -> None:
        self.con.close()
