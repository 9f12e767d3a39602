"""Periods and the calendar: `last 30 days`, `this month`, ranges of dates -> ir.Window."""
from __future__ import annotations

from segc import ir
from segc.check.reporter import Reported
from segc.check.types import ERROR, TEMPORAL, as_datetime, describe, type_of
from segc.front import ast


class Periods:
    experiment_window: ir.Window | None = None  # `during experiment`, set while an experiment's metrics are checked

    def period(self, p: ast.Period, scope) -> ir.Window:
        if p.kind == "experiment":
            if self.experiment_window is None:
                self.error("E310", "`during experiment` is only meaningful in an experiment's metrics", p.span,
                           "write the metric under `experiments: NAME: metrics:` in segc.yml, or give the dates: "
                           "`during 2024-03-01 to 2024-03-31`")
                raise Reported
            return self.experiment_window
        asof = ir.AsOf()
        if p.kind in ("last", "next") and p.duration.amount == 0:
            self.warn("W106", f"`{p.kind} {p.duration.text}` holds no time at all: nothing is ever in it",
                      p.span, f"write e.g. `{p.kind} 1 {p.duration.unit}`")
        if p.kind == "last":
            return ir.Window(self.shifted(asof, -p.duration.amount, p.duration.unit, p.span), asof)
        if p.kind == "next":
            return ir.Window(asof, self.shifted(asof, p.duration.amount, p.duration.unit, p.span))
        if p.kind in ("this", "previous"):
            unit = p.unit.rstrip("s")
            if unit == "day" or p.unit.endswith("s"):
                self.error("E306", f"`{'last' if p.kind == 'previous' else 'this'} {p.unit}` is not a "
                           "calendar period", p.span, "calendar periods are week, month and year; "
                           "for days write e.g. `last 7 days`")
                raise Reported
            start = ir.Func("trunc_" + unit, (asof,), "date")
            if p.kind == "this":
                return ir.Window(start, shift(start, 1, unit))
            return ir.Window(shift(start, -1, unit), start)
        lo, hi = self.all_of((p.start, p.end), lambda n: self.value(n, scope))
        for v, n in ((lo, p.start), (hi, p.end)):
            if type_of(v) not in TEMPORAL + (ERROR,):
                self.error("E301", f"a range needs dates; this is {describe(type_of(v))}", n.span,
                           "dates are written without quotes: `between 2024-01-01 and 2024-03-31`")
                raise Reported
        if isinstance(lo, ir.Const) and isinstance(hi, ir.Const) and as_datetime(lo.value) > as_datetime(hi.value):
            self.warn("W105", "this range ends before it starts: it contains no time at all", p.span,
                      "write the earlier date first")
        # both days included: up to the start of the day after the end
        return ir.Window(lo, self.shifted(hi, 1, "day", p.end.span) if type_of(hi) == "date" else hi)

    def shifted(self, base: ir.Value, amount: int, unit: str, span) -> ir.Value:
        """`base` moved by a duration, refused (E309) if it can leave the supported dates:
        a fixed date is moved here; any other (the as-of, a feature) may move at most
        ir.MAX_SHIFT_YEARS in all, which keeps an as-of of ir.AS_OF_RANGE in range."""
        out = shift(base, amount, unit)
        v, years = out, 0.0
        while isinstance(v, ir.DateShift):
            years += ir.shift_years(v.amount, v.unit)
            v = v.base
        problem = None
        if years > ir.MAX_SHIFT_YEARS:
            problem = f"this moves a date by more than {ir.MAX_SHIFT_YEARS} years"
        elif isinstance(v, ir.Const) and type_of(v) in TEMPORAL:
            try:
                fold_shifts(out)
            except ir.DateOutOfRange as e:
                problem = str(e)
        if problem:
            self.error("E309", problem, span, ir.DATE_RANGE_HINT)
            raise Reported
        return out


def fold_shifts(v: ir.Value):
    """The date of shifts of a literal date (DateOutOfRange outside the supported dates)."""
    if isinstance(v, ir.DateShift):
        return ir.shift_date(fold_shifts(v.base), v.amount, v.unit)
    return v.value


def shift(base: ir.Value, amount: int, unit: str) -> ir.Value:
    if unit == "week":
        amount, unit = amount * 7, "day"
    return ir.DateShift(base, amount, unit)