"""front/files.py: the folder swap only ever touches its own output and temporaries."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from segc.cli.main import app

from segc.front.files import STALE_SECONDS, guarded_folder, replace_folder
from tests.conftest import EXAMPLE

runner = CliRunner()


def test_a_sweep_takes_the_name_literally(tmp_path):
    """`o[1]` is a folder name, not a glob: another output's stale temp folder stays."""
    other = tmp_path / ".o1.segc-new.k"
    other.mkdir()
    ours = tmp_path / ".o[1].segc-new.k"
    ours.mkdir()
    old = time.time() - STALE_SECONDS - 60
    for folder in (other, ours):
        os.utime(folder, (old, old))
    replace_folder(tmp_path / "o[1]", {"a.txt": b"x"})
    assert other.is_dir() and not ours.exists()
    assert (tmp_path / "o[1]" / "a.txt").read_bytes() == b"x"


def test_guarded_folders(tmp_path, monkeypatch):
    project, here = tmp_path / "p", tmp_path / "p" / "sub"
    here.mkdir(parents=True)
    monkeypatch.chdir(here)
    assert guarded_folder(project, project) == "the project folder"
    assert guarded_folder(tmp_path, project) == "the project folder"
    assert guarded_folder(here, tmp_path / "elsewhere") == "the current folder"
    assert guarded_folder(here / "out", project) is None


# every call that creates, writes, renames or removes a file, outside front/files.py
WRITING = re.compile(r"""open\([^)]*["'][wax]b?["']|write_text\(|write_bytes\(|\.mkdir\(|os\.(rename|replace|mkdir|"""
                     r"""makedirs|unlink|remove)\(|shutil\.(move|copy|copytree|rmtree)|mkstemp|mkdtemp|TemporaryDirectory""")
NOT_OUTPUTS = {  # writes that are no output of the user's: each says why it does not go through files.py
    "compiler/front/parse_cache.py": "makes segc's cache folder in ~/.cache (its entries go through write_atomic); "
                                     "any error there only skips the cache",
    "compiler/apps/diff.py": "a private temporary folder for the other revision, removed on exit",
    "compiler/run/spark_engine.py": "Spark's private temporary warehouse and log, removed on exit",
}


def test_every_output_goes_through_files_py():
    """The one writer: no module but front/files.py writes a file (README "What segc
    writes"); tests/test_outputs.py then enumerates the commands that call it."""
    root = Path(__file__).resolve().parent.parent
    found = {}
    for path in sorted([*(root / "compiler").rglob("*.py"), *(root / "cli").rglob("*.py")]):
        rel = path.relative_to(root).as_posix()
        if rel == "compiler/front/files.py":
            continue
        if WRITING.search(path.read_text(encoding="utf-8")):
            found[rel] = True
    assert sorted(found) == sorted(NOT_OUTPUTS)


# ---- a build killed at each step of the swap ----------------------------------------------

KILLED_AT = '''
import os, signal, sys
import segc.front.files as files

AT = sys.argv[1]

def step(name):  # SIGKILL: no cleanup, no finally, as a cancelled CI job or the OOM killer
    if name == AT:
        os.kill(os.getpid(), signal.SIGKILL)

files._step = step
from segc.cli.main import main
sys.argv = ["segc", *sys.argv[2:]]
main()
'''
STEPS = ["writing", "before-swap", "old-moved", "new-moved"]


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _build(out: Path, template: str) -> list[str]:
    return ["build", "-p", str(EXAMPLE), "--template", template, "--dialect", "duckdb", "--out", str(out)]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """The complete old (select) and new (view) outputs, built without interruption."""
    base = tmp_path_factory.mktemp("complete")
    for template in ("select", "view"):
        assert runner.invoke(app, _build(base / template, template)).exit_code == 0
    return _tree(base / "select"), _tree(base / "view")


