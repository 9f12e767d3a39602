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


def test_fmt_round_trips_matches():
    text = 'segment a = email matches "^[a-z]+@gmail\\\\.com$" and not name matches "x"\n'
    assert format_source(text) == text


@pytest.mark.parametrize("pattern,index,words", [
    (r"a\\d", 1, "`\\d` is not in the portable subset"),
    (r"(?i)gmail", 0, "`(?` groups"),
    (r"(a)\\1", 3, "`\\1`"),
    (r"(?=a)", 0, "lookaround"),
    (r"[a-z", 0, "never closed"),
    (r"a)", 1, "closes no"),
    (r"a*?", 2, "another quantifier"),
    (r"[[:alpha:]]", 1, "inside `[...]`"),
    (r"x{3,1}", 1, "bad repetition"),
    # nested counted repetitions multiply: RE2 and PostgreSQL refuse past 1000
    (r"(a{255}){255}", 8, "nested repetitions of 65,025 times"),
    (r"(((a{10}){10}){10}){10}", 19, "nested repetitions of 10,000 times"),
    (r"(a{2}|b{255}){4}", 13, "nested repetitions of 1,020 times"),
])
def test_regex_outside_the_subset_is_e330_at_its_character(project, pattern, index, words):
    expr = f'email matches "{pattern}"'
    d, = diagnostics(project, expr)
    assert d.code == "E330" and words in d.message and d.hints, d
    # the column of the offending character in the source (escapes such as \\d take two)
    raw_before = pattern.replace("\\\\", "\\")[:index].count("\\")
    assert (d.span.line, d.span.col) == (1, len('email matches "') + 1 + index + raw_before)


def test_regex_must_be_a_literal(project):
    d, = diagnostics(project, "email matches name")
    assert d.code == "E330" and "string literal" in d.message


def test_matches_needs_a_string(project):
    d, = diagnostics(project, 'age matches "1"')
    assert d.code == "E301"


@pytest.mark.parametrize("dialect", ["sqlite", "tsql"])
def test_matches_without_regex_is_e602(project, dialect):
    d, = diagnostics(project, 'email matches "a"', dialect)
    assert d.code == "E602" and "regular expression" in d.message


@pytest.mark.parametrize("dialect,shape", [
    ("duckdb", "REGEXP_MATCHES("), ("postgres", " ~ '"), ("bigquery", "REGEXP_CONTAINS("),
    ("spark", "\\\\z'"), ("databricks", "\\\\z'"), ("mysql", "'c')"), ("trino", "'\\Aa"),
    ("snowflake", "REGEXP_INSTR("), ("redshift", " ~ '"),
])
def test_matches_shape_per_dialect(project, dialect, shape):
    """Search everywhere: Snowflake's REGEXP_LIKE is a full match; `$` is the end of the
    string (Java, ICU: `\\z`; Trino's Joni anchors lines: `\\A`, `\\z`); MySQL case-sensitive."""
    sql = project.compile_expression('email matches "^a.$"', dialect=dialect)
    assert shape in sql, sql


@pytest.mark.parametrize("pattern", [r"((a{10}){10}){10}", r"(a{3}|b{255}){3}", r"a{255}b{255}(c{2}){255}"])
def test_nested_repetitions_up_to_1000_pass(project, pattern):
    assert project.compile_expression(f'email matches "{pattern}"', dialect="duckdb").warnings == ()


@pytest.mark.parametrize("population, segments", [
    ("not top 1 by age", ""),
    ("not oldest", "segment oldest = top 1 by age\n"),
    ("not (age > 3 and youngest)", "segment youngest = bottom 5% by age\n"),
    ("quantile_score(age, 2) = 1", ""),
])
def test_population_cannot_rank(tmp_path, population, segments):
    """A rank is taken over the population, so the population cannot itself be a rank: it
    passed `segc check`, then every query failed (a cut used in the CTE computing it) and
    `segc compile` printed that SQL with exit 0."""
    import shutil

    from typer.testing import CliRunner

    from segc.cli.main import app
    from tests.conftest import EXAMPLE

    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root)
    text = (root / "segc.yml").read_text(encoding="utf-8")
    start = text.index("\npopulation:") + 1
    end = text.index("\n", start)
    (root / "segc.yml").write_text(text[:start] + f"population: {population}" + text[end:], encoding="utf-8")
    (root / "segments" / "ranks.seg").write_text(segments, encoding="utf-8")
    runner = CliRunner()
    for args in (["check", str(root)], ["compile", "young_urban_fr", "-p", str(root)],
                 ["count", "-p", str(root)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1 and "E306" in result.output and "segc.yml:" in result.output, result.output


def test_repetitions_one_after_another_are_bounded_in_all(project, pg_dsn):
    """400 times `[a-z]{255}` passed the check, then PostgreSQL found it too complex (4,000:
    DuckDB's RE2 too large, SQLite's regexp 19 s). At the bound, every engine runs it."""
    import re

    import duckdb
    import psycopg

    at_bound = "[a-z]{250}" * 20  # 5,000
    with pytest.raises(SegcError) as e:
        project.compile_expression(f'email matches "{at_bound}[a-z]{{2}}"', dialect="duckdb")
    assert "E330" in str(e.value) and "5,002 times in all" in str(e.value)
    project.compile_expression(f'email matches "{at_bound}"', dialect="duckdb")
    subject = "x" * 5000
    assert duckdb.connect().execute("select regexp_matches(?, ?)", [subject, at_bound]).fetchone()[0]
    with psycopg.connect(pg_dsn) as con:
        assert con.execute("select %s ~ %s", (subject, at_bound)).fetchone()[0]
    assert re.search(at_bound, subject)
