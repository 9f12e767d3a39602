"""The top/bottom N, trim and matches cases of the events conformance suite on Spark (one
test for all: its session is slow to start), apart from tests/test_conformance_strings_ranks.py
so that the mutation harness, which runs that file for every mutant, does not start Spark."""
from __future__ import annotations

from sqlglot import exp

import segc
from segc.backend.render import render
from segc.backend.strings import regex_search
from tests import reference as ref
from tests.conftest import table_columns, write_project
from tests.test_conformance_strings_ranks import CASES, SUITE, _config



def test_cases_on_spark(tmp_path):
    """Spark reads local files: the rows are written to parquet by DuckDB, as
    tests/test_conformance.py::test_every_case_on_spark does."""
    from segc.run.spark_engine import SparkEngine, start_session
    from tests.engines import open_engine
    from tests.test_engines_parity import TEST_SPARK

    base = _config()
    config = {**base, "sources": {s: {**src, "path": f"data/{src.get('table', s)}.parquet"}
                                  for s, src in base["sources"].items()}}
    root = write_project(tmp_path / "events", config)
    (root / "data").mkdir()
    with open_engine("duckdb") as duck:
        for t, cols in table_columns(base).items():
            duck.load({t: (cols, SUITE["rows"].get(t.split(".")[-1], []))})
            duck.query(f"COPY {t} TO '{root}/data/{t}.parquet' (FORMAT parquet)")
    project = segc.load_project(root)
    session, owner, _folder = start_session("local[2]", settings=TEST_SPARK)
    try:
        spark = SparkEngine(project.schema, root, session=session)
        population = spark.execute(project.compile_expression("true", dialect="spark", form="count"))[0][0]
        for case in CASES:
            expr = case["expr"]
            sql = project.compile_expression(expr, dialect="spark")
            members = sorted(row[0] for row in spark.execute(sql))
            assert members == sorted(case["members"]), f"{expr!r} on spark:\n{sql}"
            negated = spark.execute(project.compile_expression(f"not ({expr})", dialect="spark", form="count"))
            assert len(members) + negated[0][0] == population, f"not ({expr}) on spark"
        # `.`, `^`, `$` and sets against newlines, CR and non-ASCII, as Java reads them
        for pattern, text in NEWLINE_CASES:
            sql = render(exp.select(regex_search(exp.Literal.string(text), pattern)), "spark", pretty=False)
            got = session.sql(sql).collect()[0][0]
            assert got == ref._regex_search(pattern, text), f"{pattern!r} on {text!r}: {sql}"
    finally:
        if owner:
            session.stop()


NEWLINE_CASES = [(p, t) for p in ("b$", "^a", "a.b", "a[^x]b", "^a.$", "a$|b", "(a|b)+$", ".", "^$")
                 for t in ("ab", "ab\n", "a\nb", "a\rb", "a\r\n", "\na", "a", "", "\n", "é\n", "aé")]
