"""One lexer regex for all parser states, instead of one per state (issue 16, start-up).

Lark's contextual lexer (needed: DESIGN §7) gives each parser state a scanner over the
terminals that state accepts: one big alternation `(?P<A>..)|(?P<B>..)|..` compiled on
the state's first use. Parsing the example project touches ~45 states, and compiling
their regexes was the largest single cost of a cold `segc compile -e` (≈ 20 ms of
Python's pure-Python regex parser). Here every state shares the root lexer's scanner (all
terminals, compiled once) and keeps exactly its own answer:

A scanner answers with the first terminal, in the lexer's fixed order (priority, width,
length, name: the same key for every state), whose pattern matches at the position, an
alternative of `|` matching exactly as its pattern alone would. A state's terminals are a
subset of the root's, in the same order, apart from the few string terminals that the
root folds into a regex terminal (`_create_unless`) and the state does not ("extra").
So when the root's first match T is one of the state's terminals, the state's answer is T
unless one of its extra terminals that comes before T matches; otherwise (the root's
answer is not allowed here, or nothing matched) the state's terminals are tried one by
one, each compiled alone (a few small patterns, shared by all states). The callbacks
(keywords matched by a regex terminal) stay the state's own.

tests/test_parser_shipped.py compares these answers with Lark's (the lark package) on
every input it has, syntax errors included.
"""
from __future__ import annotations

import re

from segc.grammar.segment_parser import CallChain, create_unless


class SharedScanner:
    """Stands in for Lark's `Scanner` of one state (`match` and `allowed_types`)."""

    def __init__(self, terminals, root, flags: int, singles: dict) -> None:
        self.terminals = terminals
        self.allowed_types = {t.name for t in terminals}
        self._root = root
        self._flags = flags
        self._singles = singles  # terminal name -> its pattern compiled alone, shared by the states
        self._rank = {t.name: i for i, t in enumerate(terminals)}
        root_names = {t.name for t in root.terminals}
        self._extra = [t for t in terminals if t.name not in root_names]

    def _single(self, terminal):
        compiled = self._singles.get(terminal.name)
        if compiled is None:
            compiled = self._singles[terminal.name] = re.compile(terminal.pattern.to_regexp(), self._flags)
        return compiled

    def _first_of(self, terminals, text, pos):
        for t in terminals:
            m = self._single(t).match(text.text, pos, text.end)
            if m:
                return m.group(0), t.name
        return None

    def match(self, text, pos):
        found = self._root.match(text, pos)
        if found is not None and found[1] in self._rank:
            rank = self._rank[found[1]]
            before = [t for t in self._extra if self._rank[t.name] < rank]
            return self._first_of(before, text, pos) or found
        return self._first_of(self.terminals, text, pos)


def share_scanners(contextual) -> None:
    """Make every state lexer of a (standalone Lark) ContextualLexer use its root lexer's scanner."""
    root = contextual.root_lexer.scanner
    singles: dict = {}
    for lexer in {id(lx): lx for lx in contextual.lexers.values()}.values():
        lexer._build_scanner = _builder(lexer, root, singles)


def _builder(lexer, root, singles):
    def build():
        # the state's own terminal list and callbacks, made as Lark's _build_scanner makes
        # them; only the compiled alternation of those terminals is replaced
        terminals, lexer.callback = create_unless(lexer.terminals, lexer.g_regex_flags, lexer.re, lexer.use_bytes)
        for type_, f in lexer.user_callbacks.items():
            if type_ in lexer.callback:
                lexer.callback[type_] = CallChain(lexer.callback[type_], f, lambda t, type_=type_: t.type == type_)
            else:
                lexer.callback[type_] = f
        return SharedScanner(terminals, root, lexer.g_regex_flags, singles)

    return build
