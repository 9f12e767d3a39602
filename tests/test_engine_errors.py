"""Bad connections and missing tables on PostgreSQL, through the CLI: exit 1, a clear
message, never a traceback, and never the password.

The throwaway server trusts every connection; for the wrong-password case this module
creates a role with a password and puts one line in front of the server's pg_hba.conf
that makes only that role authenticate with scram-sha-256 over TCP (removed at the end).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict
from typer.testing import CliRunner

from segc.cli.main import app
from tests.conftest import EXAMPLE

USER = "segc_pw_user"
DATABASE = "segc_pw_db"
PASSWORD = "Pw-Tr0ub4dor-segc"
WRONG = "Wrong-Xyzzy-9931"
COMMANDS = {
    "count": ["count"],
    "sample": ["sample", "at_risk"],
    "overlap": ["overlap", "at_risk", "inactive_6m"],
    "profile": ["profile", "at_risk"],
    "transitions": ["transitions", "value_tier", "--from", "2024-01-01", "--to", "2024-07-01"],
}


@pytest.fixture(scope="module")
def server(pg_dsn):
    """(host, port) of the server, with a password-protected role and an empty database."""
    info = conninfo_to_dict(pg_dsn)
    line = f"host all {USER} 127.0.0.1/32 scram-sha-256\n"
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        hba = Path(con.execute("SHOW hba_file").fetchone()[0])
        con.execute(pgsql.SQL("DROP DATABASE IF EXISTS {}").format(pgsql.Identifier(DATABASE)))
        con.execute(pgsql.SQL("DROP ROLE IF EXISTS {}").format(pgsql.Identifier(USER)))
        con.execute(pgsql.SQL("SET password_encryption = 'scram-sha-256'"))
        con.execute(pgsql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(pgsql.Identifier(USER),
                                                                         pgsql.Literal(PASSWORD)))
        con.execute(pgsql.SQL("CREATE DATABASE {} OWNER {}").format(pgsql.Identifier(DATABASE),
                                                                    pgsql.Identifier(USER)))
        original = hba.read_text()
        hba.write_text(line + original)
        con.execute("SELECT pg_reload_conf()")
        host, port = info["host"], int(info["port"])
        _wait_for_password_check(host, port)
        try:
            yield host, port
        finally:
            hba.write_text(original)
            con.execute("SELECT pg_reload_conf()")


def _wait_for_password_check(host: str, port: int) -> None:
    """pg_reload_conf() is asynchronous: wait until a wrong password is refused."""
    deadline = time.monotonic() + 10
    while True:
        try:
            psycopg.connect(host=host, port=port, user=USER, password=WRONG, dbname=DATABASE).close()
        except psycopg.OperationalError as e:
            if "password authentication failed" in str(e):
                return
            raise
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start checking passwords after pg_reload_conf()")
        time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args: list[str], env: dict[str, str] | None = None):
    result = CliRunner().invoke(app, [*args, "-p", str(EXAMPLE), "--engine", "postgres"], env=env)
    try:
        out = result.stdout + result.stderr
    except ValueError:
        out = result.output
    return result, out


def assert_clean_failure(result, out: str, *expected: str) -> None:
    assert result.exit_code == 1, out
    assert "Traceback" not in out and result.exception is None or isinstance(result.exception, SystemExit), out
    for text in expected:
        assert text in out, out
    assert PASSWORD not in out and WRONG not in out, out


@pytest.mark.parametrize("command", list(COMMANDS))
def test_wrong_password(server, command):
    host, port = server
    dsn = f"postgresql://{USER}:{WRONG}@{host}:{port}/{DATABASE}"
    result, out = run([*COMMANDS[command], "--dsn", dsn])
    assert_clean_failure(result, out, f"cannot connect to PostgreSQL at {host}:{port}",
                         "authentication failed")


def test_wrong_password_from_environment(server):
    host, port = server
    dsn = f"host={host} port={port} user={USER} password={WRONG} dbname={DATABASE}"
    result, out = run(["count"], env={"SEGC_DSN": dsn})
    assert_clean_failure(result, out, "cannot connect to PostgreSQL", "authentication failed")


def test_unreachable_server():
    port = _free_port()  # nothing listens there
    dsn = f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/{DATABASE}"
    result, out = run(["count", "--dsn", dsn])
    assert_clean_failure(result, out, f"cannot connect to PostgreSQL at 127.0.0.1:{port}", "unreachable")


def test_malformed_dsn():
    result, out = run(["count", "--dsn", f"postgresql://{USER}:{PASSWORD}@127.0.0.1:notaport/db"])
    assert_clean_failure(result, out, "cannot connect to PostgreSQL", "malformed")


@pytest.mark.parametrize("command", ["count", "transitions"])
def test_missing_table(server, command):
    host, port = server  # the right password, but the database has no tables
    dsn = f"postgresql://{USER}:{PASSWORD}@{host}:{port}/{DATABASE}"
    result, out = run([*COMMANDS[command], "--dsn", dsn])
    assert_clean_failure(result, out, "the query failed on PostgreSQL", "a source table is missing",
                         "shop.")


def test_no_dsn():
    result, out = run(["count"], env={"SEGC_DSN": ""})
    assert_clean_failure(result, out, "needs a DSN")


# ---- Spark without its prerequisites (a child process: this one may run a session) ----

def _segc_child(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, "count", str(EXAMPLE), "--engine", "spark"],
                          capture_output=True, text=True, timeout=120, env=env)


CLI = "import sys; sys.argv[0] = 'segc'; from segc.cli.main import main; main()"


def test_spark_without_java():
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "PYSPARK_GATEWAY_PORT")}
    env.update(JAVA_HOME="/nonexistent-java-home", PATH="/nonexistent-bin")
    result = _segc_child(CLI, env)
    assert result.returncode == 1, result.stderr
    assert "the spark engine needs a Java runtime" in result.stderr
    assert "default-jre-headless" in result.stderr and "Traceback" not in result.stderr


def test_spark_without_pyspark():
    code = "import sys; sys.modules['pyspark'] = None; " + CLI  # import pyspark -> ImportError
    result = _segc_child(code, dict(os.environ))
    assert result.returncode == 1, result.stderr
    assert "the spark engine needs pyspark" in result.stderr and 'pip install "segc[spark]"' in result.stderr
    assert "Traceback" not in result.stderr


def test_postgres_without_psycopg():
    code = "import sys; sys.modules['psycopg'] = None; " + CLI
    result = subprocess.run([sys.executable, "-c", code, "count", str(EXAMPLE), "--engine", "postgres",
                             "--dsn", "postgresql://nobody@localhost:1/none"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "error[E720]: the postgres engine needs psycopg" in result.stderr
    assert 'pip install "segc[postgres]"' in result.stderr and "Traceback" not in result.stderr


def test_engine_extras_are_declared():
    """The extras the hints above name exist, with the drivers the engines import."""
    import tomllib

    extras = tomllib.loads((EXAMPLE.parent.parent / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(r.startswith("psycopg[binary]") for r in extras["postgres"])
    assert any(r.startswith("pyspark") for r in extras["spark"])
