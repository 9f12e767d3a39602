"""The `segc` command: the Typer app (cli/app.py), or a plain `segc compile` run without
typer (cli/plain.py), which spares the command typer's start-up; Ctrl-C."""
from __future__ import annotations

import os
import sys


def main() -> None:
    from segc.front.errors import Interrupted

    try:
        from segc.cli.plain import compile_without_typer

        if not compile_without_typer(sys.argv[1:]):
            from segc.cli.app import app

            app()
    except (KeyboardInterrupt, Interrupted):
        from segc.cli.plain import echo

        echo("interrupted", err=True)
        sys.stdout.flush()
        sys.stderr.flush()
        # not sys.exit: an interrupted engine may still be unwinding in its own thread,
        # and tearing down the interpreter under it can crash; nothing is half-written
        # (outputs are written to a temporary file and renamed)
        os._exit(130)


def __getattr__(name: str):
    # `from segc.cli.main import app` (the tests, `python -m`): typer is imported when the
    # app is asked for, not by the entry point itself
    if name == "app":
        from segc.cli.app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    main()
