"""`--help` of every command: no type shown for a flag (`--strict <bool>`), one name for
the human format (`text`; `table` is still read, unlisted), `[required]` where an option
is, and every example command line of every --help runs on the bundled project."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess

import pytest
import typer.main
from typer.testing import CliRunner

from segc.cli.main import app
from tests.conftest import EXAMPLE

runner = CliRunner()
WIDE = {"COLUMNS": "300"}  # no line of --help wrapped


def _commands(cmd, path=()):
    yield path
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        yield from _commands(sub, path + (name,))


COMMANDS = list(_commands(typer.main.get_command(app)))


def help_text(path) -> str:
    result = runner.invoke(app, [*path, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_every_command_is_covered():
    names = {" ".join(p) for p in COMMANDS}
    assert {"", "count", "check", "score", "score fit", "score show", "discover", "report"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "segc")
def test_no_type_shown_for_a_flag(path):
    text = help_text(path)
    assert "<bool>" not in text, text
    assert re.search(r"--help\s+-h\s+Show this message", text), text


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "segc")
def test_the_human_format_is_called_text(path):
    line = next((line for line in help_text(path).splitlines() if re.match(r"\W*--format\b", line)), None)
    if line is None:
        return
    assert "table" not in line and re.search(r"\btext\b", line), line
    assert "[default: text]" in line, line


@pytest.mark.parametrize("command", [["count"], ["overlap", "at_risk", "inactive_6m"], ["check"],
                                     ["score", "show", "potential"]])
def test_table_is_still_read_as_text(command):
    as_text = runner.invoke(app, [*command, "-p", str(EXAMPLE), "--format", "text"])
    as_table = runner.invoke(app, [*command, "-p", str(EXAMPLE), "--format", "table"])
    assert as_text.exit_code == 0, as_text.output
    assert (as_table.exit_code, as_table.stdout) == (0, as_text.stdout)


def test_required_options_say_so():
    text = help_text(("discover",))
    assert re.search(r"\*\s+--features\b.*\[required\]", text), text
    result = runner.invoke(app, ["discover", "-p", str(EXAMPLE)])
    assert result.exit_code == 2 and "Missing option '--features'" in result.output
    assert re.search(r"\*\s+--out\b.*\[required\]", help_text(("docs",)))
    assert re.search(r"\*\s+--from\b.*\[required\]", help_text(("transitions",)))


# ---- every example of every --help runs on the bundled project ---------------------------

EXAMPLE_LINE = re.compile(r"^\s*(?:Examples?:\s*)?(segc\s.+?)\s*$")


def examples() -> list[tuple[str, str]]:
    out = []
    for path in COMMANDS:
        for line in help_text(path).splitlines():
            m = EXAMPLE_LINE.match(line.strip("│ "))
            if m:
                out.append((" ".join(path) or "segc", m.group(1)))
    return out


EXAMPLES = examples()


def test_examples_were_found():
    found = {where for where, _line in EXAMPLES}
    assert len(EXAMPLES) >= 25 and {"segc", "count", "build", "diff", "score fit", "discover"} <= found, EXAMPLES


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A copy of examples/retail at examples/retail, in a git repository with two commits
    (for `segc diff HEAD` and `HEAD~1`): the examples write into it, never into the repo."""
    root = tmp_path_factory.mktemp("help_examples")
    shutil.copytree(EXAMPLE, root / "examples" / "retail",
                    ignore=shutil.ignore_patterns("build", "site", "__pycache__"))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "one"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "two"], cwd=root, check=True)
    # `segc changes` compares with a stored snapshot: one before the example's as-of
    assert runner.invoke(app, ["snapshot", "-p", str(root / "examples" / "retail"), "--as-of", "2024-06-01"]).exit_code == 0
    return root


@pytest.mark.parametrize("where, line", EXAMPLES, ids=[f"{w}: {x}" for w, x in EXAMPLES])
def test_help_example_runs(where, line, workspace, monkeypatch):
    monkeypatch.chdir(workspace)
    args = shlex.split(line, comments=True)
    assert args[0] == "segc" and "&&" not in args, f"one command per example line: {line}"
    result = runner.invoke(app, args[1:])
    assert result.exit_code == 0, f"{line}\n{result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


# ---- what --help says of --format is what the command takes ------------------------------

FORMATS = ("text", "json", "csv", "html", "github")
# enough arguments for each command to reach its --format check
FORMAT_ARGS = {"sample": ["recent_signups"], "overlap": ["at_risk", "inactive_6m"], "profile": ["at_risk"],
               "transitions": ["rfm", "--from", "2024-01-01", "--to", "2024-06-01"],
               "discover": ["--features", "age"], "lift": ["at_risk"], "report": ["at_risk"],
               "score fit": ["potential"], "score show": ["potential"], "diff": ["HEAD"]}


def _format_commands():
    for path in COMMANDS:
        line = next((line for line in help_text(path).splitlines() if re.match(r"\W*--format\b", line)), None)
        if line is not None:
            yield path, line


@pytest.mark.parametrize("path,line", list(_format_commands()), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_a_format_the_help_does_not_list_is_refused(path, line):
    """`profile --format csv` printed JSON: a format is taken only where --help lists it."""
    listed = {f for f in FORMATS if re.search(rf"\b{f}\b", line.split("--format", 1)[1])}
    assert "text" in listed and "json" in listed, line
    for fmt in sorted(set(FORMATS) - listed):
        result = runner.invoke(app, [*path, *FORMAT_ARGS.get(" ".join(path), []),
                                     *(["-p", str(EXAMPLE)] if path != ("diff",) else []), "--format", fmt], env=WIDE)
        assert result.exit_code == 2 and "Invalid value for --format" in result.output, (path, fmt, result.output)
