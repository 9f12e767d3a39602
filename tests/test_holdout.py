"""Control groups: `holdout p% seed "s"` (segc.holdout).

100,000 integer keys are loaded into DuckDB and the throwaway PostgreSQL server; the
members of each holdout must be the same on both engines and equal to the pure-Python
reference (tests/reference.py, hashlib, which computes the rule with integers where the
SQL compares hex text). The size of each group must be within 5 binomial standard
deviations of the requested share, different seeds must give different, equally sized
and independent groups, and `A and holdout` / `A and not holdout` must split A exactly.
String keys with hostile characters and hostile seeds go through the same comparison.
Spark runs the 100,000 keys in tests/test_engines_parity.py (its session is slow to
start, so it is shared there).
"""
from __future__ import annotations

import datetime as dt
import math
import random
from fractions import Fraction

import pytest
import sqlglot
import yaml
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from segc.front.fmt import format_source
from segc.backend.holdout import threshold_hex
from segc.ir import HOLDOUT_SPACE as SPACE
from segc.ir import holdout_threshold as threshold
from segc.backend.dialects import DIALECTS
from tests import reference as ref
from tests.conftest import write_project
from tests.engines import open_engine

N = 100_000
TABLE = "ab.people"
CONFIG = {
    "name": "ab", "entity": "customer", "base": "people", "key": "id",
    "sources": {"people": {"table": TABLE}},
    "features": {"spend": {"type": "float"}, "is_test": {"type": "bool", "nullable": False}},
    "params": {"campaign": {"type": "string", "default": "spring"}, "n": {"type": "int", "default": 3}},
}
SEGMENTS = """\
segment big = spend > 50
segment control = holdout 10% seed "spring"
segment target = not holdout 10% seed "spring"
segment small_control = holdout 2.5% seed "spring"
segment other_control = holdout 10% seed "autumn"
segment big_control = big and holdout 10% seed "spring"
segment big_target = big and not holdout 10% seed "spring"
segment by_param = holdout 10% seed $campaign
segment third = holdout 33.3% seed "spring"
segment odd_seed = holdout 50% seed "it's \\\\ \\"q\\" été 😀 東京:%_"
"""
# 33.3%: a threshold with hex letters (553f7ced), where a case mismatch would show
SHARES = {"control": 0.10, "small_control": 0.025, "other_control": 0.10, "third": 0.333, "odd_seed": 0.5}

# string keys that quoting, escaping or encoding could get wrong
HOSTILE_KEYS = ["", " ", "O'Brien", 'say "hi"', "back\\slash", "trailing\\", "100%", "a_b", "%_", "café",
                "cafe\u0301", "CAFÉ", "東京", "Zoë", "😀 party", "tab\tnew\nline", "cr\rx", "NULL", "null", "--",
                "'; DROP TABLE x; --", "Straße", "x" * 300, "\u202eevil", "1", "01", "1.0", "-1", "٣"]


def rows() -> list[dict]:
    # spend: 0..99 by a fixed permutation of the keys, missing for every 7th
    return [{"id": k, "spend": None if k % 7 == 0 else float(k * 37 % 100), "is_test": False}
            for k in range(1, N + 1)]


def string_keys() -> list[str]:
    rnd = random.Random(20240701)
    ranges = ((0x01, 0x7F), (0x80, 0xFF), (0x100, 0xD7FF), (0xE000, 0xFFFD), (0x10000, 0x10FFFF))
    out = list(HOSTILE_KEYS)
    while len(out) < 3000:
        text = "".join(chr(rnd.randint(*ranges[rnd.randrange(len(ranges))])) for _ in range(rnd.randint(1, 12)))
        out.append(text)
    return list(dict.fromkeys(out))


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return write_project(tmp_path_factory.mktemp("holdout"), CONFIG, SEGMENTS)


@pytest.fixture(scope="module")
def project(root):
    return segc.load_project(root)


