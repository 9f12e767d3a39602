"""`segc lift`: the readout of an experiment of segc.yml `experiments:` (DESIGN §8.3)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from segc.front.printable import visible

from segc.cli.common import (
    DsnOpt, EngineOpt, MasterOpt, ParamOpt, ProjectOpt, check_format, fail, load_targets, progress, use_engine)
from segc.front.errors import SegcError


def lift(
    name: Annotated[str, typer.Argument(help="An experiment of segc.yml `experiments:`.")],
    format: Annotated[str, typer.Option("--format", "-f", help="text, json, csv or html (html needs --out). json/csv print only data.")] = "text",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write json/csv/html into this file (replaced atomically; only a readout segc wrote is replaced) instead of stdout.")] = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
    table: Annotated[Optional[str], typer.Option("--table", help="With --engine postgres: the warehouse table (schema.name) of `segc snapshot --table`, whose snapshot at assigned_at holds the arms.")] = None,
) -> None:
    """Experiment readout: the members of the target and the control frozen at
    `assigned_at` (the snapshot `segc snapshot` stored at that date when it holds both
    arms with their current definitions, else point-in-time), and per metric (over [assigned_at, until)) n per arm,
    the proportion or mean, the difference target - control with its 95% interval
    (Newcombe's for proportions, Welch's for means), the relative difference, the p-value,
    and a sample-ratio-mismatch test against the holdout share. One query.

    Examples:

      segc lift spring_loyalty -p examples/retail

      segc lift spring_loyalty -p examples/retail --format html --out lift.html
    """
    format = check_format(format, ("text", "json", "csv", "html"))
    if format == "text" and out is not None:
        raise typer.BadParameter("the table is for the terminal; use --format json, csv or html with --out",
                                 param_hint="--out")
    p, _names = load_targets([], project, param, None)
    from segc.apps.lift import lift as readout
    from segc.apps.lift_out import check_output, write_lift

    try:
        check_output(format, out, p)
        use_engine(p, engine, dsn, master)
        with progress(format == "text" or out is not None, "measuring"):
            result = readout(p, name, table)
        if out is not None:
            write_lift(result, format, out, p)
    except SegcError as e:
        fail(e)
    if out is not None:
        typer.echo(visible(f"wrote the {format} readout to {out}"), err=True)
        return
    from segc.cli.printers.lift import print_lift

    print_lift(result, format)