@pytest.mark.parametrize("step", STEPS)
def test_a_build_killed_at_each_step_of_the_swap(step, outputs, tmp_path, monkeypatch):
    old, new = outputs
    out = tmp_path / "out"
    assert runner.invoke(app, _build(out, "select")).exit_code == 0
    killed = subprocess.run([sys.executable, "-c", KILLED_AT, step, *_build(out, "view")],
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # the previous output is never lost: in place, or whole in .segc-old until the next run
    olds = list(tmp_path.glob(".out.segc-old.*"))
    if step == "old-moved":
        assert not out.exists() and len(olds) == 1 and _tree(olds[0]) == old
    else:
        assert _tree(out) == (new if step == "new-moved" else old)
    hours_ago = time.time() - 2 * STALE_SECONDS  # old enough for any sweep
    for leftover in tmp_path.glob(".out.segc-*"):
        os.utime(leftover, (hours_ago, hours_ago))
    # the next run puts the previous output back first, even when it then fails itself
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    failed = runner.invoke(app, _build(out, "table"))
    monkeypatch.undo()
    assert failed.exit_code == 1 and "error[E824]" in failed.stderr
    assert _tree(out) == (new if step == "new-moved" else old)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # the sweep removed the rest, never the only copy
    # and the following build succeeds
    assert runner.invoke(app, _build(out, "view")).exit_code == 0
    assert _tree(out) == new


def test_a_killed_runs_staging_folder_goes_at_the_next_run_a_live_ones_stays(tmp_path):
    """A .segc-new is removed as soon as no live run holds its lock (a killed build's stayed
    an hour: seven kills left seven folders of half-written SQL beside the output); one a
    run still writes is locked by it and stays."""
    fcntl = pytest.importorskip("fcntl")
    dead, live = tmp_path / ".out.segc-new.dead", tmp_path / ".out.segc-new.live"
    for folder in (dead, live):
        folder.mkdir()
        (folder / "half.sql").write_text("select")
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as the run writing it holds it
        replace_folder(tmp_path / "out", {"a.sql": b"select 1"})
        assert sorted(p.name for p in tmp_path.iterdir()) == [".out.segc-new.live", "out"]
    finally:
        os.close(fd)
    replace_folder(tmp_path / "out", {"a.sql": b"select 2"})  # its run is gone now
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_build_killed_while_writing_leaves_nothing_after_the_next_run(tmp_path):
    out = tmp_path / "out"
    killed = subprocess.run([sys.executable, "-c", KILLED_AT, "writing", *_build(out, "view")],
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert [p.name.rsplit(".", 1)[0] for p in tmp_path.iterdir()] == [".out.segc-new"]
    assert runner.invoke(app, _build(out, "view")).exit_code == 0  # at once, no hour to wait
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_the_sweep_keeps_a_previous_output_whose_swap_was_cut(tmp_path):
    """A .segc-old with no output in place is the only copy: however old, it is restored,
    never removed."""
    out = tmp_path / "out"
    old = tmp_path / ".out.segc-old.dead"
    old.mkdir()
    (old / "a.sql").write_text("select 1")
    hours_ago = time.time() - 2 * STALE_SECONDS
    os.utime(old, (hours_ago, hours_ago))

    def refuse(target):
        raise RuntimeError("stop before the swap")

    with pytest.raises(RuntimeError):
        replace_folder(out, {"a.sql": b"select 2"}, refuse=refuse)
    assert (out / "a.sql").read_text() == "select 1" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_write_atomic_sweeps_the_temp_files_a_killed_writer_left(tmp_path):
    """A kill -9 between the temp file and the rename leaves `.<name>.XXXXXXXX.tmp`: the
    next write of that file removes it once an hour old, and nothing else."""
    import os
    import time

    from segc.front.files import STALE_SECONDS, write_atomic

    target = tmp_path / "a.seg"
    old = time.time() - STALE_SECONDS - 60
    stale = tmp_path / ".a.seg.k1ll3d9x.tmp"
    fresh = tmp_path / ".a.seg.wr1t1ng0.tmp"  # a write still running elsewhere
    other = tmp_path / ".b.seg.k1ll3d9x.tmp"  # another file's
    odd = tmp_path / ".a.seg.not-mkstemps.tmp"  # not a name mkstemp makes
    for path in (stale, fresh, other, odd):
        path.write_text("half", encoding="utf-8")
    for path in (stale, other, odd):
        os.utime(path, (old, old))
    write_atomic(target, "segment a = true\n")
    assert target.read_text(encoding="utf-8") == "segment a = true\n"
    assert not stale.exists()
    assert fresh.exists() and other.exists() and odd.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [".a.seg.wr1t1ng0.tmp", ".b.seg.k1ll3d9x.tmp", ".a.seg.not-mkstemps.tmp", "a.seg"])
