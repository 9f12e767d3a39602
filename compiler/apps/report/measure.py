"""`segc report`: for each segment (and the whole population), its size, its share and
every KPI of segc.yml, at the as-of date and one period earlier, optionally broken down
by a dimension (a string or bool feature such as `country`); plus the segments' sizes at
the as-of dates of the last N periods.

    report = build_report(project, ["loyal_big_basket"], by="country", period="30 days")

One query per as-of date: an inner query computes, per customer of the population, the
dimension's value, a 0/1 flag per segment and per KPI condition and each KPI's value;
the outer query aggregates them for every segment x KPI with conditional aggregation,
grouped by the dimension. Totals over the dimension's values are added up here, so the
`(all)` rows need no second scan. Averages are carried as (sum, count) for that reason,
ratios as (sum of the numerator, sum of the denominator): the division is done here, once
the sums are final, so no engine or dialect ever divides by zero.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlglot import exp

from segc.front import ast

from segc import ir
from segc.front.errors import Diagnostic, SegcError, suggest
from segc.check.kpis import Kpi
from segc.apps.report.targets import TargetCheck, check_target
from segc.check.targets import Takes
from segc.check.policy import sensitive_reads
from segc.backend.lower import Lowerer
from segc.backend.moments import float_sum
from segc.backend.trees import col, flag, ident
from segc.preview import require_unique_keys, too_few
from segc.schema.segc_yml import parse_window

REPORT = Takes("segc report")  # a segmentation reports as its branches, one row each
POPULATION = "(population)"  # the row of the whole population (every customer of it)


class _All:
    """The group of the total over every value of the dimension (not a value of it)."""

    def __repr__(self) -> str:
        return "(all)"


ALL = _All()


class _Other:
    """The group of every value shared by fewer than `min_group` members (segc.yml): such
    a value may be one person's (a postcode, a name) and is never printed."""

    def __repr__(self) -> str:
        return "(other)"


OTHER = _Other()
MISSING = "(missing)"  # label of customers whose dimension value is missing
DEFAULT_PERIOD = "30 days"
DEFAULT_PERIODS = 6
MAX_PERIODS = 60


@dataclass(frozen=True)
class Change:
    absolute: float | int | None
    relative: float | None  # None where it means little: shares, or a previous value of 0


@dataclass(frozen=True)
class Figures:
    """A segment's figures in one group at one as-of date."""
    size: int
    share: float | None  # of the group's population
    kpis: dict[str, float | int | None]

    def get(self, metric: str):
        if metric == "size":
            return self.size
        if metric == "share":
            return self.share
        return self.kpis[metric]


@dataclass(frozen=True)
class ReportRow:
    segment: str  # a segment name, `segmentation.branch`, or POPULATION
    group: object  # the dimension's value (None: missing), or ALL
    current: Figures
    previous: Figures

    def change(self, metric: str, share: bool = False) -> Change:
        now, before = self.current.get(metric), self.previous.get(metric)
        if now is None or before is None:
            return Change(None, None)
        relative = None if share or metric == "share" or before == 0 else (now - before) / abs(before)
        return Change(now - before, relative)


@dataclass(frozen=True)
class HistoryPoint:
    as_of: dt.date
    population: int
    sizes: dict[str, int]


@dataclass(frozen=True)
class Report:
    as_of: dt.date
    previous_as_of: dt.date
    period: str
    by: str | None
    segments: list[str]  # POPULATION first, then the segments in the order asked
    groups: list  # the dimension's values, sorted (missing last); [] without a dimension
    kpis: list[Kpi]
    rows: list[ReportRow]  # per segment: the ALL row, then one per group
    history: list[HistoryPoint] = field(default_factory=list)  # oldest first, ends at as_of

    @property
    def metrics(self) -> list[str]:
        return ["size", "share", *(k.name for k in self.kpis)]

    def is_share(self, metric: str) -> bool:
        return metric == "share" or any(k.name == metric and k.is_share for k in self.kpis)

    def targets(self, row: ReportRow) -> dict[str, TargetCheck]:
        """The row's current value of each KPI that has `targets:`, against them."""
        return {k.name: check_target(k.targets, row.current.kpis[k.name]) for k in self.kpis if k.targets}

    def row(self, segment: str, group=ALL) -> ReportRow:
        for r in self.rows:
            if r.segment == segment and (r.group is ALL if group is ALL else r.group is not ALL and r.group == group):
                return r
        raise KeyError((segment, group))

    def to_dict(self) -> dict:
        def figures(f: Figures) -> dict:
            return {"size": f.size, "share": f.share, "kpis": dict(f.kpis)}

        rows = []
        for r in self.rows:
            change = {m: r.change(m, self.is_share(m)) for m in self.metrics}
            rows.append({"segment": r.segment, "group": group_label(r.group), "group_kind": group_kind(r.group),
                         **figures(r.current),
                         "previous": figures(r.previous),
                         "change": {m: {"absolute": c.absolute, "relative": c.relative} for m, c in change.items()},
                         "targets": {m: t.to_dict() for m, t in self.targets(r).items()}})
        return {"as_of": self.as_of.isoformat(), "previous_as_of": self.previous_as_of.isoformat(),
                "period": self.period, "by": self.by, "kpis": [k.to_dict() for k in self.kpis],
                "rows": rows,
                "history": [{"as_of": h.as_of.isoformat(), "population": h.population, "sizes": h.sizes}
                            for h in self.history]}


