"""Malformed input: every problem ends as diagnostics on the command line — exit code 1
(2 only for typer usage errors), a `file:line:col` location when a file is involved, a
useful hint, and never a Python traceback.

Error-message snapshots live in tests/snapshots/errors/<case>.txt and hold the exact text
of `segc.errors.render_text` (paths relative to the project). After an intended change
of a message, regenerate them with

    SEGC_UPDATE_SNAPSHOTS=1 /work/venv/bin/python -m pytest tests/test_errors.py

and review the diff.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from segc.front.errors import SegcError, render_text

SNAPSHOTS = Path(__file__).parent / "snapshots" / "errors"
UPDATE = os.environ.get("SEGC_UPDATE_SNAPSHOTS") == "1"
LOCATION = re.compile(r"\S+:\d+:\d+")

CONFIG = {
    "name": "shop",
    "base": "customers",
    "key": "customer_id",
    "as_of": dt.date(2024, 7, 1),
    "sources": {
        "customers": {"table": "shop.customers"},
        "orders": {"table": "shop.orders", "key": "customer_id", "time": "ordered_at",
                   "columns": {"amount": "float", "category": "string"}},
    },
    "features": {
        "country": {"type": "string", "values": ["FR", "BE", "DE"], "nullable": False},
        "age": {"type": "int"},
        "vip": {"type": "bool"},
        "score": {"type": "float"},
        "signup_date": {"type": "date"},
        "religion": {"type": "string", "sensitive": True},
        "purchases_90d": {"type": "int", "from": "orders", "agg": "count", "window": "90 days"},
    },
    "params": {"min_age": {"type": "int", "default": 18}},
}

runner = CliRunner()


def config(**changes) -> dict:
    """CONFIG with changes; `a__b=v` sets CONFIG[a][b], a value of None deletes the key."""
    out = copy.deepcopy(CONFIG)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = out
        for p in parents:
            target = target[p]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return out


def cli(*args: str):
    return runner.invoke(app, list(args))


def run_segc(*args: str, cwd: Path):
    """The real command in a fresh interpreter (no CliRunner in between)."""
    return subprocess.run([sys.executable, "-m", "segc.cli.main", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def assert_user_error(result, *expected: str, located: bool = True, exit_code: int = 1) -> str:
    """exit 1, no traceback, a file:line:col location (when a file is involved), and the
    expected fragments somewhere in the output. Works for CliRunner and subprocess results."""
    if hasattr(result, "returncode"):
        code, out, err = result.returncode, result.stdout, result.stderr
    else:
        code, out, err = result.exit_code, result.stdout, result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    text = out + err
    assert code == exit_code, text
    assert "Traceback" not in out and "Traceback" not in err, text
    if located:
        assert LOCATION.search(text), text
    for fragment in expected:
        assert fragment in text, f"{fragment!r} not in:\n{text}"
    return text


# ---- malformed .seg files: (segments text, expected fragments) ------------------------

SEG_CASES = {
    # syntax
    "missing_operand": ("segment a = age >\n", ["error[E102]", "main.seg:1:17"]),
    "double_equals": ("segment a = age == 3\n", ["E101", "main.seg:1:18", "equality is a single `=`"]),
    "ampersands": ("segment a = age > 3 && vip\n", ["E101", "main.seg:1:21", "write `and` / `or`"]),
    "pipes": ("segment a = vip || age > 3\n", ["E101", "main.seg:1:17", "write `and` / `or`"]),
    "unterminated_string": ('segment a = country = "FR\n', ["E101", "unterminated string", "main.seg:1:23"]),
    "bad_date": ("segment a = signup_date > 2024-02-30\n",
                 ["E103", "`2024-02-30` is not a valid date", "main.seg:1:27"]),
    "bad_escape": ('segment a = country = "\\u12"\n', ["E103", "bad unicode escape", "main.seg:1:23"]),
    "unclosed_paren": ("segment a = (age > 3 and vip\n", ["E102", "expected `)`"]),
    "extra_paren": ("segment a = age > 3)\n", ["E101", "unexpected `)`", "main.seg:1:20"]),
    "stray_token": ("segment a = age > 3 vip\n", ["E101", "unexpected `vip`", "main.seg:1:21"]),
    "arrow_operator": ("segment a = age => 3\n", ["E101", "write `>=`"]),
    "keyword_as_name": ("segment count = vip\n", ["E101", "`count` is a keyword"]),
    "where_after_during": ("segment a = count(orders during last 30 days where amount > 5) > 0\n",
                           ["E101", "main.seg:1:46", "`where` comes before `during`"]),
    # names
    "typo_feature": ("segment a = purchases_90 > 3\n",
                     ["E201", "unknown feature or segment `purchases_90`", "did you mean `purchases_90d`?"]),
    "typo_segment": ("segment adults = age >= 18\nsegment b = adult and vip\n",
                     ["E201", "`adult`", "main.seg:2:13", "did you mean `adults`?"]),
    "typo_function": ('segment a = lowr(country) = "fr"\n', ["E205", "unknown function `lowr`",
                                                              "did you mean `lower`?"]),
    "typo_param": ("segment a = age > $min_ag\n", ["E204", "unknown parameter `$min_ag`",
                                                   "did you mean `$min_age`?"]),
    "typo_branch": ("segmentation tier {\n  old = age > 60\n  young = else\n}\nsegment b = tier.olde\n",
                    ["E201", "`tier` has no branch `olde`", "did you mean `tier.old`?"]),
    "typo_event_column": ("segment a = count(orders where amout > 3) > 0\n",
                          ["E202", "no column `amout`", "did you mean `amount`?"]),
    # types
    "string_vs_number": ('segment a = age > "30"\n', ["E301", "cannot compare a whole number with a string",
                                                      "numbers are written without quotes"]),
    "date_vs_number": ("segment a = signup_date > 3\n", ["E301", "cannot compare a date with a whole number",
                                                         "dates are written YYYY-MM-DD"]),
    "date_without_zeros": ("segment a = signup_date > 2024-1-1\n", ["E301", "dates are written YYYY-MM-DD"]),
    "bool_arithmetic": ("segment a = vip + 1 > 1\n", ["E301", "`+` needs numbers; this is true/false"]),
    "remainder_of_float": ("segment a = score % 2 = 1\n", ["E301", "`%` (remainder) needs whole numbers"]),
    "function_arity": ("segment a = abs(age, 2) > 1\n", ["E304", "`abs` takes 1 argument, got 2", "abs(number)"]),
    "quoted_date_in_function": ('segment a = days_since("2024-01-01") > 3\n',
                                ["E304", "`days_since` needs a date", "a date is written without quotes"]),
    "number_with_exponent": ("segment a = score > 1e6\n", ["E101", "main.seg:1:22", "without an exponent"]),
    "starts_with_a_number": ("segment a = country starts with 3\n",
                             ["E301", "`starts with` needs a string", 'starts with "..."']),
    "unknown_name_like_none": ("segment a = zzz > 1\n",
                               ["E201", "unknown feature or segment `zzz`", "declared in segc.yml under `features:`",
                                "`age`"]),
    "function_arity_min": ("segment a = coalesce(age) > 1\n", ["E304", "`coalesce` takes at least 2"]),
    "quantiles_too_fine": ("segment a = quantile_score(age, 101) > 1\n",
                           ["E304", "from 2 to 100", "main.seg:1:33", "top p% by"]),
    "number_not_condition": ("segment a = age\n", ["E302", "`age` is a whole number, not a condition",
                                                   "compare it, e.g. `age > 0`"]),
    "value_not_declared": ('segment a = country = "FX"\n', ["E303", "`FX` is not a value of `country`",
                                                            "values: FR, BE, DE"]),
    "value_wrong_case": ('segment a = country in ["FR", "be"]\n', ["E303", "`be` is not a value of `country`",
                                                                   "did you mean `BE`?"]),
    "null_in_list": ("segment a = age in [18, null]\n", ["E305", "a list cannot hold a missing value",
                                                         "main.seg:1:25", "`age is missing`"]),
    # references and policy
    "cycle": ("segment a = b and vip\nsegment b = c\nsegment c = a or age > 3\n",
              ["E401", "reference cycle: a -> b -> c -> a"]),
    "self_reference": ("segment a = vip and a\n", ["E401", "reference cycle: a -> a"]),
    "duplicate_segment": ("segment a = vip\nsegment a = age > 3\n",
                          ["E213", "`a` is defined twice (first defined at segments/main.seg:1)", "main.seg:2:9"]),
    "segment_named_like_feature": ("segment age = vip\n", ["E203", "already the name of a feature"]),
    "sensitive": ('segment a = religion = "x"\n', ["E501", "`a` uses the sensitive feature `religion`",
                                                   "@allow_sensitive"]),
}


@pytest.mark.parametrize("case", list(SEG_CASES))
def test_malformed_segments(case, make_project, monkeypatch):
    seg, expected = SEG_CASES[case]
    root = make_project(CONFIG, seg)
    monkeypatch.chdir(root)
    assert_user_error(cli("check"), *expected)


@pytest.mark.parametrize("case", ["missing_operand", "typo_feature", "string_vs_number", "cycle",
                                  "value_not_declared", "bad_escape"])
def test_malformed_segments_subprocess(case, make_project):
    seg, expected = SEG_CASES[case]
    root = make_project(CONFIG, seg)
    assert_user_error(run_segc("check", cwd=root), *expected)
    # and with the project given from elsewhere: the location names the file
    assert_user_error(run_segc("check", str(root), cwd=root.parent), *expected[:1], "main.seg:")


def test_three_independent_errors_in_one_run(make_project, monkeypatch):
    """A syntax error in one definition hides neither the name error nor the type error
    of the others (nor does a reference to the broken definition add noise)."""
    seg = ("segment a = age >\n"
           "segment b = agee > 3 and a\n"
           'segment c = age > "x"\n')
    root = make_project(CONFIG, seg)
    monkeypatch.chdir(root)
    text = assert_user_error(cli("check"), "main.seg:1:17", "main.seg:2:13", "main.seg:3:13",
                             "error[E102]", "error[E201]", "error[E301]", "3 errors")
    assert "`a`" not in text  # `b`'s use of the broken `a` is not reported again
    result = cli("check", "--format", "json")
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["errors"] == 3
    assert [(d["code"], d["line"], d["col"]) for d in body["diagnostics"]] == \
        [("E102", 1, 17), ("E201", 2, 13), ("E301", 3, 13)]


def test_segc_yml_errors_beside_segment_errors(make_project, monkeypatch):
    """A broken feature in segc.yml (a `sql:` that does not parse, a misspelt key) hides
    neither the segments' own errors nor the other features; its uses are not reported again."""
    cfg = config(features__bad={"type": "int", "sql": "age +* 2"}, features__worse={"typ": "int"},
                 features__doubled={"type": "int", "sql": "age * 2"})
    seg = ("segment a = agee > 3\n"
           "segment b = bad > 3 and worse > 2\n"
           'segment c = doubled > "x"\n')
    root = make_project(cfg, seg)
    monkeypatch.chdir(root)
    text = assert_user_error(cli("check"), "error[E006]", "error[E004]", "did you mean `type`?",
                             "main.seg:1:13", "main.seg:3:13", "error[E201]", "error[E301]", "5 errors")
    assert "main.seg:2:" not in text


