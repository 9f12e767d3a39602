"""sqlglot tree -> SQL text for one dialect. sqlglot is trusted where it is right; the
dialect's rewrites (rewrites.py, named in the dialect table) fix what it renders silently
wrong (measured, DESIGN §7), and what a dialect cannot express becomes a diagnostic,
never wrong SQL."""
from __future__ import annotations

from sqlglot import ErrorLevel, exp
from sqlglot.errors import UnsupportedError

from segc.front.errors import Diagnostic, SegcError
from segc.backend import rewrites
from segc.backend.dialects import DIALECTS, TABLE


def _everywhere(transform):
    """sqlglot's transform does not visit the inside of a replacement node: apply the
    dialect's transform there too (a DATE_TRUNC inside a rewritten date shift)."""
    def apply(node: exp.Expression) -> exp.Expression:
        new = transform(node)
        if new is node:
            return node
        return new.transform(apply, copy=False)
    return apply


def render(tree: exp.Expression, dialect: str, pretty: bool = True, copy: bool = True) -> str:
    """SQL text of `tree`; `copy=False` lets the dialect's rewrites reuse a tree that the
    caller will not render again (a fresh lowering)."""
    if dialect not in DIALECTS:
        from segc.front.errors import suggest

        close = suggest(dialect, DIALECTS)
        raise SegcError(Diagnostic("E601", f"unknown dialect `{dialect}`",
                                   hints=((f"did you mean `{close}`?",) if close else ())
                                   + ("dialects: " + ", ".join(DIALECTS),)))
    rewrite = TABLE[dialect].rewrite
    transform = getattr(rewrites, rewrite) if rewrite else None
    try:
        if transform is not None:
            tree = tree.transform(_everywhere(transform), copy=copy)
            copy = False
        return tree.sql(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE, copy=copy)
    except UnsupportedError as e:
        raise SegcError(Diagnostic("E602", f"this cannot be expressed in {dialect}: {e}",
                                   hints=("choose another dialect, or change the segment",))) from None
