"""`segc check --data`, DuckDB database files as sources, and engine errors that do not
leak data values."""
from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

import segc
from segc.cli.main import app

CONFIG = """
name: data
base: customers
key: id
as_of: 2024-07-01
sources:
  customers: {table: shop.customers, path: data/customers.parquet}
  orders: {table: shop.orders, path: data/orders.parquet, key: id, time: at, columns: {amount: float, channel: string}}
features:
  age: {type: int}
  country: {type: string, values: [FR, BE], nullable: false}
  vip: {type: bool}
  spend: {type: float, from: orders, agg: sum, column: amount}
"""


def _project(root, customers_sql, orders_sql, config=CONFIG, segments="segment a = age > 30\n"):
    (root / "data").mkdir(parents=True)
    (root / "segments").mkdir()
    (root / "segc.yml").write_text(config)
    (root / "segments" / "s.seg").write_text(segments)
    con = duckdb.connect()
    con.execute(f"COPY ({customers_sql}) TO '{root}/data/customers.parquet' (FORMAT parquet)")
    con.execute(f"COPY ({orders_sql}) TO '{root}/data/orders.parquet' (FORMAT parquet)")
    return root


GOOD_CUSTOMERS = "SELECT 1::BIGINT AS id, 40 AS age, 'FR' AS country, true AS vip"
GOOD_ORDERS = "SELECT 1::BIGINT AS id, TIMESTAMP '2024-01-01' AS at, 10.0::DOUBLE AS amount, 'web' AS channel"


def test_matching_data_passes(tmp_path):
    root = _project(tmp_path / "p", GOOD_CUSTOMERS, GOOD_ORDERS)
    assert segc.load_project(root).check_data() == []
    out = CliRunner().invoke(app, ["check", str(root), "--data"])
    assert out.exit_code == 0, out.output


def test_mismatches_are_reported_together(tmp_path):
    customers = ("SELECT * FROM (VALUES (1::BIGINT, 'forty', 'FR', true), (2, NULL, NULL, false), "
                 "(3, '3', 'XX', NULL)) t(id, age, country, vip)")
    orders = "SELECT 1::BIGINT AS id, '2024-01-01' AS at, 10.0::DOUBLE AS amount"  # no channel, time as text
    root = _project(tmp_path / "p", customers, orders)
    diags = segc.load_project(root).check_data()
    codes = sorted(d.code for d in diags)
    assert codes == ["E710", "E711", "E711", "E712", "E713"], [str(d.message) for d in diags]
    text = "\n".join(f"{d.location} {d.message}" for d in diags)
    assert "feature `age`: column `age` of data/customers.parquet is VARCHAR, not int" in text
    assert "missing in 1 rows" in text and "1 rows with a value outside" in text
    assert "column `channel` not found in data/orders.parquet" in text
    assert "forty" not in text and "XX" not in text  # no data values in messages
    assert all(d.span is not None for d in diags)  # each points into segc.yml
    out = CliRunner().invoke(app, ["check", str(root), "--data"])
    assert out.exit_code == 1 and "segc.yml:" in out.output and "Traceback" not in out.output


def test_duckdb_database_file_is_read_only_source(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE SCHEMA shop")
    con.execute("CREATE TABLE shop.customers AS SELECT range::BIGINT AS id, (range % 50)::INTEGER AS age, "
                "'FR' AS country, range % 2 = 0 AS vip FROM range(100)")
    con.execute("CREATE TABLE shop.orders AS SELECT (range % 10)::BIGINT AS id, TIMESTAMP '2024-01-01' AS at, "
                "1.0::DOUBLE AS amount, 'web' AS channel FROM range(30)")
    con.close()
    before = db.read_bytes()
    config = CONFIG.replace("data/customers.parquet", "warehouse.duckdb").replace("data/orders.parquet", "warehouse.duckdb")
    root = tmp_path
    (root / "segc.yml").write_text(config)
    (root / "segments").mkdir()
    (root / "segments" / "s.seg").write_text("segment a = age > 30\nsegment b = spend >= 3\n")
    p = segc.load_project(root)
    counts = {s.name: s.count for s in p.count().segments}
    assert counts == {"a": sum(1 for i in range(100) if i % 50 > 30), "b": 10}
    assert p.check_data() == []
    assert db.read_bytes() == before  # segc never modifies user data


def test_query_errors_do_not_leak_values(tmp_path):
    customers = "SELECT 1::BIGINT AS id, 'secret-value' AS age, 'FR' AS country, true AS vip"
    root = _project(tmp_path / "p", customers, GOOD_ORDERS)
    with pytest.raises(segc.SegcError) as e:
        segc.load_project(root).count()
    assert "secret-value" not in str(e.value) and "E705" in str(e.value)


@pytest.mark.parametrize("orders_key, refused", [
    ("'A1'", "VARCHAR"), ("true", "BOOLEAN"), ("1::INTEGER", None), ("1.0::DOUBLE", None)])
def test_an_event_source_key_of_another_type_than_the_base_key(tmp_path, orders_key, refused):
    orders = GOOD_ORDERS.replace("1::BIGINT AS id", f"{orders_key} AS id")
    root = _project(tmp_path / "p", GOOD_CUSTOMERS, orders)
    diags = segc.load_project(root).check_data()
    if refused is None:  # numbers of any width join
        assert diags == []
        return
    assert [(d.code, d.message) for d in diags] == [
        ("E711", f"source `orders`: key column `id` of data/orders.parquet is {refused}, "
                 "and the base key `id` of data/customers.parquet is BIGINT")]
    assert diags[0].span.text() == "key"  # at the source's `key:`
    assert "A1" not in diags[0].message + "".join(diags[0].hints)
    out = CliRunner().invoke(app, ["check", str(root), "--data"])
    assert out.exit_code == 1 and "E711" in out.output and "Traceback" not in out.output