def test_errors_in_two_files_and_two_definitions(make_project, monkeypatch):
    root = make_project(CONFIG, "segment a = (age > 3\n\nsegment b = vip &&\n")
    (root / "segments" / "other.seg").write_text("segment c = countri = \"FR\"\n", encoding="utf-8")
    monkeypatch.chdir(root)
    assert_user_error(cli("check"), "main.seg:1:", "main.seg:3:17", "other.seg:1:13",
                      "did you mean `country`?", "3 errors")


def test_reversed_between_bounds_warn(make_project, monkeypatch):
    root = make_project(CONFIG, "segment a = age between 65 and 18\nsegment b = age between 18 and 65\n")
    monkeypatch.chdir(root)
    result = cli("check")
    assert result.exit_code == 0
    assert result.output.count("warning[W101]") == 1 and "main.seg:1:13" in result.output, result.output
    assert "`between` takes the lower bound first" in result.output


def test_warning_does_not_fail(make_project, monkeypatch):
    root = make_project(CONFIG, "segment a = age > 5 and age < 3\nsegment b = vip\n")
    monkeypatch.chdir(root)
    result = cli("check")
    assert result.exit_code == 0, result.output
    assert "warning[W101]" in result.stderr and "main.seg:1:13" in result.stderr
    assert "Traceback" not in result.output
    body = json.loads(cli("check", "--format", "json").stdout)
    assert (body["errors"], body["warnings"]) == (0, 1)
    assert body["diagnostics"][0]["code"] == "W101"


