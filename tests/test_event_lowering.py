"""Behaviour over time, the parts the boundary and differential tests do not pin down:

- the shape of the lowering (DESIGN §4): one GROUP BY per event source holding every
  aggregate the query uses and no other, LEFT JOINed to the base; count/sum wrapped in
  COALESCE(.., 0) and avg/min/max left missing; a COUNT(DISTINCT) in its own GROUP BY;
- a timestamp column shifted by a duration keeps its time of day, executed on DuckDB,
  PostgreSQL and SQLite, against expectations computed here with `datetime`;
- diagnostics for schema mistakes with aggregates and the as-of (the base used as an
  event source, an empty window, an as-of that is not a date) and W106.
"""
from __future__ import annotations

import calendar
import copy
import datetime as dt
import operator

import pytest
import sqlglot
from sqlglot import exp

import segc
from segc.front.errors import SegcError, render_text
from tests.conftest import table_columns, write_project
from tests.engines import open_engine

CONFIG = {
    "name": "event_lowering",
    "base": "customers",
    "key": "customer_id",
    "as_of": "2024-03-31",
    "sources": {
        "customers": {"table": "customers"},
        "orders": {"table": "orders", "key": "customer_id", "time": "ordered_at",
                   "columns": {"amount": "float", "category": "string"}},
        "carts": {"table": "carts", "key": "customer_id", "time": "created_at",
                  "columns": {"value": "float", "abandoned": "bool"}},
    },
    "features": {
        "age": {"type": "int"},
        "last_seen": {"type": "timestamp"},
        "purchases_90d": {"type": "int", "from": "orders", "agg": "count", "window": "90 days"},
        "revenue_365d": {"type": "float", "from": "orders", "agg": "sum", "column": "amount",
                         "window": "365 days"},
        "basket_avg": {"type": "float", "from": "orders", "agg": "avg", "column": "amount"},
        "last_order_at": {"type": "timestamp", "from": "orders", "agg": "max", "column": "ordered_at"},
        "categories": {"type": "int", "from": "orders", "agg": "count_distinct", "column": "category"},
        "abandoned_30d": {"type": "float", "from": "carts", "agg": "sum", "column": "value",
                          "where": "abandoned", "window": "30 days"},
    },
}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return segc.load_project(write_project(tmp_path_factory.mktemp("lowering"), CONFIG))


# ---- the shape of the SQL ----------------------------------------------------------

