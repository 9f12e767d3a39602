"""Absolute ranks (`top N by f`), `trim(x)` and `x matches "re"` (DESIGN §8.1): parsing,
`segc fmt`, the checker's diagnostics. Execution: tests/test_conformance_strings_ranks.py
and tests/test_differential_strings_ranks.py."""
from __future__ import annotations

import pytest

import segc
from segc.front.errors import SegcError
from segc.front.fmt import format_source
from tests.conftest import write_project
from tests.test_conformance_strings_ranks import _config


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return segc.load_project(write_project(tmp_path_factory.mktemp("strrank"), _config()))


def diagnostics(project, expr: str, dialect: str = "duckdb"):
    with pytest.raises(SegcError) as info:
        project.compile_expression(expr, dialect=dialect)
    return info.value.diagnostics


@pytest.mark.parametrize("text", [
    "segment a = top 100 by spend\n",
    "segment a = bottom 1 by age and not top 3 by spend\n",
    "segment a = top 10% by spend or top 10 by spend\n",
])
def test_fmt_round_trips(text):
    assert format_source(text) == text
    assert format_source(format_source(text)) == format_source(text)


@pytest.mark.parametrize("expr,words", [
    ("top 0 by spend", "at least 1"),
    ("bottom 2.5 by age", "whole number"),
    ("top 3 by name", "needs a number or a date"),
    ("count(orders where top 3 by amount) > 0", "inside an aggregate"),
])
def test_rank_errors(project, expr, words):
    d, = diagnostics(project, expr)
    assert d.code in ("E306", "E301") and words in d.message and d.span is not None


def test_rank_count_error_is_located_with_hint(project):
    d, = diagnostics(project, "age > 1 and top 0 by spend")
    assert d.code == "E306" and (d.span.line, d.span.col) == (1, 13) and "top 100 by" in d.hints[0]


def test_trim_needs_a_string(project):
    d, = diagnostics(project, "trim(age) = 1")
    assert d.code == "E304" and "`trim` needs a string" in d.message


@pytest.mark.parametrize("dialect", ["duckdb", "bigquery", "trino", "snowflake", "tsql", "sqlite"])
def test_trim_spells_out_the_space(project, dialect):
    """Without its characters, TRIM strips every white space on BigQuery and Trino."""
    import sqlglot
    sql = project.compile_expression('trim(name) = "x"', dialect=dialect)
    trims = list(sqlglot.parse_one(sql, read=dialect).find_all(sqlglot.exp.Trim))
    assert len(trims) == 1 and trims[0].expression.this == " "