def group_kind(value) -> str:
    """What a row's group is, for machines: a label such as `(missing)` may also be a value
    a customer typed: "all" (every value), "missing", "other" (values under min_group
    together) or "value"."""
    return "all" if value is ALL else "other" if value is OTHER else "missing" if value is None else "value"


def group_label(value) -> str:
    if value is ALL:
        return "(all)"
    if value is OTHER:
        return "(other)"
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_period(text: str) -> ast.Duration:
    d = parse_window(text or "")
    if d is None or d.amount == 0:
        why = "must be at least 1 day" if d is not None else "is not a duration"  # `0 days` is one, but empty
        raise SegcError(Diagnostic("E946", f"--period `{text}` {why}",
                                   hints=("write e.g. `30 days`, `4 weeks`, `1 month`, `1 year`",)))
    return d


# ---- checking what was asked ------------------------------------------------------------

def _select_kpis(project, names: list[str] | None) -> list[Kpi]:
    if names is None:
        return list(project.kpis.values())
    out = []
    for n in names:
        if n not in project.kpis:
            close = suggest(n, project.kpis)
            hint = (f"did you mean `{close}`?" if close else
                    "declared KPIs: " + ", ".join(project.kpis) if project.kpis else
                    "no KPI is declared: add `kpis:` to segc.yml")
            raise SegcError(Diagnostic("E940", f"unknown KPI `{n}`", hints=(hint,)))
        if project.kpis[n] not in out:
            out.append(project.kpis[n])
    return out


def _check_dimension(project, by: str) -> None:
    features = project.schema.features
    f = features.get(by)
    if f is None:
        close = suggest(by, features)
        raise SegcError(Diagnostic("E943", f"unknown feature `{by}` for --by",
                                   hints=(f"did you mean `{close}`?" if close else
                                          "--by takes a string or bool feature of segc.yml, e.g. a country",)))
    if sensitive_reads(project.schema, [by]):  # the one policy: report --by serves every segment
        raise SegcError(Diagnostic("E945", f"`{by}` is a sensitive feature: a report is never broken down by it",
                                   hints=("choose another dimension; sensitive features never appear in any output",)))
    if f.type not in ("string", "bool"):
        raise SegcError(Diagnostic("E944", f"`{by}` is {'an' if f.type == 'int' else 'a'} {f.type}: "
                                   "--by takes a string or bool feature",
                                   hints=("a number would make one group per value; define a segmentation of "
                                          "tiers and report its branches instead",)))


# ---- the queries --------------------------------------------------------------------------

@dataclass
class _Sums:
    """What one query returns for one segment in one group; adds up over groups."""
    size: int = 0
    kpis: dict = field(default_factory=dict)  # name -> count, sum, or (sum, count)

    def add(self, other: _Sums) -> None:
        self.size += other.size
        for name, v in other.kpis.items():
            mine = self.kpis.get(name)
            if isinstance(v, tuple):  # avg: (sum, count); ratio: (sum, sum)
                self.kpis[name] = tuple(_plus(a, b) for a, b in zip(mine or (None,) * len(v), v))
            else:
                self.kpis[name] = _plus(mine, v)


def _plus(a, b):
    return b if a is None else a if b is None else a + b


