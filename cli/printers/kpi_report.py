"""Printing the KPI report of `segc report`: a Rich table for people; JSON and CSV (data
only, segc.apps.report.formats) for machines on stdout."""
from __future__ import annotations

import sys

from segc.cli.printers.fit import print_table
from segc.cli.printers import shown


def print_report(report, fmt: str) -> None:
    if fmt in ("json", "csv"):
        from segc.apps.report.formats import report_text

        sys.stdout.write(report_text(report, fmt))
        return
    from rich.console import Console
    from rich.table import Table

    from segc.apps.report.measure import ALL, group_label
    from segc.apps.report.html import format_bounds, format_change, format_target, format_value

    title = (f"as of {report.as_of.isoformat()}, change since {report.previous_as_of.isoformat()} "
             f"({report.period} earlier)" + (f" — by {report.by}" if report.by else ""))
    table = Table(title=title, title_justify="left")
    table.add_column("segment")
    if report.by:
        table.add_column(shown(report.by))
    for m in report.metrics:
        table.add_column(m, justify="right")
    for i, r in enumerate(report.rows):
        cells, targets = [], report.targets(r)
        for m in report.metrics:
            change, sign = format_change(report, r, m)
            color = "green" if sign > 0 else "red" if sign < 0 else "dim"
            cell = f"{format_value(report, m, r.current.get(m))}\n[{color}]{shown(change)}[/]"
            if m in targets:  # ✓ met, ✗ missed with the gap, ? no value
                text, mark = format_target(report, m, targets[m])
                cell += f"\n[{'green' if mark > 0 else 'bold red' if mark < 0 else 'dim'}]{shown(text)}[/]"
            cells.append(cell)
        first = [shown(r.segment)] + ([shown(group_label(r.group))] if report.by else [])
        last_of_segment = i + 1 == len(report.rows) or report.rows[i + 1].segment != r.segment
        style = "bold" if report.by and r.group is ALL else None
        table.add_row(*first, *cells, style=style, end_section=bool(report.by) and last_of_segment)
    console = Console()
    print_table(console, table)
    for k in report.kpis:
        console.print(f"[bold]{shown(k.name)}[/] = {shown(k.definition)}"
                      + (f" [bold](target {shown(format_bounds(report, k.name, k.targets))})[/]" if k.targets else "")
                      + (f" [dim]— {shown(k.description)}[/]" if k.description else ""), highlight=False)
    if any(k.targets for k in report.kpis):
        console.print("[dim]targets: ✓ met, ✗ missed by the gap (the value minus the bound it misses), "
                      "? no value to compare[/]", highlight=False)
    if not report.kpis:
        console.print("[dim]no KPIs: declare them under `kpis:` in segc.yml (size and share are always shown)[/]")
