"""`segc test`: segment unit tests (fixture rows -> exact members) on in-memory DuckDB
and SQLite. The retail example's tests pass; a wrong expectation is reported precisely
(missing and extra keys, per segment and engine); malformed test files give diagnostics
with file:line:col."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from segc.front.errors import SegcError
from segc.apps.segtest import ENGINES, run_tests
from tests.conftest import EXAMPLE

runner = CliRunner()
BASIC = EXAMPLE / "tests" / "basic.yml"


def cli(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def retail():
    return segc.load_project(EXAMPLE)


@pytest.fixture
def copy(tmp_path):
    """A copy of the retail project (without its data) whose tests/ can be edited."""
    root = tmp_path / "retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("data", "__pycache__"))
    return root


def test_example_passes_on_both_engines(retail):
    report = run_tests(retail)
    assert report.ok, report.to_dict()
    assert report.engines == ENGINES == ("duckdb", "sqlite")
    [f] = report.files
    expected = yaml.safe_load(BASIC.read_text(encoding="utf-8"))["expect"]
    assert f.segments == list(expected)
    assert report.checks == 2 * len(expected)
    # several kinds of segments are exercised, with members and without
    assert {"value_tier.good", "quadrant.frequent_small", "at_risk", "cart_recovery"} <= set(expected)
    assert any(v for v in expected.values()) and any(not v for v in expected.values())


def test_cli_passes(retail):
    result = cli("test", "-p", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    n = 2 * len(yaml.safe_load(BASIC.read_text(encoding="utf-8"))["expect"])
    assert f"{n} of {n} checks passed" in result.output
    result = cli("test", str(EXAMPLE), "--format", "json")
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["failed"] == 0 and data["engines"] == ["duckdb", "sqlite"]


def _edit(path: Path, **expect) -> Path:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["expect"] = expect
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_failures_are_precise(copy):
    _edit(copy / "tests" / "basic.yml",
          dach_seniors=[2, 9],       # 5 is a member, 9 does not exist
          inactive_6m=[],            # 2 is a member
          at_risk=[2, 3],            # 3 is not a member
          loyal_big_basket=[1])      # right
    project = segc.load_project(copy)
    report = run_tests(project)
    assert not report.ok
    assert report.checks == 8 and report.failed == 6
    got = {(o.segment, o.engine): (o.missing, o.extra) for o in report.files[0].failures}
    for engine in ENGINES:
        assert got[("dach_seniors", engine)] == ((9,), (5,))
        assert got[("inactive_6m", engine)] == ((), (2,))
        assert got[("at_risk", engine)] == ((3,), ())
        assert ("loyal_big_basket", engine) not in got

    result = cli("test", "-p", str(copy))
    assert result.exit_code == 1
    out = result.stdout
    assert "FAIL dach_seniors on duckdb, sqlite" in out
    assert "missing (expected, not selected): 9" in out
    assert "extra (selected, not expected):   5" in out
    assert "FAIL at_risk on duckdb, sqlite" in out
    assert "FAIL loyal_big_basket" not in out
    assert "2 of 8 checks passed" in out

    data = json.loads(cli("test", "-p", str(copy), "-f", "json").stdout)
    assert data["ok"] is False and data["failed"] == 6
    inactive = [x for x in data["files"][0]["failures"] if x["segment"] == "inactive_6m"]
    assert [(x["engine"], x["missing"], x["extra"]) for x in inactive] == [("duckdb", [], [2]), ("sqlite", [], [2])]


BAD = """\
as_of: 2024-07-01
rows:
  customers:
    - {customer_id: 1, country: FR, agee: 30, email_optin: true, sms_optin: false, is_test: false, loyalty_card: false}
    - {customer_id: 2, country: FR, age: "old", email_optin: true, sms_optin: false, is_test: false}
  ordrs:
    - {customer_id: 1}
  orders:
    - {customer_id: 1, ordered_at: 2024-01-01, amount: 12.5, coupon_id: 5}
expect:
  loyal_big_baskt: [1]
  value_tier: [1]
  at_risk: ["x"]
