"""The embedded DuckDB engine: the project's local files as views, queries run so that
Ctrl-C stops them at once."""
from __future__ import annotations

from pathlib import Path

from sqlglot import exp

from segc.backend.lower import ident, table
from segc.front.errors import Diagnostic, Interrupted, SegcError
from segc.run.engine import Engine, engine_message, open_duckdb, source_file
from segc.schema.segc_yml import Schema

_READERS = {".parquet": "read_parquet", ".csv": "read_csv_auto", ".json": "read_json_auto",
            ".jsonl": "read_json_auto", ".ndjson": "read_json_auto"}
_DATABASES = (".duckdb", ".db", ".ddb")


def connect_duckdb(schema: Schema, root: Path):
    """An in-memory DuckDB where each source's warehouse name is a view over its local file.
    User files are only read."""
    import duckdb

    con = open_duckdb()
    # segc shows its own progress indicator; DuckDB's would write to stderr even in pipes
    con.execute("SET enable_progress_bar = false")
    attached: dict[str, str] = {}  # database file -> alias
    for src in schema.sources.values():
        if src.path is None:
            raise SegcError(Diagnostic("E701", f"source `{src.name}` has no `path:` to preview on DuckDB",
                                       schema.key_span("sources", src.name),
                                       hints=("add `path: data/<file>.parquet` (csv, parquet or json)",)))
        path, display = source_file(schema, root, src)
        suffix = path.suffix.lower()
        target = table(".".join(src.table.split(".")[-2:]))
        statements = []
        if suffix in _DATABASES:
            # a DuckDB database file: attached read-only, the source's table read from it
            if str(path) not in attached:
                attached[str(path)] = f"segc_db_{len(attached)}"
                statements.append(exp.Attach(
                    this=exp.alias_(exp.Literal.string(str(path)), ident(attached[str(path)])), exists=False,
                    expressions=[exp.AttachOption(this=exp.var("READ_ONLY"))]))
            alias = attached[str(path)]
            scan = exp.select(exp.Star()).from_(table(f"{alias}.{src.table}"))
        elif suffix in _READERS:
            scan = exp.select(exp.Star()).from_(
                exp.Table(this=exp.Anonymous(this=_READERS[suffix], expressions=[exp.Literal.string(str(path))])))
        else:
            raise SegcError(Diagnostic("E703", f"cannot read `{display}`: use .parquet, .csv, .json or a "
                                       ".duckdb database", schema.key_span("sources", src.name, "path")))
        statements.append(exp.Create(this=target, kind="VIEW", expression=scan))
        if target.args.get("db") is not None:
            statements.insert(len(statements) - 1, exp.Create(this=exp.Table(this=target.args["db"].copy()), kind="SCHEMA", exists=True))
        try:
            for statement in statements:
                con.execute(statement.sql(dialect="duckdb"))
            con.execute(exp.select(exp.Star()).from_(target.copy()).limit(0).sql(dialect="duckdb")).fetchall()
        except duckdb.Error as e:
            raise SegcError(Diagnostic("E704", f"cannot read data file {display} of source `{src.name}`",
                                       schema.key_span("sources", src.name, "path"),
                                       hints=(engine_message(e),))) from None
    return con


def run(con, sql: str) -> list[tuple]:
    """The query's rows. It runs in a worker thread so that Ctrl-C reaches the main thread
    at once: DuckDB checks for interrupts only between some operators (a window sort kept a
    query running 14 s after Ctrl-C), so the main thread interrupts it and gives up."""
    import threading

    import duckdb

    outcome: dict = {}

    def work():
        try:
            outcome["rows"] = con.execute(sql).fetchall()
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
        raise SegcError(Diagnostic("E705", "the query failed on DuckDB",
                                   hints=(engine_message(e),
                                          "check that the data files match segc.yml (`segc check --data`)"))) from None


class DuckDBEngine(Engine):
    dialect = name = "duckdb"

    def __init__(self, schema: Schema, root: Path):
        self.con = connect_duckdb(schema, root)

    def execute(self, sql: str) -> list[tuple]:
        return run(self.con, sql)

    def close(self) -> None:
        self.con.close()
