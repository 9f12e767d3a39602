"""A `segc report` as text: how its figures read (shared by the terminal table and the
HTML page), and the HTML page itself: the table and its charts (plotly), in one file
that works offline (plotly.js is embedded), written atomically.

    html = render_html(report, project="retail")
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from segc.apps.outputs import steady
from segc.apps.report.measure import ALL, POPULATION, Report, ReportRow, group_label

TEMPLATES = Path(__file__).parent.parent / "templates" / "report"
COLORS = {"current": "#0969da", "previous": "#9ec5f4"}


# ---- how figures read ---------------------------------------------------------------------

def _kind(report: Report, metric: str) -> str:
    """count (whole numbers), share (a percentage) or amount (2 decimals)."""
    if metric in ("size",) or any(k.name == metric and k.kind == "count_of" for k in report.kpis):
        return "count"
    if report.is_share(metric):
        return "share"
    return "amount"


def format_value(report: Report, metric: str, value) -> str:
    if value is None:
        return "—"
    kind = _kind(report, metric)
    if kind == "count":
        return f"{value:,}"
    if kind == "share":
        return f"{value:.1%}"
    return f"{steady(value):,.2f}"


def format_change(report: Report, row: ReportRow, metric: str) -> tuple[str, int]:
    """The change since the previous as-of, and its sign (-1, 0, 1)."""
    c = row.change(metric, report.is_share(metric))
    if c.absolute is None:
        return "", 0
    kind = _kind(report, metric)
    if kind == "share":  # in percentage points: a relative change of a share misleads
        text, sign = _signed(c.absolute * 100, ".1f")
        return text + " pts", sign
    text, sign = _signed(c.absolute, "," if kind == "count" else ",.2f")
    if c.relative is not None:
        text += f" ({_signed(c.relative, '.1%')[0]})"
    return text, sign


def format_target(report: Report, metric: str, check) -> tuple[str, int]:
    """A KPI's target in words, and -1 (missed), 1 (met) or 0 (no value to compare):
    `✓ ≥ 65.0%`, `✗ -2.7 pts vs ≥ 65.0%`, `? ≥ 65.0%` (shares in points, as their change)."""
    bounds = format_bounds(report, metric, check)
    if check.met is None:
        return f"? {bounds}", 0
    if check.met:
        return f"✓ {bounds}", 1
    kind = _kind(report, metric)
    if kind == "share":
        gap = _signed(check.gap * 100, ".1f")[0] + " pts"
    else:
        gap = _signed(check.gap, "," if kind == "count" and float(check.gap).is_integer() else ",.2f")[0]
    return f"✗ {gap} vs {bounds}", -1


def format_bounds(report: Report, metric: str, targets) -> str:
    """`≥ 65.0%`, `≤ 120.00`, `≥ 0.50 and ≤ 0.70`: a KPI's targets as its values read."""
    return " and ".join(f"{sign} {_bound(report, metric, b)}" for sign, b in (("≥", targets.min), ("≤", targets.max))
                        if b is not None)


def _bound(report: Report, metric: str, bound: float) -> str:
    """A target as its KPI's values read (a count's whole target without `.0`)."""
    if _kind(report, metric) == "count":
        return f"{int(bound):,}" if bound.is_integer() else f"{bound:,}"
    return format_value(report, metric, bound)


def _signed(x, spec: str) -> tuple[str, int]:
    """`+1.25` / `-1.25`, and `0.00` without a sign when it rounds to nothing."""
    digits = format(abs(steady(x)), spec)
    if not digits.strip("0.,%"):
        return digits, 0
    return ("+" if x > 0 else "-") + digits, 1 if x > 0 else -1


# ---- the page ---------------------------------------------------------------------------------

@dataclass
class Cell:
    value: str
    change: str
    sign: int
    target: str = ""  # the KPI against its targets (format_target); "" without targets
    target_sign: int = 0


@dataclass
class Line:
    segment: str
    group: str
    is_total: bool
    cells: list[Cell]


def _lines(report: Report) -> list[Line]:
    out = []
    for r in report.rows:
        cells, targets = [], report.targets(r)
        for m in report.metrics:
            change, sign = format_change(report, r, m)
            target, target_sign = format_target(report, m, targets[m]) if m in targets else ("", 0)
            cells.append(Cell(format_value(report, m, r.current.get(m)), change, sign, target, target_sign))
        out.append(Line(r.segment, group_label(r.group), r.group is ALL, cells))
    return out


TOTALS = ("count_of", "sum")  # KPIs that add up over the members: a bigger segment has more


def per_member(kind: str, value, size: int):
    """A KPI as a figure per member: a total (count_of, sum) divided by the size; the other
    kinds (share_of, avg, per_customer) are per member already. A segment's count compared
    with the population's count would rank a small segment where 92% are active below a
    population where 36% are."""
    if value is None or kind not in TOTALS:
        return value
    return value / size if size else None


