"""What the commands share: the common options, loading the project, reading the
positional arguments, printing a failure and exiting, the engine, the spinner. (Loading,
printing and failing need no typer: they are cli/plain.py's, shared with main()'s way of
running `segc compile` without typer.)"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from segc.backend.dialects import DIALECTS
from segc.cli.plain import fail, load, load_folder, load_targets  # noqa: F401 (the commands import them from here)
from segc.front.errors import SegcError

ProjectOpt = Annotated[Optional[Path], typer.Option("--project", "-p", help="Project folder (default: the nearest folder upward holding segc.yml).")]
AsOfOpt = Annotated[Optional[str], typer.Option("--as-of", help="Pin the as-of date (YYYY-MM-DD), or `today` for the engine's current date.")]
EngineOpt = Annotated[str, typer.Option("--engine", help="Where to run: duckdb (embedded, over the project's files), postgres or spark.")]
DsnOpt = Annotated[Optional[str], typer.Option("--dsn", envvar="SEGC_DSN", show_default=False, show_envvar=True, help="PostgreSQL connection string (never printed).")]
MasterOpt = Annotated[Optional[str], typer.Option("--master", help="Spark master URL (default: local[*]).")]
DialectOpt = Annotated[Optional[str], typer.Option("--dialect", "-d", help=", ".join(DIALECTS) + " (default: the project's).")]
ExpressionOpt = Annotated[Optional[str], typer.Option("--expression", "-e", help="An ad-hoc expression instead of a named segment (as `segc compile -e`).")]
ExpressionsOpt = Annotated[Optional[list[str]], typer.Option("--expression", "-e", help="An ad-hoc expression, as `segc compile -e` takes (repeatable; with or without names).")]
ParamOpt = Annotated[Optional[list[str]], typer.Option("--param", help="Override a parameter: --param name=value (repeatable).")]


# `text` is the human format of every command; `table`, its name in some commands before,
# is still read (not shown in --help) so that scripts written then keep working
FORMAT_ALIASES = {"table": "text"}


def check_format(value: str, allowed: tuple[str, ...], option: str = "--format") -> str:
    """The format named by `value` (an alias read as its format); a value outside
    `allowed` is a usage error (exit 2): `choose a, b or c`."""
    if option == "--format":
        value = FORMAT_ALIASES.get(value, value)
    if value not in allowed:
        raise typer.BadParameter(f"choose {', '.join(allowed[:-1])} or {allowed[-1]}", param_hint=option)
    return value


def one_project(targets, project, param, as_of, engine="duckdb", dsn=None, master=None):
    """For the preview commands: load the project the arguments name, open the engine;
    returns (project, segment names)."""
    p, names = load_targets(targets, project, param, as_of)
    use_engine(p, engine, dsn, master)
    return p, names


def ad_hoc(p, expressions: list[str] | None, show_warnings: bool) -> list:
    """The targets of `-e` expressions (checked as `segc compile -e` checks one), their
    warnings on stderr when `show_warnings`; or the diagnostics and exit 1."""
    try:
        found = [p.expression(text) for text in expressions or []]
    except SegcError as e:
        fail(e)
    warnings = [d for t in found for d in t.warnings]
    if warnings and show_warnings:
        from segc.front.errors import render_text

        typer.echo(render_text(warnings), err=True)
    return found


def use_engine(p, engine: str, dsn: str | None, master: str | None) -> None:
    if engine == "duckdb":
        return
    from segc.run.connect import open_engine

    try:
        p.use_engine(open_engine(engine, p.schema, p.root, dsn=dsn, master=master))
    except SegcError as e:
        fail(e)


def progress(enabled: bool, what: str):
    """A spinner on a terminal for queries that take a while; nothing in pipes."""
    import contextlib

    if not enabled or not sys.stderr.isatty():
        return contextlib.nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(f"{what}...", spinner="dots")

