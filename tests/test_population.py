"""The population at a date (DESIGN §8.2): the base's `time:` (who joined before the
as-of), and what `--as-of`, transitions, `check --data` and every dialect make of it.
The member-level cases are tests/conformance/base_time.yml (every executed engine)."""
from __future__ import annotations

import json

import duckdb
import pytest
from typer.testing import CliRunner

import segc
from segc.backend.dialects import DIALECTS
from segc.cli.main import app
from segc.front.errors import SegcError

CONFIG = """
name: pop
base: customers
key: id
as_of: 2024-07-01
sources:
  customers: {table: shop.customers, path: data/customers.parquet, time: joined}
  orders: {table: shop.orders, path: data/orders.parquet, key: id, time: ordered_at, columns: {amount: float}}
features:
  vip: {type: bool}
  joined: {type: date}
  spend: {type: float, from: orders, agg: sum, column: amount}
"""
SEGMENTS = """\
segment big = spend > 50
segmentation tier {
  high = spend > 50
  low = else
}
"""
# 1 joined long ago, 2 in March, 3 in June, 4 has no date (always there), 5 joins in August
CUSTOMERS = ("SELECT * FROM (VALUES (1::BIGINT, true, DATE '2020-01-01'), (2, false, DATE '2024-03-01'), "
             "(3, true, DATE '2024-06-01'), (4, false, NULL::DATE), (5, true, DATE '2024-08-01')) t(id, vip, joined)")
ORDERS = ("SELECT * FROM (VALUES (1::BIGINT, TIMESTAMP '2024-01-05', 100.0::DOUBLE), "
          "(3, TIMESTAMP '2024-06-10', 80.0), (5, TIMESTAMP '2024-08-02', 90.0)) t(id, ordered_at, amount)")


def _project(root, config=CONFIG, customers=CUSTOMERS, orders=ORDERS, segments=SEGMENTS):
    (root / "data").mkdir(parents=True)
    (root / "segments").mkdir()
    (root / "segc.yml").write_text(config)
    (root / "segments" / "s.seg").write_text(segments)
    con = duckdb.connect()
    con.execute(f"COPY ({customers}) TO '{root}/data/customers.parquet' (FORMAT parquet)")
    con.execute(f"COPY ({orders}) TO '{root}/data/orders.parquet' (FORMAT parquet)")
    return root


def test_as_of_moves_the_population(tmp_path):
    project = segc.load_project(_project(tmp_path / "p"))
    assert project.count(["big"]).population == 4  # 5 joins after 2024-07-01
    assert project.count(["big"], as_of="2024-05-01").population == 3  # 3 not yet
    assert project.count(["big"], as_of="2024-01-01").population == 2  # 1 and 4 (no date)
    assert project.count(["big"], as_of="2024-09-01").population == 5


