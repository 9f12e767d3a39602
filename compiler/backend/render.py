"""sqlglot tree -> SQL text for one dialect. sqlglot is trusted where it is right; the
dialect's rewrites (rewrites.py, named in the dialect table) fix what it renders silently
wrong (measured, DESIGN §7), and what a dialect cannot express becomes a diagnostic,
never wrong SQL."""
from __future__ import annotations

import functools
import sys
import threading
from contextlib import contextmanager

from sqlglot import Dialect, ErrorLevel, exp
from sqlglot.errors import UnsupportedError

from segc.front.errors import Diagnostic, SegcError
from segc.front.nesting import CODE as NESTING_CODE, HINT as NESTING_HINT
from segc.backend import rewrites
from segc.backend.dialects import DIALECTS, TABLE

# (dialect, functions provided) -> (sqlglot's dialect, {node class: rewrite}, the subclasses
# included): built once, as Dialect.get_or_raise makes a new dialect object on every call
_DIALECTS: dict[tuple[str, tuple[str, ...]], tuple[Dialect, dict]] = {}
# functions a connection may provide beyond its dialect's own (`provided=` of render): the
# node each renders, left as sqlglot writes it instead of the dialect's rewrite or refusal
_PROVIDABLE = {"md5": exp.MD5, "regexp": exp.RegexpLike}


def _dialect(name: str, provided: tuple[str, ...] = ()) -> tuple[Dialect, dict]:
    if (name, provided) not in _DIALECTS:
        table = getattr(rewrites, TABLE[name].rewrite) if TABLE[name].rewrite else {}
        table = {cls: rewrite for cls, rewrite in table.items() if cls not in {_PROVIDABLE[f] for f in provided}}
        _DIALECTS[name, provided] = (Dialect.get_or_raise(name), {sub: rewrite for cls, rewrite in table.items()
                                                                  for sub in (cls, *_subclasses(cls))})
    return _DIALECTS[name, provided]


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def _preorder(tree: exp.Expression, classes: dict) -> list[exp.Expression]:
    """The nodes of `tree` of one of `classes`, in the order of sqlglot's dfs (parents
    first; siblings from left to right, so the first error raised stays the same)."""
    out, stack = [], [tree]
    pop, push, node_class = stack.pop, stack.append, exp.Expr
    # identifiers are a third of the nodes and hold no node: not visited unless rewritten
    leaf = None if exp.Identifier in classes else exp.Identifier
    while stack:
        node = pop()
        if node.__class__ in classes:
            out.append(node)
        for value in reversed(node.args.values()):
            if value.__class__ is list:
                for v in reversed(value):
                    if isinstance(v, node_class):
                        push(v)
            elif value.__class__ is not leaf and isinstance(value, node_class):
                push(value)
    return out


def _rewrite(tree: exp.Expression, table: dict) -> exp.Expression:
    """`tree` with the dialect's rewrites applied as sqlglot's `transform` would apply a
    function of every node (parents first; a replacement is rewritten in turn, inside
    too), but calling them only on the nodes of their classes: `transform` (a Python
    call per node, through generators) was a third of render's time."""
    root = tree
    for node in _preorder(tree, table):
        if not _under(node, root):  # it was inside a node replaced meanwhile
            continue
        new = table[node.__class__](node)
        if new is not node:
            replaces_root = node is root
            node.replace(new)
            new = _rewrite(new, table)
            if replaces_root:
                root = new
    return root


def _under(node: exp.Expression, root: exp.Expression) -> bool:
    while node is not None and node is not root:
        node = node.parent
    return node is root


