"""`segc init DIR`: a new project that runs at once. segc.yml with commented sources and
features, a small deterministic data sample (CSV) that the previews read, one segment
and one segment unit test; `segc count -p DIR` and `segc test -p DIR` work on it as
written. The files are templates/init/ (the CSVs were drawn once with a fixed seed, then
customers 1, 3 and 5 opted in so that the segment has 12 members: `segc profile` shows
figures from min_group, 10); DIR must be new or empty (E960), and is written through
segc.front.files."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from segc.front.errors import Diagnostic, SegcError
from segc.front.files import display_path, read_folder, replace_folder, write_atomic

TEMPLATE = Path(__file__).resolve().parent / "templates" / "init"
FILES = ("segc.yml", "segments/main.seg", "tests/basic.yml", "data/customers.csv", "data/orders.csv", ".gitignore")


@dataclass(frozen=True)
class Scaffold:
    folder: Path
    files: tuple[str, ...]


def init_project(folder: Path) -> Scaffold:
    """Write a new project into `folder` (new, or an empty folder). Raises SegcError."""
    folder = Path(folder)
    _refuse(folder)
    files = {rel: (TEMPLATE / rel).read_bytes() for rel in FILES}
    files["segc.yml"] = files["segc.yml"].replace(b"@NAME@", project_name(folder).encode())
    # the one writer turns a file-system error into E824, nothing half-written
    if folder.exists():
        # an empty folder is written into, not swapped: it may be the current folder
        for rel, data in files.items():
            write_atomic(folder / rel, data, parents=True)
    else:  # all or nothing
        replace_folder(folder, files, refuse=_refuse)
    return Scaffold(folder, FILES)


def project_name(folder: Path) -> str:
    """The folder's name as a project name (letters, digits, `_` and `-`)."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(folder).resolve().name).strip("_-")
    return name or "segments"


def _refuse(folder: Path) -> None:
    """E960 unless `folder` is new or an empty folder: init never mixes its files with others;
    nor inside another project's segments/ or tests/ (read whole, it would stop checking)."""
    for parent in Path(folder).resolve().parents:
        read = read_folder(folder, parent) if (parent / "segc.yml").is_file() else None
        if read:
            raise SegcError(Diagnostic("E960", f"`{display_path(folder)}` is inside the {read} folder of the "
                                       f"project in `{display_path(parent)}`", file=display_path(folder),
                                       hints=("that project reads every file there: give a DIR outside it",)))
    if folder.is_dir() and not any(folder.iterdir()):
        return
    if folder.exists() or folder.is_symlink():
        what = "a folder that is not empty" if folder.is_dir() else "not a folder"
        raise SegcError(Diagnostic("E960", f"`{display_path(folder)}` is {what}",
                                   file=display_path(folder),
                                   hints=("segc init writes a new project into a new or empty folder: "
                                          "give another DIR",)))
