"""run/regex_match.py, the linear-time `matches` of `segc test`'s SQLite: the same answer
as Python's re.search (DESIGN §8.1's reference) on generated patterns of the portable
subset and texts over their alphabet, and no backtracking blow-up."""
from __future__ import annotations

import re
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from segc.front.regex_subset import RegexError, parse, write
from segc.run.regex_match import compile_tokens, search

ALPHABET = "ab\n-]"
ATOMS = st.sampled_from(["a", "b", ".", "[ab]", "[^a]", "[a-b]", "[-a]", "\\.", "\\(", "^", "$", "\\-" if False else "-"])
QUANTS = st.sampled_from(["", "", "*", "+", "?", "{2}", "{0,2}", "{1,}", "{0}", "{2,3}"])


@st.composite
def patterns(draw, depth=0):
    items = []
    for _ in range(draw(st.integers(1, 4))):
        if depth < 2 and draw(st.booleans()) and draw(st.booleans()):
            inner = "|".join(draw(st.lists(patterns(depth + 1), min_size=1, max_size=3)))
            atom = f"({inner})"
        else:
            atom = draw(ATOMS)
        quant = draw(QUANTS) if atom not in ("^", "$") else ""
        items.append(atom + quant)
    return "".join(items)


def reference(pattern: str, text: str) -> bool:
    return re.search(write(parse(pattern), end="\\Z"), text) is not None


@settings(max_examples=600, deadline=None)
@given(patterns(), st.lists(st.text(alphabet=ALPHABET, max_size=8), min_size=1, max_size=6))
def test_same_answers_as_python_re(pattern, texts):
    try:
        tokens = parse(pattern)
    except RegexError:
        return  # outside the subset: refused before any engine runs it
    program = compile_tokens(tokens)
    for text in texts:
        assert search(program, text) == reference(pattern, text), (pattern, text)


def test_written_patterns_read_back():
    # the SQLite SQL holds the pattern as segc wrote it (`.` as a set without LF)
    for pattern, text, want in [("^a.b$", "a\nb", False), ("^a.b$", "axb", True), ("[^a]", "\n", True),
                                ("a$", "a\n", False), ("(ab|a)c", "xabc", True), ("^$", "", True)]:
        written = write(parse(pattern), end="$")
        assert search(compile_tokens(parse(written)), text) is want, (pattern, text)


def test_no_backtracking_blow_up():
    # re.search takes hours here (2^40 ways to split the a's); a child process, so that a
    # regression fails by its timeout rather than hanging the suite
    code = ("from segc.front.regex_subset import parse; from segc.run.regex_match import compile_tokens, search; "
            "p = compile_tokens(parse('^(a+)+$')); assert not search(p, 'a' * 40 + '!'); "
            "assert search(compile_tokens(parse('^(a|aa)*(b{2,3}|c)$')), 'a' * 500 + 'bb')")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