SENSITIVE_CHAIN = ('@allow_sensitive("consented survey")\n'
                   'segment believers = religion = "x"\n'
                   '@allow_sensitive("consented survey")\n'
                   "segment believers_fr = believers and country = \"FR\"\n"
                   "{annotation}segment campaign = believers_fr and vip\n")


def test_sensitive_reached_through_two_references(make_project, monkeypatch):
    root = make_project(CONFIG, SENSITIVE_CHAIN.format(annotation=""))
    monkeypatch.chdir(root)
    text = assert_user_error(cli("check"), "E501", "`campaign` uses the sensitive feature `religion`",
                             "main.seg:5:9", "1 error")
    assert "`believers`" not in text


def test_sensitive_allowed_with_annotation(make_project, monkeypatch):
    root = make_project(CONFIG, SENSITIVE_CHAIN.format(annotation='@allow_sensitive("legal basis: art. 9")\n'))
    monkeypatch.chdir(root)
    result = cli("check", "--format", "json")
    assert result.exit_code == 0, result.output
    segments = json.loads(result.stdout)["segments"]
    assert segments["campaign"]["sensitive"] == {"religion": "legal basis: art. 9"}


def test_sensitive_reason_must_not_be_empty(make_project, monkeypatch):
    root = make_project(CONFIG, '@allow_sensitive("")\nsegment a = religion = "x"\n')
    monkeypatch.chdir(root)
    assert_user_error(cli("check"), "E501")


