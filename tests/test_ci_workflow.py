"""segc in CI: the documented example workflow's commands run on the example project,
`--format github` annotations carry the hints and survive odd file names, and the JSON of
`segc check --format json` has exactly the shape docs/language.md documents."""
from __future__ import annotations

import json
import re
import shlex
import shutil

import pytest
import yaml
from typer.testing import CliRunner

from segc.cli.main import app
from tests.conftest import EXAMPLE, ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "segments.yml.example"


def cli(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def copy_example(dest):
    # the data copied: a link out of the project would need `allow_outside_paths: true`
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("generate.py", "build"))
    return dest


@pytest.fixture
def broken(tmp_path, monkeypatch):
    """The example's schema and one .seg file with two mistakes, in a folder whose name holds
    the characters that end a workflow-command property."""
    root = tmp_path / "odd, name: here"
    (root / "segments").mkdir(parents=True)
    shutil.copyfile(EXAMPLE / "segc.yml", root / "segc.yml")
    (root / "segments" / "bad.seg").write_text("segment a = purchases_90 > 3\nsegment b = age >\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return root


def test_github_annotations_carry_hints_and_escaped_file_names(broken):
    result = cli("check", broken.name, "--format", "github")
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        # a GitHub workflow command: `::error k=v,k=v::message`, no raw `,` or `:` in a value
        m = re.fullmatch(r"::error ((?:\w+=[^,:]*,)*\w+=[^,:]*)::(.+)", line)
        assert m, line
        props = dict(p.split("=", 1) for p in m.group(1).split(","))
        assert props["file"] == "odd%2C name%3A here/segments/bad.seg"
        assert props["title"].startswith("E") and int(props["line"]) >= 1 and int(props["col"]) >= 1
        assert "\n" not in m.group(2)
    assert lines[0].endswith("::unknown feature or segment `purchases_90`%0Ahint: did you mean `purchases_90d`?")
    body = json.loads(cli("check", broken.name, "--format", "json").stdout)
    # the same diagnostics, hints included, as the JSON format
    for line, d in zip(lines, body["diagnostics"]):
        assert line.split("::")[2] == "%0A".join([d["message"], *(f"hint: {h}" for h in d["hints"])])


def _documented_json() -> dict:
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    section = text[text.index("## Machine-readable diagnostics"):]
    return json.loads(re.search(r"```json\n(.*?)```", section, flags=re.S).group(1))


def test_check_json_has_the_documented_shape(broken, tmp_path):
    documented = _documented_json()
    got = json.loads(cli("check", broken.name, "--format", "json").stdout)
    assert set(got) == set(documented) - {"segments"}  # `segments` only when clean
    assert got["errors"] == 2 and got["warnings"] == 0
    for d in got["diagnostics"]:
        assert set(d) == set(documented["diagnostics"][0]), d  # every key, and no other
        assert d["severity"] in ("error", "warning") and isinstance(d["hints"], list)
    clean = json.loads(cli("check", str(copy_example(tmp_path / "clean")), "--format", "json").stdout)
    assert set(clean) == set(documented)
    assert all(set(v) == {"file", "sensitive"} for v in clean["segments"].values())


def _workflow_commands() -> list[str]:
    steps = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["segments"]["steps"]
    commands = []
    for step in steps:
        for line in str(step.get("run", "")).splitlines():
            if line.strip().startswith("segc "):
                commands.append(line.strip())
    return commands


def test_example_workflow_commands_run(tmp_path, monkeypatch):
    """Each `segc` line of the example workflow, on a copy of examples/retail as
    `segments-project` (the pull request's base branch: a second copy)."""
    copy_example(tmp_path / "segments-project")
    copy_example(tmp_path / "base")
    monkeypatch.chdir(tmp_path)
    commands = _workflow_commands()
    assert {c.split()[1] for c in commands} >= {"check", "fmt", "test", "diff", "build"}
    for command in commands:
        command = command.replace('"origin/${{ github.base_ref }}"', "base").split(" > ")[0]
        assert "${{" not in command, command
        result = cli(*shlex.split(command)[1:])
        assert result.exit_code == 0, (command, result.output)
        if " diff " in f" {command} " and "json" in command:
            assert json.loads(result.stdout)["unchanged"] > 0
    assert (tmp_path / "build" / "views" / "manifest.json").is_file()
    assert (tmp_path / "build" / "dbt" / "models" / "segments" / "sources.yml").is_file()


def test_diff_in_a_ci_log_keeps_names_and_figures_whole(tmp_path):
    """Not a terminal (a CI log, a file): rich would squeeze the table into 80 columns and
    cut `quadrant.occasional_big` and `quadrant.occasional_small` to the same text."""
    old, new = copy_example(tmp_path / "old"), copy_example(tmp_path / "new")
    rfm = new / "segments" / "rfm.seg"
    text = rfm.read_text(encoding="utf-8")
    assert "  frequent_big     = purchases_365d >= 5" in text
    rfm.write_text(text.replace("  frequent_big     = purchases_365d >= 5", "  frequent_big     = purchases_365d >= 4"),
                   encoding="utf-8")
    result = CliRunner().invoke(app, ["diff", str(old), str(new)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    table = result.stdout[result.stdout.index("membership on the preview data"):]
    for branch in ("frequent_big", "frequent_small", "occasional_big", "occasional_small"):
        assert f"│ quadrant.{branch} " in table, table
