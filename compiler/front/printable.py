"""Text of the user's (source lines, file and project names, data values) made safe to
show: on a terminal an escape sequence from a .seg file or a warehouse value would move
the cursor, hide text or set the window's title (`segc diff` shows someone else's
revision), and in a generated SQL file a line break would end a `--` comment. Each such
character is shown as its Python escape (`\\x1b`, `\\u202e`); the rest stays as it is."""
from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, the line and paragraph separators,
# and the bidirectional overrides and isolates (they reorder what a reader sees)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def visible(text: str) -> str:
    """`text` with its control characters escaped; tabs and line breaks kept."""
    return _CONTROL.sub(_escape, text)


def one_line(text: str) -> str:
    """`text` on one line: every control character escaped, tabs and line breaks too."""
    return _CONTROL_OR_BREAK.sub(_escape, text)


def has_control(text: str) -> bool:
    """Whether `text` holds a character that one_line() would escape."""
    return _CONTROL_OR_BREAK.search(text) is not None
