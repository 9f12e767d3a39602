"""`segc fmt`: the canonical layout of a .seg file.

`format_source(text, name)` parses the text (a syntax error raises `SegcError`, as
everywhere) and prints the syntax tree back in one canonical style:

- one blank line between definitions; `##` docs, then all annotations on one line, then
  `segment name = expr`; segmentations with branches indented two spaces, `=` aligned;
- operators and keywords with single spaces; parentheses only where precedence needs them
  (`or` < `and` < `not` < comparison < `+ -` < `* / %` < unary `-`); parentheses that
  group a chain of the same operator are kept (`(a and b) and c` is a different tree);
- strings in double quotes with the fewest escapes (`\\\\ \\" \\n \\t`, other invisible
  characters as `\\uXXXX`); numbers and timestamps as written (`007`, `1.50`,
  `2024-01-01T10:00`: the digits come from the text, the tree keeps only the value);
  durations `1 day`, `30 days`; the percentage of a ranking or a holdout canonical
  (`top 10.0%` -> `top 10%`);
  `this months` is left alone (the tree keeps that unit as written);
- annotation arguments keep their kind, read back from the text (the tree does not tell
  `@tags(a)` from `@tags("a")`); `@flag()` becomes `@flag`;
- a line longer than 100 characters is broken before the `and`/`or` of its loosest chain
  (one operand per line, 4 more spaces for each level), recursively inside parentheses
  and under `not`; nothing else is ever broken;
- a file that holds only an expression stays so.

Comments. The grammar drops `#` comments, so they are recovered from the text by position
and put back next to the code they were next to:

- a comment on its own line stays on its own line, just before the code that followed it
  (between definitions, inside a segmentation, between the operands of a broken chain);
  blank lines around comments between definitions are kept (collapsed to one);
- a comment at the end of a line stays at the end of the line that holds the code before
  it. When that code is no longer at the end of a line (the line was joined), the
  comment moves to the end of the joined line; when a line collects several comments,
  all but the last end-of-line one are moved above it, in their order (comments always
  keep their order);
- a comment written between two operands of an `and`/`or` chain forces that chain to be
  broken, one operand per line, so that it stays between them.

`fmt` never changes the meaning (the tree of the output equals the tree of the input) and
is idempotent (tests/test_fmt.py checks both on generated programs).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from decimal import Decimal

from segc.front import ast
from segc.front.parser import parse_module
from segc.front.source import Source

WIDTH = 100
INDENT = "    "


def format_source(text: str, name: str = "<string>") -> str:
    """The canonical text of a .seg file; raises SegcError on a syntax error."""
    source = Source(name, text)
    module = parse_module(source)
    return _Formatter(source, module).run()


# ---- comments and docs, found in the text ---------------------------------------------

@dataclass
class _Comment:
    start: int
    text: str
    own_line: bool  # nothing but spaces before it on its line
    blank_before: bool  # (own-line comments) the line above is blank
    blank_after: bool  # the line below is blank


@dataclass
class _Doc:
    start: int
    end: int
    content: str


def _scan(text: str) -> tuple[list[_Comment], list[_Doc]]:
    """`#` comments and `##` docs, skipping strings (as the grammar's lexer does)."""
    comments: list[_Comment] = []
    docs: list[_Doc] = []

    def blank(a: int, b: int) -> bool:
        return a <= b and not text[a:b].strip()

    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "\"'":
            j = i + 1
            while j < n and text[j] != ch and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        elif ch == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            token = text[i:end]
            if token.startswith("##"):
                docs.append(_Doc(i, end, token[2:].strip()))
            else:
                line_start = text.rfind("\n", 0, i) + 1
                own = not text[line_start:i].strip()
                prev_start = text.rfind("\n", 0, max(line_start - 1, 0)) + 1
                next_end = text.find("\n", end + 1)
                next_end = n if next_end < 0 else next_end
                comments.append(_Comment(
                    i, token.rstrip(), own,
                    own and line_start > 0 and blank(prev_start, line_start - 1),
                    own and end < n and blank(end + 1, next_end)))
            i = end
        else:
            i += 1
    return comments, docs


# ---- literals ------------------------------------------------------------------------

_PRINTABLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}


