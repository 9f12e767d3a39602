"""A small pure-Python reference interpreter for checked segc conditions (`ir.Pred`).

It follows DESIGN.md §3 literally, over in-memory rows, and knows nothing about SQL:

- a segment is a set of entities of the population (the base minus `population`; with
  the base's `time:`, only the entities that joined before the as-of);
- an atomic condition on a missing value (None, or a float NaN) is false; `not` is the
  complement;
- numbers are exact (`Fraction`): real division, division by zero is missing, `%` has
  the sign of the dividend;
- string operators are literal and case-sensitive;
- dates: `days_since` counts calendar days, month/year arithmetic clamps to month ends;
- aggregates only see events with `time < as_of`, a window keeps `lo <= time < hi`;
  count/sum of nothing is 0, avg/min/max of nothing is missing;
- `top p% by f`: among the population entities whose `f` is present, the share of
  values >= f (bottom: <= f) is <= p; `quantile_score(f, n)` = ceil(n * share <= f).
- `holdout p% seed s`: the first 4 bytes of md5(s + ":" + str(key)) as an unsigned
  integer are < floor(p/100 * 2^32) (never missing: the key never is).

Engines compute with binary floating point; the reference with exact fractions. Where the
two can legitimately disagree (a comparison or a rank tie decided by rounding; `lower`/
`upper` of non-ASCII text, which the engines map differently), evaluating raises
`Ambiguous` for that entity, and the tests leave that entity out of the comparison.
Nothing here is shared with `segc.backend.lower`; only the checked tree (`segc.ir`) is read.

    world = World(entities={1: {"age": 30, ...}}, events={"orders": [{...}, ...]},
                  as_of=dt.date(2024, 3, 31), schema=project.schema)
    members, unknown = evaluate(world, pred, population)
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from segc import ir


class Ambiguous(Exception):
    """The answer depends on floating-point rounding or on an engine's case mapping."""


TOLERANCE = Fraction(1, 10**9)


# ---------------------------------------------------------------- calendar arithmetic

def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def add_months(d, months: int):
    """Calendar months; the day is clamped to the month's end (Mar 31 - 1 month = Feb 29)."""
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    day = min(d.day, days_in_month(year, month0 + 1))
    return d.replace(year=year, month=month0 + 1, day=day)


def shift(d, amount: int, unit: str):
    if unit == "day":
        return d + dt.timedelta(days=amount)
    if unit == "week":
        return d + dt.timedelta(days=7 * amount)
    if unit == "month":
        return add_months(d, amount)
    if unit == "year":
        return add_months(d, 12 * amount)
    raise ValueError(unit)


def as_datetime(v):
    """A date stands for its midnight when it meets a timestamp."""
    if isinstance(v, dt.datetime):
        return v
    return dt.datetime(v.year, v.month, v.day)


def date_of(v) -> dt.date:
    return v.date() if isinstance(v, dt.datetime) else v


# ------------------------------------------------------------------------ the data

@dataclass
class World:
    """entities: key -> {feature name -> value} (base and sql features; None = missing).
    events: source name -> rows {column -> value} (the key and time columns included).
    Numbers may be int/float; they are made exact here."""
    entities: dict[Any, dict[str, Any]]
    events: dict[str, list[dict[str, Any]]]
    as_of: dt.date
    schema: Any  # segc Schema: sources' key and time columns
    # key -> when the entity joined (the base's `time:` column; None = always): only those
    # that joined before the as-of belong to the population (DESIGN §8.2)
    joined: dict[Any, Any] = field(default_factory=dict)
    _events_by_key: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.entities = {k: {n: _exact(v) for n, v in row.items()} for k, row in self.entities.items()}
        for name, rows in self.events.items():
            src = self.schema.sources[name]
            by_key: dict[Any, list] = {}
            for row in rows:
                by_key.setdefault(row.get(src.key), []).append({n: _exact(v) for n, v in row.items()})
            self._events_by_key[name] = by_key


def _exact(v):
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        return Fraction(v)
    if isinstance(v, float):
        if math.isnan(v):
            return None  # NaN is missing, everywhere (issue 15)
        return Fraction(v)  # stored doubles are exactly this value
    return v


