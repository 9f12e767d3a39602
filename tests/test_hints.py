"""Hints for the mistakes a new user makes by habit (SQL's `AND`, an unquoted string, a
column of an event source at the top level, `during 30 days`, `in last 30 days`, an
unpadded date, a bool compared with a string, an unquoted string in segc.yml's `where:`),
and E713 naming the values outside `values:` only when that is safe. Each case asserts
the code, the location and the hint."""
from __future__ import annotations

import copy

import duckdb
import pytest

import segc
from segc.front.errors import SegcError
from tests.test_errors import CONFIG as BASE_CONFIG

CONFIG = copy.deepcopy(BASE_CONFIG)
CONFIG["features"]["newsletter"] = {"type": "bool", "nullable": False}
CONFIG["sources"]["orders"]["columns"]["status"] = "string"
CONFIG["sources"]["orders"]["columns"]["gift"] = "bool"

# segment text -> (code, line:col, a fragment of one hint)
CASES = {
    "uppercase_and": ('segment a = age > 3 AND country = "FR"\n', "E101", "1:21",
                      "keywords are lowercase: write `and`"),
    "uppercase_or": ("segment a = vip OR age > 3\n", "E101", "1:17", "keywords are lowercase: write `or`"),
    "uppercase_not": ("segment a = NOT vip\n", "E101", "1:17", "keywords are lowercase: write `not`"),
    "unquoted_string": ("segment a = country = FR\n", "E201", "1:23", 'a string is quoted: `country = "FR"`'),
    "unquoted_list_item": ("segment a = country in [FR]\n", "E305", "1:25", 'a string is quoted: `"FR"`'),
    "event_column_at_top": ("segment a = amount > 100\n", "E201", "1:13",
                            "`amount` is a column of `orders`; use it inside an aggregate, e.g. "
                            "`sum(orders.amount) > 100`"),
    # F12: `source.column` used as a value outside an aggregate, the spelling a SQL user types first
    "qualified_event_column": ("segment a = orders.amount > 100\n", "E302", "1:13",
                               "`amount` is a column of `orders`; use it inside an aggregate, e.g. "
                               "`sum(orders.amount) > 100`"),
    "qualified_string_column": ('segment a = orders.category = "shoes"\n', "E302", "1:13",
                                "`last(orders.category) = ...`"),
    "qualified_column_in_where": ("segment a = count(orders where orders.amount > 3) > 0\n", "E302", "1:32",
                                  "write `amount`"),
    "qualified_column_typo": ("segment a = orders.amout > 3\n", "E202", "1:13", "did you mean `orders.amount`?"),
    "unknown_prefix_typo": ("segment a = ordrs.amount > 100\n", "E201", "1:13", "did you mean `orders.amount`?"),
    "unknown_prefix": ("segment a = zzz.bar = 1\n", "E201", "1:13",
                       "`source.column` is used inside an aggregate (event sources: orders)"),
    "segment_prefix_as_value": ("segment b = age > 3\nsegment a = b.x = 1\n", "E201", "2:13",
                                "`b` is used alone"),
    # F13: `x.y` as a condition, where `x` is no segmentation
    "bool_event_column_as_condition": ("segment a = orders.gift\n", "E302", "1:13",
                                       "`gift` is a column of `orders`; use it inside an aggregate, e.g. "
                                       "`exists(orders where gift)` or `last(orders.gift)`"),
    "segment_prefix_as_condition": ("segment b = age > 3\nsegment a = b.x\n", "E201", "2:13",
                                    "`b` is used alone; `name.branch` names a branch of a segmentation"),
    "unknown_prefix_as_condition": ("segment a = zzz.bar\n", "E201", "1:13",
                                    "`name.branch` names a branch of a segmentation"),
    # F22: SQL's list in parentheses and LIKE
    "list_in_parentheses": ('segment a = country in ("FR", "BE")\n', "E101", "1:24",
                            'a list is written in brackets: `country in ["FR", "BE"]`'),
    "list_in_parentheses_negated": ("segment a = country not in ('FR')\n", "E101", "1:28",
                                    "a list is written in brackets: `country not in ['FR']`"),
    "like": ('segment a = country like "F%"\n', "E101", "1:21",
             'segc has no LIKE: use `starts with`, `ends with`, `contains` or `matches`; here '
             '`country starts with "F"`'),
    "like_contains": ('segment a = lower(country) LIKE "%r%"\n', "E101", "1:28", '`lower(country) contains "r"`'),
    "not_like_suffix": ('segment a = country not like "%R"\n', "E101", "1:25", '`not country ends with "R"`'),
    "like_wildcard": ('segment a = country like "F_"\n', "E101", "1:21",
                      "segc has no LIKE: use `starts with`, `ends with`, `contains` or `matches`"),
    # F25: an expression where an aggregate takes a column
    "aggregate_of_a_function": ("segment a = count_distinct(month_of(orders.ordered_at)) >= 3\n", "E101", "1:36",
                                "an aggregate takes a column of the source, not an expression: "
                                "`count_distinct(orders.ordered_at)`"),
    "aggregate_of_arithmetic": ("segment a = sum(orders.amount * 2) > 3\n", "E101", "1:31", "`sum(orders.amount)`"),
    "count_of_a_comparison": ("segment a = count(orders.amount > 3) > 1\n", "E101", "1:33",
                              "a condition on the events goes after `where`: `count(orders where amount > ...)`"),
    # F14: a rank per group cannot be written
    "rank_where": ('segment a = top 10% by age where country = "FR"\n', "E101", "1:28",
                   'a rank is taken over the whole population, never per group: `top 10% by age and country = "FR"` '
                   "is the top of the whole population who also pass the condition"),
    "rank_per": ("segment a = bottom 5 by days_since(signup_date) per country\n", "E101", "1:49",
                 "`bottom 5 by days_since(signup_date) and country = ...` is the bottom of the whole population"),
    "during_without_last": ("segment a = exists(orders during 30 days)\n", "E101", "1:41",
                            "`during last 30 days`"),
    "within_without_last": ("segment a = signup_date within 30 days\n", "E102", "1:38",
                            "`within last 30 days`"),
    "in_instead_of_within": ("segment a = signup_date in last 30 days\n", "E101", "1:28",
                             "a date in a period is tested with `within`: `signup_date within last 30 days`"),
    "unpadded_date": ("segment a = signup_date > 2024-1-1\n", "E301", "1:13",
                      "dates are written YYYY-MM-DD: `2024-01-01`"),
    "bool_as_string": ('segment a = newsletter = "true"\n', "E301", "1:13",
                       "`newsletter` is true/false, not a string: write `newsletter`"),
}


