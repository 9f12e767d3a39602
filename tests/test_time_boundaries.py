"""Behaviour over time, at the boundaries: windows, calendar periods, date arithmetic and
day counts, executed on DuckDB, SQLite and PostgreSQL, with the members each case must
select written out by hand from DESIGN.md §3:

- aggregates see only events with `t < as_of`; a window `w` keeps `as_of - w <= t < as_of`;
- `d within last D` is `today - D <= d < today`; calendar periods (`this/last week|month|year`)
  are `[start, next start)` with weeks starting on Monday; `a to b` with dates includes both
  days; for aggregates the as-of bound still applies (`during this month` sees no event at
  or after the as-of), for a feature compared with `within` it does not;
- month and year arithmetic clamps to the month's end (2024-03-31 - 1 month = 2024-02-29);
- `days_since(d)` counts calendar days between the date of `d` and the as-of (timestamps
  are cast to dates first: 23:59:59 yesterday is 1 day ago, not 0).

Each customer has (mostly) one order and one `last_seen`, both at the instant named in
the ORDERS table below, so the members of `exists(orders during P)` are the customers
whose instant is in P and before the as-of.

The rolling variant (no as-of) loads data placed relative to the engine's own
`CURRENT_DATE` and computes its expectations in Python from that date.
"""
from __future__ import annotations

import calendar
import datetime as dt

import pytest

import segc
from tests.conftest import table_columns, write_project
from tests.engines import ENGINES, open_engine

CONFIG = {
    "name": "time_boundaries",
    "base": "customers",
    "key": "customer_id",
    "as_of": "2024-03-31",  # a Sunday, the end of a 31-day month, in a leap year
    "sources": {
        "customers": {"table": "crm.customers"},
        "orders": {"table": "crm.orders", "key": "customer_id", "time": "ordered_at",
                   "columns": {"amount": "float"}},
    },
    "features": {
        "signup": {"type": "date"},
        "last_seen": {"type": "timestamp"},
        "orders_30d": {"type": "int", "from": "orders", "agg": "count", "window": "30 days"},
        "orders_1m": {"type": "int", "from": "orders", "agg": "count", "window": "1 month"},
        "orders_1y": {"type": "int", "from": "orders", "agg": "count", "window": "1 year"},
        "orders_1w": {"type": "int", "from": "orders", "agg": "count", "window": "1 week"},
        "orders_ever": {"type": "int", "from": "orders", "agg": "count"},
        "spend_1m": {"type": "float", "from": "orders", "agg": "sum", "column": "amount", "window": "1 month"},
        "last_order_at": {"type": "timestamp", "from": "orders", "agg": "max", "column": "ordered_at"},
    },
}

