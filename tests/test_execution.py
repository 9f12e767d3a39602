"""Hand-written fixture, hand-written answers: segments executed on DuckDB, SQLite and
PostgreSQL must select exactly the members worked out below from DESIGN.md §3 (not
computed by segc), and `|A| + |not A| = |population|` for every one of them.

The as-of is 2024-03-31 (a leap year, a month end): `today - 1 month` is 2024-02-29,
the 365-day window starts on 2023-04-01, `this month` is March 2024, `last month` is
February 2024. The population is `not is_test`: customer 6 is a test account, while
customers 2 and 7 have no is_test value and so ARE in the population (a condition on a
missing value is false, `not` is the complement).
"""
from __future__ import annotations

import pytest

import segc
from tests.conftest import table_columns, write_project
from tests.engines import ENGINES, open_engine

CONFIG = {
    "name": "execution",
    "entity": "customer",
    "base": "customers",
    "key": "customer_id",
    "as_of": "2024-03-31",
    "population": "not is_test",
    "sources": {
        "customers": {"table": "crm.customers"},
        "orders": {"table": "crm.order", "key": "customer_id", "time": "ordered_at",  # a reserved word
                   "columns": {"amount": "float", "category": "string", "status": "string"}},
    },
    "features": {
        "name": {"type": "string"},
        "city": {"type": "string", "column": "City Name"},
        "age": {"type": "int"},
        "vip": {"type": "bool"},
        "score": {"type": "float"},
        "signup": {"type": "date"},
        "last_seen": {"type": "timestamp"},
        "is_test": {"type": "bool"},
        "orders_365d": {"type": "int", "from": "orders", "agg": "count", "window": "365 days"},
        "revenue_365d": {"type": "float", "from": "orders", "agg": "sum", "column": "amount",
                         "where": 'status = "completed"', "window": "365 days"},
        "basket_avg": {"type": "float", "from": "orders", "agg": "avg", "column": "amount",
                       "where": 'status = "completed"'},
        "last_order_at": {"type": "timestamp", "from": "orders", "agg": "max", "column": "ordered_at"},
    },
    "params": {"min_score": {"type": "float", "default": 10}},
}

N = None
CUSTOMERS = [
    # id, name,          City Name,    age, vip,   score, signup,       last_seen,             is_test
    (1, "O'Brien",       "Paris",      34,  True,  12.5,  "2024-03-01", "2024-03-30 23:59:59", False),
    (2, "Zoë",           N,            N,   False, N,     "2023-03-31", N,                     N),
    (3, 'say "hi"',      "Lyon",       17,  N,     -3.0,  N,            "2024-02-29 10:00:00", False),
    (4, N,               "Paris",      65,  True,  0.0,   "2024-02-29", "2024-03-31 00:00:00", False),
    (5, "東京",          "São Paulo",  30,  False, 99.5,  "2022-01-15", "2023-12-31 12:00:00", False),
    (6, "back\\slash",   "paris",      45,  N,     7.25,  "2024-01-31", N,                     True),
    (7, "100%",          N,            30,  True,  N,     "2024-03-31", "2024-03-15 08:00:00", N),
    (8, "",              "Lyon",       52,  False, 3.5,   N,            "2024-03-01 00:00:00", False),
    (9, "Ann",           "Paris",      N,   N,     50.0,  "2023-12-01", N,                     False),
    (10, "ann",          N,            25,  True,  -0.5,  "2024-03-10", "2022-06-01 09:00:00", False),
]
ORDERS = [
    # customer, ordered_at,          amount, category, status
    (1, "2024-03-30 10:00:00", 120.0, "shoes", "completed"),
    (1, "2024-03-01 00:00:00", 30.0, "bags", "completed"),
    (1, "2024-01-15 00:00:00", 80.0, "shoes", "returned"),
    (1, "2023-03-31 00:00:00", 500.0, "shoes", "completed"),   # the day before the 365-day window
    (2, "2024-03-31 00:00:00", 1000.0, "shoes", "completed"),  # at the as-of: never counts
    (2, "2024-02-29 12:00:00", 10.0, "hats", "pending"),
    (4, "2023-04-01 00:00:00", 200.0, "bags", "completed"),    # first instant of the window
    (4, "2024-03-20 00:00:00", 15.5, "shoes", "completed"),
    (5, "2021-05-05 00:00:00", 40.0, "hats", "completed"),
    (6, "2024-03-25 00:00:00", 999.0, "shoes", "completed"),   # the test account
    (7, "2024-03-30 00:00:00", 60.0, "shoes", "completed"),
    (7, "2024-03-29 00:00:00", 60.0, "shoes", "completed"),
    (7, "2024-02-01 00:00:00", 5.0, "bags", "cancelled"),
    (8, "2024-03-10 00:00:00", 0.0, "shoes", "returned"),
    (10, "2024-01-01 00:00:00", 250.0, "bags", "completed"),
    (10, "2024-03-02 00:00:00", 250.0, "bags", "completed"),
]
POPULATION = [1, 2, 3, 4, 5, 7, 8, 9, 10]

