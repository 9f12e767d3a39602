"""Printing the result of `segc discover`: for people, the summary on stderr (and the
segmentation on stdout when there is no --out); for machines, one JSON object on stdout."""
from __future__ import annotations

import sys

from segc.apps.outputs import json_text
from segc.cli.printers.fit import print_table
from segc.cli.printers import shown


def _num(v) -> str:
    if v is None:
        return "—"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.3g}"


def print_discovery(result, fmt: str, out=None) -> None:
    if fmt == "json":
        body = result.to_dict()
        body["out"] = str(out) if out is not None else None
        sys.stdout.write(json_text(body))
        return
    from rich.console import Console
    from rich.table import Table

    if out is None:
        sys.stdout.write(result.text)
        sys.stdout.flush()
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    tried = ", ".join(f"{k}: {s:.3f}" + (" ←" if k == result.k else "") for k, s in result.silhouettes.items())
    console.print(f"[bold]{shown(result.name)}[/]: {len(result.branches)} branches from k-means with "
                  f"k = {result.k} (silhouette {tried}), seed {result.seed}")
    console.print(f"population {result.population:,} as of {result.as_of}; features: "
                  f"{shown(', '.join(result.features))}")
    color = "green" if result.faithfulness >= 0.9 else "yellow"
    console.print(f"faithfulness: [{color}]{result.faithfulness:.1%}[/] of the customers are in the branch of "
                  "their cluster (rules counted by segc)")

    table = Table(title="branches (first match wins) — mean, and stddev inside / stddev overall",
                  title_justify="left")
    for c in ("branch", "cluster", "count", "share", "in cluster"):
        table.add_column(c, justify="left" if c == "branch" else "right")
    for f in result.features:
        table.add_column(f, justify="right")
    for b in result.branches:
        name = f"[yellow]{shown(b.name)} (< {result.min_size})[/]" if b.too_small else shown(b.name)
        cells = [f"{_num(b.means[f])} ({b.stddev_ratio[f]:.2f})" if b.stddev_ratio[f] is not None
                 else _num(b.means[f]) for f in result.features]
        table.add_row(name, str(b.cluster), f"{b.count:,}", f"{b.share:.1%}",
                      "—" if b.in_cluster is None else f"{b.in_cluster:.0%}", *cells)
    table.add_row("[dim](population)[/]", "", f"{result.population:,}", "100%", "",
                  *[_num(result.population_means[f]) for f in result.features])
    print_table(console, table)
    clusters = Table(title="clusters — how many of each are in their branch", title_justify="left")
    for c in ("cluster", "size", "branch", "in branch"):
        clusters.add_column(c, justify="right" if c in ("size", "in branch") else "left")
    for c in result.clusters:
        clusters.add_row(str(c.cluster), f"{c.size:,}", shown(c.branch or "—"), f"{c.in_branch:.0%}")
    print_table(console, clusters)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {shown(note)}")
    for b in result.branches:
        if b.too_small:
            console.print(f"[yellow]warning:[/] branch `{shown(b.name)}` has {b.count} members, below "
                          f"min_size {result.min_size}")
    if result.warnings:
        from segc.front.errors import render_text

        console.print(shown(render_text(result.warnings)))
    if out is not None:
        console.print(f"wrote {shown(str(out))}")