def kpi_index(report: Report, names: list[str]) -> list[list[float | None]]:
    """For each segment and KPI, its figure per member over the population's (1 = the
    same); None where either is missing or the population's is 0."""
    base = report.row(POPULATION).current
    rows = []
    for n in names:
        cur = report.row(n).current
        row = []
        for k in report.kpis:
            v, b = per_member(k.kind, cur.kpis[k.name], cur.size), per_member(k.kind, base.kpis[k.name], base.size)
            row.append(v / b if v is not None and b else None)
        rows.append(row)
    return rows


def kpi_text(report: Report, kpi, figures) -> str:
    """A heatmap cell: the KPI's value, and for a total its rate per member."""
    value = figures.kpis[kpi.name]
    shown = format_value(report, kpi.name, value)
    rate = per_member(kpi.kind, value, figures.size)
    if kpi.kind == "count_of" and rate is not None:
        return f"{shown} ({rate:.0%})"
    if kpi.kind == "sum" and rate is not None:
        return f"{shown} ({rate:,.2f} per member)"
    return shown


def _figures(report: Report) -> list[tuple[str, str, str]]:
    """(id, title, plotly html) of each chart."""
    import plotly.graph_objects as go

    names = [s for s in report.segments if s != POPULATION]
    layout = dict(template="plotly_white", margin=dict(l=10, r=10, t=40, b=10),
                  font=dict(family="-apple-system, Segoe UI, Helvetica, Arial, sans-serif", size=12),
                  legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0))
    height = max(320, 22 * len(names) + 120)
    charts = []

    sizes = go.Figure(layout=layout)
    for label, attr, as_of in (("previous", "previous", report.previous_as_of), ("current", "current", report.as_of)):
        sizes.add_trace(go.Bar(
            name=f"{as_of.isoformat()}", orientation="h", y=names, marker_color=COLORS[label],
            x=[getattr(report.row(n), attr).size for n in names],
            hovertemplate="%{y}: %{x:,}<extra>" + as_of.isoformat() + "</extra>"))
    sizes.update_layout(barmode="group", height=height, yaxis=dict(autorange="reversed"),
                        xaxis_title="members")
    charts.append(("segc-sizes", "Segment sizes", sizes))

    if report.by is not None and report.groups:
        by_group = go.Figure(layout=layout)
        for g in report.groups:
            by_group.add_trace(go.Bar(
                name=group_label(g), orientation="h", y=names, x=[report.row(n, g).current.size for n in names],
                hovertemplate="%{y}, " + group_label(g) + ": %{x:,}<extra></extra>"))
        by_group.update_layout(barmode="stack", height=height, yaxis=dict(autorange="reversed"),
                               xaxis_title=f"members on {report.as_of.isoformat()}", legend_traceorder="normal")
        charts.append(("segc-by-group", f"Sizes by {report.by}", by_group))

    if report.kpis:
        # each KPI per member as an index against the whole population's (1 = same as the
        # population), so that KPIs of different units share one colour scale
        base = report.row(POPULATION).current
        z, text = kpi_index(report, names), [[kpi_text(report, k, report.row(n).current) for k in report.kpis]
                                             for n in names]
        population_text = [kpi_text(report, k, base) for k in report.kpis]
        kpis = go.Figure(go.Heatmap(
            z=[[1.0] * len(report.kpis)] + z, y=[POPULATION] + names, x=[k.name for k in report.kpis],
            text=[population_text] + text, texttemplate="%{text}", colorscale="RdBu", zmid=1.0,
            zmin=0.0, zmax=2.0, colorbar=dict(title="index", thickness=12),
            hovertemplate="%{y} · %{x}: %{text} (index per member %{z:.2f})<extra></extra>"), layout=layout)
        kpis.update_layout(height=max(320, 22 * (len(names) + 1) + 120), yaxis=dict(autorange="reversed"),
                           xaxis=dict(side="top"))
        charts.append(("segc-kpis", f"KPIs on {report.as_of.isoformat()}, per member against the population "
                                    "(colour: index, 1 = population)", kpis))

    history = go.Figure(layout=layout)
    dates = [h.as_of.isoformat() for h in report.history]
    for n in names:
        history.add_trace(go.Scatter(name=n, x=dates, y=[h.sizes[n] for h in report.history], mode="lines+markers",
                                     hovertemplate=n + " on %{x}: %{y:,}<extra></extra>"))
    history.update_layout(height=460, yaxis_title="members", xaxis=dict(type="category", title="as of"),
                          legend=dict(orientation="v", yanchor="top", y=1, xanchor="left", x=1.02))
    charts.append(("segc-history", f"Sizes over the last {len(report.history)} as-of dates "
                                   f"(every {report.period})", history))
    config = {"displaylogo": False, "responsive": True}
    return [(div, title, fig.to_html(full_html=False, include_plotlyjs=False, div_id=div, config=config))
            for div, title, fig in charts]


def render_html(report: Report, project: str = "") -> str:
    import jinja2
    from plotly.offline import get_plotlyjs

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    return env.get_template("report.html.j2").render(
        report=report, project=project, lines=_lines(report), charts=_figures(report),
        plotlyjs=get_plotlyjs(), population=POPULATION,
        targets={k.name: format_bounds(report, k.name, k.targets) for k in report.kpis if k.targets},
        groups=[group_label(g) for g in report.groups])
