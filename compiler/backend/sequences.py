"""Sequences (DESIGN §8.1): `count(X followed by Y within D)` and its kin, one CTE each.

Shape (X events grouped per key and time, joined to Y events of the same key within D):

    SELECT segc_key, SUM(CASE WHEN segc_hits - segc_self > 0 THEN segc_n ELSE 0 END)
    FROM (SELECT x.segc_key, x.segc_t, x.segc_self, x.segc_n, COUNT(y.segc_key) AS segc_hits
          FROM (SELECT key, time AS segc_t, <x is a Y event: 1/0> AS segc_self, COUNT(*) AS segc_n
                FROM X WHERE time < as_of AND <X's where, window> GROUP BY key, time, segc_self) AS x
          LEFT JOIN (SELECT key, time AS segc_t FROM Y
                     WHERE time < as_of AND <Y's where> [AND time >= X's window start]) AS y
            ON y.segc_key = x.segc_key AND y.segc_t BETWEEN x.segc_t AND x.segc_t + D  -- preceded: x.segc_t - D AND x.segc_t
          GROUP BY x.segc_key, x.segc_t, x.segc_self, x.segc_n) AS segc_pairs
    GROUP BY segc_key            -- `not followed by`: `... <= 0`

Why this shape: whether an X event has a Y event near it depends only on its key, its
time and whether it is itself a Y event, so X events are grouped on those (`segc_n` of
them) and no row identity is needed: an event never follows itself because, when X and
Y are one source, the X event is among the Y events counted at its own time and
`segc_self` takes it back out; identical duplicate rows stay two events, each following
the other. A ROW_NUMBER() would need one numbering shared by both sides, which engines
that inline CTEs (Spark) do not guarantee. The join is a plain time-bounded equi-join on
the key that every dialect expresses; D is calendar arithmetic (months clamp to the
month's end, as `during` and date shifts do).
"""
from __future__ import annotations

import datetime as dt

from sqlglot import exp

from segc import ir
from segc.backend.sequence_lists import attach_list_form
from segc.backend.trees import alias, and_, col, datatype, flag, make_select, subquery

KEY = "segc_key"


def _shift(t: exp.Expression, amount: int, unit: str, time_type: str) -> exp.Expression:
    """t + amount units, as the lowering of date shifts writes it (a timestamp keeps its time of day)."""
    cls = exp.TimestampAdd if time_type == "timestamp" else exp.DateAdd
    return cls(this=t, expression=exp.Literal.number(amount), unit=exp.var(unit.upper()))


def _events(src, source: exp.Table, time: exp.Expression, conds: list[exp.Expression],
            extra: list[exp.Expression] | None) -> exp.Select:
    """One side's events: per key and time, counted (`extra`: more grouped columns), or
    (extra None) one row each: grouping the Y side too costs a pass over it, and rows of
    one key and instant are rare."""
    keys = [alias(col(src.key), KEY), alias(time, "segc_t")]
    if extra is None:
        return make_select(keys, source, and_(conds))
    keys += extra
    return make_select([*keys, alias(exp.Count(this=exp.Star()), "segc_n")], source, and_(conds),
                       [k.this.copy() for k in keys])


def _time(src, other) -> tuple[exp.Expression, str]:
    """A source's time column, as a timestamp when the other side's is one (a date stands
    for its midnight, as everywhere in segc), and its type."""
    types = [s.columns.get(s.time, "timestamp") for s in (src, other)]
    t = col(src.time)
    if types[0] != types[1] and types[0] == "date":
        return exp.Cast(this=t, to=datatype("TIMESTAMP")), "timestamp"
    return t, types[0]