def diagnostics(make_project, cfg, seg):
    root = make_project(cfg, seg)
    with pytest.raises(SegcError) as info:
        segc.load_project(root)
    return info.value.diagnostics


def located(d) -> str:
    return f"{d.span.line}:{d.span.col}"


@pytest.mark.parametrize("case", list(CASES))
def test_hint(case, make_project):
    seg, code, where, hint = CASES[case]
    diags = diagnostics(make_project, CONFIG, seg)
    assert [(d.code, located(d)) for d in diags] == [(code, where)], diags
    assert any(hint in h for h in diags[0].hints), diags[0].hints


def test_a_segment_with_a_dot_is_named_a_segment(make_project):
    diags = diagnostics(make_project, CONFIG, "segment b = age > 3\nsegment a = b.x and vip\n")
    assert [d.message for d in diags] == ["`b` is a segment, not a segmentation: it has no branches"], diags


def test_no_quote_hint_for_a_known_name_or_a_number(make_project):
    # `FR` compared with a number is not a forgotten string; a typo of a feature keeps its did-you-mean
    diags = diagnostics(make_project, CONFIG, "segment a = age = FR\nsegment b = country = agee\n")
    assert [d.code for d in diags] == ["E201", "E201"]
    assert not any("quoted" in h for d in diags for h in d.hints), diags
    diags = diagnostics(make_project, CONFIG, "segment a = vip AND age > 3\n")
    assert "keywords are lowercase: write `and`" in diags[0].hints


def test_where_in_segc_yml_unquoted_string(make_project):
    cfg = copy.deepcopy(CONFIG)
    cfg["features"]["done_90d"] = {"type": "int", "from": "orders", "agg": "count", "where": "status = completed"}
    diags = diagnostics(make_project, cfg, "segment a = vip\n")
    [d] = diags
    assert (d.code, d.span.file.endswith("segc.yml")) == ("E202", True)
    line = d.span.source.line_text(d.span.line)
    assert line[d.span.col - 1:].startswith("completed"), line
    assert d.hints[0].startswith('a string is quoted: `status = "completed"`')
    assert "single quotes: `'status = \"completed\"'`" in d.hints[0]


# ---- E713: which values outside `values:` a message may name ----------------------------

E713_CONFIG = """
name: data
base: customers
key: id
sources:
  customers: {table: shop.customers, path: data/customers.parquet}
features:
  country: {type: string, values: [FR, BE]SENSITIVE}
"""
# 27 rows `YY`, 12 rows `XX`, one row holding an e-mail address typed into the wrong field
COUNTRIES = ("SELECT range::BIGINT AS id, CASE WHEN range < 12 THEN 'XX' WHEN range < 13 THEN 'jane.doe@example.com' "
             "WHEN range < 40 THEN 'YY' ELSE 'FR' END AS country FROM range(100)")


def _e713(tmp_path, sensitive: bool):
    root = tmp_path / "p"
    (root / "data").mkdir(parents=True)
    (root / "segments").mkdir()
    (root / "segc.yml").write_text(E713_CONFIG.replace("SENSITIVE", ", sensitive: true" if sensitive else ""))
    (root / "segments" / "s.seg").write_text("@allow_sensitive(\"test\")\nsegment a = country = \"FR\"\n")
    duckdb.connect().execute(f"COPY ({COUNTRIES}) TO '{root}/data/customers.parquet' (FORMAT parquet)")
    [d] = segc.load_project(root).check_data()
    assert (d.code, d.span.line) == ("E713", 8)
    assert "40 rows with a value outside" in d.message
    return " ".join(d.hints)


def test_e713_names_the_shared_values_only(tmp_path):
    hints = _e713(tmp_path, sensitive=False)
    assert "`YY` (27 rows), `XX` (12 rows)" in hints
    assert "jane.doe" not in hints  # held by one row: may be personal


def test_e713_names_no_value_of_a_sensitive_feature(tmp_path):
    hints = _e713(tmp_path, sensitive=True)
    assert "the feature is sensitive" in hints
    assert "YY" not in hints and "XX" not in hints and "jane.doe" not in hints
