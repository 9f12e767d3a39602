"""`x.y` whose `x` is not a segmentation: say what `x` is (an event source, a segment, a
feature, a score, or no name at all) and how the user likely meant it. The language gives
`x.y` two meanings: a branch of a segmentation (a condition), and a column of an event
source inside an aggregate (`sum(orders.amount)`); a SQL user writes the second one
anywhere (`orders.amount > 100`, `carts.abandoned`)."""
from __future__ import annotations

from segc import ir
from segc.check.reporter import Reported
from segc.front import ast
from segc.front.errors import suggest


def event_column_examples(source: str, column: str, type_: str, is_time: bool) -> str:
    """How a column of an event source is used, for the hints: inside an aggregate."""
    if is_time:
        return f"`exists({source} during last 30 days)` or `max({source}.{column})`"
    if type_ in ir.NUMERIC:
        return f"`sum({source}.{column}) > 100` or `count({source} where {column} > 100) >= 1`"
    if type_ == "bool":
        return f"`exists({source} where {column})` or `last({source}.{column})`"
    return f"`last({source}.{column}) = ...` or `count({source} where {column} = ...) >= 1`"


class DottedNames:
    def not_a_segmentation(self, node: ast.Dotted, scope) -> None:
        """Report `x.y` whose `x` is not a segmentation (as a condition or as a value)."""
        left, right, text = node.left, node.right, f"`{node.left}.{node.right}`"
        if left in self.broken:  # its own error is reported
            raise Reported
        src = self.schema.sources.get(left)
        if src is not None and src.key is not None:
            self.event_column_outside(node, src, scope)
        if src is not None:  # the base
            close = suggest(right, self.schema.features)
            self.error("E201", f"`{left}` is the base: its columns are used through features", node.span,
                       f"name the feature alone: `{right if right in self.schema.features else close}`"
                       if right in self.schema.features or close else
                       "declare a feature for it under `features:` in segc.yml, then name it alone")
            raise Reported
        segmentations = [n for n, (d, _f) in self.defs.items() if isinstance(d, ast.Segmentation)]
        listed = (f"segmentations: {', '.join(segmentations)}" if segmentations else "the project has no segmentation")
        kind = ("segment" if left in self.defs else "feature" if left in self.schema.features
                else "score" if left in self.schema.scores else None)
        if kind is not None:
            self.error("E201", f"`{left}` is a {kind}, not a segmentation: it has no branches", node.span,
                       f"`{left}` is used alone; `name.branch` names a branch of a segmentation ({listed})")
            raise Reported
        events = [n for n, s in self.schema.sources.items() if s.key is not None]
        close = suggest(left, segmentations + events)
        self.error("E201", f"unknown segmentation or event source `{left}` in {text}", node.span,
                   f"did you mean `{close}.{right}`?" if close else
                   f"`name.branch` names a branch of a segmentation ({listed}); `source.column` is used "
                   f"inside an aggregate (event sources: {', '.join(events) or 'none'})")
        raise Reported

    def event_column_outside(self, node: ast.Dotted, src, scope) -> None:
        """`orders.amount` outside an aggregate, or inside one's `where` (where it is named alone)."""
        columns = self.event_columns(src)
        if node.right not in columns:
            self.no_event_column(src.name, node.right, columns, node.span)
        if scope.kind == "event" and scope.source == src.name:
            self.error("E302", f"`{src.name}.{node.right}` inside `where`: a column of `{src.name}` is named "
                       "alone there", node.span, f"write `{node.right}`")
            raise Reported
        examples = event_column_examples(src.name, node.right, columns[node.right], node.right == src.time)
        self.error("E302", f"`{src.name}.{node.right}` is used outside an aggregate: `{src.name}` is an event "
                   "source", node.span,
                   f"`{node.right}` is a column of `{src.name}`; use it inside an aggregate, e.g. {examples}")
        raise Reported
