"""first / last / nth / mode and days_between (DESIGN §8.1): syntax, `segc fmt`, the
checker's and segc.yml's errors, `order_by:` and the tie rule executed on DuckDB, SQLite
and PostgreSQL against the reference interpreter. (The conformance members on every
engine: tests/test_conformance.py; random data: tests/test_differential_picks.py.)"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

import segc
from segc.front.fmt import expr_text
from segc.front.parser import parse_expression
from segc.front.source import Source
from tests import reference as ref
from tests.conftest import table_columns, write_project
from tests.engines import ENGINES, open_engine

SUITE = yaml.safe_load((Path(__file__).parent / "conformance" / "events.yml").read_text(encoding="utf-8"))
PROJECT = SUITE["project"]


def parse(text: str):
    return parse_expression(Source("<t>", text))


@pytest.mark.parametrize("text", [
    "first(orders.category) = \"shoes\"",
    "last(orders.amount where amount >= 50 during last 365 days) > 10",
    "nth(orders.ordered_at, 2) < 2024-01-01",
    "mode(orders.store where amount > 0) = \"A\"",
    "days_between(first(orders.ordered_at), nth(orders.ordered_at, 2)) <= 30",
    "last(carts.abandoned)",
])
def test_fmt_round_trips(text):
    assert expr_text(parse(text)) == text
    assert parse(expr_text(parse(text))) == parse(text)


def test_last_is_still_a_period_word():
    # `last` opens a pick before `(`, a period elsewhere: both in one expression
    parse("last(orders.amount during last 30 days) > 1 and count(orders during last month) > 0")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    config = {**PROJECT, "sources": {**PROJECT["sources"],
                                     "notime": {"table": "nt", "key": "customer_id", "columns": {"a": "int"}}}}
    return segc.load_project(write_project(tmp_path_factory.mktemp("picks"), config, ""))


@pytest.mark.parametrize("text,code,words", [
    ("nth(orders.amount) > 1", "E304", "needs the position"),
    ("nth(orders.amount, 0) > 1", "E304", "a whole number from 1"),
    ("nth(orders.amount, age) > 1", "E304", "a whole number from 1"),
    ("nth(orders.amount, 1.5) > 1", "E304", "a whole number from 1"),
    ("first(orders.amount, 2) > 1", "E304", "takes no position"),
    ("first(notime.a) > 1", "E210", "declares no `time:`"),
    ("last(orders.amont) > 1", "E202", "did you mean `orders.amount`"),
    ("first(orders.category) > 1", "E301", ""),
    ("last(orders.amount)", "E302", "not a condition"),
    ("sum(orders.amount where last(orders.amount) > 1) > 0", "E306", "cannot be nested"),
])
def test_checker_errors(project, text, code, words):
    with pytest.raises(segc.SegcError) as e:
        project.compile_expression(text)
    assert [d.code for d in e.value.diagnostics] == [code]
    assert words in str(e.value)


def test_mode_needs_no_time(project):
    project.compile_expression("mode(notime.a) = 1")


def test_a_bool_pick_is_a_condition(project):
    sql = project.compile_expression("last(carts.abandoned)")
    assert "ROW_NUMBER" in sql


@pytest.mark.parametrize("feature,code,words", [
    ({"type": "float", "from": "orders", "agg": "nth", "column": "amount"}, "E304", "needs `n:`"),
    ({"type": "float", "from": "orders", "agg": "nth", "n": 0, "column": "amount"}, "E304", "needs `n:`"),
    ({"type": "float", "from": "orders", "agg": "sum", "n": 2, "column": "amount"}, "E304", "takes none"),
    ({"type": "int", "from": "notime", "agg": "first", "column": "a"}, "E210", "declares no `time:`"),
    ({"type": "int", "from": "orders", "agg": "last", "column": "category"}, "E307", "declare `type: string`"),
])
def test_segc_yml_errors(tmp_path, feature, code, words):
    config = {**PROJECT, "sources": {**PROJECT["sources"],
                                     "notime": {"table": "nt", "key": "customer_id", "columns": {"a": "int"}}},
              "features": {**PROJECT["features"], "picked": feature}}
    with pytest.raises(segc.SegcError) as e:
        segc.load_project(write_project(tmp_path / "p", config, "segment s = picked is present\n"))
    assert code in [d.code for d in e.value.diagnostics], str(e.value)
    assert words in str(e.value)


def test_order_by_names_columns_of_its_source(tmp_path):
    orders = {**PROJECT["sources"]["orders"], "order_by": ["amont"]}
    config = {**PROJECT, "sources": {**PROJECT["sources"], "orders": orders}}
    with pytest.raises(segc.SegcError) as e:
        segc.load_project(write_project(tmp_path / "p", config))
    assert [d.code for d in e.value.diagnostics] == ["E202"] and "did you mean `amount`" in str(e.value)


# Ties at one time: order_by decides first; without it (or on its ties) the value does,
# smallest first and NULL last. Customer 1: three orders the same day.
ROWS = {
    "customers": [{"customer_id": k} for k in (1, 2, 3)],
    "orders": [
        {"customer_id": 1, "ordered_at": "2024-05-01", "amount": 30, "category": "b", "store": "2"},
        {"customer_id": 1, "ordered_at": "2024-05-01", "amount": 10, "category": None, "store": "3"},
        {"customer_id": 1, "ordered_at": "2024-05-01", "amount": None, "category": "a", "store": "1"},
        {"customer_id": 2, "ordered_at": "2024-05-02", "amount": None, "category": None, "store": None},
        {"customer_id": 2, "ordered_at": "2024-05-01", "amount": 5, "category": "c", "store": None},
        {"customer_id": 3, "ordered_at": "2024-06-01", "amount": 7, "category": "z", "store": "1"},  # at the as-of
    ],
}
EXPRESSIONS = ["first(orders.amount) = 10", "last(orders.amount) = 10", "nth(orders.amount, 2) = 30",
               "nth(orders.amount, 3) is missing", "first(orders.category) = \"a\"", "last(orders.category) = \"a\"",
               "last(orders.amount) is missing", "first(orders.amount) = 5", "mode(orders.category) = \"a\"",
               "first(orders.store) = \"1\"", "last(orders.ordered_at) >= 2024-05-02"]


@pytest.mark.parametrize("order_by", [None, ["store"]])
def test_the_tie_rule_on_every_engine_is_the_reference(tmp_path, pg_dsn, order_by):
    orders = {**PROJECT["sources"]["orders"], **({"order_by": order_by} if order_by else {})}
    config = {**PROJECT, "features": {}, "sources": {"customers": {"table": "customers"}, "orders": orders}}
    project = segc.load_project(write_project(tmp_path / "p", config))
    tables = {t: (cols, ROWS.get(t, [])) for t, cols in table_columns(config).items()}
    world = ref.World({r["customer_id"]: {} for r in ROWS["customers"]},
                      {"orders": [{**r, "ordered_at": dt.datetime.fromisoformat(r["ordered_at"])} for r in ROWS["orders"]]},
                      dt.date(2024, 6, 1), project.schema)
    evaluator = ref.Evaluator(world, project.checked.population)
    expected = {e: sorted(k for k in evaluator.population if evaluator.holds(project.check_expression(e)[0], k))
                for e in EXPRESSIONS}
    # by hand: without order_by the value breaks customer 1's tie (amounts 10, 30, NULL;
    # categories "a", "b", NULL); with it, the store (1, 2, 3): amounts NULL, 30, 10
    assert expected["first(orders.amount) = 10"] == ([] if order_by else [1])
    assert expected["nth(orders.amount, 2) = 30"] == [1]
    assert expected['last(orders.category) = "a"'] == ([] if order_by else [1])
    assert expected["last(orders.amount) is missing"] == [2, 3]  # 3: its order is at the as-of
    for name in ENGINES:
        with open_engine(name, pg_dsn) as engine:
            engine.load(tables)
            for e in EXPRESSIONS:
                got = sorted(r[0] for r in engine.query(project.compile_expression(e, dialect=name)))
                assert got == expected[e], f"{e} on {name}"


def test_the_readme_picks_are_example_segments():
    from tests.conftest import EXAMPLE, ROOT

    lines = [ln for ln in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
             if ln.startswith(("segment quick_repeat", "segment lyon_shoes"))]
    journeys = (EXAMPLE / "segments" / "journeys.seg").read_text(encoding="utf-8")
    assert len(lines) == 2 and all(line in journeys for line in lines)
