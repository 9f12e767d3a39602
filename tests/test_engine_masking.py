"""No data value in any engine message (segc/run/masking.py, the one place that masks them).

Unit level: real messages, provoked on DuckDB and PostgreSQL here (and recorded from Spark,
whose start takes too long for this file), lose every value, whatever its quoting, and keep
the names that make them useful. End to end: bad data holding an e-mail address and a token
runs through every command that reads data, on DuckDB and on PostgreSQL, and neither value
appears on stdout, on stderr or in any file written."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import psycopg
import pytest
from psycopg import sql as pgsql
from typer.testing import CliRunner

from segc.cli.main import app
from segc.run.engine import engine_message
from segc.run.masking import mask_values

EMAIL = "jane.doe@example.com"
TOKEN = "tok_9f8e7d6c5b4a"
SECRETS = (EMAIL, TOKEN, "jane", "9f8e7d", "99999999999", "2024-13-40", "Jane Doe")


def assert_masked(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, text


# ---- unit: messages provoked on the engines -----------------------------------------------

PROVOKED = [  # queries whose errors quote a value, in each quoting the engines use
    f"SELECT CAST('{EMAIL}' AS DATE)",
    f"SELECT CAST(x AS DATE) FROM (SELECT '{EMAIL}' AS x) AS t",
    f"SELECT CAST(x AS BIGINT) FROM (SELECT '{TOKEN}' AS x) AS t",
    f"SELECT CAST(x AS DOUBLE PRECISION) FROM (SELECT '{TOKEN}' AS x) AS t",
    f"SELECT CAST(x AS DECIMAL(10, 2)) FROM (SELECT '{TOKEN}' AS x) AS t",
    f"SELECT CAST(x AS BOOLEAN) FROM (SELECT '{TOKEN}' AS x) AS t",
    f"SELECT CAST(x AS TIMESTAMP) FROM (SELECT '{EMAIL}' AS x) AS t",
    "SELECT CAST(x AS DATE) FROM (SELECT '2024-13-40' AS x) AS t",
    "SELECT CAST(x AS INT) FROM (SELECT CAST(99999999999 AS BIGINT) AS x) AS t",
    "SELECT CAST(x AS INT) FROM (SELECT '99999999999' AS x) AS t",
    f"SELECT CAST(x AS DATE) FROM (SELECT 'Jane Doe''s \"{EMAIL}\" it''s' AS x) AS t",
    f"SELECT CAST(x AS DATE) FROM (SELECT 'Jane Doe\n{EMAIL}' AS x) AS t",
    f"SELECT CAST(x AS INTERVAL) FROM (SELECT '{TOKEN}' AS x) AS t",
    f"SELECT CAST(x AS UUID) FROM (SELECT '{TOKEN}' AS x) AS t",
]


# functions of an `sql:` feature whose errors repeat their argument: a pattern or a format
# read from a row (RE2's messages end with the pattern's piece; strptime repeats the string
# on a line of its own; unhex names the digit)
FROM_ROW = "FROM (SELECT 'Jane Doe' AS x) AS t"
DUCKDB_FUNCTIONS = [f"SELECT regexp_matches('a', x || p) FROM (SELECT 'Jane Doe' AS x, p) AS t, "
                    f"(VALUES ('('), (')'), ('['), ('\\'), ('\\q'), ('{{2,1}}'), ('**'), ('(?P<y'), ('[z-a]')) AS v(p)",
                    f"SELECT string_split_regex(x, x || '(') {FROM_ROW}",
                    f"SELECT strptime(x, '%Y') {FROM_ROW}",
                    f"SELECT unhex(x) {FROM_ROW}"]


@pytest.mark.parametrize("query", PROVOKED + DUCKDB_FUNCTIONS)
def test_duckdb_messages_are_masked(query):
    with pytest.raises(duckdb.Error) as caught:
        duckdb.connect().execute(query).fetchall()
    assert_masked(mask_values(str(caught.value)))
    assert_masked(engine_message(caught.value))


def test_duckdb_csv_messages_are_masked(tmp_path):
    data = tmp_path / "bad.csv"
    data.write_text("id,d,n\n" + "".join(f"{i},2024-01-01,{i}\n" for i in range(25000))
                    + f"25000,{EMAIL},{TOKEN}\n")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("id,d\n" + "".join(f"{i},x\n" for i in range(25000)) + f"1,{EMAIL},{TOKEN}\n")
    for query in (f"SELECT * FROM read_csv_auto('{data}')", f"SELECT * FROM read_csv_auto('{ragged}')",
                  f"SELECT * FROM read_csv('{data}', columns = {{'id': 'INT', 'd': 'DATE', 'n': 'BOOLEAN'}})"):
        with pytest.raises(duckdb.Error) as caught:
            duckdb.connect().execute(query).fetchall()
        assert_masked(mask_values(str(caught.value)))
        message = engine_message(caught.value)
        assert_masked(message)
        assert "CSV Error on Line" in message


@pytest.mark.parametrize("query", PROVOKED + [f"SELECT CAST($${EMAIL}$$ AS DATE)",
                                              f"SELECT CAST($q${TOKEN}$q$ AS BIGINT)",
                                              f"SELECT to_date('{EMAIL}', 'YYYY-MM-DD')",
                                              f"SELECT CAST('{{{EMAIL}' AS JSONB)"])
def test_postgres_messages_are_masked(pg_dsn, query):
    query = query.replace("DOUBLE PRECISION", "FLOAT8")
    with psycopg.connect(pg_dsn, autocommit=True) as con, pytest.raises(psycopg.Error) as caught:
        con.execute(query)
    assert_masked(mask_values(str(caught.value)))
    assert_masked(engine_message(caught.value))


# Recorded from pyspark 4.3 local mode (ANSI on, as segc runs it): a Spark session takes
# too long to start for this file; tests/test_engines_parity.py runs Spark.
SPARK = [
    f"[CAST_INVALID_INPUT] The value '{EMAIL}' of the type \"STRING\" cannot be cast to \"DATE\" because it is "
    "malformed. Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate "
    "malformed input and return NULL instead. SQLSTATE: 22018\n== SQL (line 1, position 8) ==\n"
    f"select cast('{EMAIL}' as date)\n       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n",
    "[CAST_OVERFLOW] The value 99999999999L of the type \"BIGINT\" cannot be cast to \"INT\" due to an overflow. "
    "Use `try_cast` to tolerate overflow and return NULL instead. SQLSTATE: 22003",
    "[NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION]  99999999999.123 cannot be represented as Decimal(5, 2). If "
    "necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error, and return NULL instead. "
    "SQLSTATE: 22003",
    f"[CANNOT_PARSE_TIMESTAMP] Text '{EMAIL}' could not be parsed at index 0. Use `try_to_date` to tolerate "
    "invalid input string and return NULL instead. SQLSTATE: 22007",
    f"\n[CAST_INVALID_INPUT] The value '{TOKEN}' of the type \"STRING\" cannot be cast to \"BIGINT\" because it "
    "is malformed. SQLSTATE: 22018",
    # java.util.regex.PatternSyntaxException's text (the JDK's getMessage: the description,
    # " near index N", the pattern and a caret on lines of their own), for a pattern from a row
    "java.util.regex.PatternSyntaxException: Unclosed group near index 9\nJane Doe(\n         ^",
]


@pytest.mark.parametrize("message", SPARK)
def test_spark_messages_are_masked(message):
    assert_masked(mask_values(message))
    assert_masked(engine_message(message))


@pytest.mark.parametrize("text", [
    f"Invalid Input Error: {EMAIL}",  # unquoted, after a colon
    f"error near `{TOKEN}` and `Jane Doe`",  # backticks outside a name context
    f"value $tag${EMAIL}$tag$ and $$Jane Doe$$",  # dollar quotes
    f"unterminated \"{EMAIL} and the rest",  # an unclosed quote masks to the end
    f"Conversion Error: Could not convert string \"Jane Doe\" to 'DATE'",
    f"Type INT64 with value 99999999999 can't be cast because the value is out of range",
    f"missing ): ({TOKEN}",  # an unquoted token
    f"column \"{EMAIL}\" does not exist",  # in a name context, but not shaped like a name
])
def test_every_quoting_is_masked(text):
    assert_masked(mask_values(text))


@pytest.mark.parametrize("text, kept", [
    ('column "nosuch" does not exist\nLINE 1: SELECT nosuch', 'column "nosuch" does not exist'),
    ('relation "shop.customers" does not exist', 'relation "shop.customers" does not exist'),
    ('Binder Error: Referenced column "purchases_90d" not found in FROM clause!', 'column "purchases_90d" not found'),
    ("[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `nosuch` cannot "
     "be resolved. Did you mean one of the following? [`d`, `id`, `n`]. SQLSTATE: 42703; line 1 pos 7;",
     "with name `nosuch` cannot be resolved. Did you mean one of the following? [`d`, `id`, `n`]. SQLSTATE: 42703; line 1 pos 7"),
    ("[TABLE_OR_VIEW_NOT_FOUND] The table or view `shop`.`customers` cannot be found.", "`shop`.`customers`"),
    ("Conversion Error: Could not convert string 'x' to 'DATE'", "to 'DATE'"),
    ('The value \'x\' of the type "STRING" cannot be cast to "DECIMAL(10,2)"', '"STRING" cannot be cast to "DECIMAL(10,2)"'),
    ("Conversion Error: CSV Error on Line: 25002", "Line: 25002"),
    ("Type INT64 with value 5 can't be cast", "INT64 with value … can't be cast"),
])
def test_names_types_and_positions_are_kept(text, kept):
    assert kept in engine_message(text)


# ---- end to end: every command that reads data, on bad data -------------------------------

CONFIG = """\
name: leaky
entity: customer
base: customers
key: customer_id
as_of: 2024-07-01
min_size: 1
sources:
  customers:
    table: shop.customers
    path: data/customers.csv
    columns: {contact: string, ref: string}  # what the sql: features read
  orders:
    table: shop.orders
    path: data/orders.csv
    key: customer_id
    time: ordered_at
    columns: {amount: float}
