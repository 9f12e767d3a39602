"""The `segc` command: argument parsing and printing over the segc API, nothing more."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from segc import __version__
from segc.front.errors import Interrupted, SegcError

app = typer.Typer(
    name="segc",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

ProjectOpt = Annotated[Optional[Path], typer.Option("--project", "-p", help="Project folder (default: the nearest folder upward holding segc.yml).")]
AsOfOpt = Annotated[Optional[str], typer.Option("--as-of", help="Pin the as-of date (YYYY-MM-DD), or `today` for the engine's current date.")]
EngineOpt = Annotated[str, typer.Option("--engine", help="Where to run: duckdb (embedded, over the project's files), postgres or spark.")]
DsnOpt = Annotated[Optional[str], typer.Option("--dsn", envvar="SEGC_DSN", show_default=False, show_envvar=True, help="PostgreSQL connection string (never printed).")]
MasterOpt = Annotated[Optional[str], typer.Option("--master", help="Spark master URL (default: local[*]).")]
ParamOpt = Annotated[Optional[list[str]], typer.Option("--param", help="Override a parameter: --param name=value (repeatable).")]


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

      segc compile -e 'age >= 30 and not vip' --dialect postgres

      segc count examples/retail
    """


def _fail(error: SegcError, fmt: str = "text") -> None:
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


def _params(values: list[str] | None) -> dict[str, str]:
    out = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            from segc.front.errors import Diagnostic

            _fail(SegcError(Diagnostic("E010", f"--param `{item}` is not of the form name=value",
                                       hints=("e.g. --param min_basket=100",))))
        out[name.strip()] = value
    return out


def _targets(targets: list[str], project: Path | None) -> tuple[Path | None, list[str], list[str]]:
    """Positional arguments: a folder or .seg file selects the project; any other word is a
    segment name (as in pytest or ruff). Returns (project, names, words used as paths)."""
    names, path_words = [], []
    for t in targets:
        p = Path(t)
        if p.is_dir() or (p.suffix == ".seg" and p.is_file()):
            project = p if p.is_dir() else p.parent
            path_words.append(t)
        else:
            names.append(t)
    return project, names, path_words


def _ambiguous(p, path_words: list[str]) -> None:
    from segc.front.errors import Diagnostic

    for word in path_words:
        if word in p.checked.segments:
            _fail(SegcError(Diagnostic("E012", f"`{word}` is both a folder and a segment name",
                                       hints=(f"write `./{word}` for the folder, or `--project DIR {word}` "
                                              "for the segment",))))


def _load(project: Path | None, params=None, as_of=None, fmt="text"):
    from segc.project import load_project

    try:
        return load_project(project or Path("."), params=_params(params), as_of=as_of)
    except SegcError as e:
        _fail(e, fmt)


@app.command()
def check(
    path: Annotated[Optional[Path], typer.Argument(help="Project folder (default: found upward from here).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text, json or github (Actions annotations).")] = "text",
    data: Annotated[bool, typer.Option("--data", help="Also check the preview data files against segc.yml (columns, types, nullable, values).")] = False,
    project: ProjectOpt = None,
) -> None:
    """Check segc.yml and every segment: syntax, names, types, references, policy.

    Exit code 0 when clean, 1 on any error. Warnings are shown but do not fail.

    Examples:

      segc check examples/retail --format json

      segc check examples/retail --data     # also the data files: columns, types, nullable, values
    """
    from segc.front.errors import render_github, render_json, render_text

    if format not in ("text", "json", "github"):
        raise typer.BadParameter("choose text, json or github", param_hint="--format")
    p = _load(project or path, fmt=format)
    if data:
        try:
            problems = p.check_data()
        except SegcError as e:
            problems = e.diagnostics
        if problems:
            _fail(SegcError(p.warnings + problems), format)
    segments = {name: {"file": d.file, "sensitive": d.sensitive} for name, d in p.checked.segments.items()}
    if format == "json":
        typer.echo(render_json(p.warnings, segments=segments))
    elif format == "github":
        if p.warnings:
            typer.echo(render_github(p.warnings))
    else:
        if p.warnings:
            typer.echo(render_text(p.warnings), err=True)
        if data:
            typer.echo("ok: the data files match segc.yml", err=True)
        typer.echo(f"ok: {len(segments)} segment{'s' if len(segments) != 1 else ''} checked in {p.root}", err=True)


