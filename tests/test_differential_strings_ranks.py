"""Differential testing of absolute ranks (`top N by f`, `bottom N by f`), `trim(x)` and
`x matches "re"` (DESIGN §8.1): random data (values with ties and missing ones, strings
with spaces, tabs, newlines, CR and non-ASCII letters) and random expressions (regexes drawn
from the portable subset), executed on DuckDB, SQLite (except `matches`: E602 there) and
PostgreSQL, compared member for member with the reference interpreter (tests/reference.py,
Python's re.search with `$` the end of the string), and `not A` with the complement.

Seeded (`random.Random`), so every run is the same; `SEGC_STRRANK_EXAMPLES` data sets
(default 30) of `EXPRESSIONS` expressions each."""
from __future__ import annotations

import os
import random
import time
from collections import Counter

import pytest

import segc
from segc.front.errors import SegcError
from tests import reference as ref
from tests.conftest import table_columns, write_project
from tests.engines import ENGINES, open_engine
from tests.test_differential import RandomDraw, string_literal

EXAMPLES = int(os.environ.get("SEGC_STRRANK_EXAMPLES", "30"))
EXPRESSIONS = 10
CONFIG = {
    "name": "strrank_fuzz",
    "entity": "customer",
    "base": "customers",
    "key": "customer_id",
    "as_of": "2024-03-31",
    "population": "not is_test",
    "sources": {
        "customers": {"table": "customers"},
        "orders": {"table": "orders", "key": "customer_id", "time": "ordered_at", "columns": {"amount": "float"}},
    },
    "features": {
        "age": {"type": "int"},
        "score": {"type": "float"},
        "name": {"type": "string"},
        "signup": {"type": "date"},
        "is_test": {"type": "bool"},
        "spend": {"type": "float", "from": "orders", "agg": "sum", "column": "amount"},
        "best": {"type": "float", "from": "orders", "agg": "max", "column": "amount"},
    },
}
COLUMNS = table_columns(CONFIG)
RANKED = ["age", "score", "spend", "best", "signup", "age + score", "-age"]
# strings where trim, `.`, `^`, `$` and sets differ between engines if nothing is done
NAMES = ["a", "ab", " a", "a ", " a b ", "\ta\t", "a\n", "\na", "a\nb", "a\r\n", "\r", "é", " é ",
         "aé\n", "", " ", "  ", "a.b", "a$", "b^a", "ba", "A", "ab\n\n", "\n", "bb", "aab", None]
TRIMMED = ["a", "a b", "", "é", "\ta\t", "a\n", "A", "ab"]
REGEX_CHARS = ["a", "b", "é", " ", "\n", "A"]
SETS = ["[ab]", "[^a]", "[a-c]", "[^ ]", "[^\n]", "[b-é]", "[ -a]", "[.$]", "[-a]"]
STATS: Counter = Counter()


def regex(rng: random.Random, depth: int = 0) -> str:
    """A random pattern of the portable subset (DESIGN §8.1)."""
    out = []
    for _ in range(rng.randint(1, 3)):
        r = rng.random()
        if r < 0.35:
            atom = rng.choice(REGEX_CHARS)
        elif r < 0.5:
            atom = "."
        elif r < 0.65:
            atom = rng.choice(SETS)
        elif r < 0.72:
            atom = "\\" + rng.choice(".$^()[]{}*+?|\\")
        elif r < 0.85 and depth < 2:
            atom = "(" + "|".join(regex(rng, depth + 1) for _ in range(rng.randint(1, 2))) + ")"
        else:
            atom = rng.choice(REGEX_CHARS)
        if rng.random() < 0.35:
            atom += rng.choice(["*", "+", "?", "{2}", "{0,2}", "{1,}"])
        out.append(atom)
    pattern = "".join(out)
    if depth == 0:
        if rng.random() < 0.4:
            pattern = "^" + pattern
        if rng.random() < 0.4:
            pattern += "$"
    return pattern


def expression(rng: random.Random) -> str:
    r = rng.random()
    draw = RandomDraw(rng)
    if r < 0.4:
        text = f"{rng.choice(['top', 'bottom'])} {rng.choice([1, 1, 2, 3, 4, 7, 40])} by {rng.choice(RANKED)}"
    elif r < 0.6:
        text = rng.choice([f"trim(name) = {string_literal(draw, rng.choice(TRIMMED))}",
                           f"length(trim(name)) = {rng.randint(0, 3)}",
                           f"trim(name) {rng.choice(['starts with', 'ends with', 'contains'])} "
                           f"{string_literal(draw, rng.choice(['a', ' ', 'b', 'é']))}",
                           "trim(name) is missing"])
    else:
        text = f"name matches {string_literal(draw, regex(rng))}"
    if rng.random() < 0.25:
        text = f"not {text}"
    if rng.random() < 0.15:
        text = f"{text} and age > 20"
    return text


