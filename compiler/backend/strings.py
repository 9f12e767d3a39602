"""String constructs of DESIGN §8.1: `trim(x)` and `x matches "re"`."""
from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import UnsupportedError

from segc.front.regex_subset import parse, write

SPACE = " "


def trim_spaces(x: exp.Expression) -> exp.Expression:
    """TRIM with its characters spelled out: BigQuery and Trino strip every Unicode
    white space by default and DuckDB strips U+00A0 too; segc's `trim` strips the space
    (U+0020) only, as standard SQL's TRIM does."""
    return exp.Trim(this=x, expression=exp.Literal.string(SPACE))


def regex_search(x: exp.Expression, pattern: str) -> exp.Expression:
    """`x matches pattern` (a checked pattern of the portable subset) as REGEXP_LIKE with the
    pattern as RE2 (DuckDB, BigQuery) and PostgreSQL's AREs read it: `.` written as a set of
    all but LF; the engines whose `^`, `$` or search differ are rewritten as rendered
    (`engine_regex`, in the dialects' tables of rewrites.py)."""
    return exp.RegexpLike(this=x, expression=exp.Literal.string(write(parse(pattern))))


def _engine_pattern(node: exp.RegexpLike, start: str, end: str) -> exp.Literal:
    return exp.Literal.string(write(parse(node.expression.this), start=start, end=end))


def _done(node: exp.Expression) -> exp.Expression:
    # a rewrite's result is rewritten in turn (render._rewrite): this one is final
    node.meta[_FINAL] = True
    return node


_FINAL = "segc_engine_regex"


def java_regex(node: exp.RegexpLike) -> exp.Expression:
    """Spark, Databricks (Java's find): `$` also matches before a final line terminator there."""
    if node.meta.get(_FINAL):
        return node
    return _done(exp.RegexpLike(this=node.this.copy(), expression=_engine_pattern(node, "^", "\\z")))


def trino_regex(node: exp.RegexpLike) -> exp.Expression:
    """Trino (Joni, Ruby's syntax): `^` and `$` are line anchors there."""
    if node.meta.get(_FINAL):
        return node
    return _done(exp.RegexpLike(this=node.this.copy(), expression=_engine_pattern(node, "\\A", "\\z")))


def mysql_regex(node: exp.RegexpLike) -> exp.Expression:
    """MySQL (ICU): case-insensitive under a case-insensitive collation unless told 'c';
    `$` also matches before a final line terminator."""
    if node.meta.get(_FINAL):
        return node
    return _done(exp.RegexpLike(this=node.this.copy(), expression=_engine_pattern(node, "^", "\\z"),
                                flag=exp.Literal.string("c")))


def snowflake_regex(node: exp.RegexpLike) -> exp.Expression:
    """Snowflake's REGEXP_LIKE and RLIKE match the whole string: REGEXP_INSTR searches."""
    return exp.GT(this=exp.RegexpInstr(this=node.this.copy(), expression=node.expression.copy()),
                  expression=exp.Literal.number(0))


def no_regex(engine: str):
    def refuse(node: exp.RegexpLike) -> exp.Expression:
        raise UnsupportedError(f"{engine} has no regular expression function, which `matches` needs")
    return refuse
