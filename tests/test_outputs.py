"""Every command that writes, against every way the file system can refuse a write, and
against every file segc must not replace (README "What segc writes"; front/files.py).

The routes were found by grepping compiler/ and cli/ for open(..., "w"), write_text,
write_bytes, mkdir, rename, replace and shutil: build, docs, report --out, discover
--out, fmt and score fit (tests/test_files.py checks that no other module writes)."""
from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from typer.testing import CliRunner

from segc.cli.main import app
from tests.conftest import EXAMPLE

runner = CliRunner()


@dataclass(frozen=True)
class Writer:
    folder: bool  # writes a folder (else one file)
    args: Callable[[Path, Path], list[str]]  # (project, out) -> the command line
    out: Callable[[Path, Path], Path] | None = None  # a fixed place in the project (else --out under area/)


WRITERS = {
    "build": Writer(True, lambda p, o: ["build", "-p", str(p), "--template", "select", "--dialect", "duckdb",
                                        "--out", str(o)]),
    "docs": Writer(True, lambda p, o: ["docs", "--no-counts", "-p", str(p), "--out", str(o)]),
    "report": Writer(False, lambda p, o: ["report", "-p", str(p), "--format", "csv", "--out", str(o)]),
    "discover": Writer(False, lambda p, o: ["discover", "-p", str(p), "--features", "purchases_365d,basket_avg",
                                            "--k", "2", "--out", str(o)]),
    "score fit": Writer(False, lambda p, o: ["score", "fit", "potential", "-p", str(p)],
                        out=lambda p, area: p / "models" / "potential.yml"),
    "fmt": Writer(False, lambda p, o: ["fmt", "-p", str(p)], out=lambda p, area: p / "segments" / "ugly.seg"),
}
UGLY = "segment   ugly=age>30\n"  # a file `segc fmt` rewrites


@pytest.fixture
def place(tmp_path):
    """A copy of the example (with a file for fmt to rewrite) and an empty folder for outputs."""
    project, area = tmp_path / "retail", tmp_path / "area"
    shutil.copytree(EXAMPLE, project)
    (project / "segments" / "ugly.seg").write_text(UGLY, encoding="utf-8")
    area.mkdir()
    return project, area


