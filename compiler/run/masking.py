"""Engine messages without data values. An engine's error may quote a row's value (DuckDB:
`Could not convert string "jane.doe@example.com" to 'DATE'`; PostgreSQL: `invalid input
syntax for type date: "jane.doe@example.com"`; Spark: `The value 'tok_1' of the type
"STRING" cannot be cast to "INT"`), and that value may be personal data. `mask_values` is
the one place that removes them; `engine.engine_message` applies it to every engine error
segc shows.

The rules, in order (each masked value becomes `…`, quotes kept so the shape stays readable):
1. Known phrasings whose value may hold anything (quotes, spaces, a newline): the value
   between the phrase and its known end is masked whole (`_VALUE_PHRASES`).
2. Every other quoted span: single, double, backtick or dollar quotes (`$$…$$`,
   `$tag$…$tag$`), and an unclosed quote to the end of the text.
   Kept, because they are names, not data: a double-quoted or backticked name right after
   `column`, `relation`, `table`, `schema`, ... (and the names listed after it, and in a
   `Did you mean ...? [...]` list), and a quoted SQL type name (`'DATE'`, `"DECIMAL(10,2)"`).
   The SQL segc runs names only what segc.yml and the definitions declare, so a name there
   is never a row's value. When a span is not clearly a name, it is masked.
3. Unquoted: anything with an `@` (an e-mail address), every number and date-like token
   (`99999999999L`, `2024-13-40`) except a position (`Line: 2`, `line 1 pos 7`, `byte 3`,
   `position: 0`), an SQLSTATE and a type's size (`DECIMAL(10,2)`), and every word mixing
   lowercase letters and digits (`tok_9f8e7d6c5b4a`).
"""
from __future__ import annotations

import re

MASK = "…"

# The value of each phrasing (the group `v`): it runs greedily, within its line, to the
# phrasing's end, so quotes or spaces inside the value cannot end the mask early.
_VALUE_PHRASES = [re.compile(p) for p in (
    # DuckDB
    r"Could not convert string (?P<v>.*) to '?[A-Z][A-Z0-9_]*",
    r"field format: (?P<v>.*), expected format is",
    r"field value out of range: (?P<v>.*)",
    r"Original Line: (?P<v>.*)",
    r"Input: (?P<v>.*)",
    r"Could not parse string (?P<v>.*) according to format",
    r"with value (?P<v>\S+) can't be cast",
    r"according to format specifier [^\n]*\n(?P<v>.*)",  # strptime repeats the string below
    r"Invalid input for (?:hex|binary) digit: (?P<v>.*)",
    # RE2 (DuckDB's regexes): the pattern's piece after the error, a row's value when the
    # pattern is a column
    r"(?:missing \)|missing \]|unexpected \)|invalid escape sequence|invalid character class(?: range)?|"
    r"missing argument to repetition operator|(?:bad|invalid nested) repetition operator|"
    r"invalid repetition size|invalid perl operator|invalid named capture group|trailing \\|"
    r"invalid UTF-8): (?P<v>.*)",
    # PostgreSQL
    r"invalid input syntax for type [^:\n]*: (?P<v>.*)",
    r"invalid input value for enum [^:\n]*: (?P<v>.*)",
    r"\bvalue (?P<v>.*) is out of range for type",
    r"invalid value (?P<v>.*) for \"",
    r"Failing row contains (?P<v>.*)",
    r"Token (?P<v>.*) is invalid",
    r"JSON data, line \d+: (?P<v>.*)",
    # Spark
    r"The value (?P<v>.*) of the type ",
    r"Text (?P<v>.*) could not be parsed",
    r"\] (?P<v>.*) cannot be represented as ",
    r"near index \d+\s*\n(?P<v>.*)",  # java.util.regex repeats the pattern below
)]

