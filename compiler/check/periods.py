"""Periods and the calendar: `last 30 days`, `this month`, ranges of dates -> ir.Window."""
from __future__ import annotations

from segc import ir
from segc.check.reporter import Reported
from segc.check.types import ERROR, TEMPORAL, as_datetime, describe, type_of
from segc.front import ast


class Periods:
    def period(self, p: ast.Period, scope) -> ir.Window:
        asof = ir.AsOf()
        if p.kind in ("last", "next") and p.duration.amount == 0:
            self.warn("W106", f"`{p.kind} {p.duration.text}` holds no time at all: nothing is ever in it",
                      p.span, f"write e.g. `{p.kind} 1 {p.duration.unit}`")
        if p.kind == "last":
            return ir.Window(shift(asof, -p.duration.amount, p.duration.unit), asof)
        if p.kind == "next":
            return ir.Window(asof, shift(asof, p.duration.amount, p.duration.unit))
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
                self.error("E301", f"a range needs dates; this is {describe(type_of(v))}", n.span)
                raise Reported
        if isinstance(lo, ir.Const) and isinstance(hi, ir.Const) and as_datetime(lo.value) > as_datetime(hi.value):
            self.warn("W105", "this range ends before it starts: it contains no time at all", p.span,
                      "write the earlier date first")
        # both days included: up to the start of the day after the end
        return ir.Window(lo, shift(hi, 1, "day") if type_of(hi) == "date" else hi)


def shift(base: ir.Value, amount: int, unit: str) -> ir.Value:
    if unit == "week":
        amount, unit = amount * 7, "day"
    return ir.DateShift(base, amount, unit)