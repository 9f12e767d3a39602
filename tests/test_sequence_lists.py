"""DuckDB's form of a one-source sequence (backend/sequence_lists.py: lists of times per key,
one read of the source) against the portable self-join (backend/sequences.py), both
executed on DuckDB over events at the edges of DESIGN §8.1: the same instant, exactly D
apart, duplicates, an event that is both X and Y, NULL times and `where` values, events at
the as-of, keys with X events and no Y event."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlglot import exp

import segc
from segc.backend import render, rewrites
from tests.conftest import table_columns, write_project
from tests.engines import open_engine

SUITE = yaml.safe_load((Path(__file__).parent / "conformance" / "events.yml").read_text(encoding="utf-8"))
D = dt.date


def _order(key, day, category, amount=10.0):
    return {"customer_id": key, "ordered_at": day, "amount": amount, "category": category, "store": "A"}


ORDERS = [
    _order(1, D(2024, 5, 1), "shoes"), _order(1, D(2024, 5, 1), "bags"),        # the same instant
    _order(2, D(2024, 5, 1), "shoes"), _order(2, D(2024, 5, 8), "bags"),        # exactly 7 days later
    _order(3, D(2024, 5, 1), "shoes"), _order(3, D(2024, 5, 9), "bags"),        # 8 days later
    _order(4, D(2024, 5, 3), "bags"), _order(4, D(2024, 5, 3), "bags"),         # identical duplicates
    _order(5, D(2024, 5, 3), "bags"),                                           # alone: never follows itself
    _order(6, None, "shoes"), _order(6, D(2024, 5, 2), "bags"),                 # a NULL time
    _order(7, D(2024, 5, 2), None), _order(7, D(2024, 5, 3), "bags"),           # a NULL category
    _order(8, D(2024, 5, 30), "shoes"), _order(8, D(2024, 6, 1), "bags"),       # Y at the as-of
    _order(9, D(2024, 5, 20), "shoes"), _order(9, D(2024, 5, 21), "shoes"),     # X only
    _order(10, D(2024, 1, 31), "bags"), _order(10, D(2024, 2, 29), "shoes"),    # a month: clamped month end
    _order(10, D(2024, 3, 1), "bags", 99.0),
]
EXPRESSIONS = [
    'count(orders where category = "shoes" followed by orders where category = "bags" within 7 days)',
    'count(orders where category = "shoes" not followed by orders where category = "bags" within 7 days)',
    'count(orders where category = "bags" preceded by orders where category = "shoes" within 1 week)',
    "count(orders followed by orders within 0 days)",
    "count(orders not followed by orders within 1 day)",
    'count(orders where category = "bags" followed by orders where category = "bags" within 2 days)',
    'count(orders where category != "shoes" not followed by orders where category = "bags" within 3 days)',
    "count(orders during last 30 days followed by orders where amount > 50 within 1 month)",
    "count(orders preceded by orders where category = \"bags\" within 1 month)",
    'count(orders during last 60 days not followed by orders where category = "shoes" within 2 days)',
    # X and Y that cannot be one event (sequences.disjoint: no "also a Y" list), and near misses
    'count(orders where category in ["shoes"] and amount > 5 followed by orders where category in ["bags", "x"] within 7 days)',
    'count(orders where category in ["shoes", "bags"] followed by orders where category = "bags" within 7 days)',
    'count(orders where category = "Bags" not followed by orders where category = "bags" within 7 days)',
    # Y without a `where`: every X event is a Y event (no segc_xs list), and X's filter Y's too
    # (the X events are the Y list itself)
    'count(orders where category = "shoes" followed by orders within 2 days)',
    "count(orders during last 30 days not followed by orders within 3 days)",
    "count(orders preceded by orders within 1 month)",
]

# expression -> the lists its DuckDB form collects
LISTS = {
    'count(orders where category = "shoes" followed by orders where category = "bags" within 7 days)': 2,
    'count(orders where category = "bags" followed by orders where category = "bags" within 2 days)': 3,
    'count(orders where category = "shoes" followed by orders within 2 days)': 2,
    "count(orders during last 30 days not followed by orders within 3 days)": 1,  # Y read from X's start
    "count(orders followed by orders within 0 days)": 1,
    "count(orders preceded by orders within 1 month)": 1,
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = write_project(tmp_path_factory.mktemp("lists"), SUITE["project"], "")
    rows = {**SUITE["rows"], "orders": ORDERS,
            "customers": [{"customer_id": k, "age": 30, "name": "x", "email": "x@y.z"} for k in range(1, 11)]}
    engine = open_engine("duckdb")
    engine.load({t: (cols, rows.get(t.split(".")[-1], [])) for t, cols in table_columns(SUITE["project"]).items()})
    yield segc.load_project(root), engine
    engine.close()




@pytest.mark.parametrize("folded", [False, True], ids=["own-read", "folded"])
@pytest.mark.parametrize("text", EXPRESSIONS)
def test_the_list_form_counts_what_the_self_join_counts(setup, monkeypatch, text, folded):
    """`folded`: beside a plain aggregate of the orders (their GROUP BY reads every order
    before the as-of), the lists are aggregates of that GROUP BY and the sequence has no CTE."""
    project, engine = setup
    counts = {}
    for form in ("lists", "self-join"):
        if form == "self-join":  # DuckDB without its forms: the portable tree
            monkeypatch.delitem(rewrites.duckdb, exp.Select)
            monkeypatch.delitem(rewrites.duckdb, exp.With)
            monkeypatch.setattr(render, "_DIALECTS", {})
        per_n = []
        for n in range(4):  # the count itself, through members at each threshold
            expr = f"{text} >= {n}"
            expr = f"(sum(orders.amount) >= 0 or count(orders) = 0) and {expr}" if folded else expr
            sql = project.compile_expression(expr, dialect="duckdb")
            assert ("LIST_FILTER" in sql) == (form == "lists"), sql
            if form == "lists":
                assert ('"segc_seq_' not in sql) == folded, sql  # no sequence CTE
            per_n.append(sorted(r[0] for r in engine.query(sql)))
        counts[form] = per_n
    assert counts["lists"] == counts["self-join"]
    assert any(counts["lists"]) and not all(ks == counts["lists"][0] for ks in counts["lists"])


@pytest.mark.parametrize("text", LISTS)
def test_lists_collected_only_when_they_can_differ(setup, text):
    project, _ = setup
    sql = project.compile_expression(f"{text} >= 1", dialect="duckdb")
    assert sql.count("ARRAY_AGG(") == LISTS[text], sql


def test_only_one_source_sequences_on_duckdb_take_the_list_form(setup):
    project, _ = setup
    seq = 'count(orders where category = "shoes" followed by orders where category = "bags" within 7 days) >= 1'
    relaunch = "exists(carts where abandoned during last 7 days not followed by orders within 2 days)"
    duck = project.compile_expression(seq, dialect="duckdb")
    assert "LIST_FILTER" in duck and duck.count('"orders"') == 1  # one read of the orders
    for dialect in ("sqlite", "postgres", "spark"):
        assert "LIST_FILTER" not in project.compile_expression(seq, dialect=dialect)
    assert "LIST_FILTER" not in project.compile_expression(relaunch, dialect="duckdb")  # two sources


def test_no_fold_into_a_group_by_that_reads_fewer_events(setup, monkeypatch):
    """The orders' GROUP BY of `during last 10 days` reads only those days: folding the
    lists there would lose the older events, so the sequence keeps its own read."""
    project, engine = setup
    seq = 'count(orders where category = "shoes" followed by orders where category = "bags" within 7 days)'
    expr = f"(count(orders during last 10 days) >= 0) and {seq} >= 1"
    sql = project.compile_expression(expr, dialect="duckdb")
    assert '"segc_seq_' in sql and "LIST_FILTER" in sql
    alone = project.compile_expression(f"{seq} >= 1", dialect="duckdb")
    assert sorted(engine.query(sql)) == sorted(engine.query(alone)) == [(1,), (2,), (10,)]


def test_disjoint_where_only_when_no_event_can_pass_both(setup):
    """sequences.disjoint, which drops the "also a Y" list: only equalities and sets that
    no collation could make meet (case and accents ignored); floats never."""
    from segc.backend.sequences import disjoint

    project, _ = setup

    def where(text):
        pred, _ = project.check_expression(f"count(orders where {text}) >= 0")
        return pred.left.where

    cases = {
        ('category = "shoes"', 'category = "bags"'): True,
        ('category in ["shoes", "sneakers"] and amount > 1', 'category in ["bags"]'): True,
        ('category = "shoes"', 'amount > 1 and category = "bags"'): True,
        ('category = "shoes"', 'category = "shoes"'): False,
        ('category = "Shoes"', 'category = "shoes"'): False,   # a case-blind collation
        ('category = "café"', 'category = "cafe"'): False,     # an accent-blind one
        ('category in ["shoes", "bags"]', 'category = "bags"'): False,
        ('category not in ["bags"]', 'category = "bags"'): False,  # not read: kept general
        ('category = "shoes" or amount > 1', 'category = "bags"'): False,
        ("amount = 1.5", "amount = 2.5"): False,               # floats: never taken as different
        ('store = "A"', 'category = "bags"'): False,           # different columns
    }
    for (x, y), expected in cases.items():
        assert disjoint(where(x), where(y)) is expected, (x, y)
        assert disjoint(where(y), where(x)) is expected, (y, x)
    assert disjoint(None, where('category = "bags"')) is False
    # a date is its midnight: equal to that timestamp, unlike another one
    import datetime as dt

    from segc import ir

    t = ir.Col("ordered_at", "timestamp", True, "event")
    day, midnight, one = (ir.Cmp("=", t, ir.Const(v, k)) for v, k in (
        (dt.date(2024, 5, 1), "date"), (dt.datetime(2024, 5, 1), "timestamp"), (dt.datetime(2024, 5, 1, 1), "timestamp")))
    assert (disjoint(day, midnight), disjoint(day, one), disjoint(midnight, one)) == (False, True, True)


HOSTILE = ("segc_x", "segc_y", "segc_xs", "segc_ys", "segc_key", "segc_t", "segc_n", "segc_self", "segc_hits")


def test_source_columns_named_like_segc_own(tmp_path, monkeypatch):
    """Columns of the source named as the list form's lambdas, lists and aliases (or the
    self-join's) are read as the source's columns in both forms, own read and folded:
    each `where` uses them."""
    import copy

    config = copy.deepcopy(SUITE["project"])
    config["sources"]["orders"]["columns"].update({c: "int" for c in HOSTILE})
    root = write_project(tmp_path / "hostile", config, "")
    orders = [dict(o, **{c: (i + j) % 3 for j, c in enumerate(HOSTILE)}) for i, o in enumerate(ORDERS)]
    rows = {**SUITE["rows"], "orders": orders,
            "customers": [{"customer_id": k, "age": 30, "name": "x", "email": "x@y.z"} for k in range(1, 11)]}
    engine = open_engine("duckdb")
    try:
        engine.load({t: (cols, rows.get(t.split(".")[-1], [])) for t, cols in table_columns(config).items()})
        project = segc.load_project(root)
        texts = [f"count(orders where {a} >= 1 followed by orders where {b} <= 1 within 7 days) >= 1"
                 for a, b in zip(HOSTILE, HOSTILE[1:] + HOSTILE[:1])]
        # and folded into the orders' own GROUP BY, beside aggregates that read the columns
        texts += [f"(sum(orders.{a}) >= 0 or count(orders) = 0) and {t}" for a, t in zip(HOSTILE, texts)]
        lists = {t: sorted(engine.query(project.compile_expression(t, dialect="duckdb"))) for t in texts}
        sqls = [project.compile_expression(t, dialect="duckdb") for t in texts]
        assert all("LIST_FILTER" in sql for sql in sqls)
        assert [' "segc_seq_' in sql for sql in sqls] == [True] * len(HOSTILE) + [False] * len(HOSTILE)
        monkeypatch.delitem(rewrites.duckdb, exp.Select)
        monkeypatch.delitem(rewrites.duckdb, exp.With)
        monkeypatch.setattr(render, "_DIALECTS", {})
        joined = {t: sorted(engine.query(project.compile_expression(t, dialect="duckdb"))) for t in texts}
    finally:
        engine.close()
    assert lists == joined
    assert len({tuple(v) for v in lists.values()}) > 1  # the columns' values decide