# ---- segc.yml -------------------------------------------------------------------------

def test_yaml_bad_indentation(make_project, monkeypatch):
    root = make_project(CONFIG, "segment a = vip\n")
    text = (root / "segc.yml").read_text(encoding="utf-8")
    broken = text.replace("    table: shop.orders\n    key:", "    table: shop.orders\n   key:", 1)
    assert broken != text
    (root / "segc.yml").write_text(broken, encoding="utf-8")
    monkeypatch.chdir(root)
    assert_user_error(cli("check"), "error[E001]", "invalid YAML", "segc.yml:", "check indentation")


def test_yaml_tab_indentation(make_project, monkeypatch):
    root = make_project(CONFIG, "segment a = vip\n")
    (root / "segc.yml").write_text("name: shop\n\tbase: customers\n", encoding="utf-8")
    monkeypatch.chdir(root)
    assert_user_error(cli("check"), "E001", "segc.yml:2:1")


YAML_CASES = {
    "unknown_key": (config(featurs=CONFIG["features"], features=None),
                    ["E004", "unknown key `featurs`", "did you mean `features`?"]),
    "unknown_nested_key": (config(features__age={"type": "int", "nulable": True}),
                           ["E004", "unknown key `features.age.nulable`", "did you mean `nullable`?"]),
    "wrong_type_name": (config(features__age={"type": "integer"}),
                        ["E004", "`features.age.type`", "did you mean `int`?",
                         "types are: int, float, string, bool, date, timestamp"]),
    "missing_required_key": (config(key=None), ["E004", "`key` is required", "segc.yml:1:1"]),
    "missing_nested_key": (config(features__age={"nullable": True}), ["E004", "`features.age.type` is required"]),
    "unknown_source": (config(features__purchases_90d={"type": "int", "from": "order", "agg": "count"}),
                       ["E201", "unknown source `order`", "did you mean `orders`?"]),
    "bad_dialect": (config(dialect="postgresql"), ["E004", "`dialect`", "did you mean `postgres`?"]),
    "bad_agg": (config(features__purchases_90d={"type": "int", "from": "orders", "agg": "counts"}),
                ["E004", "`features.purchases_90d.agg`", "did you mean `count`?"]),
    "bad_window": (config(features__purchases_90d={"type": "int", "from": "orders", "agg": "count",
                                                   "window": "90 dayz"}), ["E004", "window"]),
    "bad_population": (config(population="not vipp"), ["E201", "did you mean `vip`?", "segc.yml:"]),
    "bad_param_default": (config(params__min_age={"type": "int", "default": "abc"}),
                          ["E005", "default of `min_age`", "segc.yml:"]),
}


@pytest.mark.parametrize("case", list(YAML_CASES))
def test_malformed_config(case, make_project, monkeypatch):
    cfg, expected = YAML_CASES[case]
    root = make_project(cfg, "segment a = vip\n")
    monkeypatch.chdir(root)
    assert_user_error(cli("check"), *expected)


def test_malformed_config_subprocess(make_project):
    cfg, expected = YAML_CASES["unknown_key"]
    root = make_project(cfg, "segment a = vip\n")
    assert_user_error(run_segc("check", cwd=root), *expected)


