"""The `segc` command: the Typer app (cli/app.py), or a plain `segc compile` run without
typer (cli/plain.py), which spares the command typer's start-up; Ctrl-C."""
from __future__ import annotations

import os
import sys


# The cyclic garbage collector's default (a young collection every 700 allocations)
# makes a large expression's trees (syntax, checked, sqlglot) cost 2 to 3 times their
# building time, growing faster than their size (a 1 MB expression: check 1.2 s -> 0.4 s,
# lowering 3.2 s -> 1.1 s; benchmarks/README.md §5). The command is one short process:
# collect less often.
GC_THRESHOLD = (100_000, 50, 50)


def main() -> None:
    import gc

    gc.set_threshold(*GC_THRESHOLD)
    from segc.front.errors import Interrupted

    from segc.cli.plain import outputs_for_any_text, stderr_without_reader

    outputs_for_any_text()
    stderr_without_reader()
    try:
        from segc.cli.plain import compile_without_typer

        if compile_without_typer(sys.argv[1:]):
            # the SQL is printed and flushed: end here, without the interpreter's teardown
            # (freeing every module and tree of the compile cost 15-30 ms, more than the
            # compile itself; benchmarks/README.md §1.5). Nothing is left to write or remove.
            os._exit(0)
        from segc.cli.app import app

        app()
    except SystemExit as e:
        if e.code != 130:
            raise
        # typer turns a Ctrl-C that lands outside a running query (loading, compiling,
        # between two queries) into a silent exit 130: say it as for any other Ctrl-C
        _interrupted()
    except (KeyboardInterrupt, Interrupted):
        _interrupted()


def _interrupted() -> None:
    from segc.cli.plain import echo

    echo("interrupted", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    # not sys.exit: an interrupted engine may still be unwinding in its own thread, and
    # tearing down the interpreter under it can crash; nothing is half-written (outputs
    # are written to a temporary file and renamed)
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
