"""front/files.py: the folder swap only ever touches its own output and temporaries."""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

from segc.front.files import STALE_SECONDS, guarded_folder, replace_folder


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
    "compiler/front/parser.py": "Lark's grammar cache in ~/.cache; any error there only skips the cache",
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
