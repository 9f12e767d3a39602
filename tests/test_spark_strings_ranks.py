"""`matches` on Spark against newlines, CR and non-ASCII text, as Java's regex reads them,
compared with the reference (the events conformance cases run on Spark in
tests/test_conformance.py::test_every_case_on_spark); apart from the mutation harness's
files, which must not start Spark."""
from __future__ import annotations

from sqlglot import exp

from segc.backend.render import render
from segc.backend.strings import regex_search
from tests import reference as ref


def test_matches_on_spark_reads_newlines_as_the_reference():
    from segc.run.spark_engine import start_session
    from tests.test_engines_parity import TEST_SPARK

    session, owner, _folder = start_session("local[2]", settings=TEST_SPARK)
    try:
        for pattern, text in NEWLINE_CASES:
            sql = render(exp.select(regex_search(exp.Literal.string(text), pattern)), "spark", pretty=False)
            got = session.sql(sql).collect()[0][0]
            assert got == ref._regex_search(pattern, text), f"{pattern!r} on {text!r}: {sql}"
    finally:
        if owner:
            session.stop()


NEWLINE_CASES = [(p, t) for p in ("b$", "^a", "a.b", "a[^x]b", "^a.$", "a$|b", "(a|b)+$", ".", "^$")
                 for t in ("ab", "ab\n", "a\nb", "a\rb", "a\r\n", "\na", "a", "", "\n", "é\n", "aé")]
