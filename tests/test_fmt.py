"""`segc fmt`: the canonical layout never changes the meaning and is idempotent.

The property test generates random programs as syntax trees, prints them with a
deliberately messy printer of its own (random spacing and line breaks, redundant
parentheses, both quote styles, random escapes, comments between any two tokens), then
checks that fmt keeps the tree, is idempotent and keeps every comment, in order. Unit
tests pin the exact canonical output; CLI tests run `segc fmt` with CliRunner."""
from __future__ import annotations

import datetime as dt
import os
import random
import re
import shutil
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from segc.front import ast
from segc.cli.main import app
from segc.front.errors import SegcError
from segc.front.fmt import format_source
from segc.front.parser import parse_module
from segc.front.source import Source
from tests.conftest import EXAMPLE, ROOT


def parse(text: str, name: str = "p.seg") -> ast.Module:
    return parse_module(Source(name, text))


def fmt(text: str) -> str:
    return format_source(text, "p.seg")


# ---- generated programs ----------------------------------------------------------------

# valid names, several of which start with a keyword (the lexer must not split them)
NAMES = ["age", "x", "vip", "country", "android", "notable", "order_count", "isx", "today_x",
         "count_x", "top_n", "lastname", "within_x", "_hidden", "A", "Zz9", "intox", "byline",
         "segment_id", "elsewhere", "truest", "nothing", "to_", "andy", "oracle", "holdouts", "seeded"]
FUNCS = ["lower", "abs", "coalesce", "days_since", "least", "f"]
AGGS = ["count", "count_distinct", "sum", "avg", "min", "max", "exists"]
UNITS = ["day", "week", "month", "year"]
HOSTILE = ['"', "'", "\\", "\\n", "\n", "\t", "\r", "#", "## not a doc", "\u2028", "é", "😀",
           "\U000e0001", "\u200b", "\\u0041", "segment x = 1", "a\"b'c", " ", "", "\x7f", "\xa0"]

names = st.sampled_from(NAMES)
strings = st.one_of(st.sampled_from(HOSTILE),
                    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                            max_size=8),
                    st.lists(st.sampled_from(HOSTILE), max_size=4).map("".join))
ints = st.one_of(st.integers(0, 1000), st.integers(0, 10**20))
floats = st.floats(0, 1e22, allow_nan=False, allow_infinity=False)
numbers = st.one_of(ints.map(lambda v: ast.Literal(v, "int")),
                    floats.map(lambda v: ast.Literal(v, "float")),
                    ints.map(lambda v: ast.Literal(-v, "int")),
                    floats.map(lambda v: ast.Literal(-v, "float")))
durations = st.builds(ast.Duration, st.integers(0, 400), st.sampled_from(UNITS))
literals = st.one_of(
    numbers, durations,
    strings.map(lambda v: ast.Literal(v, "string")),
    st.booleans().map(lambda v: ast.Literal(v, "bool")),
    st.dates(dt.date(1, 1, 1)).map(lambda v: ast.Literal(v, "date")),
    st.datetimes(dt.datetime(1, 1, 1)).map(lambda v: ast.Literal(v, "timestamp")),
)
leaves = st.one_of(
    literals, names.map(ast.Name), st.builds(ast.Dotted, names, names),
    names.map(ast.Param), st.just(ast.Today()))
list_items = st.one_of(literals, names.map(ast.Param), names.map(ast.Name))
percents = st.sampled_from([10.0, 12.5, 0.5, 100.0, 33.0, 0.25, 1.0])


def periods(children):
    return st.one_of(
        st.builds(lambda k, d: ast.Period(k, duration=d), st.sampled_from(["last", "next"]), durations),
        st.builds(lambda k, u: ast.Period(k, unit=u), st.sampled_from(["this", "previous"]),
                  st.sampled_from(UNITS + ["days", "months"])),
        st.builds(lambda a, b: ast.Period("fixed", start=a, end=b), children, children))


