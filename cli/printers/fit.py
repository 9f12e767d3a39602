"""Rich tables that fit the terminal without cutting a number: numbers (counts, shares,
dates) are never broken or ellipsised, a header (a name) breaks only after a `_`, other
text wraps (folding a long word), and when even that does not fit, columns are left out
from the right with a note saying which. A pipe or a
file gets the whole table at its natural width (it has no width to fit)."""
from __future__ import annotations

import re

TEXT_MIN = 8  # a text column is not made narrower than this (its words fold to it)
NOTE_STYLE = "dim"
# a word that must stay whole: 1,291  -3.5  +37  2.9%  (0.99)  2024-07-01  10:00:00  1.2e+03
NUMBER = re.compile(r"[-+]?\d[\d,.:\-T]*(e[-+]?\d+)?%?")


def print_table(console, table, drop_first: tuple[int, ...] = ()) -> None:
    """Print `table` on `console`, fitted to its width. Column 0 (what a row is about) is
    always kept; `drop_first` names the columns to leave out before the others (a
    decoration, such as the bars of `segc count`), then they go from the right."""
    from rich.console import Console

    width = console.width
    if not console.is_terminal:
        natural = _overhead(table, len(table.columns)) + sum(_natural(c) for c in table.columns)
        title = _plain(table.title or "")
        if natural > width or len(title) > natural:  # a file or a pipe: the whole table rather than wrapped or cut cells
            console = Console(width=max(natural, len(title)), file=console.file)
        if len(title) > natural:  # rich wraps a title to its table's width: the title on its own line
            import copy

            console.print(title, style="table.title", highlight=False, markup=False)
            table = copy.copy(table)
            table.title = None
        console.print(table)
        return
    table, dropped = _fit(table, width, drop_first)
    console.print(table)
    if dropped:
        console.print(f"[{NOTE_STYLE}]({len(dropped)} column{'s' if len(dropped) > 1 else ''} not shown for "
                      f"the terminal's width of {width}: {', '.join(dropped)}; widen it, or use --format csv "
                      f"or json)[/]", highlight=False)


def _fit(table, width: int, drop_first: tuple[int, ...] = ()):
    """The table with each column's width set (numbers whole, text at least TEXT_MIN),
    without the columns that cannot fit, and the headers of those (a column without a
    header, a decoration, goes without a word)."""
    columns = table.columns
    kept = list(range(len(columns)))
    if _overhead(table, len(kept)) + sum(_natural(c) for c in columns) <= width:
        return table, []

    def total(measure) -> int:
        return _overhead(table, len(kept)) + sum(measure(columns[i]) for i in kept)

    for i in drop_first:  # a decoration goes as soon as the table does not fit as it is
        if total(_natural) > width and i in kept:
            kept.remove(i)
    order = [i for i in range(len(columns) - 1, 0, -1) if i in kept]
    while len(kept) > 1 and total(_least) > width:
        kept.remove(order.pop(0))
    spare = width - total(_least)
    widths = {i: _least(columns[i]) for i in kept}
    for target in (_whole_words, _natural):  # first no word folds, then no line wraps
        for i in kept:
            extra = max(0, min(spare, target(columns[i]) - widths[i]))
            widths[i] += extra
            spare -= extra
    dropped = [_plain(columns[i].header) for i in range(len(columns)) if i not in kept]
    return _rebuilt(table, [(columns[i], widths[i]) for i in kept]), [d for d in dropped if d]


def _rebuilt(table, kept):
    """A copy of `table` with only the `kept` (column, width) pairs, their text folding."""
    import copy

    cells = [list(column.cells) for column, _w in kept]
    rows = table.rows
    new = copy.copy(table)
    new.columns, new.rows = [], []
    for column, width in kept:
        new.add_column(_header_lines(column.header, width), footer=column.footer, header_style=column.header_style,
                       footer_style=column.footer_style, style=column.style, justify=column.justify,
                       vertical=column.vertical, overflow="fold", width=width, no_wrap=False,
                       highlight=column.highlight)
    for r, row in enumerate(rows):
        new.add_row(*(c[r] for c in cells), style=row.style, end_section=row.end_section)
    return new


def _overhead(table, n: int) -> int:
    """Borders and padding of n columns (rich's default box: an edge on each side)."""
    pad = table.padding[1] + table.padding[3] if table.padding else 0
    edges = 2 if table.show_edge and table.box else 0
    separators = (n - 1) if table.box else 0
    return n * pad + separators + edges


def _natural(column) -> int:
    lines = [len(line) for cell in _texts(column) for line in cell.splitlines()]
    return max([*lines, column.min_width or 0, 1])


def _whole_words(column) -> int:
    return max([len(w) for cell in _texts(column) for w in cell.split()] + [1])


def _least(column) -> int:
    """The narrowest the column may be: its longest number (a count, a share, a date),
    else TEXT_MIN (or its natural width, when narrower); a header (a name the user
    writes, e.g. a KPI's for --kpi) only breaks after a `_`: its longest part."""
    least = column.min_width or 1
    for i, cell in enumerate(_texts(column)):
        for word in cell.split():
            if i == 0:
                least = max(least, *(len(part) for part in _parts(word)))
            elif NUMBER.fullmatch(word.strip("()")):
                least = max(least, len(word))
            else:
                least = max(least, min(len(word), TEXT_MIN))
    return least


def _parts(word: str) -> list[str]:
    """Where a header's word may break: after each `_` (`email_`, `reachable`)."""
    return re.findall(r"[^_]*_+|[^_]+", word)


def _header_lines(header, width: int):
    """The header with a line break after a `_` in each word wider than `width` (rich
    would cut it anywhere: `email_rea` / `chable`); its styles kept."""
    from rich.text import Text

    text = Text.from_markup(header) if isinstance(header, str) else header
    if not isinstance(text, Text) or all(len(w) <= width for w in text.plain.split()):
        return header
    breaks = []  # offsets in the plain text where a line starts
    for m in re.finditer(r"\S+", text.plain):
        if len(m.group()) <= width:
            continue
        at, line = m.start(), 0
        for part in _parts(m.group()):
            if line and line + len(part) > width:
                breaks.append(at)
                line = 0
            at, line = at + len(part), line + len(part)
    pieces = [text[a:b] for a, b in zip([0, *breaks], [*breaks, len(text.plain)])]
    return Text("\n").join(pieces)


def _texts(column) -> list[str]:
    return [_plain(column.header)] + [_plain(c) for c in column.cells]


def _plain(cell) -> str:
    from rich.text import Text

    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return str(cell)
