"""Bad input never produces a Python traceback (DESIGN §3, §5).

Hypothesis feeds generated text to `Project.compile_expression` (every dialect) and, as
the whole content of a project's `.seg` file, to `segc check` and `segc compile` through
Typer's CliRunner. The text is (a) token soup made of the language's keywords, operators,
names and literals (well-formed and broken), (b) valid expressions with a few tokens
deleted, repeated, swapped or replaced, and (c) arbitrary Unicode or bytes.

Every outcome must be SQL or a `segc.SegcError` (API), and exit code 0 or 1 with no
traceback (CLI). 5,000 examples in the default run (`SEGC_NO_TRACEBACK_EXAMPLES`),
derandomized; no engine is involved.
"""
from __future__ import annotations

import json
import os
import re
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from tests.conftest import write_project
from tests.test_differential import AS_OFS, CONFIG, HOSTILE, SEGMENTS, expressions

TOTAL = int(os.environ.get("SEGC_NO_TRACEBACK_EXAMPLES", "5000"))
SHARES = {"api_soup": 0.3, "api_mutant": 0.2, "api_garbage": 0.1, "cli_soup": 0.15, "cli_mutant": 0.15,
          "cli_garbage": 0.1}
N = {name: max(1, int(TOTAL * share)) for name, share in SHARES.items()}
SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])
from segc.backend.dialects import DIALECTS
RAN: dict[str, int] = {}
OUTCOMES: Counter = Counter()

KEYWORDS = ["and", "or", "not", "between", "in", "is", "missing", "present", "contains", "starts",
            "ends", "with", "within", "by", "top", "bottom", "segment", "segmentation", "else", "true",
            "false", "today", "where", "during", "last", "next", "this", "to", "count_distinct",
            "count", "sum", "avg", "min", "max", "exists", "day", "days", "week", "weeks", "month",
            "months", "year", "years", "null", "NULL", "none", "anniversary", "matches", "like"]
OPERATORS = ["=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "(", ")", "[", "]", "{", "}",
             ",", ".", "$", "@", "==", "<>", "!", "&&", "||", ";", ":", "#", "##", "\n", "\"", "'",
             "\\", "`", "?", "^", "~"]
NAMES = ["age", "code", "score", "name", "city", "group", "country", "vip", "is_test", "signup",
         "last_seen", "double_age", "n_orders", "orders_30d", "rev_90d", "basket", "max_qty_1m",
         "n_cats_1y", "first_order", "last_paid", "adults", "engaged", "tier", "tier.high", "tier.nope",
         "orders", "orders.amount", "orders.qty", "orders.nope", "customers", "amount", "qty", "category",
         "status", "gift", "ordered_at", "lower", "upper", "length", "abs", "round", "floor", "ceil",
         "coalesce", "least", "greatest", "days_since", "year_of", "month_of", "quantile_score",
         "$min_age", "$label", "$since", "$nope", "@owner", "@tags", "@min_size", "@allow_sensitive",
         "agee", "x", "_", "Age", "segc_key", "segc_features", "ÄGE", "名前"]
LITERALS = ["0", "1", "-1", "18", "2.5", "0.0", "100", "99999999999999999999999", "1e5", "1.", ".5",
            "007", "2024-01-01", "2024-02-29", "2023-02-29", "2024-13-01", "2024-00-10", "9999-12-31",
            "0001-01-01", "2024-01-01T10:00:00", "2024-01-01T25:00:00", "2024-01-01T10:00",
            "2024-01-01T10:00:00.123456", "30 days", "0 days", "2 weeks", "6 months", "1 year",
            "1.5 days", "10%", "100%", "0%", "101%", '"x"', "'x'", '""', '"\\u00e9"', '"\\ud83d\\ude00"',
            '"\\ud83d"', '"\\u12"', '"\\q"', '"\\"', '"unterminated', "'unterminated", '"a\nb"',
            '"\\u0000"', '"tab\\t"', "true", "false", "today"]
TOKENS = KEYWORDS + OPERATORS + NAMES + LITERALS

_chars = st.characters(blacklist_categories=("Cs",))
tokens = st.one_of(st.sampled_from(TOKENS), st.sampled_from(TOKENS), st.sampled_from(TOKENS),
                   st.sampled_from(HOSTILE).map(lambda s: '"' + s + '"'), st.text(_chars, max_size=3))
separators = st.sampled_from([" ", " ", " ", "", "\n", "\t", "  "])


@st.composite
def soup(draw, definitions: bool = False):
    parts = []
    if definitions and draw(st.booleans()):
        parts.append(draw(st.sampled_from(["segment s = ", "segmentation t {", "## doc\n", "@owner(\"x\")\n",
                                           "segment ", "segment adults = ", "segmentation tier {\n a = "])))
    for _ in range(draw(st.integers(0, 25))):
        parts.append(draw(tokens))
        parts.append(draw(separators))
    return "".join(parts)


