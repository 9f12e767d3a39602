"""The files an app writes into the user's chosen place (`report --out`, `discover --out`)
under the one rule of files.check_output, with the project's data files protected too (a
data file carries no segc mark, but even `--force` must not replace one)."""
from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Callable, Iterable

from segc.front.files import check_output, has_mark


def data_files(project) -> list[Path]:
    """The local data files the project's sources read."""
    return [Path(project.root) / s.path for s in project.schema.sources.values() if s.path]


def check_file(project, out: Path, ours: Callable[[Path], bool], force: bool = False,
               segment_file: bool = False) -> None:
    """May `out` be written? (E822 or E824 if not; see files.check_output.)"""
    check_output(out, ours, root=project.root, protected=data_files(project), force=force,
                 segment_file=segment_file)


def check_marked_file(project, out: Path, fmt: str, marks: dict[str, bytes], what: str) -> None:
    """May `out` be written with `what` (e.g. "report") as `fmt`? New, or a file whose
    start is `marks[fmt]` (E822 or E824 if not); a `what` of another format there is
    named as such: `report.csv` holds a CSV report, which a JSON report does not replace."""
    check_output(out, has_mark(marks[fmt]), root=project.root, protected=data_files(project),
                 kind=f"a {fmt.upper()} {what}",
                 others={f"a {other.upper()} {what}": has_mark(mark) for other, mark in marks.items() if other != fmt})


def steady(v):
    """A float without its digits past the 12th significant one, before a text output
    rounds it (2 decimals): a float sum computed in another order (DuckDB's FSUM, PostgreSQL
    in its plan's order) differs there, and a mean of exactly 71.785 printed 71.78 on DuckDB
    and 71.79 on PostgreSQL (71.78500000000001). Anything else is returned as it is."""
    if isinstance(v, float) and math.isfinite(v) and v != 0.0:
        return float(f"{v:.12g}")
    return v


# a text cell a spreadsheet would run as a formula (`=HYPERLINK(...)` typed by a customer
# as their city): its first character; a number such as -3.5 is left as it is
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def csv_text(rows: Iterable[Iterable]) -> str:
    """The one CSV of segc's outputs (report, lift, changes, the previews' --format csv):
    a text cell that a spreadsheet would run as a formula starts with `'` (OWASP's rule)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([_cell(v) for v in row] for row in rows)
    return buf.getvalue()


def _cell(v):
    if isinstance(v, str) and v.startswith(_FORMULA) and not _NUMBER.fullmatch(v):
        return "'" + v
    return v


def json_text(body) -> str:
    """The one JSON of segc's outputs (every `--format json`, and the JSON files it writes):
    indented, UTF-8 as is, dates as text; a float that is not finite (NaN, +-Infinity, from
    a float column holding them) is written as null, since bare NaN / Infinity are not JSON
    (RFC 8259) and a strict reader (JavaScript, Go, Java) rejects the whole document."""
    return json.dumps(_finite(body), indent=2, ensure_ascii=False, default=_default, allow_nan=False) + "\n"


def _finite(v):
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


def _default(v):
    """A value json does not know (a date, a Decimal, a numpy number): its text, or null
    for a number that is not finite."""
    try:
        finite = math.isfinite(float(v))
    except (TypeError, ValueError, OverflowError):
        finite = True
    return str(v) if finite else None