def _query(project, preds: list[ir.Pred], kpis: list[Kpi], by: str | None, as_of: dt.date):
    """One scan: per group, the population and every segment x KPI sum."""
    dim = project.feature_values([by])[by] if by else None

    def inner_select(lw: Lowerer):
        out = []
        if dim is not None:
            out.append(exp.alias_(lw.value(dim), ident("segc_dim")))
        for i, p in enumerate(preds):
            out.append(exp.alias_(flag(lw.pred(p)), ident(f"segc_s{i}")))
        for j, k in enumerate(kpis):
            out.append(exp.alias_(flag(lw.pred(k.pred)) if k.pred is not None else lw.value(k.value),
                                  ident(f"segc_k{j}")))
            if k.denominator is not None:
                out.append(exp.alias_(lw.value(k.denominator), ident(f"segc_d{j}")))
        return out, None

    inner = project.lowerer(as_of).query(project.checked.population, inner_select)
    projections = []
    if dim is not None:
        projections.append(col("segc_dim"))
    projections.append(exp.alias_(exp.Count(this=exp.Star()), ident("segc_population")))
    for i in range(len(preds)):
        member = exp.EQ(this=col(f"segc_s{i}"), expression=exp.Literal.number(1))
        projections.append(exp.Sum(this=col(f"segc_s{i}")))
        for j, k in enumerate(kpis):
            kpi = col(f"segc_k{j}")
            if k.pred is not None:
                projections.append(exp.Sum(this=exp.Mul(this=col(f"segc_s{i}"), expression=kpi)))
                continue
            inside = exp.Case(ifs=[exp.If(this=member.copy(), true=kpi)])
            projections.append(_sum(inside, k.value.type))
            if k.kind == "avg":
                projections.append(exp.Count(this=inside.copy()))
            if k.denominator is not None:  # the two sums; divided in Python, after the totals
                projections.append(_sum(exp.Case(ifs=[exp.If(this=member.copy(), true=col(f"segc_d{j}"))]),
                                        k.denominator.type))
    q = exp.select(*projections).from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=ident("segc_flags"))))
    if dim is not None:
        q = q.group_by(col("segc_dim"))
    return q


def _sum(value: exp.Expression, type_: str) -> exp.Sum:
    """SUM; of floats, the same bits on every run (moments.float_sum), so that a report is
    reproducible."""
    return float_sum(value) if type_ == "float" else exp.Sum(this=value)


def _run(project, preds, kpis, by, as_of) -> dict[object, tuple[int, list[_Sums]]]:
    """{group: (population, [sums per segment])}; the one group is ALL without a dimension."""
    require_unique_keys(project, as_of)
    rows = project.run(_query(project, preds, kpis, by, as_of))
    out = {}
    for row in rows:
        it = iter(row)
        group = next(it) if by else ALL
        population = int(next(it) or 0)
        per_segment = []
        for _p in preds:
            sums = _Sums(int(next(it) or 0))
            for k in kpis:
                if k.kind == "avg":
                    total, n = next(it), next(it)
                    sums.kpis[k.name] = (total, int(n or 0))
                elif k.kind == "ratio":
                    sums.kpis[k.name] = (next(it), next(it))  # sum of the numerator, of the denominator
                elif k.pred is not None:
                    sums.kpis[k.name] = int(next(it) or 0)
                else:
                    sums.kpis[k.name] = next(it)
            per_segment.append(sums)
        out[group] = (population, per_segment)
    # in a fixed order: the totals add the groups' float sums up in Python, and the engine
    # returns its groups in any order (the `(all)` row's last digits changed between runs)
    return dict(sorted(out.items(), key=lambda item: (item[0] is None, str(item[0]))))


def _figures(sums: _Sums, population: int, kpis: list[Kpi], min_group: int) -> Figures:
    """A row's size, share and KPIs; the KPIs of fewer than `min_group` members are not
    shown (None), as a rare value is not: a one-member segment's average basket is its
    member's, its `count_of` whether they meet the condition."""
    size = sums.size
    values = {}
    if too_few(size, population, min_group):
        return Figures(size, size / population if population else None, {k.name: None for k in kpis})
    for k in kpis:
        v = sums.kpis.get(k.name)
        if k.kind == "count_of":
            values[k.name] = v or 0
        elif k.kind == "share_of":
            values[k.name] = (v or 0) / size if size else None
        elif k.kind == "sum":
            values[k.name] = v if v is not None else 0
        elif k.kind == "per_customer":
            values[k.name] = (v or 0) / size if size else None
        elif k.kind == "ratio":  # missing (not a division error) when the denominators add up to 0
            numerator, denominator = v if v else (None, None)
            values[k.name] = (numerator or 0) / denominator if denominator else None
        else:  # avg: over the members where the value is present
            total, n = v if v else (None, 0)
            values[k.name] = total / n if n else None
    return Figures(size, size / population if population else None, values)