@st.composite
def mutants(draw):
    """A valid expression with a few of its tokens deleted, repeated, swapped or replaced."""
    text = draw(expressions(draw(st.sampled_from(AS_OFS)), depth=2))
    words = re.findall(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|\w+|\S', text)
    for _ in range(draw(st.integers(1, 3))):
        if not words:
            break
        i = draw(st.integers(0, len(words) - 1))
        op = draw(st.sampled_from(["delete", "repeat", "swap", "replace", "insert"]))
        if op == "delete":
            del words[i]
        elif op == "repeat":
            words.insert(i, words[i])
        elif op == "swap":
            j = draw(st.integers(0, len(words) - 1))
            words[i], words[j] = words[j], words[i]
        elif op == "replace":
            words[i] = draw(tokens)
        else:
            words.insert(i, draw(tokens))
    return " ".join(words)


garbage = st.text(st.characters(blacklist_characters="\x00"), max_size=60)


# ---------------------------------------------------------------------- API

@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return segc.load_project(write_project(tmp_path_factory.mktemp("notb"), CONFIG, SEGMENTS))


def compile_or_error(project, text: str, dialect: str, form: str) -> None:
    try:
        sql = project.compile_expression(text, dialect=dialect, form=form)
    except segc.SegcError as e:
        assert e.diagnostics, f"a SegcError without diagnostics for {text!r}"
        for d in e.diagnostics:
            str(d.code), str(d.message)
        OUTCOMES["api: SegcError"] += 1
        return
    assert isinstance(sql, str) and sql.strip(), f"{text!r}: no SQL"
    OUTCOMES["api: SQL"] += 1


def _api(project, text, dialect, form, name):
    RAN[name] = RAN.get(name, 0) + 1
    compile_or_error(project, text, dialect, form)


@settings(max_examples=N["api_soup"], **SETTINGS)
@given(text=soup(), dialect=st.sampled_from(DIALECTS), form=st.sampled_from(["select", "count"]))
def test_api_token_soup(project, text, dialect, form):
    _api(project, text, dialect, form, "api_soup")


@settings(max_examples=N["api_mutant"], **SETTINGS)
@given(text=mutants(), dialect=st.sampled_from(DIALECTS), form=st.sampled_from(["select", "count"]))
def test_api_broken_expressions(project, text, dialect, form):
    _api(project, text, dialect, form, "api_mutant")


@settings(max_examples=N["api_garbage"], **SETTINGS)
@given(text=garbage, dialect=st.sampled_from(DIALECTS))
def test_api_unicode_garbage(project, text, dialect):
    _api(project, text, dialect, "select", "api_garbage")


# ---------------------------------------------------------------------- CLI

runner = CliRunner()


@pytest.fixture(scope="module")
def cli_project(tmp_path_factory):
    return write_project(tmp_path_factory.mktemp("notb_cli"), CONFIG, SEGMENTS)


def run_cli(root, content: bytes, command: str, name: str) -> None:
    RAN[name] = RAN.get(name, 0) + 1
    (root / "segments" / "main.seg").write_bytes(content)
    if command == "check":
        args = ["check", str(root)]
    elif command == "check-json":
        args = ["check", str(root), "--format", "json"]
    else:  # the file's text as an ad-hoc expression; the project's file is the original
        (root / "segments" / "main.seg").write_text(SEGMENTS, encoding="utf-8")
        args = ["compile", "-p", str(root), "-e", content.decode("utf-8", "replace").replace("\x00", ""),
                "--dialect", "postgres"]
    result = runner.invoke(app, args)
    output = result.output + result.stderr
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"{args}: {result.exception!r}\n{content!r}"
    assert result.exit_code in (0, 1), f"{args}: exit {result.exit_code}\n{output}\n{content!r}"
    OUTCOMES[f"cli: exit {result.exit_code}"] += 1
    if command == "check-json":
        json.loads(result.stdout)  # machine output stays machine-readable


def _definitions(body: str, how: int) -> str:
    if how == 0:
        return body
    if how == 1:
        return "segment fuzzed = " + body + "\n"
    return "segment ok = age > 3\nsegmentation s {\n  a = " + body + "\n  b = else\n}\nsegment after = vip\n"


COMMANDS = st.sampled_from(["check", "check", "check-json", "compile"])


@settings(max_examples=N["cli_soup"], **SETTINGS)
@given(text=soup(definitions=True), how=st.integers(0, 2), command=COMMANDS)
def test_cli_token_soup(cli_project, text, how, command):
    run_cli(cli_project, _definitions(text, how).encode("utf-8"), command, "cli_soup")


@settings(max_examples=N["cli_mutant"], **SETTINGS)
@given(text=mutants(), how=st.integers(0, 2), command=COMMANDS)
def test_cli_broken_expressions(cli_project, text, how, command):
    run_cli(cli_project, _definitions(text, how).encode("utf-8"), command, "cli_mutant")


@settings(max_examples=N["cli_garbage"], **SETTINGS)
@given(content=st.one_of(garbage.map(lambda s: s.encode("utf-8", "surrogatepass")), st.binary(max_size=60)), command=COMMANDS)
def test_cli_garbage(cli_project, content, command):
    run_cli(cli_project, content, command, "cli_garbage")


def test_zz_summary(capsys):
    if not RAN:
        pytest.skip("the no-traceback tests did not run in this session")
    with capsys.disabled():
        print("\nno traceback: " + ", ".join(f"{k} {v}" for k, v in RAN.items())
              + f" = {sum(RAN.values())} examples; outcomes: "
              + ", ".join(f"{k} {v}" for k, v in sorted(OUTCOMES.items())))
