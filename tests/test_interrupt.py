"""Ctrl-C during a long query stops segc at once: exit 130, the word `interrupted`, no
traceback (the CLI), and `segc.errors.Interrupted` from the API, while DuckDB is told to
stop. The query is made long on purpose: rank windows over 10 million generated rows."""
from __future__ import annotations

import _thread
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import segc
from segc.front.errors import Interrupted
from tests.conftest import write_project

HEAVY = ("segment heavy = top 10% by x * y and bottom 50% by y - x and top 20% by x + y "
         "and bottom 30% by x % 13 * y")


@pytest.fixture(scope="module")
def heavy_project(tmp_path_factory) -> Path:
    import duckdb

    folder = tmp_path_factory.mktemp("interrupt")
    (folder / "data").mkdir()
    duckdb.sql("COPY (SELECT i AS id, (i * 7919) % 100003 AS x, (i * 31) % 97 AS y FROM range(10000000) t(i)) "
               f"TO '{folder / 'data' / 'base.parquet'}' (FORMAT parquet)")
    config = {"name": "interrupt", "base": "base", "key": "id",
              "sources": {"base": {"table": "base", "path": "data/base.parquet"}},
              "features": {"x": {"type": "int"}, "y": {"type": "int"}}}
    return write_project(folder, config, HEAVY + "\n")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the child's CPU time from /proc")
def test_cli_ctrl_c_stops_the_count_at_once(heavy_project):
    child = subprocess.Popen([sys.executable, "-m", "segc.cli.main", "count", "-p", str(heavy_project)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # past start-up (imports, views: well under a second of CPU) and into the query
    deadline = time.monotonic() + 120
    while _cpu_seconds(child.pid) < 2.5 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert child.poll() is None, "the query finished before it could be interrupted: make it heavier"
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    stopped = time.monotonic() - sent
    assert child.returncode == 130, (child.returncode, err)
    assert "interrupted" in err and "Traceback" not in err, err
    assert out == ""  # nothing half-printed
    assert stopped < 5, f"{stopped:.1f} s from Ctrl-C to exit"


def test_api_raises_interrupted_and_duckdb_stops(heavy_project):
    project = segc.load_project(heavy_project)
    timer = threading.Timer(1.5, _thread.interrupt_main)
    timer.start()
    start = time.monotonic()
    with pytest.raises(Interrupted):
        project.count()
    assert time.monotonic() - start < 10
    # the query's worker thread ends once DuckDB sees the interrupt
    deadline = time.monotonic() + 60
    while any(t.name == "segc-duckdb" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(t.name == "segc-duckdb" for t in threading.enumerate())
    # the connection is still usable afterwards
    assert project.engine.execute("SELECT 42") == [(42,)]
    project.engine.close()


def test_postgres_query_is_cancelled(pg_dsn):
    """On PostgreSQL, Ctrl-C cancels the running query on the server and raises
    Interrupted; the connection stays usable."""
    from segc.run.postgres_engine import PostgresEngine

    engine = PostgresEngine(pg_dsn)
    timer = threading.Timer(1.0, _thread.interrupt_main)
    timer.start()
    start = time.monotonic()
    with pytest.raises(Interrupted):
        engine.execute("SELECT pg_sleep(30)")
    assert time.monotonic() - start < 10
    assert engine.execute("SELECT 42") == [(42,)]
    engine.close()


# Ctrl-C can land anywhere, not only in a running query: while the project is read, in
# the compiler, between two queries. Typer turns a KeyboardInterrupt into a silent exit
# 130, so each command is run with the project's reader raising one (as Ctrl-C would on
# the first file read) and must say `interrupted` like the query case above.
ROUTES = {
    "check": ["check", "{p}"],
    "compile-name": ["compile", "at_risk", "-p", "{p}"],  # the plain path, without typer
    "compile-e": ["compile", "-e", "age > 30", "-p", "{p}", "--dialect", "snowflake"],
    "compile-typer": ["compile", "at_risk", "-p", "{p}", "-dsnowflake"],  # -dVALUE: left to typer
    "count": ["count", "{p}"],
    "sample": ["sample", "at_risk", "-p", "{p}"],
    "overlap": ["overlap", "at_risk", "inactive_6m", "-p", "{p}"],
    "profile": ["profile", "at_risk", "-p", "{p}"],
    "transitions": ["transitions", "value_tier", "--from", "2024-01-01", "--to", "2024-07-01", "-p", "{p}"],
    "build": ["build", "{p}", "--out", "{out}"],
    "snapshot": ["snapshot", "{p}"],
    "changes": ["changes", "{p}"],
    "test": ["test", "{p}"],
    "diff": ["diff", "{p}", "{p}"],
    "docs": ["docs", "{p}", "--out", "{out}"],
    "report": ["report", "{p}"],
    "lift": ["lift", "spring_loyalty", "-p", "{p}"],
    "fmt": ["fmt", "{p}"],
    "discover": ["discover", "-p", "{p}", "--features", "age,basket_avg", "--out", "{out}.seg"],
    "score": ["score", "fit", "potential", "-p", "{p}"],
    "serve": ["serve", "-p", "{p}", "--no-browser"],
}
# init writes a new project and reads none; lsp reads files when an editor asks (its
# requests are answered or dropped one by one: tests/test_lsp*.py)
NOT_READING = {"init", "lsp"}
BOOT = """
import sys
import segc.front.files as files

def read_source(*args, **kwargs):
    raise KeyboardInterrupt

files.read_source = read_source
from segc.cli.main import main
sys.argv = ["segc", *sys.argv[1:]]
main()
"""


def test_every_command_has_a_route_here():
    from segc.cli.main import app

    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    commands |= {g.name for g in app.registered_groups}
    assert commands - NOT_READING == {name.split("-")[0] for name in ROUTES}


@pytest.mark.parametrize("route", list(ROUTES))
def test_ctrl_c_outside_a_query_says_interrupted(route, tmp_path):
    import shutil

    from tests.conftest import EXAMPLE

    project = tmp_path / "retail"
    shutil.copytree(EXAMPLE, project)
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    args = [a.replace("{p}", str(project)).replace("{out}", str(tmp_path / "out")) for a in ROUTES[route]]
    done = subprocess.run([sys.executable, "-c", BOOT, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 130, (done.returncode, done.stderr)
    assert done.stderr.strip() == "interrupted", done.stderr
    assert done.stdout == ""
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.seg").exists()
