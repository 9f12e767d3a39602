"""The checked program: names resolved, types known, parameters bound. Conditions (`Pred`)
are two-valued by construction: lowering guards every nullable operand, so a condition
on a missing value is false and `Not` is the complement within the population."""
from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import math
from fractions import Fraction

from segc.records import record

NUMERIC = ("int", "float")
# aggregates that pick one value of the events (DESIGN §8.1): its type is the column's
PICKS = ("first", "last", "nth", "mode")


# ---- values -------------------------------------------------------------------------

@record
class Value:
    pass


@record
class Const(Value):
    value: object
    type: str
    nullable = False


@record
class Col(Value):
    """A feature of the entity (scope `features`) or a column of an event source inside an
    aggregate's `where` (scope `event`)."""
    name: str
    type: str
    nullable: bool
    scope: str = "features"


@record
class AsOf(Value):
    """`today`: the as-of date (pinned literal, or the engine's current date)."""
    type = "date"
    nullable = False


@record
class DateShift(Value):
    """A date plus or minus a number of calendar units (month ends clamp)."""
    base: Value
    amount: int  # signed
    unit: str  # day, week, month, year

    @property
    def type(self) -> str:
        return self.base.type

    @property
    def nullable(self) -> bool:
        return self.base.nullable


@record
class Arith(Value):
    op: str
    left: Value
    right: Value
    type: str

    @property
    def nullable(self) -> bool:
        # division and remainder by zero are missing
        return self.left.nullable or self.right.nullable or self.op in "/%" and not (
            isinstance(self.right, Const) and self.right.value != 0)


@record
class Neg(Value):
    operand: Value

    @property
    def type(self) -> str:
        return self.operand.type

    @property
    def nullable(self) -> bool:
        return self.operand.nullable


@record
class Func(Value):
    name: str
    args: tuple[Value, ...]
    type: str

    @property
    def nullable(self) -> bool:
        if self.name == "coalesce":
            return all(a.nullable for a in self.args)
        return any(a.nullable for a in self.args)


@record
class Window:
    """Event time range: `lo <= t < hi` (None: unbounded below / the as-of above)."""
    lo: Value | None = None
    hi: Value | None = None


@record
class Sequence:
    """What must (or must not) come near each counted event: `followed by Y within D`
    (`t_x <= t_y <= t_x + D`), `not followed by`, `preceded by` (`t_x - D <= t_y <= t_x`).
    Y events obey the as-of; an event never follows itself (DESIGN §8.1)."""
    kind: str  # followed, not_followed, preceded
    source: str
    where: Pred | None
    amount: int
    unit: str  # day, week, month, year


@record
class Agg(Value):
    """An aggregate over an event source, computed in that source's one GROUP BY."""
    func: str  # count, count_distinct, sum, avg, min, max; first, last, nth, mode (PICKS)
    source: str
    column: Col | None
    where: Pred | None
    window: Window
    type: str
    label: str | None = None  # the feature's name when it comes from segc.yml
    sequence: Sequence | None = None  # count only: the X events with (or without) a Y event near them
    n: int | None = None  # nth: the position, from 1

    @property
    def nullable(self) -> bool:
        return self.func in ("avg", "min", "max") + PICKS


@record
class Quantile(Value):
    """quantile_score(by, n): ceil(n * share of present values <= by)."""
    by: Value
    n: int
    type = "int"

    @property
    def nullable(self) -> bool:
        return self.by.nullable


# ---- conditions ---------------------------------------------------------------------

@record
class Pred:
    pass


@record
class Cmp(Pred):
    op: str
    left: Value
    right: Value


@record
class IsTrue(Pred):
    """A bool value used as a condition."""
    value: Value


@record
class InSet(Pred):
    operand: Value
    items: tuple[Const, ...]
    negated: bool


@record
class Missing(Pred):
    operand: Value
    present: bool


@record
class Match(Pred):
    kind: str  # contains, starts, ends, matches (a regex search in the portable subset)
    operand: Value
    pattern: str


@record
class Top(Pred):
    direction: str  # top, bottom
    percent: float
    by: Value


@record
class TopN(Pred):
    """`top 100 by f`: fewer than n entities of the population have a strictly better
    present value (ties go in together; missing never qualifies)."""
    direction: str  # top, bottom
    n: int
    by: Value


@record
class Holdout(Pred):
    """The entities whose key, hashed with the seed, falls in the first `percent` of the
    hash space (segc.holdout). Never missing: the key never is."""
    percent: float
    seed: str


@record
class And(Pred):
    items: tuple[Pred, ...]


@record
class Or(Pred):
    items: tuple[Pred, ...]


@record
class Not(Pred):
    operand: Pred


@record
class Bool(Pred):
    value: bool


TRUE, FALSE = Bool(True), Bool(False)


_PART_FIELDS: dict[type, tuple[str, ...]] = {}


