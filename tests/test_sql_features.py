"""`sql:` features (DESIGN §8.5): one scalar expression over base columns segc knows.
Every sqlglot failure, every statement, `*`, `COLUMNS(...)`, subquery, and every column
that does not resolve is a coded diagnostic at the segc.yml line, never a traceback, and
nothing of it reaches the built SQL."""
from __future__ import annotations

import json

import pytest

from tests.test_errors import CONFIG, cli, config, run_segc

BAD_SQL = [
    ("'abc", "E006", "does not parse"),
    ("/*", "E006", "does not parse"),
    ("$$abc", "E006", "does not parse"),
    ("age +* 2", "E006", "does not parse"),
    ("age >= 18; DROP TABLE shop.victim; SELECT 1", "E006", "3 statements"),
    ("DROP TABLE shop.victim", "E006", "a statement"),
    ("SET x = 1", "E006", "a statement"),
    ("*", "E006", "`*`"),
    ("COLUMNS('^relig')", "E006", "COLUMNS"),
    ("(SELECT max(age) FROM shop.customers)", "E006", "a query"),
    ("EXISTS(SELECT 1)", "E006", "a query"),
    ("age IN (SELECT age FROM shop.victim)", "E006", "a query"),
    ("age AS x", "E006", "alias"),
    ("$1 + age", "E006", "placeholder"),
    ("", "E006", "one expression"),
    ("-- only a comment", "E006", "one expression"),
    ("salary > 100", "E202", "`salary`"),
    ("other.age > 1", "E202", "`other.age`"),
    ("shop.customers.age > 1", "E202", "`shop.customers.age`"),
    ("abs(" * 2000 + "age" + ")" * 2000, "E006", "nested too deeply"),
    # functions whose error message is their argument: a way to print a row's value
    ("CASE WHEN age > 1 THEN error(CAST(age AS VARCHAR)) END", "E006", "`error(...)`"),
    ("ERROR('x') IS NULL", "E006", "`ERROR(...)`"),
    ("raise_error(CAST(age AS VARCHAR)) IS NULL", "E006", "`raise_error(...)`"),
    ("assert_true(age > 1, CAST(age AS VARCHAR)) IS NULL", "E006", "`assert_true(...)`"),
    ("fail(CAST(age AS VARCHAR)) IS NULL", "E006", "`fail(...)`"),
    # PostgreSQL: a row's value looked up as a name (`relation "dupont" does not exist`)
    ("nextval(CAST(age AS VARCHAR)) > 0", "E006", "`nextval(...)`"),
    ("currval(CAST(age AS VARCHAR)) > 0", "E006", "`currval(...)`"),
    ("CAST(CAST(age AS VARCHAR) AS REGCLASS) IS NULL", "E006", "`REGCLASS`"),
    ("CAST(age AS VARCHAR)::regtype IS NULL", "E006", "`regtype`"),
]


@pytest.mark.parametrize("sql,code,fragment", BAD_SQL, ids=[b[0][:40] or "empty" for b in BAD_SQL])
def test_bad_sql_feature_is_a_located_diagnostic(make_project, monkeypatch, sql, code, fragment):
    root = make_project(config(features__bad={"type": "int", "sql": sql}), "segment a = bad > 1\n")
    monkeypatch.chdir(root)
    result = cli("check", "--format", "json")
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    diags = json.loads(result.stdout)["diagnostics"]
    mine = [d for d in diags if d["code"] == code]
    assert mine and fragment in mine[0]["message"], diags
    assert mine[0]["file"] == "segc.yml" and mine[0]["line"] > 1 and mine[0]["hints"]
    # the segment using it is not reported again, and nothing is built
    assert [d["code"] for d in diags] == [code]