@app.command()
def compile(
    name: Annotated[Optional[str], typer.Argument(help="A segment or segmentation defined in the project.")] = None,
    expression: Annotated[Optional[str], typer.Option("--expression", "-e", help="Compile this expression instead of a named segment.")] = None,
    dialect: Annotated[Optional[str], typer.Option("--dialect", "-d", help="duckdb, sqlite, postgres, mysql, snowflake, bigquery, redshift, trino, databricks, spark, tsql (default: the project's).")] = None,
    form: Annotated[str, typer.Option("--form", help="select (member keys), count, or label (key + branch of a segmentation).")] = "select",
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
) -> None:
    """Print the SQL of a segment (or of -e EXPR) on stdout.

    Examples:

      segc compile loyal_big_basket --dialect snowflake

      segc compile -e 'age >= 30 and country in ["FR", "BE"]' --form count

      segc compile value_tier --form label --as-of 2024-07-01
    """
    if (name is None) == (expression is None):
        raise typer.BadParameter("give a segment NAME or -e EXPRESSION (one of them)")
    if form not in ("select", "count", "label"):
        raise typer.BadParameter("choose select, count or label", param_hint="--form")
    p = _load(project, param, as_of)
    try:
        if expression is not None:
            sql = p.compile_expression(expression, dialect=dialect, form=form)
            warnings = p.expression_warnings(expression)
            if warnings:
                from segc.front.errors import render_text

                typer.echo(render_text(warnings), err=True)
        else:
            sql = p.compile(name, dialect=dialect, form=form)
    except SegcError as e:
        _fail(e)
    typer.echo(sql + ";")


@app.command()
def count(
    targets: Annotated[Optional[list[str]], typer.Argument(help="A project folder and/or segment names (default: every segment).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table, json or csv. json/csv print only data.")] = "table",
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail (exit 1) when a segment is below its min_size.")] = False,
) -> None:
    """Count every segment (one scan on DuckDB): population, count, share.

    Examples:

      segc count examples/retail

      segc count loyal_big_basket at_risk --format json
    """
    if format not in ("table", "json", "csv"):
        raise typer.BadParameter("choose table, json or csv", param_hint="--format")
    project, names, path_words = _targets(targets or [], project)
    p = _load(project, param, as_of)
    _ambiguous(p, path_words)
    _use_engine(p, engine, dsn, master)
    try:
        with _progress(format == "table", "counting"):
            result = p.count(names or None)
    except SegcError as e:
        _fail(e)
    from segc.cli import output

    output.print_counts(result, format)
    from segc.apps.count_rules import count_diagnostics
    from segc.front.errors import render_text

    diags = count_diagnostics(p, result, strict)
    errors = [d for d in diags if d.is_error]
    # json/csv keep stderr for what fails the run: their readers are scripts
    shown = diags if format == "table" else errors
    if shown:
        typer.echo(render_text(shown), err=True)
    if errors:
        typer.echo(f"\n{len(errors)} error{'s' if len(errors) != 1 else ''} (--strict)", err=True)
        raise typer.Exit(1)


@app.command()
def sample(
    targets: Annotated[list[str], typer.Argument(help="A segment name (and optionally a project folder).")],
    n: Annotated[int, typer.Option("-n", min=1, help="How many members to show.")] = 20,
    format: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
) -> None:
    """Show members of a segment with the features it uses (sensitive ones masked).

    Example: segc sample at_risk -p examples/retail -n 5
    """
    p, names = _one_project(targets, project, param, as_of, format, engine, dsn, master)
    if len(names) != 1:
        raise typer.BadParameter("give exactly one segment name")
    try:
        result = p.sample(names[0], n)
    except SegcError as e:
        _fail(e)
    from segc.cli import output

    output.print_rows(result.columns, result.rows, format, title=f"{names[0]} (first {n} by key)")
    if result.masked and format == "table":
        typer.echo("masked (sensitive): " + ", ".join(result.masked), err=True)


