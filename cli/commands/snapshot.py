"""`segc snapshot` (store the membership at an as-of) and `segc changes` (who entered and
who exited since a stored snapshot, with a payload for a CRM or an e-mail tool)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from segc.front.printable import visible

from segc.cli.common import (
    AsOfOpt, DsnOpt, EngineOpt, MasterOpt, ParamOpt, ProjectOpt, check_format, fail, load_targets, progress,
    use_engine)
from segc.front.errors import SegcError

TableOpt = Annotated[Optional[str], typer.Option("--table", help="With --engine postgres: the warehouse table (schema.name) holding the snapshots, created if missing.")]


def snapshot(
    targets: Annotated[Optional[list[str]], typer.Argument(help="A project folder and/or segment, branch or segmentation names (default: every segment and segmentation).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    as_of: AsOfOpt = None,
    table: TableOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
) -> None:
    """Store who is in each segment (and branch) at the as-of: key, definition, branch,
    as_of, definition hash. By default into .segc/snapshots/ (parquet, one folder per
    as-of); with --engine postgres --table schema.name into a warehouse table (one
    transaction). Re-running an as-of replaces its rows.

    Examples:

      segc snapshot -p examples/retail

      segc snapshot loyal_big_basket value_tier -p examples/retail --as-of 2024-06-01

    In the warehouse: --engine postgres --dsn ... --table crm.segc_snapshots.
    """
    format = check_format(format, ("text", "json"))
    p, names = load_targets(targets or [], project, param, as_of)
    use_engine(p, engine, dsn, master)
    try:
        with progress(format == "text", "snapshot"):
            result = p.snapshot(names or None, table=table)
    except SegcError as e:
        fail(e)
    if result.warnings:  # on stderr: stdout is the data a tool reads
        from segc.front.errors import render_text

        typer.echo(render_text(list(result.warnings)), err=True)
    from segc.cli.printers.snapshot import print_snapshot

    print_snapshot(result, format)


def changes(
    targets: Annotated[Optional[list[str]], typer.Argument(help="A project folder and/or segment, branch or segmentation names (default: every segment and segmentation).")] = None,
    since: Annotated[str, typer.Option("--since", help="The snapshot to compare with: a date (YYYY-MM-DD) or `last` (each definition's latest before the as-of).")] = "last",
    with_: Annotated[Optional[list[str]], typer.Option("--with", help="Payload columns, comma-separated and/or repeated (--with email --with first_name): features or columns of the base source, read at the as-of, in the order given.")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text (counts), json or csv (the rows). json/csv print only data.")] = "text",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write json/csv into this file (replaced atomically; only a changes file segc wrote is replaced) instead of stdout.")] = None,
    as_of: AsOfOpt = None,
    table: TableOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
) -> None:
    """Who entered and who exited each segment (and branch) since a stored snapshot: one
    row per key, definition, branch and change (a move between branches is an exit and an
    entry), with the --with payload. On a terminal, the counts; json/csv give the rows.

    Examples:

      segc changes -p examples/retail --since last

      segc changes loyal_big_basket -p examples/retail --since 2024-06-01 --with email,first_name --format csv
    """
    format = check_format(format, ("text", "json", "csv"))
    if format == "text" and out is not None:
        raise typer.BadParameter("the counts are for the terminal; use --format json or csv with --out",
                                 param_hint="--out")
    p, names = load_targets(targets or [], project, param, as_of)
    from segc.apps.changes_out import check_changes_output, write_changes

    try:
        if out is not None:
            check_changes_output(format, out, p)
    except SegcError as e:
        fail(e)
    use_engine(p, engine, dsn, master)
    payload = [w.strip() for given in with_ or () for w in given.split(",") if w.strip()]  # every --with, in order
    try:
        with progress(format == "text" or out is not None, "changes"):
            result = p.changes(names or None, since=since, with_=payload, table=table)
            if out is not None:
                write_changes(result, format, out, p)
    except SegcError as e:
        fail(e)
    if result.warnings:  # on stderr: stdout is the data a tool reads
        from segc.front.errors import render_text

        typer.echo(render_text(list(result.warnings)), err=True)
    if out is not None:
        typer.echo(visible(f"wrote {len(result.rows)} changes ({format}) to {out}"), err=True)
        return
    from segc.cli.printers.snapshot import print_changes

    print_changes(result, format)
