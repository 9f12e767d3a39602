"""Sums and means of float values do not depend on the order DuckDB adds them.

DuckDB adds a group's doubles in whatever order its threads meet the rows, so SUM/AVG of
a DOUBLE column differed in the last bits between two runs of the same query, and a
customer whose mean sits at a threshold was counted or not by chance (220,521 then
220,520 members of `basket_avg > 80` at 1M customers). segc sums floats with DuckDB's
compensated FSUM (rewrites.py). The test stores the same rows in two orders — a table
is read in its stored order by one thread, so plain SUM gives different bits — and
requires the same features, bit for bit, and the same members."""
from __future__ import annotations

import math

import duckdb
import pytest

import segc
from tests.conftest import write_project

# 0.1 + 0.2 + 0.3 is 0.6000000000000001 in this order and 0.6 in the reverse one
AMOUNTS = {1: [0.1, 0.2, 0.3], 2: [0.7, 0.1, 0.1, 0.1], 3: [1e16, 1.0, -1e16, 0.5], 4: [80.1, 79.9, 80.0]}


def project_with_orders(folder, order: int):
    con = duckdb.connect()
    con.execute("CREATE TABLE c (customer_id BIGINT)")
    con.execute("INSERT INTO c VALUES (1), (2), (3), (4)")
    con.execute("CREATE TABLE o (customer_id BIGINT, amount DOUBLE, ordered_at TIMESTAMP)")
    for key, values in AMOUNTS.items():
        for v in values[::order]:
            con.execute("INSERT INTO o VALUES (?, ?, TIMESTAMP '2024-01-01')", [key, v])
    (folder / "p" / "data").mkdir(parents=True)
    for name in ("c", "o"):
        con.execute(f"COPY {name} TO '{folder / 'p' / 'data' / name}.parquet' (FORMAT parquet)")
    config = {
        "name": "floats", "base": "customers", "key": "customer_id", "as_of": "2024-07-01", "dialect": "duckdb",
        "sources": {"customers": {"table": "customers", "path": "data/c.parquet"},
                    "orders": {"table": "orders", "path": "data/o.parquet", "key": "customer_id",
                               "time": "ordered_at", "columns": {"amount": "float"}}},
        "features": {"total": {"type": "float", "from": "orders", "agg": "sum", "column": "amount"},
                     "mean": {"type": "float", "from": "orders", "agg": "avg", "column": "amount"}},
    }
    return segc.load_project(write_project(folder / "p", config, "segment over = total > 0.6\nsegment mean80 = mean >= 80\n"))


def features(project) -> list[tuple]:
    """Each customer's total and mean as segc computes them: the features CTE of a compiled
    query, selected instead of the segment's keys."""
    sql = project.compile_expression("total > -1 and mean > -1", dialect="duckdb", pretty=False)
    ctes = sql[:sql.rindex("SELECT")]
    return project.engine.execute(ctes + 'SELECT "segc_key", "total", "mean" FROM "segc_features" ORDER BY 1')


def test_float_sums_are_the_same_whatever_the_row_order(tmp_path):
    forward, backward = (project_with_orders(tmp_path / name, order) for name, order in (("f", 1), ("b", -1)))
    a, b = features(forward), features(backward)
    assert a == b  # bit for bit: Python compares the doubles exactly
    for key, total, mean in a:
        assert total == math.fsum(AMOUNTS[key])  # the correctly rounded sum in these cases
        assert mean == total / len(AMOUNTS[key])
    assert forward.count(["over", "mean80"]) == backward.count(["over", "mean80"])


def test_plain_sums_would_differ_on_these_rows():
    """The rows above do tell the two orders apart: without FSUM the test could not fail."""
    sums = [sum(v) for v in AMOUNTS.values()], [sum(v[::-1]) for v in AMOUNTS.values()]
    assert sums[0] != sums[1]


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark"])
def test_only_duckdb_uses_fsum_and_only_for_floats(tmp_path, dialect):
    project = project_with_orders(tmp_path / "p", 1)
    sql = project.compile_expression("total > 1 and mean > 1", dialect=dialect, pretty=False)
    assert ("FSUM(" in sql) == (dialect == "duckdb")
    counted = project.compile_expression("count(orders) > 1", dialect=dialect, pretty=False)
    assert "FSUM(" not in counted
