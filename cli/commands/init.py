"""`segc init DIR`: scaffold a new project (compiler: segc.apps.scaffold)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from segc.front.printable import visible

from segc.cli.common import fail
from segc.front.errors import SegcError


def init(
    folder: Annotated[Path, typer.Argument(help="The new project's folder (new, or empty).")],
) -> None:
    """Create a project that runs at once: segc.yml (commented sources and features), a
    small sample of data (CSV), one segment and one segment unit test.

    Examples:

      segc init my_segments

      segc count -p my_segments

      segc test -p my_segments
    """
    from segc.apps.scaffold import init_project

    try:
        result = init_project(folder)
    except SegcError as e:
        fail(e)
    for rel in result.files:
        typer.echo(f"created {visible(str(folder / rel))}", err=True)
    import shlex

    where = shlex.quote(str(folder))  # to be pasted: a folder with a space in its name
    typer.echo(visible(f"next: segc count -p {where}    segc test -p {where}"), err=True)
