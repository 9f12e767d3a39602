"""`segc compile`: the SQL of a segment, or of an expression, on stdout."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from segc.cli.common import AsOfOpt, DialectOpt, ParamOpt, ProjectOpt, check_format, fail, load
from segc.front.errors import SegcError


def compile(
    name: Annotated[Optional[str], typer.Argument(help="A segment or segmentation defined in the project.")] = None,
    expression: Annotated[Optional[str], typer.Option("--expression", "-e", help="Compile this expression instead of a named segment.")] = None,
    dialect: DialectOpt = None,
    form: Annotated[str, typer.Option("--form", help="select (member keys), count, or label (key + branch of a segmentation).")] = "select",
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
) -> None:
    """Print the SQL of a segment (or of -e EXPR) on stdout.

    Examples:

      segc compile loyal_big_basket --dialect snowflake

      segc compile -e 'age >= 30 and country in ["FR", "BE"]' --form count

      segc compile value_tier --form label --as-of 2024-07-01
    """
    if (name is None) == (expression is None):
        raise typer.BadParameter("give a segment NAME or -e EXPRESSION (one of them)")
    check_format(form, ("select", "count", "label"), option="--form")
    p = load(project, param, as_of)
    try:
        if expression is not None:
            sql = p.compile_expression(expression, dialect=dialect, form=form)
            if sql.warnings:
                from segc.front.errors import render_text

                typer.echo(render_text(list(sql.warnings)), err=True)
        else:
            sql = p.compile(name, dialect=dialect, form=form)
    except SegcError as e:
        fail(e)
    typer.echo(sql + ";")
