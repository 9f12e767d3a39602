"""Text -> syntax tree. Lark LALR with the transformer inlined; the parser is made once
per process, from the tables shipped in segc.grammar.segment_parser (built ahead of time,
with lark's own runtime: lark itself is not imported) while they were built from this
segment.lark, and otherwise by lark from the grammar (its tables cached in the user's cache
directory)."""
from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path

from segc.grammar import GRAMMAR_PATH, LARK_OPTIONS, segment_parser

GRAMMAR = GRAMMAR_PATH.read_text(encoding="utf-8")
SHIPPED = segment_parser.GRAMMAR == GRAMMAR  # else the grammar changed since `python -m segc.grammar.build`
if SHIPPED:
    from segc.grammar.segment_parser import (Token, Transformer, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput,
                                             UnexpectedToken, VisitError, v_args)
else:
    from lark import Token, Transformer, v_args
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from segc.front import ast
from segc.front.errors import Diagnostic, SegcError
from segc.front.nesting import nesting_diagnostic, too_deep
from segc.front.source import Source, Span
from segc.front.shared_lexer import share_scanners
from segc.front.syntax_hints import BOUND_PARTS, describe_expected, misused_word_hints, token_hints, zone_hints

_PLURAL_UNITS = {"days": "day", "weeks": "week", "months": "month", "years": "year"}



class _SyntaxProblem(Exception):
    """A token that lexed but means nothing valid (a bad date, a bad escape)."""

    def __init__(self, token: Token, message: str, hint: str = ""):
        self.token, self.message, self.hint = token, message, hint


def unescape(body: str, token: Token | None = None) -> str:
    """JSON-like escapes: \\\\ \\" \\' \\n \\t \\uXXXX; any other escaped char is itself."""
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt == "n":
            out.append("\n")
        elif nxt == "t":
            out.append("\t")
        elif nxt == "r":
            out.append("\r")
        elif nxt == "u":
            digits = body[i + 2 : i + 6]
            if not re.fullmatch(r"[0-9a-fA-F]{4}", digits):
                raise _SyntaxProblem(token, "bad unicode escape in string", "write \\u followed by 4 hex digits")
            out.append(chr(int(digits, 16)))
            i += 4
        else:
            out.append(nxt)
        i += 2
    text = "".join(out)
    try:  # join surrogate pairs written as two \u escapes
        text = text.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        raise _SyntaxProblem(token, "unpaired surrogate in string escape") from None
    if "\x00" in text:
        raise _SyntaxProblem(token, "NUL character in string")
    return text


