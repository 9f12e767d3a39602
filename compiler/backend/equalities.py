"""`x = 1 or x = 2 or ...` lowered as `x in [1, 2, ...]`: the same condition (missing x:
neither holds; under a `not` both are guarded alike), but engines plan a list in linear
time, while DuckDB's planner is quadratic in a chain of equalities (20,000 of them took
14 s to plan, 60,000 most of a minute: benchmarks/README.md §5)."""
from __future__ import annotations

from segc import ir
from segc.check.types import contains_quantile


def _equality(p: ir.Pred):
    """(value, constant) of `value = constant` (either side), else None. A quantile score
    keeps its comparisons: the lowering turns them into cuts."""
    if not isinstance(p, ir.Cmp) or p.op != "=":
        return None
    for value, const in ((p.left, p.right), (p.right, p.left)):
        if isinstance(const, ir.Const) and not isinstance(value, ir.Const) and not contains_quantile(value):
            return value, const
    return None


def equalities_as_sets(items: tuple[ir.Pred, ...]) -> tuple[ir.Pred, ...]:
    """The items of an `or`, two or more equalities of one value with constants merged
    into one list, at the place of the first of them."""
    groups: dict[ir.Value, list[int]] = {}
    equalities = [_equality(p) for p in items]
    for i, eq in enumerate(equalities):
        if eq is not None:
            groups.setdefault(eq[0], []).append(i)
    firsts = {positions[0]: value for value, positions in groups.items() if len(positions) > 1}
    if not firsts:
        return items
    merged = {i for value in firsts.values() for i in groups[value]}
    out = []
    for i, p in enumerate(items):
        if i in firsts:
            consts = dict.fromkeys(equalities[j][1] for j in groups[firsts[i]])
            out.append(ir.InSet(firsts[i], tuple(consts), False))
        elif i not in merged:
            out.append(p)
    return tuple(out)