def sequence_cte(schema, agg: ir.Agg, column: str, x_conds: list[exp.Expression], y_where: exp.Expression | None,
                 as_of: exp.Expression, table_of, x_window: tuple) -> exp.Select:
    """The CTE counting, per key, the X events of `agg` that have (or lack) a Y event near
    them; `table_of(name)` is the lowering's table reference; `x_window` X's `during` as
    (lowest time or None, time it stays below or None)."""
    seq = agg.sequence
    xs, ys = schema.sources[agg.source], schema.sources[seq.source]
    same = agg.source == seq.source
    x_time = col(xs.time)
    (x_t, time_type), (y_t, _) = _time(xs, ys), _time(ys, xs)
    self_flag = []
    if same:
        is_y = y_where.copy() if y_where is not None else exp.true()
        self_flag = [alias(flag(is_y), "segc_self")]
    x_filter = [exp.LT(this=x_time, expression=as_of.copy()), *x_conds]
    x = _events(xs, table_of(xs.table), x_t, [c.copy() for c in x_filter], self_flag)
    y_conds = [exp.LT(this=col(ys.time), expression=as_of.copy())]
    if y_where is not None:
        y_conds.append(y_where)
    # only Y events that can be near an X event of the window are read (the cart relaunch
    # reads a week of orders, not all of them): after X's start, or before X's end
    x_lo, x_hi = x_window
    if seq.kind != "preceded" and x_lo is not None:
        y_conds.append(exp.GTE(this=col(ys.time), expression=x_lo))
    if seq.kind == "preceded" and x_hi is not None:
        y_conds.append(exp.LT(this=col(ys.time), expression=x_hi))
    y = _events(ys, table_of(ys.table), y_t, [c.copy() for c in y_conds], None)
    t, ty = col("segc_t", "x"), col("segc_t", "y")
    if seq.kind == "preceded":
        lo, hi = _shift(t, -seq.amount, seq.unit, time_type), t.copy()
    else:
        lo, hi = t, _shift(t.copy(), seq.amount, seq.unit, time_type)
    bounds = [exp.GTE(this=ty, expression=lo), exp.LTE(this=ty.copy(), expression=hi)]
    on = and_([exp.EQ(this=col(KEY, "y"), expression=col(KEY, "x")), *[b.copy() for b in bounds]])
    grouped = [col(KEY, "x"), t.copy(), col("segc_n", "x")] + ([col("segc_self", "x")] if same else [])
    pairs = make_select([*[c.copy() for c in grouped], alias(exp.Count(this=col(KEY, "y")), "segc_hits")],
                        subquery(x, "x"), group_by=[c.copy() for c in grouped],
                        joins=[exp.Join(this=subquery(y, "y"), on=on, side="LEFT")])
    hits = col("segc_hits")
    if same:
        hits = exp.Sub(this=hits, expression=col("segc_self"))
    test = exp.LTE if seq.kind == "not_followed" else exp.GT
    counted = exp.Case(ifs=[exp.If(this=test(this=hits, expression=exp.Literal.number(0)), true=col("segc_n"))],
                       default=exp.Literal.number(0))
    cte = make_select([col(KEY), alias(exp.Sum(this=counted), column)], subquery(pairs, "segc_pairs"),
                      group_by=[col(KEY)])
    if not same:
        return cte
    return attach_list_form(cte, col(xs.key), x_t, table_of(xs.table), and_(x_filter),
                            None if disjoint(agg.where, seq.where) else is_y, and_(y_conds), bounds,
                            test, column, x_filter[0], f"segc_src_{agg.source}")


def disjoint(x: ir.Pred | None, y: ir.Pred | None) -> bool:
    """Whether no event can pass both `where`s: each requires one column to equal values
    the other's cannot (`category = "shoes"` / `category = "bags"`). Strings are compared
    without case and accents, so that no collation of the engine could make them equal;
    floats are never taken as different (1.0 = 1, NaN)."""
    xs, ys = _required_values(x), _required_values(y)
    return any(not any(a == b for a in xs[c] for b in ys[c]) for c in xs.keys() & ys.keys())


def _required_values(p: ir.Pred | None) -> dict[str, set]:
    """column -> the values that a conjunct of `p` requires it to take (`= v`, `in [...]`)."""
    out: dict[str, set] = {}
    for c in (p.items if isinstance(p, ir.And) else (p,)) if p is not None else ():
        if isinstance(c, ir.Cmp) and c.op == "=" and isinstance(c.right, ir.Const):
            column, values = c.left, [c.right]
        elif isinstance(c, ir.InSet) and not c.negated:
            column, values = c.operand, list(c.items)
        else:
            continue
        if isinstance(column, ir.Col) and column.scope == "event" and all(_exact(v) for v in values):
            loose = {_loose(v.value) for v in values}
            out[column.name] = out[column.name] & loose if column.name in out else loose
    return out


def _exact(v: ir.Const) -> bool:
    return v.type != "float" and not isinstance(v.value, float)


def _loose(value):
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())  # a date is its midnight, as in SQL
    if not isinstance(value, str):
        return value
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
