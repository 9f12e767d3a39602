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

first / last of a source without `order_by:` (and a value that is not a boolean) are two
grouped passes instead, no sort: the latest (first: earliest) time per key, then the
smallest value among that key's events at that time (MIN skips NULLs: "NULL last"):

    SELECT segc_events.key AS segc_key, MIN(segc_events.<value>) AS <column> FROM events AS segc_events
    JOIN (SELECT segc_key, segc_agg_N AS segc_t FROM segc_src_<source>) AS segc_latest
      ON segc_latest.segc_key = segc_events.key AND segc_latest.segc_t = segc_events.time
    WHERE segc_events.time < as_of AND <where, its columns qualified> GROUP BY segc_events.key

where segc_agg_N is `MAX(CASE WHEN <where> THEN time END)` (first: MIN) in the source's
one GROUP BY (backend/lower.py _edge_time): the events are grouped once for both.

It keeps exactly the row-numbered form's value (same events, same tie rule) at 0.6x its
cost on DuckDB (benchmarks/README.md §8.2, §8.3). Booleans keep the window: PostgreSQL has no
MIN(boolean). With `order_by:` each column would be one more level (and its NULLs sort
last, past MAX's reach): not done, the window form serves.

A first / last of the grouped form compared with a constant (`last(orders.category) =
"shoes"`, `in [...]`, `is missing`) needs no second pass at all (benchmarks/README.md §8.7):
the pick m is the smallest present value among the events at the edge time T, so for a
condition q on one event's value, with T_q the edge time of the events where q holds (one
more `MAX(CASE WHEN <where> AND q THEN time END)` of the source's GROUP BY; never past T),
"some event at T satisfies q" is `T_q = T`, and (COMPARED_AT)

    m < v   iff  at(value < v)          m <= v  iff  at(value <= v)
    m = v   iff  at(value = v)  and not at(value < v)
    m >= v  iff  at(value >= v) and not at(value < v)
    m > v   iff  at(value > v)  and not at(value <= v)
    m != v  iff  m < v or m > v          m present  iff  at(value is present)

(MIN's NULL-last rule is the `value op v` that is NULL on a missing value). The lowering
(backend/lower.py Lowerer._pick_test) uses it where the pick's value is not computed anyway,
for at most lower.PICK_TESTS such columns per pick and query (then the value is cheaper).

Why ROW_NUMBER and not an engine's arg_max / max_by / FIRST_VALUE: the order it numbers
by is total up to identical rows (whose value is then the same), so every engine keeps
the same value; DuckDB's arg_max and Spark's max_by keep any row among ties. The value
asked for breaks the remaining ties, smallest first and NULL last, so a pick is missing
only when every tied event's value is. `last` is the end of the event order: the order
reversed on time and `order_by:`, the value still smallest first.
"""
from __future__ import annotations

from sqlglot import exp

from segc.backend.trees import alias, col, ident, make_select, subquery

KEY = "segc_key"
VALUE = "segc_v"
ROW = "segc_rn"
COUNT = "segc_n"
LATEST = "segc_t"
EVENTS = "segc_events"


# op -> (the operators some event at the edge time must satisfy, those none may)
COMPARED_AT = {"<": (("<",), ()), "<=": (("<=",), ()), "=": (("=",), ("<",)), ">=": ((">=",), ("<",)),
               ">": ((">",), ("<=",))}


def _row_number(partition: exp.Expression, order: list[exp.Ordered]) -> exp.Window:
    return exp.Window(this=exp.RowNumber(), partition_by=[partition], order=exp.Order(expressions=order))


def _asc(e: exp.Expression) -> exp.Ordered:
    return exp.Ordered(this=e, desc=False, nulls_first=False)


def _desc(e: exp.Expression) -> exp.Ordered:
    return exp.Ordered(this=e, desc=True, nulls_first=True)


def _keep_first(numbered: exp.Select, column: str, k: int) -> exp.Select:
    return make_select([col(KEY), alias(col(VALUE), column)], subquery(numbered, "segc_numbered"),
                       exp.EQ(this=col(ROW), expression=exp.Literal.number(k)))


def _latest_then_smallest(column: str, events: exp.Expression, key: exp.Column, time: exp.Column,
                          value: exp.Expression, where: exp.Expression | None, latest: tuple) -> exp.Select:
    """first / last as the second of two grouped passes (see the module's docstring): the
    first, the latest (first: earliest) time per key, is `latest` = (the source's GROUP BY
    CTE, its column), so the events are grouped once for both."""
    relation, edge = latest
    # only the two columns: the CTE's others (feature names) could clash with the events'
    narrow = make_select([col(KEY), alias(col(edge), LATEST)], relation)
    # the events' columns named by their table: a source column called segc_key or segc_t
    # would otherwise be ambiguous beside segc_latest's two (an engine error)
    key, time, value = (_events_columns(e.copy()) for e in (key, time, value))
    where = None if where is None else _events_columns(where)
    at = exp.And(this=exp.EQ(this=col(KEY, "segc_latest"), expression=key.copy()),
                 expression=exp.EQ(this=col(LATEST, "segc_latest"), expression=time))
    named = events.copy()
    named.set("alias", exp.TableAlias(this=ident(EVENTS)))
    return make_select([alias(key.copy(), KEY), alias(exp.Min(this=value), column)], named, where, [key],
                       joins=[exp.Join(this=subquery(narrow, "segc_latest"), on=at)])


def _events_columns(e: exp.Expression) -> exp.Expression:
    """`e` with its columns (those not in a subquery of their own) qualified by EVENTS."""
    for c in list(e.find_all(exp.Column)):
        if not c.table and c.find_ancestor(exp.Select) is None:
            c.set("table", ident(EVENTS))
    return e


def pick_cte(func: str, k: int | None, column: str, events: exp.Expression, key: exp.Column,
             time: exp.Column, order_by: list[exp.Column], value: exp.Expression,
             where: exp.Expression | None, latest: tuple | None = None) -> exp.Select:
    """The CTE of one pick: one row per key that has events, `segc_key` and `column`.
    `value` is the lowered column (NaN read as missing), `where` the events' filter
    (as-of, window, the pick's `where`); `latest`: first / last's grouped form, (the
    CTE with the latest / earliest time per key, its column)."""
    if latest is not None:
        return _latest_then_smallest(column, events, key, time, value, where, latest)
    if func == "mode":
        present = exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null()))
        cond = present if where is None else exp.And(this=where, expression=present)
        counted = make_select([alias(key.copy(), KEY), alias(value, VALUE), alias(exp.Count(this=exp.Star()), COUNT)],
                              events, cond, [key.copy(), value.copy()])
        ranked = _row_number(col(KEY), [exp.Ordered(this=col(COUNT), desc=True), _asc(col(VALUE))])
        numbered = make_select([col(KEY), col(VALUE), alias(ranked, ROW)], subquery(counted, "segc_counted"))
        return _keep_first(numbered, column, 1)
    last = func == "last"
    position = [(_desc if last else _asc)(c.copy()) for c in [time, *order_by]]
    if value != time:  # `first(orders.ordered_at)`: the time is the value
        position.append(_asc(value.copy()))  # the value itself: a window cannot see the select's aliases
    ranked = _row_number(key.copy(), position)
    numbered = make_select([alias(key.copy(), KEY), alias(value, VALUE), alias(ranked, ROW)], events, where)
    return _keep_first(numbered, column, 1 if func in ("first", "last") else k)
