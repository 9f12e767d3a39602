"""The part of the CLI that needs no typer: printing as typer.echo does, failing with the
diagnostics, loading the project, and `segc compile` itself.

main() runs a plain `segc compile` here without importing typer: typer, and the pydantic
it imports, were a quarter of the command's start-up (benchmarks/README.md, cold start).
Whatever this module is not sure to do exactly as typer would (--help, a usage error, an
unknown option, an unusual terminal) it leaves to typer, which then prints what it always
did. The typer commands use the same functions."""
from __future__ import annotations

import codecs
import io
import os
import re
import sys
from pathlib import Path
from typing import NoReturn

from segc.front.errors import SegcError

# click's pattern of ANSI styles, which typer.echo removes from text that goes elsewhere
# than a terminal (a string literal of a segment may hold one)
ANSI_STYLE = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")


def echo(message: str, err: bool = False, data: bool = False) -> None:
    """typer.echo(message, err=err): the text and a newline, styles removed unless the
    stream is a terminal, flushed. `data` (SQL): never changed for a file or a pipe (an
    escape sequence in a string literal is part of the query), its control characters
    shown escaped on a terminal, where they would act."""
    stream = sys.stderr if err else sys.stdout
    if data and stream.isatty():
        from segc.front.printable import visible

        message = visible(message)
    if not _written_as_is(stream):
        import typer

        typer.echo(message, err=err, color=True if data else None)
        return
    text = message + "\n"
    if not stream.isatty() and not data:
        text = ANSI_STYLE.sub("", text)
    stream.write(text)
    stream.flush()


class _StderrWithoutReader(io.TextIOWrapper):
    """sys.stderr, for a reader that may stop reading (`segc count 2>&1 | head -2`): what
    is written after that goes nowhere, and the run goes on. A warning that cannot be
    shown does not make the run fail (typer would end it with status 1, no message, as for
    a closed stdout: the status would say "errors in your input" of a run that had none)."""

    def write(self, text):
        try:
            return super().write(text)
        except BrokenPipeError:
            self._discard()
            return len(text)

    def flush(self):
        try:
            super().flush()
        except BrokenPipeError:
            self._discard()

    def _discard(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self.fileno())
        os.close(devnull)
        io.TextIOWrapper.flush(self)  # what was buffered goes to /dev/null