# customer -> its order(s); last_seen is the same instant as the (single) order for 1..19
ORDERS = {
    1: ["2024-03-31 00:00:00"],   # exactly at the as-of: never counted
    2: ["2024-03-30 23:59:59"],   # the last second before the as-of
    3: ["2024-03-01 00:00:00"],   # as-of - 30 days, exactly; first instant of March
    4: ["2024-02-29 23:59:59"],   # one second before as-of - 30 days; last second of February
    5: ["2024-02-29 00:00:00"],   # as-of - 1 month = 2024-02-29 (clamped), exactly
    6: ["2024-02-28 23:59:59"],   # one second before as-of - 1 month
    7: ["2024-02-28 00:00:00"],   # one day before as-of - 1 month
    8: ["2024-02-01 00:00:00"],   # first instant of last month
    9: ["2024-01-31 23:59:59"],   # last second before last month
    10: ["2024-03-25 00:00:00"],  # Monday: first instant of the as-of's week
    11: ["2024-03-24 23:59:59"],  # Sunday: the last second of the week before
    12: ["2024-01-01 00:00:00"],  # first instant of the year
    13: ["2023-12-31 23:59:59"],  # last second of last year
    14: ["2023-12-31 00:00:00"],  # 2024-01-31 - 1 month = 2023-12-31, exactly
    15: ["2023-12-30 23:59:59"],  # one second before that
    16: ["2023-02-28 00:00:00"],  # 2023-03-31 - 1 month = 2023-02-28 (no leap day), exactly
    17: ["2023-02-27 23:59:59"],  # one second before that
    18: ["2023-03-30 23:59:59"],  # the last second before as-of 2023-03-31
    19: ["2024-01-15 12:00:00"],  # mid-January
    20: ["2024-03-01 00:00:00", "2024-03-31 00:00:00"],  # two orders, the second at the as-of
    # 21, 22: no orders
}
SIGNUP = {
    1: "2024-03-31",   # the as-of day
    2: "2024-03-30",
    3: "2024-03-01",   # as-of - 30 days
    4: "2024-02-29",   # a leap day; as-of - 1 month
    5: "2024-02-28",
    6: "2024-01-31",
    7: "2024-01-01",   # a Monday
    8: "2023-12-31",   # a Sunday
    9: "2024-03-25",   # Monday of the as-of's week
    10: "2024-03-24",  # Sunday before it
    11: "2023-02-28",
    13: "2024-04-01",  # after the as-of (a Monday)
}
CUSTOMERS = list(range(1, 23))
ALL = CUSTOMERS

A = "2024-03-31"

