"""segc.yml as written, read with its positions: what YAML reads otherwise than written
(`NO` is false), and the rules that hold between its keys. Each problem is a located
diagnostic (E005 unless said), never a silent conversion."""
from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from segc.cli.main import app
from segc.front.errors import SegcError
from segc.front.source import Source
from segc.schema.segc_yml import load_schema

HEAD = """name: p
base: customers
key: customer_id
sources:
  customers: {table: shop.customers}
  orders:
    table: shop.orders
    key: customer_id
    time: ordered_at
    columns: {amount: float}
"""


def problems(text: str):
    """The schema (None when the document raised) and its diagnostics."""
    try:
        schema, diags = load_schema(Source("segc.yml", HEAD + text))
    except SegcError as e:
        return None, e.diagnostics
    return schema, diags


def located(diag) -> str:
    """The diagnostic's code, line:col and the text it points at."""
    return f"{diag.code} {diag.span.line}:{diag.span.col} {diag.span.text()}"


# ---- F6: YAML 1.1 booleans and numbers in `values:` and keys ---------------------------

def test_norway_in_a_string_features_values_is_refused_at_the_item():
    schema, diags = problems("features:\n  country: {type: string, values: [NO, FR, 1, ON, off]}\n")
    assert [located(d) for d in diags] == ["E005 12:36 NO", "E005 12:44 1", "E005 12:47 ON", "E005 12:51 off"]
    assert "`NO` in `values:` of `country` is read by YAML as false" in diags[0].message
    assert diags[0].hints == ('quote it: `"NO"`',)
    assert "read by YAML as a number" in diags[1].message
    assert "country" in schema.broken


def test_quoted_values_are_kept_as_written():
    schema, diags = problems('features:\n  country: {type: string, values: ["NO", FR, "1", "ON"]}\n')
    assert diags == []
    assert schema.features["country"].values == ("NO", "FR", "1", "ON")


def test_a_boolean_in_an_int_features_values_is_refused():
    _, diags = problems("features:\n  stars: {type: int, values: [1, 2, yes]}\n")
    assert [located(d) for d in diags] == ["E005 12:37 yes"]
    assert "read by YAML as true" in diags[0].message


@pytest.mark.parametrize("key, read", [("on", "true"), ("no", "false"), ("YES", "true"), ("~", "null")])
def test_a_key_yaml_reads_as_a_boolean_is_refused(key, read):
    schema, diags = problems(f"features:\n  age: {{type: int}}\n  {key}: {{type: float}}\n")
    assert [located(d) for d in diags] == [f"E005 13:3 {key}"]
    assert f"the key `{key}` is read by YAML as {read}" in diags[0].message
    assert diags[0].hints == (f'quote it: `"{key}":`',)
    assert "True" not in schema.features and "False" not in schema.features and "age" in schema.features


def test_a_quoted_key_is_a_name():
    schema, diags = problems('features:\n  "on": {type: float}\n')
    assert diags == [] and "on" in schema.features


# ---- F5: an event source's `time:` is a date or a timestamp ---------------------------

@pytest.mark.parametrize("kind", ["int", "bool", "string", "float"])
def test_a_time_column_declared_of_another_type_is_refused(kind):
    text = HEAD.replace("columns: {amount: float}", f"columns: {{amount: float, ordered_at: {kind}}}")
    _, diags = load_schema(Source("segc.yml", text))
    assert [located(d) for d in diags] == ["E005 10:30 ordered_at"]
    assert f"`ordered_at` is the `time:` of source `orders`, and is declared {kind}" in diags[0].message


@pytest.mark.parametrize("kind", ["date", "timestamp"])
def test_a_time_column_declared_date_or_timestamp_is_fine(kind):
    text = HEAD.replace("columns: {amount: float}", f"columns: {{amount: float, ordered_at: {kind}}}")
    assert load_schema(Source("segc.yml", text))[1] == []


# ---- F12, M1: a timestamp parameter has no time zone; YAML's own timestamps ----------

