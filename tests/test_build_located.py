"""`segc build` for a dialect that cannot express some definitions names each of them and
points at it (file:line:col), instead of repeating an anonymous E602."""
from __future__ import annotations

import re

from typer.testing import CliRunner

from segc.cli.main import app
from tests.conftest import EXAMPLE


def test_unsupported_definitions_are_named_and_located(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["build", "-p", str(EXAMPLE), "--dialect", "sqlite", "--out", str(out)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert not out.exists()
    text = (EXAMPLE / "segments" / "experiments.seg").read_text(encoding="utf-8").splitlines()
    # holdout needs MD5, which SQLite lacks: the two segments of experiments.seg fail
    failing = re.findall(r"error\[E602\]: `(\w+)`: this cannot be expressed in sqlite", result.stderr)
    assert sorted(failing) == ["loyal_control", "loyal_target"]
    for name in failing:
        line = next(i for i, ln in enumerate(text, 1) if ln.startswith(f"segment {name} "))
        assert f"segments/experiments.seg:{line}:9" in result.stderr, result.stderr
    assert "2 errors" in result.stderr
