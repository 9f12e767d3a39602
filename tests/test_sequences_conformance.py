"""The sequence cases of events.yml (DESIGN §8.1: `followed by`, `not followed by`,
`preceded by`) on DuckDB, SQLite and PostgreSQL, and on Spark (one test for all).

The events.yml project is loaded WITHOUT the three features built on another branch
(last_amount, home_store, second_order_at: `agg: last|mode|nth`); the merge replaces this
file's loading by tests/test_conformance.py's, and tests/conformance_pending/ goes."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import segc
from tests.conftest import table_columns, write_project
from tests.engines import ENGINES

SUITE = yaml.safe_load((Path(__file__).parent / "conformance_pending" / "events.yml").read_text(encoding="utf-8"))
PICKS = ("last_amount", "home_store", "second_order_at")
PROJECT = {**SUITE["project"], "features": {k: v for k, v in SUITE["project"]["features"].items() if k not in PICKS}}
CASES = [c for c in SUITE["cases"] if any(w in c["expr"] for w in ("followed by", "preceded by"))]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, pg_dsn):
    from tests.engines import open_engine

    project = segc.load_project(write_project(tmp_path_factory.mktemp("events"), PROJECT, ""))
    tables = {t: (cols, SUITE["rows"].get(t.split(".")[-1], [])) for t, cols in table_columns(PROJECT).items()}
    engines = {}
    for name in ENGINES:
        engines[name] = open_engine(name, pg_dsn)
        engines[name].load(tables)
    yield project, engines
    for e in engines.values():
        e.close()


def test_the_sequence_cases_are_there():
    assert len(CASES) == 6


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("expr,members", [(c["expr"], c["members"]) for c in CASES], ids=range(len(CASES)))
def test_sequence_case(loaded, engine, expr, members):
    project, engines = loaded
    eng = engines[engine]
    sql = project.compile_expression(expr, dialect=engine)
    assert sorted(row[0] for row in eng.query(sql)) == sorted(members), f"{expr!r} on {engine}:\n{sql}"
    population = eng.query(project.compile_expression("true", dialect=engine, form="count"))[0][0]
    negated = eng.query(project.compile_expression(f"not ({expr})", dialect=engine, form="count"))[0][0]
    assert len(members) + negated == population
