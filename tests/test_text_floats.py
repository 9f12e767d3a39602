"""The text outputs print the same figures on every engine: a float mean or sum differs in
its last bits with the order the engine adds the rows (DuckDB's FSUM; PostgreSQL in its plan's
order), and customer 60's `basket_avg` of exactly 71.785 printed 71.78 on DuckDB and 71.79 on
PostgreSQL (71.78500000000001) in `segc sample at_risk` (s12C F4). Text outputs round floats
to 12 significant digits first (outputs.steady); JSON and CSV keep every digit.
"""
from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

import segc
from segc.apps.lift_out import table_rows
from segc.apps.outputs import steady
from segc.cli.main import app
from segc.cli.printers.preview import print_sample
from tests.conftest import EXAMPLE
from tests.test_engines_parity import postgres_copy


@pytest.mark.parametrize("a, b, shown", [(71.785, 71.78500000000001, "71.78"), (0.125, 0.12500000000000003, "0.12"),
                                         (2.675, 2.6750000000000003, "2.67"), (-1.005, -1.0050000000000001, "-1.00")])
def test_neighbouring_floats_print_alike(a, b, shown):
    assert f"{steady(a):.2f}" == f"{steady(b):.2f}" == shown


@pytest.mark.parametrize("v", [None, 0.0, -0.0, float("nan"), float("inf"), 3, "x", 1e-300, 1.5e308])
def test_anything_else_is_kept(v):
    out = steady(v)
    assert out is v or out == v


def test_sample_text_of_neighbouring_floats(capsys):
    def sample(v):
        result = SimpleNamespace(columns=["customer_id", "basket_avg"],
                                 to_csv=lambda: [["customer_id", "basket_avg"], [60, v]])
        print_sample(result, "text", title="t")
        return capsys.readouterr().out

    assert sample(71.785) == sample(71.78500000000001)
    assert "71.78" in sample(71.78500000000001)


def test_lift_cells_of_neighbouring_floats():
    def cells(v):
        metric = {"kind": "mean", "n_target": 2, "n_control": 2, "target": v, "control": v, "difference": v,
                  "ci_low": v, "ci_high": v, "relative": 0.1, "relative_low": 0.0, "relative_high": 0.2,
                  "p_value": 0.5}
        return table_rows({"metrics": {"m": metric}})

    assert cells(71.785) == cells(71.78500000000001)


@pytest.fixture(scope="module")
def dsn(pg_dsn):
    return postgres_copy(pg_dsn, f"segc_text_floats_{os.getpid()}", segc.load_project(EXAMPLE))


@pytest.mark.parametrize("args", [["sample", "at_risk"], ["profile", "loyal_big_basket"],
                                  ["lift", "spring_loyalty"], ["report"]])
def test_text_is_the_same_on_duckdb_and_postgres(dsn, args):
    runner = CliRunner()
    env = {"COLUMNS": "200"}
    duck = runner.invoke(app, [*args, "-p", str(EXAMPLE)], env=env)
    pg = runner.invoke(app, [*args, "-p", str(EXAMPLE), "--engine", "postgres", "--dsn", dsn], env=env)
    assert duck.exit_code == pg.exit_code == 0, (duck.output, pg.output)
    assert pg.stdout == duck.stdout
