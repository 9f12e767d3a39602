"""The syntax tree: frozen dataclasses with spans (spans never take part in equality)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from segc.front.source import Span


@dataclass(frozen=True, kw_only=True)
class Node:
    span: Span | None = field(default=None, compare=False, repr=False)


# ---- expressions -------------------------------------------------------------------

@dataclass(frozen=True)
class Literal(Node):
    value: int | float | str | bool | dt.date | dt.datetime
    type: str  # int, float, string, bool, date, timestamp


@dataclass(frozen=True)
class Duration(Node):
    amount: int
    unit: str  # day, week, month, year

    @property
    def text(self) -> str:
        """`1 day`, `30 days`: how segc writes it (fmt, reports, messages)."""
        return f"{self.amount} {self.unit}{'' if self.amount == 1 else 's'}"


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class Dotted(Node):
    """`segmentation.branch` (or `source.column` inside an aggregate)."""
    left: str
    right: str


@dataclass(frozen=True)
class Param(Node):
    name: str


@dataclass(frozen=True)
class Today(Node):
    pass


@dataclass(frozen=True)
class Call(Node):
    func: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Period(Node):
    """A time range relative to the as-of: `last 30 days`, `this month`, `last month`,
    `next 7 days`, or a fixed `A to B` (both days included)."""
    kind: str  # last, next, this, previous, fixed
    duration: Duration | None = None
    unit: str | None = None
    start: Expr | None = None
    end: Expr | None = None


@dataclass(frozen=True)
class Sequence(Node):
    """The Y side of `count(X followed by Y within D)` (DESIGN §8.1)."""
    kind: str  # followed, not_followed, preceded
    source: str
    where: Expr | None
    within: Duration


@dataclass(frozen=True)
class Aggregate(Node):
    func: str  # count, count_distinct, sum, avg, min, max, exists
    source: str
    column: str | None
    where: Expr | None
    during: Period | None
    sequence: Sequence | None = None  # count/exists of X events followed (or not) by Y events


@dataclass(frozen=True)
class Neg(Node):
    operand: Expr


@dataclass(frozen=True)
class Arith(Node):
    op: str  # + - * / %
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Compare(Node):
    op: str  # = != < <= > >=
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Between(Node):
    operand: Expr
    low: Expr
    high: Expr


@dataclass(frozen=True)
class InList(Node):
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool


@dataclass(frozen=True)
class IsMissing(Node):
    operand: Expr
    present: bool  # `is present` rather than `is missing`


@dataclass(frozen=True)
class StrMatch(Node):
    kind: str  # contains, starts, ends, matches (a regex in the portable subset)
    operand: Expr
    pattern: Expr


@dataclass(frozen=True)
class Within(Node):
    operand: Expr
    period: Period


@dataclass(frozen=True)
class Rank(Node):
    """`top 10% by f`, or with `absolute`, `top 100 by f` (then `percent` is the count N)."""
    direction: str  # top, bottom
    percent: float
    by: Expr
    absolute: bool = False


@dataclass(frozen=True)
class Holdout(Node):
    """`holdout 10% seed "spring"`: a fixed share of the customers, chosen by hashing
    their key with the seed (a string literal or a $parameter)."""
    percent: float
    seed: Expr


@dataclass(frozen=True)
class Not(Node):
    operand: Expr


@dataclass(frozen=True)
class And(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or(Node):
    items: tuple[Expr, ...]


Expr = (Literal | Duration | Name | Dotted | Param | Today | Call | Aggregate | Neg | Arith
        | Compare | Between | InList | IsMissing | StrMatch | Within | Rank | Holdout | Not | And | Or)


# ---- definitions ---------------------------------------------------------------------

@dataclass(frozen=True)
class Annotation(Node):
    name: str
    args: tuple[str | int, ...]


@dataclass(frozen=True)
class Segment(Node):
    name: str
    expr: Expr
    doc: str = ""
    annotations: tuple[Annotation, ...] = ()
    name_span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Branch(Node):
    name: str
    expr: Expr | None  # None is `else`
    doc: str = ""
    name_span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Segmentation(Node):
    name: str
    branches: tuple[Branch, ...]
    doc: str = ""
    annotations: tuple[Annotation, ...] = ()
    name_span: Span | None = field(default=None, compare=False, repr=False)


Definition = Segment | Segmentation


@dataclass(frozen=True)
class Module(Node):
    """The definitions of one .seg file."""
    file: str
    definitions: tuple[Definition, ...]
    bare: bool = False  # the file held only an expression
    broken: tuple[str, ...] = ()  # definitions that failed to parse (already reported)