@pytest.fixture(scope="module")
def data():
    return rows()


@pytest.fixture(scope="module")
def engines(pg_dsn, data):
    out = {name: open_engine(name, pg_dsn) for name in ("duckdb", "postgres")}
    for eng in out.values():
        eng.load({TABLE: ({"id": "int", "spend": "float", "is_test": "bool"}, data)})
    yield out
    for eng in out.values():
        eng.close()


def members(project, engine, name: str, **kw) -> set:
    return {r[0] for r in engine.query(project.compile(name, dialect=engine.name, **kw))}


def reference(project, entities: dict, name: str) -> set:
    pred = project.checked.segments[name].pred
    world = ref.World(entities, {}, dt.date(2024, 7, 1), project.schema)
    got, unknown = ref.evaluate(world, pred, project.checked.population)
    assert not unknown
    return got


@pytest.fixture(scope="module")
def entities(data):
    return {r["id"]: {"spend": r["spend"], "is_test": r["is_test"]} for r in data}


# ---- the rule ---------------------------------------------------------------------------

@pytest.mark.parametrize("percent", [10.0, 2.5, 33.3, 0.1, 50.0, 99.9, 12.345678, 1e-7])
def test_threshold_is_the_exact_share(percent):
    """floor(share × 16^8), with the share read as the decimal the user wrote."""
    t = threshold(percent)
    share = Fraction(str(percent)) / 100
    assert Fraction(t, SPACE) <= share < Fraction(t + 1, SPACE)
    text = threshold_hex(percent)
    assert len(text) == 8 and text == text.lower() and int(text, 16) == t


def test_hex_text_compares_like_numbers(engines):
    """The SQL compares 8-digit lowercase hex text; on both engines (and in every
    PostgreSQL collation the server has among the usual ones) that is the numeric order."""
    rnd = random.Random(7)
    edges = [0, 9, 10, 0x09999999, 0x0A000000, 0x9FFFFFFF, 0xA0000000, 0xFFFFFFFF, 0xF0000000, 0x0FFFFFFF]
    values = edges + [rnd.randrange(SPACE) for _ in range(300)]
    pairs = [(a, b) for a in edges for b in edges] + [(rnd.choice(values), rnd.choice(values)) for _ in range(500)]
    literals = ", ".join(f"('{a:08x}', '{b:08x}')" for a, b in pairs)
    want = [a < b for a, b in pairs]
    got = engines["duckdb"].query(f"SELECT a < b FROM (VALUES {literals}) AS t(a, b)")
    assert [r[0] for r in got] == want
    pg = engines["postgres"]
    names = {r[0] for r in pg.query("SELECT collname FROM pg_collation")}
    collations = [None] + [c for c in ("C", "POSIX", "en_US.utf8", "en_US", "und-x-icu", "en-x-icu", "fr-x-icu")
                           if c in names]
    for c in collations:
        cmp = "a < b" if c is None else f'a COLLATE "{c}" < b COLLATE "{c}"'
        got = pg.query(f"SELECT {cmp} FROM (VALUES {literals}) AS t(a, b)")
        assert [r[0] for r in got] == want, c


# ---- 100,000 keys ----------------------------------------------------------------------

def test_members_identical_on_duckdb_postgres_and_reference(project, engines, entities):
    for name in ("control", "small_control", "other_control", "third", "target", "big_control", "odd_seed"):
        want = reference(project, entities, name)
        for eng in engines.values():
            assert members(project, eng, name) == want, (name, eng.name)


@pytest.mark.parametrize("name", sorted(SHARES))
def test_share_close_to_requested(project, engines, name):
    p = SHARES[name]
    sigma = math.sqrt(N * p * (1 - p))
    for eng in engines.values():
        count = eng.query(project.compile(name, dialect=eng.name, form="count"))[0][0]
        assert abs(count - N * p) <= 5 * sigma, (name, eng.name, count, N * p)
        assert len(members(project, eng, name)) == count


