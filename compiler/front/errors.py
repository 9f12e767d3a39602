"""One diagnostic type for every problem in the user's input, rendered once."""
from __future__ import annotations

from typing import Literal

from segc.front.printable import visible
from segc.front.source import Span
from segc.records import record

Severity = Literal["error", "warning"]


@record
class Diagnostic:
    code: str
    message: str
    span: Span | None = None
    label: str = ""  # shown under the caret
    hints: tuple[str, ...] = ()
    severity: Severity = "error"
    file: str | None = None  # when there is no span (e.g. a missing file)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    @property
    def location(self) -> str:
        if self.span is not None:
            return f"{self.span.file}:{self.span.line}:{self.span.col}"
        return self.file or ""

    def to_dict(self) -> dict:
        out: dict = {"code": self.code, "severity": self.severity, "message": self.message}
        if self.span is not None:
            end_line, end_col = self.span.source.line_col(self.span.end)
            out.update(file=self.span.file, line=self.span.line, col=self.span.col,
                       end_line=end_line, end_col=end_col)
        elif self.file:
            out["file"] = self.file
        out["hints"] = list(self.hints) + ([self.label] if self.label else [])
        return out


class SegcError(Exception):
    """Raised by every API call whose input has errors; carries all the diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = list(diagnostics)
        super().__init__(render_text(self.diagnostics))


class Interrupted(Exception):
    """Ctrl-C during a query: the engine was told to stop; it may still be unwinding in
    its worker thread. Not a KeyboardInterrupt, so that it reaches the caller (click
    turns a KeyboardInterrupt into `Aborted!` and a normal exit under the running query)."""


def sort_key(d: Diagnostic):
    if d.span is not None:
        return (d.span.file, d.span.start, d.code)
    return (d.file or "", -1, d.code)


def _render_one(d: Diagnostic) -> str:
    """The diagnostic for a terminal: the user's text in it (a source line, a file name,
    a quoted literal) with its control characters shown escaped (printable.py)."""
    head = f"{d.severity}[{d.code}]: {visible(d.message)}"
    lines = [head]
    if d.span is not None:
        span = d.span
        line, col = span.line, span.col
        end_line, end_col = span.source.line_col(max(span.end, span.start))
        gutter = " " * len(str(line))
        text = span.source.line_text(line)
        width = (end_col - col) if end_line == line else len(text) - col + 1
        shown, before, width = _excerpt(text, col, width)
        lines += [
            f"{gutter}--> {visible(span.file)}:{line}:{col}",
            f"{gutter} |",
            f"{line} | {visible(shown)}",
            f"{gutter} | {_blank(visible(before))}{'^' * max(width, 1)}" + (f" {visible(d.label)}" if d.label else ""),
        ]
    elif d.file:
        lines.append(f" --> {visible(d.file)}")
    lines += [f"  = hint: {visible(h)}" for h in d.hints]
    return "\n".join(lines)


EXCERPT = 120  # characters of a source line shown around a problem


def _excerpt(text: str, col: int, width: int) -> tuple[str, str, int]:
    """(the part of the line shown, its part before the caret, the caret's width): a long
    line (a generated .seg file can be one line of megabytes) is cut to EXCERPT characters
    around the problem, `…` marking the cuts; the position printed above stays exact."""
    if len(text) <= EXCERPT:
        return text, text[:col - 1], width
    start = max(0, min(col - 1 - EXCERPT // 3, len(text) - EXCERPT))
    end = start + EXCERPT
    left, right = ("…" if start else ""), ("…" if end < len(text) else "")
    return left + text[start:end] + right, left + text[start:col - 1], min(width, end - (col - 1))


def _blank(prefix: str) -> str:
    """The indentation under `prefix` that keeps the caret aligned (tabs stay tabs)."""
    return "".join("\t" if ch == "\t" else " " for ch in prefix)


def render_text(diagnostics: list[Diagnostic]) -> str:
    return "\n\n".join(_render_one(d) for d in sorted(diagnostics, key=sort_key))


def render_json(diagnostics: list[Diagnostic], **extra) -> str:
    body = {"diagnostics": [d.to_dict() for d in sorted(diagnostics, key=sort_key)],
            "errors": sum(d.is_error for d in diagnostics),
            "warnings": sum(not d.is_error for d in diagnostics)}
    body.update(extra)
    import json  # here: `segc compile` prints no JSON (start-up)

    return json.dumps(body, indent=2, ensure_ascii=False)


def render_github(diagnostics: list[Diagnostic]) -> str:
    """GitHub Actions workflow commands: one annotation per diagnostic."""
    def esc(s: str) -> str:
        return visible(s).replace("%", "%25").replace("\n", "%0A")

    def esc_property(s: str) -> str:  # `,` and `:` would end a property (a file named a,b.seg)
        return esc(s).replace(":", "%3A").replace(",", "%2C")

    out = []
    for d in sorted(diagnostics, key=sort_key):
        params = []
        if d.span is not None:
            params += [f"file={esc_property(d.span.file)}", f"line={d.span.line}", f"col={d.span.col}"]
        elif d.file:
            params.append(f"file={esc_property(d.file)}")
        params.append(f"title={d.code}")
        kind = "error" if d.is_error else "warning"
        # the hints too: on the pull request the annotation is all the reader sees
        text = "\n".join([d.message, *(f"hint: {h}" for h in ([d.label] if d.label else []) + list(d.hints))])
        out.append(f"::{kind} {','.join(params)}::{esc(text)}")
    return "\n".join(out)


def known_names_hint(features, segments, shown: int = 8) -> str:
    """The hint of an unknown name that resembles none: a few of the names that exist."""
    def some(names) -> str:
        names = sorted(names)
        return ", ".join(f"`{n}`" for n in names[:shown]) + (", ..." if len(names) > shown else "")

    hint = "features are declared in segc.yml under `features:`"
    hint += f" (here: {some(features)})" if features else " (this project has none yet)"
    return hint + (f"; segments: {some(segments)}" if segments else "")


def suggest(name: str, candidates) -> str | None:
    """The closest known name, for 'did you mean'."""
    import difflib

    candidates = list(candidates)
    folded = [c for c in candidates if str(c).lower() == name.lower()]  # `fr` -> `FR`
    if folded:
        return folded[0]
    found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return found[0] if found else None