features:
  signup_date: {type: date}
  score: {type: int}
  vip: {type: bool}
  contact_date: {type: date, sql: "CAST(contact AS DATE)"}
  ref_num: {type: int, sql: "CAST(ref AS BIGINT)"}
kpis:
  vips: {count_of: vip}
  mean_score: {avg: score}
scores:
  potential:
    target: 'count(orders during last 30 days) >= 1'
    horizon: 30 days
    features: [score, ref_num, vip]
    train_as_of: 2024-01-01
    validate_as_of: 2024-03-01
"""
SEGMENTS = """\
segment uses_all = signup_date >= 2024-01-15 or score > 5 or vip or contact_date > 2020-01-01 or ref_num > 0
segment high = score > 5 and ref_num > 0
segmentation tier {
  hi = contact_date > 2020-01-01 and score > 5
  lo = else
}
"""
FIXTURE = f"""\
as_of: 2024-07-01
rows:
  customers:
    - {{customer_id: 1, signup_date: 2024-01-01, score: 3, vip: true, contact: "{EMAIL}", ref: "{TOKEN}"}}
  orders: []
expect:
  uses_all: [1]
"""
HEADER = "customer_id,signup_date,score,vip,contact,ref"
GOOD = [f"{i},2024-01-{i % 28 + 1:02d},{i % 10},{'true' if i % 2 else 'false'},2020-01-01,{i}" for i in range(1, 25001)]
# how each scenario spoils customers.csv: a value the sniffer reads as text (cast by a
# feature's `sql:`), a value past the sniffer's sample in a date, int or bool column, a row
# that does not parse
DUCKDB_DATA = {
    "cast": [HEADER, f"0,2024-01-01,1,false,{EMAIL},{TOKEN}", *GOOD[:300]],
    "late_date": [HEADER, *GOOD, f"25001,{EMAIL},1,true,2020-01-01,1"],
    "late_int": [HEADER, *GOOD, f"25001,2024-01-01,{TOKEN},true,2020-01-01,1"],
    "late_bool": [HEADER, *GOOD, f"25001,2024-01-01,1,{TOKEN},2020-01-01,1"],
    "ragged": [HEADER, *GOOD, f"25001,2024-01-01,1,true,{EMAIL},{TOKEN},Jane Doe"],
}
COMMANDS = {  # name -> arguments after the project (`{out}`: a file in a fresh folder)
    "count": ["count"], "count-json": ["count", "-f", "json"], "count-csv": ["count", "-f", "csv"],
    "sample": ["sample", "uses_all"], "profile": ["profile", "uses_all"],
    "overlap": ["overlap", "uses_all", "high"],
    "transitions": ["transitions", "tier", "--from", "2024-01-01", "--to", "2024-07-01"],
    "report": ["report"], "report-json": ["report", "-f", "json", "--out", "{out}"],
    "report-csv": ["report", "-f", "csv"], "report-html": ["report", "-f", "html", "--out", "{out}"],
    "score": ["score", "fit", "potential"],
    "check-data": ["check", "--data"], "test": ["test"],
    "discover": ["discover", "--features", "score,ref_num,vip", "--out", "{out}"],
}
POSTGRES_COMMANDS = ("count", "count-json", "count-csv", "sample", "profile", "overlap", "transitions",
                     "report", "report-json", "report-csv", "report-html", "score")


def _project(folder: Path, customers: list[str]) -> Path:
    for sub in ("data", "segments", "tests"):
        (folder / sub).mkdir(parents=True)
    (folder / "segc.yml").write_text(CONFIG)
    (folder / "segments" / "a.seg").write_text(SEGMENTS)
    (folder / "tests" / "leak.yml").write_text(FIXTURE)
    (folder / "data" / "customers.csv").write_text("\n".join(customers) + "\n")
    orders = ["customer_id,ordered_at,amount"] + [f"{i % 300 + 1},2024-0{i % 6 + 1}-1{i % 9} 10:00:00,{i % 50}.5"
                                                  for i in range(900)]
    (folder / "data" / "orders.csv").write_text("\n".join(orders) + "\n")
    return folder


def _files(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _run_everywhere(project: Path, outdir: Path, command: str, extra: list[str]) -> str:
    """Run one command; returns what it printed. Fails on a traceback, a secret in the
    output, or a secret in a file it wrote or changed."""
    before = _files(project)
    outdir.mkdir()
    suffix = {"report-json": ".json", "report-html": ".html", "discover": ".seg"}.get(command, "")
    args = [a.replace("{out}", str(outdir / f"out{suffix}")) for a in COMMANDS[command]]
    result = CliRunner().invoke(app, [*args, "-p", str(project), *extra])
    out = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), (command, out)
    assert "Traceback" not in out, out
    assert_masked(out)
    written = {p: b for p, b in _files(project).items() if before.get(p) != b}
    written.update(_files(outdir))
    for path, content in written.items():
        assert_masked(content.decode("utf-8", "replace"))
    return out


@pytest.mark.parametrize("scenario", list(DUCKDB_DATA))
def test_no_value_in_any_output_on_duckdb(tmp_path, scenario):
    project = _project(tmp_path / "p", DUCKDB_DATA[scenario])
    failed = []
    for i, command in enumerate(COMMANDS):
        out = _run_everywhere(project, tmp_path / f"out{i}", command, [])
        failed.append("error[" in out)
    # the data is bad for most commands: the test proves that their errors are masked, so
    # most of them must have failed on it
    assert sum(failed) >= len(COMMANDS) // 2, failed


@pytest.fixture(scope="module")
def leaky_database(pg_dsn):
    """A database whose shop.customers holds the e-mail in a text column cast to a date by
    a feature's `sql:`, and the token in one cast to a number."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = "segc_leaky"
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(pgsql.SQL("DROP DATABASE IF EXISTS {}").format(pgsql.Identifier(name)))
        admin.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
    dsn = make_conninfo(pg_dsn, dbname=name)
    assert conninfo_to_dict(dsn)["dbname"] == name
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("CREATE SCHEMA shop")
        con.execute("CREATE TABLE shop.customers (customer_id BIGINT, signup_date DATE, score BIGINT, "
                    "vip BOOLEAN, contact TEXT, ref TEXT)")
        con.execute("CREATE TABLE shop.orders (customer_id BIGINT, ordered_at TIMESTAMP, amount DOUBLE PRECISION)")
        with con.cursor() as cur:
            cur.executemany("INSERT INTO shop.customers VALUES (%s, %s, %s, %s, %s, %s)",
                            [(i, f"2024-01-{i % 28 + 1:02d}", i % 10, bool(i % 2), "2020-01-01", str(i))
                             for i in range(1, 301)] + [(301, "2024-01-01", 1, False, EMAIL, TOKEN)])
            cur.executemany("INSERT INTO shop.orders VALUES (%s, %s, %s)",
                            [(i % 300 + 1, f"2024-0{i % 6 + 1}-1{i % 9} 10:00:00", i % 50 + 0.5) for i in range(900)])
    return dsn


