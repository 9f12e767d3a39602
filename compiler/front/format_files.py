"""`segc fmt` on files: which .seg files a command line names, each formatted (format_source
in fmt.py) and compared with the file as it is, the diff of those that change, and their
atomic rewrite. Nothing here prints: the CLI shows the results."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from segc.front.fmt import format_source


@dataclass
class Formatted:
    """One file: its text as it is and in the canonical style, or why it was left alone."""
    path: Path
    display: str
    old: str = ""
    new: str = ""
    diagnostics: list = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return not self.diagnostics and self.old != self.new


def seg_files(folder: Path) -> list[Path]:
    """The .seg files of a folder: a project's segments/**/*.seg, else every .seg below."""
    if (folder / "segc.yml").is_file():
        return sorted((folder / "segments").glob("**/*.seg"))
    return sorted(folder.glob("**/*.seg"))


def files_to_format(paths: list[Path], project: Path | None) -> list[Path]:
    """The .seg files named (a folder: its .seg files), else the project's segments (the
    project found upward from `project` or the current folder, as every command does);
    E008 when there is none. Each file once, even when named twice."""
    from segc.front.errors import Diagnostic, SegcError
    from segc.front.files import exists, find_root, is_dir

    files: list[Path] = []
    for path in paths:
        files += seg_files(path) if is_dir(path) else [path]
    if not paths:
        where = project or Path(".")
        root = find_root(where) if exists(where) else None
        if root is None:
            raise SegcError(Diagnostic("E008", f"no segc.yml found in `{where}` or any folder above it",
                                       file=str(where), hints=("give the files or folders to format, "
                                                               "or point at a project with --project DIR",)))
        files = seg_files(root)
    seen: dict[Path, Path] = {}
    for file in files:
        seen.setdefault(file.resolve(), file)
    return list(seen.values())


def format_files(files: list[Path]) -> list[Formatted]:
    """Each file formatted (read as it is: no newline translation); nothing is written."""
    from segc.front.errors import SegcError
    from segc.front.files import display_path, read_source

    out = []
    for file in files:
        item = Formatted(file, display_path(file.resolve()))
        try:
            item.old = read_source(file, item.display, keep_newlines=True).text
            item.new = format_source(item.old, item.display)
        except SegcError as e:
            item.diagnostics = e.diagnostics
        out.append(item)
    return out


def write_formatted(items: list[Formatted]) -> None:
    """Rewrite the files that change, each atomically (E824 on the first that cannot be
    written; the files before it are rewritten, each whole, and the rest untouched)."""
    from segc.front.files import write_atomic

    for item in items:
        if item.changed:
            write_atomic(item.path, item.new)


def unified_diff(old: str, new: str, name: str) -> str:
    def lines(text: str) -> list[str]:
        out = [line + "\n" for line in text.split("\n")]
        if text.endswith("\n"):
            out.pop()
        elif out:
            out[-1] = out[-1][:-1] + "\n\\ No newline at end of file\n"
        return out
    name = name.lstrip("/")  # as git writes an absolute path: a/tmp/x.seg, not a//tmp/x.seg
    return "".join(difflib.unified_diff(lines(old), lines(new), f"a/{name}", f"b/{name}"))
