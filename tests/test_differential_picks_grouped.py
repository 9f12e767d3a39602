"""first / last without `order_by:` take the grouped form of backend/picks.py (the latest
time per key, then the smallest value at it: no window). The random data and
expressions of test_differential_picks.py, on a source without `order_by:`, so that
events at one instant tie on the time alone (the value breaks them, smallest first,
NULL last): DuckDB, SQLite and PostgreSQL against the reference interpreter."""
from __future__ import annotations

import copy
import random

import pytest

import segc
from tests.conftest import write_project
from tests.test_differential import check_against_reference, run_members
from tests.test_differential_picks import AS_OF, CONFIG, N_CUSTOMERS, engines, expressions, load_seed  # noqa: F401

UNORDERED = copy.deepcopy(CONFIG)
del UNORDERED["sources"]["orders"]["order_by"]
UNORDERED["name"] = "picks_grouped"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return segc.load_project(write_project(tmp_path_factory.mktemp("pickgrouped"), UNORDERED, ""))


def test_first_last_are_grouped(project):
    """The forms this file checks are the ones compiled (a window would make the test
    moot): compared with a constant, tests of edge times in the orders' GROUP BY; where
    the value itself is needed, the two grouped passes."""
    for func in ("first", "last"):
        sql = project.compile_expression(f'{func}(orders.category) = "totes"', form="count", pretty=False)
        assert "segc_latest" not in sql and "ROW_NUMBER" not in sql and "segc_pick" not in sql, sql
        pick = f"{func}(orders.category)"
        sql = project.compile_expression(f'{pick} = {pick} and {pick} = "totes"', form="count", pretty=False)
        assert "segc_latest" in sql and "ROW_NUMBER" not in sql, sql
    assert "ROW_NUMBER" in project.compile_expression("nth(orders.category, 2) is missing", form="count")
    # each first / last adds at most PICK_TESTS edge-time columns (two per `in` item, one to
    # three per comparison); past them its value is read instead
    from segc.backend.lower import PICK_TESTS

    items = [f'"c{i}"' for i in range(PICK_TESTS // 2)]
    short = project.compile_expression(f"last(orders.category) in [{', '.join(items)}]", form="count", pretty=False)
    assert "segc_latest" not in short and short.count("MAX(") == 1 + PICK_TESTS, short
    long = project.compile_expression(f'last(orders.category) not in [{", ".join(items)}, "x"]', form="count",
                                      pretty=False)
    assert "segc_latest" in long and long.count("MAX(") == 1, long
    # one pick compared in many segments (a segmentation by the last category): bounded too
    many = " or ".join(f"(last(orders.category) = {v} and first(orders.line) > {i})" for i, v in enumerate(items * 3))
    sql = project.compile_expression(many, form="count", pretty=False)
    assert "segc_latest" in sql and sql.count("MAX(") <= 1 + PICK_TESTS + 1, sql


@pytest.mark.parametrize("with_value", (False, True), ids=("compared", "value"))
@pytest.mark.parametrize("seed", (7, 41))
def test_grouped_picks_match_reference(project, engines, seed, with_value):  # noqa: F811
    ev = load_seed(project, engines, UNORDERED, seed)
    selected = checked = 0
    for text in expressions(random.Random(seed), with_value):
        if not text.lstrip("(").startswith(("first(", "last(", "days_between(")):
            continue  # nth and mode keep the window form, checked by test_differential_picks.py
        got = run_members(project, engines, text, AS_OF)
        assert set(got) == {"duckdb", "sqlite", "postgres"}, text
        pred, _ = project.check_expression(text)
        expected, _ = check_against_reference(project, ev, got, pred, text, AS_OF)
        selected += 0 < len(expected) < N_CUSTOMERS
        checked += 1
    assert checked >= 30 and selected >= 12  # most expressions split the customers


def comparisons() -> list[str]:
    """Every way a first / last meets a constant (backend/picks.py COMPARED_AT): each
    operator, the constant on either side, sets, missing, under `not`, on a string, an
    int, a float (NaN and NULL values) and the time itself."""
    out = []
    for func in ("first", "last"):
        for where in ("", " where amount > 15"):
            for column, v in (("category", '"totes"'), ("line", "2"), ("amount", "20")):
                pick = f"{func}(orders.{column}{where})"
                for op in ("<", "<=", "=", "!=", ">=", ">"):
                    out += [f"{pick} {op} {v}", f"not ({pick} {op} {v})"]
                out += [f"{v} < {pick}", f"not ({v} >= {pick})"]
            out += [f'{func}(orders.category{where}) in ["bags", "totes"]',
                    f'{func}(orders.category{where}) in ["a", "bags", "c", "d", "totes"]',  # read as a value
                    f'{func}(orders.category{where}) not in ["a", "bags", "c", "d", "totes"]',
                    f'{func}(orders.category{where}) not in ["bags", "totes"]',
                    f'not ({func}(orders.category{where}) not in ["sneakers"])',
                    f"{func}(orders.line{where}) is missing", f"not ({func}(orders.amount{where}) is present)",
                    f"{func}(orders.ordered_at{where}) >= 2024-05-20", f"not ({func}(orders.ordered_at{where}) < today - 20 days)",
                    f"{func}(orders.ordered_at{where}) is missing",
                    f'{func}(orders.category{where}) = "totes" or {func}(orders.category{where}) = "bags"']
    return out


@pytest.mark.parametrize("seed", (5, 23))
def test_every_comparison_of_a_pick_matches_reference(project, engines, seed):  # noqa: F811
    ev = load_seed(project, engines, UNORDERED, seed)
    selected = 0
    for text in comparisons():
        sql = project.compile_expression(text, form="count", pretty=False)
        long_list = '"c", "d"' in text
        assert ("segc_latest" in sql) == long_list == ("segc_pick" in sql), text  # only those read the value
        got = run_members(project, engines, text, AS_OF)
        assert set(got) == {"duckdb", "sqlite", "postgres"}, text
        pred, _ = project.check_expression(text)
        expected, _ = check_against_reference(project, ev, got, pred, text, AS_OF)
        selected += 0 < len(expected) < N_CUSTOMERS
    assert selected >= len(comparisons()) * 3 // 4
