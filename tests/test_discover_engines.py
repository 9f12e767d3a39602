"""`segc discover --engine postgres`: a project whose data lives in PostgreSQL (sources with
`table:` and no `path:`) could not be discovered at all — discover had no --engine and
stopped at E701 "source has no `path:` to preview on DuckDB" (s12C F5). On PostgreSQL it
finds the same segmentation as on DuckDB, with the same counts.
"""
from __future__ import annotations

import json
import math
import os
import shutil

import pytest
import yaml
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from tests.conftest import EXAMPLE
from tests.test_engines_parity import postgres_copy

ARGS = ["--features", "purchases_365d,basket_avg", "--format", "json"]


@pytest.fixture(scope="module")
def warehouse_only(tmp_path_factory):
    """The example without its data files: the sources name their tables only."""
    root = tmp_path_factory.mktemp("wh") / "retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("data", "generate.py", "build", "tests"))
    config = yaml.safe_load((root / "segc.yml").read_text(encoding="utf-8"))
    for source in config["sources"].values():
        source.pop("path")
    (root / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return root


def test_discover_runs_on_postgres_like_on_duckdb(warehouse_only, pg_dsn):
    dsn = postgres_copy(pg_dsn, f"segc_discover_{os.getpid()}", segc.load_project(EXAMPLE))
    runner = CliRunner()
    duck = runner.invoke(app, ["discover", "-p", str(EXAMPLE), *ARGS])
    pg = runner.invoke(app, ["discover", "-p", str(warehouse_only), *ARGS, "--engine", "postgres", "--dsn", dsn])
    assert duck.exit_code == 0 and pg.exit_code == 0, pg.output
    a, b = json.loads(duck.stdout), json.loads(pg.stdout)
    assert a["segmentation"] == b["segmentation"] and a["population"] == b["population"]
    assert [(x["name"], x["count"]) for x in a["branches"]] == [(x["name"], x["count"]) for x in b["branches"]]
    for x, y in zip(a["branches"], b["branches"]):
        assert all(math.isclose(x["means"][f], y["means"][f], rel_tol=1e-9) for f in x["means"])


def test_without_an_engine_a_warehouse_project_says_what_to_do(warehouse_only):
    result = CliRunner().invoke(app, ["discover", "-p", str(warehouse_only), *ARGS])
    assert result.exit_code == 1 and "E701" in result.output and "Traceback" not in result.output
    assert "--engine postgres" in result.output  # the hint says where else it runs
