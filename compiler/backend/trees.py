"""sqlglot trees built directly, for the lowering and every module that writes SQL:
quoted identifiers, columns, tables, SELECTs and WITHs built in place (sqlglot's chained
builders copy the tree at every step), connectives that drop TRUE / FALSE parts and add
the parentheses sqlglot's builders do not, literals of segc's types."""
from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlglot import exp


def ident(name: str) -> exp.Identifier:
    # built directly: the hottest builder of lowering, exp.to_identifier adds type checks
    return exp.Identifier(this=name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    if table:
        return exp.Column(this=ident(name), table=ident(table))
    return exp.Column(this=ident(name))


def table(name: str, alias: str | None = None) -> exp.Table:
    parts = name.split(".")
    t = exp.Table(this=ident(parts[-1]), db=ident(parts[-2]) if len(parts) > 1 else None,
                  catalog=ident(parts[-3]) if len(parts) > 2 else None)
    if alias:
        t.set("alias", exp.TableAlias(this=ident(alias)))
    return t


def alias(e: exp.Expression, name: str) -> exp.Alias:
    return exp.Alias(this=e, alias=ident(name))


def subquery(q: exp.Expression, name: str) -> exp.Subquery:
    return exp.Subquery(this=q, alias=exp.TableAlias(this=ident(name)))


def make_select(projections, source: exp.Expression, where: exp.Expression | None = None,
           group_by: list | None = None, joins: list | None = None) -> exp.Select:
    """A SELECT built in place: sqlglot's chained builders copy the tree at every step
    (and parse text for joins), which dominated compile time."""
    q = exp.Select(expressions=list(projections), from_=exp.From(this=source))
    if joins:
        q.set("joins", joins)
    if where is not None and not is_true(where):
        q.set("where", exp.Where(this=where))
    if group_by:
        q.set("group", exp.Group(expressions=group_by))
    return q


def with_ctes(q: exp.Select, ctes: list[tuple[str, exp.Expression]]) -> exp.Select:
    if ctes:
        q.set("with_", exp.With(expressions=[exp.CTE(this=body, alias=exp.TableAlias(this=ident(name)))
                                             for name, body in ctes]))
    return q


def take_ctes(q: exp.Select) -> list[exp.CTE]:
    """Detach `q`'s CTEs and return them: the lowerer's query becomes a subquery or a CTE
    of a larger one, whose WITH must hold them (a WITH is not allowed inside)."""
    with_ = q.args.get("with_")
    q.set("with_", None)
    return list(with_.expressions) if with_ else []


_TYPES: dict[str, exp.DataType] = {}


def datatype(name: str) -> exp.DataType:
    """A (copied) DataType; DataType.build parses its argument on every call."""
    if name not in _TYPES:
        _TYPES[name] = exp.DataType.build(name)
    return _TYPES[name].copy()


def paren(e: exp.Expression) -> exp.Expression:
    """sqlglot builders do not add parentheses by precedence: wrap every compound operand."""
    if isinstance(e, exp.Paren):
        return e
    if isinstance(e, (exp.Connector, exp.Binary, exp.Unary, exp.Predicate)):  # AND/OR are Funcs too
        return exp.Paren(this=e)
    if isinstance(e, (exp.Column, exp.Literal, exp.Paren, exp.Func, exp.Boolean, exp.Null)):
        return e
    return exp.Paren(this=e)


def and_(parts: list[exp.Expression]) -> exp.Expression:
    parts = dedupe(parts)
    if not parts:
        return exp.true()
    if any(isinstance(p, exp.Boolean) and p.this is False for p in parts):
        return exp.false()
    wrap = lambda p: exp.Paren(this=p) if isinstance(p, exp.Or) else p  # noqa: E731
    out = wrap(parts[0])
    for p in parts[1:]:
        out = exp.And(this=out, expression=wrap(p))
    return out


def or_(parts: list[exp.Expression]) -> exp.Expression:
    parts = [p for p in parts if not (isinstance(p, exp.Boolean) and p.this is False)]
    if not parts:
        return exp.false()
    if any(isinstance(p, exp.Boolean) and p.this is True for p in parts):
        return exp.true()
    out = parts[0]
    for p in parts[1:]:
        out = exp.Or(this=out, expression=p)  # AND binds tighter: no parentheses needed
    return out


def not_(e: exp.Expression) -> exp.Expression:
    if isinstance(e, exp.Boolean):
        return exp.false() if e.this else exp.true()
    return exp.Not(this=paren(e))


def nan_free(e: exp.Expression) -> exp.Expression:
    """A float as segc reads it: NaN is missing (DuckDB, PostgreSQL and Spark rank NaN above
    +inf and count it in comparisons and aggregates). NaN = NaN holds on those engines, so
    NULLIF finds it; dialects whose floats hold no NaN drop it (rewrites._no_nan)."""
    return exp.Nullif(this=e, expression=exp.Cast(this=exp.Literal.string("NaN"), to=datatype("DOUBLE")))


def flag(cond: exp.Expression) -> exp.Expression:
    """1 where the condition holds, else 0 (also where it is NULL): what SUM counts."""
    return exp.Case(ifs=[exp.If(this=cond, true=exp.Literal.number(1))], default=exp.Literal.number(0))


def dedupe(parts):
    # by hash, not `p not in out`, which compares each part with every earlier one
    # (quadratic in the number of conjuncts of a long `and`). A sqlglot tree's first hash
    # walks the whole tree (a fifth of the lowering's time): only parts of a class that
    # occurs twice can be equal, so only those are hashed
    parts = [p for p in parts if not (isinstance(p, exp.Boolean) and p.this is True)]
    kinds = Counter(type(p) for p in parts)
    if len(kinds) == len(parts):
        return parts
    seen, out = set(), []
    for p in parts:
        if kinds[type(p)] > 1:
            if p in seen:
                continue
            seen.add(p)
        out.append(p)
    return out


def literal(value, type_: str) -> exp.Expression:
    if type_ == "bool":
        return exp.true() if value else exp.false()
    if type_ == "string":
        return exp.Literal.string(value)
    if type_ == "date":
        return exp.Cast(this=exp.Literal.string(value.isoformat()), to=datatype("DATE"))
    if type_ == "timestamp":
        if not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time())
        return exp.Cast(this=exp.Literal.string(value.isoformat(sep=" ")), to=datatype("TIMESTAMP"))
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return exp.Literal.number(f"{value:.1f}")
    return exp.Literal.number(repr(value) if isinstance(value, float) else str(value))


def is_true(e) -> bool:
    return isinstance(e, exp.Boolean) and e.this is True
