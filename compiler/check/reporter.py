"""How the checker reports: every problem is recorded as a Diagnostic and checking goes on,
so that one run shows all independent errors. `Reported` abandons the node at hand once
its problem is recorded."""
from __future__ import annotations

from dataclasses import replace

from segc.front.errors import Diagnostic
from segc.front.source import Span


class Reported(Exception):
    """Abandon the current node; its diagnostic has been recorded."""


class Reporter:
    def __init__(self) -> None:
        self.diags: list[Diagnostic] = []

    def error(self, code, message, span: Span | None, *hints, label: str = "") -> None:
        self.diags.append(Diagnostic(code, message, span, label=label, hints=tuple(h for h in hints if h)))

    def warn(self, code, message, span, *hints) -> None:
        self.diags.append(Diagnostic(code, message, span, hints=tuple(hints), severity="warning"))

    def add_hint(self, span: Span, codes: tuple[str, ...], hint: str, when=lambda d: True) -> None:
        """A hint that only the caller's context knows, added to the problem already
        recorded at `span` (the unknown name of `country = FR` is an unquoted string)."""
        for i in range(len(self.diags) - 1, -1, -1):
            d = self.diags[i]
            if d.code in codes and d.span == span and d.span.source is span.source and when(d):
                self.diags[i] = replace(d, hints=(hint,) + d.hints)  # the likelier reading first
                return