# ---- the command line -----------------------------------------------------------------

def test_missing_project_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "nowhere"
    assert_user_error(cli("check", str(missing)), "E008", "no segc.yml found", "nowhere", located=False)
    assert_user_error(cli("compile", "a", "-p", str(missing)), "E008", located=False)
    assert_user_error(cli("check"), "E008", "--project DIR", located=False)  # none upward either
    assert_user_error(run_segc("check", str(missing), cwd=tmp_path), "E008", located=False)


@pytest.fixture
def good(make_project, monkeypatch):
    seg = ("segment adults = age >= $min_age\n"
           "segmentation tier {\n  old = age > 60\n  young = else\n}\n")
    root = make_project(CONFIG, seg)
    monkeypatch.chdir(root)
    return root


@pytest.mark.parametrize("args, expected", [
    (["--param", "min_ag=3"], ["E204", "unknown parameter `min_ag`", "did you mean `min_age`?"]),
    (["--param", "min_age=abc"], ["E204", "`abc` is not an int", "`min_age` is int"]),
    (["--param", "min_age"], ["E010", "not of the form name=value"]),
    (["--param", "min_age=5", "--param", "min_age=6"], ["E010", "--param `min_age` is given twice"]),
    (["--as-of", "2024-13-01"], ["E009", "`2024-13-01` is not a date", "YYYY-MM-DD"]),
    (["--dialect", "oracle"], ["E601", "unknown dialect `oracle`", "dialects: duckdb"]),
    (["--dialect", "postgre"], ["E601", "did you mean `postgres`?"]),
], ids=["param_unknown", "param_type", "param_no_equals", "param_twice", "as_of", "dialect", "dialect_typo"])
def test_bad_compile_arguments(good, args, expected):
    text = assert_user_error(cli("compile", "adults", *args), *expected, located=False)
    assert "hint: \n" not in text and not text.rstrip().endswith("hint:")  # no empty hints


def test_bad_arguments_subprocess(good):
    assert_user_error(run_segc("compile", "adults", "--param", "min_age=abc", cwd=good), "E204", located=False)
    assert_user_error(run_segc("compile", "adults", "--as-of", "yesterday", cwd=good), "E009", located=False)


def test_unknown_segment_in_compile(good):
    assert_user_error(cli("compile", "adultz"), "E212", "unknown segment `adultz`", "did you mean `adults`?",
                      located=False)
    assert_user_error(cli("compile", "tiers"), "did you mean `tier`?", located=False)
    assert_user_error(run_segc("compile", "adultz", cwd=good), "did you mean `adults`?", located=False)


def test_a_project_folder_in_the_name_s_place_says_so(good):
    """`segc compile examples/retail` from elsewhere: the folder is named, with the command."""
    for cwd in (good.parent, good):
        word = good.name if cwd == good.parent else "."
        result = run_segc("compile", word, cwd=cwd)
        assert_user_error(result, "E212", f"`{word}` is a project folder, not a segment name",
                          f"segc compile adults -p {word}", located=False)


def test_compile_expression_errors_point_into_the_expression(good):
    assert_user_error(cli("compile", "-e", "adults and agee > 3"), "<expression>:1:12", "did you mean `age`?")
    assert_user_error(cli("compile", "-e", "age >"), "E102", "<expression>:1:5")


def test_wrong_form(good):
    assert_user_error(cli("compile", "adults", "--form", "label"), "E011", "label is for segmentations",
                      located=False)
    # a segmentation has no single count: name a branch (this used to be a traceback)
    assert_user_error(cli("compile", "tier", "--form", "count"), "E011", "`tier.old`", located=False)
    result = cli("compile", "tier.old", "--form", "count")
    assert result.exit_code == 0, result.output


def test_usage_errors_exit_2(good):
    for args in (["compile", "adults", "--bogus"], ["check", "--format", "xml"], ["compile"],
                 ["compile", "--form", "rows", "adults"], ["nonsense"]):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output


# ---- snapshots of the rendered messages -----------------------------------------------

