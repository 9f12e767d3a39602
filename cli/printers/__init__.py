"""Printing what the commands return: Rich text and tables for people, JSON and CSV (data
only) for machines. One module per kind of result."""
from __future__ import annotations

from segc.front.printable import visible


def shown(value) -> str:
    """A name or a data value as Rich markup that prints as it is: `[red]` is not a style,
    and a control character (an escape sequence from a warehouse value or a .seg file) is
    shown escaped instead of acting on the terminal."""
    from rich.markup import escape

    return escape(visible(str(value)))