# an apostrophe between letters (`can't`) opens no quote
_QUOTED = re.compile(r"""(?<![A-Za-z])'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\$(\w*)\$.*?(?:\$\1\$|\Z)""", re.S)
# words after which a double-quoted or backticked span is a name of the query's objects
_NAME_CONTEXT = re.compile(
    r"(?i)\b(?:columns?|relation|table|view|schema|database|catalog|function|constraint|"
    r"with name|bindings?|alias|field|name|parameter|index|sequence|role)\s*:?\s*\(?$")
_NAME_LIST = re.compile(r"(?i)(?:did you mean[^?\n]*\?\s*\[|,\s*|\.)$")
_IDENTIFIER = re.compile(r"[\w$]+(?:\.[\w$]+){0,3}|[\w$ -]{1,64}")
_TYPE = re.compile(
    r"(?:STRING|VARCHAR|TEXT|CHAR|BLOB|DATE|TIME|TIMESTAMP(?:_[A-Z]+| WITH TIME ZONE)?|INTERVAL|"
    r"BOOL(?:EAN)?|U?(?:TINY|SMALL|BIG|HUGE)?INT(?:EGER|\d+)?|DOUBLE|FLOAT\d*|"
    r"(?:DECIMAL|NUMERIC)(?:\(\d+, ?\d+\))?|UUID|JSON)", re.I)
_EMAIL = re.compile(r"\S*@\S*")
_NUMBER = re.compile(r"(?<![\w.#])[-+]?\d[\d_.,:/-]*(?:[eE][-+]?\d+)?[LDFSY]?(?![\w])")
_POSITION = re.compile(r"(?i)(?:\b(?:line|lines|pos|position|byte|index|offset|sqlstate)\s*:?\s*|\b(?:decimal|numeric|n?varchar|char|time|timestamp)\((?:\d+,\s*)?)$")
_MIXED = re.compile(r"\b(?=\w*\d)(?=\w*[a-z])\w{6,}\b")


def mask_values(text: str) -> str:
    """`text` with every value that may come from a row replaced by `…` (rules above)."""
    for phrase in _VALUE_PHRASES:
        text = phrase.sub(_mask_group, text)
    return _mask_quoted(text)


def _mask_group(m: re.Match) -> str:
    start, end = m.span("v")
    return m.group(0)[:start - m.start()] + MASK + m.group(0)[end - m.start():]


def _mask_quoted(text: str) -> str:
    out: list[str] = []
    pos = 0
    kept_before = False  # the previous span was a name kept: a list of names continues
    for m in _QUOTED.finditer(text):
        before = text[pos:m.start()]
        out.append(_mask_unquoted(before))
        span = m.group(0)
        keep = _is_name(span, "".join(out), kept_before and _NAME_LIST.search(before) is not None)
        out.append(span if keep else _masked_span(span))
        kept_before = keep
        pos = m.end()
    out.append(_mask_unquoted(text[pos:]))
    return "".join(out)


def _is_name(span: str, before: str, continues_list: bool) -> bool:
    quote, inner, closed = span[0], span[1:-1], len(span) >= 2 and span[-1] == span[0]
    if not closed or quote == "$":
        return False
    if _TYPE.fullmatch(inner) and inner == inner.upper():
        return True
    if quote == "'" or not _IDENTIFIER.fullmatch(inner) or "@" in inner:
        return False
    return continues_list or _NAME_CONTEXT.search(before) is not None or \
        re.search(r"(?i)did you mean[^?\n]*\?\s*\[$", before) is not None


def _masked_span(span: str) -> str:
    if span[0] == "$":
        tag = span[:span.index("$", 1) + 1]
        return tag + MASK + tag
    return span[0] + MASK + span[0]


def _mask_unquoted(text: str) -> str:
    text = _EMAIL.sub(MASK, text)
    text = _NUMBER.sub(lambda m: m.group(0) if _POSITION.search(text, 0, m.start()) else MASK, text)
    return _MIXED.sub(MASK, text)
