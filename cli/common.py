"""What the commands share: the common options, loading the project, reading the
positional arguments, printing a failure and exiting, the engine, the spinner."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer

from segc.backend.dialects import DIALECTS
from segc.front.errors import SegcError

ProjectOpt = Annotated[Optional[Path], typer.Option("--project", "-p", help="Project folder (default: the nearest folder upward holding segc.yml).")]
AsOfOpt = Annotated[Optional[str], typer.Option("--as-of", help="Pin the as-of date (YYYY-MM-DD), or `today` for the engine's current date.")]
EngineOpt = Annotated[str, typer.Option("--engine", help="Where to run: duckdb (embedded, over the project's files), postgres or spark.")]
DsnOpt = Annotated[Optional[str], typer.Option("--dsn", envvar="SEGC_DSN", show_default=False, show_envvar=True, help="PostgreSQL connection string (never printed).")]
MasterOpt = Annotated[Optional[str], typer.Option("--master", help="Spark master URL (default: local[*]).")]
DialectOpt = Annotated[Optional[str], typer.Option("--dialect", "-d", help=", ".join(DIALECTS) + " (default: the project's).")]
ParamOpt = Annotated[Optional[list[str]], typer.Option("--param", help="Override a parameter: --param name=value (repeatable).")]


def check_format(value: str, allowed: tuple[str, ...], option: str = "--format") -> None:
    """A value outside `allowed` is a usage error (exit 2): `choose a, b or c`."""
    if value not in allowed:
        raise typer.BadParameter(f"choose {', '.join(allowed[:-1])} or {allowed[-1]}", param_hint=option)


def fail(error: SegcError, fmt: str = "text") -> NoReturn:
    """Print the diagnostics (text on stderr; json or github on stdout) and exit 1."""
    from segc.front.errors import render_github, render_json, render_text

    if fmt == "json":
        typer.echo(render_json(error.diagnostics))
    elif fmt == "github":
        typer.echo(render_github(error.diagnostics))
    else:
        typer.echo(render_text(error.diagnostics), err=True)
        n = sum(d.is_error for d in error.diagnostics)
        typer.echo(f"\n{n} error{'s' if n != 1 else ''}", err=True)
    raise typer.Exit(1)


def load(project: Path | None, params=None, as_of=None, fmt="text"):
    """The project, or its diagnostics printed (in `fmt`) and exit 1."""
    return load_targets([], project, params, as_of, fmt)[0]


def load_targets(targets: list[str], project: Path | None, params=None, as_of=None, fmt="text"):
    """(project, segment names) that the positional arguments name; or exit 1."""
    from segc import project as api

    try:
        return api.load_targets(targets or [], project, api.parse_param_args(params), as_of)
    except SegcError as e:
        fail(e, fmt)


def one_project(targets, project, param, as_of, format, engine="duckdb", dsn=None, master=None):
    """For the preview commands: check --format, load the project the arguments name, open
    the engine; returns (project, segment names)."""
    check_format(format, ("table", "json", "csv"))
    p, names = load_targets(targets, project, param, as_of)
    use_engine(p, engine, dsn, master)
    return p, names


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

