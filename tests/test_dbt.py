"""The dbt fragment of `segc build --template dbt` runs in a real dbt project.

Needs dbt-core>=1.10,<1.11 and dbt-duckdb>=1.10,<1.11 (the `test` extra): without them
this test FAILS rather than skips, so a CI without dbt cannot pass silently. dbt runs
as a subprocess on a DuckDB file where the example's source tables were created first;
each model's row count must equal `segc count`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from importlib import metadata

import duckdb
import pytest

import segc
from segc.apps.build import build
from tests.conftest import EXAMPLE

DBT_PROJECT = """\
name: segc_dbt_test
version: "1.0.0"
config-version: 2
profile: segc_dbt_test
model-paths: ["models"]
target-path: "target"
log-path: "logs"
"""

PROFILES = """\
segc_dbt_test:
  target: test
  outputs:
    test:
      type: duckdb
      path: "{path}"
      schema: main
      threads: 4
"""


def _require_dbt() -> None:
    """Installed and in range (read from the metadata: importing dbt here costs seconds)."""
    found = {}
    for dist in ("dbt-core", "dbt-duckdb"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = None
    wrong = {d: v for d, v in found.items() if v is None or not v.startswith("1.10.")}
    if wrong:
        pytest.fail(f"dbt-core and dbt-duckdb 1.10.x are needed, found {found}: "
                    'pip install "dbt-core>=1.10,<1.11" "dbt-duckdb>=1.10,<1.11" (or the [test] extra)',
                    pytrace=False)


def test_dbt_run_matches_segc_count(tmp_path):
    _require_dbt()
    project = segc.load_project(EXAMPLE)
    counts = {s.name: s.count for s in project.count().segments}

    # the dbt project: segc's fragment (models/segments/...) + dbt_project.yml + profiles.yml
    dbt_dir = tmp_path / "dbt"
    build(project, "dbt", dbt_dir, dialect="duckdb")
    (dbt_dir / "dbt_project.yml").write_text(DBT_PROJECT)
    db = tmp_path / "warehouse.duckdb"
    (dbt_dir / "profiles.yml").write_text(PROFILES.format(path=db.as_posix()))

    # the warehouse: the source tables segc.yml names (shop.customers, ...), from the data
    con = duckdb.connect(str(db))
    for src in project.schema.sources.values():
        schema_name, table = src.table.split(".")
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema_name}"')
        con.execute(f'CREATE TABLE "{schema_name}"."{table}" AS SELECT * FROM read_parquet(?)',
                    [str(EXAMPLE / src.path)])
    con.close()

    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_VERSION_CHECK": "false",
           "DO_NOT_TRACK": "1"}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "dbt.cli.main", "run", "--project-dir", str(dbt_dir), "--profiles-dir",
         str(dbt_dir), "--no-use-colors"],
        cwd=dbt_dir, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, f"dbt run failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    segments = [n for n in project.checked.segments if "." not in n]
    segmentations = list(project.checked.segmentations)
    assert f"PASS={len(segments) + len(segmentations)}" in result.stdout, result.stdout[-3000:]
    assert "WARN=0" in result.stdout and "ERROR=0" in result.stdout, result.stdout[-3000:]
    print(f"dbt run: {len(segments) + len(segmentations)} models in {elapsed:.1f} s")

    con = duckdb.connect(str(db), read_only=True)
    try:
        for name in segments:
            (n,) = con.execute(f'SELECT COUNT(*) FROM "main"."{name}"').fetchone()
            assert n == counts[name], name
        for name in segmentations:
            rows = dict(con.execute(f'SELECT "segment", COUNT(*) FROM "main"."{name}" GROUP BY 1').fetchall())
            for branch, _pred in project.checked.segmentations[name].branches:
                assert rows.get(branch, 0) == counts[f"{name}.{branch}"], f"{name}.{branch}"
        # the descriptions from the `##` docs reach dbt (persisted docs are off by default:
        # check dbt's own manifest instead)
    finally:
        con.close()
    import json

    manifest = json.loads((dbt_dir / "target" / "manifest.json").read_text())
    node = manifest["nodes"]["model.segc_dbt_test.loyal_big_basket"]
    assert node["description"].startswith("Loyal customers with a big basket")
    assert node["columns"]["customer_id"]["description"]
    assert "rfm" in node["tags"] and node["config"]["materialized"] == "view"
    assert manifest["sources"]["source.segc_dbt_test.retail.orders"]["relation_name"] == '"warehouse"."shop"."orders"'


@pytest.mark.parametrize("name, tables", [
    ("café", None), ('my "shop"', None), ("it's {{ x }} \\ end", None),
    ("café", {"shop.orders": "shop_eu.orders", "shop.carts": "shop.eu.carts"}),
    ('my "shop"', {"shop.orders": "shop_é.orders", "shop.carts": 'shop".carts'}),
])
def test_dbt_reads_back_the_source_every_model_names(tmp_path, name, tables):
    """A project `name:` with a non-ASCII letter or a `"` gave `source("caf\\u00e9", ...)`,
    which dbt's static parser (dbt-extractor) keeps as written: the model named no source
    of sources.yml (attack11 B4). Each source() call, as dbt-extractor reads it, is a table
    of sources.yml, and that table is segc.yml's."""
    import shutil

    import yaml

    _require_dbt()
    from dbt_extractor import py_extract_from_source

    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("tests"))
    text = (root / "segc.yml").read_text(encoding="utf-8")
    text = text.replace("name: retail", "name: " + json.dumps(name, ensure_ascii=False), 1)
    for old, new in (tables or {}).items():
        text = text.replace(f"    table: {old}", f"    table: {json.dumps(new, ensure_ascii=False)}")
    (root / "segc.yml").write_text(text, encoding="utf-8")
    project = segc.load_project(root)
    assert project.schema.name == name
    out = tmp_path / "dbt"
    build(project, "dbt", out, dialect="duckdb", names=["loyal_big_basket", "quadrant", "at_risk"])
    declared = {}
    for group in yaml.safe_load((out / "models/segments/sources.yml").read_text(encoding="utf-8"))["sources"]:
        for table in group["tables"]:
            declared[(group["name"], table["name"])] = ".".join(
                p for p in (group.get("database"), group["schema"], table["identifier"]) if p)
    named = set()
    for model in (out / "models/segments").glob("*.sql"):
        named |= py_extract_from_source(model.read_text(encoding="utf-8"))["sources"]
    assert named and named <= set(declared), (named, declared)
    tables = {s.name: s.table for s in project.schema.sources.values()}
    for group, table in named:
        assert declared[(group, table)] == tables[table]
