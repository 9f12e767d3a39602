"""A word longer than a file name may be (260 characters: a segment name of that length is
valid) given where a command also takes a folder or a file: pathlib's is_dir()/is_file()
raised OSError (ENAMETOOLONG) and `count`, `sample`, `compile`, `check`, `test`, `fmt`,
`diff`, `snapshot`, `docs`, `-p` ... printed a Python traceback (s12C F14). Now the word is
simply not a file: a segment of that name is counted; otherwise the command's diagnostic.
"""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from segc.cli.main import app
from tests.conftest import write_project

LONG = "x" * 260
CONFIG = {"name": "long", "entity": "customer", "base": "customers", "key": "customer_id", "as_of": "2024-07-01",
          "sources": {"customers": {"table": "crm.customers", "path": "data/customers.csv"}},
          "features": {"n": {"type": "int"}}}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = write_project(tmp_path_factory.mktemp("long"), CONFIG, f"segment {LONG} = n > 1\nsegment small = n > 2\n")
    (root / "data").mkdir()
    (root / "data" / "customers.csv").write_text("customer_id,n\n1,1\n2,2\n3,3\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("args", [["count", LONG], ["sample", LONG], ["compile", LONG], ["profile", LONG],
                                  ["overlap", LONG, "small"], ["report", LONG]])
def test_a_segment_with_a_long_name_runs(project, args, monkeypatch):
    monkeypatch.chdir(project)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert not isinstance(result.exception, OSError)


@pytest.mark.parametrize("args", [["check", LONG], ["test", LONG], ["fmt", LONG], ["diff", LONG], ["docs", LONG, "--out", "o"],
                                  ["count", "-p", LONG], ["snapshot", "-p", LONG], ["discover", LONG, "--features", "n"],
                                  ["compile", "other_" + LONG]])
def test_a_long_word_that_is_no_file_is_a_diagnostic(project, args, monkeypatch):
    monkeypatch.chdir(project)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "error[E" in result.output and "Traceback" not in result.output, result.output
    assert not isinstance(result.exception, OSError)
