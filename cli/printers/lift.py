"""Printing `segc lift`: a table on a terminal, JSON or CSV for machines."""
from __future__ import annotations

import sys

from segc.cli.printers import shown
from segc.cli.printers.fit import print_table
from segc.front.printable import one_line


def print_lift(r: dict, fmt: str) -> None:
    from segc.apps.lift_out import lift_text, table_rows

    if fmt in ("json", "csv"):
        sys.stdout.write(lift_text(r, fmt))
        return
    from rich.console import Console
    from rich.table import Table

    srm = r["srm"]
    title = shown(one_line(f"{r['experiment']}: {r['target']} ({srm['n_target']:,}) vs {r['control']} "
                           f"({srm['n_control']:,}), frozen at {r['assigned_at']}, metrics over "
                           f"[{r['assigned_at']}, {r['until']})"))
    table = Table(title=title, title_justify="left")
    for c in ("metric", "kind", "n target", "n control", "target", "control", "difference", "95% interval",
              "relative", "p-value"):
        table.add_column(c, justify="left" if c in ("metric", "kind") else "right")
    for name, cells in table_rows(r):
        table.add_row(shown(one_line(name)), *cells)
    console = Console()
    print_table(console, table)
    console.print(f"arms: {r['membership']}", highlight=False)
    if srm["testable"]:
        console.print(f"sample ratio: expected target share {srm['expected_share']:g}, chi-square p = "
                      f"{srm['p_value']:.3g}", highlight=False)
    for n in r.get("notes", ()):
        console.print(f"note: {n}", highlight=False)
    for w in r["warnings"]:
        console.print(f"[yellow]warning:[/] {w}", highlight=False)