def parts(node) -> list:
    """The nodes directly inside an IR node (a tuple field gives each of its nodes): what
    every walk over a checked tree descends into (the size bound, the policy, the
    features a count reads). Field names are looked up once per class: dataclasses'
    `fields()` per node was a fifth of checking an expression."""
    names = _PART_FIELDS.get(type(node))
    if names is None:
        names = _PART_FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node)) \
            if dataclasses.is_dataclass(node) else ()
    out = []
    for name in names:
        value = getattr(node, name)
        if hasattr(value, "__dataclass_fields__"):
            out.append(value)
        elif isinstance(value, tuple):
            out.extend(v for v in value if hasattr(v, "__dataclass_fields__"))
    return out


def features_read(tree, memo: dict[int, tuple[object, frozenset]] | None = None) -> frozenset[str]:
    """The features a condition reads whose missing values can decide it: all of them but
    a score's inputs, which the score imputes (so no missing-value warning for those).
    `memo` (kept across the trees of one command) reads a shared part once: a segment
    used twice, the earlier branches every branch of a segmentation holds."""
    memo = {} if memo is None else memo

    def read(node) -> frozenset[str]:
        if id(node) in memo:
            return memo[id(node)][1]
        if isinstance(node, Func) and node.name == "logistic":
            found = frozenset()
        else:
            own = node.name if isinstance(node, Col) and node.scope == "features" else \
                node.label if isinstance(node, Agg) and node.label else None
            found = frozenset({own} if own else ()).union(*map(read, sub_trees(node)))
        memo[id(node)] = (node, found)  # the node is kept: its id is not reused meanwhile
        return found

    return read(tree)


def sub_trees(node) -> list:
    """The sub-trees of a checked condition or value."""
    return [c for c in parts(node) if isinstance(c, (Value, Pred, Window))]


# ---- arithmetic the checker, the lowering and the apps share ----

# The dates segc computes with: Python's, and most engines' (SQL Server, BigQuery,
# Snowflake...). An as-of in AS_OF_RANGE moved by at most MAX_SHIFT_YEARS (the checker
# refuses more, check/periods.py) stays in DATE_RANGE, so no date arithmetic of the
# lowering, the preview or the reports can leave it.
DATE_RANGE = (dt.date(1, 1, 1), dt.date(9999, 12, 31))
AS_OF_RANGE = (dt.date(1000, 1, 1), dt.date(8999, 12, 31))
MAX_SHIFT_YEARS = 900
DATE_RANGE_HINT = (f"dates run from {DATE_RANGE[0]} to {DATE_RANGE[1]}; an as-of from {AS_OF_RANGE[0]} to "
                   f"{AS_OF_RANGE[1]}, and a date may be moved by at most {MAX_SHIFT_YEARS} years")


class DateOutOfRange(ValueError):
    """Date arithmetic that leaves DATE_RANGE."""


def shift_date(d: dt.date, amount: int, unit: str) -> dt.date:
    """Calendar arithmetic with month ends clamped (2024-03-31 - 1 month = 2024-02-29);
    DateOutOfRange outside DATE_RANGE."""
    try:
        if unit == "day":
            return d + dt.timedelta(days=amount)
        if unit == "week":
            return d + dt.timedelta(days=7 * amount)
        months = amount * (12 if unit == "year" else 1)
        y, m = divmod(d.month - 1 + months, 12)
        year, month = d.year + y, m + 1
        day = min(d.day, calendar.monthrange(year, month)[1])
        return d.replace(year=year, month=month, day=day)
    except (OverflowError, ValueError):
        sign = "+" if amount >= 0 else "-"
        plural = "" if abs(amount) == 1 else "s"
        raise DateOutOfRange(f"{d.isoformat()} {sign} {abs(amount)} {unit}{plural} is not a supported date") from None


def shift_years(amount: int, unit: str) -> float:
    """How far a shift moves a date, in years (for MAX_SHIFT_YEARS)."""
    return abs(amount) / {"day": 365.25, "week": 365.25 / 7, "month": 12, "year": 1}[unit]


def as_of_problem(d: dt.date) -> str | None:
    """Why `d` cannot be an as-of, or None."""
    if isinstance(d, dt.date) and not AS_OF_RANGE[0] <= _day(d) <= AS_OF_RANGE[1]:
        return f"the as-of {d.isoformat()} is outside the supported range"
    return None


def utc_today() -> dt.date:
    """`today` as the engines see it: every session runs in UTC (CURRENT_DATE), whatever
    the machine's TZ; a rolling as-of resolved in Python must be this day, not the local one
    (at 23:00 UTC it is already tomorrow in Kiritimati)."""
    return dt.datetime.now(dt.timezone.utc).date()


def _day(d: dt.date) -> dt.date:
    return d.date() if isinstance(d, dt.datetime) else d


# the holdout split (the rule: backend/holdout.py): the checker refuses a share that
# holds no bucket, the lowering compares with the threshold
HOLDOUT_HEX_DIGITS = 8
HOLDOUT_SPACE = 16 ** HOLDOUT_HEX_DIGITS  # 2^32 buckets: a share is exact to 2.4e-10


def holdout_threshold(percent: float) -> int:
    """The number of buckets (out of 16^8) in the holdout; exact decimal arithmetic, so
    `2.5%` is 2.5% and not the nearest double."""
    return math.floor(Fraction(repr(percent)) / 100 * HOLDOUT_SPACE)
