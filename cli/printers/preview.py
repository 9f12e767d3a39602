"""Printing the results of the preview commands (`segc count`, `sample`, `overlap`, `profile`,
`transitions`): Rich tables for people, JSON and CSV (data only) for machines."""
from __future__ import annotations

import sys

from segc.apps.outputs import json_text, steady
from segc.cli.printers import shown
from segc.cli.printers.fit import print_table
from segc.preview import OTHER


def print_data(result, fmt: str) -> bool:
    """JSON or CSV (data only, as the result defines it) on stdout; False for a table."""
    if fmt == "json":
        sys.stdout.write(json_text(result.to_dict()))
    elif fmt == "csv":
        from segc.apps.outputs import csv_text

        sys.stdout.write(csv_text(result.to_csv()))
    return fmt in ("json", "csv")


def print_counts(result, fmt: str) -> None:
    if print_data(result, fmt):
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"as of {result.as_of} — population {result.population:,}", title_justify="left")
    table.add_column("segment")
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    table.add_column("", min_width=20)
    for s in result.segments:
        bar = "█" * round(s.share * 20)
        name = f"[yellow]{shown(s.name)} (< {s.min_size})[/]" if s.too_small else shown(s.name)
        table.add_row(name, f"{s.count:,}", f"{s.share:.1%}", f"[cyan]{bar}[/]")
    print_table(Console(), table, drop_first=(3,))  # the bars before any number


def print_sample(result, fmt: str, title: str = "") -> None:
    if print_data(result, fmt):
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for c in result.columns:
        table.add_column(shown(c))
    for r in result.to_csv()[1:]:  # dates as ISO text, as in CSV and JSON
        table.add_row(*["—" if v is None else f"{steady(v):.2f}" if isinstance(v, float) else shown(v) for v in r])
    print_table(Console(), table)


def print_overlap(result, fmt: str) -> None:
    if print_data(result, fmt):
        return
    n = len(result.names)
    from rich.console import Console
    from rich.table import Table

    table = Table(title="overlap: members in both (Jaccard)", title_justify="left")
    table.add_column("")
    for name in result.names:
        table.add_column(shown(name), justify="right")
    for i, name in enumerate(result.names):
        cells = [f"[bold]{result.matrix[i][i]:,}[/]" if i == j else
                 f"{result.matrix[i][j]:,} ({result.jaccard(i, j):.2f})" for j in range(n)]
        table.add_row(shown(name), *cells)
    print_table(Console(), table)


def print_profile(result, fmt: str, min_group: int) -> None:
    """`min_group`: the project's (segc.yml), named by the note on withheld figures."""
    if fmt == "json":
        sys.stdout.write(json_text(result.to_dict()))
        return
    if hasattr(result, "profiles"):
        _print_side_by_side(result.profiles, min_group)
        return
    from rich.console import Console
    from rich.table import Table

    def num(v, pct=False):
        return "—" if v is None else (f"{v:.0%}" if pct else f"{steady(v):,.2f}")

    console = Console()
    table = Table(title=f"{shown(result.name)}: {result.size:,} of {result.population:,}", title_justify="left")
    for c in ("feature", "mean", "stddev", "missing", "pop. mean", "pop. stddev", "pop. missing"):
        table.add_column(c, justify="left" if c == "feature" else "right", )
    for p in result.numeric:
        table.add_row(shown(p.feature), num(p.mean), num(p.stddev), num(p.missing, True),
                      num(p.population_mean), num(p.population_stddev), num(p.population_missing, True))
    print_table(console, table)
    for c in result.categorical:
        t = Table(title=shown(c.feature), title_justify="left")
        for col in ("value", "in segment", "in population"):
            t.add_column(col, justify="left" if col == "value" else "right")
        for value, share_in, share_pop in c.values:
            t.add_row("—" if value is None else shown(value), "—" if share_in is None else f"{share_in:.1%}",
                      f"{share_pop:.1%}")
        print_table(console, t)
    _withheld_note(console, [result], min_group)


