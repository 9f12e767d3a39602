"""Regressions found by the differential tests (tests/test_differential.py), each reduced
to its smallest case and checked on DuckDB, SQLite and PostgreSQL against answers worked
out by hand from DESIGN.md §3 (and against the reference interpreter)."""
from __future__ import annotations

import datetime as dt

import pytest

import segc
from tests import reference as ref
from tests.conftest import write_project
from tests.engines import ENGINES, open_engine
from tests.test_differential import COLUMNS, CONFIG, CUSTOMER_TABLE, ORDER_TABLE, SEGMENTS, world

AS_OF = dt.date(2024, 3, 31)


def customer(key, **values):
    row = {"customer_id": key, "age": None, "code": 0, "score": None, "name": None, "City Name": None,
           "group": None, "country": "FR", "vip": None, "is_test": None, "signup": None, "last_seen": None}
    row.update(values)
    return row


CUSTOMERS = [
    # 1: seen at the very midnight that starts 2024-03-01, and signed up that day
    customer(1, signup=dt.date(2024, 3, 1), last_seen=dt.datetime(2024, 3, 1), score=2.5, age=30),
    # 2: seen one second later
    customer(2, signup=dt.date(2024, 3, 1), last_seen=dt.datetime(2024, 3, 1, 0, 0, 1), score=-2.5, age=7),
    # 3: seen the evening before
    customer(3, signup=dt.date(2024, 2, 29), last_seen=dt.datetime(2024, 2, 29, 23, 59, 59), score=3.0),
    customer(4),
]
ORDERS = [
    {"customer_id": 1, "ordered_at": dt.datetime(2024, 3, 30), "amount": 10.0, "qty": 1, "category": "shoes",
     "status": "paid", "gift": False},
]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return segc.load_project(write_project(tmp_path_factory.mktemp("regressions"), CONFIG, SEGMENTS))


@pytest.fixture(scope="module")
def engines(pg_dsn):
    out = {name: open_engine(name, pg_dsn) for name in ENGINES}
    for eng in out.values():
        eng.load({CUSTOMER_TABLE: (COLUMNS[CUSTOMER_TABLE], CUSTOMERS), ORDER_TABLE: (COLUMNS[ORDER_TABLE], ORDERS)})
    yield out
    for eng in out.values():
        eng.close()


def members(project, engines, text, name):
    return sorted(r[0] for r in engines[name].query(project.compile_expression(text, dialect=name, as_of=AS_OF)))


CASES = [
    # SQLite compared a timestamp with a date *expression* (not a literal) as ISO text, and
    # '2024-03-01 00:00:00' > '2024-03-01' there: a midnight was after its own day.
    ("last_seen <= today - 30 days", [1, 3]),
    ("last_seen = signup", [1]),
    ("signup >= last_seen", [1]),
    ("last_seen > today - 30 days", [2]),
    ("last_seen = coalesce(signup, today)", [1]),
    ("last_seen between signup and signup", [1]),
    ("not last_seen > signup", [1, 4]),
    ("last_seen <= $since + 30 days", [1, 3]),  # 2024-01-31 + 30 days = 2024-03-01
    ("signup = 2024-03-01T00:00:00", [1, 2]),
    # floor/ceil are whole numbers (the checker allows `%` on them); PostgreSQL's FLOOR of
    # a double (or of a bigint) is a double, and `double precision % bigint` does not exist
    ("ceil(score) % 2 = 1", [1, 3]),           # ceil(2.5) = 3; ceil(-2.5) = -2; ceil(3.0) = 3
    ("floor(score) % 2 = 0", [1]),             # floor(2.5) = 2; floor(-2.5) = -3; floor(3.0) = 3
    ("floor(score) % 2 = -1", [2]),            # the remainder has the dividend's sign
    ("floor(double_age) % 7 = 4", [1]),        # 60 % 7 = 4; 14 % 7 = 0
    # SQLite's ROUND takes negative digits as 0: round(2.5, -1) was 3 there, not 0
    ("round(score, -1) = 0", [1, 2, 3]),
    ("round(double_age, -1) = 60", [1]),       # 60
    ("round(double_age + 5, -1) = 20", [2]),   # 19 -> 20; 65 -> 70 (half away from zero)
    ("round(-15, -1) = -20", [1, 2, 3, 4]),
    # least/greatest/coalesce of a date and a timestamp: the date is its midnight (SQLite
    # compared '2024-03-01' with '2024-03-01 00:00:00' as texts)
    ("least(last_seen, signup) = signup", [1, 2, 3]),
    ("greatest(signup, last_seen) > signup", [2, 3]),
    ("coalesce(signup, last_seen) = last_seen", [1]),
    ("greatest(signup, last_seen) = 2024-03-01T00:00:01", [2]),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("text,expected", CASES, ids=[c[0] for c in CASES])
def test_case(project, engines, engine, text, expected):
    w = world(project, CUSTOMERS, ORDERS, AS_OF)
    pred, _ = project.check_expression(text)
    want, unknown = ref.evaluate(w, pred, project.checked.population)
    assert not unknown and sorted(want) == expected, "the reference disagrees with the hand-worked answer"
    assert members(project, engines, text, engine) == expected


def test_during_needs_fixed_dates(project):
    """`during A to B` with features as bounds: the window is applied inside the source's
    GROUP BY, where features do not exist. It crashed the lowering (RuntimeError: dictionary
    changed size during iteration) or produced SQL naming a column the events do not have;
    it is now a diagnostic."""
    for text in ("count(orders during signup to today) > 0",
                 "exists(orders during last_seen to first_order)",
                 "sum(orders.amount during today - 30 days to signup) > 1"):
        with pytest.raises(segc.SegcError) as e:
            project.compile_expression(text, dialect="duckdb", as_of=AS_OF)
        assert [d.code for d in e.value.diagnostics] == ["E306"], text
    # fixed dates, today and parameters remain fine
    for text in ("count(orders during 2024-03-01 to today) > 0", "exists(orders during $since to today - 1 day)"):
        assert "SELECT" in project.compile_expression(text, dialect="duckdb", as_of=AS_OF)


def test_no_ranking_of_a_rank(project):
    """`top 33.3% by -orders_30d % ($min_age * quantile_score(last_paid, 5))` nested one
    window function in another, which no engine runs (DuckDB: "window function calls
    cannot be nested"); ranking a rank is now a diagnostic."""
    for text in ("top 33.3% by -orders_30d % ($min_age * quantile_score(last_paid, 5))",
                 "quantile_score(quantile_score(age, 5), 3) = 1",
                 "bottom 10% by coalesce(quantile_score(score, 4), 0)"):
        with pytest.raises(segc.SegcError) as e:
            project.compile_expression(text, dialect="duckdb", as_of=AS_OF)
        assert [d.code for d in e.value.diagnostics] == ["E306"], text
    # ranks side by side, and a rank compared with a value, remain fine
    for text in ("top 10% by age and quantile_score(score, 4) = 4", "quantile_score(age, 5) * 2 > age"):
        assert "SELECT" in project.compile_expression(text, dialect="duckdb", as_of=AS_OF)
