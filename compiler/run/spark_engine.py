"""The Spark engine: compiled SQL (spark dialect) run through a SparkSession, local mode by
default (`master="local[*]"`) or a cluster's master URL.

Sources: a source whose `table:` exists in the Spark catalog is used as it is. Otherwise,
in a session without a persistent catalog (local mode: the in-memory catalog), a source
with a `path:` is registered under its warehouse name (`shop.customers` -> database
`shop`, an external table over the file; parquet, csv with a header, or JSON lines). The
files are only read. segc never creates tables in a persistent (Hive) catalog.

The session is quiet: the JVM's output goes to a log file in the session's temp folder,
PySpark's own error logger is off, no progress bars. Session time zone UTC; ANSI mode on
(segc guards every divisor with NULLIF, so a division by zero gives NULL, as everywhere).

One SparkSession per process: a second engine reuses the running session (its `master`
is then ignored) and only the engine that started the session stops it. Registered names
belong to the session: of two projects using the same table names with different files,
the engine opened last wins.
"""
from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

from sqlglot import exp

from segc.run.engine import Engine, engine_message, source_file
from segc.front.errors import Diagnostic, SegcError
from segc.schema.segc_yml import Schema

DEFAULT_MASTER = "local[*]"
_FORMATS = {".parquet": ("parquet", {}), ".csv": ("csv", {"header": "true", "inferSchema": "true"}),
            ".json": ("json", {}), ".jsonl": ("json", {}), ".ndjson": ("json", {})}
# tables segc registered, per Spark application: name -> file (re-registered when it changes)
_REGISTERED: dict[str, dict[str, str]] = {}


def _import_pyspark():
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import SparkSession  # noqa: F401
    except ImportError:
        raise SegcError(Diagnostic("E730", "the spark engine needs pyspark",
                                   hints=("install segc's Spark extra: pip install \"segc[spark]\" "
                                          "(it brings pyspark, which needs a Java runtime 17 or 21)",))) from None


def _java_missing() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home:
        return not os.access(os.path.join(home, "bin", "java"), os.X_OK)
    return shutil.which("java") is None


def _jvm_reason(log: Path) -> str:
    """The most telling line of the JVM's output after a failed start."""
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "the Java process exited at start"
    for ln in lines:
        low = ln.lower()
        if "unsupportedclassversionerror" in low or "has been compiled by a more recent version" in low:
            return "the Java runtime is too old for this pyspark: install Java 17 or 21"
        if "java_home is not set" in low or "no such file" in low and "java" in low:
            return "Java was not found: install a Java runtime or set JAVA_HOME"
    for ln in lines:
        if "error" in ln.lower() or "exception" in ln.lower():
            return engine_message(ln)
    return engine_message(lines[-1]) if lines else "the Java process exited at start"


def start_session(master: str | None = None, app_name: str = "segc", settings: dict[str, str] | None = None):
    """Start (or reuse) the process's SparkSession; returns (session, started_here, folder).
    `settings`: extra Spark settings, applied when the session is started here."""
    _import_pyspark()
    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession() or getattr(SparkSession, "_instantiatedSession", None)
    if active is not None:
        return active, False, None
    if _java_missing():
        raise SegcError(Diagnostic("E731", "the spark engine needs a Java runtime, and none was found",
                                   hints=("install one, e.g. `apt-get install default-jre-headless` (Debian/Ubuntu) "
                                          "or Java 17/21 from your vendor, or set JAVA_HOME",)))
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        logging.getLogger(name).disabled = True  # PySpark logs every SQL error as JSON on stderr
    master = master or DEFAULT_MASTER
    folder = Path(tempfile.mkdtemp(prefix="segc-spark-"))
    local = master.startswith("local")
    conf = (SparkConf().setMaster(master).setAppName(app_name)
            .set("spark.sql.session.timeZone", "UTC")
            .set("spark.sql.ansi.enabled", "true")
            .set("spark.ui.showConsoleProgress", "false")
            .set("spark.sql.warehouse.dir", str(folder / "warehouse")))
    if local:  # small local jobs: few shuffle partitions, no web UI, scratch in our folder
        cores = os.cpu_count() or 2
        conf = (conf.set("spark.ui.enabled", "false").set("spark.local.dir", str(folder / "scratch"))
                .set("spark.sql.shuffle.partitions", str(max(2, 2 * cores))))
    for key, value in (settings or {}).items():
        conf = conf.set(key, value)
    from pyspark.java_gateway import launch_gateway

    log = folder / "jvm.log"  # the JVM's stdout and stderr: kept when the start fails
    try:
        gateway = SparkContext._gateway  # a JVM left by a stopped session is reused
        if gateway is None:
            with open(log, "ab") as out:
                gateway = launch_gateway(conf, popen_kwargs={"stdout": out, "stderr": out})
        sc = SparkContext(conf=conf, gateway=gateway)
    except Exception as e:  # JAVA_GATEWAY_EXITED, a bad master URL, ...
        text = str(e)
        reason = _jvm_reason(log) if "JAVA_GATEWAY" in text or "gateway" in text.lower() else engine_message(e)
        raise SegcError(Diagnostic("E732", f"cannot start Spark (master {master})",
                                   hints=(reason, f"the JVM's output is in {log}"))) from None
    sc.setLogLevel("ERROR")
    session = SparkSession(sc)
    atexit.register(_cleanup, session, folder)
    return session, True, folder


