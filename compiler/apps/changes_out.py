"""`segc changes --format json|csv`: the changes as text, on stdout or written into a file
(`--out`) by the one writer, under the one rule (a file segc wrote, known by its start)."""
from __future__ import annotations

from pathlib import Path

from segc.apps.outputs import check_marked_file, csv_text, json_text
from segc.front.files import write_atomic

# how segc knows a changes file is its own: JSON's fixed start; CSV's header after the key
MARKS = {"json": b'{\n  "since": "', "csv": b",definition,branch,change"}


def changes_text(changes, fmt: str) -> str:
    """JSON (counts and rows) or CSV (one line per row, the header first)."""
    if fmt == "json":
        return json_text(changes.to_dict())
    return csv_text(changes.to_csv())


def check_changes_output(fmt: str, out: Path, project) -> None:
    """May `out` be written? New, or a changes file of this format (E822/E824 if not)."""
    check_marked_file(project, out, fmt, MARKS, "changes file")


def write_changes(changes, fmt: str, out: Path, project) -> Path:
    """Write the changes as `fmt` into `out`, atomically (E822/E824)."""
    write_atomic(out, changes_text(changes, fmt), refuse=lambda path: check_changes_output(fmt, path, project))
    return out
