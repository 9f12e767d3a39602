"""E721's hint names the cause of a failed connection (s12C F15): an unterminated quote or a
bad %-escape in the DSN said "the server refused the connection", a setting the server
refuses (`options='-c statement_timeout=x'`) "the server is unreachable". No part of the DSN
(a password) is printed.
"""
from __future__ import annotations

import pytest
from psycopg.conninfo import make_conninfo

import segc
from segc.run.postgres_engine import PostgresEngine
from tests.conftest import EXAMPLE

SECRET = "S3CRETpw"


@pytest.mark.parametrize("dsn", [f"host=127.0.0.1 port=1 password='{SECRET}", f"postgresql://u:{SECRET}%zz@h/db"])
def test_a_malformed_dsn_says_so(dsn):
    with pytest.raises(segc.SegcError) as e:
        PostgresEngine(dsn)
    (d,) = e.value.diagnostics
    assert d.code == "E721" and "malformed" in " ".join(d.hints) and SECRET not in str(d)


def test_a_refused_setting_says_so(pg_dsn):
    dsn = make_conninfo(pg_dsn, options=f"-c statement_timeout={SECRET}")
    with pytest.raises(segc.SegcError) as e:
        PostgresEngine(dsn)
    (d,) = e.value.diagnostics
    assert d.code == "E721" and "refused a setting" in " ".join(d.hints) and SECRET not in str(d)


@pytest.mark.parametrize("word, close", [("Postgres", "postgres"), ("postgresql", "postgres"), ("DuckDB", "duckdb"),
                                         ("oracle", None)])
def test_an_unknown_engine_suggests_the_close_one(word, close):
    from segc.run.connect import open_engine

    project = segc.load_project(EXAMPLE)
    with pytest.raises(segc.SegcError) as e:
        open_engine(word, project.schema, project.root, dsn="x")
    (d,) = e.value.diagnostics
    assert d.code == "E724" and (f"did you mean `{close}`?" in d.hints if close else len(d.hints) == 1)
