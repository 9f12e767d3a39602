"""Sequences (DESIGN §8.1): `count(X [during w] followed by Y within D)`, `not followed by`,
`preceded by`, and the same inside `exists(...)`. X is checked as the aggregate's own
source (its `where` sees X's columns); this mixin checks the Y side: its source, its
`where` (which sees Y's columns) and the bound D."""
from __future__ import annotations

from segc import ir
from segc.check.definitions import Scope
from segc.check.reporter import Reported
from segc.front import ast
from segc.front.errors import suggest


class Sequences:
    def sequence(self, node: ast.Aggregate, x_source) -> ir.Sequence:
        seq = node.sequence
        if node.func not in ("count", "exists"):
            self.error("E304", f"a sequence (`{_words(seq.kind)}`) can only be counted, not `{node.func}`",
                       node.span, "write `count(X followed by Y within D)` or `exists(...)`")
            raise Reported
        y = self.schema.sources.get(seq.source)
        events = [n for n, s in self.schema.sources.items() if s.key and n != self.schema.base]
        if y is None or seq.source == self.schema.base or y.key is None:
            what = ("is the base, not an event source" if seq.source == self.schema.base else
                    "is not a source" if y is None else "has no `key:` joining it to the base")
            close = suggest(seq.source, events) if y is None else None
            self.error("E209", f"`{seq.source}` after `{_words(seq.kind)}` {what}", seq.span,
                       f"did you mean `{close}`?" if close else "the events after `followed by` must belong to the same customers as the counted "
                       "ones: an event source with a `key:` (" + (", ".join(events) or "none declared") + ")")
            raise Reported
        for name, src, span in ((node.source, x_source, node.span), (seq.source, y, seq.span)):
            if src.time is None:
                self.error("E210", f"a sequence needs a time column, and source `{name}` declares no `time:`",
                           span, f"add `time: <column>` to source `{name}`")
                raise Reported
        where = None
        if seq.where is not None:
            where = self.pred(seq.where, Scope("event", self.event_columns(y), seq.source))
        amount, unit = seq.within.amount, seq.within.unit
        if ir.shift_years(amount, unit) > ir.MAX_SHIFT_YEARS:  # as a window's shift (periods.shifted)
            # the bound moves every event's time by D: past the engines' dates, a run-time error
            self.error("E309", f"`within` moves a time by more than {ir.MAX_SHIFT_YEARS} years", seq.within.span,
                       ir.DATE_RANGE_HINT)
            raise Reported
        if unit == "week":  # as date shifts do (periods.shift): not every dialect has a week unit
            amount, unit = amount * 7, "day"
        return ir.Sequence(seq.kind, seq.source, where, amount, unit)


def _words(kind: str) -> str:
    return kind.replace("_", " ") + " by"
