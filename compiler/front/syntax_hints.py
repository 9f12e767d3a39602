"""The hints of a syntax error: what a new user most likely meant, from the text around
the unexpected token (SQL and English habits, a number with an exponent, a timestamp with
a zone) and what the parser expected, in words rather than terminal names."""
from __future__ import annotations

import re

# What the user sees instead of terminal names in "expected ..." lists.
TERMINAL_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "DATE": "a date",
    "TIMESTAMP": "a timestamp", "COMP_OP": "a comparison (= != < <= > >=)", "LPAR": "`(`",
    "RPAR": "`)`", "RBRACE": "`}`", "LBRACE": "`{`", "RBRACKET": "`]`", "LSQB": "`[`",
    "EQUAL": "`=`", "COMMA": "`,`", "DOT": "`.`", "DOLLAR": "`$`", "AT": "`@`",
    "PLUS": "`+`", "MINUS": "`-`", "STAR": "`*`", "SLASH": "`/`", "PERCENT": "`%`",
    "UNIT": "a unit (days, weeks, months, years)", "AGG": "an aggregate (count, sum, ...)",
    "PICK": "`first`, `nth` or `mode`",
    "RANK_DIR": "`top` or `bottom`", "SEQ_OP": "`followed by`, `not followed by` or `preceded by`", "SEQ_BOUND": "`within` and a duration", "DOC": "a `##` comment", "$END": "the end of the file",
}

# a timestamp written with a zone (`...T10:00:00Z`, `+02:00`): the lexer stops at the zone
_ZONED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?\s*(Z|[+-]\d\d(:?\d\d)?)")


def zone_hints(text: str, pos: int) -> list[str]:
    """The hint for a timestamp with a time zone around `pos`."""
    for m in _ZONED.finditer(text, max(0, pos - 40), pos + 10):
        if m.start() < pos < m.end() or m.end() == pos + 1:
            return ["a timestamp has no time zone (segc compares wall times, as the data holds them): "
                    "write it without `Z` or `+02:00`, e.g. 2024-01-01T08:00:00 for 10:00 at +02:00 in UTC data"]
    return []


def describe_expected(expected) -> str:
    if {"NAME", "NUMBER", "STRING"} <= set(expected):
        return "a value or a condition (a name, a number, a string, `(`, `not` ...)"
    words = sorted({TERMINAL_WORDS.get(t, f"`{t.lower()}`") for t in expected})
    if len(words) > 8:
        words = words[:8] + ["..."]
    return ", ".join(words)


def token_hints(text: str, tok, prev: str, expected) -> list[str]:
    """Hints for an unexpected token `tok` (`prev`: the character before it)."""
    hints = []
    if str(tok) == "=" and prev == "=" and "COMP_OP" not in expected:
        hints.append("equality is a single `=`")
    elif prev + str(tok) in ("=>", "=<"):
        hints.append(f"write `{str(tok)}=`")
    elif prev + str(tok) == "<>":
        hints.append("`!=` means not equal")
    if "NAME" in expected and "NUMBER" not in expected and re.fullmatch(r"[a-z_]+", str(tok)):
        hints.append(f"`{tok}` is a keyword of the language and cannot be used as a name")
    if re.fullmatch(r"[eE][-+]?\d+", str(tok)) and prev.isdigit():
        hints.append("a number is written without an exponent: 1e6 is 1000000")
    if str(tok) in ("and", "or") and "NAME" in expected:
        hints.append("a condition is missing before this word")
    hints += misused_word_hints(text, tok.start_pos, tok) + zone_hints(text, tok.start_pos)
    hints += aggregate_argument_hints(text, tok.start_pos, str(tok))
    hints += rank_per_group_hints(text, tok.start_pos, str(tok))
    if str(tok) == "where" and re.search(r"\bduring\b[^()]*$", text[:tok.start_pos]):
        hints.append("inside an aggregate, `where` comes before `during`: "
                     "`count(orders where ... during last 30 days)`")
    if expected:
        hints.append(f"expected {describe_expected(expected)}")
    return hints


BOUND_PARTS = re.compile(r"within\s+(\S+)\s+(\w+)\s*(\))")
_KEYWORDS = frozenset("and or not between in is missing present contains starts ends matches with within by "
                      "where during last next this to true false today".split())
_BARE_DURATION = re.compile(r"\b(during|within)\s+(\d+\s+(?:day|week|month|year)s?)\s*$")


def misused_word_hints(text: str, pos: int, tok) -> list[str]:
    """Hints for what a new user writes by habit from SQL or English: `AND`,
    `during 30 days`, `d in last 30 days`; `tok` is the unexpected token at `pos` (None
    at the end of the input)."""
    before, word = text[:pos], str(tok) if tok is not None else ""
    hints = []
    previous = re.search(r"([A-Za-z_]\w*)\s*$", before)
    for w in (word, previous.group(1) if previous else ""):
        if w.lower() in _KEYWORDS and w != w.lower():
            hints.append(f"keywords are lowercase: write `{w.lower()}`")
            break
    bare = _BARE_DURATION.search(before)
    if bare:
        hints.append(f"a rolling period starts with `last` (or `next`): `{bare.group(1)} last {bare.group(2)}`")
    elif tok is not None and tok.type == "SEQ_BOUND":  # `d within 2 days)` outside a sequence
        number, unit, _ = BOUND_PARTS.match(str(tok)).groups()
        hints.append(f"a rolling period starts with `last` (or `next`): `within last {number} {unit}`")
    hints += sql_list_and_like_hints(text, pos, word)
    wrong_in = re.search(r"([\w.]+)\s+in\s*$", before)
    if wrong_in and tok is not None and tok.type in ("LAST", "NEXT", "THIS", "DATE", "TIMESTAMP"):
        period = text[pos:].split("\n", 1)[0].split(" and ")[0].split(" or ")[0].strip().rstrip(")")
        hints.append(f"a date in a period is tested with `within`: `{wrong_in.group(1)} within {period}`")
    return hints


