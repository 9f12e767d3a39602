"""`segc score fit` and `segc score show`: the potential scores of segc.yml `scores:`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from segc.front.printable import visible

from segc.cli.common import DsnOpt, EngineOpt, MasterOpt, ProjectOpt, check_format, fail, progress, use_engine
from segc.front.errors import SegcError
from segc.front.files import display_path

# the `score` group; segc.cli.main adds it to the app
score_app = typer.Typer(
    no_args_is_help=True,
    help="Potential scores (segc.yml `scores:`): fit a logistic regression, show it. A fitted "
         "score is a float feature of every segment (`potential > 0.7`, `top 20% by potential`), "
         "compiled to plain SQL.",
)


def _score_project(project: Path | None, fmt: str):  # -> (project, the format's name)
    """segc.yml only: fitting and showing a score need neither the segments (which may wait
    for this very fit) nor the other model files."""
    from segc.project import load_project

    fmt = check_format(fmt, ("text", "json"))
    try:
        return load_project(project or Path("."), segments=False), fmt
    except SegcError as e:
        fail(e, "json" if fmt == "json" else "text")


@score_app.command("fit")
def score_fit(
    name: Annotated[str, typer.Argument(help="A score declared under `scores:` in segc.yml.")],
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Train at this as-of date instead of the score's train_as_of (YYYY-MM-DD).")] = None,
    validate_as_of: Annotated[Optional[str], typer.Option("--validate-as-of", help="Validate at this as-of instead of the score's validate_as_of (at least as-of + horizon).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json (the model file's content).")] = "text",
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
    p, format = _score_project(project, format)
    use_engine(p, engine, dsn, master)
    from segc.apps.score import fit_score
    from segc.schema.score_model import write_model

    try:
        with progress(format == "text", f"fitting {name}"):
            model = fit_score(p, name, train_as_of=as_of, validate_as_of=validate_as_of)
        path = write_model(p.root, model)
    except SegcError as e:
        fail(e, "json" if format == "json" else "text")
    from segc.cli.printers.score import print_model

    print_model(model, format, path=display_path(path))
    if format == "text":
        typer.echo(visible(f"wrote {display_path(path)}"), err=True)


@score_app.command("show")
def score_show(
    name: Annotated[str, typer.Argument(help="A score declared under `scores:` in segc.yml.")],
    format: Annotated[str, typer.Option("--format", "-f", help="text or json (the model file's content).")] = "text",
    project: ProjectOpt = None,
) -> None:
    """Print a fitted score: coefficients, imputation, scaling and validation figures.

    Example: segc score show potential -p examples/retail
    """
    p, format = _score_project(project, format)
    from segc.apps.score import is_current, read_score_model
    from segc.schema.score_model import model_path

    try:
        model = read_score_model(p, name)
    except SegcError as e:
        fail(e, "json" if format == "json" else "text")
    from segc.cli.printers.score import print_model

    path = display_path(model_path(p.root, name))
    print_model(model, format, path=path, current=is_current(p, model))
