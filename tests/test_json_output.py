"""Every `--format json` is JSON (RFC 8259): a float that is not finite (NaN, +-Infinity, from a
float column holding them) is written as null, never as the bare tokens NaN / Infinity that
Python's json writes by default and strict readers (JavaScript, Go, Java) reject. The one
writer is apps/outputs.json_text."""
from __future__ import annotations

import json
import shutil

import duckdb
import pytest
from typer.testing import CliRunner

from segc.cli.main import app
from tests.conftest import EXAMPLE

runner = CliRunner()


def strict(text: str):
    def reject(token):
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=reject)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The example with a float column `wx` (NaN, Infinity or 1.5 by customer), as a base
    column, a feature `wxf` over it, a segment using it and a lift metric of it."""
    root = tmp_path_factory.mktemp("json") / "shop"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".segc", "build"))
    data = root / "data" / "customers.parquet"
    duckdb.execute(f"COPY (SELECT *, CASE WHEN customer_id % 3 = 0 THEN 'nan'::DOUBLE WHEN customer_id % 3 = 1 "
                   f"THEN 'inf'::DOUBLE ELSE 1.5 END AS wx FROM read_parquet('{EXAMPLE / 'data' / 'customers.parquet'}'))"
                   f" TO '{data}' (FORMAT parquet)")
    yml = (root / "segc.yml").read_text(encoding="utf-8")
    yml = yml.replace("columns: {first_name: string, email: string}",
                      "columns: {first_name: string, email: string, wx: float}", 1)
    yml = yml.replace("params:\n", "  wxf:\n    type: float\n    column: wx\nparams:\n", 1)
    yml = yml.replace("      buyers: 'exists(orders where", "      wxm: 'wxf'\n      buyers: 'exists(orders where", 1)
    (root / "segc.yml").write_text(yml, encoding="utf-8")
    (root / "segments" / "zz.seg").write_text("segment wxs = wxf > 1\n", encoding="utf-8")
    assert runner.invoke(app, ["snapshot", "loyal_big_basket", "-p", str(root), "--as-of", "2024-06-01"]).exit_code == 0
    return root


@pytest.mark.parametrize("command", [
    ["changes", "loyal_big_basket", "--as-of", "2024-07-01", "--with", "wx,wxf"],
    ["sample", "wxs"],
    ["profile", "wxs"],
    ["lift", "spring_loyalty"],
])
def test_json_output_has_no_bare_nan_or_infinity(project, command):
    result = runner.invoke(app, [*command, "-p", str(project), "--format", "json"])
    assert result.exit_code == 0, result.output
    body = strict(result.stdout)  # raises on NaN / Infinity
    assert "null" in result.stdout and body


def test_json_text_writes_non_finite_as_null():
    from segc.apps.outputs import json_text

    got = strict(json_text({"a": float("nan"), "b": [float("inf"), -float("inf"), 1.5], "c": (2, None)}))
    assert got == {"a": None, "b": [None, None, 1.5], "c": [2, None]}
