"""Source's line starts (every location in a message comes from them), found line by line."""
from hypothesis import given, strategies as st

from segc.front.source import Source


@given(st.text(alphabet=st.sampled_from(["a", "é", "\n", "\r", " ", "\u2028"]), max_size=60))
def test_line_starts_and_line_col(text):
    source = Source("x.seg", text)
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    for offset in range(len(text) + 1):
        line = sum(1 for s in starts if s <= offset)
        assert source.line_col(offset) == (line, offset - starts[line - 1] + 1)
