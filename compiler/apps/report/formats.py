"""A `segc report` as data: JSON, CSV (long format: one line per segment, group and
metric, easy to pivot), or the HTML page (html.py); on stdout or written into a file."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from segc.apps.report.measure import Report, group_label
from segc.front.errors import Diagnostic, SegcError


def report_text(report, fmt: str) -> str:
    """The report as JSON or CSV text."""
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    # long format: one line per segment, group and metric (easy to pivot)
    writer.writerow(["as_of", "previous_as_of", "segment", "group", "metric", "value", "previous", "change",
                     "relative_change"])
    for r in report.rows:
        for m in report.metrics:
            c = r.change(m, report.is_share(m))
            writer.writerow([report.as_of.isoformat(), report.previous_as_of.isoformat(), r.segment,
                             group_label(r.group), m, _cell(r.current.get(m)), _cell(r.previous.get(m)),
                             _cell(c.absolute), _cell(c.relative)])
    return buf.getvalue()


def _cell(v) -> str:
    return "" if v is None else str(v)  # floats at full precision (shortest round-trip form)


def check_output(fmt: str, out: Path | None) -> None:
    """HTML is always a file (E948 without one): asked before the report's queries run."""
    if fmt == "html" and out is None:
        raise SegcError(Diagnostic("E948", "--format html writes a file: give --out FILE",
                                   hints=("e.g. --format html --out report.html",)))


def write_report(report: Report, fmt: str, out: Path, project: str = "") -> Path:
    """Write the report as `fmt` (json, csv or html) into `out`, atomically."""
    from segc.apps.report.html import render_html, write_text

    return write_text(out, render_html(report, project) if fmt == "html" else report_text(report, fmt))