def test_cli_count_as_of(tmp_path):
    root = _project(tmp_path / "p")
    out = CliRunner().invoke(app, ["count", "big", "-p", str(root), "--as-of", "2024-05-01", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["population"] == 3


def test_transitions_count_who_joins_as_not_in_population(tmp_path):
    project = segc.load_project(_project(tmp_path / "p"))
    t = project.transitions("tier", "2024-05-01", "2024-09-01")
    # 1 stays high; 2 and 4 stay low; 3 joined in June (high); 5 in August (high)
    assert t.counts == {("high", "high"): 1, ("low", "low"): 2, ("(not in population)", "high"): 2}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_compiles_the_base_time(tmp_path_factory, dialect):
    project = segc.load_project(_project(tmp_path_factory.mktemp("p")))
    pinned = project.compile_expression("vip", dialect=dialect)
    assert '"joined" IS NULL OR' in pinned.replace("`", '"').replace("[", '"').replace("]", '"')
    assert "2024-07-01" in pinned
    rolling = segc.load_project(_project(tmp_path_factory.mktemp("r"), config=CONFIG.replace(
        "as_of: 2024-07-01\n", ""))).compile_expression("vip", dialect=dialect)
    assert "2024-07-01" not in rolling and "joined" in rolling


def test_without_base_time_every_row_counts(tmp_path):
    config = CONFIG.replace(", time: joined}", "}")
    project = segc.load_project(_project(tmp_path / "p", config=config))
    assert project.count(["big"], as_of="2024-01-01").population == 5


def test_base_time_must_be_a_date(tmp_path):
    config = CONFIG.replace("joined: {type: date}", "joined: {type: int}")
    with pytest.raises(SegcError) as e:
        segc.load_project(_project(tmp_path / "p", config=config))
    assert any(d.code == "E301" and "time: joined" in d.message for d in e.value.diagnostics)


def test_check_data_finds_the_base_time_column(tmp_path):
    assert segc.load_project(_project(tmp_path / "ok")).check_data() == []
    config = CONFIG.replace("time: joined}", "time: joined_at}")
    diags = segc.load_project(_project(tmp_path / "p", config=config)).check_data()
    assert [d.code for d in diags] == ["E710"] and "source `customers` time" in diags[0].message


# ---------------------------------------------------------------- duplicate base keys

DUPLICATED = ("SELECT * FROM (VALUES (1::BIGINT, true, DATE '2020-01-01'), (2, false, DATE '2024-03-01'), "
              "(2, false, DATE '2024-03-01'), (3, true, DATE '2024-06-01'), (3, true, NULL::DATE), "
              "(3, true, DATE '2024-01-01'), (NULL, true, NULL), (NULL, true, NULL)) t(id, vip, joined)")


def test_check_data_reports_duplicate_keys_with_the_count_only(tmp_path):
    root = _project(tmp_path / "p", customers=DUPLICATED.replace("1::BIGINT", "1001::BIGINT"))
    diags = segc.load_project(root).check_data()
    assert [d.code for d in diags] == ["E715"]
    assert "has 3 rows whose key `id` another row has too" in diags[0].message  # 2 once, 3 twice; NULLs are not keys
    out = CliRunner().invoke(app, ["check", str(root), "--data"])
    assert out.exit_code == 1 and "E715" in out.output and "1001" not in out.output


@pytest.mark.parametrize("command", [
    ["count"], ["count", "big"], ["sample", "big"], ["overlap", "big", "tier.high"], ["profile", "big"],
    ["transitions", "tier", "--from", "2024-01-01", "--to", "2024-07-01"], ["report"],
])
def test_membership_commands_refuse_duplicate_keys(tmp_path, command):
    root = _project(tmp_path / "p", customers=DUPLICATED)
    out = CliRunner().invoke(app, [*command, "-p", str(root)])
    assert out.exit_code == 1, out.output
    assert "error[E715]: the population has" in out.output and "Traceback" not in out.output


def test_count_checks_the_population_at_its_as_of(tmp_path):
    project = segc.load_project(_project(tmp_path / "p", customers=DUPLICATED))
    with pytest.raises(SegcError) as e:
        project.count(["big"])
    assert "has 3 rows" in e.value.diagnostics[0].message  # the population at 2024-07-01: 2 and 3 twice
    with pytest.raises(SegcError) as e:
        project.count(["big"], as_of="2024-02-01")
    assert "has 1 row whose" in e.value.diagnostics[0].message  # only 3 twice then
    # a row without a key repeats none, but is no customer either: it was counted in the
    # population and then in neither `holdout` nor `not holdout`
    null_keys = CUSTOMERS.replace("(4, false, NULL::DATE)", "(4, false, NULL::DATE), (NULL, true, NULL), (NULL, true, NULL)")
    keyless = segc.load_project(_project(tmp_path / "u", customers=null_keys))
    with pytest.raises(SegcError) as e:
        keyless.count(["big"])
    d, = e.value.diagnostics
    assert d.code == "E715" and "has 2 rows without a key `id`" in d.message and d.hints
    assert [d.code for d in keyless.check_data()] == ["E715"]
    with pytest.raises(SegcError) as e:
        keyless.feature_matrix(["spend"])
    assert "without a key" in e.value.diagnostics[0].message


def test_feature_matrix_refuses_duplicate_keys(tmp_path):
    project = segc.load_project(_project(tmp_path / "p", customers=DUPLICATED))
    with pytest.raises(SegcError) as e:
        project.feature_matrix(["spend"])
    assert e.value.diagnostics[0].code == "E715"


# ---------------------------------------------------------------- NaN in float columns

def test_check_data_warns_of_nan_per_column_with_the_count(tmp_path):
    config = CONFIG.replace("  vip: {type: bool}\n", "  vip: {type: bool}\n  ltv: {type: float}\n")
    customers = ("SELECT * FROM (VALUES (1::BIGINT, true, DATE '2020-01-01', 'NaN'::DOUBLE), "
                 "(2, false, NULL::DATE, 'NaN'::DOUBLE), (3, false, NULL::DATE, 'inf'::DOUBLE), "
                 "(4, false, NULL::DATE, 1.5::DOUBLE)) t(id, vip, joined, ltv)")
    orders = ORDERS.replace("80.0)", "'NaN'::DOUBLE)")
    diags = segc.load_project(_project(tmp_path / "p", config=config, customers=customers, orders=orders)).check_data()
    assert [(d.code, d.severity) for d in diags] == [("W716", "warning"), ("W716", "warning")]
    assert "feature `ltv` has 2 NaN values (not a number), which segc reads as missing" in diags[0].message
    assert "column `amount` of source `orders` has 1 NaN values" in diags[1].message
    out = CliRunner().invoke(app, ["check", str(tmp_path / "p"), "--data"])
    assert out.exit_code == 0 and "W716" in out.output  # a warning: the data still runs


# ---------------------------------------------------------------- quantile scores decided by a tie

TIES = """\
segment tied = quantile_score(spend, 5) >= 1
segment ranked = quantile_score(spend, 5) >= 5
"""


def test_check_data_warns_when_a_tie_decides_a_quantile_comparison(tmp_path):
    # 1 and 3 bought (100, 80), 2 and 4 have no orders: spend 0 for half the population;
    # the tied value's holders all score ceil(5 * 2/4) = 3
    project = segc.load_project(_project(tmp_path / "p", segments=TIES))
    diags = project.check_data()
    assert [(d.code, d.severity) for d in diags] == [("W717", "warning")]
    message = diags[0].message
    assert "`tied`" in message and "`ranked`" not in message  # 3 >= 1 holds; 3 >= 5 does not
    assert "holds 50% of the population's values, more than 1/5; all of them score 3" in message
    out = CliRunner().invoke(app, ["check", str(tmp_path / "p"), "--data"])
    assert out.exit_code == 0 and "warning[W717]" in out.output


def test_no_tie_warning_below_one_in_n(tmp_path):
    project = segc.load_project(_project(tmp_path / "p", segments=TIES.replace("spend, 5", "spend, 2")))
    assert project.check_data() == []  # 2 of 4 = 1/2: not more than 1/n


def test_the_example_rfm_is_not_decided_by_a_tie():
    from tests.conftest import EXAMPLE

    assert [d for d in segc.load_project(EXAMPLE).check_data() if d.code == "W717"] == []