def test_a_timestamp_default_with_a_zone_is_refused_with_its_utc_wall_time():
    _, diags = problems("params:\n  since: {type: timestamp, default: '2024-06-01T10:00:00+05:00'}\n"
                        "  z: {type: timestamp, default: 2024-01-01T10:00:00Z}\n")
    assert [(d.code, d.span.line) for d in diags] == [("E005", 12), ("E005", 13)]
    assert diags[0].message == "default of `since`: `2024-06-01T10:00:00+05:00` has a time zone, which the engines would drop"
    assert diags[0].hints == ("segc timestamps have no time zone: write the UTC wall time, `2024-06-01T05:00:00`",)
    assert "`2024-01-01T10:00:00Z` has a time zone" in diags[1].message  # as written, unquoted


def test_an_unquoted_yaml_timestamp_default_is_the_timestamp_it_is():
    schema, diags = problems("params:\n  ts: {type: timestamp, default: 2024-01-01T10:00:00}\n"
                             "  d: {type: date, default: 2024-01-01T10:00:00}\n")
    assert schema.params["ts"].default == dt.datetime(2024, 1, 1, 10)
    assert [(d.code, d.span.line, d.message) for d in diags] == [
        ("E005", 13, "default of `d`: `2024-01-01T10:00:00` is not a date")]  # one error, not five


def test_a_timestamp_param_with_a_zone_on_the_command_line_is_e204(tmp_path):
    (tmp_path / "segc.yml").write_text(HEAD + "params:\n  since: {type: timestamp}\n", encoding="utf-8")
    (tmp_path / "segments").mkdir()
    result = CliRunner().invoke(app, ["compile", "-e", "exists(orders where ordered_at >= $since)", "-p",
                                      str(tmp_path), "--param", "since=2024-06-01 10:00:00+05:00"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "E204" in result.output and "has a time zone" in result.output
    assert "write the UTC wall time, `2024-06-01T05:00:00`" in result.output
    ok = CliRunner().invoke(app, ["compile", "-e", "exists(orders where ordered_at >= $since)", "-p",
                                  str(tmp_path), "--param", "since=2024-06-01 05:00:00"])
    assert ok.exit_code == 0 and "2024-06-01 05:00:00" in ok.output


# ---- F3: a parameter's name is one that `$name` can write ------------------------------

@pytest.mark.parametrize("name", ["été", "count", "and", "1st", "a-b"])
def test_a_parameter_name_no_expression_can_write_is_refused(name):
    schema, diags = problems(f'params:\n  "{name}": {{type: int, default: 3}}\n  ok_1: {{type: int, default: 1}}\n')
    assert [(d.code, d.span.line, d.message) for d in diags] == [("E005", 12, f"`{name}` cannot be a parameter name")]
    assert list(schema.params) == ["ok_1"]


# ---- M11: a boolean where an int is required -------------------------------------------

@pytest.mark.parametrize("where, text, line", [
    ("n", "features:\n  second: {type: float, from: orders, agg: nth, n: true, column: amount}\n", 12),
    ("min_group", "min_group: yes\n", 11),
    ("min_size", "min_size: on\n", 11),
])
def test_a_boolean_is_not_an_int(where, text, line):
    schema, diags = problems(text)
    assert [(d.code, d.span.line) for d in diags] == [("E004", line)]
    assert "YAML reads the value as a boolean" in diags[0].message
    assert diags[0].hints == (f"write a whole number, e.g. `{where}: 2`",)


# ---- M1: one error for a value that fits no member of a union ----------------------------

def test_a_value_of_no_accepted_type_is_one_error_at_its_place():
    schema, diags = problems("features:\n  country: {type: string, values: [FR, null]}\n"
                             "params:\n  cat: {type: string, default: [1]}\n")
    assert [(d.code, d.span.line, d.message) for d in diags] == [
        ("E004", 12, "`features.country.values.1`: null (no value) is not a value here: it takes text or "
                     "a whole number"),
        ("E004", 14, "`params.cat.default`: a list is not a value here: it takes true or false, a whole number, "
                     "a number, text, a timestamp or a date")]
    assert all(d.hints for d in diags)