@app.command()
def overlap(
    targets: Annotated[Optional[list[str]], typer.Argument(help="A project folder and/or segment names (default: all).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
) -> None:
    """Pairwise overlap of segments (counts and Jaccard), in one query.

    Example: segc overlap loyal_big_basket at_risk inactive_6m -p examples/retail
    """
    p, names = _one_project(targets or [], project, param, as_of, format, engine, dsn, master)
    try:
        result = p.overlap(names or None)
    except SegcError as e:
        _fail(e)
    from segc.cli import output

    output.print_overlap(result, format)


@app.command()
def profile(
    targets: Annotated[list[str], typer.Argument(help="A segment name (and optionally a project folder).")],
    format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
) -> None:
    """Profile a segment against the population: mean, stddev, missing share; top values.

    Example: segc profile loyal_big_basket -p examples/retail
    """
    p, names = _one_project(targets, project, param, as_of, format, engine, dsn, master)
    if len(names) != 1:
        raise typer.BadParameter("give exactly one segment name")
    try:
        result = p.profile(names[0])
    except SegcError as e:
        _fail(e)
    from segc.cli import output

    output.print_profile(result, format)


@app.command()
def transitions(
    targets: Annotated[list[str], typer.Argument(help="A segmentation name (and optionally a project folder).")],
    start: Annotated[str, typer.Option("--from", help="The earlier as-of date (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="The later as-of date (YYYY-MM-DD).")],
    format: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
) -> None:
    """The transition matrix: for each branch at --from, where its customers are at --to.

    Example: segc transitions value_tier --from 2024-01-01 --to 2024-07-01 -p examples/retail
    """
    p, names = _one_project(targets, project, param, None, format, engine, dsn, master)
    if len(names) != 1:
        raise typer.BadParameter("give exactly one segmentation name")
    try:
        result = p.transitions(names[0], start, end)
    except SegcError as e:
        _fail(e)
    from segc.cli import output

    output.print_transitions(result, format)


@app.command()
def build(
    targets: Annotated[Optional[list[str]], typer.Argument(help="A project folder and/or names to build (default: every segment and segmentation).")] = None,
    template: Annotated[str, typer.Option("--template", "-t", help="select, view, table, members or dbt.")] = "select",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output folder, replaced as a whole (default: build/<template> in the project).")] = None,
    dialect: Annotated[Optional[str], typer.Option("--dialect", "-d", help="duckdb, sqlite, postgres, mysql, snowflake, bigquery, redshift, trino, databricks, spark, tsql (default: the project's).")] = None,
    schema: Annotated[Optional[str], typer.Option("--schema", help="Schema (or db.schema) of the views and tables the view/table templates create.")] = None,
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
) -> None:
    """Write one SQL file per segment and segmentation, plus manifest.json.

    Templates come with segc; a project's templates/ folder overrides them by file name.
    The output folder is replaced atomically: on any error the previous one is kept.

    Examples:

      segc build --dialect snowflake --template view --out build/views

      segc build -p examples/retail --template dbt --out build/dbt
    """
    project, names, path_words = _targets(targets or [], project)
    p = _load(project, param, as_of)
    _ambiguous(p, path_words)
    from segc.apps.build import build as build_segments

    target = out if out is not None else p.root / "build" / template
    try:
        result = build_segments(p, template, target, dialect=dialect, schema=schema, names=names or None)
    except SegcError as e:
        _fail(e)
    n = len(result.manifest["segments"])
    typer.echo(f"built {n} definition{'s' if n != 1 else ''} ({template}, {result.manifest['dialect']}) "
               f"in {target}", err=True)


@app.command("test", short_help="Run the segment unit tests (tests/*.yml) on in-memory DuckDB and SQLite.")
def test_command(
    targets: Annotated[Optional[list[str]], typer.Argument(help="A project folder and/or test files (default: the project's tests/*.yml).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    project: ProjectOpt = None,
) -> None:
    """Run the segment unit tests: fixture rows -> the exact members of each segment,
    on in-memory DuckDB and SQLite (no warehouse). Exit 1 on any difference.

    A test file (tests/*.yml) holds `as_of`, `rows` per source, optional `defaults`, and
    `expect: {segment: \\[keys]}` (segmentation branches as `name.branch`).

    Example: segc test -p examples/retail
    """
    if format not in ("text", "json"):
        raise typer.BadParameter("choose text or json", param_hint="--format")
    files = []
    for t in targets or []:
        path = Path(t)
        if path.is_dir():
            project = path
        elif path.suffix in (".yml", ".yaml") and path.is_file():
            files.append(path)
            project = project or path.parent
        else:
            raise typer.BadParameter(f"`{t}` is neither a project folder nor a test file (.yml)")
    p = _load(project, fmt=format)
    from segc.apps.segtest import run_tests

    try:
        with _progress(format == "text", "testing"):
            report = run_tests(p, files or None)
    except SegcError as e:
        _fail(e, format)
    from segc.cli import reports

    reports.print_test_report(report, format)
    if not report.ok:
        raise typer.Exit(1)


@app.command(short_help="What changed between two versions of a project, and who enters or leaves each segment.")
def diff(
    old: Annotated[str, typer.Argument(help="The old version: a project folder, or a git revision (HEAD, main, a tag...).")],
    new: Annotated[Optional[Path], typer.Argument(help="The new version: a project folder (default: found upward from here).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
) -> None:
    """What changed between two versions of a project: segments added, removed and
    changed (a diff of their definitions), and on the preview data of NEW, how many
    customers entered, left or stayed in each changed segment.

    Examples:

      segc diff HEAD examples/retail

      segc diff ../retail-v1 examples/retail --format json
    """
    if format not in ("text", "json"):
        raise typer.BadParameter("choose text or json", param_hint="--format")
    from segc.apps.diff import diff_projects

    try:
        with _progress(format == "text", "comparing"):
            result = diff_projects(old, new or Path("."), as_of=as_of, params=_params(param))
    except SegcError as e:
        _fail(e, format)
    from segc.cli import reports

    reports.print_diff(result, format)


@app.command(short_help="Write a static HTML catalogue of the segments (searchable index, SQL per dialect).")
def docs(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the catalogue to (replaced if it holds a previous one).")],
    path: Annotated[Optional[Path], typer.Argument(help="Project folder (default: found upward from here).")] = None,
    counts: Annotated[bool, typer.Option("--counts/--no-counts", help="Show sizes from the preview data.")] = True,
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
) -> None:
    """Write a static HTML catalogue of the segments: an index (searchable by name, tag and
    owner) and a page per segment with its doc, definition, features, size and SQL in
    every dialect. Self-contained pages: open OUT/index.html in a browser.

    Example: segc docs --out site/segments -p examples/retail
    """
    p = _load(project or path, param, as_of)
    from segc.apps.catalog import build_catalog

    try:
        with _progress(True, "writing the catalogue"):
            result = build_catalog(p, out, counts=counts)
    except SegcError as e:
        _fail(e)
    typer.echo(f"wrote {len(result.pages)} pages to {result.out} (open {result.out / 'index.html'})", err=True)
    if not result.counted and counts:
        typer.echo(f"note: no sizes: {result.note}", err=True)


@app.command(short_help="KPI report per segment (and per --by value), with the change since one period before.")
def report(
    targets: Annotated[Optional[list[str]], typer.Argument(help="A project folder and/or segment names (default: every segment).")] = None,
    kpi: Annotated[Optional[list[str]], typer.Option("--kpi", "-k", help="Only this KPI of segc.yml `kpis:` (repeatable; default: all of them).")] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="Break the figures down by a string or bool feature, e.g. country.")] = None,
    period: Annotated[str, typer.Option("--period", help="Compare with the as-of date this long before: `30 days`, `4 weeks`, `1 month`...")] = "30 days",
    periods: Annotated[int, typer.Option("--periods", help="json/html: how many as-of dates, one period apart, the sizes over time cover (2-60; one query each).")] = 6,
    format: Annotated[str, typer.Option("--format", "-f", help="table, json, csv or html (html needs --out). json/csv print only data.")] = "table",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write json/csv/html into this file (replaced atomically) instead of stdout.")] = None,
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
) -> None:
    """KPI report: per segment (and per value of --by), size, share and every KPI of
    segc.yml, with the change since one period before the as-of date. One query per
    as-of date. The HTML page adds charts (sizes, KPIs against the population, sizes over
    the last --periods as-of dates) in one self-contained file.

    Examples:

      segc report -p examples/retail --by country

      segc report loyal_big_basket at_risk -p examples/retail --kpi active --period "1 month"

      segc report -p examples/retail --by country --format html --out report.html
    """
    if format not in ("table", "json", "csv", "html"):
        raise typer.BadParameter("choose table, json, csv or html", param_hint="--format")
    if format == "table" and out is not None:
        raise typer.BadParameter("the table is for the terminal; use --format json, csv or html with --out",
                                 param_hint="--out")
    project, names, path_words = _targets(targets or [], project)
    p = _load(project, param, as_of)
    _ambiguous(p, path_words)
    if format == "html" and out is None:
        from segc.front.errors import Diagnostic

        _fail(SegcError(Diagnostic("E948", "--format html writes a file: give --out FILE",
                                   hints=("e.g. --format html --out report.html",))))
    _use_engine(p, engine, dsn, master)
    from segc.apps.report.measure import build_report

    try:
        with _progress(format == "table" or out is not None, "reporting"):
            result = build_report(p, names or None, kpis=kpi, by=by, period=period,
                                  periods=periods if format in ("json", "html") else 2)
            if format == "html":
                from segc.apps.report.html import write_html

                write_html(result, out, project=p.schema.name)
            elif out is not None:
                from segc.cli.report_output import report_text
                from segc.apps.report.html import write_text

                write_text(out, report_text(result, format))
    except SegcError as e:
        _fail(e)
    if out is not None:
        typer.echo(f"wrote the {format} report to {out}", err=True)
        return
    from segc.cli import report_output

    report_output.print_report(result, format)


@app.command("fmt")
def fmt_command(
    paths: Annotated[Optional[list[Path]], typer.Argument(help=".seg files or folders (default: the project's segments/*.seg).")] = None,
    check: Annotated[bool, typer.Option("--check", help="Write nothing: print a diff of each file that would change; exit 1 if any would.")] = False,
    project: ProjectOpt = None,
) -> None:
    """Format .seg files in the canonical style; only files that change are rewritten.

    The meaning never changes and comments are kept. A file with a syntax error is
    reported and left untouched (exit 1).

    Examples:

      segc fmt -p examples/retail

      segc fmt --check examples/retail/segments/rfm.seg
    """
    from segc.front import fmt as formatter
    from segc.front.errors import Diagnostic, render_text
    from segc.project import find_root

    files: list[Path] = []
    if paths:
        for path in paths:
            if path.is_dir():
                files += formatter.seg_files(path)
            elif path.is_file():
                files.append(path)
            else:
                raise typer.BadParameter(f"no such file or folder: {path}", param_hint="PATHS")
    else:
        root = project if project is not None and (project / "segc.yml").is_file() else (
            find_root(project or Path(".")) if (project or Path(".")).exists() else None)
        if root is None:
            where = project or Path(".")
            _fail(SegcError(Diagnostic("E008", f"no segc.yml found in `{where}` or any folder above it",
                                       file=str(where), hints=("give the files or folders to format, "
                                                               "or point at a project with --project DIR",))))
        files = formatter.seg_files(root)
    seen, changed, failed = set(), 0, 0
    for file in files:
        if file.resolve() in seen:
            continue
        seen.add(file.resolve())
        try:
            display = str(file.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            display = str(file)
        try:
            old, new = formatter.format_file(file, display)
        except SegcError as e:
            typer.echo(render_text(e.diagnostics), err=True)
            failed += 1
            continue
        if old == new:
            continue
        changed += 1
        if check:
            typer.echo(formatter.unified_diff(old, new, display), nl=False)
        else:
            formatter.write_atomic(file, new)
            typer.echo(f"reformatted {display}", err=True)
    unchanged = len(seen) - changed - failed
    files_word = lambda n: f"{n} file{'s' if n != 1 else ''}"  # noqa: E731
    summary = (f"{files_word(changed)} would be reformatted" if check else f"{files_word(changed)} reformatted")
    summary += f", {files_word(unchanged)} already formatted"
    if failed:
        summary += f", {files_word(failed)} with errors (left untouched)"
    typer.echo(summary, err=True)
    if failed or (check and changed):
        raise typer.Exit(1)


score_app = typer.Typer(
    no_args_is_help=True,
    help="Potential scores (segc.yml `scores:`): fit a logistic regression, show it. A fitted "
         "score is a float feature of every segment (`potential > 0.7`, `top 20% by potential`), "
         "compiled to plain SQL.",
)
app.add_typer(score_app, name="score", short_help="Potential scores (segc.yml `scores:`): fit a logistic regression, show it.")


def _score_project(project: Path | None, fmt: str):
    """segc.yml only: fitting and showing a score need neither the segments (which may wait
    for this very fit) nor the other model files."""
    from segc.project import load_project

    if fmt not in ("table", "json"):
        raise typer.BadParameter("choose table or json", param_hint="--format")
    try:
        return load_project(project or Path("."), segments=False)
    except SegcError as e:
        _fail(e, "json" if fmt == "json" else "text")


@score_app.command("fit")
def score_fit(
    name: Annotated[str, typer.Argument(help="A score declared under `scores:` in segc.yml.")],
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Train at this as-of date instead of the score's train_as_of (YYYY-MM-DD).")] = None,
    validate_as_of: Annotated[Optional[str], typer.Option("--validate-as-of", help="Validate at this as-of instead of the score's validate_as_of (at least as-of + horizon).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table or json (the model file's content).")] = "table",
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
) -> None:
    """Fit a score and write models/NAME.yml (refitting is always this explicit command).

    Reads the population's features at the training as-of and the target at as-of +
    horizon, fits a logistic regression (median imputation, standardisation, lbfgs),
    validates it at the later as-of (AUC, lift and calibration by decile) and prints that.

    Example: segc score fit potential -p examples/retail
    """
    p = _score_project(project, format)
    _use_engine(p, engine, dsn, master)
    from segc.apps.score import fit_score
    from segc.schema.score_model import write_model

    try:
        with _progress(format == "table", f"fitting {name}"):
            model = fit_score(p, name, train_as_of=as_of, validate_as_of=validate_as_of)
        path = write_model(p.root, model)
    except SegcError as e:
        _fail(e, "json" if format == "json" else "text")
    from segc.cli import scores

    scores.print_model(model, format, path=p._display(path))
    if format == "table":
        typer.echo(f"wrote {p._display(path)}", err=True)


@score_app.command("show")
def score_show(
    name: Annotated[str, typer.Argument(help="A score declared under `scores:` in segc.yml.")],
    format: Annotated[str, typer.Option("--format", "-f", help="table or json (the model file's content).")] = "table",
    project: ProjectOpt = None,
) -> None:
    """Print a fitted score: coefficients, imputation, scaling and validation figures.

    Example: segc score show potential -p examples/retail
    """
    p = _score_project(project, format)
    from segc.apps.score import is_current, read_score_model
    from segc.schema.score_model import model_path

    try:
        model = read_score_model(p, name)
    except SegcError as e:
        _fail(e, "json" if format == "json" else "text")
    from segc.cli import scores

    path = p._display(model_path(p.root, name))
    scores.print_model(model, format, path=path, current=is_current(p, model))


@app.command(short_help="Find segments in the data (k-means) and write them as an editable segmentation.")
def discover(
    path: Annotated[Optional[Path], typer.Argument(help="Project folder (default: found upward from here).")] = None,
    features: Annotated[str, typer.Option("--features", help="Required: the numeric (or bool) features to cluster on, comma-separated.")] = "",
    k: Annotated[str, typer.Option("--k", help="Number of clusters, or a range (3..6) to choose by silhouette.")] = "3..6",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the segmentation to this .seg file (atomically); default: print it.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace --out even if segc discover did not write it.")] = False,
    name: Annotated[str, typer.Option("--name", help="Name of the segmentation.")] = "discovered",
    seed: Annotated[int, typer.Option("--seed", help="Random seed of k-means (same data and seed, same file).")] = 0,
    depth: Annotated[int, typer.Option("--depth", help="Depth of the decision tree that writes the rules.")] = 3,
    min_size: Annotated[Optional[int], typer.Option("--min-size", min=1, help="Smallest rule (customers); default: the project's min_size, else 1% of the population.")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text: the report on stderr (and the segmentation on stdout without --out); json: one object on stdout.")] = "text",
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
) -> None:
    """Find segments in the data: cluster the population on --features (k-means), then
    write the clusters as an editable segmentation of readable rules (a decision tree),
    with a report of how faithful and homogeneous the rules are.

    The rules are counted by segc itself, so the report's counts are `segc count`'s.
    Missing values are imputed with the median for clustering. --out refuses to replace a
    file that segc discover did not write, unless --force.

    Examples:

      segc discover examples/retail --features purchases_365d,basket_avg,revenue_365d

      segc discover -p examples/retail --features purchases_365d,basket_avg --k 4 --out examples/retail/segments/discovered.seg
    """
    if format not in ("text", "json"):
        raise typer.BadParameter("choose text or json", param_hint="--format")
    p = _load(project or path, param, as_of, fmt="text")
    from segc.apps.discover import discover as discover_segments
    from segc.apps.discover import write

    names = [f.strip() for f in features.split(",") if f.strip()]
    try:
        with _progress(format == "text", "clustering"):
            result = discover_segments(p, names, k=k, as_of=as_of, seed=seed, name=name, depth=depth,
                                       min_size=min_size, out=out, force=force)
        if out is not None:
            write(result, out, force=force)
    except SegcError as e:
        _fail(e)
    from segc.cli import discover_report

    discover_report.print_report(result, format, out)


def _one_project(targets, project, param, as_of, format, engine="duckdb", dsn=None, master=None):
    if format not in ("table", "json", "csv"):
        raise typer.BadParameter("choose table, json or csv", param_hint="--format")
    project, names, path_words = _targets(targets, project)
    p = _load(project, param, as_of)
    _ambiguous(p, path_words)
    _use_engine(p, engine, dsn, master)
    return p, names


def _use_engine(p, engine: str, dsn: str | None, master: str | None) -> None:
    if engine == "duckdb":
        return
    from segc.run.connect import open_engine

    try:
        p.use_engine(open_engine(engine, p.schema, p.root, dsn=dsn, master=master))
    except SegcError as e:
        _fail(e)


def _progress(enabled: bool, what: str):
    """A spinner on a terminal for queries that take a while; nothing in pipes."""
    import contextlib

    if not enabled or not sys.stderr.isatty():
        return contextlib.nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(f"{what}...", spinner="dots")


def main() -> None:
    try:
        app()
    except (KeyboardInterrupt, Interrupted):
        typer.echo("interrupted", err=True)
        sys.stdout.flush()
        sys.stderr.flush()
        # not sys.exit: an interrupted engine may still be unwinding in its own thread,
        # and tearing down the interpreter under it can crash; nothing is half-written
        # (outputs are written to a temporary file and renamed)
        os._exit(130)


if __name__ == "__main__":
    main()