def _grouped(sql: str) -> dict[str, exp.Select]:
    """The CTEs that GROUP BY, by the table they read."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    out = {}
    for cte in tree.find_all(exp.CTE):
        select = cte.this
        if isinstance(select, exp.Select) and select.args.get("group"):
            source = select.args["from_"].this.name
            assert source not in out, f"two GROUP BYs over `{source}`:\n{sql}"
            out[source] = select
    return out


def _aggregates(select: exp.Select) -> list[str]:
    """The aliases of a grouped CTE's aggregate columns (all but the key); DuckDB's FSUM
    (a float sum, rewrites.py) is a function sqlglot does not know as an aggregate."""
    def is_aggregate(e):
        return e.find(exp.AggFunc) or any(f.name.upper() == "FSUM" for f in e.find_all(exp.Anonymous))
    return [e.alias for e in select.expressions if is_aggregate(e)]


def _features_cte(sql: str) -> exp.Select:
    tree = sqlglot.parse_one(sql, read="duckdb")
    (features,) = [c.this for c in tree.find_all(exp.CTE) if c.alias == "segc_features"]
    return features


def test_one_group_by_per_source_with_only_the_aggregates_used(project):
    sql = project.compile_expression(
        "purchases_90d >= 2 and basket_avg > 80 and last_order_at is present "
        "and sum(orders.amount where category = \"shoes\" during last month) > 10 "
        "and abandoned_30d > 100 and exists(carts during last 7 days)", dialect="duckdb")
    grouped = _grouped(sql)
    assert sorted(grouped) == ["carts", "orders"], sql
    # four aggregates over orders in its one GROUP BY; revenue_365d and categories are unused
    assert len(_aggregates(grouped["orders"])) == 4, sql
    assert len(_aggregates(grouped["carts"])) == 2, sql
    assert "revenue_365d" not in sql and "COUNT(DISTINCT" not in sql
    # every GROUP BY reads only events before the as-of
    for select in grouped.values():
        assert "< CAST('2024-03-31' AS DATE)" in select.args["where"].sql("duckdb"), sql
    features = _features_cte(sql)
    joins = features.args.get("joins") or []
    assert len(joins) == 2 and all(j.side == "LEFT" for j in joins), sql
    # count/sum of nothing is 0 (COALESCE after the LEFT JOIN); avg/max of nothing stays missing
    by_alias = {e.alias: e.this for e in features.expressions}
    assert isinstance(by_alias["purchases_90d"], exp.Coalesce)
    assert isinstance(by_alias["abandoned_30d"], exp.Coalesce)
    assert not isinstance(by_alias["basket_avg"], exp.Coalesce)
    assert not isinstance(by_alias["last_order_at"], exp.Coalesce)


def test_no_aggregate_no_group_by(project):
    sql = project.compile_expression("age > 30 and last_seen within last 30 days", dialect="duckdb")
    assert _grouped(sql) == {} and not _features_cte(sql).args.get("joins"), sql


def test_count_distinct_has_its_own_group_by(project):
    """The one exception to one GROUP BY per source (faster on DuckDB, benchmarks/README.md §4):
    COUNT(DISTINCT) is grouped on its own, beside the source's other aggregates."""
    sql = project.compile_expression("categories >= 2 and purchases_90d > 0", dialect="duckdb")
    tree = sqlglot.parse_one(sql, read="duckdb")
    over_orders = [c.this for c in tree.find_all(exp.CTE)
                   if isinstance(c.this, exp.Select) and c.this.args.get("group")
                   and c.this.args["from_"].this.name == "orders"]
    assert len(over_orders) == 2, sql
    assert sorted(len(_aggregates(s)) for s in over_orders) == [1, 1]
    assert sum(1 for s in over_orders if s.find(exp.Distinct)) == 1


# ---- a timestamp shifted by a duration keeps its time of day -------------------------

LAST_SEEN = {1: dt.datetime(2024, 1, 1, 10), 2: dt.datetime(2024, 1, 1, 0), 3: dt.datetime(2024, 1, 31, 23),
             4: dt.datetime(2023, 12, 31, 23, 59, 59)}


def _shift(t: dt.datetime, amount: int, unit: str) -> dt.datetime:
    if unit in ("day", "week"):
        return t + dt.timedelta(days=amount * (7 if unit == "week" else 1))
    months = t.year * 12 + t.month - 1 + amount * (12 if unit == "year" else 1)
    year, month0 = divmod(months, 12)
    return t.replace(year=year, month=month0 + 1, day=min(t.day, calendar.monthrange(year, month0 + 1)[1]))


OPS = {">": operator.gt, "<": operator.lt, "=": operator.eq, ">=": operator.ge}
# (amount, unit, op, literal): `last_seen + amount unit op literal`
SHIFTS = [(3, "day", ">", dt.datetime(2024, 1, 4, 6)), (1, "day", "=", dt.datetime(2024, 1, 2, 10)),
          (-2, "week", "<", dt.datetime(2023, 12, 18, 5)), (1, "day", ">=", dt.datetime(2024, 1, 2)),
          (1, "month", ">=", dt.datetime(2024, 2, 29, 23)), (-1, "year", "<", dt.datetime(2023, 1, 1, 5))]


def _text(amount: int, unit: str, op: str, literal: dt.datetime) -> str:
    sign = "+" if amount >= 0 else "-"
    return f"last_seen {sign} {abs(amount)} {unit}s {op} {literal.isoformat()}"


def _expected(amount, unit, op, literal) -> list[int]:
    return sorted(c for c, t in LAST_SEEN.items() if OPS[op](_shift(t, amount, unit), literal))


def test_shift_expectations_are_not_trivial():
    results = [_expected(*s) for s in SHIFTS]
    assert all(0 < len(r) < len(LAST_SEEN) for r in results), results
    # a shift that dropped the time of day would select other customers
    assert _expected(3, "day", ">", dt.datetime(2024, 1, 4, 6)) == [1, 3]


