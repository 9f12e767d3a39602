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
    from segc.front import fmt as formatter
    from segc.front.errors import Diagnostic, render_text
    from segc.project import find_root

    files: list[Path] = []
    if paths:
        for path in paths:
            if path.is_dir():
                files += formatter.seg_files(path)
            elif path.is_file():
                files.append(path)
            else:
                raise typer.BadParameter(f"no such file or folder: {path}", param_hint="PATHS")
    else:
        root = project if project is not None and (project / "segc.yml").is_file() else (
            find_root(project or Path(".")) if (project or Path(".")).exists() else None)
        if root is None:
            where = project or Path(".")
            fail(SegcError(Diagnostic("E008", f"no segc.yml found in `{where}` or any folder above it",
                                      file=str(where), hints=("give the files or folders to format, "
                                                              "or point at a project with --project DIR",))))
        files = formatter.seg_files(root)
    seen, changed, failed = set(), 0, 0
    for file in files:
        if file.resolve() in seen:
            continue
        seen.add(file.resolve())
        try:
            display = str(file.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            display = str(file)
        try:
            old, new = formatter.format_file(file, display)
        except SegcError as e:
            typer.echo(render_text(e.diagnostics), err=True)
            failed += 1
            continue
        if old == new:
            continue
        changed += 1
        if check:
            typer.echo(formatter.unified_diff(old, new, display), nl=False)
        else:
            formatter.write_atomic(file, new)
            typer.echo(f"reformatted {display}", err=True)
    unchanged = len(seen) - changed - failed
    files_word = lambda n: f"{n} file{'s' if n != 1 else ''}"  # noqa: E731
    summary = (f"{files_word(changed)} would be reformatted" if check else f"{files_word(changed)} reformatted")
    summary += f", {files_word(unchanged)} already formatted"
    if failed:
        summary += f", {files_word(failed)} with errors (left untouched)"
    typer.echo(summary, err=True)
    if failed or (check and changed):
        raise typer.Exit(1)
