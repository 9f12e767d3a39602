"""`segc build`: one SQL file per segment and segmentation, plus manifest.json."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from segc.front.printable import visible

from segc.cli.common import AsOfOpt, DialectOpt, ParamOpt, ProjectOpt, fail, load_targets
from segc.front.errors import SegcError


def build(
    targets: Annotated[Optional[list[str]], typer.Argument(help="A project folder and/or names to build (default: every segment and segmentation).")] = None,
    template: Annotated[str, typer.Option("--template", "-t", help="select, view, table, members, dbt or changes (who entered/exited since the latest snapshot in <schema>.segc_snapshots).")] = "select",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output folder, replaced as a whole (default: build/<template> in the project).")] = None,
    dialect: DialectOpt = None,
    schema: Annotated[Optional[str], typer.Option("--schema", help="Schema (or db.schema) of the views and tables the view/table templates create.")] = None,
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
) -> None:
    """Write one SQL file per segment and segmentation, plus manifest.json.

    Templates come with segc; a project's templates/ folder overrides them by file name.
    The output folder is replaced atomically: on any error the previous one is kept.

    Examples:

      segc build -p examples/retail --dialect snowflake --template view --out build/views

      segc build -p examples/retail --template dbt --out build/dbt
    """
    p, names = load_targets(targets or [], project, param, as_of)
    from segc.apps.build import build as build_segments

    target = out if out is not None else p.root / "build" / template
    try:
        result = build_segments(p, template, target, dialect=dialect, schema=schema, names=names or None)
    except SegcError as e:
        fail(e)
    n = len(result.manifest["segments"])
    typer.echo(f"built {n} definition{'s' if n != 1 else ''} ({template}, {result.manifest['dialect']}) "
               f"in {visible(str(target))}", err=True)
