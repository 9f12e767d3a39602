"""Every command of the CLI × every kind of target, on a copy of the example project:
each run ends with exit 0, or exit 1 with a coded diagnostic, never a traceback (issue
#15: `segc count quadrant`, the fifth command a new user tried, was one).

The commands are read from the Typer app itself (a group's subcommands included), so a
new command is covered as soon as it is registered. The target goes where the command
takes one: `-e` for an expression (commands that have it), else the first positional
argument; `--project` points at the project when the command has it. A required option
gets its value from REQUIRED below: a new command with a required option this test does
not know fails here until one is added. DuckDB only."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from segc.cli.app import app

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "retail"

# the example has no segment allowed to use a sensitive feature: the copy adds one
SENSITIVE_SEG = """\
## Counted only, never targeted: French customers who declared a religion.
@allow_sensitive("aggregate reporting approved by the DPO; no campaign uses it")
segment religion_declared_fr = religion is present and country = "FR"
"""

KINDS = {
    "segment": "at_risk",
    "segmentation": "quadrant",
    "branch": "quadrant.frequent_big",
    "expression": 'basket_avg > 100 and country in ["FR", "BE"]',
    "holdout": "loyal_control",            # holdout 10% seed "spring_2024"
    "score": "high_potential",             # top 20% by potential (a fitted score)
    "sensitive_allowed": "religion_declared_fr",
}

# values of the options a command requires (by option name)
REQUIRED = {"--from": "2024-01-01", "--to": "2024-07-01", "--out": "out", "--features": "purchases_365d,basket_avg"}

# what the commands that take targets must do with each kind (check/targets.py): run (0),
# or refuse with E011 naming what they take. A segmentation counts, overlaps, profiles
# and reports as its branches; sample refuses it; transitions takes nothing else; build
# builds a branch with its segmentation. Commands not listed only keep the rule above.
ALL_RUN = {kind: 0 for kind in KINDS}
EXPECTED = {
    ("count",): ALL_RUN, ("overlap",): ALL_RUN, ("profile",): ALL_RUN, ("report",): ALL_RUN,
    ("compile",): ALL_RUN,
    ("sample",): {**ALL_RUN, "segmentation": "E011"},
    ("transitions",): {**{kind: "E011" for kind in KINDS}, "segmentation": 0},
    ("build",): {**ALL_RUN, "branch": "E011"},
}

CODED = re.compile(r'error\[E\d{3}\]|"code": "E\d{3}"')


def _commands(command=None, path=()):
    command = command or typer.main.get_command(app)
    if hasattr(command, "commands"):  # a group: its subcommands
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield path, command


COMMANDS = dict(_commands())


def _invocation(path: tuple[str, ...], command, kind: str, project: Path) -> list[str] | None:
    """The command line that gives the command a target of this kind (None: it cannot be
    given one: an expression to a command without -e)."""
    options = {opt: p for p in command.params if p.param_type_name == "option" for opt in p.opts}
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    args = list(path)
    if kind == "expression":
        if "-e" not in options:
            return None
        args += ["-e", KINDS[kind]]
    elif arguments:
        args.append(KINDS[kind])
    else:
        return None
    for p in command.params:
        if p.param_type_name == "option" and p.required:
            known = [o for o in p.opts if o in REQUIRED]
            assert known, f"`segc {' '.join(path)}` requires {p.opts[0]}: give it a value in REQUIRED"
            args += [known[0], REQUIRED[known[0]]]
    if "--project" in options:
        args += ["--project", str(project)]
    return args


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("matrix") / "retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("generate.py", "README.md", "build"))
    (root / "segments" / "sensitive.seg").write_text(SENSITIVE_SEG, encoding="utf-8")
    return root


def test_the_matrix_covers_every_command_and_kind():
    # what the matrix is made of, so that it cannot shrink unnoticed
    assert {"count", "sample", "overlap", "profile", "transitions", "compile", "build", "report", "check",
            "test", "diff", "docs", "fmt", "discover", "init"} <= {p[0] for p in COMMANDS}
    assert ("score", "fit") in COMMANDS and ("score", "show") in COMMANDS
    with_e = {p for p, c in COMMANDS.items() if any("-e" in o.opts for o in c.params)}
    assert {("count",), ("sample",), ("profile",), ("compile",)} <= with_e


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("path", list(COMMANDS), ids=" ".join)
def test_command_with_target(path, kind, project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # what a command writes by default (init, docs --out) lands here
    args = _invocation(path, COMMANDS[path], kind, project)
    if args is None:
        pytest.skip(f"`segc {' '.join(path)}` takes no {kind}")
    result = CliRunner().invoke(app, args)
    shown = f"segc {' '.join(args)}\n{result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), shown
    assert "Traceback" not in result.output, shown
    assert result.exit_code in (0, 1), shown
    if result.exit_code == 1:
        assert CODED.search(result.output), shown
    expected = EXPECTED.get(path, {}).get(kind)
    if expected == 0:
        assert result.exit_code == 0, shown
    elif expected is not None:
        assert result.exit_code == 1 and f"error[{expected}]" in result.output, shown
