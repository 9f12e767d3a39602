"""Printing the result of `segc diff`: Rich text for people, JSON for machines (data only
on stdout)."""
from __future__ import annotations

import sys

from segc.apps.outputs import json_text
from segc.cli.printers.fit import print_table
from segc.cli.printers import shown


def print_diff(result, fmt: str = "text") -> None:
    if fmt == "json":
        sys.stdout.write(json_text(result.to_dict()))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True)
    status = [c.status for c in result.changes]
    console.print(f"[bold]{shown(result.old_label)}[/] -> [bold]{shown(result.new_label)}[/]: "
                  + ", ".join(f"{status.count(s)} {s}" for s in ("added", "removed", "changed"))
                  + f", {result.unchanged} unchanged")
    if result.config_diff:
        console.print("[yellow]~ changed[/] [bold]segc.yml[/]")
        for line in result.config_diff.splitlines():
            console.print(f"    [{_style(line)}]{shown(line)}[/]")
    marks = {"added": "[green]+ added[/]  ", "removed": "[red]- removed[/]", "changed": "[yellow]~ changed[/]"}
    for c in result.changes:
        console.print(f"{marks[c.status]} [bold]{shown(c.name)}[/]")
        if not c.text_diff:
            console.print("    [dim](same text; its SQL changed: a referenced segment, feature, parameter or "
                          "the population changed)[/]")
        for line in c.text_diff.splitlines():
            console.print(f"    [{_style(line)}]{shown(line)}[/]")
    rows = [(c, m) for c in result.changes for m in c.members]
    if rows:
        table = Table(title=f"membership on the preview data (as of {result.as_of})", title_justify="left")
        for col in ("segment", "status", "before", "after", "entered", "left", "unchanged"):
            # names are never cut (print_table wraps them): two branches of one segmentation must stay apart
            table.add_column(col, justify="left" if col in ("segment", "status") else "right")
        for c, m in rows:
            table.add_row(shown(m.name), c.status, f"{m.before:,}", f"{m.after:,}", f"[green]+{m.entered:,}[/]",
                          f"[red]-{m.left:,}[/]", f"{m.unchanged:,}")
        print_table(console, table)  # a CI log or a file: the whole table, at its own width
    for note in result.notes:
        console.print(f"[yellow]note:[/] {shown(note)}")


def _style(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "bold"
    if line.startswith("+"):
        return "green"
    if line.startswith("-"):
        return "red"
    return "cyan" if line.startswith("@@") else "dim"
