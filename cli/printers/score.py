"""Printing a fitted score (`segc score fit` / `segc score show`): Rich tables for people,
JSON (the model file's content) for machines."""
from __future__ import annotations

import sys

from segc.apps.outputs import json_text
from segc.cli.printers.fit import print_table
from segc.cli.printers import shown


def print_model(model, fmt: str = "text", path: str | None = None, current: bool = True) -> None:
    if fmt == "json":
        body = model.to_json()
        if path is not None:
            body = {"file": path, **body}
        body["current"] = current
        sys.stdout.write(json_text(body))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True)
    t, v = model.training, model.validation
    console.print(f"[bold]score {shown(model.name)}[/]: {shown(model.target)} "
                  f"({shown(model.horizon)} after the as-of)")
    if path:
        console.print(f"model: {shown(path)}")
    if not current:
        console.print(f"[yellow]the score changed in segc.yml since this fit: refit with "
                      f"`segc score fit {shown(model.name)}`[/]")
    if not model.settings.get("converged", True):
        console.print(f"[yellow]the solver stopped after {model.settings.get('iterations')} iterations "
                      "without converging: the coefficients are approximate[/]")

    coefs = Table(title=f"coefficients (per standard deviation); intercept {model.intercept:+.4f}",
                  title_justify="left")
    for c in ("feature", "coefficient", "missing ->", "mean", "std"):
        coefs.add_column(c, justify="left" if c == "feature" else "right")
    for f in sorted(model.features, key=lambda f: -abs(f.coefficient)):
        coefs.add_row(shown(f.name), f"{f.coefficient:+.4f}", _num(f.impute), _num(f.mean), _num(f.scale))
    print_table(console, coefs)

    fit = Table(title="fit", title_justify="left")
    for c in ("", "as of", "target on", "rows", "positives", "AUC"):
        fit.add_column(c, justify="left" if c == "" else "right")
    for label, s in (("training", t), ("validation", v)):
        fit.add_row(label, s.as_of.isoformat(), s.target_at.isoformat(), f"{s.rows:,}",
                    f"{s.positives:,} ({s.positives / s.rows:.1%})" if s.rows else "0", f"{s.auc:.3f}")
    print_table(console, fit)

    deciles = Table(title=f"validation by decile (highest scores first), as of {v.as_of}", title_justify="left")
    for c in ("decile", "rows", "mean score", "observed", "lift"):
        deciles.add_column(c, justify="right")
    for d in v.deciles:
        deciles.add_row(str(d.decile), f"{d.rows:,}", f"{d.predicted:.3f}", f"{d.observed:.3f}", f"{d.lift:.2f}")
    print_table(console, deciles)


def _num(v: float) -> str:
    return f"{v:,.4g}" if abs(v) < 1e6 else f"{v:.4e}"
