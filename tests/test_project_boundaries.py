"""What a project's own folders, names and files may hold, and what may be written into
them: outputs never land inside segments/ or tests/ (read whole), nor a new project
inside another's segments/; two names one file apart only by case are refused where
they are declared; a segc.yml whose aliases expand past what its text can write is
refused at once; float figures (report, profile) are the same bits on every run."""
from __future__ import annotations

import json
import shutil
import time

import pytest
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from tests.conftest import EXAMPLE, drop_experiments

runner = CliRunner()


def cli(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "retail"
    shutil.copytree(EXAMPLE, root)
    return root


def outputs(root):
    """Every command that writes a file or a folder the user names, aimed at `place`."""
    p = str(root)
    return {
        "report": lambda place: ["report", "young_urban_fr", "-p", p, "--format", "json", "--out", place / "r.json"],
        "report-html": lambda place: ["report", "young_urban_fr", "-p", p, "--format", "html", "--out", place / "r.html"],
        "lift": lambda place: ["lift", "spring_loyalty", "-p", p, "--format", "csv", "--out", place / "lift.yml"],
        "changes": lambda place: ["changes", "-p", p, "--format", "csv", "--out", place / "c.seg"],
        "build": lambda place: ["build", "-p", p, "--out", place / "build"],
        "docs": lambda place: ["docs", "-p", p, "--out", place / "docs", "--no-counts"],
        "discover-tests": lambda place: ["discover", "-p", p, "--features", "age,basket_avg",
                                         "--out", place / "d.seg"],
    }


@pytest.mark.parametrize("folder", ["segments", "tests", "segments/deeper"])
@pytest.mark.parametrize("command", list(outputs(EXAMPLE)))
def test_no_output_lands_where_the_project_reads_every_file(project, folder, command):
    place = project / folder
    place.mkdir(exist_ok=True)
    if command == "discover-tests" and folder.startswith("segments"):
        pytest.skip("discover --out writes its .seg into segments/ (tested below)")
    before = sorted(str(f) for f in project.rglob("*"))
    result = cli(*outputs(project)[command](place))
    assert result.exit_code == 1 and "E822" in result.output and f"{folder.split('/')[0]}/" in result.output, \
        result.output[-1500:]
    assert sorted(str(f) for f in project.rglob("*")) == before
    assert cli("check", project).exit_code == 0


def test_discover_writes_its_segmentation_into_segments(project):
    out = project / "segments" / "discovered.seg"
    result = cli("discover", "-p", project, "--features", "age,basket_avg", "--out", out)
    assert result.exit_code == 0, result.output[-1500:]
    assert out.is_file() and cli("check", project).exit_code == 0
    result = cli("discover", "-p", project, "--features", "age,basket_avg", "--name", "other",
                 "--out", project / "segments" / "d.txt")
    assert result.exit_code == 1 and "E822" in result.output


def test_init_refuses_a_folder_inside_a_projects_segments(tmp_path):
    outer = tmp_path / "outer"
    assert cli("init", outer).exit_code == 0
    for inner in (outer / "segments" / "inner", outer / "tests" / "x" / "y"):
        result = cli("init", inner)
        assert result.exit_code == 1 and "E960" in result.output, result.output
        assert not inner.exists()
    assert cli("check", outer).exit_code == 0
    assert cli("init", outer / "data" / "fine").exit_code == 0  # elsewhere in a project: its own business


def test_init_prints_a_next_step_that_can_be_pasted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("init", "with space")
    assert result.exit_code == 0 and "segc count -p 'with space'" in result.output


def test_two_names_apart_only_by_case_are_refused_where_declared(project):
    (project / "segments" / "zz.seg").write_text("segment abc = age > 2\n\nsegment ABC = age > 3\n", encoding="utf-8")
    result = cli("check", project)
    assert result.exit_code == 1 and "E213" in result.output and "zz.seg:3:9" in result.output
    assert "only in case" in result.output
    for command in (["build", "-p", project, "--out", project.parent / "b"],
                    ["docs", "-p", project, "--out", project.parent / "d", "--no-counts"]):
        result = cli(*command)
        assert result.exit_code == 1 and "E213" in result.output
        assert not (project.parent / command[-1 if command[0] == "build" else -2].name).exists()


def test_yaml_aliases_that_expand_past_the_text_are_refused_at_once(project):
    text = (project / "segc.yml").read_text(encoding="utf-8")
    bomb = 'x0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
        f"x{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 10))
    (project / "segc.yml").write_text(bomb + text, encoding="utf-8")
    start = time.monotonic()
    result = cli("check", project)
    assert time.monotonic() - start < 30  # was minutes, then all memory
    assert result.exit_code == 1 and "E001" in result.output and "alias" in result.output


def test_a_model_file_with_an_alias_bomb_is_e938_at_once(project):
    """models/*.yml was read by PyYAML alone: 35 s, 3.6 GB and a 722 MB message."""
    import re

    model = project / "models" / "potential.yml"
    bomb = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
        f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 8))
    model.write_text(bomb + re.sub(r"^score: .*$", "score: *a7", model.read_text(encoding="utf-8"), count=1,
                                   flags=re.M), encoding="utf-8")
    start = time.monotonic()
    result = cli("check", project)
    assert time.monotonic() - start < 30 and len(result.output) < 5000
    assert result.exit_code == 1 and "E938" in result.output and "alias" in result.output


@pytest.mark.parametrize("where", ["segc.yml", "tests/deep.yml", "models/potential.yml"])
def test_yaml_nested_past_the_stack_is_e001_not_a_traceback(project, where):
    path = project / where
    text = path.read_text(encoding="utf-8") if path.exists() else "as_of: 2024-07-01\n"
    path.write_text("x_deep: " + "[" * 900 + "]" * 900 + "\n" + text, encoding="utf-8")
    result = cli("test" if where.startswith("tests") else "check", "-p" if where.startswith("tests") else project,
                 *([project] if where.startswith("tests") else []))
    assert result.exit_code == 1 and "nested too deeply" in result.output, result.output[-1500:]


def test_a_few_aliases_are_read_as_the_values_they_repeat(project):
    text = (project / "segc.yml").read_text(encoding="utf-8")
    text = text.replace("values: [FR, BE, CH, DE, ES]", "values: &countries [FR, BE, CH, DE, ES]", 1)
    (project / "segc.yml").write_text(text + "\nx_unused: *countries\n", encoding="utf-8")
    result = cli("check", project)
    assert "repeat a part" not in result.output  # an unknown key, said as such, not an expansion
    assert result.exit_code == 1 and "E004" in result.output and "x_unused" in result.output


def test_float_figures_are_the_same_bits_on_every_run():
    """DuckDB adds floats in the order its threads meet them: before FSUM, 5 of 6 runs of
    this report differed in the last digits (340.54 / 340.55 printed), and 1 of 6 profiles."""
    p = segc.load_project(EXAMPLE)
    from segc.apps.report.formats import report_text
    from segc.apps.report.measure import build_report

    runs = set()
    for _ in range(5):
        runs.add(json.dumps(p.profile("cross_sell").to_dict(), default=str))
        runs.add(report_text(build_report(p, ["cross_sell"], by="country"), "json"))
    assert len(runs) == 2
