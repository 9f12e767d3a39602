"""Non-finite numbers (issue 15): `--param min_basket=nan` (also `inf`, `-inf`, `1e400`)
compiled to a bare identifier `nan`; SQL has no literal for them. They are refused
wherever a number becomes a SQL literal: --param (E204), a parameter's default in
segc.yml (E005 at its line), a number literal in an expression (E103)."""
from __future__ import annotations

import shutil

import pytest
import yaml
from typer.testing import CliRunner

import segc
from segc.backend.dialects import DIALECTS
from segc.cli.main import app
from tests.conftest import EXAMPLE

runner = CliRunner()
NON_FINITE = ["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400"]


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nonfinite") / "retail"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("tests"))
    return folder


@pytest.mark.parametrize("value", NON_FINITE)
def test_param_on_the_command_line(value, project_dir):
    for command in (["compile", "loyal_big_basket"], ["count", "loyal_big_basket"]):
        result = runner.invoke(app, [*command, "-p", str(project_dir), "--param", f"min_basket={value}"])
        assert result.exit_code == 1 and "E204" in result.output and "finite" in result.output, result.output
        assert "Traceback" not in result.output
    with pytest.raises(segc.SegcError) as e:
        segc.load_project(project_dir, params={"min_basket": value})
    assert [d.code for d in e.value.diagnostics] == ["E204"]


def test_finite_params_still_bind(project_dir):
    project = segc.load_project(project_dir, params={"min_basket": "1e3"})
    assert "1000.0" in project.compile("loyal_big_basket")


@pytest.mark.parametrize("value", ["1_0", "\u0663", "\uff11\uff12", "1 2", "0x10"])
def test_a_number_param_is_written_as_the_language_writes_numbers(value, project_dir):
    """Python's float() reads `1_0`, an Arabic-Indic 3 and full-width 12: --param took them."""
    result = runner.invoke(app, ["compile", "loyal_big_basket", "-p", str(project_dir), "--param", f"min_basket={value}"])
    assert result.exit_code == 1 and "E204" in result.output and "is not a number" in result.output, result.output


def test_two_scores_apart_only_in_case_are_e939(tmp_path):
    folder = tmp_path / "retail"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("tests"))
    path = folder / "segc.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["scores"]["POTENTIAL"] = dict(config["scores"]["potential"])
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    result = runner.invoke(app, ["check", str(folder)])
    assert result.exit_code == 1 and "E939" in result.output and "only in case" in result.output, result.output


@pytest.mark.parametrize("default", [float("nan"), float("inf"), float("-inf"), 10 ** 400])
def test_param_default_in_segc_yml(default, tmp_path):
    folder = tmp_path / "retail"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("tests"))
    path = folder / "segc.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["params"]["min_basket"]["default"] = default
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    result = runner.invoke(app, ["check", str(folder)])
    assert result.exit_code == 1 and "E005" in result.output and "finite" in result.output, result.output
    assert "segc.yml:" in result.output


@pytest.mark.parametrize("text", ["basket_avg > " + "9" * 400 + ".0", "basket_avg > -" + "9" * 400 + ".5"])
def test_number_literal_too_large(text, project_dir):
    project = segc.load_project(project_dir)
    for dialect in DIALECTS:
        with pytest.raises(segc.SegcError) as e:
            project.compile_expression(text, dialect=dialect)
        assert [d.code for d in e.value.diagnostics] == ["E103"]
    result = runner.invoke(app, ["compile", "-e", text, "-p", str(project_dir)])
    assert result.exit_code == 1 and "E103" in result.output