def quote(value: str) -> str:
    """A string literal in double quotes with the fewest escapes; invisible characters
    (controls, format characters, separators other than the space) as \\uXXXX."""
    out = ['"']
    for ch in value:
        if ch in _PRINTABLE_ESCAPES:
            out.append(_PRINTABLE_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            if code > 0xFFFF:  # a surrogate pair, as in JSON
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                out.append(f"\\u{code:04x}")
    out.append('"')
    return "".join(out)


def _float_text(value: float) -> str:
    text = repr(abs(value))
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    if "." not in text:
        text += ".0"
    return text


def _percent_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else _float_text(value)


_NUMBER_END = re.compile(r"(\d+(?:\.\d+)?)$")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_ANN_TOKEN = re.compile(r"\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|#[^\n]*|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?")


def _negative(value) -> bool:
    return value < 0 or (isinstance(value, float) and math.copysign(1.0, value) < 0)


def _number_text(lit: ast.Literal) -> str:
    """A number as written (digits from the source), else a canonical spelling."""
    value = lit.value
    sign = "-" if _negative(value) else ""
    if lit.span is not None:
        m = _NUMBER_END.search(lit.span.text())
        if m:
            digits = m.group(1)
            if lit.type == "float" and "." in digits and float(digits) == abs(value):
                return sign + digits
            if lit.type == "int" and "." not in digits and int(digits) == abs(value):
                return sign + digits
    return sign + (_float_text(value) if lit.type == "float" else str(abs(value)))


def _literal_text(lit: ast.Literal) -> str:
    if lit.type in ("int", "float"):
        return _number_text(lit)
    if lit.type == "string":
        return quote(lit.value)
    if lit.type == "bool":
        return "true" if lit.value else "false"
    if lit.type == "timestamp" and lit.span is not None:
        text = lit.span.text()
        if _TIMESTAMP.fullmatch(text):
            try:
                if dt.datetime.fromisoformat(text) == lit.value:
                    return text
            except ValueError:
                pass
    return lit.value.isoformat()


# ---- expressions ---------------------------------------------------------------------

_PREDICATES = (ast.Compare, ast.Between, ast.InList, ast.IsMissing, ast.StrMatch, ast.Within, ast.Rank,
               ast.Holdout)
_STR_WORDS = {"contains": "contains", "starts": "starts with", "ends": "ends with", "matches": "matches"}


def _prec(e) -> int:
    """Loosest (or: 1) to tightest (atoms: 8)."""
    if isinstance(e, ast.Or):
        return 1
    if isinstance(e, ast.And):
        return 2
    if isinstance(e, ast.Not):
        return 3
    if isinstance(e, _PREDICATES):
        return 4
    if isinstance(e, ast.Arith):
        return 5 if e.op in "+-" else 6
    if isinstance(e, ast.Neg):
        return 7
    if isinstance(e, ast.Literal) and e.type in ("int", "float") and _negative(e.value):
        return 7
    return 8


def expr_text(e, need: int = 0) -> str:
    """The one-line text of an expression, in parentheses if it binds looser than `need`."""
    text = _expr(e)
    return f"({text})" if _prec(e) < need else text


def _expr(e) -> str:
    if isinstance(e, ast.Literal):
        return _literal_text(e)
    if isinstance(e, ast.Duration):
        return e.text
    if isinstance(e, ast.Name):
        return e.name
    if isinstance(e, ast.Dotted):
        return f"{e.left}.{e.right}"
    if isinstance(e, ast.Param):
        return f"${e.name}"
    if isinstance(e, ast.Today):
        return "today"
    if isinstance(e, ast.Call):
        return f"{e.func}({', '.join(expr_text(a) for a in e.args)})"
    if isinstance(e, ast.Aggregate):
        text = e.func + "(" + e.source + (f".{e.column}" if e.column is not None else "")
        if e.k is not None:
            text += ", " + expr_text(e.k)
        if e.where is not None:
            text += " where " + expr_text(e.where)
        if e.during is not None:
            text += " during " + _period(e.during)
        if e.sequence is not None:
            text += " " + _sequence(e.sequence)
        return text + ")"
    if isinstance(e, ast.Neg):
        operand = expr_text(e.operand, 7)
        return "- " + operand if operand.startswith("-") else "-" + operand
    if isinstance(e, ast.Arith):
        p = _prec(e)
        return f"{expr_text(e.left, p)} {e.op} {expr_text(e.right, p + 1)}"
    if isinstance(e, ast.Compare):
        return f"{expr_text(e.left, 5)} {e.op} {expr_text(e.right, 5)}"
    if isinstance(e, ast.Between):
        return f"{expr_text(e.operand, 5)} between {expr_text(e.low, 5)} and {expr_text(e.high, 5)}"
    if isinstance(e, ast.InList):
        items = ", ".join(expr_text(i) for i in e.items)
        return f"{expr_text(e.operand, 5)} {'not in' if e.negated else 'in'} [{items}]"
    if isinstance(e, ast.IsMissing):
        return f"{expr_text(e.operand, 5)} is {'present' if e.present else 'missing'}"
    if isinstance(e, ast.StrMatch):
        return f"{expr_text(e.operand, 5)} {_STR_WORDS[e.kind]} {expr_text(e.pattern, 5)}"
    if isinstance(e, ast.Within):
        return f"{expr_text(e.operand, 5)} within {_period(e.period)}"
    if isinstance(e, ast.Rank):
        if e.absolute:
            count = str(e.percent) if isinstance(e.percent, int) else _float_text(e.percent)
            return f"{e.direction} {count} by {expr_text(e.by, 5)}"
        return f"{e.direction} {_percent_text(e.percent)}% by {expr_text(e.by, 5)}"
    if isinstance(e, ast.Holdout):
        return f"holdout {_percent_text(e.percent)}% seed {expr_text(e.seed)}"
    if isinstance(e, ast.Not):
        return "not " + expr_text(e.operand, 3)
    if isinstance(e, ast.And):
        return " and ".join(expr_text(i, 3) for i in e.items)
    if isinstance(e, ast.Or):
        return " or ".join(expr_text(i, 2) for i in e.items)
    raise TypeError(f"cannot format {type(e).__name__}")


def _period(p: ast.Period) -> str:
    if p.kind in ("last", "next"):
        return f"{p.kind} {p.duration.text}"
    if p.kind == "this":
        return f"this {p.unit}"
    if p.kind == "previous":
        return f"last {p.unit}"
    if p.kind == "experiment":
        return "experiment"
    return f"{expr_text(p.start, 5)} to {expr_text(p.end, 5)}"


def _spans(node) -> list[tuple[int, int]]:
    """The source ranges of a node and everything in it."""
    out: list[tuple[int, int]] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, tuple):
            stack.extend(n)
            continue
        if not isinstance(n, ast.Node):
            continue
        if n.span is not None:
            out.append((n.span.start, n.span.end))
        for f in dataclasses.fields(n):
            if f.name != "span":
                value = getattr(n, f.name)
                if isinstance(value, (ast.Node, tuple)):
                    stack.append(value)
    return out