# what is tested: a name, `src.col` or a call on one (`lower(country)`), just before `pos`
_OPERAND = re.compile(r"([A-Za-z_][\w.]*\([^()]*\)|[A-Za-z_][\w.]*)\s+(not\s+)?$")
_LIST_ITEMS = 60  # the longest list copied into the bracket hint


def sql_list_and_like_hints(text: str, pos: int, word: str) -> list[str]:
    """SQL's `x in ("FR", "BE")` and `x like "F%"`, at the unexpected `(` or `like`."""
    before = text[:pos]
    if word == "(" and re.search(r"\bin\s*$", before):
        operand = re.search(r"([A-Za-z_][\w.]*\([^()]*\)|[A-Za-z_][\w.]*)\s+(?:not\s+)?in\s*$", before)
        line = text[pos:].split("\n", 1)[0]
        close = line.find(")")
        items = line[1:close].strip() if close > 0 and "(" not in line[1:close] else ""
        if not items or len(items) > _LIST_ITEMS:
            items = '"FR", "BE"'
        written = before[operand.start():].rstrip() if operand else "country in"
        return [f"a list is written in brackets: `{written} [{items}]`"]
    if word.lower() != "like":
        return []
    hint = "segc has no LIKE: use `starts with`, `ends with`, `contains` or `matches`"
    operand, m = _OPERAND.search(before), re.match(r"""\s*(["'])([^"'\\]*)\1""", text[pos + len(word):])
    if operand is None or m is None or "_" in m.group(2) or "%" in m.group(2)[1:-1]:
        return [hint]
    pattern, x, q = m.group(2), operand.group(1), m.group(1)
    start, end = pattern.startswith("%"), len(pattern) > 1 and pattern.endswith("%")
    inner = pattern[1 if start else 0:len(pattern) - (1 if end else 0)]
    if "%" in inner or not inner:
        return [hint]
    test = {(False, True): "starts with", (True, False): "ends with", (True, True): "contains"}.get((start, end))
    example = f"{x} {test} {q}{inner}{q}" if test else f"{x} = {q}{inner}{q}"
    if operand.group(2):
        example = f"not {example}" if test else example.replace(" = ", " != ")
    return [f"{hint}; here `{example}`"]


_AGG_OPEN = re.compile(r"\b(count_distinct|count|sum|avg|min|max|exists|first|last|nth|mode)\s*\(\s*"
                       r"([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?\s*$")
_SOURCE_COLUMN = re.compile(r"\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b(?!\s*\()")
_OPERATORS = frozenset("( * + - / % = != < <= > >=".split())


def aggregate_argument_hints(text: str, pos: int, word: str) -> list[str]:
    """An expression where an aggregate takes a column: `count_distinct(month_of(orders.ordered_at))`,
    `sum(orders.amount * 2)`, `count(orders.amount > 3)`."""
    opened = _AGG_OPEN.search(text[:pos])
    if opened is None or word not in _OPERATORS:
        return []
    agg, first, second = opened.groups()
    if word in ("=", "!=", "<", "<=", ">", ">=") and second and agg in ("count", "exists"):
        return [f"a condition on the events goes after `where`: `{agg}({first} where {second} {word} ...)`"]
    line = text[opened.start():].split("\n", 1)[0]
    named = _SOURCE_COLUMN.search(line)
    column = f"{named.group(1)}.{named.group(2)}" if named else f"{first if second else 'source'}.column"
    return [f"an aggregate takes a column of the source, not an expression: `{agg}({column})`; functions and "
            "arithmetic work on the columns inside `where`, or the computed value can be added as a column of "
            "the source"]


_RANK = re.compile(r"\b(?:top|bottom)\s+[\d_]+\s*%?\s+by\s+(?:(?!\b(?:and|or)\b)[^\n])+$")
_GROUPING = frozenset("where per within group partition for over by".split())


def rank_per_group_hints(text: str, pos: int, word: str) -> list[str]:
    """`top 10% by f where country = "FR"` / `per country`: a rank has no group."""
    rank = _RANK.search(text[:pos])
    if rank is None or word.lower() not in _GROUPING:
        return []
    rest = text[pos + len(word):].split("\n", 1)[0].strip()
    if word.lower() == "where" and rest and len(rest) <= 40:
        condition = rest
    else:
        group = re.match(r"(?:by\s+|each\s+)?([A-Za-z_]\w*)", rest)
        condition = f"{group.group(1)} = ..." if group else "country = ..."
    written, direction = text[rank.start():pos].strip(), rank.group(0).split()[0]
    return [f"a rank is taken over the whole population, never per group: `{written} and {condition}` is the "
            f"{direction} of the whole population who also pass the condition, not the {direction} within them"]