def fold_identifiers(tree: exp.Expression, sqlglot_dialect: Dialect) -> exp.Expression:
    """`quoting: fold`: every identifier that is a plain name (letters, digits, `_`) loses
    its quotes and is case-folded as the dialect folds an unquoted name (Snowflake: upper
    case; PostgreSQL, DuckDB: lower case), so that it names what an unquoted name names
    there; any other name (a space, a dash) stays quoted as written (folded too where
    even a quoted name ignores case, as on DuckDB: sqlglot knows). A keyword of the
    dialect (`order`, `date`) is folded the same way but quoted, since sqlglot's generator
    does not quote every reserved word on every dialect."""
    from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

    plain = []
    for node in tree.find_all(exp.Identifier):
        if node.quoted and exp.SAFE_IDENTIFIER_RE.match(node.this):
            node.set("quoted", False)
            plain.append(node)
    tree = normalize_identifiers(tree, dialect=sqlglot_dialect)
    keywords = _keywords(type(sqlglot_dialect))
    for node in plain:
        if node.this.upper() in keywords:
            node.set("quoted", True)
    return tree


@functools.cache
def _keywords(dialect_class: type) -> frozenset[str]:
    """Every word of the dialect's keywords (`ORDER` of `ORDER BY`) and reserved words:
    quoting one more name than needed is harmless once it is folded."""
    words = {w for k in dialect_class.tokenizer_class.KEYWORDS for w in k.split()}
    words |= {w.upper() for w in getattr(dialect_class.generator_class, "RESERVED_KEYWORDS", ())}
    return frozenset(words)


def render(tree: exp.Expression, dialect: str, pretty: bool = True, copy: bool = True,
           provided: tuple[str, ...] = (), quoting: str = "preserve") -> str:
    """SQL text of `tree`; `copy=False` lets the dialect's rewrites reuse a tree that the
    caller will not render again (a fresh lowering). `provided`: functions the connection
    that will run the SQL registered itself (e.g. `segc test`'s SQLite has an `md5`), so
    the dialect's lack of them is no obstacle there. `quoting` is segc.yml's (dialects.QUOTING)."""
    if dialect not in DIALECTS:
        from segc.front.errors import suggest

        close = suggest(dialect, DIALECTS)
        raise SegcError(Diagnostic("E601", f"unknown dialect `{dialect}`",
                                   hints=((f"did you mean `{close}`?",) if close else ())
                                   + ("dialects: " + ", ".join(DIALECTS),)))
    sqlglot_dialect, table = _dialect(dialect, tuple(sorted(provided)))
    try:
        with deep_stack():
            return _generate(tree, sqlglot_dialect, table, copy, pretty, quoting)
    except UnsupportedError as e:
        raise SegcError(Diagnostic("E602", f"this cannot be expressed in {dialect}: {e}",
                                   hints=("choose another dialect, or change the segment",))) from None
    except RecursionError:  # a bound the checker's (front/nesting.py) should have kept it from
        raise SegcError(Diagnostic(NESTING_CODE, "the query nests too deeply to be written as SQL",
                                   hints=(NESTING_HINT,))) from None


def _generate(tree, sqlglot_dialect, table, copy: bool, pretty: bool, quoting: str) -> str:
    if table:
        tree = _rewrite(tree.copy() if copy else tree, table)
        copy = False
    if quoting == "fold":
        tree = fold_identifiers(tree.copy() if copy else tree, sqlglot_dialect)
        copy = False
    return sqlglot_dialect.generate(tree, copy=copy, pretty=pretty, unsupported_level=ErrorLevel.RAISE)


@contextmanager
def deep_stack(frames: int = 20_000):
    """Python's recursion limit raised while sqlglot writes a tree: its generator takes up
    to ten frames a level (a `least` in a CASE in a `least`...), so the 100 levels the
    checker allows reached the default limit of 1,000 (measured: 98 levels of `least`).
    Restored after the last of concurrent renders (the playground renders in threads):
    left raised, it let PyYAML recurse through 15,000 nested `[` of a segc.yml."""
    global _deep
    with _deep_lock:
        if _deep == 0:
            _deep_before[0] = sys.getrecursionlimit()
        # checked on every entry, not only the first: another piece of code may have set a
        # lower limit while a render was under way (hypothesis sets its own per test case)
        if sys.getrecursionlimit() < frames:
            sys.setrecursionlimit(frames)
        _deep += 1
    try:
        yield
    finally:
        with _deep_lock:
            _deep -= 1
            if _deep == 0:
                sys.setrecursionlimit(_deep_before[0])


_deep, _deep_before, _deep_lock = 0, [1000], threading.Lock()
