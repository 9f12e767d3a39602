"""DuckDB's form of a sequence whose X and Y events are of one source (DESIGN §8.1,
benchmarks/README.md §8.5): one read of the source, grouped per key into lists of times,
instead of the portable self-join of backend/sequences.py.

    SELECT segc_key, COALESCE(LENGTH(LIST_FILTER(segc_xs, LAMBDA x: <hits(x)> test)), 0)
                   + COALESCE(LENGTH(LIST_FILTER(segc_xs_y, LAMBDA x: <hits(x)> - 1 test)), 0)
    FROM (SELECT key AS segc_key,
                 ARRAY_AGG(time) FILTER (WHERE <X> AND NOT COALESCE(<is Y>, FALSE)) AS segc_xs,
                 ARRAY_AGG(time) FILTER (WHERE <X> AND <is Y>) AS segc_xs_y,
                 ARRAY_AGG(time) FILTER (WHERE <Y>) AS segc_ys
          FROM source WHERE <X> OR <Y> GROUP BY key)
    -- hits(x): LENGTH(LIST_FILTER(COALESCE(segc_ys, []), LAMBDA y: <the self-join's time bounds>))

It means what the self-join means: the bounds are the join's own conditions with the
lambdas' variables for the two times, the Y filter is the join's Y side (as-of clip and
window start included), and an X event that is itself a Y event (`segc_xs_y`) is among
the Y events counted at its own time, so one is taken back out (an event never follows
itself; identical duplicates still follow each other). The X and Y filters are the
self-join's: NULL times fail the as-of clip, a NULL `where` is not a Y event. Measured at
1M customers (benchmarks/README.md §8.5): 1.2 s CPU where the self-join took 2.2 s inside `count`."""
from __future__ import annotations

from sqlglot import exp

from segc.backend.rewrites import SEQUENCE_LISTS

KEY = "segc_key"


def _var(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _lambda(body: exp.Expression, name: str) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(name, quoted=True)])


def _count(lst: str, test: exp.Expression, var: str) -> exp.Expression:
    """How many elements of the list column `lst` pass `test` (0 for a key without any)."""
    kept = exp.Anonymous(this="LIST_FILTER", expressions=[_var(lst), _lambda(test, var)])
    return exp.Coalesce(this=exp.Length(this=kept), expressions=[exp.Literal.number(0)])


def _bounds_on_lambdas(bounds: list[exp.Expression]) -> exp.Expression:
    """The self-join's time bounds (on x.segc_t and y.segc_t) on the lambdas' x and y."""
    def swap(node):
        if isinstance(node, exp.Column) and node.name == "segc_t" and node.table in ("x", "y"):
            return _var(f"segc_{node.table}")
        return node
    out = None
    for b in bounds:
        b = b.copy().transform(swap)
        out = b if out is None else exp.And(this=out, expression=b)
    return out


def attach_list_form(cte: exp.Select, key: exp.Expression, t: exp.Expression, source: exp.Table,
                     x_where: exp.Expression, is_y: exp.Expression, y_where: exp.Expression,
                     bounds: list[exp.Expression], test, column: str) -> exp.Select:
    """`cte` (the portable self-join) carrying its DuckDB form, which rewrites.py's DuckDB
    table puts in its place when rendering; `test` the comparison of a hit count with 0."""
    ys = exp.Coalesce(this=_var("segc_ys"), expressions=[exp.Array(expressions=[])])
    near = exp.Length(this=exp.Anonymous(this="LIST_FILTER",
                                         expressions=[ys, _lambda(_bounds_on_lambdas(bounds), "segc_y")]))
    zero = exp.Literal.number(0)
    own = exp.Sub(this=near.copy(), expression=exp.Literal.number(1))  # an X event that is a Y event
    count = exp.Add(this=_count("segc_xs", test(this=near, expression=zero), "segc_x"),
                    expression=_count("segc_xs_y", test(this=own, expression=zero.copy()), "segc_x"))

    def listed(cond: exp.Expression, name: str) -> exp.Alias:
        agg = exp.Filter(this=exp.ArrayAgg(this=t.copy()), expression=exp.Where(this=cond))
        return exp.alias_(agg, name, quoted=True)

    not_y = exp.Not(this=exp.Coalesce(this=exp.Paren(this=is_y.copy()), expressions=[exp.false()]))
    lists = (exp.select(exp.alias_(key.copy(), KEY, quoted=True),
                        listed(exp.And(this=exp.Paren(this=x_where.copy()), expression=not_y), "segc_xs"),
                        listed(exp.And(this=exp.Paren(this=x_where.copy()), expression=exp.Paren(this=is_y.copy())),
                               "segc_xs_y"),
                        listed(y_where.copy(), "segc_ys"))
             .from_(source.copy())
             .where(exp.Or(this=exp.Paren(this=x_where.copy()), expression=exp.Paren(this=y_where.copy())))
             .group_by(key.copy()))
    form = exp.select(_var(KEY), exp.alias_(count, column, quoted=True)).from_(
        exp.Subquery(this=lists, alias=exp.TableAlias(this=exp.to_identifier("segc_lists", quoted=True))))
    cte.meta[SEQUENCE_LISTS] = form
    return cte
