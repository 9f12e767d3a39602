"""The checked program: names resolved, types known, parameters bound. Conditions (`Pred`)
are two-valued by construction: lowering guards every nullable operand, so a condition
on a missing value is false and `Not` is the complement within the population."""
from __future__ import annotations

from dataclasses import dataclass

NUMERIC = ("int", "float")


# ---- values -------------------------------------------------------------------------

@dataclass(frozen=True)
class Value:
    pass


@dataclass(frozen=True)
class Const(Value):
    value: object
    type: str
    nullable = False


@dataclass(frozen=True)
class Col(Value):
    """A feature of the entity (scope `features`) or a column of an event source inside an
    aggregate's `where` (scope `event`)."""
    name: str
    type: str
    nullable: bool
    scope: str = "features"


@dataclass(frozen=True)
class AsOf(Value):
    """`today`: the as-of date (pinned literal, or the engine's current date)."""
    type = "date"
    nullable = False


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Neg(Value):
    operand: Value

    @property
    def type(self) -> str:
        return self.operand.type

    @property
    def nullable(self) -> bool:
        return self.operand.nullable


@dataclass(frozen=True)
class Func(Value):
    name: str
    args: tuple[Value, ...]
    type: str

    @property
    def nullable(self) -> bool:
        if self.name == "coalesce":
            return all(a.nullable for a in self.args)
        return any(a.nullable for a in self.args)


@dataclass(frozen=True)
class Window:
    """Event time range: `lo <= t < hi` (None: unbounded below / the as-of above)."""
    lo: Value | None = None
    hi: Value | None = None


@dataclass(frozen=True)
class Agg(Value):
    """An aggregate over an event source, computed in that source's one GROUP BY."""
    func: str  # count, count_distinct, sum, avg, min, max
    source: str
    column: Col | None
    where: Pred | None
    window: Window
    type: str
    label: str | None = None  # the feature's name when it comes from segc.yml

    @property
    def nullable(self) -> bool:
        return self.func in ("avg", "min", "max")


@dataclass(frozen=True)
class Quantile(Value):
    """quantile_score(by, n): ceil(n * share of present values <= by)."""
    by: Value
    n: int
    type = "int"

    @property
    def nullable(self) -> bool:
        return self.by.nullable


# ---- conditions ---------------------------------------------------------------------

@dataclass(frozen=True)
class Pred:
    pass


@dataclass(frozen=True)
class Cmp(Pred):
    op: str
    left: Value
    right: Value


@dataclass(frozen=True)
class IsTrue(Pred):
    """A bool value used as a condition."""
    value: Value


@dataclass(frozen=True)
class InSet(Pred):
    operand: Value
    items: tuple[Const, ...]
    negated: bool


@dataclass(frozen=True)
class Missing(Pred):
    operand: Value
    present: bool


@dataclass(frozen=True)
class Match(Pred):
    kind: str  # contains, starts, ends
    operand: Value
    pattern: str


@dataclass(frozen=True)
class Top(Pred):
    direction: str  # top, bottom
    percent: float
    by: Value


@dataclass(frozen=True)
class Holdout(Pred):
    """The entities whose key, hashed with the seed, falls in the first `percent` of the
    hash space (segc.holdout). Never missing: the key never is."""
    percent: float
    seed: str


@dataclass(frozen=True)
class And(Pred):
    items: tuple[Pred, ...]


@dataclass(frozen=True)
class Or(Pred):
    items: tuple[Pred, ...]


@dataclass(frozen=True)
class Not(Pred):
    operand: Pred


@dataclass(frozen=True)
class Bool(Pred):
    value: bool


TRUE, FALSE = Bool(True), Bool(False)