# Worked out by hand (see the per-feature values in the comments).
# age: 1:34 2:- 3:17 4:65 5:30 7:30 8:52 9:- 10:25     score: 1:12.5 3:-3 4:0 5:99.5 8:3.5 9:50 10:-0.5
# orders_365d: 1:3 2:1 4:2 7:3 8:1 10:2, others 0
# revenue_365d (completed): 1:150 4:215.5 7:120 10:500, others 0 (6: 999 but not in the population)
# basket_avg (completed, all time): 1:216.67 4:107.75 5:40 7:60 10:250, others missing
SEGMENTS = """
segment adults = age >= 18
segment cmp_ge = age >= 30
segment not_cmp_ge = not age >= 30
segment cmp_ne = age != 30
segment between_ages = age between 25 and 34
segment in_cities = city in ["Lyon", "Paris"]
segment not_in_paris = city not in ["Paris"]
segment no_city = city is missing
segment quotes_in_name = name contains "'" or name contains "\\""
segment starts_lower_an = name starts with "an"
segment ends_percent = name ends with "%"
segment empty_name = name = ""
segment unicode_names = name = "Zo\\u00eb" or name = "東京"
segment vip_only = vip
segment not_vip = not vip
segment vip_false = vip = false
segment half_score = score / 2 > 3
segment age_mod = age % 7 = 2
segment negated_score = -score >= 0
segment rounding = round(score) = 13 or floor(score) = -1 or ceil(score) = 0
segment coalesced = coalesce(age, 0) < 18
segment least_greatest = greatest(age, 40) = 40 and least(score, 0.0) = 0.0
segment abs_upper = abs(score) > 10 and upper(name) != "ANN"
segment lengths = length(name) = 2 or upper(name) = "ANN"
segment seen_recently = days_since(last_seen) <= 31
segment seen_30d = last_seen within last 30 days
segment signup_this_month = signup within this month
segment signup_last_month = signup within last month
segment signup_months = signup < today - 1 month and signup >= today - 1 year
segment dates_literal = signup = 2024-02-29 or last_seen < 2024-03-15T08:00:00
segment years_months = year_of(signup) = 2023 or month_of(last_seen) = 12
segment frequent = orders_365d >= 2
segment no_orders = orders_365d = 0
segment big_basket = basket_avg > 100
segment no_basket = basket_avg is missing
segment old_last_order = last_order_at < 2024-03-01
segment shoe_fans = count(orders where category = "shoes" during last 30 days) >= 2
segment returners = exists(orders where status = "returned")
segment march_spenders = sum(orders.amount where status = "completed" during this month) > 100
segment top_quarter = top 25% by revenue_365d
segment bottom_half = bottom 50% by basket_avg
segment top_quartile = quantile_score(basket_avg, 4) = 4
segment adults_not_vip = adults and not vip
segment scored = score >= $min_score
segment test_accounts = is_test

segmentation tier {
  high = revenue_365d >= 200
  mid  = revenue_365d >= 100
  low  = orders_365d > 0
}
"""

