"""`segc check`: segc.yml and every segment (and, with --data, the data files)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from segc.cli.common import ProjectOpt, check_format, fail, load_folder
from segc.front.errors import SegcError


def check(
    path: Annotated[Optional[Path], typer.Argument(help="Project folder (default: found upward from here).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text, json or github (Actions annotations).")] = "text",
    data: Annotated[bool, typer.Option("--data", help="Also check the preview data files against segc.yml (columns, types, nullable, values, unique keys; warns of NaN and of quantile scores a tie decides).")] = False,
    project: ProjectOpt = None,
) -> None:
    """Check segc.yml and every segment: syntax, names, types, references, policy.

    Exit code 0 when clean, 1 on any error. Warnings are shown but do not fail.

    Examples:

      segc check examples/retail --format json

      segc check examples/retail --data     # also the data: columns, types, nullable, values, unique keys
    """
    from segc.front.errors import render_github, render_json, render_text

    format = check_format(format, ("text", "json", "github"))
    p = load_folder(path, project, "segc check", fmt=format)
    warnings = list(p.warnings)
    if data:
        try:
            problems = p.check_data()
        except SegcError as e:
            problems = e.diagnostics
        if any(d.is_error for d in problems):
            fail(SegcError(p.warnings + problems), format)
        warnings += problems  # data warnings only (W716): shown, exit 0
    segments = {name: {"file": d.file, "sensitive": d.sensitive} for name, d in p.checked.segments.items()}
    if format == "json":
        typer.echo(render_json(warnings, segments=segments))
    elif format == "github":
        if warnings:
            typer.echo(render_github(warnings))
    else:
        if warnings:
            typer.echo(render_text(warnings), err=True)
        if data:
            typer.echo("ok: the data files match segc.yml", err=True)
        typer.echo(f"ok: {p.checked.summary()} checked in {p.root}", err=True)