def run(args: list[str]):
    result = runner.invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def tree(root: Path) -> dict[str, object]:
    """Every path under root with what it is: bytes, a link's target, "fifo", "dir", a mode."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = ("link", os.readlink(path))
        elif path.is_fifo():
            out[rel] = "fifo"
        elif path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = path.read_bytes()
    return out


# ---- the file system refuses ----------------------------------------------------------

def read_only(folder: Path, monkeypatch) -> None:
    """Make `folder` read-only. Root ignores permissions, so for root the calls that create,
    rename or replace an entry of the folder fail with EACCES as the kernel would fail them
    for anyone else."""
    os.chmod(folder, 0o555)
    if os.geteuid() != 0:
        return
    folder = folder.resolve()

    def inside(path) -> bool:
        return Path(os.path.abspath(path)).parent == folder

    def refuse(real, *positions):
        def call(*args, **kwargs):
            flags = args[1] if real is os.open and len(args) > 1 else os.O_CREAT
            if flags & os.O_CREAT and any(inside(args[i]) for i in positions if i < len(args)):
                raise PermissionError(errno.EACCES, "Permission denied", str(args[0]))
            return real(*args, **kwargs)
        return call

    for name, positions in (("mkdir", (0,)), ("rename", (0, 1)), ("replace", (0, 1)), ("open", (0,))):
        monkeypatch.setattr(os, name, refuse(getattr(os, name), *positions))


def disk_full(monkeypatch) -> None:
    """A full disk, as it most often shows: when the data is flushed (delayed allocation)."""
    def fsync(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "fsync", fsync)


def target(name: str, writer: Writer, project: Path, area: Path, failure: str, monkeypatch) -> Path | None:
    """Set up `failure` for `writer`; the path it writes, or None where it cannot happen."""
    fixed = writer.out(project, area) if writer.out else None
    out = fixed or area / ("out" if writer.folder else "out.txt")
    if failure == "name too long":
        return None if fixed else area / ("n" * 300)  # fixed names are short (fmt's temp names are capped)
    if failure == "read-only folder":
        read_only(out.parent, monkeypatch)
        return out
    if failure == "a file in the way of a folder":
        if name == "fmt":
            return None  # fmt rewrites files that exist, in folders that exist
        if fixed:
            shutil.rmtree(out.parent)
            out.parent.write_text("in the way\n")
            return out
        (area / "blocker").write_text("in the way\n")
        return area / "blocker" / out.name
    if failure == "a folder in the way of a file":
        if writer.folder or name == "fmt":
            return None  # a folder output is written into a new folder of its own; fmt reads its file first
        if out.exists():
            out.unlink()
        (out / "inside").mkdir(parents=True)
        return out
    if failure == "disk full":
        disk_full(monkeypatch)
        return out
    raise AssertionError(failure)


FAILURES = ["name too long", "read-only folder", "a file in the way of a folder", "a folder in the way of a file",
            "disk full"]


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("name", list(WRITERS))
def test_a_failing_write_is_e824_and_changes_nothing(name, failure, place, monkeypatch):
    project, area = place
    writer = WRITERS[name]
    out = target(name, writer, project, area, failure, monkeypatch)
    if out is None:
        pytest.skip(f"{name}: cannot meet `{failure}`")
    before = tree(project.parent)
    result = run(writer.args(project, out))
    monkeypatch.undo()
    assert result.exit_code == 1, result.output
    assert "error[E824]" in result.stderr and "hint:" in result.stderr, result.stderr
    assert "cannot write" in result.stderr
    assert tree(project.parent) == before  # nothing half-written, no temporary file or folder left


def test_the_previous_output_survives_a_failing_write(place, monkeypatch):
    """A full disk while replacing an earlier output of each command: the earlier one stays."""
    project, area = place
    for name, writer in WRITERS.items():
        if name in ("fmt", "score fit"):
            continue  # checked by test_a_failing_write_is_e824_and_changes_nothing (their files exist)
        out = area / name
        assert run(writer.args(project, out)).exit_code == 0, name
        before = tree(area)
        disk_full(monkeypatch)
        result = run(writer.args(project, out))
        monkeypatch.undo()
        assert result.exit_code == 1 and "error[E824]" in result.stderr, (name, result.output)
        assert tree(area) == before, name


# ---- segc replaces only what it wrote -------------------------------------------------

def _seg(project: Path, area: Path) -> Path:
    return project / "segments" / "audience.seg"


def _data(project: Path, area: Path) -> Path:
    return project / "data" / "customers.parquet"


def _link(project: Path, area: Path) -> Path:
    outside = area.parent / "outside.txt"
    outside.write_text("someone else's file\n")
    (area / "link").symlink_to(outside)
    return area / "link"


def _fifo(project: Path, area: Path) -> Path:
    os.mkfifo(area / "fifo")
    return area / "fifo"


def _directory(project: Path, area: Path) -> Path:
    (area / "mine").mkdir()
    (area / "mine" / "notes.txt").write_text("precious\n")
    return area / "mine"


NOT_OURS = {"segc.yml": lambda p, a: p / "segc.yml", "a .seg file": _seg, "a data file": _data,
            "a symbolic link": _link, "a FIFO": _fifo, "a directory": _directory}
FREE_OUT = [name for name, w in WRITERS.items() if w.out is None]  # the commands with an --out


@pytest.mark.parametrize("what", list(NOT_OURS))
@pytest.mark.parametrize("name", FREE_OUT)
def test_an_output_segc_did_not_write_is_refused(name, what, place):
    project, area = place
    out = NOT_OURS[what](project, area)
    before = tree(project.parent)
    result = run(WRITERS[name].args(project, out))
    assert result.exit_code == 1, result.output
    assert "error[E822]" in result.stderr or "error[E824]" in result.stderr, result.stderr
    assert tree(project.parent) == before


@pytest.mark.parametrize("what", ["segc.yml", "a data file", "a symbolic link", "a FIFO", "a directory"])
def test_discover_force_never_replaces_these(what, place):
    project, area = place
    out = NOT_OURS[what](project, area)
    before = tree(project.parent)
    result = run([*WRITERS["discover"].args(project, out), "--force"])
    assert result.exit_code == 1 and ("error[E822]" in result.stderr or "error[E824]" in result.stderr)
    assert tree(project.parent) == before


@pytest.mark.parametrize("what", ["a symbolic link", "a FIFO", "a directory"])
def test_score_fit_refuses_what_is_not_a_model_file(what, place):
    project, area = place
    model = project / "models" / "potential.yml"
    model.unlink()
    made = NOT_OURS[what](project, area)
    os.rename(made, model)
    before = tree(project.parent)
    result = run(WRITERS["score fit"].args(project, model))
    assert result.exit_code == 1 and ("error[E822]" in result.stderr or "error[E824]" in result.stderr)
    assert tree(project.parent) == before


@pytest.mark.parametrize("name", FREE_OUT)
def test_each_command_replaces_its_own_output(name, place):
    project, area = place
    out = area / ("out" if WRITERS[name].folder else "out.txt")
    for _ in range(2):
        result = run(WRITERS[name].args(project, out))
        assert result.exit_code == 0, result.output


def test_a_folder_inside_a_catalogue_is_refused_as_part_of_it(place):
    """`segc docs --out site` then `--out site/segments`: refused, but E822 said "segc did
    not write it" of a folder segc wrote as part of the catalogue in `site`."""
    project, area = place
    assert run(WRITERS["docs"].args(project, area / "site")).exit_code == 0
    before = tree(area)
    result = run(WRITERS["docs"].args(project, area / "site" / "segments"))
    assert result.exit_code == 1 and "error[E822]" in result.stderr, result.output
    assert "is part of the catalogue segc wrote in `" in result.stderr and "did not write" not in result.stderr
    assert tree(area) == before


@pytest.mark.parametrize("command,option", [("report", []), ("changes", ["--since", "2024-06-01"])])
def test_an_output_of_another_format_is_named_as_such(place, command, option):
    """A CSV report rewritten as JSON at the same path: refused (each format replaces only
    its own), but E822 said segc had not written the file it wrote a moment before."""
    project, area = place
    out = area / "out.csv"
    if command == "changes":
        assert run(["snapshot", "-p", str(project), "--as-of", "2024-06-01"]).exit_code == 0
    first = run([command, "-p", str(project), *option, "--format", "csv", "--out", str(out)])
    assert first.exit_code == 0, first.output
    before = out.read_bytes()
    result = run([command, "-p", str(project), *option, "--format", "json", "--out", str(out)])
    assert result.exit_code == 1 and "error[E822]" in result.stderr, result.output
    kind = "report" if command == "report" else "changes file"
    assert f"holds a CSV {kind} that segc wrote: a JSON {kind} replaces only a JSON {kind}" in result.stderr
    assert "did not write" not in result.stderr and out.read_bytes() == before


def test_a_file_output_is_not_told_of_an_empty_folder(place):
    project, area = place
    mine = area / "mine.csv"
    mine.write_text("precious\n")
    result = run(WRITERS["report"].args(project, mine))
    assert result.exit_code == 1 and "exists and segc did not write it" in result.stderr
    assert "empty folder" not in result.stderr, result.stderr
