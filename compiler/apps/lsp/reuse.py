"""When the checker's last diagnostics can stand for a new check without running it again.

The safe case only: one file changed, and only between its definitions (blank lines,
`#` comments, spacing between definitions). Each definition's text is then the same as
before, only moved, and its parse is equal (the syntax tree compares without positions),
so the checker would report the same problems, at the same places in each definition's
text: the earlier diagnostics are moved with their definition. Anything else (an edit
inside a definition, a problem outside every definition, a message naming the changed
file, as E213's "first defined at file:line" does) answers None: check again."""
from __future__ import annotations

from dataclasses import replace

from segc.front.errors import Diagnostic
from segc.front.source import Span


def moved(diags: list[Diagnostic], file: str, old, new) -> list[Diagnostic] | None:
    """`diags` (the checker's, on the project with `old` as the module of `file`) as they
    are with `new` instead, or None when that cannot be known without checking."""
    if old is None or new is None or old != new or len(old.definitions) != len(new.definitions):
        return None
    pairs = list(zip(old.definitions, new.definitions))
    if any(a.span is None or b.span is None or a.span.text() != b.span.text() for a, b in pairs):
        return None
    out = []
    for d in diags:
        if file in d.message or file in d.label or any(file in h for h in d.hints):
            return None  # it names a place in the file, which may have moved
        if d.span is None or d.span.file != file:
            out.append(d)
            continue
        home = next(((a, b) for a, b in pairs if a.span.start <= d.span.start and d.span.end <= a.span.end), None)
        if home is None:
            return None
        shift = home[1].span.start - home[0].span.start
        out.append(replace(d, span=Span(home[1].span.source, d.span.start + shift, d.span.end + shift)))
    return out