# ---- the layout ----------------------------------------------------------------------

@dataclass
class _Line:
    text: str  # with its indentation
    spans: list[tuple[int, int]]  # source ranges of the code printed on it
    indent: str = ""  # of a comment put above it
    first: bool = False  # the first line of a definition
    before: list[_Comment] = field(default_factory=list)
    after: list[_Comment] = field(default_factory=list)


class _Formatter:
    def __init__(self, source: Source, module: ast.Module):
        self.source = source
        self.module = module
        self.comments, docs = _scan(source.text)
        self.comment_starts = [c.start for c in self.comments]
        self.docs = self._assign_docs(docs)
        self._breaks: dict[int, bool] = {}
        self.lines: list[_Line] = []

    # -- docs: each `##` line belongs to the next definition or branch
    def _assign_docs(self, docs: list[_Doc]) -> dict[int, list[_Doc]]:
        owners: list[tuple[int, object]] = []
        for d in self.module.definitions:
            if self.module.bare:
                owners.append((d.expr.span.start if d.expr.span else 0, d))
                continue
            owners.append((d.name_span.start if d.name_span else 0, d))
            if isinstance(d, ast.Segmentation):
                owners.extend((b.name_span.start if b.name_span else 0, b) for b in d.branches)
        owners.sort(key=lambda o: o[0])
        out: dict[int, list[_Doc]] = {}
        k = 0
        for doc in docs:
            while k < len(owners) and owners[k][0] <= doc.start:
                k += 1
            if k < len(owners):
                out.setdefault(id(owners[k][1]), []).append(doc)
        return out

    def _doc_lines(self, node, indent: str) -> list[_Line]:
        docs = self.docs.get(id(node), [])
        if "\n".join(d.content for d in docs) != node.doc:  # never expected: trust the tree
            lines = node.doc.split("\n") if node.doc else []
            return [_Line(indent + ("## " + t if t else "##").rstrip(), [], indent) for t in lines]
        return [_Line(indent + ("## " + d.content if d.content else "##"), [(d.start, d.end)], indent)
                for d in docs]

    def _annotation_line(self, anns) -> list[_Line]:
        if not anns:
            return []
        return [_Line(" ".join(self._annotation(a) for a in anns), [(a.span.start, a.span.end) for a in anns if a.span])]

    def _annotation(self, a: ast.Annotation) -> str:
        if not a.args:
            return f"@{a.name}"
        kinds = []
        if a.span is not None:
            tokens = [t for t in _ANN_TOKEN.findall(a.span.text()) if not t.startswith("#")]
            kinds = tokens[1:]  # after the annotation's name
        args = []
        for i, value in enumerate(a.args):
            tok = kinds[i] if len(kinds) == len(a.args) else None
            if isinstance(value, str):
                if tok is not None and not tok.startswith(("'", '"')) and tok == value:
                    args.append(value)
                else:
                    args.append(quote(value))
            elif tok is not None and tok[0].isdigit() and float(tok) == value:
                args.append(tok)
            else:
                args.append(str(value))
        return f"@{a.name}({', '.join(args)})"

    # -- expressions over several lines
    def _comment_between(self, a, b) -> bool:
        if a.span is None or b.span is None:
            return False
        i = bisect_left(self.comment_starts, a.span.end)
        return i < len(self.comment_starts) and self.comment_starts[i] < b.span.start

    def _must_break(self, e) -> bool:
        """A comment between two operands of this chain (or of a chain in it that can be
        broken) keeps the chain broken."""
        key = id(e)
        if key not in self._breaks:
            result = False
            if isinstance(e, (ast.And, ast.Or)):
                result = (any(self._comment_between(a, b) for a, b in zip(e.items, e.items[1:]))
                          or any(self._must_break(i) for i in e.items))
            elif isinstance(e, ast.Not):
                result = self._must_break(e.operand)
            self._breaks[key] = result
        return self._breaks[key]

    def _layout(self, e, need: int, col: int, indent: str, tail: int = 0) -> list[tuple[str, list]]:
        """Lines (text, nodes) of an expression in a place where it may be broken: the first
        continues at column `col`; the others carry their indentation. `tail` characters
        follow on the last line."""
        flat = expr_text(e, need)
        if not self._must_break(e) and col + len(flat) + tail <= WIDTH:
            return [(flat, [e])]
        if isinstance(e, (ast.And, ast.Or)):
            word, child = ("and", 3) if isinstance(e, ast.And) else ("or", 2)
            wrap = 1 if _prec(e) < need else 0
            inner = indent + INDENT
            lines = self._layout(e.items[0], child, col + wrap, inner)
            for k, item in enumerate(e.items[1:], 1):
                last = k == len(e.items) - 1
                sub = self._layout(item, child, len(indent) + len(word) + 1, inner,
                                   (tail + wrap) if last else 0)
                lines.append((f"{indent}{word} {sub[0][0]}", sub[0][1]))
                lines.extend(sub[1:])
            if wrap:
                lines[0] = ("(" + lines[0][0], lines[0][1])
                lines[-1] = (lines[-1][0] + ")", lines[-1][1])
            return lines
        if isinstance(e, ast.Not) and _prec(e) >= need:
            sub = self._layout(e.operand, 3, col + 4, indent, tail)
            return [("not " + sub[0][0], sub[0][1])] + sub[1:]
        return [(flat, [e])]

    def _expr_lines(self, head: str, head_spans, e, indent: str) -> list[_Line]:
        out = []
        for k, (text, nodes) in enumerate(self._layout(e, 0, len(head), indent)):
            spans = [s for n in nodes for s in _spans(n)]
            if k == 0:
                out.append(_Line(head + text, head_spans + spans, head[: len(head) - len(head.lstrip())]))
            else:
                out.append(_Line(text, spans, text[: len(text) - len(text.lstrip())]))
        return out

    # -- definitions
    def _definition(self, d) -> list[_Line]:
        lines = self._doc_lines(d, "")
        if self.module.bare:
            return lines + self._expr_lines("", [], d.expr, INDENT)
        lines += self._annotation_line(d.annotations)
        name = [(d.name_span.start, d.name_span.end)] if d.name_span else []
        if isinstance(d, ast.Segment):
            return lines + self._expr_lines(f"segment {d.name} = ", name, d.expr, INDENT)
        rbrace = [(d.span.end - 1, d.span.end)] if d.span else []
        if not d.branches:
            return lines + [_Line(f"segmentation {d.name} {{}}", name + rbrace)]
        lines.append(_Line(f"segmentation {d.name} {{", name))
        width = max(len(b.name) for b in d.branches)
        for b in d.branches:
            lines += self._doc_lines(b, "  ")
            head = f"  {b.name.ljust(width)} = "
            bname = [(b.name_span.start, b.name_span.end)] if b.name_span else []
            if b.expr is None:
                els = [(b.span.end - 4, b.span.end)] if b.span else []
                lines.append(_Line(head + "else", bname + els, "  "))
            else:
                lines += self._expr_lines(head, bname, b.expr, "  " + INDENT)
        lines.append(_Line("}", rbrace, "  "))
        return lines

    # -- comments back in place
    def _place_comments(self) -> list[_Comment]:
        """Give each comment a line: above it or at its end. Returns those left for the end
        of the file."""
        text = self.source.text
        by_start = sorted((s, k, e) for k, line in enumerate(self.lines) for s, e in line.spans)
        starts = [r[0] for r in by_start]
        reach, best = [], (-1, -1)  # the furthest end among the ranges starting before each
        for s, k, e in by_start:
            best = max(best, (e, k))
            reach.append(best)
        by_end = sorted((e, k) for k, line in enumerate(self.lines) for _s, e in line.spans)
        eof: list[_Comment] = []
        for c in self.comments:
            p = c.start
            i = bisect_left(starts, p)
            j = bisect_left(by_end, (p + 1,)) - 1  # the code that ends last before p
            # at the end of a line that holds code (not just a bracket or a keyword)
            trailing = not c.own_line and j >= 0 and by_end[j][0] >= text.rfind("\n", 0, p) + 1
            if i and reach[i - 1][0] > p:  # inside code printed on one line
                target, side = reach[i - 1][1], ("after" if trailing else "before")
            elif trailing:
                target, side = by_end[j][1], "after"
            elif i < len(by_start):
                target, side = by_start[i][1], "before"
            else:
                eof.append(c)
                continue
            if not c.own_line:  # moved to a line of its own: no blank line around it
                c = dataclasses.replace(c, blank_before=False, blank_after=False)
            getattr(self.lines[target], side).append(c)
        return eof

    def run(self) -> str:
        for d in self.module.definitions:
            lines = self._definition(d)
            if lines:
                lines[0].first = True
            self.lines += lines
        eof = self._place_comments()
        out: list[str] = []
        for line in self.lines:
            # all the comments of the line in their order; only the last may stay at its end
            before = sorted(line.before + line.after, key=lambda c: c.start)
            after = [before.pop()] if line.after and before[-1] is line.after[-1] else []
            if line.first:
                if out:
                    out.append("")
                for j, c in enumerate(before):
                    if j and (before[j - 1].blank_after or c.blank_before):
                        out.append("")
                    out.append(c.text)
                if before and before[-1].blank_after:
                    out.append("")
            else:
                out.extend(line.indent + c.text for c in before)
            out.append(line.text + (f"  {after[-1].text}" if after else ""))
        for j, c in enumerate(eof):
            if (j == 0 and out and c.blank_before) or (j and (eof[j - 1].blank_after or c.blank_before)):
                out.append("")
            out.append(c.text)
        return "\n".join(out) + "\n" if out else ""


def _sequence(s: ast.Sequence) -> str:
    """`followed by orders where ... within 2 days` (the Y side of a sequence)."""
    where = f" where {expr_text(s.where)}" if s.where is not None else ""
    return f"{s.kind.replace('_', ' ')} by {s.source}{where} within {s.within.text}"
