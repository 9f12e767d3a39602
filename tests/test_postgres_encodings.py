"""PostgreSQL databases whose encoding is not UTF8 (LATIN1, SQL_ASCII: both still common),
or a PGCLIENTENCODING in the user's environment: psycopg encoded the compiled SQL in the
database's encoding, so a project with a value `Łódź` (LATIN1) or a column `Ville_é`
(SQL_ASCII) ended in a UnicodeEncodeError traceback (s12C F6). segc now talks UTF8 to every
database (the server converts); what the database cannot hold is an E722 that says so, and
SQL_ASCII bytes that are not UTF-8 an E722 that shows none of them.
"""
from __future__ import annotations

import psycopg
import pytest
from psycopg import sql as pgsql
from psycopg.conninfo import make_conninfo
from typer.testing import CliRunner

from segc.cli.main import app
from tests.conftest import write_project

CONFIG = {"name": "enc", "entity": "customer", "base": "customers", "key": "customer_id", "as_of": "2024-07-01",
          "sources": {"customers": {"table": "crm.customers"}},
          "features": {"city": {"type": "string", "column": "Ville_é"}}}
SEGMENTS = 'segment zurich = city = "Zürich"\nsegment not_zurich = not city starts with "Zü"\nsegment lodz = city = "Łódź"\n'


def _database(pg_dsn: str, name: str, encoding: str, rows: list[tuple[int, bytes]]) -> str:
    """A database of that encoding holding crm.customers(customer_id, "Ville_é") with the rows'
    bytes as they are (SQL_ASCII keeps them unconverted)."""
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(pgsql.SQL("DROP DATABASE IF EXISTS {}").format(pgsql.Identifier(name)))
        con.execute(pgsql.SQL("CREATE DATABASE {} ENCODING {} TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'")
                    .format(pgsql.Identifier(name), pgsql.Literal(encoding)))
    dsn = make_conninfo(pg_dsn, dbname=name)
    with psycopg.connect(dsn, autocommit=True, client_encoding="UTF8") as con:
        con.execute('CREATE SCHEMA crm; CREATE TABLE crm.customers (customer_id bigint, "Ville_é" text)')
    with psycopg.connect(dsn, autocommit=True, client_encoding="SQL_ASCII") as con:  # bytes as given
        for key, city in rows:
            con.execute(b'INSERT INTO crm.customers VALUES (%d, \'' % key + city + b"')")
    return dsn


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return write_project(tmp_path_factory.mktemp("enc"), CONFIG, SEGMENTS)


def _run(project, dsn, *args):
    result = CliRunner().invoke(app, [*args, "-p", str(project), "--engine", "postgres", "--dsn", dsn,
                                      "--format", "json"])
    assert "Traceback" not in result.output and not isinstance(result.exception, UnicodeError), result.output
    return result


def test_a_sql_ascii_database_of_utf8_text(pg_dsn, project):
    dsn = _database(pg_dsn, "segc_enc_sqlascii", "SQL_ASCII",
                    [(1, "Zürich".encode()), (2, "Łódź".encode()), (3, "Genève".encode())])
    result = _run(project, dsn, "sample", "not_zurich")
    assert result.exit_code == 0, result.output
    assert '"Łódź"' in result.stdout and '"Genève"' in result.stdout
    assert '"count": 1' in _run(project, dsn, "count", "lodz").stdout


def test_a_latin1_database(pg_dsn, project):
    dsn = _database(pg_dsn, "segc_enc_latin1", "LATIN1", [(1, "Zürich".encode("latin-1")),
                                                         (2, "Genève".encode("latin-1"))])
    result = _run(project, dsn, "sample", "zurich")
    assert result.exit_code == 0 and '"Zürich"' in result.stdout, result.output
    # Ł is no LATIN1 character: the database cannot compare with it
    result = _run(project, dsn, "count", "lodz")
    assert result.exit_code == 1 and "E722" in result.output and "encoding cannot hold" in result.output


def test_pgclientencoding_in_the_environment(pg_dsn, project, monkeypatch):
    dsn = _database(pg_dsn, "segc_enc_utf8", "UTF8", [(1, "Łódź".encode())])
    monkeypatch.setenv("PGCLIENTENCODING", "LATIN1")
    result = _run(project, dsn, "sample", "lodz")
    assert result.exit_code == 0 and '"Łódź"' in result.stdout, result.output


def test_sql_ascii_bytes_that_are_not_utf8_show_no_value(pg_dsn, project):
    dsn = _database(pg_dsn, "segc_enc_sqlascii_bad", "SQL_ASCII", [(1, "Zürich".encode("latin-1"))])
    result = _run(project, dsn, "sample", "not_zurich")
    assert result.exit_code == 1 and "E722" in result.output and "not valid in its encoding" in result.output
    assert "rich" not in result.output and "0xfc" not in result.output  # no byte of the value


def test_floats_arrive_exact_whatever_extra_float_digits_says(pg_dsn, project):
    """A database set to extra_float_digits = -3 sent floats rounded to 12 digits (s12C F7)."""
    from segc.run.postgres_engine import PostgresEngine

    dsn = _database(pg_dsn, "segc_float_digits", "UTF8", [])
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute("ALTER DATABASE segc_float_digits SET extra_float_digits = -3")
    engine = PostgresEngine(dsn)
    try:
        assert engine.execute("SELECT CAST(0.1 AS DOUBLE PRECISION) * 3, CAST(1 AS DOUBLE PRECISION) / 3") \
            == [(0.1 * 3, 1 / 3)]
    finally:
        engine.close()
