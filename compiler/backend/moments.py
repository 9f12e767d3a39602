"""A number's mean and sample standard deviation from three sums (COUNT, SUM, SUM of
squares, as doubles) that are the same bits on every run: DuckDB's AVG and STDDEV vary in
the last digits with the order its threads meet the rows, so a profile printed twice
differed. The sums are marked FLOAT_SUM (DuckDB writes FSUM); the division is Python's."""
from __future__ import annotations

import math

from sqlglot import exp

from segc.backend.rewrites import FLOAT_SUM


def float_sum(x: exp.Expression) -> exp.Sum:
    """SUM of floats, marked as lower.py marks the features' (the same bits on every run)."""
    node = exp.Sum(this=x)
    node.meta[FLOAT_SUM] = True
    return node


def moments(v) -> list:
    """COUNT, SUM and SUM of squares of the number `v` (a sqlglot tree)."""
    x = exp.cast(v.copy(), exp.DataType.build("double"))
    return [exp.Count(this=v.copy()), float_sum(x), float_sum(exp.Mul(this=x.copy(), expression=x.copy()))]


def mean_sd(figures) -> tuple[float | None, float | None]:
    """(mean, sample stddev) from moments()'s (count, sum, sum of squares); None where
    there are no values (no stddev for one)."""
    n, total, squares = int(figures[0] or 0), figures[1], figures[2]
    if not n:
        return None, None
    mean = total / n
    if n < 2:
        return mean, None
    return mean, math.sqrt(max(0.0, (squares - total * mean) / (n - 1)))