def _stop_quietly(session) -> None:
    try:
        session.stop()
    except Exception:
        pass


def _cleanup(session, folder: Path) -> None:
    """At exit: stop the session, then remove its folder (the JVM may still be deleting
    its own scratch files in there: try again briefly)."""
    import time

    _stop_quietly(session)
    for _ in range(20):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.05)


def _name(parts: list[str]) -> str:
    return ".".join(exp.to_identifier(p, quoted=True).sql(dialect="spark") for p in parts)


class SparkEngine(Engine):
    dialect = name = "spark"

    def __init__(self, schema: Schema, root: Path, master: str | None = None, session=None):
        if session is None:
            session, self._owner, self._folder = start_session(master)
        else:
            self._owner, self._folder = False, None
        # a session started elsewhere may have another time zone: UTC, as DuckDB and PostgreSQL
        session.conf.set("spark.sql.session.timeZone", "UTC")
        self.spark = session
        self._register(schema, Path(root))

    # ---- sources ----
    def _register(self, schema: Schema, root: Path) -> None:
        spark = self.spark
        registered = _REGISTERED.setdefault(spark.sparkContext.applicationId, {})
        in_memory = spark.conf.get("spark.sql.catalogImplementation", "in-memory") == "in-memory"
        for src in schema.sources.values():
            parts = src.table.split(".")
            name = ".".join(parts)
            ours = name in registered
            try:
                exists = spark.catalog.tableExists(_name(parts))
            except Exception:
                exists = False
            if exists and not ours:
                continue  # the warehouse's own table
            if src.path is None or not in_memory or (len(parts) == 3 and parts[0] != "spark_catalog") \
                    or len(parts) > 3:
                why = ("add `path:` to read a local file (local mode)" if src.path is None else
                       "segc registers local files only in a session without a persistent catalog (local mode)")
                raise SegcError(Diagnostic("E734", f"table `{name}` of source `{src.name}` not found in the Spark catalog",
                                           schema.key_span("sources", src.name, "table") or schema.key_span("sources", src.name),
                                           hints=(why, "or create the table in the catalog")))
            path, display = source_file(schema, root, src)
            fmt = _FORMATS.get(path.suffix.lower())
            if fmt is None:
                raise SegcError(Diagnostic("E733", f"Spark cannot read `{display}`: use .parquet, .csv or .json",
                                           schema.key_span("sources", src.name, "path"),
                                           hints=("convert the file, or run on DuckDB (leave out --engine)",)))
            if registered.get(name) == str(path):
                continue
            kind, options = fmt
            opts = {"path": str(path), **options}
            if kind == "csv":  # segc.yml's CSV options Spark shares (its date formats are not strftime's)
                opts.update({spark: str(src.csv[key]).lower() if isinstance(src.csv[key], bool) else src.csv[key]
                             for key, spark in (("delimiter", "sep"), ("header", "header")) if key in src.csv})
            option_sql = ", ".join(f"{_name([k])} {exp.Literal.string(v).sql(dialect='spark')}" for k, v in opts.items())
            statements = []
            if len(parts) >= 2:
                statements.append(f"CREATE DATABASE IF NOT EXISTS {_name(parts[:-1])}")
            if ours:  # an external table: dropping it leaves the file alone
                statements.append(f"DROP TABLE IF EXISTS {_name(parts)}")
            statements.append(f"CREATE TABLE {_name(parts)} USING {kind} OPTIONS ({option_sql})")
            try:
                for statement in statements:  # CREATE TABLE reads the file's schema
                    spark.sql(statement)
            except Exception as e:
                raise SegcError(Diagnostic("E735", f"cannot read data file {display} of source `{src.name}` on Spark",
                                           schema.key_span("sources", src.name, "path"),
                                           hints=(engine_message(e),))) from None
            registered[name] = str(path)

    # ---- queries ----
    def execute(self, sql: str) -> list[tuple]:
        try:
            df = self.spark.sql(sql)
            ltz = [i for i, f in enumerate(df.schema.fields) if f.dataType.typeName() == "timestamp"]
            rows = df.collect()
        except Exception as e:
            hint = engine_message(e)
            if "TABLE_OR_VIEW_NOT_FOUND" in str(e):
                hint = "a source table is missing: " + hint + " (check `table:` in segc.yml)"
            raise SegcError(Diagnostic("E736", "the query failed on Spark", hints=(hint,))) from None
        return [tuple(_plain(v, i in ltz) for i, v in enumerate(row)) for row in rows]

    def close(self) -> None:
        if self._owner:
            _REGISTERED.pop(self.spark.sparkContext.applicationId, None)
            _stop_quietly(self.spark)
            self._owner = False
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)


def _plain(v, ltz: bool):
    if isinstance(v, Decimal):
        return float(v)
    if ltz and isinstance(v, dt.datetime) and v.tzinfo is None:
        # PySpark turns a TIMESTAMP (with local time zone) into the Python process's local
        # time; segc's timestamps are naive: give back the session's (UTC) wall time
        return v.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return v
