"""`segc serve`: the local playground (segc.apps.serve); this module only starts it."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from segc.cli.common import AsOfOpt, ParamOpt, ProjectOpt, fail
from segc.front.errors import SegcError


def serve(
    project: ProjectOpt = None,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (default: a free one).")] = 0,
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Print the URL, do not open a browser.")] = False,
) -> None:
    """A local playground: type a segment, see its count, overlap, profile, a sample and
    its SQL as you type; save it into a .seg file (formatted, atomic).

    Listens on 127.0.0.1 only; the URL carries a random token that every request needs.
    Needs `pip install "segc\\[serve]"`. Its JSON API: docs/serve.md.

    Example: on the bundled project, segc serve -p examples/retail
    (it runs until Ctrl-C; with --no-browser it prints the URL only).
    """
    from segc.project import parse_param_args

    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        typer.echo('segc serve needs starlette and uvicorn: pip install "segc[serve]"', err=True)
        raise typer.Exit(1)
    from segc.apps.serve.app import serve as run
    from segc.apps.serve.state import open_playground

    try:
        pg = open_playground(project, parse_param_args(param), as_of)
    except SegcError as e:
        fail(e)
    try:
        run(pg, port, open_browser=not no_browser,
            ready=lambda url: typer.echo(f"segc playground of {pg.root} at\n    {url}\n(Ctrl-C to stop)", err=True))
    except SegcError as e:
        fail(e)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a running playground ends (exit 0); before it runs, it interrupts
