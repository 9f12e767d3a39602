"""Mistakes with time, windows and aggregates end as clear diagnostics: a `segc.SegcError`
carrying a stable code, a `file:line:col` location in the rendered text, the message and
a useful hint — in segc.yml and in .seg files alike, and never a traceback.

Plus the one thing a dialect cannot do: SQLite has no month-end-clamping date arithmetic,
so rolling month/year windows (no pinned as-of) are E602 there, while the same segments
with a pinned as-of compile and run.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from segc.front.errors import SegcError, render_text
from tests.conftest import table_columns
from tests.engines import open_engine

CONFIG = {
    "name": "time_errors",
    "base": "customers",
    "key": "customer_id",
    "as_of": "2024-03-31",
    "sources": {
        "customers": {"table": "customers"},
        "orders": {"table": "orders", "key": "customer_id", "time": "ordered_at",
                   "columns": {"amount": "float", "category": "string"}},
        "visits": {"table": "visits", "key": "customer_id", "columns": {"page": "string"}},  # no time:
    },
    "features": {
        "signup": {"type": "date"},
        "last_seen": {"type": "timestamp"},
        "age": {"type": "int"},
        "orders_30d": {"type": "int", "from": "orders", "agg": "count", "window": "30 days"},
        "orders_1m": {"type": "int", "from": "orders", "agg": "count", "window": "1 month"},
    },
}


def _config(**features) -> dict:
    out = copy.deepcopy(CONFIG)
    out["features"].update(features)
    return out


def _error(root: Path, expr: str | None = None, **compile_args) -> tuple[SegcError, str]:
    with pytest.raises(SegcError) as info:
        project = segc.load_project(root)
        if expr is not None:
            project.compile_expression(expr, **compile_args)
    return info.value, render_text(info.value.diagnostics)


def _at(root: Path, file: str, needle: str, offset: int = 0, after: str = "") -> str:
    """`file:line:col` of the first occurrence of `needle` after `after` (plus `offset` columns)."""
    text = (root / file).read_text(encoding="utf-8")
    index = text.index(needle, text.index(after))
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1 + offset
    return f"{file}:{line}:{col}"


def _check(err: SegcError, text: str, code: str, location: str | None, *fragments: str) -> None:
    assert [d.code for d in err.diagnostics if d.is_error] == [code], text
    if location is not None:
        assert re.search(r"--> (\S*/)?" + re.escape(location) + r"\n", text), f"{location} not in:\n{text}"
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in:\n{text}"
    assert "Traceback" not in text


# ---- segc.yml ------------------------------------------------------------------------
# feature -> (declaration, code, needle locating the span in segc.yml, column offset, fragments)
YAML_CASES = {
    "window_without_from": (
        {"type": "int", "window": "30 days"}, "E005", "window: 30 days", 0,
        ["`window:` needs `from:`", "add `from: <source>` to feature `bad`"]),
    "where_without_from": (
        {"type": "int", "where": 'category = "shoes"'}, "E005", "where: ", 0,
        ["`where:` needs `from:`"]),
    "sum_of_string": (
        {"type": "float", "from": "orders", "agg": "sum", "column": "category"}, "E301", "agg: sum", 0,
        ["`sum` needs a numeric column; `category` is string"]),
    "avg_of_timestamp": (
        {"type": "float", "from": "orders", "agg": "avg", "column": "ordered_at"}, "E301", "agg: avg", 0,
        ["`avg` needs a numeric column; `ordered_at` is timestamp"]),
    "where_unknown_column": (
        {"type": "int", "from": "orders", "agg": "count", "where": 'categry = "shoes"'}, "E202",
        "categry", 0, ["source `orders` has no column `categry`", "did you mean `category`?"]),
    "window_on_source_without_time": (
        {"type": "int", "from": "visits", "agg": "count", "window": "30 days"}, "E005", "window: 30 days", 0,
        ["a window needs a time column, and source `visits` declares no `time:`",
         "add `time: <column>` to source `visits`"]),
    "window_typo": (
        {"type": "int", "from": "orders", "agg": "count", "window": "90 dayz"}, "E004", "90 dayz", 0,
        ["`features.bad.window`", "a window is a duration such as `90 days`"]),
    "window_without_amount": (
        {"type": "int", "from": "orders", "agg": "count", "window": "month"}, "E004", "window: month", 8,
        ["a window is a duration"]),
    "aggregate_type_mismatch": (
        {"type": "string", "from": "orders", "agg": "count"}, "E307", "bad:", 0,
        ["feature `bad` is declared string but `count` gives int", "declare `type: int`"]),
    "column_of_other_source": (
        {"type": "float", "from": "visits", "agg": "sum", "column": "amount"}, "E202", "column: amount", 0,
        ["source `visits` declares no column `amount`", "declare it under sources.visits.columns"]),
}


@pytest.mark.parametrize("case", list(YAML_CASES))
def test_segc_yml(case, make_project):
    feature, code, needle, offset, fragments = YAML_CASES[case]
    # the broken feature is used by no segment: segc.yml is checked as a whole
    root = make_project(_config(bad=feature), "segment ok = orders_30d > 0\n")
    err, text = _error(root)
    _check(err, text, code, _at(root, "segc.yml", needle, offset, after="  bad:"), *fragments)


def test_feature_errors_reported_once_however_often_used(make_project):
    root = make_project(_config(bad={"type": "int", "from": "orders", "agg": "count", "where": "amout > 3"}),
                        "segment a = bad > 0\nsegment b = bad > 1 and not a\nsegment c = bad = 0\n")
    err, text = _error(root)
    _check(err, text, "E202", _at(root, "segc.yml", "amout"), "did you mean `amount`?")
    root = make_project(_config(bad={"type": "date", "from": "orders", "agg": "max", "column": "amount"}),
                        "segment a = bad > 2024-01-01\nsegment b = bad is missing\n", name="typed")
    err, text = _error(root)
    _check(err, text, "E307", _at(root, "segc.yml", "bad:"), "declared date but `max` gives float")


# ---- .seg files ------------------------------------------------------------------------
# (segment text, code, needle locating the span in main.seg, fragments)
SEG_CASES = {
    "sum_of_string_inline": (
        "segment a = sum(orders.category) > 3\n", "E301", "sum(",
        ["`sum` needs a numeric column; `category` is string"]),
    "avg_of_string_inline": (
        "segment a = avg(orders.category where amount > 0 during last 30 days) > 3\n", "E301", "avg(",
        ["`avg` needs a numeric column"]),
    "where_unknown_column_inline": (
        'segment a = count(orders where categry = "shoes") > 0\n', "E202", "categry",
        ["source `orders` has no column `categry`", "did you mean `category`?"]),
    "where_names_a_feature": (
        "segment a = count(orders where signup > 2024-01-01) > 0\n", "E202", "signup",
        ["source `orders` has no column `signup`"]),
    "during_without_time": (
        "segment a = count(visits during last 30 days) > 0\n", "E210", "last 30 days",
        ["`during` needs a time column, and source `visits` declares no `time:`",
         "add `time: <column>` to source `visits`"]),
    "exists_of_a_column": (
        "segment a = exists(orders.amount)\n", "E304", "exists(",
        ["`exists` takes a source, not a column"]),
    "exists_as_a_value": (
        "segment a = exists(orders) > 0\n", "E302", "exists(",
        ["`exists(...)` is a condition, not a value"]),
    "count_as_a_condition": (
        "segment a = count(orders during last month)\n", "E302", "count(",
        ["is a number, not a condition", "use `exists(...)`"]),
    "unknown_source": (
        "segment a = count(order during last 30 days) > 0\n", "E209", "count(",
        ["`order` is not a source", "did you mean `orders`?"]),
    "duration_alone": (
        "segment a = age > 30 days\n", "E302", "30 days",
        ["a duration is only meaningful added to or subtracted from a date", "`d within last 30 days`"]),
    "duration_shifts_a_number": (
        "segment a = age + 30 days > 3\n", "E301", "age +",
        ["a duration can only shift a date; this is a whole number"]),
    "date_plus_date": (
        "segment a = signup + signup > 2024-01-01\n", "E301", "signup +",
        ["`+` does not apply to dates", "use `days_since(d)`"]),
    "date_minus_date": (
        "segment a = today - signup > 30\n", "E301", "today -",
        ["`-` does not apply to dates", "use `days_since(d)`"]),
    "date_minus_number": (
        "segment a = signup < today - 30\n", "E301", "today -",
        ["`-` does not apply to dates", "shift a date by a duration: `d + 30 days`"]),
    "within_on_a_number": (
        "segment a = age within last 30 days\n", "E301", "age within",
        ["`within` needs a date or timestamp; this is a whole number"]),
    "within_on_an_aggregate_count": (
        "segment a = orders_30d within this month\n", "E301", "orders_30d",
        ["`within` needs a date or timestamp"]),
    "last_day": (
        "segment a = signup within last day\n", "E306", "last day",
        ["`last day` is not a calendar period", "for days write e.g. `last 7 days`"]),
    "this_day_during": (
        "segment a = count(orders during this day) > 0\n", "E306", "this day",
        ["`this day` is not a calendar period"]),
    "last_months_plural": (
        "segment a = signup within last months\n", "E306", "last months",
        ["is not a calendar period"]),
    "window_typo_inline": (
        "segment a = count(orders during last 90 dayz) > 0\n", "E101", "dayz",
        ["unexpected `dayz`", "expected a unit (days, weeks, months, years)"]),
    "range_of_numbers": (
        "segment a = count(orders during 2024-01-01 to 5) > 0\n", "E301", "5)",
        ["a range needs dates; this is a whole number"]),
    "days_since_a_number": (
        "segment a = days_since(age) > 3\n", "E304", "age)",
        ["`days_since` needs a date or timestamp; this is a whole number"]),
    "year_of_a_string": (
        'segment a = year_of("2024") = 2024\n', "E304", '"2024"',
        ["`year_of` needs a date or timestamp; this is a string"]),
    "date_vs_number": (
        "segment a = days_since(signup) > 2024-01-01\n", "E301", "days_since(",
        ["cannot compare a whole number with a date"]),
}


@pytest.mark.parametrize("case", list(SEG_CASES))
def test_segments(case, make_project):
    seg, code, needle, fragments = SEG_CASES[case]
    root = make_project(CONFIG, seg)
    err, text = _error(root)
    _check(err, text, code, _at(root, "segments/main.seg", needle), *fragments)


def test_every_time_error_of_a_file_is_reported(make_project):
    seg = ("segment a = age within last 30 days\n"
           "segment b = count(visits during last 30 days) > 0\n"
           "segment c = signup + signup > 2024-01-01\n"
           "segment d = exists(orders.amount)\n"
           "segment e = signup within last day\n")
    # an expression of segc.yml is checked with the segments (a structural error of segc.yml,
    # such as `window:` without `from:`, stops the load before the segments are read)
    bad = {"type": "int", "from": "orders", "agg": "count", "where": "amout > 3", "window": "30 days"}
    root = make_project(_config(bad=bad), seg)
    err, text = _error(root)
    assert sorted(d.code for d in err.diagnostics) == ["E202", "E210", "E301", "E301", "E304", "E306"]
    for line in range(1, 6):
        assert f"segments/main.seg:{line}:" in text
    assert "segc.yml:" in text


def test_inline_expression_errors(make_project):
    """`compile_expression` reports like a file, located in `<expression>`."""
    root = make_project(CONFIG)
    err, text = _error(root, "sum(orders.category during last month) > 0", dialect="duckdb")
    _check(err, text, "E301", "<expression>:1:1", "`sum` needs a numeric column")
    err, text = _error(root, "count(orders where amout > 0) > 0", dialect="duckdb")
    _check(err, text, "E202", "<expression>:1:20", "did you mean `amount`?")


def test_cli_check_exits_1_with_location(make_project, monkeypatch):
    root = make_project(CONFIG, "segment a = count(orders during last 90 dayz) > 0\n")
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 1
    out = result.stdout + result.stderr
    assert "error[E101]" in out and "segments/main.seg:1:41" in out and "Traceback" not in out


# ---- SQLite: month arithmetic needs a pinned as-of -----------------------------------------

ROLLING_MONTHS = ["signup >= today - 1 month", "orders_1m > 0",
                  "count(orders during last 6 months) > 1", "last_seen < today - 1 year"]
# calendar periods start on the 1st, which exists in every month: exact on SQLite, rolling
ROLLING_CALENDAR = ["signup within last month", "signup within this month",
                    "exists(orders during last month)", "signup within this year"]


@pytest.mark.parametrize("expr", ROLLING_MONTHS)
def test_sqlite_rolling_months_is_e602(make_project, expr):
    project = segc.load_project(make_project(CONFIG), as_of="today")
    with pytest.raises(SegcError) as info:
        project.compile_expression(expr, dialect="sqlite")
    text = render_text(info.value.diagnostics)
    assert [d.code for d in info.value.diagnostics] == ["E602"], text
    assert "SQLite does not clamp month ends in rolling date arithmetic" in text
    assert "pin the as-of date (as_of: or --as-of)" in text
    # the other engines express it, rolling
    for dialect in ("duckdb", "postgres"):
        assert "CURRENT_DATE" in project.compile_expression(expr, dialect=dialect).upper()


def test_sqlite_rolling_days_compile(make_project):
    project = segc.load_project(make_project(CONFIG), as_of="today")
    for expr in ("orders_30d > 0", "signup within last 30 days", "days_since(last_seen) > 7",
                 "exists(orders during last 2 weeks)", "signup >= today - 3 weeks", *ROLLING_CALENDAR):
        assert "CURRENT_DATE" in project.compile_expression(expr, dialect="sqlite").upper()


def test_sqlite_pinned_months_run(make_project):
    """The E602 cases with a pinned as-of: bounds computed in Python, executed on SQLite."""
    project = segc.load_project(make_project(CONFIG))
    columns = table_columns(CONFIG)
    customers = [{"customer_id": 1, "signup": "2024-02-29", "last_seen": "2023-03-30 23:59:59"},
                 {"customer_id": 2, "signup": "2024-02-28", "last_seen": "2023-03-31 00:00:00"},
                 {"customer_id": 3, "signup": "2024-03-01", "last_seen": None}]
    orders = [{"customer_id": 1, "ordered_at": "2024-02-29 00:00:00"},
              {"customer_id": 2, "ordered_at": "2024-02-28 23:59:59"},
              {"customer_id": 3, "ordered_at": "2024-03-31 00:00:00"}]
    expected = {
        "signup within last month": [1, 2],
        "signup within this month": [3],
        "signup >= today - 1 month": [1, 3],          # 2024-03-31 - 1 month = 2024-02-29
        "orders_1m > 0": [1],                         # 2's order is a second early, 3's at the as-of
        "exists(orders during last month)": [1, 2],
        "signup within this year": [1, 2, 3],
        "count(orders during last 6 months) > 1": [],
        "last_seen < today - 1 year": [1],            # before 2023-03-31
    }
    assert sorted(expected) == sorted(ROLLING_MONTHS + ROLLING_CALENDAR)
    with open_engine("sqlite") as eng:
        eng.load({"customers": (columns["customers"], customers), "orders": (columns["orders"], orders),
                  "visits": (columns["visits"], [])})
        for expr, members in expected.items():
            for as_of in (None, "2024-03-31"):
                sql = project.compile_expression(expr, dialect="sqlite", as_of=as_of)
                assert sorted(r[0] for r in eng.query(sql)) == members, f"{expr}:\n{sql}"


def test_sqlite_column_months_is_e602_even_pinned(make_project):
    """Months added to a column are computed by the engine: pinning does not help, and the
    message does not tell the user to pin."""
    project = segc.load_project(make_project(CONFIG))
    assert project.as_of is not None
    with pytest.raises(SegcError) as info:
        project.compile_expression("signup + 1 year > 2025-01-01", dialect="sqlite")
    text = render_text(info.value.diagnostics)
    assert [d.code for d in info.value.diagnostics] == ["E602"], text
    assert "adding months or years to a column" in text and "pin the as-of" not in text
    project.compile_expression("signup + 30 days > 2025-01-01", dialect="sqlite")  # days are fine


def test_cli_sqlite_rolling_vs_pinned(make_project, monkeypatch):
    monkeypatch.chdir(make_project(CONFIG))
    runner = CliRunner()
    rolling = runner.invoke(app, ["compile", "-e", "orders_1m > 0", "--dialect", "sqlite", "--as-of", "today"])
    assert rolling.exit_code == 1
    assert "error[E602]" in rolling.stdout + rolling.stderr
    assert "Traceback" not in rolling.stdout + rolling.stderr
    pinned = runner.invoke(app, ["compile", "-e", "orders_1m > 0", "--dialect", "sqlite", "--as-of", "2024-03-31"])
    assert pinned.exit_code == 0, pinned.stdout + pinned.stderr
    assert "'2024-02-29'" in pinned.stdout


def test_during_next_warns(make_project):
    """Aggregates see only events before the as-of: `during next ...` is always empty."""
    root = make_project(CONFIG, "segment soon = count(orders during next 7 days) > 0\n"
                                "segment birthday = signup within next 7 days\n")
    project = segc.load_project(root)  # a warning, not an error
    assert [d.code for d in project.warnings] == ["W104"]
    text = render_text(project.warnings)
    assert "warning[W104]" in text and "always empty" in text and "write `during last ...`" in text
    assert re.search(r"--> (\S*/)?" + re.escape(_at(root, "segments/main.seg", "next 7 days")), text)


def test_reversed_range_warns(make_project):
    """A fixed range that ends before it starts holds nothing: a warning at the range
    (dates and timestamps alike); a one-day range (start = end) is fine."""
    root = make_project(CONFIG, "segment odd = count(orders during 2024-03-01 to 2024-01-01) > 0\n"
                                "segment odd_ts = signup within 2024-03-01T12:00 to 2024-03-01T08:00\n"
                                "segment one_day = count(orders during 2024-03-01 to 2024-03-01) > 0\n")
    project = segc.load_project(root)
    assert [d.code for d in project.warnings] == ["W105", "W105"]
    text = render_text(project.warnings)
    assert "ends before it starts" in text and "write the earlier date first" in text
    assert re.search(r"--> (\S*/)?" + re.escape(_at(root, "segments/main.seg", "2024-03-01 to 2024-01-01")), text)
