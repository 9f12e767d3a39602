"""`segc compile`: the SQL of a segment, or of an expression, on stdout. Its options as
typer reads them; the command itself is cli/plain.py's, which main() also runs without
typer."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from segc.cli.common import AsOfOpt, DialectOpt, ParamOpt, ProjectOpt, check_format
from segc.cli.plain import COMPILE_FORMS, print_sql


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

      segc compile loyal_big_basket -p examples/retail --dialect snowflake

      segc compile -e 'age >= 30 and country in ["FR", "BE"]' -p examples/retail --form count

      segc compile value_tier -p examples/retail --form label --as-of 2024-07-01
    """
    if (name is None) == (expression is None):
        raise typer.BadParameter("give a segment NAME or -e EXPRESSION (one of them)")
    check_format(form, COMPILE_FORMS, option="--form")
    print_sql(name, expression, dialect, form, as_of, param, project)
