"""T-SQL has no boolean values: a condition may stand in a WHERE or a CASE WHEN, never
as a value in a select list or a function's argument. A bool `sql:` feature
(`sql: "age >= 18"`) is computed in the features CTE, so on T-SQL it must become 1/0
(NULL where the condition is unknown) — never `SELECT age >= 18 AS x`, which SQL Server
rejects; `coalesce(vip, false)` must be `COALESCE([vip], 0)`, not sqlglot's
`COALESCE([vip], (1 = 0))`.

No SQL Server here: the T-SQL text is parsed back by sqlglot (its shape is checked),
then read as T-SQL and written for DuckDB and SQLite, executed, and its members compared
with answers worked out by hand.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

import segc
from tests.conftest import write_project
from tests.engines import open_engine

CONFIG = {
    "name": "tsql_bools",
    "base": "customers",
    "key": "customer_id",
    "sources": {"customers": {"table": "customers"}},
    "features": {
        "age": {"type": "int"},
        "vip": {"type": "bool"},
        "adult": {"type": "bool", "sql": "age >= 18"},
        "teen_or_vip": {"type": "bool", "sql": "(age between 13 and 19) or vip"},
        "has_age": {"type": "bool", "sql": "age is not null", "nullable": False},
    },
}
SEGMENTS = """
segment adults = adult
segment not_adults = not adult
segment adult_vips = adult and vip
segment teens_or_vips = teen_or_vip
segment no_age = not has_age
segment vip_or_unknown_no = coalesce(vip, false)
segment not_vip_unknown_yes = coalesce(vip, true) = false
segmentation tier {
  grown = adult
  other = else
}
"""
# id, age, vip
ROWS = [(1, 30, True), (2, 15, False), (3, None, True), (4, None, None), (5, 18, None), (6, 12, False)]
# adult: 1, 5 (3, 4: unknown). teen_or_vip: 2 (15), 3 (vip), 1 (vip); 4: unknown; 5: 18 -> true
EXPECTED = {
    "adults": [1, 5],
    "not_adults": [2, 3, 4, 6],  # the complement: missing ages are in it
    "adult_vips": [1],
    "teens_or_vips": [1, 2, 3, 5],
    "no_age": [3, 4],
    "vip_or_unknown_no": [1, 3],
    "not_vip_unknown_yes": [2, 6],
}
LABELS = [(1, "grown"), (2, "other"), (3, "other"), (4, "other"), (5, "grown"), (6, "other")]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return segc.load_project(write_project(tmp_path_factory.mktemp("tsql"), CONFIG, SEGMENTS))


def _is_condition(node: exp.Expression) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    return isinstance(node, (exp.Predicate, exp.Connector, exp.Not))


def _conditions_as_values(tree: exp.Expression) -> list[str]:
    """Conditions standing where T-SQL needs a value: a select-list item, a function's
    argument, THEN/ELSE of a CASE (parenthesised conditions are found at the parenthesis)."""
    out = []
    for node in tree.find_all(exp.Expression):
        if isinstance(node.parent, exp.Paren) or not _is_condition(node):
            continue
        parent = node.parent
        if isinstance(parent, exp.Alias):
            parent, node = parent.parent, parent
        if isinstance(parent, exp.If):
            value = node.arg_key == "true"
        elif isinstance(parent, exp.Case):
            value = node.arg_key == "default"
        else:
            value = (isinstance(parent, exp.Select) and node.arg_key == "expressions"
                     or isinstance(parent, exp.Func) and not isinstance(parent, exp.Connector))
        if value:
            out.append(node.sql("tsql"))
    return out


@pytest.mark.parametrize("name", list(EXPECTED) + ["tier"])
def test_no_condition_as_a_value_in_tsql(project, name):
    form = "label" if name == "tier" else "select"
    sql = project.compile(name, dialect="tsql", form=form)
    tree = sqlglot.parse_one(sql, read="tsql")
    assert _conditions_as_values(tree) == [], sql


@pytest.mark.parametrize("engine", ["duckdb", "sqlite"])
def test_tsql_text_selects_the_right_members(project, engine):
    eng = open_engine(engine)
    try:
        eng.load({"customers": ({"customer_id": "int", "age": "int", "vip": "bool"},
                                [dict(zip(("customer_id", "age", "vip"), r)) for r in ROWS])})
        for name, members in EXPECTED.items():
            tsql = project.compile(name, dialect="tsql")
            sql = sqlglot.transpile(tsql, read="tsql", write=engine)[0]
            assert sorted(r[0] for r in eng.query(sql)) == members, f"{name}:\n{tsql}"
        tsql = project.compile("tier", dialect="tsql", form="label")
        rows = eng.query(sqlglot.transpile(tsql, read="tsql", write=engine)[0])
        assert sorted(tuple(r) for r in rows) == LABELS
    finally:
        eng.close()


def test_other_dialects_keep_the_condition(project):
    """Only T-SQL needs the rewrite: elsewhere the feature is the condition itself."""
    sql = project.compile("adults", dialect="postgres")
    assert '"segc_base"."age" >= 18 AS "adult"' in sql


def _tsql_texts():
    """Every golden T-SQL file, and every definition of the retail example on T-SQL."""
    from tests.conftest import EXAMPLE

    golden = Path(__file__).resolve().parent / "golden" / "tsql"
    for path in sorted(golden.rglob("*.sql")):
        yield str(path.relative_to(golden)), path.read_text(encoding="utf-8")
    example = segc.load_project(EXAMPLE)
    cases = [(name, "select") for name in example.segment_names]
    cases += [(name, "label") for name in example.checked.segmentations]
    for name, form in cases:
        try:
            yield f"retail {name} {form}", example.compile(name, dialect="tsql", form=form)
        except segc.SegcError:  # a diagnostic is not wrong SQL (test_golden says what must compile)
            continue


def test_no_condition_as_a_value_anywhere_in_tsql():
    texts = list(_tsql_texts())
    assert len(texts) > 80
    offending = {case: found for case, sql in texts
                 if (found := _conditions_as_values(sqlglot.parse_one(sql, read="tsql")))}
    assert offending == {}