@v_args(inline=True)
class _ToAst(Transformer):
    """Inlined into the LALR parser: rule callbacks build ast nodes directly."""

    source: Source  # set before each parse (under the parser lock)
    offset: int = 0  # where the parsed text starts in source (expressions inside segc.yml)

    def _span(self, first, last=None) -> Span:
        """From `first` to `last` (tokens, nodes or spans), as one Span object: this runs
        for every node, so no intermediate Span per operand."""
        start, end = self._bounds(first)
        if last is not None:
            last_start, last_end = self._bounds(last)
            start, end = min(start, last_start), max(end, last_end)
        return Span(self.source, start, end)

    def _bounds(self, item) -> tuple[int, int]:
        if isinstance(item, Token):
            return item.start_pos + self.offset, item.end_pos + self.offset
        span = item if isinstance(item, Span) else item.span
        return span.start, span.end

    # ---- definitions ----
    def file(self, *defs):
        return list(defs)

    def expr_file(self, *items):
        return ("bare", [t for t in items[:-1]], items[-1])

    def header(self, *items):
        docs = [t for t in items if isinstance(t, Token)]
        anns = tuple(a for a in items if isinstance(a, ast.Annotation))
        return docs, anns

    @staticmethod
    def _doc(docs) -> str:
        return "\n".join(str(d)[2:].strip() for d in docs)

    def segment_def(self, header, kw, name, expr):
        docs, anns = header
        first = docs[0] if docs else (anns[0] if anns else kw)
        return ast.Segment(str(name), expr, self._doc(docs), anns,
                           span=self._span(first, expr), name_span=self._span(name))

    def segmentation_def(self, header, kw, name, *rest):
        docs, anns = header
        first = docs[0] if docs else (anns[0] if anns else kw)
        return ast.Segmentation(str(name), tuple(rest[:-1]), self._doc(docs), anns,
                                span=self._span(first, rest[-1]), name_span=self._span(name))

    def branch(self, *items):
        docs = [t for t in items[:-2]]
        name, body = items[-2], items[-1]
        expr = None if isinstance(body, Token) and body.type == "ELSE" else body
        return ast.Branch(str(name), expr, self._doc(docs), span=self._span(name, body),
                          name_span=self._span(name))

    def annotation(self, at, name, *rest):
        args = tuple(a for a in rest[:-1] if a is not None)
        vals = tuple(a.value if isinstance(a, ast.Literal) else a for a in args)
        end = rest[-1] if rest and rest[-1] is not None else name
        return ast.Annotation(str(name), vals, span=self._span(at, end))

    def ann_name(self, tok):
        return str(tok)

    def int(self, tok):
        return float(tok) if "." in tok else int(tok)

    # ---- expressions ----
    def or_(self, *items):
        if len(items) == 1:
            return items[0]
        return ast.Or(tuple(items), span=self._span(items[0], items[-1]))

    def and_(self, *items):
        if len(items) == 1:
            return items[0]
        return ast.And(tuple(items), span=self._span(items[0], items[-1]))

    def not_(self, kw, operand):
        return ast.Not(operand, span=self._span(kw, operand))

    def compare(self, left, op, right):
        return ast.Compare(str(op), left, right, span=self._span(left, right))

    def between(self, operand, low, high):
        return ast.Between(operand, low, high, span=self._span(operand, high))

    def in_list(self, operand, _in, items):
        return ast.InList(operand, items[0], False, span=self._span(operand, items[1]))

    def not_in_list(self, operand, _not, _in, items):
        return ast.InList(operand, items[0], True, span=self._span(operand, items[1]))

    def list(self, *items):
        return tuple(i for i in items[:-1] if i is not None), items[-1]

    def is_missing(self, operand, word):
        return ast.IsMissing(operand, word.type == "PRESENT", span=self._span(operand, word))

    def str_match(self, operand, kw, pattern):
        return ast.StrMatch(kw.type.lower(), operand, pattern, span=self._span(operand, pattern))

    def within(self, operand, period):
        return ast.Within(operand, period, span=self._span(operand, period))

    def rank(self, direction, number, _pct, by):
        return ast.Rank(str(direction), float(number), by, span=self._span(direction, by))

    def rank_n(self, direction, number, by):
        # `top 2.5 by f` keeps its fraction so the checker can refuse it (E306)
        n = float(number) if "." in number else int(number)
        return ast.Rank(str(direction), n, by, absolute=True, span=self._span(direction, by))

    def holdout(self, kw, number, _pct, _seed, seed):
        return ast.Holdout(float(number), seed, span=self._span(kw, seed))

    def arith(self, left, op, right):
        return ast.Arith(str(op), left, right, span=self._span(left, right))

    def neg(self, minus, operand):
        if isinstance(operand, ast.Literal) and operand.type in ("int", "float"):
            return ast.Literal(-operand.value, operand.type, span=self._span(minus, operand))
        return ast.Neg(operand, span=self._span(minus, operand))

    def neg_number(self, minus, number):
        return self.neg(minus, self.number(number))

    def name(self, tok):
        return ast.Name(str(tok), span=self._span(tok))

    def dotted(self, left, right):
        return ast.Dotted(str(left), str(right), span=self._span(left, right))

    def param(self, tok):
        span = self._span(tok)
        return ast.Param(str(tok), span=Span(span.source, span.start - 1, span.end))

    def call(self, name, *rest):
        args = tuple(a for a in rest[:-1] if a is not None)
        return ast.Call(str(name), args, span=self._span(name, rest[-1]))

    def aggregate(self, func, source, column, _where, where, _during, during, rpar):
        return ast.Aggregate(str(func), str(source), str(column) if column is not None else None,
                             where, during, span=self._span(func, rpar))

    def pick(self, func, source, column, k, _where, where, _during, during, rpar):
        return ast.Aggregate(str(func), str(source), str(column), where, during, k=k, span=self._span(func, rpar))

    def sequence(self, func, source, _where, where, _during, during, op, y_source, _y_where, y_where, number, unit,
                 rpar):
        kind = "_".join(str(op).split()[:-1])  # `not  followed by` -> not_followed
        seq = ast.Sequence(kind, str(y_source), y_where, self._duration(number, unit), span=self._span(op, rpar))
        return ast.Aggregate(str(func), str(source), None, where, during, seq, span=self._span(func, rpar))

    def sequence_bound(self, func, source, _where, where, _during, during, op, y_source, _y_where, y_where, bound):
        # SEQ_BOUND is `within N unit )` as one token: its parts as the tokens they would be
        m = BOUND_PARTS.match(str(bound))
        parts = [Token(kind, m.group(i), start_pos=bound.start_pos + m.start(i), end_pos=bound.start_pos + m.end(i))
                 for kind, i in (("NUMBER", 1), ("UNIT", 2), ("RPAR", 3))]
        return self.sequence(func, source, _where, where, _during, during, op, y_source, _y_where, y_where, *parts)

    def paren(self, lpar, expr, rpar):
        return expr

    def today(self, tok):
        return ast.Today(span=self._span(tok))

    # ---- literals ----
    def number(self, tok):
        text = str(tok)
        value, kind = (float(text), "float") if "." in text else (int(text), "int")
        if value == float("inf"):  # SQL has no literal for it
            raise _SyntaxProblem(tok, "this number is too large", "numbers are at most about 1.8e308")
        return ast.Literal(value, kind, span=self._span(tok))

    def string(self, tok):
        return ast.Literal(unescape(str(tok)[1:-1], tok), "string", span=self._span(tok))

    def true(self, tok):
        return ast.Literal(True, "bool", span=self._span(tok))

    def false(self, tok):
        return ast.Literal(False, "bool", span=self._span(tok))

    def date(self, tok):
        try:
            value = dt.date.fromisoformat(str(tok))
        except ValueError:
            raise _SyntaxProblem(tok, f"`{tok}` is not a valid date", "dates are written YYYY-MM-DD") from None
        return ast.Literal(value, "date", span=self._span(tok))

    def timestamp(self, tok):
        try:
            value = dt.datetime.fromisoformat(str(tok))
        except ValueError:
            raise _SyntaxProblem(tok, f"`{tok}` is not a valid timestamp",
                                 "timestamps are written YYYY-MM-DDTHH:MM:SS") from None
        return ast.Literal(value, "timestamp", span=self._span(tok))

    def _duration(self, number, unit):
        if "." in str(number):
            raise _SyntaxProblem(number, "a duration needs a whole number", "write e.g. `30 days`")
        word = str(unit)
        return ast.Duration(int(number), _PLURAL_UNITS.get(word, word), span=self._span(number, unit))

    def duration(self, number, unit):
        return self._duration(number, unit)

    # ---- periods ----
    def last_duration(self, kw, number, unit):
        d = self._duration(number, unit)
        return ast.Period("last", duration=d, span=self._span(kw, unit))

    def next_duration(self, kw, number, unit):
        d = self._duration(number, unit)
        return ast.Period("next", duration=d, span=self._span(kw, unit))

    def this_period(self, kw, unit):
        return ast.Period("this", unit=str(unit), span=self._span(kw, unit))

    def last_period(self, kw, unit):
        return ast.Period("previous", unit=str(unit), span=self._span(kw, unit))

    def experiment_period(self, kw):
        return ast.Period("experiment", span=self._span(kw, kw))

    def fixed_range(self, start, end):
        return ast.Period("fixed", start=start, end=end, span=self._span(start, end))


