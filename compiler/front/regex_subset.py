"""The portable regex subset of `x matches "re"` (DESIGN §8.1), read once and written for
each engine so that every engine finds the same matches.

The subset: literal characters; `.`; `[...]` with ranges (`a-z`) and `^` negation; the
quantifiers `* + ? {m} {m,} {m,n}`; `|`; `( )`; the anchors `^ $`; a backslash before a
metacharacter (`\\. \\* \\( \\\\` ...). Anything else is refused with a hint (E330):
backreferences, lookaround and `(?...)` groups or flags, `\\d`-style classes, lazy or
possessive quantifiers, unbalanced brackets, a backslash inside `[...]` (POSIX engines read
it literally there, the others as an escape), empty alternatives.

The meaning, identical everywhere (Python's `re.search` is the reference): a search, not
a full match; case-sensitive; `.` is any character but a newline (LF); `^` is the start
and `$` the end of the whole string (never of a line, never before a final newline);
`[^...]` matches a newline. Engines differ on `.` (PostgreSQL's matches a newline, Java's
and ICU's no line terminator: CR, U+0085, U+2028 neither) and on `$` (Java, ICU and
Python also match before a final newline; Ruby's Joni, in Trino, at any line end), so the
pattern is written for each: `.` always as a class of everything but LF, `$`/`^` as the
engine's end/start of input (`\\z`, `\\A`) where its own mean something else."""
from __future__ import annotations

from segc.records import record

META = frozenset(".[](){}*+?|^$\\")
NEWLINE = "\n"
MAX_REPEAT = 255  # POSIX's RE_DUP_MAX: PostgreSQL refuses larger bounds
# RE2 (DuckDB, BigQuery, ...) refuses nested counted repetitions whose bounds multiply past
# 1000 (`(a{255}){255}`), PostgreSQL calls them "too complex": the product is bounded too
MAX_NESTED_REPEAT = 1000
# one after another they add up: 400 times `[a-z]{255}` was "too complex" for PostgreSQL,
# 4,000 "too large" for DuckDB's RE2 and 19 s for SQLite's `regexp`
MAX_TOTAL_REPEAT = 5000


@record
class Token:
    kind: str  # char, any, class, start, end, quant, bar, open, close
    text: str  # the token as the pattern writes it (a char: the character itself)


class RegexError(Exception):
    def __init__(self, message: str, index: int, hint: str):
        super().__init__(message)
        self.message, self.index, self.hint = message, index, hint


_ESCAPE_HINTS = {
    "d": "write `[0-9]` instead of `\\d`", "D": "write `[^0-9]` instead of `\\D`",
    "w": "write `[A-Za-z0-9_]` instead of `\\w`", "W": "write `[^A-Za-z0-9_]` instead of `\\W`",
    "s": "write `[ ]` (a space) instead of `\\s`", "S": "write `[^ ]` instead of `\\S`",
    "b": "word boundaries differ between engines: use `^`, `$` or `[^A-Za-z0-9_]`",
    "B": "word boundaries differ between engines: use `^`, `$` or `[^A-Za-z0-9_]`",
}


def parse(pattern: str) -> list[Token]:
    """The tokens of `pattern`, or RegexError naming the first piece outside the subset."""
    tokens: list[Token] = []
    depth, i = [], 0
    # per open group: [the largest product of counted repetitions inside, that of its last item]
    repeats = [[1, 1]]
    total = 0  # the counted repetitions of the whole pattern, each with those around it
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i = _escape(pattern, i, tokens)
            repeats[-1][1] = 1
            continue
        if c == "[":
            i = _bracket(pattern, i, tokens)
            repeats[-1][1] = 1
            continue
        if c in "*+?{":
            start, i = i, _quantifier(pattern, i, tokens)
            frame = repeats[-1]
            frame[1] *= _count(tokens[-1].text)
            if frame[1] > MAX_NESTED_REPEAT:
                raise RegexError(f"nested repetitions of {frame[1]:,} times in all", start,
                                 f"counted repetitions inside one another multiply: at most "
                                 f"{MAX_NESTED_REPEAT:,} in all (RE2 and PostgreSQL refuse more)")
            frame[0] = max(frame[0], frame[1])
            total += frame[1] if frame[1] > 1 else 0
            if total > MAX_TOTAL_REPEAT:
                raise RegexError(f"counted repetitions of {total:,} times in all", start,
                                 f"a pattern may repeat its parts at most {MAX_TOTAL_REPEAT:,} times in all "
                                 "(PostgreSQL finds more too complex, RE2 too large)")
            continue
        repeats[-1][1] = 1
        if c == "(":
            repeats.append([1, 1])
            if pattern.startswith("(?", i):
                raise RegexError("`(?` groups (lookaround, flags, non-capturing or named groups) are not "
                                 "portable", i, "use a plain group `( )`; write the letters in both cases "
                                 "for a case-insensitive match, e.g. `[Gg]mail`")
            depth.append(i)
            tokens.append(Token("open", c))
        elif c == ")":
            if not depth:
                raise RegexError("a `)` closes no `(`", i, "escape it: `\\)`")
            depth.pop()
            if tokens[-1].kind in ("open", "bar"):
                raise RegexError("an empty group or alternative", i, "remove it, or make it optional with `?`")
            tokens.append(Token("close", c))
            inner = repeats.pop()[0]
            repeats[-1][0] = max(repeats[-1][0], inner)
            repeats[-1][1] = inner
        elif c == "|":
            if not tokens or tokens[-1].kind in ("open", "bar"):
                raise RegexError("an empty alternative before `|`", i, "remove the `|`, or use `?` for an optional part")
            tokens.append(Token("bar", c))
        elif c in "]}":
            raise RegexError(f"a `{c}` closes nothing", i, f"escape it: `\\{c}`")
        else:
            kind = {".": "any", "^": "start", "$": "end"}.get(c, "char")
            tokens.append(Token(kind, c))
        i += 1
    if depth:
        raise RegexError("a `(` is never closed", depth[-1], "close it with `)`, or escape it: `\\(`")
    if tokens and tokens[-1].kind == "bar":
        raise RegexError("an empty alternative after `|`", len(pattern) - 1, "remove the `|`")
    return tokens