@pytest.mark.parametrize("command", POSTGRES_COMMANDS)
def test_no_value_in_any_output_on_postgres(tmp_path, leaky_database, command):
    project = _project(tmp_path / "p", DUCKDB_DATA["cast"])
    out = _run_everywhere(project, tmp_path / "out", command, ["--engine", "postgres", "--dsn", leaky_database])
    assert "error[E722]" in out, out  # the query failed on the bad value, and said so without it


def test_segc_test_rows_an_engine_refuses_are_a_diagnostic(tmp_path):
    """A fixture value the engine cannot hold was a traceback quoting it. An int over 64 bits
    is now refused before loading, located in the test file (whose line the diagnostic shows);
    a value only the engine refuses (a lone surrogate in a string) is E804 without the value."""
    project = _project(tmp_path / "p", DUCKDB_DATA["cast"])
    (project / "tests" / "leak.yml").write_text(FIXTURE.replace("score: 3", "score: 99999999999999999999"))
    result = CliRunner().invoke(app, ["test", "-p", str(project)])
    out = result.stdout + result.stderr
    assert result.exit_code == 1 and "error[E804]" in out and "outside the range of an int" in out, out
    assert "leak.yml:4:" in out and "cannot be loaded" not in out
    assert result.exception is None or isinstance(result.exception, SystemExit), out
    assert "Traceback" not in out

    (project / "tests" / "leak.yml").write_text(FIXTURE.replace(f'ref: "{TOKEN}"', 'ref: "secret\\ud800value"'))
    result = CliRunner().invoke(app, ["test", "-p", str(project)])
    out = result.stdout + result.stderr
    assert result.exit_code == 1 and "error[E804]" in out and "cannot be loaded into duckdb" in out, out
    assert result.exception is None or isinstance(result.exception, SystemExit), out
    assert "secret" not in out and "Traceback" not in out


def test_no_value_in_a_spark_failure(tmp_path):
    """Spark (ANSI casts) in a child process: one Spark start, so one command."""
    import os
    import subprocess
    import sys

    project = _project(tmp_path / "p", DUCKDB_DATA["cast"])
    code = "import sys; sys.argv[0] = 'segc'; from segc.cli.main import main; main()"
    result = subprocess.run([sys.executable, "-c", code, "count", "-p", str(project), "--engine", "spark"],
                            capture_output=True, text=True, timeout=300, env=dict(os.environ))
    out = result.stdout + result.stderr
    assert result.returncode == 1 and "error[E736]" in out and "Traceback" not in out, out
    assert_masked(out)