"""


def test_bad_file_diagnostics(copy):
    (copy / "tests" / "basic.yml").unlink()
    (copy / "tests" / "bad.yml").write_text(BAD, encoding="utf-8")
    project = segc.load_project(copy)
    with pytest.raises(SegcError) as info:
        run_tests(project)
    diags = {(d.code, d.span.line, d.span.col): d for d in info.value.diagnostics}
    assert set(diags) == {
        ("E803", 4, 37),   # unknown column agee (did you mean age?)
        ("E801", 5, 7),    # a nullable: false column without a value
        ("E804", 5, 42),   # "old" is not an int
        ("E802", 6, 3),    # unknown source ordrs
        ("E803", 9, 62),   # coupon_id is not declared
        ("E805", 11, 3),   # unknown segment
        ("E805", 12, 3),   # a segmentation without a branch
        ("E804", 13, 13),  # a key that is not an int
    }
    assert diags[("E803", 4, 37)].hints == ("did you mean `age`?",)
    assert "loyalty_card" in diags[("E801", 5, 7)].message
    assert diags[("E802", 6, 3)].hints == ("did you mean `orders`?",)
    assert diags[("E805", 11, 3)].hints == ("did you mean `loyal_big_basket`?",)
    assert "value_tier.good" in diags[("E805", 12, 3)].hints[0]
    assert all(d.span.file.endswith("bad.yml") for d in diags.values())

    result = cli("test", "-p", str(copy))
    assert result.exit_code == 1
    assert "bad.yml:4:37" in result.stderr and "unknown column `agee`" in result.stderr


@pytest.mark.parametrize("text,code,line", [
    ("as_of: 2024-07-01\nrows:\n  customers: [\n", "E001", 4),                    # bad YAML
    ("- 1\n- 2\n", "E801", 1),                                                     # not a mapping
    ("as_of: 2024-07-01\nrows: {}\nexpect: {at_risk: []}\nexpext: 1\n", "E801", 4),  # unknown key
    ("as_of: 2024-13-01\nrows: {}\nexpect: {at_risk: []}\n", "E001", 1),           # not a date
    ("as_of: 2024-07-01\nrows: {}\n", "E801", 1),                                  # no expect
])
def test_malformed_files(copy, text, code, line):
    (copy / "tests" / "basic.yml").write_text(text, encoding="utf-8")
    with pytest.raises(SegcError) as info:
        run_tests(segc.load_project(copy))
    assert [(d.code, d.span.line) for d in info.value.diagnostics] == [(code, line)]


def test_no_tests(copy):
    shutil.rmtree(copy / "tests")
    result = cli("test", "-p", str(copy))
    assert result.exit_code == 1 and "E806" in result.stderr


def test_small_project_string_keys_and_defaults(make_project, tmp_path):
    """String keys, rows given under the warehouse table name, a feature standing for a
    column with another name, defaults, SQLite dates as text, and a missing as_of."""
    config = {
        "name": "tiny", "base": "people", "key": "id",
        "sources": {"people": {"table": "crm.people"},
                    "visits": {"table": "web.visits", "key": "person", "time": "at", "columns": {"page": "string"}}},
        "features": {"town": {"type": "string", "column": "Town Name"},
                     "born": {"type": "date"}, "active": {"type": "bool", "nullable": False},
                     "visits_7d": {"type": "int", "from": "visits", "agg": "count", "window": "7 days"}},
    }
    root = make_project(config, 'segment parisians = town = "Paris" and active\n'
                                "segment young = born > 2000-01-01\n"
                                "segment visitors = visits_7d >= 2\n")
    (root / "tests").mkdir()
    test = root / "tests" / "t.yml"
    test.write_text("""\
as_of: 2024-03-10
defaults: {people: {active: true}}
rows:
  crm.people:
    - {id: a, town: Paris, born: 1999-05-01}
    - {id: b, "Town Name": Paris, born: 2001-05-01, active: false}
    - {id: c, town: Lyon, born: 2003-01-01}
  visits:
    - {person: a, at: 2024-03-09 23:59:59, page: home}
    - {person: a, at: 2024-03-03, page: home}
    - {person: c, at: 2024-03-02 23:59:59, page: home}
    - {person: c, at: 2024-03-10, page: home}
