"""The preview commands, run on the project's engine: `segc count`, `sample`, `overlap`,
`profile` and `transitions`."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from segc.cli.common import (
    AsOfOpt, DsnOpt, EngineOpt, MasterOpt, ParamOpt, ProjectOpt, check_format, fail, load_targets,
    one_project, progress, use_engine)
from segc.front.errors import SegcError


def count(
    targets: Annotated[Optional[list[str]], typer.Argument(help="A project folder and/or segment names (default: every segment).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text, json or csv. json/csv print only data.")] = "text",
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail (exit 1) when a segment is below its min_size.")] = False,
) -> None:
    """Count every segment (one scan on DuckDB): population, count, share.

    Examples:

      segc count examples/retail

      segc count loyal_big_basket at_risk -p examples/retail --format json
    """
    format = check_format(format, ("text", "json", "csv"))
    p, names = load_targets(targets or [], project, param, as_of)
    use_engine(p, engine, dsn, master)
    try:
        with progress(format == "text", "counting"):
            result = p.count(names or None)
    except SegcError as e:
        fail(e)
    from segc.cli.printers.preview import print_counts

    print_counts(result, format)
    from segc.apps.count_rules import count_diagnostics
    from segc.front.errors import render_text

    diags = count_diagnostics(p, result, strict)
    errors = [d for d in diags if d.is_error]
    # json/csv keep stderr for what fails the run: their readers are scripts
    shown = diags if format == "text" else errors
    if shown:
        typer.echo(render_text(shown), err=True)
    if errors:
        typer.echo(f"\n{len(errors)} error{'s' if len(errors) != 1 else ''} (--strict)", err=True)
        raise typer.Exit(1)


def sample(
    targets: Annotated[list[str], typer.Argument(help="A segment name (and optionally a project folder).")],
    n: Annotated[int, typer.Option("-n", min=1, help="How many members to show.")] = 20,
    format: Annotated[str, typer.Option("--format", "-f", help="text, json or csv.")] = "text",
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
) -> None:
    """Show members of a segment with the features it uses (sensitive ones masked).

    Example: segc sample at_risk -p examples/retail -n 5
    """
    format = check_format(format, ("text", "json", "csv"))
    p, names = one_project(targets, project, param, as_of, engine, dsn, master)
    if len(names) != 1:
        raise typer.BadParameter("give exactly one segment name")
    try:
        result = p.sample(names[0], n)
    except SegcError as e:
        fail(e)
    from segc.cli.printers.preview import print_sample

    print_sample(result, format, title=f"{names[0]} (first {n} by key)")
    if result.masked and format == "text":
        typer.echo("masked (sensitive): " + ", ".join(result.masked), err=True)


def overlap(
    targets: Annotated[Optional[list[str]], typer.Argument(help="A project folder and/or segment names (default: all).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text, json or csv.")] = "text",
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
) -> None:
    """Pairwise overlap of segments (counts and Jaccard), in one query.

    Example: segc overlap loyal_big_basket at_risk inactive_6m -p examples/retail
    """
    format = check_format(format, ("text", "json", "csv"))
    p, names = one_project(targets or [], project, param, as_of, engine, dsn, master)
    try:
        result = p.overlap(names or None)
    except SegcError as e:
        fail(e)
    from segc.cli.printers.preview import print_overlap

    print_overlap(result, format)


def profile(
    targets: Annotated[list[str], typer.Argument(help="A segment name (and optionally a project folder).")],
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
) -> None:
    """Profile a segment against the population: mean, stddev, missing share; top values.

    Example: segc profile loyal_big_basket -p examples/retail
    """
    format = check_format(format, ("text", "json", "csv"))  # csv: JSON, as before (a profile is not a table)
    p, names = one_project(targets, project, param, as_of, engine, dsn, master)
    if len(names) != 1:
        raise typer.BadParameter("give exactly one segment name")
    try:
        result = p.profile(names[0])
    except SegcError as e:
        fail(e)
    from segc.cli.printers.preview import print_profile

    print_profile(result, format)


def transitions(
    targets: Annotated[list[str], typer.Argument(help="A segmentation name (and optionally a project folder).")],
    start: Annotated[str, typer.Option("--from", help="The earlier as-of date (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="The later as-of date (YYYY-MM-DD).")],
    format: Annotated[str, typer.Option("--format", "-f", help="text, json or csv.")] = "text",
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
) -> None:
    """The transition matrix: for each branch at --from, where its customers are at --to.

    Example: segc transitions value_tier --from 2024-01-01 --to 2024-07-01 -p examples/retail
    """
    format = check_format(format, ("text", "json", "csv"))
    p, names = one_project(targets, project, param, None, engine, dsn, master)
    if len(names) != 1:
        raise typer.BadParameter("give exactly one segmentation name")
    try:
        result = p.transitions(names[0], start, end)
    except SegcError as e:
        fail(e)
    from segc.cli.printers.preview import print_transitions

    print_transitions(result, format)