def test_injected_statement_never_reaches_built_sql(make_project, monkeypatch, tmp_path):
    root = make_project(config(features__adult={"type": "bool",
                                                "sql": "age >= 18; DROP TABLE shop.victim; SELECT 1"}),
                        "segment a = adult\n")
    monkeypatch.chdir(root)
    result = cli("build", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1 and "E006" in result.output
    assert not (tmp_path / "out").exists()


GOOD_SQL = ["age >= 18", "age * 2 + 1", "CAST(age AS DOUBLE) / 2", "\"customer_id\" % 2 = 0",
            "list_sum(list_transform([age, age], x -> x + 1)) > 0", "coalesce(country, 'FR') = 'FR'"]


@pytest.mark.parametrize("sql", GOOD_SQL)
def test_scalar_sql_over_known_columns_is_accepted(make_project, monkeypatch, sql):
    root = make_project(config(features__good={"type": "bool" if "=" in sql or ">" in sql else "float",
                                               "sql": sql}), "segment a = good is present\n")
    monkeypatch.chdir(root)
    result = cli("check")
    assert result.exit_code == 0, result.output


def test_known_columns_are_the_declared_ones(make_project, monkeypatch):
    """The base's `columns:`, `key:`/`time:`, the project key and the base features' `column:`."""
    cfg = config(sources__customers={"table": "shop.customers", "columns": {"salary": "float"},
                                     "time": "created_at"},
                 features__city={"type": "string", "column": "City Name"},
                 features__good={"type": "bool",
                                 "sql": "salary > 1 and created_at is not null and \"City Name\" = 'x'"})
    root = make_project(cfg, "segment a = good\n")
    monkeypatch.chdir(root)
    result = cli("check")
    assert result.exit_code == 0, result.output
    assert CONFIG["sources"]["customers"] == {"table": "shop.customers"}  # CONFIG untouched


# ---- fuzz: whatever the text, a tree or a diagnostic, never an exception ----------------

from hypothesis import given, settings, strategies as st  # noqa: E402

from segc.schema.sql_feature import parse_sql_feature, unresolved_columns  # noqa: E402

PIECES = ["age", "religion", "'", '"', "$$", "/*", "*/", "--", ";", "(", ")", "[", "]", "{", "}", "*", ",",
          " ", "\n", "SELECT", "FROM", "DROP", "TABLE", "COLUMNS", "CASE", "WHEN", "END", "AS", "->",
          "1", "1e999", "x", ".", "::", "+", "=", ">=", "\\", "$1", "?", "@", "e'", "E'\\", "`", "\x00", "é"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12).map("".join),
       st.sampled_from(["duckdb", "postgres", "tsql", "bigquery", "nosuch"]))
def test_sql_fuzz_never_raises(text, dialect):
    tree, problem = parse_sql_feature("f", text, dialect, None)
    assert (tree is None) != (problem is None)
    if problem is not None:
        assert problem.code == "E006" and problem.hints
    else:
        unresolved_columns(tree, {"age"})


def test_a_statement_prints_nothing_but_the_diagnostic(make_project, monkeypatch):
    """sqlglot warns through `logging` when it falls back to a Command: not on our stderr."""
    root = make_project(config(features__bad={"type": "int", "sql": "DROP]"}), "segment a = bad > 1\n")
    result = run_segc("check", cwd=root)
    assert result.returncode == 1 and "E006" in result.stdout + result.stderr
    assert "unsupported syntax" not in result.stdout + result.stderr


@pytest.mark.parametrize("sql", ["CAST(CAST(age AS TEXT) AS regclass) IS NULL", "CAST(age AS TEXT)::regnamespace IS NULL",
                                 "nextval(CAST(age AS TEXT)) > 0"])
def test_a_name_lookup_is_refused_in_postgres_sql_too(make_project, monkeypatch, sql):
    # parsed as PostgreSQL, a reg* cast is an object identifier, not an unknown type
    root = make_project(config(features__bad={"type": "bool", "sql": sql, "sql_dialect": "postgres"}),
                        "segment a = bad\n")
    monkeypatch.chdir(root)
    result = cli("check", "--format", "json")
    assert result.exit_code == 1, result.output
    assert [d["code"] for d in json.loads(result.stdout)["diagnostics"]] == ["E006"]