expect:
  parisians: [a]
  young: [b, c]
  visitors: [a]
""", encoding="utf-8")
    report = run_tests(segc.load_project(root))
    assert report.ok, report.to_dict()
    assert report.checks == 6

    test.write_text(test.read_text(encoding="utf-8").replace("as_of: 2024-03-10\n", ""), encoding="utf-8")
    with pytest.raises(SegcError) as info:
        run_tests(segc.load_project(root))
    assert [d.code for d in info.value.diagnostics] == ["E801"]
    assert "as_of" in info.value.diagnostics[0].message


# ---- single problems of a fixture file, each located (file:line:col) -------------------

SMALL = """\
as_of: 2024-07-01
defaults:
  customers: {is_test: false, email_optin: false, sms_optin: false, loyalty_card: false, country: FR}
rows:
  customers:
    - {customer_id: 1, age: 30}
    - {customer_id: 2, age: 40}
  orders:
    - {customer_id: 1, ordered_at: 2024-06-01, amount: 10.0}
expect:
  at_risk: []
"""


def _problems(copy, text: str) -> list[tuple]:
    """(code, line, col, message, hints) of each diagnostic of a test file (none: it ran)."""
    (copy / "tests" / "basic.yml").write_text(text, encoding="utf-8")
    try:
        run_tests(segc.load_project(copy))
    except SegcError as e:
        return [(d.code, d.span.line, d.span.col, d.message, d.hints) for d in e.diagnostics]
    return []


def test_int_outside_64_bits_is_located(copy):
    text = SMALL.replace("age: 40}", "age: 99999999999999999999999}")
    [(code, line, col, message, _)] = _problems(copy, text)
    assert (code, line, col) == ("E804", 7, 29)  # at the value, before anything is loaded
    assert "outside the range of an int" in message and "the rows cannot be loaded" not in message


def test_exponent_yaml_reads_as_text(copy):
    text = SMALL.replace("amount: 10.0}", "amount: 1e3}")
    [(code, line, col, message, _)] = _problems(copy, text)
    assert (code, line, col) == ("E804", 9, 56)
    assert "is text" in message and "1.0e+3" in message


def test_null_expect_is_not_an_empty_list(copy):
    text = SMALL.replace("at_risk: []", "at_risk: ")
    [(code, line, col, message, _)] = _problems(copy, text)
    assert (code, line, col) == ("E801", 11, 11)  # where the list should be
    assert "must be a list of keys" in message


def test_key_listed_twice_in_expect(copy):
    text = SMALL.replace("at_risk: []", "at_risk: [1, 2, 1]")
    [(code, line, col, message, _)] = _problems(copy, text)
    assert (code, line, col) == ("E804", 11, 19)  # the second 1
    assert "listed twice" in message


def test_summary_counts_failed_segments_not_checks(copy):
    # two segments wrong, each on both engines: 4 failing checks, 2 failing segments
    (copy / "tests" / "basic.yml").write_text(SMALL.replace("at_risk: []", "at_risk: [1]\n  dach_seniors: [2]"),
                                             encoding="utf-8")
    result = cli("test", "-p", str(copy))
    assert result.exit_code == 1
    assert "2 segments on duckdb, sqlite — 2 failed" in result.stdout
    assert "0 of 4 checks passed" in result.stdout


# ---- attack report lang2: F15, M3-M6 ---------------------------------------------------

@pytest.mark.parametrize("first,second,rows,line", [
    ("customers", "shop.customers", "    - {customer_id: 3, age: 50}\n", 5),
    ("orders", "shop.orders", "    - {customer_id: 2, ordered_at: 2024-06-01, amount: 5.0}\n", 8),
])
def test_source_given_twice_in_rows(copy, first, second, rows, line):
    """F15: under its source name and its table name, the later list replaced the earlier."""
    text = SMALL.replace("expect:", f"  {second}:\n{rows}expect:")
    [(code, at, col, message, hints)] = _problems(copy, text)
    assert (code, at, col) == ("E801", 10, 3)
    assert message == f"`rows.{second}` is source `{first}`, already given as `{first}` at line {line}"
    assert hints == (f"give `{first}` once, under one name",)


def test_source_given_twice_in_defaults(copy):
    text = SMALL.replace("loyalty_card: false, country: FR}\n",
                         "loyalty_card: false, country: FR}\n  shop.customers: {country: DE}\n")
    [(code, line, col, message, hints)] = _problems(copy, text)
    assert (code, line, col) == ("E801", 4, 3)
    assert message == "`defaults.shop.customers` is source `customers`, already given as `customers` at line 3"
    assert hints == ("give `customers` once, under one name",)


def test_as_of_timestamp_is_refused(copy):
    """M3: an unquoted timestamp was cut to its day without a word."""
    [(code, line, col, message, _)] = _problems(copy, SMALL.replace("as_of: 2024-07-01", "as_of: 2024-07-01T10:00:00"))
    assert (code, line, col) == ("E801", 1, 8)
    assert "a date, not a timestamp" in message


@pytest.mark.parametrize("as_of", ["0999-12-31", "9000-01-01", '"9000-01-01"'])
def test_as_of_out_of_range_is_one_located_error(copy, as_of):
    """M4: was one unlocated FAIL per segment and engine."""
    text = SMALL.replace("as_of: 2024-07-01", f"as_of: {as_of}").replace("at_risk: []", "at_risk: []\n  dach_seniors: []")
    [(code, line, col, message, hints)] = _problems(copy, text)
    assert (code, line, col) == ("E309", 1, 8)
    assert "outside the supported range" in message and "1000-01-01" in hints[0]


def test_wrong_key_type_is_one_error(copy):
    """M5: a row's key of the wrong type also gave a false 'has no `customer_id`'."""
    text = SMALL.replace("customer_id: 1, age: 30", 'customer_id: "a", age: 30').replace(
        "customer_id: 2, age: 40", 'customer_id: "b", age: 40')
    found = _problems(copy, text)
    assert [(c, ln, col) for c, ln, col, _, _ in found] == [("E804", 9, 21)]
    assert "is not a string" in found[0][3]
    # the key's type is not declared in segc.yml: the base rows give it
    assert found[0][4] == ("the keys are text, as the rows of `customers` give them: write every key alike",)
    # a nullable: false column whose value is refused is not also said to be missing
    found = _problems(copy, SMALL.replace("age: 30}", "age: 30, is_test: maybe}"))
    assert [(c, ln, col) for c, ln, col, _, _ in found] == [("E804", 6, 42)]


@pytest.mark.parametrize("value,column,spelled", [
    ("1.0e300", "amount", "1.0e+300"),
    ("5e-324", "amount", "5.0e-324"),
    ("1e3", "amount", "1.0e+3"),
    ("3e1", "age", "3.0e+1"),
])
def test_exponent_hint_is_the_spelling(copy, value, column, spelled):
    """M6: the hint was 'write null for a missing value'."""
    if column == "age":
        text = SMALL.replace("age: 30}", f"age: {value}}}")
    else:
        text = SMALL.replace("amount: 10.0}", f"amount: {value}}}")
    [(code, _, _, message, hints)] = _problems(copy, text)
    assert code == "E804" and "is text" in message
    assert hints == (f"write {spelled}, or the number written out",)
    assert not any("null" in h for h in hints)
    # the spelling given is one YAML reads as a number, and the fixture runs
    assert yaml.safe_load(f"x: {spelled}")["x"] == float(spelled)


def test_int_out_of_range_hint_is_the_range(copy):
    [(_, _, _, _, hints)] = _problems(copy, SMALL.replace("age: 40}", "age: 99999999999999999999999}"))
    assert hints == ("an int column holds -9223372036854775808 to 9223372036854775807",)
