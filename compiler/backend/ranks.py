"""Absolute ranks (`top 100 by f`, `bottom 50 by f`) as cuts over the population's
distinct present values (see Lowerer._cut_ctes): for a distinct value v, `segc_le` values
are <= v, `segc_n` equal it and `segc_total` are present. The top N are those with fewer
than N values strictly greater (total - le < N), so the cut is the smallest such v and
ties at the cut go in together; bottom N mirrors it (le - n < N, the largest such v)."""
from __future__ import annotations

from sqlglot import exp


def absolute_rank_test(kind: str, count: int, n: exp.Expression, le: exp.Expression,
                       total: exp.Expression):
    """(the test on a distinct value, MIN or MAX of the values passing it)."""
    limit = exp.Literal.number(count)
    if kind == "top_n":
        better = exp.Sub(this=total.copy(), expression=le.copy())
        return exp.LT(this=better, expression=limit), exp.Min
    better = exp.Sub(this=le.copy(), expression=n.copy())
    return exp.LT(this=better, expression=limit), exp.Max
