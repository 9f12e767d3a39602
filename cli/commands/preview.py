"""The preview commands, run on the project's engine: `segc count`, `sample`, `overlap`,
`profile` and `transitions`."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from segc.cli.common import (
    AsOfOpt, DsnOpt, EngineOpt, ExpressionOpt, ExpressionsOpt, MasterOpt, ParamOpt, ProjectOpt, ad_hoc,
    check_format, fail, load_targets, one_project, progress, use_engine)
from segc.front.errors import SegcError


def count(
    targets: Annotated[Optional[list[str]], typer.Argument(help="A project folder and/or segment names; a segmentation counts as its branches (default: every segment).")] = None,
    expression: ExpressionsOpt = None,
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

      segc count quadrant -p examples/retail    # a segmentation: one row per branch

      segc count -e 'age >= 30 and email_optin' -p examples/retail
    """
    format = check_format(format, ("text", "json", "csv"))
    p, names = load_targets(targets or [], project, param, as_of)
    names += ad_hoc(p, expression, format == "text")
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
    targets: Annotated[Optional[list[str]], typer.Argument(help="A segment or branch name (and optionally a project folder).")] = None,
    expression: ExpressionOpt = None,
    n: Annotated[int, typer.Option("-n", min=1, max=1_000_000, help="How many members to show (at most 1,000,000).")] = 20,
    format: Annotated[str, typer.Option("--format", "-f", help="text, json or csv.")] = "text",
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
) -> None:
    """Show members of a segment with the features it uses (sensitive ones masked).

    Examples:

      segc sample at_risk -p examples/retail -n 5

      segc sample -e 'basket_avg > 500' -p examples/retail -n 5
    """
    format = check_format(format, ("text", "json", "csv"))
    p, names = one_project(targets or [], project, param, as_of, engine, dsn, master)
    names += ad_hoc(p, [expression] if expression is not None else [], format == "text")
    if len(names) != 1:
        raise typer.BadParameter("give exactly one segment name, or -e EXPRESSION")
    try:
        result = p.sample(names[0], n)
    except SegcError as e:
        fail(e)
    from segc.cli.printers.preview import print_sample

    print_sample(result, format, title=f"{result.name} (first {n} by key)")
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
    targets: Annotated[Optional[list[str]], typer.Argument(help="Segment names, a segmentation (its branches side by side), and optionally a project folder.")] = None,
    expression: ExpressionsOpt = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
) -> None:
    """Profile a segment against the population: mean, stddev, missing share; top values.
    Several segments, or a segmentation's branches, are shown side by side.

    A value is shown only when at least `min_group` members of the population share it
    (segc.yml, default 10); the others are added up as (other).

    Examples:

      segc profile loyal_big_basket -p examples/retail

      segc profile value_tier -p examples/retail      # each branch side by side

      segc profile -e 'age >= 60' -p examples/retail
    """
    format = check_format(format, ("text", "json"))  # a profile is several tables: no CSV
    p, names = one_project(targets or [], project, param, as_of, engine, dsn, master)
    names += ad_hoc(p, expression, format == "text")
    if not names:
        raise typer.BadParameter("give a segment name, a segmentation or -e EXPRESSION")
    try:
        result = p.profiles(names)
    except SegcError as e:
        fail(e)
    if len(result.profiles) == 1:  # one segment: its profile, as it always was
        result = result.profiles[0]
    from segc.cli.printers.preview import print_profile

    print_profile(result, format, p.schema.min_group)


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