# ------------------------------------------------------------------------ evaluation

@dataclass(frozen=True)
class Num:
    """A number and whether floating-point engines may have rounded it."""
    value: Fraction
    inexact: bool = False


def evaluate(world: World, pred: ir.Pred, population: ir.Pred = ir.TRUE):
    """(members, unknown): the entities of the population satisfying `pred`, and those
    whose membership the engines may legitimately decide either way."""
    ev = Evaluator(world, population)
    members, unknown = set(), set()
    for key in ev.population:
        try:
            if ev.holds(pred, key):
                members.add(key)
        except Ambiguous:
            unknown.add(key)
    return members, unknown


def label(world: World, branches, population: ir.Pred = ir.TRUE):
    """A segmentation (first match wins; `None` is `else`): {key: branch}, unknown keys."""
    ev = Evaluator(world, population)
    out, unknown = {}, set()
    for key in ev.population:
        try:
            for name, pred in branches:
                if pred is None or ev.holds(pred, key):
                    out[key] = name
                    break
        except Ambiguous:
            unknown.add(key)
    return out, unknown


class Evaluator:
    def __init__(self, world: World, population: ir.Pred):
        self.world = world
        self.rank_cache: dict = {}
        self.population = [key for key in world.entities
                           if self._joined(key) and self._holds(population, {"key": key})]

    def _joined(self, key) -> bool:
        since = self.world.joined.get(key)
        return since is None or as_datetime(since) < as_datetime(self.world.as_of)

    def holds(self, pred: ir.Pred, key) -> bool:
        return self._holds(pred, {"key": key})

    # ---- conditions: True / False, or Ambiguous ----
    def _holds(self, p: ir.Pred, env) -> bool:
        if isinstance(p, ir.Bool):
            return p.value
        if isinstance(p, ir.Not):
            return not self._holds(p.operand, env)
        if isinstance(p, (ir.And, ir.Or)):
            want = isinstance(p, ir.Or)  # the value that decides: or -> True, and -> False
            ambiguous = False
            for item in p.items:
                try:
                    if self._holds(item, env) == want:
                        return want
                except Ambiguous:
                    ambiguous = True
            if ambiguous:
                raise Ambiguous
            return not want
        if isinstance(p, ir.Cmp):
            a, b = self._value(p.left, env), self._value(p.right, env)
            if a is None or b is None:
                return False
            return _compare(p.op, a, b)
        if isinstance(p, ir.IsTrue):
            v = self._value(p.value, env)
            return v is True
        if isinstance(p, ir.InSet):
            x = self._value(p.operand, env)
            if x is None:
                return False
            found = False
            ambiguous = False
            for item in p.items:
                try:
                    if _compare("=", x, self._value(item, env)):
                        found = True
                        break
                except Ambiguous:
                    ambiguous = True
            if not found and ambiguous:
                raise Ambiguous
            return found != p.negated
        if isinstance(p, ir.Missing):
            present = self._value(p.operand, env) is not None
            return present == p.present
        if isinstance(p, ir.Match):
            x = self._value(p.operand, env)
            if x is None:
                return False
            if p.kind == "contains":
                return p.pattern in x
            if p.kind == "starts":
                return x.startswith(p.pattern)
            if p.kind == "ends":
                return x.endswith(p.pattern)
            if p.kind == "matches":
                return _regex_search(p.pattern, x)
            raise ValueError(p.kind)
        if isinstance(p, ir.Top):
            return self._top(p, env)
        if isinstance(p, ir.TopN):
            return self._top_n(p, env)
        if isinstance(p, ir.Holdout):
            return _in_holdout(p.seed, env["key"], p.percent)
        raise TypeError(f"reference: unknown condition {p!r}")

    # ---- ranking, among the population's present values ----
    def _ranked(self, by: ir.Value):
        cache = self.rank_cache
        if by not in cache:
            values, ambiguous = [], False
            for key in self.population:
                try:
                    v = self._value(by, {"key": key})
                except Ambiguous:
                    ambiguous = True
                    continue
                if v is not None:
                    values.append(v)
            if not ambiguous:
                ambiguous = _ties_fragile(values)
            cache[by] = ([_plain(v) for v in values], ambiguous)
        return cache[by]

    def _top(self, p: ir.Top, env) -> bool:
        x = self._value(p.by, env)
        if x is None:
            return False
        values, ambiguous = self._ranked(p.by)
        if ambiguous:
            raise Ambiguous
        x = _plain(x)
        if p.direction == "top":
            count = sum(1 for v in values if v >= x)
        else:
            count = sum(1 for v in values if v <= x)
        share = Fraction(repr(p.percent)) / 100
        return Fraction(count, len(values)) <= share

    def _top_n(self, p: ir.TopN, env) -> bool:
        """Fewer than n present values strictly better than this one (ties go in together)."""
        x = self._value(p.by, env)
        if x is None:
            return False
        values, ambiguous = self._ranked(p.by)
        if ambiguous:
            raise Ambiguous
        x = _plain(x)
        better = sum(1 for v in values if (v > x if p.direction == "top" else v < x))
        return better < p.n

    def _quantile(self, q: ir.Quantile, env):
        x = self._value(q.by, env)
        if x is None:
            return None
        values, ambiguous = self._ranked(q.by)
        if ambiguous:
            raise Ambiguous
        x = _plain(x)
        le = sum(1 for v in values if v <= x)
        return Num(Fraction(math.ceil(Fraction(q.n * le, len(values)))))

    # ---- values: None (missing), Num, str, bool, date, datetime ----
    def _value(self, v: ir.Value, env):
        if isinstance(v, ir.Const):
            if v.type in ("int", "float"):
                return Num(Fraction(repr(v.value)) if isinstance(v.value, float) else Fraction(v.value))
            if v.type == "timestamp" and not isinstance(v.value, dt.datetime):
                return as_datetime(v.value)
            return v.value
        if isinstance(v, ir.Col):
            row = env["event"] if v.scope == "event" else self.world.entities[env["key"]]
            return _num(row.get(v.name))
        if isinstance(v, ir.AsOf):
            return self.world.as_of
        if isinstance(v, ir.DateShift):
            base = self._value(v.base, env)
            return None if base is None else shift(base, v.amount, v.unit)
        if isinstance(v, ir.Neg):
            x = self._value(v.operand, env)
            return None if x is None else Num(-x.value, x.inexact)
        if isinstance(v, ir.Arith):
            return self._arith(v, env)
        if isinstance(v, ir.Func):
            return self._func(v, env)
        if isinstance(v, ir.Agg):
            return self._agg(v, env)
        if isinstance(v, ir.Quantile):
            return self._quantile(v, env)
        raise TypeError(f"reference: unknown value {v!r}")

    def _arith(self, v: ir.Arith, env):
        a, b = self._value(v.left, env), self._value(v.right, env)
        if a is None or b is None:
            return None
        inexact = a.inexact or b.inexact
        x, y = a.value, b.value
        if v.op == "+":
            return Num(x + y, inexact)
        if v.op == "-":
            return Num(x - y, inexact)
        if v.op == "*":
            return Num(x * y, inexact)
        if v.op == "/":
            if y == 0:
                return None
            q = x / y
            return Num(q, inexact or not _binary_exact(q))
        if v.op == "%":
            if y == 0:
                return None
            r = abs(x) % abs(y)  # integers: the remainder takes the dividend's sign
            return Num(r if x >= 0 else -r, inexact)
        raise ValueError(v.op)

    def _func(self, v: ir.Func, env):
        name = v.name
        if name == "coalesce":
            for a in v.args:
                x = self._value(a, env)
                if x is not None:
                    return _coerce_like(x, v.type)
            return None
        args = [self._value(a, env) for a in v.args]
        if any(a is None for a in args):
            return None
        x = args[0]
        if name in ("least", "greatest"):
            values = [_coerce_like(a, v.type) for a in args]
            if isinstance(values[0], Num):
                _check_order_fragile(values)
                best = (min if name == "least" else max)(values, key=lambda n: n.value)
                return Num(best.value, any(n.inexact for n in values))
            if all(isinstance(a, dt.date) for a in values) and any(isinstance(a, dt.datetime) for a in values):
                values = [as_datetime(a) for a in values]
            return (min if name == "least" else max)(values)
        if name == "lower" or name == "upper":
            mapped = x.lower() if name == "lower" else x.upper()
            ascii_only = "".join(c.lower() if name == "lower" and "A" <= c <= "Z" else
                                 c.upper() if name == "upper" and "a" <= c <= "z" else c for c in x)
            if mapped != ascii_only:
                raise Ambiguous  # engines differ on non-ASCII case mapping
            return mapped
        if name == "length":
            return Num(Fraction(len(x)))
        if name == "trim":
            return x.strip(" ")
        if name == "abs":
            return Num(abs(x.value), x.inexact)
        if name in ("floor", "ceil"):
            if x.inexact and abs(x.value - round(x.value)) <= TOLERANCE:
                raise Ambiguous
            return Num(Fraction(math.floor(x.value) if name == "floor" else math.ceil(x.value)))
        if name == "round":
            digits = int(args[1].value) if len(args) > 1 else 0
            scale = Fraction(10) ** digits
            y = abs(x.value) * scale
            if x.inexact and abs(y - math.floor(y) - Fraction(1, 2)) <= TOLERANCE:
                raise Ambiguous
            n = math.floor(y + Fraction(1, 2))  # half away from zero
            r = (n if x.value >= 0 else -n) / scale
            return Num(Fraction(r), not _binary_exact(Fraction(r)))
        if name == "days_since":
            return Num(Fraction((self.world.as_of - date_of(x)).days))
        if name == "year_of":
            return Num(Fraction(x.year))
        if name == "month_of":
            return Num(Fraction(x.month))
        if name.startswith("trunc_"):
            d = date_of(x)
            unit = name[6:]
            if unit == "month":
                return d.replace(day=1)
            if unit == "year":
                return d.replace(month=1, day=1)
            if unit == "week":
                return d - dt.timedelta(days=d.weekday())  # weeks start on Monday
        raise TypeError(f"reference: unknown function {name}")

    def _sequence_holds(self, a: ir.Agg, x, key) -> bool:
        """DESIGN §8.1: is there a Y event (not x itself: rows are told apart by identity,
        so identical duplicates follow each other) with t_x <= t_y <= t_x + D (preceded:
        t_x - D <= t_y <= t_x), before the as-of; `not followed by`: none."""
        seq = a.sequence
        schema = self.world.schema
        t_x = as_datetime(x[schema.sources[a.source].time])
        y_time = schema.sources[seq.source].time
        lo, hi = (shift(t_x, -seq.amount, seq.unit), t_x) if seq.kind == "preceded" else \
            (t_x, shift(t_x, seq.amount, seq.unit))
        as_of = as_datetime(self.world.as_of)
        for y in self.world._events_by_key.get(seq.source, {}).get(key, []):
            t = y.get(y_time)
            if y is x or t is None or not as_datetime(t) < as_of or not lo <= as_datetime(t) <= hi:
                continue
            if seq.where is None or self._holds(seq.where, {"key": key, "event": y}):
                return seq.kind != "not_followed"
        return seq.kind == "not_followed"

    def _agg(self, a: ir.Agg, env):
        src = self.world.schema.sources[a.source]
        lo = None if a.window.lo is None else self._value(a.window.lo, env)
        hi = None if a.window.hi is None else self._value(a.window.hi, env)
        if (a.window.lo is not None and lo is None) or (a.window.hi is not None and hi is None):
            return _empty(a)  # a window bound that is missing keeps no events
        as_of = as_datetime(self.world.as_of)
        picked = []
        ambiguous = False
        for row in self.world._events_by_key.get(a.source, {}).get(env["key"], []):
            t = row.get(src.time) if src.time else None
            if src.time:
                if t is None or not as_datetime(t) < as_of:
                    continue
                if lo is not None and not as_datetime(t) >= as_datetime(lo):
                    continue
                if hi is not None and not as_datetime(t) < as_datetime(hi):
                    continue
            if a.where is not None:
                try:
                    if not self._holds(a.where, {"key": env["key"], "event": row}):
                        continue
                except Ambiguous:
                    ambiguous = True
                    continue
            picked.append(row)
        if ambiguous:
            raise Ambiguous
        if a.sequence is not None:
            return Num(Fraction(sum(1 for x in picked if self._sequence_holds(a, x, env["key"]))))
        if a.func == "count" and a.column is None:
            return Num(Fraction(len(picked)))
        values = [_num(r.get(a.column.name)) for r in picked]
        values = [v for v in values if v is not None]
        if a.func == "count":
            return Num(Fraction(len(values)))
        if a.func == "count_distinct":
            return Num(Fraction(len({_plain(v) for v in values})))
        if a.func == "sum":
            return Num(sum((v.value for v in values), Fraction(0)))
        if not values:
            return None
        if a.func == "avg":
            mean = sum(v.value for v in values) / len(values)
            return Num(mean, not _binary_exact(mean))
        if a.func in ("min", "max"):
            pick = min if a.func == "min" else max
            return pick(values, key=_plain)
        raise ValueError(a.func)


