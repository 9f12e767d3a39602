"""How the checker reports: every problem is recorded as a Diagnostic and checking goes on,
so that one run shows all independent errors. `Reported` abandons the node at hand once
its problem is recorded."""
from __future__ import annotations

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
