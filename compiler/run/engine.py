"""Where compiled SQL runs. Every engine executes the same compiler output, rendered for
its dialect: DuckDB (embedded, over the project's local files; the default), PostgreSQL
(a DSN; the sources are tables in the database) and Spark (local mode or a cluster; the
sources are catalog tables or the project's parquet files)."""
from __future__ import annotations

import re
from pathlib import Path

from sqlglot import exp

from segc.front.errors import Diagnostic, Interrupted, SegcError
from segc.backend.lower import ident, table
from segc.schema.segc_yml import Schema

_READERS = {".parquet": "read_parquet", ".csv": "read_csv_auto", ".json": "read_json_auto",
            ".jsonl": "read_json_auto", ".ndjson": "read_json_auto"}
_DATABASES = (".duckdb", ".db", ".ddb")


def _engine_message(e: Exception) -> str:
    """The first line of an engine error, without quoted values (they may be personal data)."""
    return re.sub(r"'[^']*'", "'…'", str(e).split("\n")[0])[:300]


def connect_duckdb(schema: Schema, root: Path):
    """An in-memory DuckDB where each source's warehouse name is a view over its local file.
    User files are only read."""
    import duckdb

    # segc shows its own progress indicator; DuckDB's would write to stderr even in pipes
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    attached: dict[str, str] = {}  # database file -> alias
    for src in schema.sources.values():
        if src.path is None:
            raise SegcError(Diagnostic("E701", f"source `{src.name}` has no `path:` to preview on DuckDB",
                                       schema.key_span("sources", src.name),
                                       hints=("add `path: data/<file>.parquet` (csv, parquet or json)",)))
        path = (root / src.path).resolve()
        display = str(Path(src.path))
        if not path.exists():
            raise SegcError(Diagnostic("E702", f"data file of source `{src.name}` not found: {display}",
                                       schema.key_span("sources", src.name, "path"),
                                       hints=("generate or copy the data, or fix `path:`",)))
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
                                       hints=(_engine_message(e),))) from None
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
                                   hints=(_engine_message(e),
                                          "check that the data files match segc.yml (`segc check --data`)"))) from None


class Engine:
    """An open connection that runs SQL of one dialect."""

    dialect = ""
    name = ""

    def execute(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class DuckDBEngine(Engine):
    dialect = name = "duckdb"

    def __init__(self, schema: Schema, root: Path):
        self.con = connect_duckdb(schema, root)

    def execute(self, sql: str) -> list[tuple]:
        return run(self.con, sql)

    def close(self) -> None:
        self.con.close()


class PostgresEngine(Engine):
    """PostgreSQL through psycopg. The DSN is never echoed: messages name only the host."""

    dialect = name = "postgres"

    def __init__(self, dsn: str):
        try:
            import psycopg
        except ImportError:
            raise SegcError(Diagnostic("E720", "the postgres engine needs psycopg",
                                       hints=("pip install 'psycopg[binary]'",))) from None
        try:
            self.con = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
        except psycopg.Error as e:
            raise SegcError(Diagnostic("E721", "cannot connect to PostgreSQL" + _where(dsn),
                                       hints=(_pg_reason(e),))) from None
        except Exception:  # a malformed DSN
            raise SegcError(Diagnostic("E721", "cannot connect to PostgreSQL: the DSN is malformed",
                                       hints=("e.g. postgresql://user@host:5432/db, or set SEGC_DSN",))) from None

    def execute(self, sql: str) -> list[tuple]:
        import psycopg

        try:
            with self.con.cursor() as cur:
                cur.execute(sql)
                return [tuple(_plain(v) for v in row) for row in cur.fetchall()]
        except KeyboardInterrupt:  # psycopg has already asked the server to cancel the query
            raise Interrupted("interrupted: the query was cancelled") from None
        except psycopg.Error as e:
            hint = _engine_message(e)
            if getattr(e, "sqlstate", None) == "42P01":
                hint = "a source table is missing: " + hint + " (check `table:` in segc.yml)"
            raise SegcError(Diagnostic("E722", "the query failed on PostgreSQL", hints=(hint,))) from None

    def close(self) -> None:
        self.con.close()


def _plain(v):
    from decimal import Decimal

    return float(v) if isinstance(v, Decimal) else v


def _where(dsn: str) -> str:
    try:
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(dsn)
    except Exception:
        return ""
    host = info.get("host") or "localhost"
    return f" at {host}:{info.get('port') or 5432}" if "/" not in str(host) else ""


def _pg_reason(e: Exception) -> str:
    text = str(e).lower()
    if "invalid" in text and ("connection option" in text or "uri" in text) or 'missing "="' in text:
        return "the DSN is malformed: e.g. postgresql://user@host:5432/db"
    if "password" in text and ("authentication" in text or "failed" in text):
        return "authentication failed: check the user and password"
    if "does not exist" in text and "database" in text:
        return "the database does not exist"
    if "refused" in text or "could not connect" in text or "timeout" in text or "no such file" in text:
        return "the server is unreachable: check host and port, and that it is running"
    return "the server refused the connection"


def open_engine(kind: str, schema: Schema, root: Path, dsn: str | None = None,
                master: str | None = None) -> Engine:
    if kind == "duckdb":
        return DuckDBEngine(schema, root)
    if kind == "postgres":
        if not dsn:
            raise SegcError(Diagnostic("E723", "the postgres engine needs a DSN",
                                       hints=("pass --dsn or set the environment variable SEGC_DSN",)))
        return PostgresEngine(dsn)
    if kind == "spark":
        from segc.run.spark_engine import SparkEngine

        return SparkEngine(schema, root, master)
    raise SegcError(Diagnostic("E724", f"unknown engine `{kind}`", hints=("engines: duckdb, postgres, spark",)))
