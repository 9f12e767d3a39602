"""DuckDB's form of a sequence whose X and Y events are of one source (DESIGN §8.1,
benchmarks/README.md §8.6): one read of the source, grouped per key into lists of times,
instead of the portable self-join of backend/sequences.py.

    SELECT segc_key, COALESCE(LENGTH(LIST_FILTER(segc_xs, LAMBDA x: <hits(x)> test)), 0)
                   + COALESCE(LENGTH(LIST_FILTER(segc_xs_y, LAMBDA x: <hits(x)> - 1 test)), 0)
    FROM (SELECT key AS segc_key,
                 ARRAY_AGG(time) FILTER (WHERE <X> AND NOT COALESCE(<is Y>, FALSE)) AS segc_xs,
                 ARRAY_AGG(time) FILTER (WHERE <X> AND <is Y>) AS segc_xs_y,  -- unless disjoint
                 ARRAY_AGG(time) FILTER (WHERE <Y>) AS segc_ys
          FROM source WHERE <X> OR <Y> GROUP BY key)
    -- hits(x): LENGTH(LIST_FILTER(COALESCE(segc_ys, []), LAMBDA y: <the self-join's time bounds>))

When the X events are the Y events (no `where` on either side: `orders followed by orders`),
one list, sorted (LIST_SORT), and each element is tested against its two neighbours
(`_near_a_neighbour`) instead of counting every pair.

It means what the self-join means: the bounds are the join's own conditions with the
lambdas' variables for the two times, the Y filter is the join's Y side (as-of clip and
window start included), and an X event that is itself a Y event (`segc_xs_y`) is among
the Y events counted at its own time, so one is taken back out (an event never follows
itself; identical duplicates still follow each other). The X and Y filters are the
self-join's: NULL times fail the as-of clip, a NULL `where` is not a Y event. Measured at
1M customers (benchmarks/README.md §8.6): 1.2 s CPU where the self-join took 2.2 s inside `count`.

Folded: where the query also has the source's own GROUP BY (`segc_src_<source>`) and it
reads exactly the events before the as-of (no window start, no shared `where`), the three
lists are aggregates of it and the features count from them directly; the sequence's CTE
and its join are dropped. (A sequence CTE reading the lists from `segc_src_<source>` was
slower: DuckDB then materializes that CTE, which it reads twice.)"""
from __future__ import annotations

from sqlglot import exp

from segc.backend.trees import alias, col, ident, make_select, subquery

KEY = "segc_key"
FEATURES = "segc_features"
# the meta keys of a sequence's CTE: its DuckDB form, and what folding it needs
SEQUENCE_LISTS = "segc_sequence_lists"
_FOLD = "segc_sequence_fold"


def _lambda(body: exp.Expression, *names: str) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[ident(n) for n in names])


def _count(lst: str, test: exp.Expression, *variables: str) -> exp.Expression:
    """How many elements of the list column `lst` pass `test` (0 for a key without any)."""
    kept = exp.Anonymous(this="LIST_FILTER", expressions=[col(lst), _lambda(test, *variables)])
    return exp.Coalesce(this=exp.Length(this=kept), expressions=[exp.Literal.number(0)])


def _bounds_on_lambdas(bounds: list[exp.Expression], y: exp.Expression | None = None) -> exp.Expression:
    """The self-join's time bounds (on x.segc_t and y.segc_t) on the lambdas' x and y (or
    on `y` for the Y time)."""
    def swap(node):
        if isinstance(node, exp.Column) and node.name == "segc_t" and node.table in ("x", "y"):
            return y.copy() if node.table == "y" and y is not None else col(f"segc_{node.table}")
        return node
    return exp.and_(*(b.copy().transform(swap) for b in bounds), copy=False)


def _near_a_neighbour(bounds: list[exp.Expression]) -> exp.Expression:
    """For the sorted list segc_ys whose elements are both the X and the Y events: whether
    element segc_i (segc_x) has another within the bounds. The bounds are an interval that
    holds x itself (x <= y <= x + D, or x - D <= y <= x), so if any other element is in it,
    one of the two next to x in the sorted order is: an O(n log n) test instead of the
    O(n^2) count of every pair (benchmarks/README.md §8.9)."""
    def at(offset: int) -> exp.Expression:
        index = (exp.Sub if offset < 0 else exp.Add)(this=col("segc_i"), expression=exp.Literal.number(1))
        return exp.Bracket(this=col("segc_ys"), expressions=[index])  # NULL past the ends

    neighbours = (-1, 1)  # the element before (an equal time) and the one after
    return exp.or_(*(exp.Coalesce(this=exp.Paren(this=_bounds_on_lambdas(bounds, at(o))), expressions=[exp.false()])
                     for o in neighbours), copy=False)


