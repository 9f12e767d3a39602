"""The syntax tree: frozen dataclasses with spans (spans never take part in equality)."""
from __future__ import annotations

import datetime as dt
from dataclasses import field

from segc.front.source import Span
from segc.records import record


@record(kw_only=True)
class Node:
    span: Span | None = field(default=None, compare=False, repr=False)


# ---- expressions -------------------------------------------------------------------

@record
class Literal(Node):
    value: int | float | str | bool | dt.date | dt.datetime
    type: str  # int, float, string, bool, date, timestamp


@record
class Duration(Node):
    amount: int
    unit: str  # day, week, month, year

    @property
    def text(self) -> str:
        """`1 day`, `30 days`: how segc writes it (fmt, reports, messages)."""
        return f"{self.amount} {self.unit}{'' if self.amount == 1 else 's'}"


@record
class Name(Node):
    name: str


@record
class Dotted(Node):
    """`segmentation.branch` (or `source.column` inside an aggregate)."""
    left: str
    right: str


@record
class Param(Node):
    name: str


@record
class Today(Node):
    pass


@record
class Call(Node):
    func: str
    args: tuple[Expr, ...]


@record
class Period(Node):
    """A time range relative to the as-of: `last 30 days`, `this month`, `last month`,
    `next 7 days`, or a fixed `A to B` (both days included)."""
    kind: str  # last, next, this, previous, fixed
    duration: Duration | None = None
    unit: str | None = None
    start: Expr | None = None
    end: Expr | None = None


@record
class Sequence(Node):
    """The Y side of `count(X followed by Y within D)` (DESIGN §8.1)."""
    kind: str  # followed, not_followed, preceded
    source: str
    where: Expr | None
    within: Duration


@record
class Aggregate(Node):
    func: str  # count, count_distinct, sum, avg, min, max, exists; first, last, nth, mode (picks)
    source: str
    column: str | None
    where: Expr | None
    during: Period | None
    sequence: Sequence | None = None  # count/exists of X events followed (or not) by Y events
    k: Expr | None = None  # nth's position (checked: an integer literal >= 1)


@record
class Neg(Node):
    operand: Expr


@record
class Arith(Node):
    op: str  # + - * / %
    left: Expr
    right: Expr


@record
class Compare(Node):
    op: str  # = != < <= > >=
    left: Expr
    right: Expr


@record
class Between(Node):
    operand: Expr
    low: Expr
    high: Expr


@record
class InList(Node):
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool


@record
class IsMissing(Node):
    operand: Expr
    present: bool  # `is present` rather than `is missing`


@record
class StrMatch(Node):
    kind: str  # contains, starts, ends, matches (a regex in the portable subset)
    operand: Expr
    pattern: Expr


@record
class Within(Node):
    operand: Expr
    period: Period


@record
class Rank(Node):
    """`top 10% by f`, or with `absolute`, `top 100 by f` (then `percent` is the count N)."""
    direction: str  # top, bottom
    percent: float
    by: Expr
    absolute: bool = False


@record
class Holdout(Node):
    """`holdout 10% seed "spring"`: a fixed share of the customers, chosen by hashing
    their key with the seed (a string literal or a $parameter)."""
    percent: float
    seed: Expr


@record
class Not(Node):
    operand: Expr


@record
class And(Node):
    items: tuple[Expr, ...]


@record
class Or(Node):
    items: tuple[Expr, ...]


Expr = (Literal | Duration | Name | Dotted | Param | Today | Call | Aggregate | Neg | Arith
        | Compare | Between | InList | IsMissing | StrMatch | Within | Rank | Holdout | Not | And | Or)


# ---- definitions ---------------------------------------------------------------------

@record
class Annotation(Node):
    name: str
    args: tuple[str | int, ...]


@record
class Segment(Node):
    name: str
    expr: Expr
    doc: str = ""
    annotations: tuple[Annotation, ...] = ()
    name_span: Span | None = field(default=None, compare=False, repr=False)


@record
class Branch(Node):
    name: str
    expr: Expr | None  # None is `else`
    doc: str = ""
    name_span: Span | None = field(default=None, compare=False, repr=False)


@record
class Segmentation(Node):
    name: str
    branches: tuple[Branch, ...]
    doc: str = ""
    annotations: tuple[Annotation, ...] = ()
    name_span: Span | None = field(default=None, compare=False, repr=False)


Definition = Segment | Segmentation


@record
class Module(Node):
    """The definitions of one .seg file."""
    file: str
    definitions: tuple[Definition, ...]
    bare: bool = False  # the file held only an expression
    broken: tuple[str, ...] = ()  # definitions that failed to parse (already reported)