def test_stable_across_runs(root, project, engines):
    again = segc.load_project(root)
    for eng in engines.values():
        sql = project.compile("big_control", dialect=eng.name)
        assert again.compile("big_control", dialect=eng.name) == sql
        first = {r[0] for r in eng.query(sql)}
        assert first and {r[0] for r in eng.query(sql)} == first


def test_seeds_give_different_equal_and_independent_groups(project, engines):
    p = SHARES["control"]
    for eng in engines.values():
        a, b = members(project, eng, "control"), members(project, eng, "other_control")
        assert a != b
        assert abs(len(a) - len(b)) <= 5 * math.sqrt(2 * N * p * (1 - p))
        # independent splits: |A ∩ B| ~ Binomial(N, p²)
        both = len(a & b)
        assert abs(both - N * p * p) <= 5 * math.sqrt(N * p * p * (1 - p * p)), both


def test_holdout_splits_a_segment_exactly(project, engines):
    for eng in engines.values():
        big = members(project, eng, "big")
        control, target = members(project, eng, "big_control"), members(project, eng, "big_target")
        assert control | target == big and not control & target
        assert 0 < len(control) < len(target)
        population = {r[0] for r in eng.query('SELECT "id" FROM "ab"."people"')}
        everyone_control, everyone_target = members(project, eng, "control"), members(project, eng, "target")
        assert everyone_control | everyone_target == population and not everyone_control & everyone_target
        assert control == big & everyone_control


def test_seed_from_a_parameter(root, project, engines):
    eng = engines["duckdb"]
    assert members(project, eng, "by_param") == members(project, eng, "control")
    autumn = segc.load_project(root, params={"campaign": "autumn"})
    assert members(autumn, eng, "by_param") == members(project, eng, "other_control")


# ---- string keys and a global control group ---------------------------------------------

@pytest.fixture(scope="module")
def string_project(tmp_path_factory):
    config = {**CONFIG, "features": {"spend": {"type": "float"}}, "params": {}}
    segments = 'segment half = holdout 50% seed "spring"\n' \
               'segment odd_half = holdout 50% seed "it\'s \\\\ \\"q\\" été 😀"\n' \
               'segment tenth = not holdout 90% seed "x"\n'
    return segc.load_project(write_project(tmp_path_factory.mktemp("strkeys"), config, segments))


def test_string_keys_with_hostile_characters(pg_dsn, string_project):
    keys = string_keys()
    data = [{"id": k, "spend": 1.0} for k in keys]
    world = {k: {"spend": 1.0} for k in keys}
    for name in ("duckdb", "postgres"):
        with open_engine(name, pg_dsn) as eng:
            eng.load({TABLE: ({"id": "string", "spend": "float"}, data)})
            for seg in ("half", "odd_half", "tenth"):
                want = reference(string_project, world, seg)
                assert 0 < len(want) < len(keys)
                assert members(string_project, eng, seg) == want, (name, seg)


def test_a_global_control_group_in_the_population(tmp_path, engines, entities):
    config = {**CONFIG, "population": 'not is_test and not holdout 5% seed "global"'}
    p = segc.load_project(write_project(tmp_path / "global", config, SEGMENTS))
    want = reference(p, entities, "control")  # the reference applies the population too
    for eng in engines.values():
        got = members(p, eng, "control")
        assert got == want
        population = eng.query(p.compile_expression("true", dialect=eng.name, form="count"))[0][0]
        assert abs(population - 0.95 * N) <= 5 * math.sqrt(N * 0.05 * 0.95)


# ---- SQL text ---------------------------------------------------------------------------

