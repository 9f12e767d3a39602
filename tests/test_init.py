"""`segc init DIR`: a project that `segc count`, `segc test`, `segc check --data` and
`segc fmt --check` accept as written; a DIR that is not new or empty is E960."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import segc
from segc.cli.main import app


def cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_init_runs_at_once(tmp_path):
    folder = tmp_path / "my shop"
    result = cli("init", folder)
    assert result.exit_code == 0, result.output
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == [
        ".gitignore", "data/customers.csv", "data/orders.csv", "segc.yml", "segments/main.seg", "tests/basic.yml"]
    assert ".segc/" in (folder / ".gitignore").read_text().splitlines()  # the snapshot store stays out of git
    count = cli("count", "-p", folder, "--format", "json")
    assert count.exit_code == 0, count.output
    data = json.loads(count.stdout)
    assert data["population"] == 40 and data["segments"] == [
        {"name": "active_subscribers", "count": 9, "share": 9 / 40}]
    test = cli("test", "-p", folder)
    assert test.exit_code == 0, test.output
    assert "2 of 2 checks passed" in test.stdout
    for args in (("check", folder, "--data"), ("fmt", "--check", "-p", folder)):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.output)
    assert segc.load_project(folder).schema.name == "my_shop"


def test_init_writes_into_an_empty_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # `segc init .` in a new, empty folder: as `git init`
    result = cli("init", ".")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "segc.yml").is_file() and cli("count").exit_code == 0


@pytest.mark.parametrize("make, message", [
    (lambda p: (p.mkdir(), (p / "notes.txt").write_text("mine")), "is a folder that is not empty"),
    (lambda p: p.write_text("a file"), "is not a folder"),
])
def test_init_refuses_what_it_would_overwrite(tmp_path, make, message):
    target = tmp_path / "taken"
    make(target)
    before = sorted(tmp_path.rglob("*"))
    result = cli("init", target)
    assert result.exit_code == 1 and "error[E960]" in result.stderr and message in result.stderr
    assert sorted(tmp_path.rglob("*")) == before  # nothing written, nothing left behind


def test_init_write_error_is_coded(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("x")
    result = cli("init", blocked / "sub")  # its parent is a file
    assert result.exit_code == 1 and "error[E824]" in result.stderr and "Traceback" not in result.output