# (as_of, expression, expected members) — worked out by hand from the tables above.
CASES = [
    # ---- windows on aggregates (features in segc.yml and inline), as-of 2024-03-31 Sunday
    (A, "orders_30d > 0", [2, 3, 10, 11, 20]),              # [03-01, 03-31): not 1 (at), not 4 (1 s early)
    (A, "orders_30d = 1", [2, 3, 10, 11, 20]),              # 20's order at the as-of does not count
    (A, "exists(orders during last 30 days)", [2, 3, 10, 11, 20]),
    (A, "orders_1m > 0", [2, 3, 4, 5, 10, 11, 20]),         # [02-29, 03-31): not 6 (1 s early), not 7 (1 day)
    (A, "exists(orders during last 1 month)", [2, 3, 4, 5, 10, 11, 20]),
    (A, "spend_1m > 0", [2, 3, 4, 5, 10, 11, 20]),
    (A, "orders_1w > 0", [2, 10, 11]),                         # [03-24, 03-31): 11 is 03-24 23:59:59 -> in
    (A, "orders_1y > 0", [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 19, 20]),  # from 2023-03-31: not 18
    (A, "orders_ever = 2", []),                              # 20's second order is at the as-of
    # two windows of one source in one GROUP BY: its events are read from the earlier start
    (A, "orders_1y > 0 and orders_30d = 0", [4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 19]),
    (A, "orders_ever = 0", [1, 21, 22]),
    (A, "exists(orders during this month)", [2, 3, 10, 11, 20]),
    (A, "exists(orders during last month)", [4, 5, 6, 7, 8]),   # [02-01, 03-01)
    (A, "exists(orders during this year)", [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 19, 20]),
    (A, "exists(orders during last year)", [13, 14, 15, 16, 17, 18]),
    (A, "exists(orders during this week)", [2, 10]),         # [03-25 Mon, 04-01) and before the as-of
    (A, "exists(orders during last week)", [11]),            # [03-18, 03-25)
    (A, "count(orders during 2024-01-01 to 2024-01-31) = 1", [9, 12, 19]),  # both days included
    (A, "count(orders during 2024-03-01 to 2024-03-31) = 1", [2, 3, 10, 11, 20]),
    (A, "count(orders during 2024-03-01 to 2024-03-31) = 2", []),  # the as-of still bounds a range
    (A, "last_order_at < 2024-03-01", [4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17, 18, 19]),
    (A, "last_order_at is missing", [1, 21, 22]),
    (A, "days_since(last_order_at) = 1", [2]),              # 03-30 23:59:59 is a day ago, not 0
    (A, "days_since(last_order_at) <= 31", [2, 3, 4, 5, 10, 11, 20]),
    # ---- within / date arithmetic on a date feature
    (A, "signup within last 30 days", [2, 3, 9, 10]),        # [03-01, 03-31): not the as-of day
    (A, "signup within this month", [1, 2, 3, 9, 10]),       # [03-01, 04-01): the as-of day is in
    (A, "signup within last month", [4, 5]),
    (A, "signup within this year", [1, 2, 3, 4, 5, 6, 7, 9, 10, 13]),
    (A, "signup within last year", [8, 11]),
    (A, "signup within this week", [1, 2, 9]),               # Monday 03-25 .. Sunday 03-31
    (A, "signup within last week", [10]),                    # [03-18, 03-25)
    (A, "signup within 2024-01-01 to 2024-01-31", [6, 7]),   # both days included, not 12-31
    (A, "signup >= today - 1 month", [1, 2, 3, 4, 9, 10, 13]),
    (A, "signup = today - 1 month", [4]),                    # 2024-03-31 - 1 month = 2024-02-29
    (A, "signup = today - 30 days", [3]),
    (A, "signup = today - 1 year", []),                      # 2023-03-31: nobody
    (A, "signup + 30 days = 2024-03-30", [4]),               # 02-29 + 30 days
    (A, "signup - 2 weeks = 2024-03-11", [9]),
    (A, "days_since(signup) = 0", [1]),
    (A, "days_since(signup) = 30", [3]),
    (A, "days_since(signup) = 31", [4]),
    (A, "days_since(signup) = 397", [11]),
    (A, "days_since(signup) < 0", [13]),
    (A, "year_of(signup) = 2023", [8, 11]),
    (A, "month_of(signup) = 2", [4, 5, 11]),
    (A, "month_of(signup) = 12 or month_of(signup) = 4", [8, 13]),
    # ---- within / days_since on a timestamp feature
    (A, "last_seen within last 30 days", [2, 3, 10, 11]),    # 1 is exactly at the as-of
    (A, "last_seen within this month", [1, 2, 3, 10, 11]),
    (A, "last_seen within last month", [4, 5, 6, 7, 8]),
    (A, "last_seen within this week", [1, 2, 10]),
    (A, "last_seen within 2024-01-01 to 2024-01-31", [9, 12, 19]),  # 01-31 23:59:59 is in
    (A, "last_seen >= today - 1 day", [1, 2]),
    (A, "last_seen < today", list(range(2, 20))),
    (A, "days_since(last_seen) = 0", [1]),
    (A, "days_since(last_seen) = 1", [2]),
    (A, "days_since(last_seen) between 30 and 31", [3, 4, 5]),  # 02-29 00:00 and 23:59:59: both 31
    (A, "year_of(last_seen) = 2023", [13, 14, 15, 16, 17, 18]),
    (A, "month_of(last_seen) = 12", [13, 14, 15]),
    (A, "month_of(last_seen) = 2 and year_of(last_seen) = 2024", [4, 5, 6, 7, 8]),
    # ---- as-of 2024-01-31: Jan 31 - 1 month = 2023-12-31
    ("2024-01-31", "orders_1m > 0", [12, 13, 14, 19]),      # not 15 (12-30 23:59:59), not 9 (after)
    ("2024-01-31", "signup = today - 1 month", [8]),
    ("2024-01-31", "exists(orders during last month)", [13, 14, 15]),
    ("2024-01-31", "exists(orders during this month)", [12, 19]),
    # ---- as-of 2023-03-31: - 1 month = 2023-02-28
    ("2023-03-31", "orders_1m > 0", [16, 18]),
    ("2023-03-31", "signup = today - 1 month", [11]),
    # ---- as-of 2024-02-29 (a leap day)
    ("2024-02-29", "orders_1m > 0", [6, 7, 8, 9]),          # [01-29, 02-29)
    ("2024-02-29", "orders_1y > 0", [6, 7, 8, 9, 12, 13, 14, 15, 16, 18, 19]),  # from 2023-02-28
    ("2024-02-29", "signup = today - 1 year", [11]),
    ("2024-02-29", "exists(orders during this month)", [6, 7, 8]),  # 5 is at the as-of
    ("2024-02-29", "signup within this month", [4, 5]),
    ("2024-02-29", "days_since(signup) = 0", [4]),
    # ---- a year after the leap day: 2025-02-28 and 2025-03-01
    ("2025-02-28", "signup = today - 1 year", [5]),
    ("2025-02-28", "signup >= today - 1 year and signup < 2024-03-01", [4, 5]),
    ("2025-02-28", "orders_1y > 0", [1, 2, 3, 4, 5, 6, 7, 10, 11, 20]),
    ("2025-02-28", "days_since(signup) = 365", [4]),
    ("2025-03-01", "signup = today - 1 year", [3]),
    ("2025-03-01", "signup >= today - 1 year and signup < 2024-03-01", []),
    ("2025-03-01", "signup < today - 1 year and signup >= 2024-02-01", [4, 5]),
    ("2025-03-01", "orders_1y > 0", [1, 2, 3, 10, 11, 20]),  # not 4 (2024-02-29 23:59:59)
    ("2025-03-01", "days_since(signup) = 366", [4]),
    # ---- as-of 2024-01-03, a Wednesday: this week starts in the previous year
    ("2024-01-03", "signup within this week", [7]),
    ("2024-01-03", "signup within last week", [8]),
    ("2024-01-03", "last_seen within this week", [12]),
    ("2024-01-03", "last_seen within last week", [13, 14, 15]),
    ("2024-01-03", "exists(orders during this year)", [12]),
    ("2024-01-03", "exists(orders during last year)", [13, 14, 15, 16, 17, 18]),
    # ---- as-of 2024-04-01, a Monday: the day after the orders at 03-31 00:00
    ("2024-04-01", "orders_ever = 2", [20]),
    ("2024-04-01", "count(orders during 2024-03-01 to 2024-03-31) = 2", [20]),
    ("2024-04-01", "exists(orders during last month)", [1, 2, 3, 10, 11, 20]),
    ("2024-04-01", "exists(orders during this week)", []),
    ("2024-04-01", "signup within this week", [13]),
    ("2024-04-01", "days_since(last_seen) = 1", [1]),
]

