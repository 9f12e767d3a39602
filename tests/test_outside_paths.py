"""`path:` stays inside the project folder (DESIGN §8.5): `..`, an absolute path, or a
symlink (the file's or a folder's) leading out is E709 at the `path:` line, unless
segc.yml says `allow_outside_paths: true`."""
from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from segc.cli.main import app
from tests.conftest import write_project


def config(path: str, **changes) -> dict:
    return {"name": "t", "base": "customers", "key": "customer_id", "as_of": "2024-07-01",
            "sources": {"customers": {"table": "shop.customers", "path": path}},
            "features": {"age": {"type": "int"}}, **changes}


def check(root):
    result = CliRunner().invoke(app, ["check", "-p", str(root), "--format", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, json.loads(result.stdout)["diagnostics"]


def _outside(tmp_path, kind: str) -> str:
    """The project's `path:` of each kind of way out (the project is tmp_path/p)."""
    secret = tmp_path / "secret"
    secret.mkdir(exist_ok=True)
    (secret / "config.json").write_text("{}", encoding="utf-8")
    (tmp_path / "p").mkdir(exist_ok=True)
    if kind == "dotdot":
        return "../secret/config.json"
    if kind == "absolute":
        return str(secret / "config.json")
    if kind == "file link":
        os.symlink(secret / "config.json", tmp_path / "p" / "c.json")
        return "c.json"
    os.symlink(secret, tmp_path / "p" / "data")  # a folder on the way
    return "data/config.json"


KINDS = ["dotdot", "absolute", "file link", "folder link"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_path_outside_the_project_is_refused(tmp_path, kind):
    root = write_project(tmp_path / "p", config(_outside(tmp_path, kind)), "segment a = age > 1\n")
    code, diags = check(root)
    assert code == 1
    assert [(d["code"], d["file"].endswith("segc.yml"), d["line"]) for d in diags] == [("E709", True, 8)], diags
    assert "allow_outside_paths: true" in diags[0]["hints"][0]


@pytest.mark.parametrize("kind", KINDS)
def test_allow_outside_paths_allows_it(tmp_path, kind):
    root = write_project(tmp_path / "p", config(_outside(tmp_path, kind), allow_outside_paths=True),
                         "segment a = age > 1\n")
    assert check(root) == (0, [])


def test_paths_inside_are_fine(tmp_path):
    (tmp_path / "p" / "real").mkdir(parents=True)
    os.symlink(tmp_path / "p" / "real", tmp_path / "p" / "data")  # a link that stays inside
    root = write_project(tmp_path / "p", config("data/../data/customers.parquet"), "segment a = age > 1\n")
    assert check(root) == (0, [])