def attach_list_form(cte: exp.Select, key: exp.Expression, t: exp.Expression, source: exp.Table,
                     x_where: exp.Expression, is_y: exp.Expression, y_where: exp.Expression,
                     bounds: list[exp.Expression], test, column: str, clip: exp.Expression,
                     source_cte: str) -> exp.Select:
    """`cte` (the portable self-join) carrying its DuckDB form, which rewrites.py's DuckDB
    table puts in its place when rendering; `test` the comparison of a hit count with 0;
    `is_y` None when no X event can be a Y event (sequences.disjoint: one list fewer, its
    FILTER and its lambda gone: 0.26 s of 1.2 s at 1M customers, benchmarks/README.md §8.7);
    TRUE when every X event is a Y event (segc_xs, always empty, is left out; and segc_xs_y
    too when X's filter is Y's: the X events are segc_ys)."""
    ys = exp.Coalesce(this=col("segc_ys"), expressions=[exp.Array(expressions=[])])
    near = exp.Length(this=exp.Anonymous(this="LIST_FILTER",
                                         expressions=[ys, _lambda(_bounds_on_lambdas(bounds), "segc_y")]))
    zero = exp.Literal.number(0)
    own = exp.Sub(this=near.copy(), expression=exp.Literal.number(1))  # an X event that is a Y event
    # Y without a `where`: every X event is a Y event, segc_xs would always be empty; and
    # when X's filter is Y's too (`orders followed by orders`), the X events are the Y list
    always_y = isinstance(is_y, exp.Boolean) and is_y.this is True
    same = always_y and x_where == y_where
    parts = [] if always_y else [_count("segc_xs", test(this=near, expression=zero), "segc_x")]
    if same:  # hits - 1 > 0 (followed, preceded) or hits - 1 <= 0 (not followed): a neighbour near or not
        neighbour = _near_a_neighbour(bounds)
        parts.append(_count("segc_ys", neighbour if test is exp.GT else exp.Not(this=exp.Paren(this=neighbour)),
                            "segc_x", "segc_i"))
    elif is_y is not None:
        parts.append(_count("segc_xs_y", test(this=own, expression=zero.copy()), "segc_x"))
    count = parts[0] if len(parts) == 1 else exp.Add(this=parts[0], expression=parts[1])

    def listed(cond: exp.Expression, name: str, ordered: bool = False) -> exp.Alias:
        agg = exp.Filter(this=exp.ArrayAgg(this=t.copy()), expression=exp.Where(this=cond))
        return alias(exp.Anonymous(this="LIST_SORT", expressions=[agg]) if ordered else agg, name)

    if is_y is None:  # no X event can be a Y event: every X is of segc_xs
        x_lists = [listed(x_where.copy(), "segc_xs")]
    elif always_y:
        x_lists = [] if same else [listed(x_where.copy(), "segc_xs_y")]
    else:
        not_y = exp.Not(this=exp.Coalesce(this=exp.Paren(this=is_y.copy()), expressions=[exp.false()]))
        x_lists = [listed(exp.And(this=exp.Paren(this=x_where.copy()), expression=not_y), "segc_xs"),
                   listed(exp.And(this=exp.Paren(this=x_where.copy()), expression=exp.Paren(this=is_y.copy())),
                          "segc_xs_y")]
    either = x_where.copy() if x_where == y_where else exp.Or(this=exp.Paren(this=x_where.copy()),
                                                               expression=exp.Paren(this=y_where.copy()))
    lists = make_select([alias(key.copy(), KEY), *x_lists, listed(y_where.copy(), "segc_ys", same)], source.copy(),
                        either, [key.copy()])
    form = make_select([col(KEY), alias(count, column)], subquery(lists, "segc_lists"))
    cte.meta[SEQUENCE_LISTS] = form
    cte.meta[_FOLD] = (source_cte, clip.copy(), count.copy(), list(lists.expressions[1:]))
    return cte


def foldable(with_: exp.With) -> bool:
    """Whether a CTE of `with_` carries a sequence's lists to fold: a look before the copy
    fold_into_source works on (most queries have none)."""
    return any(isinstance(c.this, exp.Select) and _FOLD in c.this.meta for c in with_.expressions)


def fold_into_source(with_: exp.With) -> bool:
    """Where the source's own GROUP BY (`segc_src_<source>`) reads exactly the events
    before the as-of, the lists become aggregates of it and the features count from them:
    the sequence's CTE and its join are gone (benchmarks/README.md §8.6). Whether it did."""
    ctes = {c.alias: c for c in with_.expressions}
    features, folded = ctes.get(FEATURES), False
    for cte in list(with_.expressions):
        fold = cte.this.meta.get(_FOLD) if isinstance(cte.this, exp.Select) else None
        src = ctes.get(fold[0]) if fold else None
        if features is None or src is None or not _reads_only_until_as_of(src.this, fold[1]):
            continue
        source_cte, _clip, count, lists = fold
        names = {}
        for a in lists:
            names[a.alias] = f"{a.alias}_{cte.alias}"
            src.this.append("expressions", alias(a.this.copy(), names[a.alias]))
        count = count.transform(lambda n: col(names[n.name], source_cte)
                                if isinstance(n, exp.Column) and n.name in names else n)
        column = cte.this.expressions[-1].alias
        features.this.transform(lambda n: count.copy() if isinstance(n, exp.Column) and n.table == cte.alias
                                and n.name == column else n, copy=False)
        features.this.set("joins", [j for j in features.this.args.get("joins") or []
                                    if not (isinstance(j.this, exp.Table) and j.this.name == cte.alias)])
        if any(t.name == cte.alias for t in with_.find_all(exp.Table)) or any(
                c.table == cte.alias for c in with_.find_all(exp.Column)):
            raise AssertionError(f"{cte.alias} still read after folding")  # pragma: no cover
        cte.pop()
        folded = True
    return folded


def _reads_only_until_as_of(select: exp.Select, clip: exp.Expression) -> bool:
    where, group = select.args.get("where"), select.args.get("group")
    return (where is not None and where.this == clip and group is not None and len(group.expressions) == 1
            and not select.args.get("joins"))