EXPECTED = {
    "adults": [1, 4, 5, 7, 8, 10],
    "cmp_ge": [1, 4, 5, 7, 8],
    "not_cmp_ge": [2, 3, 9, 10],                 # missing ages are in the complement
    "cmp_ne": [1, 3, 4, 8, 10],                  # ... but never in `!=`
    "between_ages": [1, 5, 7, 10],
    "in_cities": [1, 3, 4, 8, 9],                # 6 ("paris") is a test account anyway
    "not_in_paris": [3, 5, 8],
    "no_city": [2, 7, 10],
    "quotes_in_name": [1, 3],
    "starts_lower_an": [10],                     # case-sensitive: not "Ann"
    "ends_percent": [7],                         # `%` is literal
    "empty_name": [8],
    "unicode_names": [2, 5],
    "vip_only": [1, 4, 7, 10],
    "not_vip": [2, 3, 5, 8, 9],
    "vip_false": [2, 5, 8],
    "half_score": [1, 5, 9],
    "age_mod": [4, 5, 7],                        # 65 % 7 = 30 % 7 = 2
    "negated_score": [3, 4, 10],
    "rounding": [1, 4, 10],                      # round(12.5) = 13; floor(-0.5) = -1; ceil(0.0) = 0
    "coalesced": [2, 3, 9],
    "least_greatest": [1, 5],
    "abs_upper": [1, 5],                         # 9 is "Ann"
    "lengths": [5, 9, 10],                       # "東京" has 2 characters
    "seen_recently": [1, 3, 4, 7, 8],            # 31, 1, 0, 16, 30 days
    "seen_30d": [1, 7, 8],                       # [03-01, 03-31): not 4 (at the as-of), not 3
    "signup_this_month": [1, 7, 10],
    "signup_last_month": [4],
    "signup_months": [2, 9],                     # [2023-03-31, 2024-02-29)
    "dates_literal": [3, 4, 5, 8, 10],           # 7 was seen exactly at 08:00
    "years_months": [2, 5, 9],
    "frequent": [1, 4, 7, 10],
    "no_orders": [3, 5, 9],
    "big_basket": [1, 4, 10],
    "no_basket": [2, 3, 8, 9],
    "old_last_order": [2, 5],                    # 2's order at the as-of does not count
    "shoe_fans": [7],
    "returners": [1, 8],
    "march_spenders": [1, 7, 10],
    "top_quarter": [4, 10],                      # ranked within the population: 6 (999) is not
    "bottom_half": [5, 7],                       # 40 and 60 of 5 present values
    "top_quartile": [1, 10],                     # ceil(4*4/5) = ceil(4*5/5) = 4
    "adults_not_vip": [5, 8],
    "scored": [1, 5, 9],
    "test_accounts": [],                         # outside the population
    "tier.high": [4, 10],
    "tier.mid": [1, 7],
    "tier.low": [2, 8],
}
LABELS = [(1, "mid"), (2, "low"), (4, "high"), (7, "mid"), (8, "low"), (10, "high")]  # 3, 5, 9: no branch


def _tables():
    columns = table_columns(CONFIG)
    keys = ["customer_id", "name", "City Name", "age", "vip", "score", "signup", "last_seen", "is_test"]
    customers = [dict(zip(keys, row)) for row in CUSTOMERS]
    orders = [dict(zip(["customer_id", "ordered_at", "amount", "category", "status"], row)) for row in ORDERS]
    return {"crm.customers": (columns["crm.customers"], customers),
            "crm.order": (columns["crm.order"], orders)}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return segc.load_project(write_project(tmp_path_factory.mktemp("execution"), CONFIG, SEGMENTS))


@pytest.fixture(scope="module")
def engines(pg_dsn):
    out = {}
    for name in ENGINES:
        engine = open_engine(name, pg_dsn)
        engine.load(_tables())
        out[name] = engine
    yield out
    for engine in out.values():
        engine.close()


def test_every_segment_has_an_answer(project):
    assert sorted(project.segment_names) == sorted(EXPECTED)
    assert len(EXPECTED) >= 25


@pytest.mark.parametrize("engine", ENGINES)
def test_population(project, engines, engine):
    eng = engines[engine]
    assert eng.query(project.compile_expression("true", dialect=engine, form="count")) == [(len(POPULATION),)]
    members = sorted(r[0] for r in eng.query(project.compile_expression("true", dialect=engine)))
    assert members == POPULATION


CASES = [(engine, name) for engine in ENGINES for name in EXPECTED]


@pytest.mark.parametrize("engine,name", CASES, ids=[f"{e}-{n}" for e, n in CASES])
def test_segment(project, engines, engine, name):
    eng = engines[engine]
    sql = project.compile(name, dialect=engine)
    members = sorted(r[0] for r in eng.query(sql))
    assert members == EXPECTED[name], f"{name} on {engine}:\n{sql}"
    count = eng.query(project.compile(name, dialect=engine, form="count"))[0][0]
    assert count == len(EXPECTED[name])
    negated = eng.query(project.compile_expression(f"not {name}", dialect=engine, form="count"))[0][0]
    assert count + negated == len(POPULATION), f"|A| + |not A| != |population| for {name} on {engine}"


@pytest.mark.parametrize("engine", ENGINES)
def test_segmentation_without_else(project, engines, engine):
    eng = engines[engine]
    rows = sorted(tuple(r) for r in eng.query(project.compile("tier", dialect=engine, form="label")))
    assert rows == LABELS
    # the branches partition their union; the unmatched (3, 5, 9) belong to no branch
    union = eng.query(project.compile_expression("tier.high or tier.mid or tier.low", dialect=engine,
                                                 form="count"))[0][0]
    assert union == len(LABELS)