def _in_holdout(seed: str, key, percent: float) -> bool:
    """`holdout p% seed s`: the first 32 bits of md5(UTF-8 of `s:key`), as a number, are
    below floor(p/100 * 2^32). Integers here; the SQL compares hex text."""
    h = int.from_bytes(hashlib.md5(f"{seed}:{key}".encode("utf-8")).digest()[:4], "big")
    return h < math.floor(Fraction(repr(percent)) / 100 * 2**32)


def _empty(a: ir.Agg):
    return Num(Fraction(0)) if a.func in ("count", "count_distinct", "sum") else None


def _num(v):
    if isinstance(v, Fraction):
        return Num(v)
    return v


def _plain(v):
    """A comparable Python value: Fraction, str, bool, or datetime for dates and times."""
    if isinstance(v, Num):
        return v.value
    if isinstance(v, dt.date):
        return as_datetime(v)
    return v


def _coerce_like(x, type_: str):
    if type_ == "timestamp" and isinstance(x, dt.date):
        return as_datetime(x)
    return x


def _binary_exact(q: Fraction) -> bool:
    """Whether a double and a decimal both hold q exactly (a small dyadic fraction)."""
    d = q.denominator
    return d & (d - 1) == 0 and d <= 2**20 and abs(q.numerator) < 2**50


