"""`x = 1 or x = 2 or ...` is lowered as one `x IN (...)` (backend/equalities.py): the same
members on every engine, positive and under `not` (missing values), while DuckDB plans it
in linear time."""
from __future__ import annotations

import pytest

import segc
from segc.backend.equalities import equalities_as_sets
from segc import ir
from tests.conftest import EXAMPLE

AGE = ir.Col("age", "int", True)


def test_equalities_of_one_value_merge_at_the_first():
    other = ir.IsTrue(ir.Col("vip", "bool", False))
    items = (ir.Cmp("=", AGE, ir.Const(1, "int")), other, ir.Cmp("=", ir.Const(2, "int"), AGE),
             ir.Cmp("=", AGE, ir.Const(1, "int")), ir.Cmp(">", AGE, ir.Const(5, "int")))
    assert equalities_as_sets(items) == (ir.InSet(AGE, (ir.Const(1, "int"), ir.Const(2, "int")), False), other,
                                         items[-1])


def test_a_single_equality_and_quantile_scores_stay():
    q = ir.Quantile(AGE, 4)
    items = (ir.Cmp("=", AGE, ir.Const(1, "int")), ir.Cmp("=", q, ir.Const(1, "int")),
             ir.Cmp("=", q, ir.Const(2, "int")))
    assert equalities_as_sets(items) == items


@pytest.mark.parametrize("text,same", [
    ("age = 30 or age = 40 or 50 = age", "age in [30, 40, 50]"),
    ("not (age = 30 or age = 40)", "not (age in [30, 40])"),
    ('city = "Paris" or city = "Lyon" or age = 30', 'city in ["Paris", "Lyon"] or age = 30'),
])
def test_the_same_members(text, same):
    project = segc.load_project(EXAMPLE)
    assert " IN " in project.compile_expression(text)
    both = project.with_source(f"segment a = {text}\nsegment b = {same}\n", "ab.seg")
    counts = {c.name: c.count for c in both.count(["a", "b"]).segments}
    assert counts["a"] == counts["b"] > 0
