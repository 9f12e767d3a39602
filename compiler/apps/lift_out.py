"""A `segc lift` readout as JSON (every figure a number, proportions as fractions), CSV
(one line per metric), a table's cells, or a self-contained HTML page (plotly.js
embedded, as the report's) with a chart per metric: each arm's value and the difference
with its interval."""
from __future__ import annotations

from pathlib import Path

from segc.apps.outputs import check_marked_file, csv_text, json_text, steady
from segc.front.errors import Diagnostic, SegcError
from segc.front.files import write_atomic

TEMPLATES = Path(__file__).parent / "templates" / "lift"
FIELDS = ("kind", "n_target", "n_control", "target", "control", "difference", "ci_low", "ci_high",
          "relative", "relative_low", "relative_high", "p_value", "withheld")
WITHHELD = "—"  # a figure of fewer than min_group people (lift.withhold), as profile shows it
# how segc knows a readout file is its own (files.check_output): each format's fixed start
MARKS = {"html": b'<meta name="generator" content="segc lift">', "json": b'{\n  "experiment": "',
         "csv": b"experiment,metric,kind,"}


def check_output(fmt: str, out: Path | None, project=None) -> None:
    """HTML is always a file (E948 without one); `out` must be new or a readout segc wrote."""
    if fmt == "html" and out is None:
        raise SegcError(Diagnostic("E948", "--format html writes a file: give --out FILE",
                                   hints=("e.g. --format html --out lift.html",)))
    if out is not None and project is not None:
        check_marked_file(project, out, fmt, MARKS, "readout")


def lift_text(r: dict, fmt: str, project: str = "") -> str:
    if fmt == "json":
        return json_text(r)
    if fmt == "html":
        return render_html(r, project)
    return csv_text([["experiment", "metric", *FIELDS]]
                    + [[r["experiment"], name, *("" if m[f] is None else m[f] for f in FIELDS)]
                       for name, m in r["metrics"].items()])


def write_lift(r: dict, fmt: str, out: Path, project) -> None:
    text = lift_text(r, fmt, project.schema.name)
    write_atomic(out, text, refuse=lambda path: check_output(fmt, path, project))


def _num(v, spec: str) -> str:
    return "–" if v is None else format(steady(v), spec)


def table_rows(r: dict) -> list[tuple[str, list[str]]]:
    """The cells of each metric, formatted: proportions in percent, differences in points."""
    out = []
    for name, m in r["metrics"].items():
        if m.get("withheld"):
            out.append((name, [m["kind"], str(m["n_target"]), str(m["n_control"]), *[WITHHELD] * 6]))
            continue
        share = m["kind"] == "proportion"
        value = (lambda v: _num(None if v is None else 100 * v, ".1f") + ("" if v is None else "%")) if share \
            else (lambda v: _num(v, ",.2f"))
        diff = (lambda v: _num(None if v is None else 100 * v, "+.1f") + ("" if v is None else " pt")) if share \
            else (lambda v: _num(v, "+,.2f"))
        interval = "–" if m["ci_low"] is None else f"[{diff(m['ci_low'])}, {diff(m['ci_high'])}]"
        out.append((name, [m["kind"], str(m["n_target"]), str(m["n_control"]), value(m["target"]),
                           value(m["control"]), diff(m["difference"]), interval,
                           "–" if m["relative"] is None else f"{steady(100 * m['relative']):+.1f}%",
                           _num(m["p_value"], ".3g")]))
    return out


def _charts(r: dict) -> list[tuple[str, str, str]]:
    """(id, title, plotly html): per metric, the difference with its interval (error bar)
    and both arms' values."""
    import plotly.graph_objects as go

    config = {"displaylogo": False, "responsive": True}
    charts = []
    for i, (name, m) in enumerate(r["metrics"].items()):
        fig = go.Figure()
        fig.add_bar(x=["target", "control"], y=[m["target"], m["control"]], name=name, marker_color="#4c78a8")
        if m["difference"] is not None:
            err = None if m["ci_low"] is None else dict(type="data", symmetric=False,
                                                        array=[m["ci_high"] - m["difference"]],
                                                        arrayminus=[m["difference"] - m["ci_low"]])
            fig.add_scatter(x=["difference"], y=[m["difference"]], error_y=err, mode="markers",
                            name="difference (95% interval)", marker=dict(size=10, color="#e45756"))
        fig.update_layout(template="plotly_white", margin=dict(l=10, r=10, t=40, b=10), height=320,
                          title=f"{name} ({m['kind']})")
        div = f"segc-lift-{i}"
        charts.append((div, f"{name}: {m['kind']}",
                       fig.to_html(full_html=False, include_plotlyjs=False, div_id=div, config=config)))
    return charts


def render_html(r: dict, project: str = "") -> str:
    import jinja2
    from plotly.offline import get_plotlyjs

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    return env.get_template("lift.html.j2").render(r=r, project=project, rows=table_rows(r),
                                                    charts=_charts(r), plotlyjs=get_plotlyjs())
