"""`segc fmt`: format .seg files in the canonical style."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from segc.cli.common import ProjectOpt, fail
from segc.front.errors import SegcError


def fmt_command(
    paths: Annotated[Optional[list[Path]], typer.Argument(help=".seg files or folders (default: the project's segments/*.seg).")] = None,
    check: Annotated[bool, typer.Option("--check", help="Write nothing: print a diff of each file that would change; exit 1 if any would.")] = False,
    project: ProjectOpt = None,
) -> None:
    """Format .seg files in the canonical style; only files that change are rewritten.

    The meaning never changes and comments are kept. A file with a syntax error is
    reported and left untouched (exit 1).

    Examples:

      segc fmt -p examples/retail

      segc fmt --check examples/retail/segments/rfm.seg
    """
    from segc.front import format_files as formatter
    from segc.front.errors import render_text
    from segc.front.printable import visible

    try:
        items = formatter.format_files(formatter.files_to_format(paths or [], project))
    except SegcError as e:
        fail(e)
    if not check:
        try:
            formatter.write_formatted(items)
        except SegcError as e:
            fail(e)
    for item in items:
        if item.diagnostics:
            typer.echo(render_text(item.diagnostics), err=True)
        elif item.changed and check:
            typer.echo(visible(formatter.unified_diff(item.old, item.new, item.display)), nl=False)
        elif item.changed:
            typer.echo(f"reformatted {visible(item.display)}", err=True)
    changed = sum(item.changed for item in items)
    failed = sum(bool(item.diagnostics) for item in items)
    files_word = lambda n: f"{n} file{'s' if n != 1 else ''}"  # noqa: E731
    summary = (f"{files_word(changed)} would be reformatted" if check else f"{files_word(changed)} reformatted")
    summary += f", {files_word(len(items) - changed - failed)} already formatted"
    if failed:
        summary += f", {files_word(failed)} with errors (left untouched)"
    typer.echo(summary, err=True)
    if failed or (check and changed):
        raise typer.Exit(1)
