"""front/files.py: the folder swap only ever touches its own output and temporaries."""
from __future__ import annotations

import os
import time

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