@st.composite
def exprs(draw, depth: int = 4):
    """A random expression over every construct (not type-correct: fmt does not care)."""
    if depth == 0 or draw(st.integers(0, 4)) == 0:
        return draw(leaves)
    c = exprs(depth - 1)
    kind = draw(st.integers(0, 14))
    if kind == 0:
        return ast.Call(draw(st.sampled_from(FUNCS)), tuple(draw(st.lists(c, max_size=3))))
    if kind == 1:
        return ast.Aggregate(draw(st.sampled_from(AGGS)), draw(names), draw(st.none() | names),
                             draw(st.none() | c), draw(st.none() | periods(c)))
    if kind == 2:
        return ast.Neg(draw(c))
    if kind == 3:
        return ast.Arith(draw(st.sampled_from(list("+-*/%"))), draw(c), draw(c))
    if kind == 4:
        return ast.Compare(draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="])), draw(c), draw(c))
    if kind == 5:
        return ast.Between(draw(c), draw(c), draw(c))
    if kind == 6:
        return ast.InList(draw(c), tuple(draw(st.lists(list_items, max_size=4))), draw(st.booleans()))
    if kind == 7:
        return ast.IsMissing(draw(c), draw(st.booleans()))
    if kind == 8:
        return ast.StrMatch(draw(st.sampled_from(["contains", "starts", "ends"])), draw(c), draw(c))
    if kind == 9:
        return ast.Within(draw(c), draw(periods(c)))
    if kind == 10:
        return ast.Rank(draw(st.sampled_from(["top", "bottom"])), draw(percents), draw(c))
    if kind == 11:
        return ast.Not(draw(c))
    if kind == 14:
        seed = draw(st.one_of(strings.map(lambda v: ast.Literal(v, "string")), names.map(ast.Param)))
        return ast.Holdout(draw(percents), seed)
    items = tuple(draw(st.lists(c, min_size=2, max_size=4)))
    return ast.And(items) if kind == 12 else ast.Or(items)


doc_lines = st.lists(st.one_of(st.sampled_from(["", "  padded  ", "# hash", "x = 1", "\"q\" 'q'"]),
                               st.text(st.characters(blacklist_categories=("Cs",),
                                                     blacklist_characters="\n\r"), max_size=20)),
                     max_size=3)
ann_args = st.one_of(strings, names, st.integers(0, 10**6))
annotations = st.lists(st.tuples(st.sampled_from(["owner", "tags", "min_size", "allow_sensitive"]),
                                 st.lists(ann_args, max_size=3), st.booleans()), max_size=3)
branches = st.lists(st.tuples(names, st.none() | exprs(), doc_lines), max_size=4)
definitions = st.one_of(
    st.tuples(st.just("segment"), names, exprs(), doc_lines, annotations),
    st.tuples(st.just("segmentation"), names, branches, doc_lines, annotations))
programs = st.one_of(
    st.tuples(st.just("file"), st.lists(definitions, max_size=5)),
    st.tuples(st.just("bare"), st.tuples(exprs(), doc_lines)))

COMMENT_TEXTS = ["plain", "'quote", '"dq"', "# nested", "segment fake = 1", "trailing \\", "é😀",
                 "\t tab", "\u2028 ls", "x = (", "]", "@owner(x)", "todo:  spaces   "]
PUNCT = set("()[],+-*/%$.=<>")


class Messy:
    """Prints a program as tokens joined by random separators, comments included."""

    def __init__(self, rnd):
        self.r = rnd
        self.comments: list[str] = []

    # -- tokens
    def number(self, value, kind) -> list[str]:
        sign = ["-"] if value < 0 else []
        if kind == "int":
            return sign + ["0" * self.r.choice([0, 0, 0, 2]) + str(abs(value))]
        text = format(Decimal(repr(abs(value))), "f")
        if "." not in text:
            text += ".0"
        return sign + [text + "0" * self.r.choice([0, 0, 1, 3])]

    def string(self, value: str) -> str:
        q = self.r.choice("\"'")
        out = [q]
        for ch in value:
            if ch in (q, "\\"):
                out.append("\\" + ch)
                continue
            choice = self.r.random()
            code = ord(ch)
            if ch == "\n" or choice < 0.15:
                if code > 0xFFFF:
                    code -= 0x10000
                    out.append(f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04x}")
                else:
                    out.append(f"\\u{code:04x}" if choice < 0.07 else f"\\u{code:04X}")
            elif choice < 0.25 and ch not in "ntru":
                out.append("\\" + ch)  # any other escaped character stands for itself
            else:
                out.append(ch)
        out.append(q)
        return "".join(out)

    def unit(self, amount: int, unit: str) -> str:
        return unit + ("s" if amount != 1 else "") if self.r.random() < 0.6 else unit + self.r.choice(["", "s"])

    def literal(self, e) -> list[str]:
        if isinstance(e, ast.Duration):
            return [str(e.amount), self.unit(e.amount, e.unit)]
        if e.type in ("int", "float"):
            return self.number(e.value, e.type)
        if e.type == "string":
            return [self.string(e.value)]
        if e.type == "bool":
            return ["true" if e.value else "false"]
        if e.type == "timestamp" and not e.value.second and not e.value.microsecond and self.r.random() < 0.5:
            return [e.value.isoformat()[:16]]
        return [e.value.isoformat()]

    def atom(self, e) -> list[str]:
        simple = isinstance(e, (ast.Literal, ast.Duration, ast.Name, ast.Dotted, ast.Param, ast.Today,
                                ast.Call, ast.Aggregate))
        if simple and self.r.random() < 0.85:
            return self.expr(e)
        return ["("] + self.expr(e) + [")"]

    def period(self, p) -> list[str]:
        if p.kind in ("last", "next"):
            return [p.kind, str(p.duration.amount), self.unit(p.duration.amount, p.duration.unit)]
        if p.kind == "this":
            return ["this", p.unit]
        if p.kind == "previous":
            return ["last", p.unit]
        return self.atom(p.start) + ["to"] + self.atom(p.end)

    def expr(self, e) -> list[str]:
        a = self.atom
        if isinstance(e, (ast.Literal, ast.Duration)):
            return self.literal(e)
        if isinstance(e, ast.Name):
            return [e.name]
        if isinstance(e, ast.Dotted):
            return [e.left, ".", e.right]
        if isinstance(e, ast.Param):
            return ["$", e.name]
        if isinstance(e, ast.Today):
            return ["today"]
        if isinstance(e, ast.Call):
            out = [e.func, "("]
            for k, arg in enumerate(e.args):
                out += ([","] if k else []) + (self.expr(arg) if self.r.random() < 0.7 else a(arg))
            return out + [")"]
        if isinstance(e, ast.Aggregate):
            out = [e.func, "(", e.source] + ([".", e.column] if e.column else [])
            if e.where is not None:
                out += ["where"] + self.expr(e.where)
            if e.during is not None:
                out += ["during"] + self.period(e.during)
            return out + [")"]
        if isinstance(e, ast.Neg):
            return ["-"] + a(e.operand)
        if isinstance(e, (ast.Arith, ast.Compare)):
            return a(e.left) + [e.op] + a(e.right)
        if isinstance(e, ast.Between):
            return a(e.operand) + ["between"] + a(e.low) + ["and"] + a(e.high)
        if isinstance(e, ast.InList):
            out = a(e.operand) + (["not", "in"] if e.negated else ["in"]) + ["["]
            for k, item in enumerate(e.items):
                out += ([","] if k else []) + (self.literal(item) if isinstance(item, (ast.Literal, ast.Duration))
                                               else self.expr(item))
            return out + ["]"]
        if isinstance(e, ast.IsMissing):
            return a(e.operand) + ["is", "present" if e.present else "missing"]
        if isinstance(e, ast.StrMatch):
            return a(e.operand) + {"contains": ["contains"], "starts": ["starts", "with"],
                                   "ends": ["ends", "with"]}[e.kind] + a(e.pattern)
        if isinstance(e, ast.Within):
            return a(e.operand) + ["within"] + self.period(e.period)
        if isinstance(e, ast.Rank):
            pct = str(int(e.percent)) if e.percent.is_integer() and self.r.random() < 0.5 else repr(e.percent)
            return [e.direction, pct, "%", "by"] + a(e.by)
        if isinstance(e, ast.Holdout):
            pct = str(int(e.percent)) if e.percent.is_integer() and self.r.random() < 0.5 else repr(e.percent)
            return ["holdout", pct, "%", "seed"] + self.expr(e.seed)
        if isinstance(e, ast.Not):
            return ["not"] + a(e.operand)
        if isinstance(e, (ast.And, ast.Or)):
            word = "and" if isinstance(e, ast.And) else "or"
            out: list[str] = []
            for k, item in enumerate(e.items):
                out += ([word] if k else []) + a(item)
            return out
        raise TypeError(e)

    def docs(self, lines, indent="") -> list[str]:
        return ["\n" + indent + "##" + self.r.choice(["", " ", "   "]) + line for line in lines]

    def annotations(self, anns) -> list[str]:
        out = []
        for name, args, parens in anns:
            out += ["@", name]
            if args or parens:
                out.append("(")
                for k, arg in enumerate(args):
                    out += ([","] if k else []) + [self.string(arg) if isinstance(arg, str) and (
                        arg not in NAMES or self.r.random() < 0.5) else str(arg)]
                out.append(")")
        return out

    def program(self, program) -> str:
        kind, body = program
        tokens: list[str] = []
        if kind == "bare":
            expr, docs = body
            tokens += self.docs(docs) + self.expr(expr)
        else:
            for d in body:
                if d[0] == "segment":
                    _k, name, expr, docs, anns = d
                    tokens += self.docs(docs) + self.annotations(anns) + ["\nsegment", name, "="] + self.expr(expr)
                else:
                    _k, name, brs, docs, anns = d
                    tokens += self.docs(docs) + self.annotations(anns) + ["\nsegmentation", name, "{"]
                    for k, (bname, bexpr, bdocs) in enumerate(brs):
                        if bexpr is None and k != len(brs) - 1:
                            bexpr = ast.Name("x")  # `else` only last
                        tokens += self.docs(bdocs, "  ") + [bname, "="]
                        tokens += ["else"] if bexpr is None else self.expr(bexpr)
                    tokens.append("}")
        return self.join(tokens)

    def comment(self) -> str:
        text = f"# c{len(self.comments)} {self.r.choice(COMMENT_TEXTS)}"
        self.comments.append(text.rstrip())
        return text

    def join(self, tokens: list[str]) -> str:
        """Tokens starting with a newline must start a line (docs; `segment`, which the
        parser looks for at the start of a line); a doc must end its line."""
        r = self.r
        out = [self.comment() + r.choice(["\n", "\n\n"]) if r.random() < 0.3 else ""]
        for k, tok in enumerate(tokens):
            body = tok.lstrip("\n")
            if k == 0:
                sep = ""
            else:
                prev = tokens[k - 1].lstrip("\n").lstrip()
                roll = r.random()
                if roll < 0.1 and not prev.startswith("##"):  # at the end of the line
                    sep = r.choice([" ", "  ", ""]) + self.comment() + "\n" + r.choice(["", "  ", "\n"])
                elif roll < 0.16:  # on a line of its own
                    sep = "\n" + r.choice(["", "\n", "   "]) + self.comment() + "\n" + r.choice(["", "\n"])
                elif prev.startswith("##") or tok.startswith("\n"):
                    sep = "\n" + r.choice(["", "\n", "  "])
                elif roll < 0.3 and (body in PUNCT or prev in PUNCT) and not (prev == "-" and body.startswith("-")):
                    sep = ""
                else:
                    sep = r.choice([" ", " ", "  ", "\t", "\n", "\n    ", "\n\n"])
            out.append(sep + body)
        if r.random() < 0.3:
            out.append(r.choice(["\n", "\n\n", "  "]) + self.comment())
        return "".join(out) + r.choice(["", "\n", "\n\n"])


def comments_of(text: str) -> list[str]:
    """The `#` comments of a text, in order (strings and `##` docs skipped)."""
    found = re.findall(r"\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|#[^\n]*", text)
    return [c.rstrip() for c in found if c.startswith("#") and not c.startswith("##")]


@settings(max_examples=500, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(programs, st.integers(0, 2**32))
def test_fmt_keeps_the_tree_and_is_idempotent(program, seed):
    messy = Messy(random.Random(seed))  # a seed, not st.randoms(): many times faster
    text = messy.program(program)
    before = parse(text)  # the messy printer writes valid programs
    assert comments_of(text) == messy.comments
    out = fmt(text)
    assert parse(out) == before, f"--- input\n{text}\n--- output\n{out}"
    assert fmt(out) == out, f"--- input\n{text}\n--- output\n{out}"
    assert comments_of(out) == messy.comments, f"--- input\n{text}\n--- output\n{out}"
    assert before.bare == parse(out).bare
    lines = out.split("\n")
    assert out == "" or (out.endswith("\n") and not out.endswith("\n\n"))
    assert all(line == line.rstrip() for line in lines)
    assert "\n\n\n" not in out


# ---- the exact canonical output --------------------------------------------------------

CASES = {
    "spacing and redundant parentheses": (
        "segment   a=((x>1))and(y<=2 )or(not(vip))",
        "segment a = x > 1 and y <= 2 or not vip\n"),
    "parentheses kept where precedence or grouping needs them": (
        "segment a = (a or b) and not (c and d) and (e and f) and not not g or (h or i)",
        "segment a = (a or b) and not (c and d) and (e and f) and not not g or (h or i)\n"),
    "arithmetic": (
        "segment a = (x - (y - z)) * -(w + 1) > (-5) % 3 and - -x = x - -2 and (a * b) / c = a * (b / c)",
        "segment a = (x - (y - z)) * -(w + 1) > -5 % 3 and - -x = x - -2 and a * b / c = a * (b / c)\n"),
    "comparisons of conditions keep their parentheses": (
        "segment a = (x = 1) = (not y) and (top 10% by x) != (d within last month)",
        "segment a = (x = 1) = (not y) and (top 10% by x) != (d within last month)\n"),
    "strings": (
        "segment a = x = 'it\\'s \"q\" \\\\ \\u00e9\\t\\x' and y = '\\r\\u200b\\ud83d\\ude00\\u00a0 #'",
        "segment a = x = \"it's \\\"q\\\" \\\\ é\\tx\" and y = \"\\u000d\\u200b😀\\u00a0 #\"\n"),
    "numbers as written": (
        "segment a = x > 007 and y < 1.50 and z = -0.0 and w in [-2.50, 3]",
        "segment a = x > 007 and y < 1.50 and z = -0.0 and w in [-2.50, 3]\n"),
    "durations, periods, ranking": (
        "segment a = d >= today-1 days and d<today - 30 day and d within last 1 weeks and "
        "e within this  month and f within last year and top 10.0 % by x and bottom 2.5% by y",
        "segment a = d >= today - 1 day\n"
        "    and d < today - 30 days\n"
        "    and d within last 1 week\n"
        "    and e within this month\n"
        "    and f within last year\n"
        "    and top 10% by x\n"
        "    and bottom 2.5% by y\n"),
    "lists, dates, params, branches": (
        "segment a = c in [ \"FR\" ,'BE',-1, $p, 2024-01-01 ] and c not in[ ] and t < 2024-01-01T10:00 "
        "and value_tier . good",
        "segment a = c in [\"FR\", \"BE\", -1, $p, 2024-01-01]\n"
        "    and c not in []\n"
        "    and t < 2024-01-01T10:00\n"
        "    and value_tier.good\n"),
    "aggregates": (
        "segment a = count( orders where category='shoes' during last 90 day )>=2 and "
        "sum(orders.amount)>0 and exists(carts during this week)",
        "segment a = count(orders where category = \"shoes\" during last 90 days) >= 2\n"
        "    and sum(orders.amount) > 0\n"
        "    and exists(carts during this week)\n"),
    "annotations keep the kind of their arguments": (
        "## doc\n@owner( 'crm' )@tags(a,\"b c\")  @min_size( 500 ) @flag()\n\n\nsegment a = x",
        "## doc\n@owner(\"crm\") @tags(a, \"b c\") @min_size(500) @flag\nsegment a = x\n"),
    "segmentation: two-space branches, = aligned, docs and else": (
        "segmentation tier{## best\nvery_good=r>=1000\n  ## middle\n good = r >= 300 occasional=else}",
        "segmentation tier {\n  ## best\n  very_good  = r >= 1000\n  ## middle\n  good       = r >= 300\n"
        "  occasional = else\n}\n"),
    "one blank line between definitions": (
        "\n\n## a\nsegment a = x\n\n\n\nsegment b = y\nsegmentation c {}\n\n\n",
        "## a\nsegment a = x\n\nsegment b = y\n\nsegmentation c {}\n"),
    "a long or of ands, broken at each level": (
        "segment a = purchases_365d >= 5 and basket_avg > $min_basket and country in [\"FR\", \"BE\"] or "
        "vip and not (email_optin or sms_optin or push_optin or letter_optin or phone_optin or fax or tv)",
        "segment a = purchases_365d >= 5 and basket_avg > $min_basket and country in [\"FR\", \"BE\"]\n"
        "    or vip\n"
        "        and not (email_optin or sms_optin or push_optin or letter_optin or phone_optin or fax or tv)\n"),
    "a long chain inside parentheses": (
        "segmentation s { long = vip and (purchases_365d_with_a_long_name >= 5 or basket_average_value > "
        "$min_basket or lifetime_value > 1000) }",
        "segmentation s {\n"
        "  long = vip\n"
        "      and (purchases_365d_with_a_long_name >= 5\n"
        "          or basket_average_value > $min_basket\n"
        "          or lifetime_value > 1000)\n"
        "}\n"),
    "a bare expression stays bare": (
        "## only a condition\n(age>=30)AND NOT vip".replace("AND NOT", "and not"),
        "## only a condition\nage >= 30 and not vip\n"),
    "comments stay in place": (
        "# header\n# second line\n\n## doc\n@owner(\"crm\")  # who\nsegment a = x # end\n"
        "# about b\nsegment b =\n  # why\n  y\n\n\n# footer\n",
        "# header\n# second line\n\n## doc\n@owner(\"crm\")  # who\nsegment a = x  # end\n\n"
        "# about b\n# why\nsegment b = y\n\n# footer\n"),
    "a comment between operands keeps the chain broken": (
        "segment a = x > 1 # first\n  and y < 2 and (z # inner\n or w) # last\n",
        "segment a = x > 1  # first\n    and y < 2\n    and (z  # inner\n        or w)  # last\n"),
    "comments inside a segmentation": (
        "segmentation s {\n  # the best\n  a = x # a\n  b = else\n  # nothing after\n}  # closed\n",
        "segmentation s {\n  # the best\n  a = x  # a\n  b = else\n  # nothing after\n}  # closed\n"),
    "comments inside a line that is joined move to its end, in order": (
        "segment a = abs(x # one\n) > f( # two\n y) # three\n",
        "# one\n# two\nsegment a = abs(x) > f(y)  # three\n"),
    "empty and comment-only files": ("\n\n  \n", ""),
}


@pytest.mark.parametrize("case", list(CASES))
def test_canonical_output(case):
    text, expected = CASES[case]
    out = fmt(text)
    assert out == expected, out
    assert fmt(out) == out
    assert parse(out) == parse(text)


def test_comment_only_file():
    assert fmt("# just a note\n\n\n# another\n") == "# just a note\n\n# another\n"


def test_docs_and_examples_are_stable():
    """fmt of a formatted text is itself; the language reference's blocks keep their tree."""
    blocks = re.findall(r"```seg\n(.*?)```", (ROOT / "docs" / "language.md").read_text(encoding="utf-8"), flags=re.S)
    for block in blocks:
        out = fmt(block)
        assert parse(out) == parse(block) and fmt(out) == out
        assert comments_of(out) == comments_of(block)
        if block.startswith("# after `segc fmt`"):  # the Formatting section's example
            assert out == block
    for file in sorted((EXAMPLE / "segments").glob("*.seg")):
        text = file.read_text(encoding="utf-8")
        assert fmt(text) == text, f"{file.name} is not formatted: run `segc fmt -p examples/retail`"


def test_the_formatting_example_shows_a_long_line_that_is_never_broken():
    """docs/language.md "Formatting": a line without an `and`/`or` to break before stays one
    line over 100 characters, and fmt joins one broken by hand (newuser11 F16)."""
    doc = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    after = next(b for b in re.findall(r"```seg\n(.*?)```", doc, flags=re.S) if b.startswith("# after `segc fmt`"))
    wide = [line for line in after.splitlines() if len(line) > 100]
    assert wide and not any(re.search(r"\b(and|or)\b", line) for line in wide), after
    head, _, rest = wide[0].partition(" < ")
    assert fmt(f"{head}\n    < {rest}\n") == wide[0] + "\n"
    assert "a line without such an `and`/`or` is never broken" in " ".join(doc.split())


def test_syntax_error_raises():
    with pytest.raises(SegcError) as e:
        fmt("segment a = x >\nsegment b = y")
    assert e.value.diagnostics[0].code.startswith("E1")


def test_crlf_input_gives_lf_output():
    assert fmt("# c\r\nsegment a = x  # t\r\n\r\n## d\r\nsegment b=y\r\n") == \
        "# c\nsegment a = x  # t\n\n## d\nsegment b = y\n"


# ---- the command line ------------------------------------------------------------------

runner = CliRunner()


def cli(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "proj"
    (root / "segments" / "sub").mkdir(parents=True)
    (root / "segc.yml").write_text("name: p\n", encoding="utf-8")
    (root / "segments" / "a.seg").write_text("segment a=x>1 # keep\n", encoding="utf-8")
    (root / "segments" / "sub" / "b.seg").write_text("segment b = y\n", encoding="utf-8")
    (root / "other.seg").write_text("segment c=z\n", encoding="utf-8")  # not under segments/
    return root


def test_cli_formats_the_project_in_place(project, monkeypatch):
    a, b = project / "segments" / "a.seg", project / "segments" / "sub" / "b.seg"
    b_stat = b.stat()
    result = cli("fmt", "-p", str(project))
    assert result.exit_code == 0, result.output
    assert a.read_text(encoding="utf-8") == "segment a = x > 1  # keep\n"
    assert b.stat().st_mtime_ns == b_stat.st_mtime_ns and b.stat().st_ino == b_stat.st_ino  # untouched
    assert (project / "other.seg").read_text(encoding="utf-8") == "segment c=z\n"
    assert "1 file reformatted, 1 file already formatted" in result.stderr
    assert not [p for p in project.rglob("*") if p.name.endswith(".tmp")]
    # from inside the project, without arguments; then nothing left to do
    monkeypatch.chdir(project / "segments" / "sub")
    result = cli("fmt")
    assert result.exit_code == 0 and "0 files reformatted, 2 files already formatted" in result.stderr


def test_cli_check_prints_a_diff_and_writes_nothing(project):
    a = project / "segments" / "a.seg"
    result = cli("fmt", "--check", str(project))
    assert result.exit_code == 1
    assert a.read_text(encoding="utf-8") == "segment a=x>1 # keep\n"
    assert "-segment a=x>1 # keep\n+segment a = x > 1  # keep\n" in result.stdout
    assert "segments/a.seg" in result.stdout and "b.seg" not in result.stdout
    assert "a//" not in result.stdout and "b//" not in result.stdout  # an absolute path: a/tmp/..., as git
    assert "1 file would be reformatted" in result.stderr
    assert cli("fmt", str(a)).exit_code == 0
    result = cli("fmt", "--check", str(a), str(project / "segments"))
    assert result.exit_code == 0 and result.stdout == ""


def test_cli_syntax_error_leaves_the_file_untouched(project):
    bad = project / "segments" / "bad.seg"
    bad.write_text("segment bad = x >\n", encoding="utf-8")
    result = cli("fmt", "-p", str(project))
    assert result.exit_code == 1
    assert "error[E10" in result.stderr and "bad.seg:1:" in result.stderr
    assert bad.read_text(encoding="utf-8") == "segment bad = x >\n"
    assert (project / "segments" / "a.seg").read_text(encoding="utf-8") == "segment a = x > 1  # keep\n"
    assert "with errors" in result.stderr


def test_cli_explicit_files_and_folders(project, tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "x.seg").write_text("vip   and not(y)", encoding="utf-8")
    result = cli("fmt", str(loose), str(project / "other.seg"))
    assert result.exit_code == 0, result.output
    assert (loose / "x.seg").read_text(encoding="utf-8") == "vip and not y\n"
    assert (project / "other.seg").read_text(encoding="utf-8") == "segment c = z\n"
    # a missing file is bad input like any other: coded (E007), exit 1 (was a usage error)
    missing = cli("fmt", str(tmp_path / "missing.seg"))
    assert missing.exit_code == 1 and "error[E007]: file not found" in missing.stderr


def test_cli_without_a_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("fmt")
    assert result.exit_code == 1 and "E008" in result.stderr


def test_cli_keeps_permissions_and_rewrites_crlf(project):
    a = project / "segments" / "a.seg"
    a.write_bytes(b"segment a = x > 1  # keep\r\n")
    os.chmod(a, 0o640)
    assert cli("fmt", str(a)).exit_code == 0
    assert a.read_bytes() == b"segment a = x > 1  # keep\n"
    assert a.stat().st_mode & 0o777 == 0o640


def test_write_atomic_gives_a_new_file_the_usual_permissions(tmp_path):
    """A new file (a discovered segmentation, a model, a report) is readable like any file
    the user makes, not left with the temporary file's private 0600."""
    from segc.front.files import write_atomic

    umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "new.seg", "segment a = x > 1\n")
    finally:
        os.umask(umask)
    assert (tmp_path / "new.seg").stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["new.seg"]


def test_retail_example_counts_unchanged_by_fmt(tmp_path):
    """The example, scrambled (collapsed spacing) and formatted back, counts the same."""
    import segc

    root = tmp_path / "retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("generate.py", "README.md", "tests"))
    before = {s.name: s.count for s in segc.load_project(root).count().segments}
    for file in (root / "segments").glob("*.seg"):
        file.write_text(re.sub(r"(?m)^(segment \w+) = ", r"\1=", file.read_text(encoding="utf-8")), encoding="utf-8")
    assert cli("fmt", "-p", str(root)).exit_code == 0
    for file in (root / "segments").glob("*.seg"):
        assert file.read_text(encoding="utf-8") == (EXAMPLE / "segments" / file.name).read_text(encoding="utf-8")
    assert {s.name: s.count for s in segc.load_project(root).count().segments} == before
