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
    """The form this file checks is the one compiled (a window would make the test moot)."""
    for func in ("first", "last"):
        sql = project.compile_expression(f'{func}(orders.category) = "totes"', form="count", pretty=False)
        assert "segc_latest" in sql and "ROW_NUMBER" not in sql, sql
    assert "ROW_NUMBER" in project.compile_expression("nth(orders.category, 2) is missing", form="count")


@pytest.mark.parametrize("seed", (7, 41))
def test_grouped_picks_match_reference(project, engines, seed):  # noqa: F811
    ev = load_seed(project, engines, UNORDERED, seed)
    selected = 0
    for text in expressions(random.Random(seed)):
        if not text.startswith(("first(", "last(", "days_between(")):
            continue  # nth and mode keep the window form, checked by test_differential_picks.py
        got = run_members(project, engines, text, AS_OF)
        assert set(got) == {"duckdb", "sqlite", "postgres"}, text
        pred, _ = project.check_expression(text)
        expected, _ = check_against_reference(project, ev, got, pred, text, AS_OF)
        selected += 0 < len(expected) < N_CUSTOMERS
    assert selected >= 12  # most expressions split the customers
