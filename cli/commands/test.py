"""`segc test`: the segment unit tests (tests/*.yml)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from segc.cli.common import ProjectOpt, check_format, fail, load, progress
from segc.front.errors import SegcError
from segc.front.files import is_dir, is_file


def test_command(
    targets: Annotated[Optional[list[str]], typer.Argument(help="A project folder and/or test files (default: the project's tests/*.yml).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    project: ProjectOpt = None,
) -> None:
    """Run the segment unit tests: fixture rows -> the exact members of each segment,
    on in-memory DuckDB and SQLite (no warehouse). Exit 1 on any difference.

    A test file (tests/*.yml) holds `as_of`, `rows` per source, optional `defaults`, and
    `expect: {segment: \\[keys]}` (segmentation branches as `name.branch`).

    Example: segc test -p examples/retail
    """
    format = check_format(format, ("text", "json"))
    files, folders, beside = [], [], None
    for t in targets or []:
        path = Path(t)
        if is_dir(path):
            folders.append((t, path))
        else:  # a test file; anything else is E806 from run_tests, with the other problems
            files.append(path)
            if path.suffix in (".yml", ".yaml") and is_file(path):
                beside = beside or path.parent  # the project, when nothing else names one
    p = load(project or (None if folders else beside), fmt=format, folders=folders)
    from segc.apps.segtest import run_tests

    try:
        with progress(format == "text", "testing"):
            results = run_tests(p, files or None)
    except SegcError as e:
        fail(e, format)
    from segc.cli.printers.test_results import print_test_results

    print_test_results(results, format)
    if not results.ok:
        raise typer.Exit(1)
