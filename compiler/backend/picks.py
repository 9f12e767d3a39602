"""Picks (DESIGN §8.1): first, last, nth and mode of an event column, one CTE each.

first / last / nth number the events of each key in their order and keep one:

    SELECT segc_key, segc_v AS <column> FROM (
        SELECT key AS segc_key, <value> AS segc_v,
               ROW_NUMBER() OVER (PARTITION BY key
                                  ORDER BY time, <order_by...>, segc_v NULLS LAST) AS segc_rn
        FROM events WHERE time < as_of AND <where, window>) AS segc_numbered
    WHERE segc_rn = k                 -- last: time DESC, <order_by DESC NULLS FIRST>, k = 1

mode counts each present value per key and keeps the most frequent, the smallest on a tie:

    SELECT segc_key, segc_v AS <column> FROM (
        SELECT segc_key, segc_v, ROW_NUMBER() OVER (PARTITION BY segc_key
                                                    ORDER BY segc_n DESC, segc_v) AS segc_rn
        FROM (SELECT key AS segc_key, <value> AS segc_v, COUNT(*) AS segc_n FROM events
              WHERE time < as_of AND <where, window> AND <value> IS NOT NULL
              GROUP BY key, <value>) AS segc_counted) AS segc_numbered
    WHERE segc_rn = 1

Why ROW_NUMBER and not an engine's arg_max / max_by / FIRST_VALUE: the order it numbers
by is total up to identical rows (whose value is then the same), so every engine keeps
the same value; DuckDB's arg_max and Spark's max_by keep any row among ties. The value
asked for breaks the remaining ties, smallest first and NULL last, so a pick is missing
only when every tied event's value is. `last` is the end of the event order: the order
reversed on time and `order_by:`, the value still smallest first.
"""
from __future__ import annotations

from sqlglot import exp

KEY = "segc_key"
VALUE = "segc_v"
ROW = "segc_rn"
COUNT = "segc_n"


def _col(name: str) -> exp.Column:
    return exp.Column(this=exp.Identifier(this=name, quoted=True))


def _alias(e: exp.Expression, name: str) -> exp.Alias:
    return exp.Alias(this=e, alias=exp.Identifier(this=name, quoted=True))


def _from(source: exp.Expression, name: str | None = None) -> exp.From:
    if name is None:
        return exp.From(this=source)
    return exp.From(this=exp.Subquery(this=source, alias=exp.TableAlias(this=exp.Identifier(this=name, quoted=True))))


def _select(projections, source: exp.From, where=None, group=None) -> exp.Select:
    q = exp.Select(expressions=projections, from_=source)
    if where is not None:
        q.set("where", exp.Where(this=where))
    if group:
        q.set("group", exp.Group(expressions=group))
    return q


def _row_number(partition: exp.Expression, order: list[exp.Ordered]) -> exp.Window:
    return exp.Window(this=exp.RowNumber(), partition_by=[partition], order=exp.Order(expressions=order))


def _asc(e: exp.Expression) -> exp.Ordered:
    return exp.Ordered(this=e, desc=False, nulls_first=False)


def _desc(e: exp.Expression) -> exp.Ordered:
    return exp.Ordered(this=e, desc=True, nulls_first=True)


def _keep_first(numbered: exp.Select, column: str, k: int) -> exp.Select:
    return _select([_col(KEY), _alias(_col(VALUE), column)], _from(numbered, "segc_numbered"),
                   exp.EQ(this=_col(ROW), expression=exp.Literal.number(k)))


def pick_cte(func: str, k: int | None, column: str, events: exp.Expression, key: exp.Column,
             time: exp.Column, order_by: list[exp.Column], value: exp.Expression,
             where: exp.Expression | None) -> exp.Select:
    """The CTE of one pick: one row per key that has a value, `segc_key` and `column`.
    `value` is the lowered column (NaN read as missing), `where` the events' filter
    (as-of, window, the pick's `where`)."""
    if func == "mode":
        present = exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null()))
        cond = present if where is None else exp.And(this=where, expression=present)
        counted = _select([_alias(key.copy(), KEY), _alias(value, VALUE), _alias(exp.Count(this=exp.Star()), COUNT)],
                          _from(events), cond, [key.copy(), value.copy()])
        ranked = _row_number(_col(KEY), [exp.Ordered(this=_col(COUNT), desc=True), _asc(_col(VALUE))])
        numbered = _select([_col(KEY), _col(VALUE), _alias(ranked, ROW)], _from(counted, "segc_counted"))
        return _keep_first(numbered, column, 1)
    last = func == "last"
    position = [(_desc if last else _asc)(c.copy()) for c in [time, *order_by]]
    if value != time:  # `first(orders.ordered_at)`: the time is the value
        position.append(_asc(value.copy()))  # the value itself: a window cannot see the select's aliases
    ranked = _row_number(key.copy(), position)
    numbered = _select([_alias(key.copy(), KEY), _alias(value, VALUE), _alias(ranked, ROW)], _from(events), where)
    return _keep_first(numbered, column, 1 if func in ("first", "last") else k)