EXPECTED = {
    "duckdb": """SUBSTRING(MD5('spring:' || CAST("segc_key" AS TEXT)), 1, 8) < '19999999'""",
    "postgres": """SUBSTRING(MD5('spring:' || CAST("segc_key" AS TEXT)) FROM 1 FOR 8) < '19999999'""",
    "spark": """SUBSTRING(MD5(CONCAT('spring:', CAST(`segc_key` AS STRING))), 1, 8) < '19999999'""",
    "bigquery": """SUBSTRING(TO_HEX(MD5(CONCAT('spring:', CAST(`segc_key` AS STRING)))), 1, 8) < '19999999'""",
    "trino": """SUBSTR(LOWER(TO_HEX(MD5(TO_UTF8(CONCAT(CAST('spring:' AS VARCHAR), CAST("segc_key" AS VARCHAR)))))), 1, 8)"""
             """ < '19999999'""",
    "tsql": """SUBSTRING(LOWER(CONVERT(VARCHAR(32), HASHBYTES('MD5', CAST('spring:' + CAST([segc_key] AS VARCHAR(MAX))"""
            """ AS VARCHAR(MAX))), 2)), 1, 8) < '19999999'""",
}


@pytest.mark.parametrize("dialect", sorted(EXPECTED))
def test_expected_sql(project, dialect):
    sql = project.compile("control", dialect=dialect, pretty=False)
    assert sql.endswith("WHERE " + EXPECTED[dialect]), sql


@pytest.mark.parametrize("dialect", [d for d in DIALECTS if d != "sqlite"])
def test_every_other_dialect_compiles_and_parses_back(project, dialect):
    sql = project.compile("big_target", dialect=dialect)
    assert "MD5" in sql.upper()
    sqlglot.parse_one(sql, read=dialect)


def test_sqlite_is_a_diagnostic(root, project):
    with pytest.raises(segc.SegcError) as e:
        project.compile("control", dialect="sqlite")
    [d] = e.value.diagnostics
    assert d.code == "E602" and "`holdout`" in d.message and "SQLite has no MD5" in d.message
    result = CliRunner().invoke(app, ["compile", "big_control", "-p", str(root), "--dialect", "sqlite"])
    assert result.exit_code == 1
    assert "E602" in result.output and "holdout" in result.output and "Traceback" not in result.output


# ---- diagnostics, keywords, formatting ---------------------------------------------------

@pytest.mark.parametrize("text, code, message, at", [
    ('segment x = holdout 0% seed "a"\n', "E308", "more than 0% and less than 100%", (1, 13)),
    ('segment x = holdout 100% seed "a"\n', "E308", "more than 0% and less than 100%", (1, 13)),
    ('segment x = spend > 1 and holdout 150.5% seed "a"\n', "E308", "more than 0% and less than 100%", (1, 27)),
    ('segment x = holdout 0.000000001% seed "a"\n', "E308", "too small to hold anyone", (1, 13)),
    ('segment x = holdout 10% seed ""\n', "E308", "must not be empty", (1, 30)),
    ('segment x = holdout 10% seed $n\n', "E308", "must be a string; this is a whole number", (1, 30)),
    ('segment x = holdout 10% seed $nope\n', "E204", "unknown parameter", (1, 30)),
    ('segment x = holdout 10% seed 5\n', "E101", "unexpected `5`", (1, 30)),
    ('segment x = holdout 10 seed "a"\n', "E101", "unexpected `seed`", (1, 24)),
    ('segment x = holdout 10% seed "a" + 1 > 0\n', "E101", "unexpected `+`", (1, 34)),
    ('segment x = (holdout 10% seed "a") + 1 > 0\n', "E302", "a condition cannot be used as a value", (1, 14)),
])
def test_errors(tmp_path, text, code, message, at):
    root = write_project(tmp_path / "p", CONFIG, text)
    with pytest.raises(segc.SegcError) as e:
        segc.load_project(root)
    d = e.value.diagnostics[0]
    assert (d.code, (d.span.line, d.span.col)) == (code, at), d
    assert message in d.message
    result = CliRunner().invoke(app, ["check", str(root)])
    assert result.exit_code == 1 and code in result.output and "Traceback" not in result.output


