"""first / last / nth / mode and days_between (DESIGN §8.1) on random data: DuckDB, SQLite
and PostgreSQL against the reference interpreter (tests/reference.py), member for member.

Seeded random orders with what makes picks go wrong: several events at one instant
(ties, broken by `order_by: [line]` and then by the value, smallest first, NULL last),
identical duplicate rows, NULL values (a pick on an event whose value is NULL is
missing), NULL `line`s and NULL times, events at the as-of (never counted), `where` and
`during` filters, and k beyond the number of events."""
from __future__ import annotations

import datetime as dt
import random

import pytest

import segc
from tests import reference as ref
from tests.conftest import table_columns, write_project
from tests.engines import open_engine
from tests.test_differential import check_against_reference, run_members

AS_OF = dt.date(2024, 6, 1)
SEEDS = (5, 23, 61)
N_CUSTOMERS = 30
CONFIG = {
    "name": "picks",
    "base": "customers",
    "key": "customer_id",
    "sources": {
        "customers": {"table": "shop.customers"},
        "orders": {"table": "shop.orders", "key": "customer_id", "time": "ordered_at", "order_by": ["line"],
                   "columns": {"amount": "float", "category": "string", "line": "int"}},
    },
    "features": {"age": {"type": "int"}},
}
WHERES = ["", " where amount > 15", ' where category = "totes"', " where not amount > 15"]
DURINGS = ["", "", " during last 20 days"]
TESTS = {"amount": ["> 15", "= 20", "is missing", "is present"],
         "category": ['= "totes"', '= "sneakers"', "is missing"],
         "line": ["= 1", ">= 2", "is missing"],
         "ordered_at": [">= 2024-05-20", "< 2024-05-10", "is missing"]}


def expressions(rng: random.Random, with_value: bool = False) -> list[str]:
    """Picks compared with constants. `with_value`: each pick's value is first used where
    it is needed as such (`p = p`), so that the comparison reads it instead of being
    lowered as tests of edge times (backend/picks.py COMPARED_AT); the same meaning."""
    out = []
    for func in ("first", "last", "nth", "mode"):
        for column, tests in TESTS.items():
            for _ in range(3):
                k = f", {rng.choice([1, 2, 3, 5])}" if func == "nth" else ""
                pick = f"{func}(orders.{column}{k}{rng.choice(WHERES)}{rng.choice(DURINGS)})"
                test = f"{pick} {rng.choice(tests)}"
                out.append(f"({pick} is missing or {pick} = {pick}) and {test}" if with_value else test)
    for _ in range(6):
        a, b = (f"{rng.choice(['first', 'last'])}(orders.ordered_at{rng.choice(WHERES)})" for _ in range(2))
        out.append(f"days_between({a}, {b}) {rng.choice(['>= 3', '< 0', '= 0'])}")
    out.append("days_between(nth(orders.ordered_at, 2), today) > 10")
    return out


def generate(seed: int):
    rng = random.Random(seed)
    as_of = dt.datetime.combine(AS_OF, dt.time())
    customers, orders = [], []
    for key in range(1, N_CUSTOMERS + 1):
        customers.append({"customer_id": key, "age": rng.choice([None, 30])})
        instants = [as_of - dt.timedelta(days=rng.randrange(1, 40), hours=rng.choice([0, 0, 13]))
                    for _ in range(3)] + [as_of]
        for _ in range(rng.randrange(0, 7)):
            orders.append({"customer_id": key, "ordered_at": None if rng.random() < 0.05 else rng.choice(instants),
                           "amount": rng.choice([None, 10.0, 20.0, 20.0, 35.5]),
                           "category": rng.choice([None, "sneakers", "totes", "totes", "bags"]),
                           "line": rng.choice([None, 1, 1, 2, 3])})
            if rng.random() < 0.1:
                orders.append(dict(orders[-1]))  # an identical duplicate row
    return customers, orders


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return segc.load_project(write_project(tmp_path_factory.mktemp("pickdiff"), CONFIG, ""))


@pytest.fixture(scope="module")
def engines(pg_dsn):
    out = {name: open_engine(name, pg_dsn) for name in ("duckdb", "sqlite", "postgres")}
    yield out
    for eng in out.values():
        eng.close()


def load_seed(project, engines, config: dict, seed: int) -> ref.Evaluator:
    """The seed's customers and orders loaded into every engine; the reference over them."""
    customers, orders = generate(seed)
    rows = {"shop.customers": customers, "shop.orders": orders}
    for eng in engines.values():
        eng.load({t: (cols, rows[t]) for t, cols in table_columns(config).items()})
    world = ref.World({c["customer_id"]: {"age": c["age"]} for c in customers}, {"orders": orders},
                      AS_OF, project.schema)
    return ref.Evaluator(world, project.checked.population)


@pytest.mark.parametrize("seed", SEEDS)
def test_picks_match_reference(project, engines, seed):
    ev = load_seed(project, engines, CONFIG, seed)
    selected = 0
    for text in expressions(random.Random(seed)):
        got = run_members(project, engines, text, AS_OF)
        assert set(got) == {"duckdb", "sqlite", "postgres"}, text
        pred, _ = project.check_expression(text)
        expected, _ = check_against_reference(project, ev, got, pred, text, AS_OF)
        selected += 0 < len(expected) < N_CUSTOMERS
    assert selected >= 25  # most expressions split the customers