def _compare(op: str, a, b) -> bool:
    if isinstance(a, Num):
        diff = a.value - b.value
        if (a.inexact or b.inexact) and abs(diff) <= TOLERANCE * max(1, abs(a.value), abs(b.value)):
            raise Ambiguous  # floating point may put it on either side
        x, y = a.value, b.value
    elif isinstance(a, dt.date) or isinstance(b, dt.date):
        x, y = as_datetime(a), as_datetime(b)
    else:
        x, y = a, b
    if op == "=":
        return x == y
    if op == "!=":
        return x != y
    if op == "<":
        return x < y
    if op == "<=":
        return x <= y
    if op == ">":
        return x > y
    if op == ">=":
        return x >= y
    raise ValueError(op)


def _check_order_fragile(values: list[Num]) -> None:
    if _ties_fragile(values):
        raise Ambiguous


def _ties_fragile(values) -> bool:
    """Ranking rounded values: two of them so close that rounding may order them either way."""
    nums = sorted((v for v in values if isinstance(v, Num)), key=lambda n: n.value)
    for a, b in zip(nums, nums[1:]):
        if (a.inexact or b.inexact) and b.value - a.value <= TOLERANCE * max(1, abs(a.value), abs(b.value)):
            return True
    return False


def _regex_search(pattern: str, x: str) -> bool:
    """DESIGN §8.1's `matches`: Python's re.search (case-sensitive; `.` is not LF, as in
    Python), with `$` the end of the string only (Python's `$` also matches before a final
    newline: it becomes `\\Z`). Read independently of segc.front.regex_subset."""
    out, i, in_set = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and not in_set:
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if c == "[" and not in_set:
            in_set, start = True, i
        elif c == "]" and in_set and i > start + 1 + (pattern[start + 1] == "^"):
            in_set = False
        out.append("\\Z" if c == "$" and not in_set else c)
        i += 1
    return re.search("".join(out), x) is not None
