"""first / last's grouped form joins the events with `segc_latest` (segc_key, segc_t): an
events source whose own columns are named segc_key and segc_t was an ambiguous-column
error on every engine. Its columns are now named by their table; the answers are held to
the reference interpreter on DuckDB, SQLite and PostgreSQL, for random data with ties."""
from __future__ import annotations

import copy
import random

import pytest

import segc
from tests import reference as ref
from tests.conftest import table_columns, write_project
from tests.test_differential import check_against_reference, run_members
from tests.test_differential_picks import AS_OF, CONFIG, engines, generate  # noqa: F401

CLASH = copy.deepcopy(CONFIG)
CLASH["name"] = "clashing_names"
del CLASH["sources"]["orders"]["order_by"]  # the grouped form
CLASH["sources"]["orders"]["columns"].update({"segc_t": "int", "segc_key": "string"})
EXPRESSIONS = [
    'last(orders.segc_key) = "b"',
    "first(orders.segc_t) >= 2",
    "last(orders.segc_t where segc_t > 1) = 3",
    'first(orders.category where segc_key = "a") = "totes"',
    'last(orders.amount where segc_key = "b" and segc_t >= 2) > 15',
    "last(orders.segc_t) is missing",
    # the value itself needed: the grouped form's second pass
    'last(orders.segc_key) = last(orders.segc_key) and last(orders.segc_key) = "b"',
    "first(orders.segc_t) = first(orders.segc_t) and first(orders.segc_t) >= 2",
]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return segc.load_project(write_project(tmp_path_factory.mktemp("clash"), CLASH, ""))


def test_the_grouped_form_names_the_events_columns(project):
    sql = project.compile_expression(EXPRESSIONS[-2], form="count", pretty=False)
    assert "segc_latest" in sql and "ROW_NUMBER" not in sql
    assert '"segc_events"."segc_key"' in sql and '"segc_events"."ordered_at"' in sql


@pytest.mark.parametrize("seed", (3, 17))
def test_columns_named_like_segc_own(project, engines, seed):  # noqa: F811
    customers, orders = generate(seed)
    rng = random.Random(seed)
    for o in orders:
        o["segc_t"] = rng.choice([None, 1, 2, 3])
        o["segc_key"] = rng.choice([None, "a", "b"])
    rows = {"shop.customers": customers, "shop.orders": orders}
    for eng in engines.values():
        eng.load({t: (cols, rows[t]) for t, cols in table_columns(CLASH).items()})
    world = ref.World({c["customer_id"]: {"age": c["age"]} for c in customers}, {"orders": orders},
                      AS_OF, project.schema)
    ev = ref.Evaluator(world, project.checked.population)
    split = 0
    for text in EXPRESSIONS:
        got = run_members(project, engines, text, AS_OF)
        assert set(got) == {"duckdb", "sqlite", "postgres"}, text
        pred, _ = project.check_expression(text)
        expected, _ = check_against_reference(project, ev, got, pred, text, AS_OF)
        split += 0 < len(expected) < len(customers)
    assert split >= 4