# Regression: SQLite rendered `DATE(ts, '+3 days')` and Spark `DATE_ADD(ts, 3)`, which drop
# the time of day; a timestamp shift is now a TIMESTAMPADD (SQLite: DATETIME(ts, ...)).
@pytest.mark.parametrize("engine", ["duckdb", "postgres", "sqlite"])
def test_shifted_timestamp_keeps_time_of_day(project, pg_dsn, engine):
    columns = table_columns(CONFIG)
    tables = {"customers": (columns["customers"], [{"customer_id": c, "last_seen": t} for c, t in LAST_SEEN.items()]),
              "orders": (columns["orders"], []), "carts": (columns["carts"], [])}
    wrong = []
    with open_engine(engine, pg_dsn) as eng:
        eng.load(tables)
        for shift in SHIFTS:
            if engine == "sqlite" and shift[1] in ("month", "year"):
                continue  # E602 on SQLite (test_time_errors.py)
            sql = project.compile_expression(_text(*shift), dialect=engine)
            got = sorted(r[0] for r in eng.query(sql))
            if got != _expected(*shift):
                wrong.append(f"{_text(*shift)}: expected {_expected(*shift)}, got {got}")
    assert not wrong, "\n".join(wrong)


# ---- diagnostics ----------------------------------------------------------------------

def _load_error(tmp_path, config: dict, segments: str = "segment ok = purchases_90d > 0\n") -> tuple[list, str]:
    root = write_project(tmp_path / "p", config, segments)
    with pytest.raises(SegcError) as info:
        segc.load_project(root)
    text = render_text(info.value.diagnostics)
    assert "Traceback" not in text
    return [d.code for d in info.value.diagnostics], text


def _with_feature(**feature) -> dict:
    config = copy.deepcopy(CONFIG)
    config["features"]["bad"] = feature
    return config


def test_base_as_event_source(tmp_path):
    codes, text = _load_error(tmp_path, _with_feature(type="int", **{"from": "customers"}, agg="count",
                                                      window="30 days"))
    assert codes == ["E209"], text
    assert "`customers` is the base, not an event source" in text
    assert "event sources: orders, carts" in text
    assert "segc.yml:" in text and "needs `key:`" not in text


@pytest.mark.parametrize("window", ["0 days", "0 weeks", "0 month"])
def test_empty_window(tmp_path, window):
    codes, text = _load_error(tmp_path, _with_feature(type="int", **{"from": "orders"}, agg="count", window=window))
    assert codes == ["E004"], text
    assert "holds no time" in text and "leave `window:` out" in text and "Value error" not in text


def test_window_as_a_number(tmp_path):
    codes, text = _load_error(tmp_path, _with_feature(type="int", **{"from": "orders"}, agg="count", window=30))
    assert codes == ["E004"], text
    assert "a window is a duration such as `90 days`" in text


@pytest.mark.parametrize("as_of", ["today", "yesterday", 20240701, 86400, "2024-7-1"])
def test_as_of_not_a_date(tmp_path, as_of):
    config = dict(CONFIG, as_of=as_of)
    codes, text = _load_error(tmp_path, config)
    assert codes == ["E004"], text
    assert "`as_of` is not a date" in text and "YYYY-MM-DD" in text
    assert "leave `as_of:` out to use the engine's current date" in text
    assert "segc.yml:4:" in text  # the as_of line (name, base, key, as_of)


def test_empty_rolling_period_warns(tmp_path):
    root = write_project(tmp_path / "p", CONFIG, "segment a = count(orders during last 0 days) > 0\n"
                                                 "segment b = last_seen within next 0 weeks\n"
                                                 "segment c = last_seen within last 1 day\n")
    project = segc.load_project(root)
    assert [w.code for w in project.warnings] == ["W106", "W106"]
    text = render_text(project.warnings)
    assert "`last 0 days` holds no time at all" in text and "main.seg:1:33" in text
    assert "`next 0 weeks` holds no time at all" in text and "write e.g. `next 1 week`" in text
