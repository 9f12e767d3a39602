"""The wheel is complete: build it, install it into a clean venv, run the `segc` script.

An unlisted subpackage or a missing data file (the grammar) is silently left out of
the wheel while every in-tree test still passes; only an installed wheel shows it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

# every file of the source folders, at its place in the package: a subpackage missing
# from pyproject's `packages` fails here, whichever it is
_FOLDERS = {"compiler": "segc", "cli": "segc/cli", "grammar": "segc/grammar"}
REQUIRED_IN_WHEEL = tuple(sorted(
    f"{pkg}/{path.relative_to(ROOT / folder).as_posix()}"
    for folder, pkg in _FOLDERS.items() for path in (ROOT / folder).rglob("*")
    if (path.suffix in (".py", ".lark", ".j2") or (path.is_file() and "init" in path.parts)  # init: segc init's files
        or (path.is_file() and "static" in path.parts))  # static: segc serve's page and editor bundle
    and "__pycache__" not in path.parts))

SEGC_YML = """\
name: t
entity: customer
base: customers
key: customer_id
sources:
  customers: {table: customers}
features:
  age: {type: int}
"""


def _clean_env() -> dict[str, str]:
    """The environment without the dev venv, so only the clean venv is visible."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(cmd: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=_clean_env(), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=timeout,
    )


def _check(result: subprocess.CompletedProcess, what: str) -> None:
    if result.returncode != 0:
        pytest.fail(
            f"{what} failed (exit {result.returncode}): {' '.join(result.args)}\n"
            f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # Build from a copy: setuptools reuses build/lib, where a stale copy of a deleted
    # or unlisted module would hide exactly the bug this test looks for.
    src = tmp_path_factory.mktemp("src") / "segc"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis", ".pytest_cache"))
    out = tmp_path_factory.mktemp("wheel")
    _check(_run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", out, src], cwd=out),
           "building the wheel")
    wheels = list(out.glob("segc-*.whl"))
    assert len(wheels) == 1, f"expected one segc wheel in {out}, found {os.listdir(out)}"
    return wheels[0]


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A clean venv (no pip of its own) with the wheel and its dependencies; returns its bin/."""
    venv = tmp_path_factory.mktemp("venv")
    _check(_run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=venv), "creating the venv")
    python = venv / "bin" / "python"
    _check(_run([sys.executable, "-m", "pip", "--python", python, "install", "--no-compile", wheel], cwd=venv),
           "installing the wheel into a clean venv")
    return venv / "bin"


def test_wheel_contains_every_module_and_the_grammar(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in REQUIRED_IN_WHEEL if name not in names]
    assert not missing, f"{wheel.name} lacks {missing}; it holds: {sorted(n for n in names if n.startswith('segc/'))}"


def test_installed_segc_version(installed, tmp_path):
    result = _run([installed / "segc", "--version"], cwd=tmp_path, timeout=60)
    _check(result, "`segc --version` from the installed wheel")
    assert VERSION in result.stdout, result.stdout


def test_installed_segc_compiles(installed, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "segc.yml").write_text(SEGC_YML)
    result = _run([installed / "segc", "compile", "-e", "age >= 30", "-p", project], cwd=tmp_path, timeout=60)
    _check(result, "`segc compile` from the installed wheel")
    assert '"age"' in result.stdout, result.stdout


def test_installed_segc_builds_with_its_templates(installed, tmp_path):
    """`segc build` from the wheel finds the templates shipped in the package."""
    project = tmp_path / "project"
    (project / "segments").mkdir(parents=True)
    (project / "segc.yml").write_text(SEGC_YML)
    (project / "segments" / "adults.seg").write_text("segment adults = age >= 18\n")
    out = tmp_path / "out"
    result = _run([installed / "segc", "build", "-p", project, "--template", "view", "--out", out],
                  cwd=tmp_path, timeout=60)
    _check(result, "`segc build --template view` from the installed wheel")
    assert 'CREATE OR REPLACE VIEW "adults" AS' in (out / "adults.sql").read_text(), (out / "adults.sql").read_text()
    assert (out / "manifest.json").is_file()


def test_installed_segc_init_runs_at_once(installed, tmp_path):
    """`segc init` from the wheel finds its templates (segc.yml, data, segment, test)."""
    _check(_run([installed / "segc", "init", "new"], cwd=tmp_path, timeout=60), "`segc init` from the wheel")
    result = _run([installed / "segc", "count", "-p", "new", "--format", "csv"], cwd=tmp_path, timeout=60)
    _check(result, "`segc count` on the project `segc init` made")
    assert "active_subscribers,12," in result.stdout, result.stdout
