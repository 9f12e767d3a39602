"""No personal value is printed (DESIGN §8.5): `segc profile` shows a string's value, and
`segc report --by` a group, only when at least `min_group` (segc.yml, default 10) members
of the population share it; the rest is shown together as `(other)`."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from segc.cli.main import app
from tests.conftest import write_project

N_COMMON, N_RARE = 12, 3  # 12 customers in FR, 3 in BE; each has their own e-mail address


def _project(folder, **changes):
    import duckdb

    (folder / "data").mkdir(parents=True)
    rows = [(i, f"person{i}@example.com", "FR" if i < N_COMMON else "BE") for i in range(N_COMMON + N_RARE)]
    con = duckdb.connect()
    con.execute("CREATE TABLE c (customer_id INTEGER, email VARCHAR, country VARCHAR)")
    con.executemany("INSERT INTO c VALUES (?, ?, ?)", rows)
    con.execute(f"COPY c TO '{folder / 'data' / 'customers.parquet'}' (FORMAT parquet)")
    config = {"name": "t", "base": "customers", "key": "customer_id", "as_of": "2024-07-01",
              "sources": {"customers": {"table": "shop.customers", "path": "data/customers.parquet"}},
              "features": {"email": {"type": "string"}, "country": {"type": "string"}}, **changes}
    return write_project(folder, config, 'segment everyone = email is present\n')


def _run(*args):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_profile_shows_only_values_shared_by_min_group(tmp_path, fmt):
    root = _project(tmp_path / "p")
    out = _run("profile", "everyone", "-p", str(root), "--format", fmt)
    assert "@example.com" not in out
    assert "FR" in out and "BE" not in out and "(other)" in out
    if fmt == "json":
        values = {c["feature"]: c["values"] for c in json.loads(out)["categorical"]}
        assert values["email"] == [["(other)", 1.0, 1.0]]
        assert values["country"] == [["FR", 12 / 15, 12 / 15], ["(other)", 3 / 15, 3 / 15]]


def test_min_group_is_configurable(tmp_path):
    root = _project(tmp_path / "p", min_group=3)
    out = _run("profile", "everyone", "-p", str(root), "--format", "json")
    values = {c["feature"]: c["values"] for c in json.loads(out)["categorical"]}
    assert [v[0] for v in values["country"]] == ["FR", "BE"]
    assert "@example.com" not in out


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_report_by_groups_small_values_into_other(tmp_path, fmt):
    root = _project(tmp_path / "p")
    out = _run("report", "everyone", "--by", "email", "-p", str(root), "--format", fmt)
    assert "@example.com" not in out and "(other)" in out
    out = _run("report", "everyone", "--by", "country", "-p", str(root), "--format", fmt)
    assert "FR" in out and "BE" not in out and "(other)" in out
