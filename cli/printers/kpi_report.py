"""Printing the KPI report of `segc report`: a Rich table for people; JSON and CSV (data
only) for machines, on stdout or into a file. The HTML page is written by segc.report_html."""
from __future__ import annotations

import csv
import io
import json
import sys


def report_text(report, fmt: str) -> str:
    """The report as JSON or CSV text."""
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
    from segc.apps.report.measure import group_label

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


def print_report(report, fmt: str) -> None:
    if fmt in ("json", "csv"):
        sys.stdout.write(report_text(report, fmt))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from segc.apps.report.measure import ALL, group_label
    from segc.apps.report.html import format_change, format_value

    title = (f"as of {report.as_of.isoformat()}, change since {report.previous_as_of.isoformat()} "
             f"({report.period} earlier)" + (f" — by {report.by}" if report.by else ""))
    table = Table(title=title, title_justify="left")
    table.add_column("segment", no_wrap=True)
    if report.by:
        table.add_column(report.by)
    for m in report.metrics:
        table.add_column(m, justify="right")
    for i, r in enumerate(report.rows):
        cells = []
        for m in report.metrics:
            change, sign = format_change(report, r, m)
            color = "green" if sign > 0 else "red" if sign < 0 else "dim"
            cells.append(f"{format_value(report, m, r.current.get(m))}\n[{color}]{escape(change)}[/]")
        first = [escape(r.segment)] + ([escape(group_label(r.group))] if report.by else [])
        last_of_segment = i + 1 == len(report.rows) or report.rows[i + 1].segment != r.segment
        style = "bold" if report.by and r.group is ALL else None
        table.add_row(*first, *cells, style=style, end_section=bool(report.by) and last_of_segment)
    console = Console()
    from rich.measure import Measurement

    needed = Measurement.get(console, console.options.update_width(10_000), table).maximum
    if needed > console.width:
        if console.is_terminal:
            console.print("[dim](the table is wider than this terminal: widen it, choose KPIs with --kpi, "
                          "or use --format csv)[/]")
        else:  # a file or a pipe: the whole table, not columns cut to `…`
            console = Console(width=needed)
    console.print(table)
    for k in report.kpis:
        console.print(f"[bold]{escape(k.name)}[/] = {k.kind}: {escape(k.text)}"
                      + (f" [dim]— {escape(k.description)}[/]" if k.description else ""), highlight=False)
    if not report.kpis:
        console.print("[dim]no KPIs: declare them under `kpis:` in segc.yml (size and share are always shown)[/]")
