"""A diagnostic shows its source line cut to front.errors.EXCERPT characters around the
problem (a generated .seg file can be one line of megabytes), the caret still under the
exact characters, the printed line:col unchanged; short lines are shown whole."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from segc.front.errors import EXCERPT, Diagnostic, render_text
from segc.front.source import Source, Span


def _shown(text: str, start: int, end: int) -> tuple[str, str, str]:
    out = render_text([Diagnostic("E101", "unexpected thing", Span(Source("a.seg", text), start, end))])
    lines = out.splitlines()
    return lines[1], lines[3].split(" | ", 1)[1], lines[4].split(" | ", 1)[1]


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 3 * EXCERPT), st.data())
def test_the_caret_stays_under_the_problem(length, data):
    text = "".join(chr(ord("a") + i % 26) for i in range(length))
    start = data.draw(st.integers(0, length - 1))
    end = data.draw(st.integers(start + 1, length))
    where, shown, caret = _shown(text, start, end)
    assert where == f" --> a.seg:1:{start + 1}"
    at = caret.index("^")
    assert len(shown) <= EXCERPT + 2  # two … at most
    assert shown[at] == text[start]  # the first marked character is the problem's
    assert 1 <= caret.count("^") <= end - start
    assert shown[at:at + caret.count("^")] == text[start:start + caret.count("^")]
    if length <= EXCERPT:
        assert shown == text and caret == " " * start + "^" * (end - start)
    else:
        assert shown.startswith("…") == (shown[:1] != text[:1]) and "…" in shown


def test_a_huge_line_is_a_short_message(tmp_path):
    from typer.testing import CliRunner

    from segc.cli.main import app
    from tests.conftest import EXAMPLE

    (tmp_path / "segc.yml").write_text((EXAMPLE / "segc.yml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "segments").mkdir()
    line = "segment big = " + " and ".join(f"age > {i}" for i in range(20000)) + " and and age > 1\n"
    (tmp_path / "segments" / "a.seg").write_text(line, encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(tmp_path)])
    out = result.output
    assert result.exit_code == 1 and f"a.seg:1:{line.index('and and') + 5}" in out
    assert len(out) < 2000, len(out)