def dataset(rng: random.Random):
    ages = [rng.choice([10, 20, 30, 30, 40]) for _ in range(3)] + [None]
    scores = [rng.choice([-1.5, 0.0, 2.25, 2.25, 7.0]) for _ in range(3)] + [None]
    customers = []
    for key in range(1, rng.randint(0, 12) + 1):
        customers.append({"customer_id": key, "age": rng.choice(ages), "score": rng.choice(scores),
                          "name": rng.choice(NAMES), "is_test": rng.choice([None, False, False, True]),
                          "signup": rng.choice([None, "2024-01-01", "2023-05-06", "2024-01-01"])})
    orders = []
    for key in range(1, len(customers) + 1):
        for _ in range(rng.choice([0, 0, 1, 2, 3])):
            orders.append({"customer_id": key, "ordered_at": rng.choice(["2024-01-01", "2024-03-30", "2024-03-31"]),
                           "amount": rng.choice([None, 5.0, 10.0, 10.0, 2.5])})
    return customers, orders


def world(project, customers, orders) -> ref.World:
    import datetime as dt

    entities = {}
    for row in customers:
        e = {n: row.get(n) for n in ("age", "score", "name", "is_test")}
        e["signup"] = dt.date.fromisoformat(row["signup"]) if row["signup"] else None
        entities[row["customer_id"]] = e
    events = [{**o, "ordered_at": dt.datetime.fromisoformat(o["ordered_at"])} for o in orders]
    return ref.World(entities, {"orders": events}, project.as_of, project.schema)


@pytest.fixture(scope="module")
def setup(tmp_path_factory, pg_dsn):
    project = segc.load_project(write_project(tmp_path_factory.mktemp("strrank"), CONFIG))
    engines = {name: open_engine(name, pg_dsn) for name in ENGINES}
    yield project, engines
    for e in engines.values():
        e.close()


def test_against_the_reference(setup):
    project, engines = setup
    rng = random.Random(17)
    start = time.perf_counter()
    for _ in range(EXAMPLES):
        customers, orders = dataset(rng)
        tables = {"customers": (COLUMNS["customers"], customers), "orders": (COLUMNS["orders"], orders)}
        for eng in engines.values():
            eng.load(tables)
        ev = ref.Evaluator(world(project, customers, orders), project.checked.population)
        population = set(ev.population)
        for _ in range(EXPRESSIONS):
            text = expression(rng)
            pred, _ = project.check_expression(text)
            expected, unknown = set(), set()
            for key in population:
                try:
                    if ev.holds(pred, key):
                        expected.add(key)
                except ref.Ambiguous:
                    unknown.add(key)
            for name, eng in engines.items():
                if name == "sqlite" and " matches " in text:
                    with pytest.raises(SegcError) as info:
                        project.compile_expression(text, dialect=name)
                    assert [d.code for d in info.value.diagnostics] == ["E602"]
                    continue
                got = {row[0] for row in eng.query(project.compile_expression(text, dialect=name))}
                assert got - unknown == expected - unknown, (
                    f"{text!r} on {name}: got {sorted(got)}, reference {sorted(expected)}\n"
                    f"customers={customers}\norders={orders}")
                negated = {row[0] for row in eng.query(project.compile_expression(f"not ({text})", dialect=name))}
                assert negated == population - got, f"not ({text!r}) on {name}"
                STATS[name] += 1
            STATS["decides"] += 0 < len(expected) < len(population)
            STATS["unknown"] += bool(unknown)
    elapsed = time.perf_counter() - start
    print(f"\nstrings/ranks differential: {dict(STATS)} queries in {elapsed:.1f}s")
    # the data decide: a good share of the expressions (a third, measured) neither hold
    # for everyone nor for no one (small populations and `top 40` often take everyone)
    assert STATS["decides"] > EXAMPLES * EXPRESSIONS // 4


def test_regex_generator_stays_in_the_subset():
    """Every generated pattern is accepted by the checker's subset (else the test above
    would exercise E330, not engines), and the generator reaches every part of it."""
    from segc.front.regex_subset import parse

    rng = random.Random(3)
    seen = Counter()
    for _ in range(500):
        p = regex(rng)
        kinds = {t.kind for t in parse(p)}
        seen.update(kinds)
    assert set(seen) >= {"char", "any", "class", "start", "end", "quant", "bar", "open", "close"}