# Month/year arithmetic on a column is done by the engine: DuckDB and PostgreSQL clamp
# month ends; SQLite cannot (E602, tested in test_time_errors.py).
ENGINE_ARITHMETIC = [
    (A, "signup + 1 year = 2025-02-28", [4, 5]),   # 2024-02-29 + 1 year = 2025-02-28
    (A, "signup - 1 month = 2024-02-29", [1, 2]),  # 2024-03-31 and 03-30 - 1 month, clamped
    (A, "signup + 1 month = 2024-03-29", [4]),     # 2024-02-29 + 1 month
]


def _tables():
    columns = table_columns(CONFIG)
    customers = [{"customer_id": c, "signup": SIGNUP.get(c),
                  "last_seen": ORDERS[c][0] if c in ORDERS and len(ORDERS[c]) == 1 else None}
                 for c in CUSTOMERS]
    orders = [{"customer_id": c, "ordered_at": t, "amount": 10.0} for c, ts in ORDERS.items() for t in ts]
    return {"crm.customers": (columns["crm.customers"], customers),
            "crm.orders": (columns["crm.orders"], orders)}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return segc.load_project(write_project(tmp_path_factory.mktemp("time"), CONFIG))


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


def _members(eng, sql) -> list:
    return sorted(r[0] for r in eng.query(sql))


def _check(project, eng, engine, as_of, expr, expected):
    sql = project.compile_expression(expr, dialect=engine, as_of=as_of)
    assert _members(eng, sql) == expected, f"{expr} at {as_of} on {engine}:\n{sql}"
    negated = project.compile_expression(f"not ({expr})", dialect=engine, as_of=as_of, form="count")
    assert eng.query(negated)[0][0] == len(ALL) - len(expected), f"not ({expr}) at {as_of} on {engine}"


