"""String constructs of DESIGN §8.1: `trim(x)` and `x matches "re"`."""
from __future__ import annotations

from sqlglot import exp

SPACE = " "


def trim_spaces(x: exp.Expression) -> exp.Expression:
    """TRIM with its characters spelled out: BigQuery and Trino strip every Unicode
    white space by default and DuckDB strips U+00A0 too; segc's `trim` strips the space
    (U+0020) only, as standard SQL's TRIM does."""
    return exp.Trim(this=x, expression=exp.Literal.string(SPACE))