def _escape(pattern: str, i: int, tokens: list[Token]) -> int:
    if i + 1 >= len(pattern):
        raise RegexError("the pattern ends with a lone backslash", i, "escape a backslash as `\\\\`")
    nxt = pattern[i + 1]
    if nxt not in META:
        if nxt.isdigit():
            hint = "backreferences are not portable; repeat the text instead"
        else:
            hint = _ESCAPE_HINTS.get(nxt, "a backslash may only precede a metacharacter: . [ ] ( ) { } * + ? | ^ $ \\")
        raise RegexError(f"`\\{nxt}` is not in the portable subset", i, hint)
    tokens.append(Token("char", nxt))
    return i + 2


def _bracket(pattern: str, i: int, tokens: list[Token]) -> int:
    start, j = i, i + 1
    if j < len(pattern) and pattern[j] == "^":
        j += 1
    first = j
    while j < len(pattern) and pattern[j] != "]":
        c = pattern[j]
        if c in "[\\":
            raise RegexError(f"a `{c}` inside `[...]` is not portable (POSIX classes, escapes and nested "
                             "sets differ between engines)", j,
                             "list the characters themselves; for a `]` or `\\` use an alternative, "
                             "e.g. `(\\]|[a-z])`")
        if c == "&" and pattern.startswith("&&", j):
            raise RegexError("`&&` inside `[...]` is an intersection in Java", j, "write `&` once")
        if pattern.startswith("-", j + 1) and j + 2 < len(pattern) and pattern[j + 2] != "]":
            hi = pattern[j + 2]  # a range c-hi
            if hi in "[\\" or c > hi:
                raise RegexError(f"a bad range `{c}-{hi}` in `[...]`", j,
                                 "a range goes from the smaller character to the larger, e.g. `a-z`")
            j += 3
            continue
        if c == "-" and j != first and j + 1 < len(pattern) and pattern[j + 1] != "]":
            raise RegexError("a `-` in the middle of `[...]` that is not a range", j,
                             "put a literal `-` first or last in the set")
        j += 1
    if j >= len(pattern):
        raise RegexError("a `[` is never closed", start, "close it with `]`, or escape it: `\\[`")
    if j == first:
        raise RegexError("an empty set `[]`", start, "a set lists at least one character; a `]` cannot be in one")
    tokens.append(Token("class", pattern[start:j + 1]))
    return j + 1


def _quantifier(pattern: str, i: int, tokens: list[Token]) -> int:
    c = pattern[i]
    if c == "{":
        end = pattern.find("}", i)
        body = pattern[i + 1:end] if end > 0 else ""
        parts = body.split(",")
        if end < 0 or len(parts) > 2 or not parts[0].isdigit() or not (parts[-1].isdigit() or parts[-1] == "" and len(parts) == 2):
            raise RegexError("a `{` that is not a repetition `{m}`, `{m,}` or `{m,n}`", i, "escape it: `\\{`")
        low = int(parts[0])
        high = int(parts[1]) if len(parts) == 2 and parts[1] else low
        if low > high or high > MAX_REPEAT:
            raise RegexError(f"a bad repetition `{{{body}}}`", i,
                             f"m <= n, and at most {MAX_REPEAT} (POSIX engines refuse more)")
        text, nxt = pattern[i:end + 1], end + 1
    else:
        text, nxt = c, i + 1
    if not tokens or tokens[-1].kind in ("open", "bar", "start", "end", "quant"):
        what = "another quantifier (lazy and possessive quantifiers are not portable)" \
            if tokens and tokens[-1].kind == "quant" else "nothing to repeat"
        raise RegexError(f"`{text}` follows {what}", i, f"escape it to match it literally: `\\{c}`")
    tokens.append(Token("quant", text))
    return nxt


def _count(quantifier: str) -> int:
    """How many times a quantifier repeats, as RE2 counts it: `{m,n}` n, `{m,}` m, others 1."""
    if not quantifier.startswith("{"):
        return 1
    low, _comma, high = quantifier[1:-1].partition(",")
    return max(int(high or low), 1)


def write(tokens: list[Token], start: str = "^", end: str = "$") -> str:
    """The pattern for an engine: `.` as a set of all but LF, the anchors as given."""
    out = []
    for t in tokens:
        if t.kind == "char":
            out.append("\\" + t.text if t.text in META else t.text)
        elif t.kind == "any":
            out.append("[^" + NEWLINE + "]")
        elif t.kind == "start":
            out.append(start)
        elif t.kind == "end":
            out.append(end)
        else:
            out.append(t.text)
    return "".join(out)