def test_cases_are_distinct():
    keys = [(a, e) for a, e, _m in CASES + ENGINE_ARITHMETIC]
    assert len(keys) == len(set(keys))
    assert len(CASES) >= 80


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("as_of,expr,expected", CASES, ids=[f"{a}:{e}" for a, e, _m in CASES])
def test_pinned(project, engines, engine, as_of, expr, expected):
    _check(project, engines[engine], engine, as_of, expr, expected)


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
@pytest.mark.parametrize("as_of,expr,expected", ENGINE_ARITHMETIC,
                         ids=[f"{a}:{e}" for a, e, _m in ENGINE_ARITHMETIC])
def test_pinned_engine_arithmetic(project, engines, engine, as_of, expr, expected):
    _check(project, engines[engine], engine, as_of, expr, expected)


@pytest.mark.parametrize("engine", ENGINES)
def test_as_of_from_segc_yml_is_the_default(project, engines, engine):
    """`as_of: 2024-03-31` in segc.yml pins the queries compiled without an explicit as-of."""
    sql = project.compile_expression("orders_1m > 0", dialect=engine)
    assert "CURRENT" not in sql.upper()
    assert _members(engines[engine], sql) == [2, 3, 4, 5, 10, 11, 20]


# ---- rolling: no as-of, the engine's CURRENT_DATE -----------------------------------

def _shift_months(d: dt.date, months: int) -> dt.date:
    """Independent of segc: calendar months back/forward, clamped to the month's end."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _midnight(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day)


SECOND = dt.timedelta(seconds=1)


def _rolling_data(today: dt.date):
    """Orders and signups placed around today's window bounds: customer -> instant."""
    month_ago = _midnight(_shift_months(today, -1))
    days30 = _midnight(today - dt.timedelta(days=30))
    first_of_month = _midnight(today.replace(day=1))
    instants = {
        1: _midnight(today),                        # at the as-of: excluded everywhere
        2: _midnight(today) - SECOND,               # 23:59:59 yesterday: included everywhere
        3: days30,                                  # first instant of `last 30 days`
        4: days30 - SECOND,
        5: month_ago,                               # first instant of `window: 1 month`
        6: month_ago - SECOND,
        7: first_of_month,                          # first instant of `this month`
        8: first_of_month - SECOND,                 # last instant of `last month`
        9: _midnight(today - dt.timedelta(days=400)),
        10: _midnight(today - dt.timedelta(days=today.weekday())),      # Monday of this week
        11: _midnight(today - dt.timedelta(days=today.weekday())) - SECOND,
        12: _midnight(today - dt.timedelta(days=today.weekday() + 7)),  # Monday of last week
        13: _midnight(today - dt.timedelta(days=today.weekday() + 7)) - SECOND,
    }
    return instants


