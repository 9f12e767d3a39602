"""`segc docs`: the static HTML catalogue of the segments."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from segc.front.printable import visible

from segc.cli.common import AsOfOpt, ParamOpt, ProjectOpt, fail, load_folder, progress
from segc.front.errors import SegcError


def docs(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the catalogue to (replaced if it holds a previous one).")],
    path: Annotated[Optional[Path], typer.Argument(help="Project folder (default: found upward from here).")] = None,
    counts: Annotated[bool, typer.Option("--counts/--no-counts", help="Show sizes from the preview data.")] = True,
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
) -> None:
    """Write a static HTML catalogue of the segments: an index (searchable by name, tag and
    owner) and a page per segment with its doc, definition, features, size and SQL in
    every dialect. Self-contained pages: open OUT/index.html in a browser.

    Example: segc docs --out site/segments -p examples/retail
    """
    p = load_folder(path, project, "segc docs", param, as_of)
    from segc.apps.catalog import build_catalog

    try:
        with progress(True, "writing the catalogue"):
            result = build_catalog(p, out, counts=counts)
    except SegcError as e:
        fail(e)
    typer.echo(visible(f"wrote {len(result.pages)} pages to {result.out} (open {result.out / 'index.html'})"), err=True)
    if not result.counted and counts:
        typer.echo(f"note: no sizes: {result.note}", err=True)