SNAPSHOT_CASES = {
    "missing_operand": (CONFIG, SEG_CASES["missing_operand"][0]),
    "double_equals": (CONFIG, SEG_CASES["double_equals"][0]),
    "unterminated_string": (CONFIG, SEG_CASES["unterminated_string"][0]),
    "bad_date": (CONFIG, SEG_CASES["bad_date"][0]),
    "typo_feature": (CONFIG, "## Frequent buyers.\n@owner(\"crm\")\nsegment x = purchase_90d > 3\n"),
    "typo_function": (CONFIG, SEG_CASES["typo_function"][0]),
    "string_vs_number": (CONFIG, SEG_CASES["string_vs_number"][0]),
    "value_not_declared": (CONFIG, SEG_CASES["value_wrong_case"][0]),
    "null_in_list": (CONFIG, SEG_CASES["null_in_list"][0]),
    "cycle": (CONFIG, SEG_CASES["cycle"][0]),
    "sensitive": (CONFIG, SENSITIVE_CHAIN.format(annotation="")),
    "three_errors": (CONFIG, "segment a = age >\nsegment b = agee > 3\nsegment c = age > \"x\"\n"),
    "tab_indented": (CONFIG, "segment a =\n\tvip and\n\tagee > 3\n"),
    "yaml_unknown_key": (YAML_CASES["unknown_key"][0], "segment a = vip\n"),
    "yaml_wrong_type": (YAML_CASES["wrong_type_name"][0], "segment a = vip\n"),
    "yaml_population": (YAML_CASES["bad_population"][0], "segment a = vip\n"),
}


@pytest.mark.parametrize("case", list(SNAPSHOT_CASES))
def test_error_snapshot(case, make_project, monkeypatch):
    cfg, seg = SNAPSHOT_CASES[case]
    root = make_project(cfg, seg)
    monkeypatch.chdir(root)  # paths in messages are relative: segments/main.seg, segc.yml
    with pytest.raises(SegcError) as info:
        segc.load_project(".")
    text = render_text(info.value.diagnostics) + "\n"
    path = SNAPSHOTS / f"{case}.txt"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}; run with SEGC_UPDATE_SNAPSHOTS=1 to create it"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path, fragment", [
    ("data/ca\0rts.csv", "cannot hold a NUL character"),                    # was a ValueError traceback
    ("data/" + "x" * 300 + ".csv", "more than 255 bytes"),                 # was an OSError traceback at count
    ("data/" + "é" * 200 + ".csv", "more than 255 bytes"),                 # bytes, not characters
])
@pytest.mark.parametrize("command", [("check",), ("count", "-e", "exists(orders)"), ("compile", "-e", "age > 1")])
def test_a_path_no_file_system_takes_is_e005(make_project, monkeypatch, path, fragment, command):
    root = make_project(config(sources__orders__path=path), "segment a = age > 1\n")
    monkeypatch.chdir(root)
    assert_user_error(cli(*command), "error[E005]", fragment)


def test_a_path_too_long_in_all_is_e702_at_count(make_project, monkeypatch):
    # every part short, the whole beyond PATH_MAX: the file system refuses it when opened
    root = make_project(config(sources__customers__path="d/" * 3000 + "c.csv"), "segment a = age > 1\n")
    monkeypatch.chdir(root)
    assert_user_error(cli("count", "a"), "error[E702]", "segc.yml")


@pytest.mark.parametrize("name", ["count", "not", "sélect", "a b", "segc_src", "1st"])
def test_a_source_name_the_language_cannot_write_is_e005(make_project, monkeypatch, name):
    # accepted until a segment named it: then E101 (`count` is a keyword), and a typo's hint
    # suggested the unwritable name
    changes = config()
    changes["sources"][name] = changes["sources"].pop("orders")
    changes["features"]["purchases_90d"]["from"] = name
    root = make_project(changes, "segment a = age > 1\n")
    monkeypatch.chdir(root)
    assert_user_error(cli("check"), "error[E005]", f"`{name}` cannot be a source name", "segc.yml:")


def test_a_byte_order_mark_is_no_character_of_a_seg_file(make_project, monkeypatch):
    # "UTF-8 with BOM" (Windows editors) was E101 "unexpected character" at 1:1, invisible
    root = make_project(config(), "")
    (root / "segments" / "main.seg").write_bytes(b"\xef\xbb\xbfsegment a = age > 1\nsegment b = agee > 1\n")
    monkeypatch.chdir(root)
    text = assert_user_error(cli("check"), "error[E2")
    assert "main.seg:2:13" in text and "E101" not in text  # columns count from the text, not the mark
    (root / "segments" / "main.seg").write_bytes(b"\xef\xbb\xbfsegment a = age > 1\n")
    assert cli("check").exit_code == 0
