"""The `segc` command line over the retail example: version, help, check (text, json,
github), compile (dialects, forms, -e), count (table, json, csv; names; counts equal to
the per-segment SQL run on DuckDB), and project discovery."""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from tests.conftest import EXAMPLE

runner = CliRunner()
COMMANDS = [c.name or c.callback.__name__ for c in app.registered_commands]


def cli(*args: str, env: dict | None = None):
    result = runner.invoke(app, list(args), env=env)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def run_segc(*args: str, cwd=None):
    return subprocess.run([sys.executable, "-m", "segc.cli.main", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def retail():
    return segc.load_project(EXAMPLE)


@pytest.fixture(scope="module")
def counts_json():
    result = runner.invoke(app, ["count", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# ---- version and help -----------------------------------------------------------------

def test_version():
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"segc {segc.__version__}"
    proc = run_segc("--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, f"segc {segc.__version__}")


def test_help_lists_commands():
    result = cli("--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name in ("check", "compile", "count"):
        assert name in result.stdout
    assert "segc compile loyal_big_basket" in result.stdout  # the app's own examples


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_shows_examples(command):
    result = cli(command, "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    # an "Example:" / "Examples:" section that runs this very command
    assert re.search(rf"Examples?:[\s\S]*\bsegc {command}\b", result.stdout), result.stdout


def test_no_arguments_shows_help():
    result = cli()
    assert result.exit_code in (0, 2)
    assert "Usage" in result.output and "compile" in result.output


# ---- check ----------------------------------------------------------------------------

def test_check_example_is_clean(retail):
    result = cli("check", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    # branches are not counted as segments (47 "segments" were 34, 3 segmentations and their 13 branches)
    branches = sum(len(i.branches) for i in retail.checked.segmentations.values())
    assert (f"ok: {len(retail.checked.segments) - branches} segments and {len(retail.checked.segmentations)} "
            f"segmentations ({branches} branches) checked") in result.stderr


def test_check_json(retail):
    result = cli("check", str(EXAMPLE), "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert {"diagnostics", "errors", "warnings"} <= set(body)
    assert body["errors"] == 0
    assert body["warnings"] == len(body["diagnostics"])
    assert set(body["segments"]) == set(retail.checked.segments)


@pytest.fixture
def broken(tmp_path, monkeypatch):
    """The retail example's schema with a .seg file holding three mistakes."""
    root = tmp_path / "broken"
    (root / "segments").mkdir(parents=True)
    (root / "segc.yml").write_text((EXAMPLE / "segc.yml").read_text(encoding="utf-8"), encoding="utf-8")
    (root / "segments" / "bad.seg").write_text(
        "segment a = purchases_90 > 3\n"
        'segment b = country = "FX"\n'
        "segment c = age >\n", encoding="utf-8")
    monkeypatch.chdir(root)
    return root


def test_check_json_broken(broken):
    result = cli("check", "--format", "json")
    assert result.exit_code == 1
    body = json.loads(result.stdout)  # only JSON on stdout
    assert body["errors"] == 3
    first = body["diagnostics"][0]
    assert {"code", "severity", "message", "file", "line", "col", "hints"} <= set(first)
    assert (first["file"], first["line"], first["col"]) == ("segments/bad.seg", 1, 13)
    assert "did you mean `purchases_90d`?" in first["hints"]


def test_check_github_annotations(broken):
    result = cli("check", "--format", "github")
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    for line in lines:
        assert re.match(r"::error file=segments/bad\.seg,line=\d+,col=\d+,title=E\d+::\S", line), line
    assert lines[0].startswith("::error file=segments/bad.seg,line=1,col=13,")


def test_check_text_broken_subprocess(broken):
    proc = run_segc("check", cwd=broken)
    assert proc.returncode == 1
    assert proc.stdout == ""  # messages go to stderr
    assert "segments/bad.seg:1:13" in proc.stderr and "3 errors" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_check_reports_segment_syntax_errors_beside_a_broken_segc_yml(tmp_path):
    """Without a valid segc.yml nothing can be name- or type-checked, but the syntax errors
    of the .seg files are still reported in the same run."""
    (tmp_path / "segments").mkdir()
    (tmp_path / "segc.yml").write_text("name: x\nbase: c\nkey: id\nsources:\n  c: {table: c}\n"
                                       "features:\n  age: {type: integer}\n", encoding="utf-8")
    (tmp_path / "segments" / "a.seg").write_text("segment a = age >\nsegment b = age > 3\n", encoding="utf-8")
    proc = run_segc("check", cwd=tmp_path)
    assert proc.returncode == 1
    assert "segc.yml:7:15" in proc.stderr and "error[E004]" in proc.stderr
    assert "segments/a.seg:1:17" in proc.stderr and "error[E102]" in proc.stderr
    assert "2 errors" in proc.stderr and "Traceback" not in proc.stderr


# ---- compile --------------------------------------------------------------------------

@pytest.mark.parametrize("dialect, quote", [
    ("duckdb", '"'), ("postgres", '"'), ("sqlite", '"'), ("snowflake", '"'), ("bigquery", "`"),
    ("tsql", "["), ("spark", "`"),
])
def test_compile_dialects(dialect, quote):
    result = cli("compile", "loyal_big_basket", "-p", str(EXAMPLE), "--dialect", dialect)
    assert result.exit_code == 0, result.output
    sql = result.stdout.strip()
    assert sql.startswith(("WITH", "SELECT")) and sql.endswith(";")
    assert f"{quote}purchases_365d" in sql  # identifiers are quoted in the dialect's way
    assert "Traceback" not in result.stderr


def test_compile_is_deterministic():
    a = cli("compile", "at_risk", "-p", str(EXAMPLE), "--dialect", "snowflake").stdout
    b = run_segc("compile", "at_risk", "-p", str(EXAMPLE), "--dialect", "snowflake").stdout
    assert a == b and a.strip()


def test_compile_expression():
    result = cli("compile", "-p", str(EXAMPLE), "-e", 'age >= 30 and country in ["FR", "BE"]', "--dialect", "postgres")
    assert result.exit_code == 0, result.output
    assert '"age" >= 30' in result.stdout and "'FR'" in result.stdout


def test_compile_expression_shows_its_warnings():
    """As `segc check` does for a segment: the SQL on stdout, the warning on stderr, exit 0."""
    result = cli("compile", "-p", str(EXAMPLE), "-e", "age > 50 and age < 20")
    assert result.exit_code == 0, result.output
    assert "warning[W101]" in result.stderr and "<expression>:1:1" in result.stderr
    assert "W101" not in result.stdout and '"age" > 50' in result.stdout
    assert cli("compile", "-p", str(EXAMPLE), "-e", "age > 50").stderr == ""


@pytest.mark.parametrize("expr, never", [
    ("quantile_score(age, 5) = 6", True), ("quantile_score(age, 5) = 0", True), ("6 <= quantile_score(age, 5)", True),
    ("quantile_score(age, 5) > 5", True), ("quantile_score(age, 5) = 5", False), ("quantile_score(age, 5) != 7", False),
    ("quantile_score(age, 4) < 2", False),
])
def test_a_quantile_score_outside_1_to_n_is_w101(expr, never):
    result = cli("compile", "-p", str(EXAMPLE), "-e", expr)
    assert result.exit_code == 0 and ("warning[W101]" in result.stderr) == never, result.stderr


def test_compile_form_count(retail):
    result = cli("compile", "loyal_big_basket", "-p", str(EXAMPLE), "--form", "count")
    assert result.exit_code == 0, result.output
    assert "COUNT(*)" in result.stdout
    (n,) = retail.duckdb().execute(result.stdout.strip().rstrip(";")).fetchone()
    assert n > 0


def test_compile_form_label(retail):
    result = cli("compile", "value_tier", "-p", str(EXAMPLE), "--form", "label", "--as-of", "2024-07-01")
    assert result.exit_code == 0, result.output
    assert "CASE" in result.stdout
    rows = retail.duckdb().execute(result.stdout.strip().rstrip(";")).fetchall()
    labels = {label for _key, label in rows}
    assert labels == {"very_good", "good", "average", "occasional"}
    by_label = {}
    for _key, label in rows:
        by_label[label] = by_label.get(label, 0) + 1
    for label, n in by_label.items():  # the labels agree with the branch counts
        sql = retail.compile(f"value_tier.{label}", form="count")
        assert retail.duckdb().execute(sql).fetchone()[0] == n


def test_compile_segmentation_without_else_labels_only_members(retail):
    sql = cli("compile", "quadrant", "-p", str(EXAMPLE), "--form", "label").stdout.strip().rstrip(";")
    rows = retail.duckdb().execute(sql).fetchall()
    assert {label for _k, label in rows} <= {"frequent_big", "frequent_small", "occasional_big", "occasional_small"}
    assert None not in {label for _k, label in rows}


# ---- count ----------------------------------------------------------------------------

def test_count_table(retail):
    result = cli("count", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert "population" in result.stdout
    for name in ("loyal_big_basket", "value_tier.good", "at_risk"):
        assert name in result.stdout


def test_count_json(counts_json, retail):
    assert set(counts_json) == {"as_of", "population", "segments"}
    assert counts_json["as_of"] == "2024-07-01"
    assert isinstance(counts_json["population"], int) and counts_json["population"] > 0
    assert [s["name"] for s in counts_json["segments"]] == retail.segment_names
    for s in counts_json["segments"]:
        assert set(s) == {"name", "count", "share"}
        assert isinstance(s["count"], int)
        assert s["share"] == pytest.approx(s["count"] / counts_json["population"])
    # the branches of a segmentation partition the population when there is an `else`
    tiers = [s["count"] for s in counts_json["segments"] if s["name"].startswith("value_tier.")]
    assert len(tiers) == 4 and sum(tiers) == counts_json["population"]


def test_count_csv(counts_json):
    result = cli("count", str(EXAMPLE), "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["name", "count", "share"]
    assert all(len(r) == 3 for r in rows)
    counted = {r[0]: int(r[1]) for r in rows[1:]}
    for s in counts_json["segments"]:
        assert counted[s["name"]] == s["count"]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_machine_formats_print_only_data(fmt):
    proc = run_segc("count", str(EXAMPLE), "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    if fmt == "json":
        json.loads(proc.stdout)  # the whole of stdout is one JSON document
    else:
        assert proc.stdout.splitlines()[0] == "name,count,share"
        assert all(len(r) == 3 for r in csv.reader(io.StringIO(proc.stdout)))
    assert "Traceback" not in proc.stderr


def test_count_named_segments(counts_json):
    result = cli("count", "loyal_big_basket", "value_tier.good", "-p", str(EXAMPLE), "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [s["name"] for s in body["segments"]] == ["loyal_big_basket", "value_tier.good"]
    expected = {s["name"]: s["count"] for s in counts_json["segments"]}
    assert [s["count"] for s in body["segments"]] == [expected["loyal_big_basket"], expected["value_tier.good"]]
    assert body["population"] == counts_json["population"]


def test_count_unknown_segment():
    result = cli("count", "loyal_big_baskets", "-p", str(EXAMPLE))
    assert result.exit_code == 1
    assert "unknown segment `loyal_big_baskets`" in result.output
    assert "did you mean `loyal_big_basket`?" in result.output


def test_count_equals_per_segment_count_sql(retail, counts_json):
    """One scan for all segments gives the same numbers as each segment's own query."""
    con = retail.duckdb()
    for s in counts_json["segments"]:
        sql = retail.compile(s["name"], form="count")
        assert con.execute(sql).fetchone()[0] == s["count"], s["name"]
    population = con.execute(retail.compile_expression("true", form="count")).fetchone()[0]
    assert population == counts_json["population"]


def test_not_is_the_complement_within_the_population(retail, counts_json):
    con = retail.duckdb()
    for name in ("loyal_big_basket", "inactive_6m", "young_urban_fr"):
        yes = con.execute(retail.compile_expression(name, form="count")).fetchone()[0]
        no = con.execute(retail.compile_expression(f"not {name}", form="count")).fetchone()[0]
        assert yes + no == counts_json["population"], name


# ---- which project --------------------------------------------------------------------

def test_project_found_upward(monkeypatch, counts_json):
    monkeypatch.chdir(EXAMPLE / "segments")
    result = cli("check")
    assert result.exit_code == 0, result.output
    result = cli("count", "at_risk", "--format", "json")
    assert result.exit_code == 0, result.output
    expected = next(s for s in counts_json["segments"] if s["name"] == "at_risk")
    assert json.loads(result.stdout)["segments"] == [expected]
    result = cli("compile", "at_risk", "--form", "count")
    assert result.exit_code == 0 and "COUNT(*)" in result.stdout


def test_project_found_upward_subprocess():
    proc = run_segc("compile", "shoe_fans", cwd=EXAMPLE / "segments")
    assert proc.returncode == 0, proc.stderr
    assert "shoes" in proc.stdout


def test_project_path_as_target(monkeypatch, counts_json):
    monkeypatch.chdir(EXAMPLE.parent)
    result = cli("count", "retail", "at_risk", "--format", "json")
    assert result.exit_code == 0, result.output
    assert [s["name"] for s in json.loads(result.stdout)["segments"]] == ["at_risk"]


def _commands_taking_a_project_folder():
    """Every command (score's too) with --project and a positional argument that may be a
    project folder: (command words, whether it takes several arguments, its required options)."""
    import typer.main

    found = []

    def walk(group, words):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                walk(command, words + [name])
                continue
            folder = [p for p in command.params if p.param_type_name == "argument" and p.name in ("targets", "path")]
            if folder and any("--project" in p.opts for p in command.params):
                required = [p.opts[0] for p in command.params if p.param_type_name == "option" and p.required]
                found.append((words + [name], folder[0].nargs == -1, required))

    walk(typer.main.get_command(app), [])
    return found


PROJECT_FOLDER_COMMANDS = _commands_taking_a_project_folder()


def test_the_walk_finds_the_commands_that_take_a_project_folder():
    assert {" ".join(w) for w, _many, _required in PROJECT_FOLDER_COMMANDS} >= {
        "check", "count", "sample", "overlap", "profile", "transitions", "build", "snapshot", "changes", "test",
        "docs", "report", "discover"}


# a value for each required option of those commands
REQUIRED = {"--from": "2024-01-01", "--to": "2024-02-01", "--out": "written", "--features": "age"}


@pytest.mark.parametrize("words,many,required", PROJECT_FOLDER_COMMANDS,
                         ids=[" ".join(w) for w, _m, _r in PROJECT_FOLDER_COMMANDS])
def test_two_project_folders_are_E012_naming_both(tmp_path, monkeypatch, words, many, required):
    """Two projects given (two folder arguments, or a folder and --project): one of them
    was ignored without a word, the last folder in one case and --project in the other.
    The same project named twice (its folder and a folder inside it) is one project."""
    for name in ("one", "two"):
        (tmp_path / name / "segments").mkdir(parents=True)
        (tmp_path / name / "segc.yml").write_text("name: [\n", encoding="utf-8")  # fails fast once loaded
    monkeypatch.chdir(tmp_path)
    words = [*words, *(x for option in required for x in (option, REQUIRED[option]))]
    for args in ([*words, "one", "-p", "two"], *([[*words, "one", "two"]] if many else [])):
        result = cli(*args)
        assert result.exit_code == 1, (args, result.output)
        assert "error[E012]: two projects given:" in result.stderr, (args, result.output)
        assert "`one`" in result.stderr and "two`" in result.stderr and "hint: " in result.stderr
    for args in ([*words, "one", "-p", "one/segments"], *([[*words, "one", "one/segments"]] if many else [])):
        result = cli(*args)
        assert "E012" not in result.output, (args, result.output)
        assert "segc.yml" in result.output, (args, result.output)  # loaded: its own error