_HEADER_LINE = re.compile(r"[ \t]*(##|@)")
_DEF_LINE = re.compile(r"[ \t]*(segment|segmentation)\b")
_DEF_WORD = re.compile(r"(?<![\w$])(segment|segmentation)\b")
_STRINGS_AND_COMMENTS = re.compile(r'"(\\.|[^"\\\n])*"|\'(\\.|[^\'\\\n])*\'|#[^\n]*')
_DEF_NAME = re.compile(r"^[ \t]*(?:segment|segmentation)[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.M)


class Parser:
    """Thread-safe wrapper around one Lark instance."""

    def __init__(self) -> None:
        self._transformer = _ToAst()
        self._lock = threading.Lock()
        if SHIPPED:
            self._lark = segment_parser.Lark_StandAlone(transformer=self._transformer)
            share_scanners(self._lark.parser.lexer)  # one lexer regex, not one per parser state (start-up)
        else:
            from lark import Lark

            self._lark = Lark(GRAMMAR, **LARK_OPTIONS, transformer=self._transformer, cache=_cache_path(GRAMMAR))

    def parse_module(self, source: Source) -> ast.Module:
        """Parse a .seg file; raises SegcError with a syntax error per broken definition."""
        text = source.text
        lines = text.split("\n")
        bare = _DEF_WORD.search(_STRINGS_AND_COMMENTS.sub(" ", text)) is None
        if bare and any(line.strip() and not line.lstrip().startswith("#") for line in lines):
            _kind, docs, expr = self._parse(source, text, "expr_file")
            _refuse_deep(expr)
            # its text starts at its `##` doc, as a `segment NAME = ...` one's (build's hash, diff)
            span = Span(source, docs[0].start_pos, expr.span.end) if docs else expr.span
            seg = ast.Segment(Path(source.name).stem, expr, _ToAst._doc(docs), (),
                              span=span, name_span=expr.span)
            return ast.Module(source.name, (seg,), bare=True, span=expr.span)
        try:
            defs = self._parse(source, text, "file")
        except SegcError as first:
            defs, diags, broken = self._recover(source)
            deep_diags, deep = _deep_definitions(defs)
            error = SegcError((diags or first.diagnostics) + deep_diags)
            # the definitions that parsed are still checked, so that their errors show too
            error.module = ast.Module(source.name, tuple(d for d in defs if d.name not in deep),
                                      broken=tuple(broken) + tuple(deep))
            raise error from None
        return _without_deep(ast.Module(source.name, tuple(defs)))

    def parse_expression(self, source: Source, text: str | None = None, offset: int = 0) -> ast.Expr:
        """An expression: a whole source, or `text` found at `offset` inside it."""
        _kind, _docs, expr = self._parse(source, source.text if text is None else text, "expr_file", offset)
        _refuse_deep(expr)
        return expr

    def _parse(self, source: Source, text: str, start: str, offset: int = 0):
        with self._lock:
            self._transformer.source = source
            self._transformer.offset = offset
            try:
                return self._lark.parse(text, start=start)
            except UnexpectedInput as e:
                raise SegcError(_shift(_syntax_diagnostic(source, text, e), offset)) from None
            except _SyntaxProblem as p:
                raise SegcError(_shift(_problem_diagnostic(source, p), offset)) from None
            except VisitError as e:  # a callback raised inside the inlined transformer
                if isinstance(e.orig_exc, _SyntaxProblem):
                    raise SegcError(_shift(_problem_diagnostic(source, e.orig_exc), offset)) from None
                raise

    def _recover(self, source: Source):
        """Parse each definition on its own so that one error does not hide the next."""
        defs, diags, broken = [], [], []
        text = source.text
        for start, end in _definition_chunks(text):
            blanked = re.sub(r"[^\n]", " ", text[:start]) + text[start:end]
            try:
                defs.extend(self._parse(source, blanked, "file"))
            except SegcError as e:
                diags.extend(e.diagnostics)
                broken += _DEF_NAME.findall(text[start:end])
        return defs, diags, broken


def _refuse_deep(expr: ast.Expr) -> None:
    deep = too_deep(expr)
    if deep is not None:
        raise SegcError(nesting_diagnostic(deep))


def _definition_exprs(d: ast.Definition) -> list[ast.Expr]:
    return [d.expr] if isinstance(d, ast.Segment) else [b.expr for b in d.branches if b.expr is not None]


def _deep_definitions(defs) -> tuple[list[Diagnostic], list[str]]:
    """The definitions nested too deeply for the later stages, each with its diagnostic."""
    diags, names = [], []
    for d in defs:
        node = next((n for n in map(too_deep, _definition_exprs(d)) if n is not None), None)
        if node is not None:
            diags.append(nesting_diagnostic(node))
            names.append(d.name)
    return diags, names


def _without_deep(module: ast.Module) -> ast.Module:
    """The module, or an error for its definitions nested too deeply (the others are still
    checked, as after a syntax error)."""
    diags, deep = _deep_definitions(module.definitions)
    if not diags:
        return module
    error = SegcError(diags)
    error.module = ast.Module(module.file, tuple(d for d in module.definitions if d.name not in deep),
                              broken=tuple(deep))
    raise error


def _definition_chunks(text: str) -> list[tuple[int, int]]:
    """Character ranges of the definitions: each starts at a `segment`/`segmentation` line,
    pulled back over the `##` docs and `@` annotations written just above it."""
    lines = text.split("\n")
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    starts = []
    for i, line in enumerate(lines):
        if _DEF_LINE.match(line):
            j = i
            while j > 0 and (_HEADER_LINE.match(lines[j - 1]) or not lines[j - 1].strip()):
                j -= 1
            starts.append(offsets[j])
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    bounds = starts + [len(text)]
    return [(bounds[k], bounds[k + 1]) for k in range(len(starts)) if bounds[k] < bounds[k + 1]]


def _shift(d: Diagnostic, offset: int) -> Diagnostic:
    if not offset or d.span is None:
        return d
    from dataclasses import replace
    return replace(d, span=Span(d.span.source, d.span.start + offset, d.span.end + offset))


def _syntax_diagnostic(source: Source, text: str, e: UnexpectedInput) -> Diagnostic:
    hints: list[str] = []
    if isinstance(e, UnexpectedCharacters):
        start = e.pos_in_stream
        ch = text[start]
        end = start + 1
        message = f"unexpected character `{ch}`"
        if ch in "\"'":
            message = "unterminated string"
            hints.append("a string ends with the same quote on the same line; write \\n for a newline")
            end = text.find("\n", start) if "\n" in text[start:] else len(text)
        elif text.startswith(("==",), start - 1) or ch == "=":
            hints.append("equality is a single `=`")
        elif ch in "&|":
            hints.append("write `and` / `or`")
        elif ch == "!":
            hints.append("`!=` compares; for negation write `not`")
        hints += zone_hints(text, start)
        return Diagnostic("E101", message, Span(source, start, end), hints=tuple(hints))
    if isinstance(e, UnexpectedEOF) or (isinstance(e, UnexpectedToken) and e.token.type == "$END"):
        end = len(text.rstrip())
        # `accepts` is what the parser could take; `expected` also holds what the lexer could
        expected = getattr(e, "accepts", None) or getattr(e, "expected", None) or []
        hints += misused_word_hints(text, len(text.rstrip()), None)
        if expected:
            hints.append(f"expected {describe_expected(expected)}")
        return Diagnostic("E102", "unexpected end of input", Span(source, max(end - 1, 0), max(end, 1)),
                          hints=tuple(hints))
    tok = e.token
    expected = e.accepts or e.expected
    message = f"unexpected `{tok}`"
    prev = text[:tok.start_pos].rstrip()[-1:]
    if tok.type == "MISSING" and prev in ("[", ","):
        # `x in [1, missing]`: the same mistake as `[1, null]`, which the checker reports as E305
        operand = re.search(r"([A-Za-z_]\w*)\s+(?:not\s+)?in\s*\[[^\[\]]*$", text[:tok.start_pos])
        test = f"`{operand.group(1)} is missing`" if operand else "`x is missing`"
        return Diagnostic("E305", "a list cannot hold a missing value", Span(source, tok.start_pos, tok.end_pos),
                          hints=(f"test it separately: {test}",))
    hints += token_hints(text, tok, prev, expected)
    return Diagnostic("E101", message, Span(source, tok.start_pos, tok.end_pos),
                      hints=tuple(h for h in hints if h))


def _problem_diagnostic(source: Source, p: _SyntaxProblem) -> Diagnostic:
    tok = p.token
    return Diagnostic("E103", p.message, Span(source, tok.start_pos, tok.end_pos),
                      hints=(p.hint,) if p.hint else ())


def _cache_path(grammar: str) -> str | bool:
    """Lark's analysis cached per grammar and Lark version in segc's cache folder (only
    when the grammar changed since the shipped parser was built: a source checkout)."""
    import hashlib

    import lark

    from segc.front.parse_cache import cache_folder

    folder = cache_folder("lark")
    if folder is None:
        return False
    digest = hashlib.sha256((grammar + lark.__version__).encode()).hexdigest()[:16]
    return str(folder / f"grammar-{digest}.lark-cache")


_parser: Parser | None = None
_parser_lock = threading.Lock()


def get_parser() -> Parser:
    global _parser
    if _parser is None:
        with _parser_lock:
            if _parser is None:
                _parser = Parser()
    return _parser


def parse_module(source: Source) -> ast.Module:
    return get_parser().parse_module(source)


def parse_expression(source: Source, text: str | None = None, offset: int = 0) -> ast.Expr:
    return get_parser().parse_expression(source, text, offset)
