"""A `segc report` as data: JSON, CSV (long format: one line per segment, group and
metric, easy to pivot), or the HTML page (html.py); on stdout or written into a file."""
from __future__ import annotations

from pathlib import Path

from segc.apps.report.measure import Report, group_kind, group_label
from segc.apps.outputs import check_marked_file, csv_text, json_text
from segc.front.errors import Diagnostic, SegcError
from segc.front.files import write_atomic


def report_text(report, fmt: str) -> str:
    """The report as JSON or CSV text."""
    if fmt == "json":
        return json_text(report.to_dict())
    # long format: one line per segment, group and metric (easy to pivot)
    rows = [["as_of", "previous_as_of", "segment", "group", "metric", "value", "previous", "change",
                     "relative_change", "target_min", "target_max", "met", "gap", "group_kind"]]
    for r in report.rows:
        targets = report.targets(r)
        for m in report.metrics:
            c = r.change(m, report.is_share(m))
            t = targets.get(m)  # the current value's; empty for a metric without targets
            rows.append([report.as_of.isoformat(), report.previous_as_of.isoformat(), r.segment,
                             group_label(r.group), m, _cell(r.current.get(m)), _cell(r.previous.get(m)),
                             _cell(c.absolute), _cell(c.relative),
                         *((_cell(t.min), _cell(t.max), _cell(t.met), _cell(t.gap)) if t else ("",) * 4),
                         group_kind(r.group)])
    return csv_text(rows)


def _cell(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)  # floats at full precision (shortest round-trip form)


# How segc knows a report file is its own (files.check_output): each format's fixed start
MARKS = {"html": b'<meta name="generator" content="segc report">', "json": b'{\n  "as_of": "',
         "csv": b"as_of,previous_as_of,segment,group,metric,"}


def check_output(fmt: str, out: Path | None, project=None) -> None:
    """HTML is always a file (E948 without one); `out` must be new or a report segc wrote
    (E822/E824). Asked before the report's queries run, and again right before the write."""
    if fmt == "html" and out is None:
        raise SegcError(Diagnostic("E948", "--format html writes a file: give --out FILE",
                                   hints=("e.g. --format html --out report.html",)))
    if out is not None and project is not None:
        check_marked_file(project, out, fmt, MARKS, "report")


def write_report(report: Report, fmt: str, out: Path, project) -> Path:
    """Write the report as `fmt` (json, csv or html) into `out`, atomically (E822/E824)."""
    from segc.apps.report.html import render_html

    text = render_html(report, project.schema.name) if fmt == "html" else report_text(report, fmt)
    write_atomic(out, text, refuse=lambda path: check_output(fmt, path, project))
    return out
