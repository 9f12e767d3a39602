"""`segc diff`: what changed between two versions of a project."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from segc.cli.common import AsOfOpt, ParamOpt, check_format, fail, progress
from segc.front.errors import SegcError


def diff(
    old: Annotated[str, typer.Argument(help="The old version: a project folder, or a git revision (HEAD, main, a tag...).")],
    new: Annotated[Optional[Path], typer.Argument(help="The new version: a project folder (default: found upward from here).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
) -> None:
    """What changed between two versions of a project: segments added, removed and
    changed (a diff of their definitions), and on the preview data of NEW, how many
    customers entered, left or stayed in each changed segment.

    Examples:

      segc diff HEAD examples/retail

      segc diff HEAD~1 examples/retail --format json
    """
    format = check_format(format, ("text", "json"))
    from segc.apps.diff import diff_projects
    from segc.project import parse_param_args

    try:
        with progress(format == "text", "comparing"):
            result = diff_projects(old, new or Path("."), as_of=as_of, params=parse_param_args(param))
    except SegcError as e:
        fail(e, format)
    from segc.cli.printers.diff import print_diff

    print_diff(result, format)
