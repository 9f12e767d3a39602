"""Printing `segc snapshot` (the sizes stored) and `segc changes` (counts on a terminal;
the rows as JSON or CSV for machines)."""
from __future__ import annotations

import sys

from segc.apps.outputs import json_text
from segc.cli.printers import shown
from segc.cli.printers.fit import print_table


def print_snapshot(result, fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json_text(result.to_dict()))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"snapshot {result.as_of}: {shown(result.store)}", title_justify="left")
    table.add_column("definition")
    table.add_column("members", justify="right")
    for definition, branch, n in result.counts:
        table.add_row(shown(f"{definition}.{branch}" if branch else definition), f"{n:,}")
    print_table(Console(), table)


def print_changes(result, fmt: str) -> None:
    if fmt in ("json", "csv"):
        from segc.apps.changes_out import changes_text

        sys.stdout.write(changes_text(result, fmt))
        return
    from rich.console import Console
    from rich.table import Table

    each = len(set(result.since_by.values())) > 1  # `last`: each definition its own snapshot
    since = "each definition's latest snapshot" if each else result.since
    table = Table(title=f"changes since {since}, as of {result.as_of}", title_justify="left")
    table.add_column("definition")
    if each:
        table.add_column("since")
    table.add_column("entered", justify="right")
    table.add_column("exited", justify="right")
    for name, entered, exited in result.counts():
        table.add_row(shown(name), *([result.since_by.get(name, result.since_by.get(name.partition(".")[0], ""))] if each else []),
                      f"{entered:,}", f"{exited:,}")
    print_table(Console(), table)