def _merge(groups: dict, small: set, n: int) -> dict:
    """The groups with those in `small` added up into OTHER (when there are any)."""
    out = {g: v for g, v in groups.items() if g not in small}
    if small & set(groups):
        out[OTHER] = _totals({g: v for g, v in groups.items() if g in small}, n)
    return out


def _totals(groups: dict[object, tuple[int, list[_Sums]]], n: int) -> tuple[int, list[_Sums]]:
    population, sums = 0, [_Sums() for _ in range(n)]
    for pop, per_segment in groups.values():
        population += pop
        for total, s in zip(sums, per_segment):
            total.add(s)
    return population, sums


def _report_dates(current: dt.date, step, periods: int, period: str) -> list[dt.date]:
    """The as-of dates of the sizes over time; each one a supported as-of (E946)."""
    try:
        dates = [ir.shift_date(current, -k * step.amount, step.unit) for k in range(periods)]
    except ir.DateOutOfRange:
        dates = []
    if not dates or ir.as_of_problem(dates[-1]):
        raise SegcError(Diagnostic("E946", f"{periods} periods of --period `{period}` before {current.isoformat()} "
                                   "leave the supported dates", hints=(ir.DATE_RANGE_HINT,)))
    return dates


def _today(project) -> dt.date:
    """The engine's current date, for a report without a pinned as-of."""
    from segc.backend.render import render

    value = project.engine.execute(render(exp.select(exp.CurrentDate()), project.engine.dialect, pretty=False))[0][0]
    return value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else \
        value.date() if isinstance(value, dt.datetime) else dt.date.fromisoformat(str(value)[:10])


# ---- the report -------------------------------------------------------------------------------

def build_report(project, names: list[str] | None = None, kpis: list[str] | None = None,
                 by: str | None = None, period: str = DEFAULT_PERIOD, as_of=None,
                 periods: int = DEFAULT_PERIODS) -> Report:
    """Sizes, shares and KPIs of segments at the as-of and one period earlier (by a
    dimension), and their sizes over the last `periods` as-of dates. Raises SegcError."""
    targets = list({t.name: t for t in project.targets(names or project.segment_names, REPORT)}.values())
    names = [t.name for t in targets]
    if not names:
        raise SegcError(Diagnostic("E211", "there are no segments to report on",
                                   hints=("define segments in segments/*.seg",)))
    chosen = _select_kpis(project, kpis)
    if by is not None:
        _check_dimension(project, by)
    step = parse_period(period)
    if not isinstance(periods, int) or not 2 <= periods <= MAX_PERIODS:
        raise SegcError(Diagnostic("E947", f"--periods must be between 2 and {MAX_PERIODS}",
                                   hints=("the sizes-over-time chart shows this many as-of dates, one query each",)))
    current = project.as_of if as_of is None else project.as_of_date(as_of)
    if current is None:  # rolling: the engine's today, so that both dates are pinned
        current = _today(project)
    dates = _report_dates(current, step, periods, period)
    segments = [POPULATION, *names]
    preds = [ir.TRUE] + [t.pred for t in targets]

    now = _run(project, preds, chosen, by, dates[0])
    before = _run(project, preds, chosen, by, dates[1])
    small = {g for g in (*now, *before) if g is not ALL and any(0 < run[g][0] < project.schema.min_group
                                                                for run in (now, before) if g in run)}
    now, before = _merge(now, small, len(preds)), _merge(before, small, len(preds))
    group_values = sorted({g for g in (*now, *before) if g is not ALL},
                          key=lambda v: (v is OTHER, v is None, str(v) if v is not None else ""))
    empty = (0, [_Sums() for _ in preds])
    rows = []
    for i, seg in enumerate(segments):
        scopes = [(ALL, _totals(now, len(preds)), _totals(before, len(preds)))]
        scopes += [(g, now.get(g, empty), before.get(g, empty)) for g in group_values]
        for group, (pop_now, sums_now), (pop_before, sums_before) in scopes:
            rows.append(ReportRow(seg, group, _figures(sums_now[i], pop_now, chosen, project.schema.min_group),
                                  _figures(sums_before[i], pop_before, chosen, project.schema.min_group)))

    history = []
    for d in reversed(dates):
        if d in (dates[0], dates[1]):
            pop, sums = _totals(now if d == dates[0] else before, len(preds))
        else:
            pop, sums = _totals(_run(project, preds, [], None, d), len(preds))
        history.append(HistoryPoint(d, pop, {seg: s.size for seg, s in zip(segments, sums)}))
    return Report(dates[0], dates[1], step.text, by, segments, group_values, chosen, rows, history)
