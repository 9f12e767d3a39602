"""The parser states share one lexer regex (segc.front.shared_lexer, issue 16 start-up):
each state must still answer exactly as its own Lark scanner would, at every position.
(tests/test_startup.py compares whole parses, diagnostics included, with lark's.)"""
from pathlib import Path

import pytest

from segc.front import parser
from segc.front.shared_lexer import SharedScanner, share_scanners
from segc.front.source import Source
from segc.grammar import segment_parser

ROOT = Path(__file__).resolve().parents[1]

# words and marks where terminals compete: keywords against names, `=` against `==`/`!=`,
# `not followed by` against `not`, dates against timestamps and numbers, doc and comments
TRICKY = ("segment segmentation else not in is missing present contains starts ends matches true false "
          "today where during experiment experiments last next this holdout seed to by with within "
          "notfollowed not followed by followed  by preceded by count_distinct( counts sum avg min max "
          "exists first nth mode top bottom days weeks month years x_1 _y $p = == != <= >= < > <> @tag "
          "2024-01-31 2024-01-31T10:20 2024-01-31T10:20:30.5 12 3.25 1.e5 -7 'a\\'b' \"c\\\"d\" \"open "
          "## doc line\n# comment\n#\n##\n( ) [ ] { } , . % + - * / ! ? é\t\f\r\n")


def _texts():
    seg = [p.read_text(encoding="utf-8") for p in sorted(ROOT.glob("examples/**/*.seg"))]
    return [TRICKY, TRICKY.upper(), "".join(seg)]


def _state_lexers():
    contextual = parser.get_parser()._lark.parser.lexer
    return list({id(lx): lx for lx in contextual.lexers.values()}.values())


@pytest.mark.skipif(not parser.SHIPPED, reason="the shared scanner is used with the shipped tables only")
def test_every_state_matches_as_its_own_scanner():
    lexers = _state_lexers()
    assert all(isinstance(lx.scanner, SharedScanner) for lx in lexers)
    assert any(lx.scanner._extra for lx in lexers)  # the `=` of a state without COMP_OP
    checked = 0
    for lx in lexers:
        terminals, _callback = segment_parser.create_unless(lx.terminals, lx.g_regex_flags, lx.re, lx.use_bytes)
        own = segment_parser.Scanner(terminals, lx.g_regex_flags, lx.re, lx.use_bytes)
        assert lx.scanner.allowed_types == own.allowed_types
        for text in _texts():
            whole = segment_parser.TextSlice(text, 0, len(text))
            step = 1 if len(text) < 2000 else 5
            for pos in range(0, len(text), step):
                assert lx.scanner.match(whole, pos) == own.match(whole, pos), (sorted(own.allowed_types), text[pos:pos + 30])
                checked += 1
    assert checked > 50_000


@pytest.mark.skipif(not parser.SHIPPED, reason="the shared scanner is used with the shipped tables only")
def test_the_state_scanners_compile_no_regex_of_their_own():
    """What the sharing is for: parsing the example project compiles the root regex only
    (plus a pattern or two tried alone), not one alternation per parser state."""
    fresh = parser.Parser()
    for p in sorted(ROOT.glob("examples/retail/segments/*.seg")):
        fresh.parse_module(Source(p.name, p.read_text(encoding="utf-8")))
    contextual = fresh._lark.parser.lexer
    used = [lx.scanner for lx in contextual.lexers.values() if lx._scanner is not None]
    assert len({id(s) for s in used}) > 20
    assert all(not hasattr(s, "_mres") for s in used)
    assert len(used[0]._singles) <= 5


def test_a_string_terminal_the_root_folds_away_still_wins_where_it_comes_first():
    """The case the shared scanner has to look out for (not in today's grammar, where the
    only such terminal is `=`): the root folds the string "ab" into the regex R, R does not
    match here ("abd": its lookahead), and the root answers X, which the state allows too;
    the state, which has "ab" and not R, must answer "ab" (higher priority than X)."""
    sp = segment_parser
    terminals = [sp.TerminalDef("K", sp.PatternStr("ab"), 1), sp.TerminalDef("R", sp.PatternRE("ab(?!d)"), 1),
                 sp.TerminalDef("X", sp.PatternRE(r"a\w+"), 0)]
    conf = sp.LexerConf(terminals, __import__("re"), skip_validation=True)
    contextual = sp.ContextualLexer(conf, {0: ["K", "X"], 1: ["R", "X"]})
    own = {state: lx.scanner for state, lx in sp.ContextualLexer(conf, {0: ["K", "X"], 1: ["R", "X"]}).lexers.items()}
    share_scanners(contextual)
    for text in ("abd", "ab", "abc", "ax"):
        whole = sp.TextSlice(text, 0, len(text))
        for state, lx in contextual.lexers.items():
            assert isinstance(lx.scanner, SharedScanner)
            assert lx.scanner.match(whole, 0) == own[state].match(whole, 0), (state, text)
    assert contextual.lexers[0].scanner.match(sp.TextSlice("abd", 0, 3), 0) == ("ab", "K")
