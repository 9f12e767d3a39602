"""How deeply an expression may nest. The parser builds any depth (it is LALR, with no
recursion), but every stage after it walks the tree recursively: the checker, the
lowering, sqlglot's SQL generator (the first to run out of Python's stack, at about 160
levels of `not` or `-` under the default recursion limit of 1000), fmt, the catalogue.
So the depth is bounded once, here, with a margin for callers' own stack frames; the
checker applies the same bound through references to other segments (check/nesting.py).

A chain of one `and` or `or` is a single level (the tree holds it flat), and parentheses
that only group add nothing; every other operator, function call or `not` inside another
is one level more."""
from __future__ import annotations

import dataclasses

from segc.front import ast
from segc.front.errors import Diagnostic
from segc.front.source import Span

MAX_NESTING = 100
CODE = "E104"
HINT = (f"an expression may nest at most {MAX_NESTING} levels; name a part of it as a segment, "
        "or write a long chain with one `and`/`or` (a chain counts as one level)")

_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    names = _CHILD_FIELDS.get(cls)
    if names is None:
        names = _CHILD_FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.name != "span")
    return names


def children(node) -> list:
    """The syntax nodes directly inside `node` (a tuple field gives each of its items)."""
    out = []
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, ast.Node):
            out.append(value)
        elif isinstance(value, tuple):
            out.extend(v for v in value if isinstance(v, ast.Node))
    return out


def too_deep(expr, limit: int = MAX_NESTING):
    """The outermost node nested deeper than `limit` levels in `expr`, or None. Iterative:
    it must not need the stack it protects."""
    stack = [(expr, 1)]
    while stack:
        node, level = stack.pop()
        if level > limit:
            return node
        stack.extend((child, level + 1) for child in children(node))
    return None


def first_line(span: Span) -> Span:
    """The part of a span on its first line (a deep node can span the rest of the file)."""
    newline = span.source.text.find("\n", span.start, span.end)
    return span if newline < 0 else Span(span.source, span.start, max(newline, span.start + 1))


def nesting_diagnostic(node, message: str = "") -> Diagnostic:
    span = first_line(node.span) if node.span is not None else None
    return Diagnostic(CODE, message or f"this expression is nested more than {MAX_NESTING} levels deep",
                      span, hints=(HINT,))
