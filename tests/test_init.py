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
        {"name": "active_subscribers", "count": 12, "share": 12 / 40}]
    test = cli("test", "-p", folder)
    assert test.exit_code == 0, test.output
    assert "2 of 2 checks passed" in test.stdout
    for args in (("check", folder, "--data"), ("fmt", "--check", "-p", folder)):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.output)
    assert segc.load_project(folder).schema.name == "my_shop"


def test_init_profile_shows_figures(tmp_path):
    """newuser11 F9: the starter segment had 9 of 40 members, under min_group (10): a new
    user's first `segc profile` showed only dashes. It has 12 now, so figures appear; a
    smaller group is still withheld, and the note names the key that sets the rule."""
    folder = tmp_path / "new"
    assert cli("init", folder).exit_code == 0
    shown = cli("profile", "active_subscribers", "-p", folder, "--format", "json")
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.stdout)
    assert body["size"] >= segc.load_project(folder).schema.min_group and not body["withheld"]
    assert all(n["mean"] is not None for n in body["numeric"])
    assert all(share is not None for c in body["categorical"] for _value, share, _pop in c["values"])
    text = cli("profile", "active_subscribers", "-p", folder)
    assert text.exit_code == 0 and "note:" not in text.stdout
    assert "1.33" in text.stdout and "100.0%" in text.stdout  # orders_90d's mean; email_optin True
    few = cli("profile", "-e", "orders_90d >= 2", "-p", folder)
    assert few.exit_code == 0, few.output
    assert "note: fewer members than min_group (10) in orders_90d >= 2: their figures are not shown (—)" \
        in " ".join(few.stdout.split())
    assert "`min_group:` in segc.yml sets the smallest group whose figures are shown" in " ".join(few.stdout.split())


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
