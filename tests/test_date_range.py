"""Dates out of the supported range (issue 15): `--as-of 0001-01-01`, `within 9999-12-31
to 9999-12-31`, `within last 999999 days`, `today - 3000 years` were OverflowError and
ValueError tracebacks after `check` said ok. Now `check` refuses them (E309, with the
supported range as a hint), and an as-of outside the range is E009 on every command;
and `table:` names of more than three parts, or with an empty part, are refused."""
from __future__ import annotations

import datetime as dt
import shutil

import pytest
import yaml
from typer.testing import CliRunner

import segc
from segc import ir
from segc.backend.dialects import DIALECTS
from segc.cli.main import app
from tests.conftest import EXAMPLE, drop_experiments

runner = CliRunner()

OUT_OF_RANGE = [
    "signup_date within 9999-12-31 to 9999-12-31",
    "signup_date within last 999999 days",
    "signup_date within next 999999 weeks",
    "signup_date > today - 3000 years",
    "signup_date > today - 600 years - 600 years",
    "signup_date > 0001-01-01 - 1 day",
    "signup_date > 9999-12-31 + 1 month",
    "signup_date > 2024-01-01T10:00:00 + 8000 years",
]
IN_RANGE = [
    "signup_date within 0001-01-01 to 9999-12-30",
    "signup_date > today - 899 years",
    "signup_date within last 328000 days",
    "signup_date > 9999-11-30 + 1 month",
]


@pytest.fixture
def project_dir(tmp_path):
    folder = tmp_path / "retail"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("segments", "tests", "models"))
    drop_experiments(folder)
    (folder / "segments").mkdir()
    (folder / "segments" / "s.seg").write_text("segment s = signup_date within this month\n", encoding="utf-8")
    return folder


def cli(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.parametrize("text", OUT_OF_RANGE)
def test_check_refuses_dates_out_of_range(text, project_dir):
    (project_dir / "segments" / "s.seg").write_text(f"segment s = {text}\n", encoding="utf-8")
    result = cli("check", project_dir)
    assert result.exit_code == 1 and "E309" in result.output and "s.seg:1:" in result.output, result.output
    assert "9999-12-31" in result.output  # the hint gives the range
    result = cli("compile", "-e", text, "-p", project_dir)
    assert result.exit_code == 1 and "E309" in result.output


@pytest.mark.parametrize("text", IN_RANGE)
def test_dates_within_range_compile_on_every_dialect(text, project_dir):
    project = segc.load_project(project_dir)
    for as_of in (ir.AS_OF_RANGE[0], ir.AS_OF_RANGE[1], None, "today"):
        for dialect in DIALECTS:
            try:
                project.compile_expression(text, dialect=dialect, as_of=as_of)
            except segc.SegcError as e:  # SQLite cannot shift a rolling date by months
                assert [d.code for d in e.diagnostics] == ["E602"] and dialect == "sqlite" and as_of == "today"


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31", "0999-12-31", "9000-01-01"])
def test_an_as_of_out_of_range_is_a_diagnostic_on_every_command(as_of, project_dir, tmp_path):
    for args in (["count", "-p", project_dir], ["compile", "s", "-p", project_dir],
                 ["sample", "s", "-p", project_dir], ["profile", "s", "-p", project_dir],
                 ["report", "-p", project_dir], ["overlap", "-p", project_dir],
                 ["build", "-p", project_dir, "--out", tmp_path / "out"]):
        result = cli(*args, "--as-of", as_of)
        assert result.exit_code == 1 and "E009" in result.output, (args, result.output)
    project = segc.load_project(project_dir)
    with pytest.raises(segc.SegcError):
        project.compile("s", as_of=dt.date.fromisoformat(as_of))


def test_the_bounds_of_the_as_of_range_work(project_dir):
    for as_of in ir.AS_OF_RANGE:
        result = cli("compile", "s", "-p", project_dir, "--as-of", as_of.isoformat())
        assert result.exit_code == 0, result.output


def edit_config(folder, change) -> None:
    path = folder / "segc.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def test_as_of_in_segc_yml(project_dir):
    edit_config(project_dir, lambda c: c.update(as_of=dt.date(1, 1, 1)))
    result = cli("check", project_dir)
    assert result.exit_code == 1 and "E309" in result.output and "segc.yml:" in result.output


def test_a_feature_window_out_of_range(project_dir):
    edit_config(project_dir, lambda c: c["features"]["purchases_90d"].update(window="999999 days"))
    result = cli("check", project_dir)
    assert result.exit_code == 1 and "E309" in result.output and "segc.yml:" in result.output


def test_report_periods_that_leave_the_range(project_dir):
    result = cli("report", "-p", project_dir, "--period", "800 years", "--periods", "3", "--format", "json")
    assert result.exit_code == 1 and "E946" in result.output, result.output


@pytest.mark.parametrize("table,what", [("a.b.c.d", "4 parts"), ("a..b", "empty part"), (".b", "empty part"),
                                         ("a.b.", "empty part")])
def test_table_names(table, what, project_dir):
    """`a.b.c.d` silently dropped `a`: every dialect names a table with at most 3 parts."""
    edit_config(project_dir, lambda c: c["sources"]["orders"].update(table=table))
    result = cli("check", project_dir)
    assert result.exit_code == 1 and "E005" in result.output and what in result.output, result.output
    line = next(i for i, text in enumerate((project_dir / "segc.yml").read_text().splitlines(), 1)
                if "table:" in text and table in text)
    assert f"segc.yml:{line}:" in result.output


def test_three_part_table_names_still_work(project_dir):
    edit_config(project_dir, lambda c: c["sources"]["orders"].update(table="cat.shop.orders"))
    result = cli("compile", "-e", "count(orders) > 1", "-p", project_dir)
    assert result.exit_code == 0 and '"cat"."shop"."orders"' in result.output


def test_transitions_dates_out_of_range():
    for dates in (("0001-01-01", "2024-01-01"), ("2024-01-01", "9999-12-31")):
        result = cli("transitions", "value_tier", "-p", EXAMPLE, "--from", dates[0], "--to", dates[1])
        assert result.exit_code == 1 and "E009" in result.output, result.output
