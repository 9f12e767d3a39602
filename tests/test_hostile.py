"""Hostile string literals: quotes, backslashes, LIKE wildcards, SQL injection attempts,
control characters and tricky Unicode, used with `=`, `!=`, `in [...]`, `not in`,
`contains`, `starts with` and `ends with` against a `name` column whose rows hold all of
them plus near-misses (other case, prefixes, suffixes, other normalisation).

Executed on DuckDB, SQLite and PostgreSQL; the expected members are computed in plain
Python (`==`, `in`, `str.startswith`, `str.endswith`). Every `=` query is also rendered
for every dialect and parsed back with sqlglot: its one string literal must be the
original Python string.
"""
from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

import segc
from tests.conftest import write_project
from tests.engines import ENGINES, open_engine

from segc.backend.dialects import DIALECTS

# (how the literal is written in the segment language, the string it stands for)
HOSTILE = [
    ('"O\'Brien"', "O'Brien"),
    ("'O\\'Brien'", "O'Brien"),                       # the same, single-quoted
    ('"say \\"hi\\""', 'say "hi"'),
    ("'say \"hi\"'", 'say "hi"'),                     # double quotes inside single quotes
    ('"both \' and \\""', "both ' and \""),
    ("'it\\'s'", "it's"),
    ('"\'\'"', "''"),                                 # two single quotes
    ("'\"\"'", '""'),                                 # two double quotes
    ('"back\\\\slash"', "back\\slash"),
    ('"trailing\\\\"', "trailing\\"),                 # a backslash at the very end
    ('"\\\\\\""', '\\"'),                             # backslash before a double quote
    ("'\\\\\\''", "\\'"),                             # backslash before a single quote
    ('"100%"', "100%"),
    ('"%"', "%"),
    ('"a_b"', "a_b"),
    ('"_"', "_"),
    ('"\\\\%"', "\\%"),                               # the usual LIKE escape character
    ('"!_!%"', "!_!%"),                               # another popular ESCAPE character
    ('"[ab]^"', "[ab]^"),                             # T-SQL LIKE character class
    ('"\\"; drop table x; --"', '"; drop table x; --'),
    ("\"'; DROP TABLE customers; --\"", "'; DROP TABLE customers; --"),
    ('"/* not a comment */"', "/* not a comment */"),
    ('"line\\nbreak"', "line\nbreak"),
    ('"tab\\tchar"', "tab\tchar"),
    ('"raw\ttab"', "raw\ttab"),                       # a real tab inside the quotes
    ('"cr\\u000dlf\\u000a"', "cr\rlf\n"),
    ('"bell\\u0007 esc\\u001b[31m del\\u007f"', "bell\x07 esc\x1b[31m del\x7f"),
    ('"soh\x01raw"', "soh\x01raw"),                   # a raw control character
    ('"🎉 party"', "🎉 party"),
    ('"\\ud83c\\udf89 party"', "🎉 party"),           # the same emoji as a surrogate pair
    ('"cafe\\u0301"', "cafe\u0301"),                  # e + combining acute accent
    ('"café"', "caf\u00e9"),                          # precomposed: a different string
    ('"東京の顧客"', "東京の顧客"),
    ('"مرحبا بالعالم"', "مرحبا بالعالم"),
    ('"\\u202eevil\\u202c"', "\u202eevil\u202c"),    # right-to-left override
    ('"👨\\u200d👩\\u200d👧"', "👨\u200d👩\u200d👧"),  # zero-width joiners
    ('"zero\\u200bwidth"', "zero\u200bwidth"),
    ('"\\\\u00e9"', "\\u00e9"),                       # a literal \u escape, not é
    ('"\\\\n"', "\\n"),                               # a literal backslash-n
    ('"$1 ? :name %s {{ x }}"', "$1 ? :name %s {{ x }}"),
    ('"NULL"', "NULL"),
    ('" padded "', " padded "),
    ('"nbsp\\u00a0"', "nbsp\u00a0"),
    ('"\\ufeffbom"', "\ufeffbom"),
    ('"𝔘𝔫𝔦"', "𝔘𝔫𝔦"),                               # outside the BMP
    ('"E\'\\\\x41\'"', "E'\\x41'"),                   # PostgreSQL escape-string syntax
    ('""', ""),
]


def _near_misses(v: str) -> list[str]:
    out = [v.upper(), v.lower(), v.swapcase(), "x" + v, v + "x", " " + v, v + " ", v + v]
    if len(v) > 1:
        out += [v[:-1], v[1:]]
    return out


