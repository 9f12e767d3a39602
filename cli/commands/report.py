"""`segc report`: the KPI report, as a table, JSON, CSV or an HTML page."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from segc.front.printable import visible

from segc.cli.common import (
    AsOfOpt, DsnOpt, EngineOpt, MasterOpt, ParamOpt, ProjectOpt, check_format, fail, load_targets,
    progress, use_engine)
from segc.front.errors import SegcError


def report(
    targets: Annotated[Optional[list[str]], typer.Argument(help="A project folder and/or segment names (default: every segment).")] = None,
    kpi: Annotated[Optional[list[str]], typer.Option("--kpi", "-k", help="Only this KPI of segc.yml `kpis:` (repeatable; default: all of them).")] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="Break the figures down by a string or bool feature, e.g. country.")] = None,
    period: Annotated[str, typer.Option("--period", help="Compare with the as-of date this long before: `30 days`, `4 weeks`, `1 month`...")] = "30 days",
    periods: Annotated[int, typer.Option("--periods", help="json/html: how many as-of dates, one period apart, the sizes over time cover (2-60; one query each).")] = 6,
    format: Annotated[str, typer.Option("--format", "-f", help="text, json, csv or html (html needs --out). json/csv print only data.")] = "text",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write json/csv/html into this file (replaced atomically; only a report segc wrote is replaced) instead of stdout.")] = None,
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
) -> None:
    """KPI report: per segment (and per value of --by), size, share and every KPI of
    segc.yml, with the change since one period before the as-of date, and each KPI with
    `targets:` marked met or missed with its gap (value minus the bound). One query per
    as-of date. The HTML page adds charts (sizes, KPIs against the population, sizes over
    the last --periods as-of dates) in one self-contained file.

    Examples:

      segc report -p examples/retail --by country

      segc report loyal_big_basket at_risk -p examples/retail --kpi active --period "1 month"

      segc report -p examples/retail --by country --format html --out report.html
    """
    format = check_format(format, ("text", "json", "csv", "html"))
    if format == "text" and out is not None:
        raise typer.BadParameter("the table is for the terminal; use --format json, csv or html with --out",
                                 param_hint="--out")
    p, names = load_targets(targets or [], project, param, as_of)
    from segc.apps.report.formats import check_output, write_report
    from segc.apps.report.measure import build_report

    try:
        check_output(format, out, p)
    except SegcError as e:
        fail(e)
    use_engine(p, engine, dsn, master)

    try:
        with progress(format == "text" or out is not None, "reporting"):
            result = build_report(p, names or None, kpis=kpi, by=by, period=period,
                                  periods=periods if format in ("json", "html") else 2)
            if out is not None:
                write_report(result, format, out, p)
    except SegcError as e:
        fail(e)
    if out is not None:
        typer.echo(visible(f"wrote the {format} report to {out}"), err=True)
        return
    from segc.cli.printers.kpi_report import print_report

    print_report(result, format)
