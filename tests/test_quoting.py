"""segc.yml `quoting:`: `preserve` (the default) quotes every name as written, the SQL of
the goldens; `fold` writes plain names unquoted, folded as the dialect folds an unquoted
name (Snowflake: upper case), keeps a name that needs quotes (a space) quoted as written,
and quotes a keyword folded. Compiled on Snowflake, PostgreSQL and DuckDB with both, the
SQL parses back, and on DuckDB both count the same members."""
from __future__ import annotations

import re
import shutil

import pytest
import sqlglot
import yaml
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from tests.conftest import EXAMPLE

DIALECTS = ["snowflake", "postgres", "duckdb"]
QUOTE = {"snowflake": '"', "postgres": '"', "duckdb": '"'}
NAMES = ["at_risk", "value_tier", "loyal_big_basket"]


def project_with(tmp_path, quoting: str | None):
    folder = tmp_path / (quoting or "default")
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("build", "site"))
    config = yaml.safe_load((folder / "segc.yml").read_text(encoding="utf-8"))
    if quoting is not None:
        config["quoting"] = quoting
    # a column named like a keyword of SQL: quoted (and folded) under `fold`
    config["features"]["order_flag"] = {"type": "bool", "column": "order", "nullable": True}
    (folder / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    (folder / "segments" / "zz_quoting.seg").write_text(
        'segment zz_paris = city = "Paris" and not order_flag\n', encoding="utf-8")
    return segc.load_project(folder)


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quoting")
    return {q: project_with(tmp, q) for q in (None, "preserve", "fold")}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_preserve_is_the_default(projects, dialect):
    for name in NAMES + ["zz_paris"]:
        assert projects["preserve"].compile(name, dialect) == projects[None].compile(name, dialect)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_fold(projects, dialect):
    sql = projects["fold"].compile("zz_paris", dialect)
    preserved = projects["preserve"].compile("zz_paris", dialect)
    assert '"customer_id"' in preserved and '"shop"."customers"' in preserved
    q = QUOTE[dialect]
    if dialect == "snowflake":  # unquoted names are upper case there
        assert "FROM SHOP.CUSTOMERS AS SEGC_BASE" in sql and "CUSTOMER_ID AS SEGC_KEY" in sql
        assert f'{q}ORDER{q} AS ORDER_FLAG' in sql  # a keyword: folded, and quoted
    else:
        assert "FROM shop.customers AS segc_base" in sql and "customer_id AS segc_key" in sql
        assert f'{q}order{q} AS order_flag' in sql
    # not a plain name: quoted as written (DuckDB ignores case even in quotes: sqlglot folds it)
    spaced = "city name" if dialect == "duckdb" else "City Name"
    assert f'{q}{spaced}{q}' in sql
    quoted = set(re.findall(r'"([^"]*)"', sql))
    assert quoted == {spaced, "ORDER" if dialect == "snowflake" else "order"}, quoted
    for name in NAMES:
        sqlglot.parse_one(projects["fold"].compile(name, dialect), read=dialect)


def test_fold_counts_the_same(projects, tmp_path):
    import duckdb

    for p in (projects["preserve"], projects["fold"]):
        # the example's data has no column `order`: give the preview one
        con = duckdb.connect()
        path = p.root / "data" / "customers.parquet"
        con.execute(f"COPY (SELECT *, customer_id % 3 = 0 AS \"order\" FROM '{path}') TO '{tmp_path}/c.parquet'")
        shutil.copy(tmp_path / "c.parquet", path)
    fresh = {q: segc.load_project(projects[q].root) for q in ("preserve", "fold")}
    counted = ["at_risk", "loyal_big_basket", "value_tier.good", "zz_paris"]
    counts = {q: {s.name: s.count for s in p.count(counted).segments} for q, p in fresh.items()}
    assert counts["fold"] == counts["preserve"] and counts["fold"]["zz_paris"] > 0


def test_fold_in_build(projects, tmp_path):
    out = tmp_path / "views"
    result = CliRunner().invoke(app, ["build", "-p", str(projects["fold"].root), "at_risk", "--dialect",
                                      "snowflake", "--template", "view", "--schema", "marketing", "--out", str(out)])
    assert result.exit_code == 0, result.output
    sql = (out / "at_risk.sql").read_text()
    assert "CREATE OR REPLACE VIEW MARKETING.AT_RISK AS" in sql and "FROM SHOP.CUSTOMERS" in sql


def test_bad_quoting_value(tmp_path):
    folder = tmp_path / "p"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("build", "site", "data"))
    text = (folder / "segc.yml").read_text(encoding="utf-8").replace("dialect: duckdb", "dialect: duckdb\nquoting: upper")
    (folder / "segc.yml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(folder)])
    assert result.exit_code == 1 and "E004" in result.output and "quoting" in result.output, result.output
    assert "segc.yml:" in result.output
