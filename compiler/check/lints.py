"""Warnings about definitions that are valid but cannot mean what was written: a branch
that can never match, bounds that exclude each other."""
from __future__ import annotations

import datetime as dt

from segc import ir
from segc.check.types import TEMPORAL
from segc.front import ast


class Lints:
    def check_shadowed(self, node, branches) -> None:
        for i, (name, pred) in enumerate(branches):
            for earlier_name, earlier in branches[:i]:
                if pred is not None and earlier is not None and implies(pred, earlier):
                    b = node.branches[i]
                    self.warn("W102", f"branch `{name}` can never match: every customer it selects "
                              f"is already in `{earlier_name}`", b.name_span, "reorder the branches")
                    break

    def check_empty(self, node: ast.And, items) -> None:
        """Warn about conjunctions that can never hold, such as `x > 5 and x < 3`."""
        bounds: dict[str, list] = {}
        for p in items:
            if isinstance(p, ir.Cmp) and isinstance(p.left, ir.Col) and isinstance(p.right, ir.Const) \
                    and p.right.type in ir.NUMERIC + TEMPORAL:
                v = p.right.value
                if p.left.type == "timestamp" and not isinstance(v, dt.datetime):
                    v = dt.datetime.combine(v, dt.time())  # a date against a timestamp: its midnight
                bounds.setdefault(p.left.name, []).append((p.op, v))
        for name, cs in bounds.items():
            lo, lo_strict, hi, hi_strict, eq = None, False, None, False, set()
            for op, v in cs:
                if op in (">", ">=") and (lo is None or v > lo or v == lo and op == ">"):
                    lo, lo_strict = v, op == ">"
                elif op in ("<", "<=") and (hi is None or v < hi or v == hi and op == "<"):
                    hi, hi_strict = v, op == "<"
                elif op == "=":
                    eq.add(v)
            empty = len(eq) > 1
            for v in eq:
                empty |= (lo is not None and (v < lo or v == lo and lo_strict)) or \
                         (hi is not None and (v > hi or v == hi and hi_strict))
            if lo is not None and hi is not None:
                empty |= lo > hi or (lo == hi and (lo_strict or hi_strict))
            if empty:
                self.warn("W101", f"this condition can never be true: the bounds on `{name}` exclude "
                          "each other", node.span, "check the bounds (`between` takes the lower bound first)")


    def check_score_range(self, node: ast.Compare, left: ir.Value, right: ir.Value) -> None:
        """Warn about a comparison no quantile score satisfies (`quantile_score(x, 5) = 6`)."""
        flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
        op = node.op
        if isinstance(right, ir.Quantile):
            left, right, op = right, left, flipped.get(op, op)
        if not (isinstance(left, ir.Quantile) and isinstance(right, ir.Const) and right.type in ir.NUMERIC):
            return
        v = right.value
        test = {"=": lambda s: s == v, "!=": lambda s: s != v, "<": lambda s: s < v, "<=": lambda s: s <= v,
                ">": lambda s: s > v, ">=": lambda s: s >= v}[op]
        if not any(test(score) for score in range(1, left.n + 1)):
            self.warn("W101", f"this condition can never be true: `quantile_score` gives 1 to {left.n}",
                      node.span, f"compare with a score from 1 to {left.n}")


def implies(a: ir.Pred, b: ir.Pred) -> bool:
    """Provable only in simple cases: `x >= 300` implies `x >= 100`; equal conditions."""
    if a == b:
        return True
    if isinstance(a, ir.Cmp) and isinstance(b, ir.Cmp) and a.left == b.left \
            and isinstance(a.right, ir.Const) and isinstance(b.right, ir.Const):
        x, y = a.right.value, b.right.value
        try:
            if a.op in (">", ">=") and b.op in (">", ">="):
                return x > y or (x == y and (b.op == ">=" or a.op == ">"))
            if a.op in ("<", "<=") and b.op in ("<", "<="):
                return x < y or (x == y and (b.op == "<=" or a.op == "<"))
        except TypeError:
            return False
    if isinstance(a, ir.And):
        return any(implies(item, b) for item in a.items)
    return False