def outputs_for_any_text() -> None:
    """stdout and stderr that can write any character, whatever the locale (LANG=
    en_US.ISO-8859-1, LC_ALL=C with PYTHONUTF8=0, PYTHONIOENCODING=ascii): a value such as
    `Łódź`, or segc's own `—`, ended the command in a UnicodeEncodeError traceback. Output
    to a file or a pipe (csv and json for programs) is UTF-8, as every file segc writes
    with --out; on a terminal (and on stderr) what the locale cannot show is written as
    its escape (`\u0141`). A UTF encoding, or a stream of another kind (a test's capture,
    a notebook), is left as it is."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if type(stream) is not io.TextIOWrapper or stream is not getattr(sys, f"__{name}__"):
            continue
        try:
            if codecs.lookup(stream.encoding).name.startswith("utf"):
                continue
        except LookupError:
            pass
        try:
            if name == "stdout" and not stream.isatty():
                stream.reconfigure(encoding="utf-8")
            else:
                stream.reconfigure(errors="backslashreplace")
        except (OSError, ValueError):  # a closed stream, or one already written to
            continue


def stderr_without_reader() -> None:
    """Make sys.stderr outlive its reader (see _StderrWithoutReader); a stream of another
    kind (a test's capture, a notebook) is left as it is."""
    stream = sys.stderr
    if type(stream) is not io.TextIOWrapper or stream is not sys.__stderr__:
        return
    stream.flush()
    sys.stderr = _StderrWithoutReader(stream.buffer, encoding=stream.encoding, errors=stream.errors,
                                      line_buffering=stream.line_buffering, write_through=stream.write_through)


def _written_as_is(stream) -> bool:
    """Whether click writes to `stream` as it is: a text stream with an encoding other
    than ASCII (which click replaces by UTF-8), outside a Jupyter kernel (whose output
    keeps its styles)."""
    encoding = getattr(stream, "encoding", None)
    if not isinstance(stream, io.TextIOBase) or not encoding or getattr(stream, "errors", None) is None:
        return False
    try:
        ascii_ = codecs.lookup(encoding).name == "ascii"
    except LookupError:
        return False
    return not ascii_ and not type(stream).__module__.startswith("ipykernel.")


def fail(error: SegcError, fmt: str = "text") -> NoReturn:
    """Print the diagnostics (text on stderr; json or github on stdout) and exit 1."""
    from segc.front.errors import render_github, render_json, render_text

    if fmt == "json":
        echo(render_json(error.diagnostics))
    elif fmt == "github":
        echo(render_github(error.diagnostics))
    else:
        echo(render_text(error.diagnostics), err=True)
        n = sum(d.is_error for d in error.diagnostics)
        echo(f"\n{n} error{'s' if n != 1 else ''}", err=True)
    raise SystemExit(1)


def load(project: Path | None, params=None, as_of=None, fmt="text", folders=()):
    """The project (--project, or the folders that the arguments select, as (word,
    folder): two projects are E012), or its diagnostics printed (in `fmt`) and exit 1."""
    if folders:
        from segc import project as api

        try:
            project = api.one_project_folder(project, list(folders))
        except SegcError as e:
            fail(e, fmt)
    return load_targets([], project, params, as_of, fmt)[0]


def load_folder(path: Path | None, project: Path | None, what: str, params=None, as_of=None, fmt="text"):
    """The project of a command taking a folder (`segc check DIR`, or --project), or exit 1."""
    from segc import project as api

    try:
        return api.load_folder(path, project, what, api.parse_param_args(params), as_of)
    except SegcError as e:
        fail(e, fmt)


def load_targets(targets: list[str], project: Path | None, params=None, as_of=None, fmt="text"):
    """(project, segment names) that the positional arguments name; or exit 1."""
    from segc import project as api

    try:
        return api.load_targets(targets or [], project, api.parse_param_args(params), as_of)
    except SegcError as e:
        fail(e, fmt)


COMPILE_FORMS = ("select", "count", "label")


def print_sql(name: str | None, expression: str | None, dialect: str | None, form: str, as_of: str | None,
              param: list[str] | None, project: Path | None) -> None:
    """`segc compile` once its arguments are checked: the SQL on stdout, or the
    diagnostics and exit 1."""
    from segc import project as api

    try:
        p = api.load_for_name(name, project, api.parse_param_args(param), as_of)
        if expression is not None:
            sql = p.compile_expression(expression, dialect=dialect, form=form)
            if sql.warnings:
                from segc.front.errors import render_text

                echo(render_text(list(sql.warnings)), err=True)
        else:
            sql = p.compile(name, dialect=dialect, form=form)
    except SegcError as e:
        fail(e)
    echo(sql + ";", data=True)


# `segc compile`'s options (cli/commands/compile.py), each written as click reads it: the
# name of print_sql's argument, and whether it may be repeated. tests/test_startup.py
# checks this against the typer command.
COMPILE_OPTIONS = {
    "--expression": ("expression", False), "-e": ("expression", False),
    "--dialect": ("dialect", False), "-d": ("dialect", False),
    "--form": ("form", False),
    "--as-of": ("as_of", False),
    "--param": ("param", True),
    "--project": ("project", False), "-p": ("project", False),
}


def compile_arguments(argv: list[str]) -> dict | None:
    """print_sql's arguments from `compile ...` as click would read them; None for anything
    that typer must answer (--help, a usage error, a form of writing not read here)."""
    if not argv or argv[0] != "compile" or any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ):
        return None  # not compile, or a shell asking for completions
    args = {"name": None, "expression": None, "dialect": None, "form": "select", "as_of": None, "param": None,
            "project": None}
    names, rest = [], argv[1:]
    while rest:
        arg = rest.pop(0)
        if arg == "--" or (arg.startswith("-") and len(arg) > 1 and arg.split("=", 1)[0] not in COMPILE_OPTIONS):
            return None  # `--`, --help, an unknown option, -eVALUE: typer reads them
        if not arg.startswith("-") or arg == "-":
            names.append(arg)
            continue
        option, sep, value = arg.partition("=")
        if sep and not option.startswith("--"):
            return None  # `-e=x` is the value `=x` to click: left to it
        if not sep:
            if not rest:
                return None  # a missing value: a usage error
            value = rest.pop(0)
        key, repeated = COMPILE_OPTIONS[option]
        args[key] = (args[key] or []) + [value] if repeated else value
    if len(names) > 1 or (not names) == (args["expression"] is None) or args["form"] not in COMPILE_FORMS:
        return None  # the usage errors of the command, in typer's words
    args["name"] = names[0] if names else None
    if args["project"] is not None:
        args["project"] = Path(args["project"])
    return args


def compile_without_typer(argv: list[str]) -> bool:
    """Run `segc compile` here if its arguments are read exactly as typer would read them;
    False leaves the command line to typer."""
    args = compile_arguments(argv)
    if args is None or not (_written_as_is(sys.stdout) and _written_as_is(sys.stderr)):
        return False
    try:
        print_sql(**args)
    except BrokenPipeError:
        # as typer: a reader of stdout that stopped reading (`| head`) ends the command with
        # status 1 and no message; what is left unwritten goes nowhere (a closed stderr
        # does not get here: stderr_without_reader)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.dup2(devnull, sys.stderr.fileno())
        raise SystemExit(1) from None
    return True
