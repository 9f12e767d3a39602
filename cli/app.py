"""The Typer app of the `segc` command: --version, and the commands (segc.cli.commands)
registered in the order of `segc --help`. Argument parsing and printing over the segc
API, nothing more. main.py runs it."""
from __future__ import annotations

from typing import Annotated

import typer

from segc import __version__
from segc.cli.commands import build, check, compile, diff, discover, docs, fmt, init, lift, lsp, preview, report, score, serve, snapshot, test

def _no_type_for_flags() -> None:
    """typer (0.29) shows a flag's type in --help as if it took a value (`--strict
    <bool>`, `--help <bool>`); a flag takes none, so it shows no type."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "segc_flags_hidden", False):
        return

    def display_type_rich(self, ctx):
        return None if self.is_flag else shown(self, ctx)

    display_type_rich.segc_flags_hidden = True
    TyperOption.display_type_rich = display_type_rich


_no_type_for_flags()

app = typer.Typer(
    name="segc",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"segc {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    """Compile customer-segment definitions to SQL for any warehouse, and preview them on DuckDB.

    Examples:

      segc check examples/retail

      segc compile loyal_big_basket -p examples/retail --dialect snowflake

      segc compile -e 'age >= 30 and not email_optin' -p examples/retail --dialect postgres

      segc count examples/retail
    """


# the commands, in the order `segc --help` lists them (Typer lists the score group last)
app.command(short_help="Create a new project that runs at once (segc.yml, sample data, a segment, a test).")(
    init.init)
app.command()(check.check)
app.command()(compile.compile)
app.command()(preview.count)
app.command()(preview.sample)
app.command()(preview.overlap)
app.command()(preview.profile)
app.command()(preview.transitions)
app.command()(build.build)
app.command(short_help="Store who is in each segment at the as-of (.segc/snapshots/, or a warehouse table).")(
    snapshot.snapshot)
app.command(short_help="Who entered and who exited each segment since a snapshot, with a payload (--with).")(
    snapshot.changes)
app.command("test", short_help="Run the segment unit tests (tests/*.yml) on in-memory DuckDB and SQLite.")(
    test.test_command)
app.command(short_help="What changed between two versions of a project, and who enters or leaves each segment.")(
    diff.diff)
app.command(short_help="Write a static HTML catalogue of the segments (searchable index, SQL per dialect).")(
    docs.docs)
app.command(short_help="KPI report per segment (and per --by value), with the change since one period before.")(
    report.report)
app.command(short_help="Experiment readout: target vs control frozen at assigned_at, with 95% intervals.")(
    lift.lift)
app.command("fmt")(fmt.fmt_command)
app.command(short_help="Language server for .seg files on stdin/stdout (diagnostics, completion, hover, rename...).")(
    lsp.lsp)
app.add_typer(score.score_app, name="score",
              short_help="Potential scores (segc.yml `scores:`): fit a logistic regression, show it.")
app.command(short_help="Find segments in the data (k-means) and write them as an editable segmentation.")(
    discover.discover)
app.command(short_help="A local playground: count, overlap, profile and SQL of a segment as you type.")(
    serve.serve)

