"""The pattern of `x matches "re"`: a string literal in the portable regex subset
(segc.front.regex_subset), checked here so that a pattern an engine would read otherwise
never reaches SQL (E330, pointing at the offending character)."""
from __future__ import annotations

from segc.check.reporter import Reported
from segc.front import ast
from segc.front.regex_subset import RegexError, parse
from segc.front.source import Span


def checked_regex(checker, pattern: ast.Expr) -> str:
    """The pattern's text, or E330 (recorded on `checker`) and Reported."""
    if not (isinstance(pattern, ast.Literal) and pattern.type == "string"):
        checker.error("E330", "the pattern of `matches` must be a string literal", pattern.span,
                      "write the regex in quotes, e.g. `email matches \"@gmail\\\\.com$\"`: it is checked "
                      "when the segment is compiled, so it cannot come from a feature or a $parameter")
        raise Reported
    try:
        parse(pattern.value)
    except RegexError as e:
        checker.error("E330", f"the pattern is outside the portable regex subset: {e.message}",
                      _char_span(pattern.span, e.index), e.hint,
                      "the subset: literal characters, `.`, `[...]` (ranges, `^`), `* + ? {m,n}`, `|`, "
                      "`( )`, `^ $`, and a backslash before one of . [ ] ( ) { } * + ? | ^ $ \\")
        raise Reported
    return pattern.value


def _char_span(span: Span | None, index: int) -> Span | None:
    """The span of the pattern's index-th character inside its quoted literal (escapes
    such as `\\\\.` take two characters of the source, `\\uXXXX` six)."""
    if span is None:
        return None
    raw = span.text()
    if not raw or raw[0] not in "\"'":
        return span
    pos = 1
    for _ in range(index):
        if pos >= len(raw) - 1:
            return span
        pos += (6 if raw[pos + 1:pos + 2] == "u" else 2) if raw[pos] == "\\" else 1
    end = pos + ((6 if raw[pos + 1:pos + 2] == "u" else 2) if raw[pos] == "\\" else 1)
    return Span(span.source, span.start + pos, min(span.start + end, span.end))