VALUES = list(dict.fromkeys([v for _s, v in HOSTILE]))
ROWS_NAMES = list(dict.fromkeys(
    VALUES + [m for v in VALUES for m in _near_misses(v)]
    + ["Obrien", "O Brien", "o'brien", "cafe", "CAFÉ", "drop table x", "%%", "__", "\\", "'", '"']))
NAMES = {i + 1: name for i, name in enumerate(ROWS_NAMES)}
NULL_KEY = len(NAMES) + 1  # a customer without a name
OTHER = '"zz-not-a-name"'

CONFIG = {
    "name": "hostile",
    "base": "customers",
    "key": "customer_id",
    "sources": {"customers": {"table": "customers"}},
    "features": {"name": {"type": "string"}},
}


def test_fixture_is_hostile_enough():
    assert len(HOSTILE) >= 30
    assert all("\x00" not in v for v in VALUES)
    assert len(ROWS_NAMES) > 300


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return segc.load_project(write_project(tmp_path_factory.mktemp("hostile"), CONFIG))


@pytest.fixture(scope="module")
def engines(pg_dsn):
    rows = [{"customer_id": k, "name": v} for k, v in NAMES.items()] + [{"customer_id": NULL_KEY}]
    out = {}
    for name in ENGINES:
        engine = open_engine(name, pg_dsn)
        engine.load({"customers": ({"customer_id": "int", "name": "string"}, rows)})
        out[name] = engine
    yield out
    for engine in out.values():
        engine.close()


def test_rows_round_trip(engines):
    """The engines hold the strings exactly (else every later check is meaningless)."""
    for name, engine in engines.items():
        got = dict(engine.query('SELECT "customer_id", "name" FROM "customers"'))
        assert got == {**NAMES, NULL_KEY: None}, name


def _expected(op: str, v: str) -> list[int]:
    test = {
        "=": lambda n: n == v,
        "!=": lambda n: n != v,
        "in": lambda n: n == v,
        "not in": lambda n: n != v,
        "contains": lambda n: v in n,
        "starts with": lambda n: n.startswith(v),
        "ends with": lambda n: n.endswith(v),
    }[op]
    return sorted(k for k, n in NAMES.items() if test(n))


def _expression(op: str, source: str) -> str:
    if op == "in":
        return f"name in [{OTHER}, {source}]"
    if op == "not in":
        return f"name not in [{source}, {OTHER}]"
    return f"name {op} {source}"


OPS = ("=", "!=", "in", "not in", "contains", "starts with", "ends with")
PARAMS = [(engine, i) for engine in ENGINES for i in range(len(HOSTILE))]


@pytest.mark.parametrize("engine,index", PARAMS, ids=[f"{e}-{i}" for e, i in PARAMS])
def test_hostile_literal(project, engines, engine, index):
    source, value = HOSTILE[index]
    eng = engines[engine]
    for op in OPS:
        text = _expression(op, source)
        sql = project.compile_expression(text, dialect=engine)
        members = sorted(row[0] for row in eng.query(sql))
        assert members == _expected(op, value), f"{text!r} on {engine}:\n{sql}"
        if op in ("=", "contains"):  # the complement within the population
            negated = project.compile_expression(f"not ({text})", dialect=engine, form="count")
            assert eng.query(negated)[0][0] == len(NAMES) + 1 - len(members), text


def test_all_literals_in_one_list(project, engines):
    """One `in [...]` holding every hostile literal at once."""
    text = "name in [" + ", ".join(s for s, _v in HOSTILE) + "]"
    expected = sorted(k for k, n in NAMES.items() if n in set(VALUES))
    for name, engine in engines.items():
        sql = project.compile_expression(text, dialect=name)
        assert sorted(r[0] for r in engine.query(sql)) == expected, name


def _string_literals(tree: exp.Expression) -> list[str]:
    out = []
    for node in tree.find_all(exp.Literal, exp.National):
        if isinstance(node, exp.National) or node.is_string:
            out.append(node.this)
    return out


DIALECT_PARAMS = [(d, i) for d in DIALECTS for i in range(len(HOSTILE))]


@pytest.mark.parametrize("dialect,index", DIALECT_PARAMS, ids=[f"{d}-{i}" for d, i in DIALECT_PARAMS])
def test_literal_survives_every_dialect(project, dialect, index):
    source, value = HOSTILE[index]
    sql = project.compile_expression(f"name = {source}", dialect=dialect)
    tree = sqlglot.parse_one(sql, read=dialect)
    assert _string_literals(tree) == [value], f"{dialect}:\n{sql}"