def _print_side_by_side(profiles, min_group: int) -> None:
    """Several profiles (a segmentation's branches): one column per segment, then the
    population; numbers by mean (missing share below), values by share."""
    from rich.console import Console
    from rich.table import Table

    console, first = Console(), profiles[0]
    # a segmentation's branches are headed by the branch alone (the title names it)
    prefixes = {p.name.partition(".")[0] for p in profiles if "." in p.name}
    whole = prefixes.pop() if len(prefixes) == 1 and all("." in p.name for p in profiles) else None
    heads = [p.name.partition(".")[2] if whole else p.name for p in profiles]

    def num(v, pct=False):
        return "—" if v is None else (f"{v:.0%}" if pct else f"{steady(v):,.2f}")

    # a feature shown for one segment may be masked (sensitive) for another: by name
    numeric = [{n.feature: n for n in p.numeric} for p in profiles]
    rows = {n.feature: n for p in profiles for n in p.numeric}
    table = Table(title=f"{shown(whole) + ': ' if whole else ''}mean (missing) of {first.population:,} in the population",
                  title_justify="left")
    table.add_column("feature", no_wrap=True)
    for head, p in zip(heads, profiles):
        table.add_column(f"{shown(head)}\n{p.size:,}", justify="right")
    table.add_column("population", justify="right")
    for feature, n in rows.items():
        cells = [f"{num(m[feature].mean)} ({num(m[feature].missing, True)})" if feature in m else "masked"
                 for m in numeric]
        table.add_row(shown(feature), *cells, f"{num(n.population_mean)} ({num(n.population_missing, True)})")
    print_table(console, table)
    categorical = [{c.feature: c for c in p.categorical} for p in profiles]
    for feature in {c.feature: None for p in profiles for c in p.categorical}:
        t = Table(title=shown(feature), title_justify="left")
        t.add_column("value")
        for head in heads:
            t.add_column(shown(head), justify="right")
        t.add_column("population", justify="right")
        shares = [{value: share for value, share, _pop in m[feature].values} if feature in m else None
                  for m in categorical]
        population = {value: pop for m in categorical if feature in m for value, _share, pop in m[feature].values}
        # each segment's top values, in order of appearance, and (other) last: a value
        # that is not among one column's top values is inside that column's (other)
        order = [v for v in population if v != OTHER] + [v for v in population if v == OTHER]
        for value in order:
            t.add_row("—" if value is None else shown(value),
                      *("masked" if s is None else "—" if s.get(value, 0) is None else f"{s[value]:.1%}"
                        if value in s else "·" for s in shares),
                      f"{population[value]:.1%}")
        print_table(console, t)
        if any(s is not None and value not in s for value in order for s in shares):
            console.print(f"· not among that column's top values: counted in its {OTHER}", highlight=False)
    _withheld_note(console, profiles, min_group)


def _withheld_note(console, profiles, min_group: int) -> None:
    """Why a segment's figures are —, and the key that sets the rule (preview.too_few: its
    members, or the customers of the population outside it, are fewer than min_group)."""
    small = [shown(p.name) for p in profiles if p.withheld and p.size < min_group]
    most = [shown(p.name) for p in profiles if p.withheld and p.size >= min_group]  # all but a few
    parts = [f"fewer members than min_group ({min_group}) in {', '.join(small)}"] if small else []
    parts += [f"fewer than min_group ({min_group}) customers outside {', '.join(most)}"] if most else []
    if parts:
        console.print(f"note: {'; '.join(parts)}: their figures are not shown (—), as each would be one of a few "
                      "people's; `min_group:` in segc.yml sets the smallest group whose figures are shown",
                      highlight=False)


def print_transitions(result, fmt: str) -> None:
    if print_data(result, fmt):
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{shown(result.segmentation)}: from {result.start} (rows) to {result.end} (columns)",
                  title_justify="left")
    table.add_column("from \\ to")
    for c in result.columns:
        table.add_column(shown(c), justify="right")
    table.add_column("total", justify="right")
    for r in result.rows:
        total = result.row_total(r)
        if not total:
            continue
        cells = []
        for c in result.columns:
            cell = f"{result.counts.get((r, c), 0):,} ({result.row_share(r, c):.0%})"
            cells.append(f"[bold]{cell}[/]" if r == c else cell)
        table.add_row(shown(r), *cells, f"{total:,}")
    print_table(Console(), table)
