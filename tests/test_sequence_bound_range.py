"""A sequence's `within D` moves every event's time by D: past the dates the engines hold
it was a run-time engine error (`within 99999999999 days` on DuckDB: a conversion error at
`segc count`); it is refused as a window's shift is (E309, at the duration), and the
largest allowed bound runs."""
from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from segc.front.errors import SegcError
from tests.conftest import EXAMPLE

TOO_FAR = ["99999999999 days", "901 years", "10801 months", "46990 weeks"]


@pytest.mark.parametrize("kind", ["followed", "not followed", "preceded"])
@pytest.mark.parametrize("within", TOO_FAR)
def test_a_bound_past_the_supported_dates_is_refused(kind, within):
    project = segc.load_project(EXAMPLE)
    text = f"count(carts {kind} by orders within {within}) > 0"
    with pytest.raises(SegcError) as e:
        project.compile_expression(text)
    [d] = e.value.diagnostics
    assert d.code == "E309" and d.span.col == text.index(within) + 1 and d.span.end - d.span.start >= len(within)
    assert "900 years" in d.message


def test_the_largest_bound_runs(tmp_path):
    root = tmp_path / "retail"
    shutil.copytree(EXAMPLE, root)
    (root / "segments" / "far.seg").write_text(
        "segment far = count(carts followed by orders within 900 years) > 0\n"
        "segment far_back = exists(orders preceded by carts within 10800 months)\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["count", str(root), "far", "far_back", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"far"' in result.output and '"far_back"' in result.output