def test_not_inside_an_aggregate(tmp_path):
    config = {**CONFIG, "sources": {**CONFIG["sources"], "orders": {
        "table": "ab.orders", "key": "id", "time": "at", "columns": {"amount": "float"}}}}
    root = write_project(tmp_path / "p", config, 'segment x = count(orders where holdout 10% seed "a") > 0\n')
    with pytest.raises(segc.SegcError) as e:
        segc.load_project(root)
    [d] = e.value.diagnostics
    assert d.code == "E306" and "inside an aggregate" in d.message and (d.span.line, d.span.col) == (1, 32)


@pytest.mark.parametrize("word", ["holdout", "seed"])
def test_keywords_are_reserved(tmp_path, word):
    config = {**CONFIG, "features": {**CONFIG["features"], word: {"type": "int"}}}
    with pytest.raises(segc.SegcError) as e:
        segc.load_project(write_project(tmp_path / word, config, "segment x = spend > 1\n"))
    assert any(f"`{word}` cannot be a feature name" in d.message for d in e.value.diagnostics)
    # names that only start with a keyword are names
    fine = {**CONFIG, "features": {**CONFIG["features"], f"{word}_x": {"type": "int"}}}
    segc.load_project(write_project(tmp_path / f"{word}_x", fine, f"segment x = {word}_x > 1\n"))


def test_canonical_format():
    text = "segment  x=not   holdout 10.0 % seed  'it\\'s'and holdout 2.50% seed $campaign\n"
    assert format_source(text) == 'segment x = not holdout 10% seed "it\'s" and holdout 2.5% seed $campaign\n'
    assert format_source(format_source(text)) == format_source(text)


# ---- `segc test`: SQLite gets the other engines' MD5 -------------------------------------

def test_sqlite_md5_of_the_test_runner_matches_duckdb():
    from segc.run.memory import open_memory

    lite, duck = open_memory("sqlite"), open_memory("duckdb")
    texts = [k for k in string_keys() if "\x00" not in k] + ["spring:1", "it's été 😀:42"]
    got = [lite.execute("SELECT md5(?)", (t,)).fetchone()[0] for t in texts]
    assert got == [duck.execute("SELECT md5(?)", [t]).fetchone()[0] for t in texts]
    assert lite.execute("SELECT md5(NULL)").fetchone()[0] is None


def test_holdout_segments_pass_segc_test(tmp_path, entities):
    """A `segc test` file whose expectations are the reference's members; DuckDB agrees on
    the same rows, and both engines of `segc test` (SQLite through its registered md5) pass."""
    from segc.apps.segtest import run_tests

    names = ("control", "big_control", "big_target", "third", "odd_seed")
    root = write_project(tmp_path / "ab", CONFIG, SEGMENTS)
    project = segc.load_project(root)
    people = {k: entities[k] for k in range(1, 401)}
    expect = {name: sorted(reference(project, people, name)) for name in names}
    data = [{"id": k, **v} for k, v in people.items()]
    with open_engine("duckdb") as duck:
        duck.load({TABLE: ({"id": "int", "spend": "float", "is_test": "bool"}, data)})
        for name in names:
            assert members(project, duck, name) == set(expect[name]), name
    assert all(0 < len(v) < len(people) for v in expect.values())
    (root / "tests").mkdir()
    (root / "tests" / "holdout.yml").write_text(yaml.safe_dump(
        {"as_of": dt.date(2024, 7, 1), "rows": {"people": data}, "expect": expect}, sort_keys=False), encoding="utf-8")
    report = run_tests(project)
    assert report.ok and report.engines == ("duckdb", "sqlite"), report.to_dict()
    assert report.checks == 2 * len(names)
    result = CliRunner().invoke(app, ["test", "-p", str(root)])
    assert result.exit_code == 0, result.output