def _rolling_expected(today: dt.date, instants: dict) -> dict[str, list]:
    """The members of each rolling case, from today and the Python calendar."""
    def members(lo: dt.datetime | None, hi: dt.datetime, cap: bool = True) -> list:
        end = min(hi, _midnight(today)) if cap else hi
        return sorted(c for c, t in instants.items() if (lo is None or lo <= t) and t < end)

    t0 = _midnight(today)
    month_start = _midnight(today.replace(day=1))
    next_month = _midnight(_shift_months(today.replace(day=1), 1))
    last_month = _midnight(_shift_months(today.replace(day=1), -1))
    signups = {c: t.date() for c, t in instants.items()}
    monday = today - dt.timedelta(days=today.weekday())
    return {
        "signup within this week": sorted(c for c, d in signups.items()
                                          if monday <= d < monday + dt.timedelta(days=7)),
        "exists(orders during last week)": members(_midnight(monday - dt.timedelta(days=7)), _midnight(monday)),
        "exists(orders during this week)": members(_midnight(monday), _midnight(monday + dt.timedelta(days=7))),
        "orders_30d > 0": members(t0 - dt.timedelta(days=30), t0),
        "exists(orders during last 30 days)": members(t0 - dt.timedelta(days=30), t0),
        "orders_ever > 0": members(None, t0),
        "days_since(last_order_at) = 1": sorted(c for c, t in instants.items()
                                                if t < t0 and (today - t.date()).days == 1),
        "days_since(signup) = 30": sorted(c for c, d in signups.items() if (today - d).days == 30),
        "last_seen within last 30 days": members(t0 - dt.timedelta(days=30), t0),
        "signup within last 30 days": sorted(c for c, d in signups.items()
                                             if today - dt.timedelta(days=30) <= d < today),
        # month arithmetic: not on SQLite (E602)
        "orders_1m > 0": members(_midnight(_shift_months(today, -1)), t0),
        "signup >= today - 1 month": sorted(c for c, d in signups.items() if d >= _shift_months(today, -1)),
        "exists(orders during this month)": members(month_start, next_month),
        "exists(orders during last month)": members(last_month, month_start),
        "last_seen within this month": members(month_start, next_month, cap=False),
    }


DAY_CASES = ("orders_30d > 0", "exists(orders during last 30 days)", "orders_ever > 0",
             "days_since(last_order_at) = 1", "days_since(signup) = 30", "last_seen within last 30 days",
             "signup within last 30 days", "signup within this week", "exists(orders during last week)",
             "exists(orders during this week)")


def _engine_today(eng) -> dt.date:
    (value,), = eng.query("SELECT CURRENT_DATE")
    if isinstance(value, str):  # SQLite
        return dt.date.fromisoformat(value)
    return value if not isinstance(value, dt.datetime) else value.date()


@pytest.fixture(scope="module")
def rolling_project(tmp_path_factory):
    config = dict(CONFIG)
    del config["as_of"]
    project = segc.load_project(write_project(tmp_path_factory.mktemp("rolling"), config))
    assert project.as_of is None
    return project


@pytest.mark.parametrize("engine", ENGINES)
def test_rolling(rolling_project, pg_dsn, engine):
    for _attempt in range(2):  # a run across midnight is retried once
        with open_engine(engine, pg_dsn) as eng:
            today = _engine_today(eng)
            instants = _rolling_data(today)
            columns = table_columns(CONFIG)
            eng.load({
                "crm.customers": (columns["crm.customers"],
                                  [{"customer_id": c, "signup": t.date(), "last_seen": t}
                                   for c, t in instants.items()]),
                "crm.orders": (columns["crm.orders"],
                               [{"customer_id": c, "ordered_at": t, "amount": 1.0} for c, t in instants.items()]),
            })
            expected = _rolling_expected(today, instants)
            cases = DAY_CASES if engine == "sqlite" else list(expected)
            got = {}
            for expr in cases:
                sql = rolling_project.compile_expression(expr, dialect=engine)
                assert "CURRENT_DATE" in sql.upper(), sql
                got[expr] = (_members(eng, sql), sql)
            if _engine_today(eng) != today:
                continue
        for expr in cases:
            members, sql = got[expr]
            assert members == expected[expr], f"rolling {expr} on {engine} (today {today}):\n{sql}"
        # the fixed boundaries: at today 00:00 never, 23:59:59 yesterday always
        assert 1 not in got["orders_30d > 0"][0] and 2 in got["orders_30d > 0"][0]
        assert 3 in got["orders_30d > 0"][0] and 4 not in got["orders_30d > 0"][0]
        last_week = got["exists(orders during last week)"][0]
        assert 12 in last_week and 13 not in last_week and 11 in last_week  # Monday to Sunday 23:59:59
        if engine != "sqlite":
            assert 5 in got["orders_1m > 0"][0] and 6 not in got["orders_1m > 0"][0]
        return
    pytest.fail("the engine's date changed twice during the test")
