"""W717, a data check of `segc check --data`: a comparison with `quantile_score` that one
tied value decides (one query per ranked value; counts and shares only, never a value)."""
from __future__ import annotations

from sqlglot import exp

from segc import ir
from segc.backend.lower import Lowerer
from segc.backend.trees import alias, and_, col, ident
from segc.front.errors import Diagnostic


def quantile_ties(project, as_of=None) -> list[Diagnostic]:
    """W717: a comparison with `quantile_score(f, n)` that one tied value decides: a value
    of f held by more than 1/n of the population's present values, whose holders all get
    one score, and that score is on the selected side (`quantile_score(revenue, 5) >= 3`
    where 43% have 0 revenue: they all score 3, so the segment holds everyone at 0). One
    query per ranked value: the most frequent value's count, how many are at or below it,
    and how many are present. Only counts and shares are shown, never the value."""
    uses: dict[ir.Quantile, list[tuple[str, str | None, object]]] = {}
    for name, pred in _definitions(project):
        for q, op, c in _score_comparisons(pred):
            uses.setdefault(q, []).append((name, op, c))
    out = []
    for q, comparisons in uses.items():
        top, le, present = project.run(_tie_query(project, q, as_of))[0] or (0, 0, 0)
        if not present or top * q.n <= present:
            continue
        tied_score = -(-q.n * le // present)  # ceil(n * share <= the tied value)
        names = list(dict.fromkeys(n for n, op, c in comparisons if op is None or _HOLDS[op](tied_score, c)))
        if not names:
            continue
        first = project.definition(names[0])
        features = ", ".join(sorted(ir.features_read(q.by))) or "a value"
        out.append(Diagnostic(
            "W717", f"`quantile_score` of {features} (n = {q.n}) in {', '.join(f'`{n}`' for n in names)}: one value "
            f"holds {top / present:.0%} of the population's values, more than 1/{q.n}; all of them score "
            f"{tied_score}, so the comparison is decided by that tie, not by rank",
            getattr(first.node, "name_span", None) or first.node.span, severity="warning",
            hints=("rank a value that is missing where it means nothing (an average of orders, not a sum "
                   "that is 0 for non-buyers), or compare the value itself",)))
    return out


_HOLDS = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
          "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
_FLIP = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _tie_query(project, q: ir.Quantile, as_of):
    def select(lw: Lowerer):
        return [alias(lw.value(q.by), "segc_value")], and_(lw.guards(q.by))

    inner = project.lowerer(as_of).query(project.checked.population, select)
    n = exp.Count(this=exp.Star())
    per_value = (exp.select(alias(n, "segc_n"),
                            alias(exp.Window(this=exp.Sum(this=n.copy()), order=exp.Order(
                                expressions=[exp.Ordered(this=col("segc_value"))])), "segc_le"),
                            alias(exp.Window(this=exp.Sum(this=n.copy())), "segc_total"))
                 .from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=ident("segc_values"))))
                 .group_by(col("segc_value")))
    return (exp.select(col("segc_n"), col("segc_le"), col("segc_total"))
            .from_(exp.Subquery(this=per_value, alias=exp.TableAlias(this=ident("segc_ties"))))
            .order_by(exp.Ordered(this=col("segc_n"), desc=True), col("segc_le")).limit(1))


def _definitions(project):
    """Segments and segmentation branches, but not `else` (it holds what the others leave)."""
    others = {f"{s}.{b}" for s, info in project.checked.segmentations.items() for b, p in info.branches if p is None}
    for name, d in project.checked.segments.items():
        if name not in others:
            yield name, d.pred


def _score_comparisons(node, out: list | None = None) -> list:
    """(quantile, op, constant) of each `quantile_score(...) op constant`; (quantile, None,
    None) where a score is used otherwise (any tie may decide it)."""
    out = [] if out is None else out
    if isinstance(node, ir.Cmp):
        for q, c, op in ((node.left, node.right, node.op), (node.right, node.left, _FLIP[node.op])):
            if isinstance(q, ir.Quantile) and isinstance(c, ir.Const):
                out.append((q, op, c.value))
                _score_comparisons(q.by, out)
                return out
    if isinstance(node, ir.Quantile):
        out.append((node, None, None))
    for child in ir.sub_trees(node):
        _score_comparisons(child, out)
    return out
