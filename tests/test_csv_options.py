"""`path:` CSV options (`delimiter`, `header`, `dateformat`, `timestampformat`) are passed
to DuckDB's read_csv (as sqlglot trees), and a CSV whose dates DuckDB cannot read is E707
naming the file, the column (and the line), with a hint — never a raw Binder or
Conversion Error, never the value."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from tests.conftest import ROOT

DOC = ROOT / "docs" / "language.md"
SECRET = "Jane Doe 1999"


def _project(folder: Path, csv: str, options: dict | None = None, features: dict | None = None,
             segments: str = "segment recent = signup_date >= 2024-01-01\n") -> Path:
    (folder / "data").mkdir(parents=True)
    (folder / "segments").mkdir()
    source = {"table": "shop.customers", "path": "data/customers.csv", **(options or {})}
    config = {"name": "csv", "entity": "customer", "base": "customers", "key": "customer_id",
              "as_of": "2024-07-01", "min_size": 1, "sources": {"customers": source},
              "features": features or {"signup_date": {"type": "date"}, "score": {"type": "int"}}}
    (folder / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    (folder / "data" / "customers.csv").write_text(csv)
    (folder / "segments" / "main.seg").write_text(segments)
    return folder


def _counts(root: Path) -> dict[str, int]:
    return {s.name: s.count for s in segc.load_project(root).count().segments}


def _run(*args: str):
    result = CliRunner().invoke(app, list(args))
    out = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), out
    assert "Traceback" not in out and "Binder Error" not in out and "Conversion Error" not in out, out
    return result, out


MONTH_NAMES = "customer_id;signup_date;score\n1;Dec 31 2023;5\n2;Jan 15 2024;7\n3;Mar 02 2024;1\n"


def test_delimiter_and_dateformat_read_the_file(tmp_path):
    root = _project(tmp_path / "p", MONTH_NAMES, {"delimiter": ";", "dateformat": "%b %d %Y"})
    assert _counts(root) == {"recent": 2}
    view = segc.load_project(root).duckdb().execute(
        "SELECT sql FROM duckdb_views() WHERE view_name = 'customers'").fetchone()[0]
    assert "delim = ';'" in view and "dateformat = '%b %d %Y'" in view


def test_header_is_passed(tmp_path):
    root = _project(tmp_path / "p", "customer_id,signup_date,score\n1,2024-03-01,5\n", {"header": True})
    view = segc.load_project(root).duckdb().execute(
        "SELECT sql FROM duckdb_views() WHERE view_name = 'customers'").fetchone()[0]
    assert '"header" = true' in view.lower()


@pytest.mark.parametrize("options", [{"delimiter": ";"}, {"delimiter": ";", "dateformat": "%d.%m.%Y"}])
def test_dates_duckdb_cannot_read_are_E707(tmp_path, options):
    root = _project(tmp_path / "p", MONTH_NAMES, options)
    for command in (["count"], ["sample", "recent"], ["profile", "recent"]):
        result, out = _run(*command, "-p", str(root))
        assert result.exit_code == 1, out
        assert "error[E707]" in out and "column `signup_date` of data/customers.csv" in out, out
        assert "set `dateformat:` on source `customers`" in out
        assert "Dec 31 2023" not in out and "Jan 15" not in out
    # the column is read as segc.yml declares it (a date): its first value that is none is E707 at its line
    result, out = _run("check", "--data", "-p", str(root))
    assert "E707" in out and "line 2" in out and "set `dateformat:`" in out, out


def test_a_late_value_that_does_not_convert_is_E707_with_its_line(tmp_path):
    rows = "".join(f"{i},2024-01-{i % 28 + 1:02d},{i % 10}\n" for i in range(1, 25001))
    root = _project(tmp_path / "p", "customer_id,signup_date,score\n" + rows + f"25001,{SECRET},1\n")
    result, out = _run("count", "-p", str(root))
    assert result.exit_code == 1
    assert "error[E707]: column `signup_date` of data/customers.csv (source `customers`): line 25002" in out, out
    assert "set `dateformat:`" in out and SECRET not in out and "1999" not in out
    # check --data reads every CSV to its end: the sniffer's sample said DATE
    result, out = _run("check", "--data", "-p", str(root))
    assert result.exit_code == 1 and "error[E707]" in out and "line 25002" in out and SECRET not in out, out


def test_a_late_number_that_does_not_convert_is_E707(tmp_path):
    rows = "".join(f"{i},2024-01-01,{i % 10}\n" for i in range(1, 25001))
    root = _project(tmp_path / "p", "customer_id,signup_date,score\n" + rows + f"25001,2024-01-01,{SECRET}\n",
                    segments="segment high = score > 5\n")
    result, out = _run("count", "-p", str(root))
    assert result.exit_code == 1
    assert "error[E707]: column `score` of data/customers.csv" in out and "line 25002" in out, out
    assert SECRET not in out and "dateformat" not in out


def test_timestampformat_for_an_event_time(tmp_path):
    root = _project(tmp_path / "p", "customer_id,signup_date,score\n1,2024-01-01,1\n2,2024-01-01,2\n",
                    features={"score": {"type": "int"},
                              "orders_30d": {"type": "int", "from": "orders", "agg": "count", "window": "30 days"}},
                    segments="segment buyer = orders_30d >= 1\n")
    (root / "data" / "orders.csv").write_text("customer_id|at\n1|15/06/2024 10:00\n2|15/01/2024 10:00\n")
    config = yaml.safe_load((root / "segc.yml").read_text())
    config["sources"]["orders"] = {"table": "shop.orders", "path": "data/orders.csv", "key": "customer_id",
                                   "time": "at", "delimiter": "|"}
    (root / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    result, out = _run("count", "-p", str(root))
    assert "error[E707]" in out and "column `at` of data/orders.csv" in out and "timestampformat" in out, out
    config["sources"]["orders"]["timestampformat"] = "%d/%m/%Y %H:%M"
    (root / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    assert _counts(root) == {"buyer": 1}


def test_an_option_is_a_literal_not_sql(tmp_path):
    """A quote in a format cannot end the string: it is a sqlglot literal, not spliced text."""
    root = _project(tmp_path / "p", MONTH_NAMES, {"delimiter": ";", "dateformat": "%b %d %Y'); DROP VIEW x; --"})
    result, out = _run("count", "-p", str(root))
    assert "error[E707]" in out, out


@pytest.mark.parametrize("options, message", [
    ({"delimiter": ";;"}, "must be one character"),
    ({"dateformat": "dd.mm.yyyy"}, "is not a format"),
    ({"header": "yes please"}, "header"),
])
def test_bad_options_are_E005_or_E004(tmp_path, options, message):
    root = _project(tmp_path / "p", MONTH_NAMES, options)
    result, out = _run("check", "-p", str(root))
    assert result.exit_code == 1 and message in out and re.search(r"error\[E00[45]\]", out), out


def test_an_option_on_a_parquet_source_is_E005(tmp_path):
    root = _project(tmp_path / "p", MONTH_NAMES, {"dateformat": "%d"})
    config = yaml.safe_load((root / "segc.yml").read_text())
    config["sources"]["customers"]["path"] = "data/customers.parquet"
    (root / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    result, out = _run("check", "-p", str(root))
    assert result.exit_code == 1 and "error[E005]" in out and "applies to a CSV file" in out, out


def test_the_documented_example_loads(tmp_path):
    """docs/language.md's CSV example is a valid source."""
    block = re.search(r"\*\*CSV files\.\*\*.*?```yaml\n(.*?)```", DOC.read_text(), re.S).group(1)
    sources = yaml.safe_load(block)["sources"]
    root = _project(tmp_path / "p", "customer_id;signup_date;score\n1;31.12.2023;5\n2;15.01.2024;7\n",
                    {k: v for k, v in sources["customers"].items() if k not in ("table", "path")})
    assert _counts(root) == {"recent": 1}


@pytest.mark.parametrize("rows, expected", [
    ("".join(f"{i},,{i % 10}\n" for i in range(1, 4)), ("1", "0")),  # a date column empty in every line
    ("".join(f"{i},{'' if i <= 25000 else '2024-01-02'},{'' if i <= 25000 else 3}\n" for i in range(1, 25011)),
     ("10", "10")),
], ids=["all-empty", "empty-in-the-sample"])
def test_a_column_empty_where_duckdb_samples_is_read_as_declared(tmp_path, rows, expected):
    """The sniffer reads such a column as text; every comparison with it then failed (E705
    Binder Error, or E707 asking for a dateformat that could not help)."""
    root = _project(tmp_path / "p", "customer_id,signup_date,score\n" + rows,
                    segments="segment high = score > 2\nsegment late = signup_date > 2024-01-01\n")
    result, out = _run("count", "-p", str(root), "--format", "csv")
    assert result.exit_code == 0, out
    counts = dict(line.split(",")[:2] for line in result.stdout.strip().splitlines()[1:])
    assert (counts["high"], counts["late"]) == expected, out
