"""The files an app writes into the user's chosen place (`report --out`, `discover --out`)
under the one rule of files.check_output, with the project's data files protected too (a
data file carries no segc mark, but even `--force` must not replace one)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from segc.front.files import check_output


def data_files(project) -> list[Path]:
    """The local data files the project's sources read."""
    return [Path(project.root) / s.path for s in project.schema.sources.values() if s.path]


def check_file(project, out: Path, ours: Callable[[Path], bool], force: bool = False) -> None:
    """May `out` be written? (E822 or E824 if not; see files.check_output.)"""
    check_output(out, ours, root=project.root, protected=data_files(project), force=force)
