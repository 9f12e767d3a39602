"""The types of checked values, as the checker reports them."""
from __future__ import annotations

import datetime as dt

from segc import ir

TEMPORAL = ("date", "timestamp")
ERROR = "error"  # the type of something already reported: compatible with everything


def contains_quantile(v) -> bool:
    if isinstance(v, ir.Quantile):
        return True
    if isinstance(v, ir.Arith):
        return contains_quantile(v.left) or contains_quantile(v.right)
    if isinstance(v, (ir.Neg,)):
        return contains_quantile(v.operand)
    if isinstance(v, ir.DateShift):
        return contains_quantile(v.base)
    if isinstance(v, ir.Func):
        return any(contains_quantile(a) for a in v.args)
    return False


def as_datetime(value) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())


def is_fixed(v: ir.Value | None) -> bool:
    """The same for every entity: literals, `today`, parameters and date shifts of them."""
    if v is None or isinstance(v, (ir.Const, ir.AsOf)):
        return True
    if isinstance(v, ir.DateShift):
        return is_fixed(v.base)
    if isinstance(v, ir.Func) and v.name.startswith("trunc_"):
        return all(is_fixed(a) for a in v.args)
    return False


def type_of(v: ir.Value) -> str:
    return getattr(v, "type", ERROR)


def same_kind(a: str, b: str) -> bool:
    return a == b or (a in ir.NUMERIC and b in ir.NUMERIC) or (a in TEMPORAL and b in TEMPORAL)


def describe(t: str) -> str:
    return {"int": "a whole number", "float": "a number", "string": "a string", "bool": "true/false",
            "date": "a date", "timestamp": "a timestamp", ERROR: "an invalid value"}.get(t, t)


def condition_hint(node, value) -> str:
    t = type_of(value)
    text = node.span.text() if node.span else "x"
    if t in ir.NUMERIC:
        return f"compare it, e.g. `{text} > 0`"
    if t == "string":
        return f"compare it, e.g. `{text} = \"...\"`"
    if t in TEMPORAL:
        return f"compare it, e.g. `{text} within last 30 days`"
    return ""
