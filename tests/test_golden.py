"""Golden SQL: every definition of the project in tests/golden/project, compiled for every
dialect, compared byte for byte with tests/golden/<dialect>/<case>.sql.

Cases (file names under tests/golden/<dialect>/):

    <segment>.sql            form="select" of every segment and segmentation branch
    <segmentation>.label.sql form="label" of every segmentation
    <segment>.count.sql      form="count" of a few segments
    rolling/<segment>.sql    the same project without a pinned as-of (as_of="today")

Each golden file must also parse back with ``sqlglot.parse_one(sql, read=dialect)``.
Where a dialect cannot express a case, segc must raise SegcError with the diagnostic
listed in EXPECTED_ERRORS (written by hand) and no golden file exists for it.

To regenerate the golden files after an intended change of the generated SQL:

    SEGC_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

then review the diff (`git diff tests/golden`) before committing. Update mode writes
missing/changed files and deletes files of cases that no longer exist; it never writes
a file for a case that raised.

The golden SQL of DuckDB, SQLite and PostgreSQL is also executed on a small
deterministic dataset: the three engines must select the same members.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import sqlglot
import yaml

import segc
from tests.conftest import table_columns
from tests.engines import ENGINES, open_engine

GOLDEN = Path(__file__).resolve().parent / "golden"
PROJECT = GOLDEN / "project"
UPDATE = os.environ.get("SEGC_UPDATE_GOLDEN") == "1"

from segc.backend.dialects import DIALECTS

PINNED = segc.load_project(PROJECT)
ROLLING = segc.load_project(PROJECT, as_of="today")

SEGMENTATIONS = ("value_tier", "frequency")
COUNTED = ("cmp_eq", "top_share", "inline_count", "value_tier.good")
ROLLED = ("within_last", "within_this_month", "within_last_month", "today_minus", "today_arith",
          "agg_months", "agg_features", "inline_exists", "inline_count", "fn_days_since",
          "top_share", "quantile", "week_activity", "within_this_week")

# case id -> (project, name, form)
CASES: dict[str, tuple[object, str, str]] = {}
for _name in PINNED.segment_names:
    CASES[_name] = (PINNED, _name, "select")
for _name in SEGMENTATIONS:
    CASES[f"{_name}.label"] = (PINNED, _name, "label")
for _name in COUNTED:
    CASES[f"{_name}.count"] = (PINNED, _name, "count")
for _name in ROLLED:
    CASES[f"rolling/{_name}"] = (ROLLING, _name, "select")
CASES["rolling/value_tier.label"] = (ROLLING, "value_tier", "label")

# What a dialect legitimately cannot express: (dialect, case) -> (code, part of the message).
_SQLITE_MONTHS = ("E602", "SQLite does not clamp month ends in rolling date arithmetic")
EXPECTED_ERRORS = {
    ("sqlite", "rolling/today_minus"): _SQLITE_MONTHS,         # today - 6 months, today - 1 year
    ("sqlite", "rolling/agg_months"): _SQLITE_MONTHS,          # window: 6 months
    ("sqlite", "seq_preceded"): ("E602", "SQLite does not clamp month ends when adding months"),  # within 1 month
    ("sqlite", "gmail"): ("E602", "SQLite has no regular expression function"),  # matches
    ("tsql", "gmail"): ("E602", "T-SQL (before SQL Server 2025) has no regular expression function"),
}

PARAMS = [(d, c) for d in DIALECTS for c in CASES]


def golden_path(dialect: str, case: str) -> Path:
    return GOLDEN / dialect / f"{case}.sql"


def compile_case(case: str, dialect: str) -> str:
    project, name, form = CASES[case]
    return project.compile(name, dialect=dialect, form=form)


def test_project_covers_enough():
    # a golden folder per dialect of the table, and none for a dialect it no longer has
    assert sorted(p.name for p in GOLDEN.iterdir() if p.is_dir() and p != PROJECT) == sorted(DIALECTS)
    assert len(PINNED.segment_names) >= 30
    assert PINNED.warnings == [], [w.message for w in PINNED.warnings]
    for name in ROLLED + COUNTED:
        assert name in PINNED.segment_names
    assert set(SEGMENTATIONS) <= set(PINNED.checked.segmentations)


@pytest.mark.parametrize("dialect,case", PARAMS, ids=[f"{d}-{c}" for d, c in PARAMS])
def test_golden(dialect, case):
    path = golden_path(dialect, case)
    expected_error = EXPECTED_ERRORS.get((dialect, case))
    if expected_error is not None:
        code, message = expected_error
        with pytest.raises(segc.SegcError) as info:
            compile_case(case, dialect)
        codes = [d.code for d in info.value.diagnostics]
        assert codes == [code], str(info.value)
        assert message in info.value.diagnostics[0].message
        if UPDATE and path.exists():
            path.unlink()
        assert not path.exists(), f"{path} exists but {dialect} cannot express {case}"
        return
    sql = compile_case(case, dialect)
    data = (sql + "\n").encode("utf-8")
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
    assert path.exists(), f"no golden file {path.relative_to(GOLDEN)}; run with SEGC_UPDATE_GOLDEN=1"
    assert path.read_bytes() == data, (
        f"{case} on {dialect} differs from {path.relative_to(GOLDEN)} "
        "(SEGC_UPDATE_GOLDEN=1 regenerates; review the diff)")
    tree = sqlglot.parse_one(sql, read=dialect)  # must not raise
    assert isinstance(tree, sqlglot.exp.Query)


def test_no_orphan_golden_files():
    """Every golden file belongs to a case (update mode deletes the others)."""
    wanted = {golden_path(d, c) for d, c in PARAMS if (d, c) not in EXPECTED_ERRORS}
    found = {p for d in DIALECTS for p in (GOLDEN / d).rglob("*.sql")} if GOLDEN.exists() else set()
    orphans = found - wanted
    if UPDATE:
        for p in orphans:
            p.unlink()
        orphans = set()
    assert not orphans, sorted(str(p.relative_to(GOLDEN)) for p in orphans)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_deterministic(dialect):
    """Compiling twice gives identical text, also from a freshly loaded project."""
    again = segc.load_project(PROJECT)
    for case, (project, name, form) in CASES.items():
        if (dialect, case) in EXPECTED_ERRORS:
            continue
        first = project.compile(name, dialect=dialect, form=form)
        assert project.compile(name, dialect=dialect, form=form) == first, case
        other = again if project is PINNED else segc.load_project(PROJECT, as_of="today")
        assert other.compile(name, dialect=dialect, form=form) == first, case


_SUBPROCESS = """
import sys, segc
pinned = segc.load_project(sys.argv[1])
for name in pinned.segment_names:
    sys.stdout.write(pinned.compile(name, dialect=sys.argv[2]) + "\\n\\0")
"""


@pytest.mark.parametrize("seed", ["1", "12345"])
def test_deterministic_across_processes(seed):
    """Another interpreter with another string-hash seed produces the same bytes."""
    env = dict(os.environ, PYTHONHASHSEED=seed)
    out = subprocess.run([sys.executable, "-c", _SUBPROCESS, str(PROJECT), "postgres"], env=env,
                         capture_output=True, check=True).stdout.decode("utf-8")
    texts = out.split("\n\0")[:-1]
    assert len(texts) == len(PINNED.segment_names)
    for name, text in zip(PINNED.segment_names, texts):
        assert text == PINNED.compile(name, dialect="postgres"), name


# ---- the executed dialects agree on a deterministic dataset ------------------------

def _rows(today: dt.date):
    """A deterministic population around `today` with missing values everywhere."""
    rnd = random.Random(20240715)

    def maybe(value, p=0.2):
        return None if rnd.random() < p else value

    start = dt.datetime.combine(today, dt.time()) - dt.timedelta(days=560)
    customers, orders = [], []
    for key in range(1, 161):
        customers.append({
            "customer_id": key,
            "country": rnd.choice(["FR", "BE", "CH", "DE", "ES"]),
            "age": maybe(rnd.choice([-3, 0, 7, 17, 18, 25, 30, 31, 35, 40, 50, 65, 70, 90])),
            "name": maybe(rnd.choice(["ann", "Ann", "O'Brien", 'say "hi"', "back\\slash", "café",
                                      "caf\u00e9", "100%_x", "Joanne", "tab\there"])),
            "email": maybe(rnd.choice(["info@x.fr", "a@b.com", "info@y.de", "x.fr", "INFO@z.fr"])),
            "City Name": maybe(rnd.choice(["Paris", "Lyon", "lyon", "PARIS", "Nice"])),
            "signup_date": maybe((start + dt.timedelta(days=rnd.randint(0, 600))).date()),
            "last_login": maybe(start + dt.timedelta(hours=rnd.randint(24 * 500 * rnd.randint(0, 1), 24 * 580))),
            "vip": maybe(rnd.random() < 0.3),
            "is_test": rnd.random() < 0.05,
            "score": maybe(rnd.choice([-4.75, -2.5, -1.2, 0.0, 0.4, 1.0, 1.49, 2.5, 2.52, 2.6, 3.0,
                                       round(rnd.uniform(-5, 5), 2)])),
            "first_name": maybe("Jo"),
            "last_name": maybe(rnd.choice(["Smith", "Bartholomew"])),
        })
        recent = rnd.random() < 0.3  # a third of the customers order mostly in the last 100 days
        for _ in range(rnd.randint(0, 12)):
            first_day = 460 if recent and rnd.random() < 0.8 else 0
            orders.append({"customer_id": key,
                           "ordered_at": start + dt.timedelta(hours=rnd.randint(24 * first_day, 24 * 600)),
                           "amount": round(rnd.uniform(0, 400), 2),
                           "category": rnd.choice(["shoes", "bags", "hats"]),
                           "status": rnd.choice(["completed", "returned", "pending"])})
    return customers, orders


@pytest.fixture(scope="module")
def executed(pg_dsn):
    config = yaml.safe_load((PROJECT / "segc.yml").read_text(encoding="utf-8"))
    columns = table_columns(config)
    out = {}
    for tag, today in (("pinned", PINNED.as_of), ("rolling", dt.date.today())):
        customers, orders = _rows(today)
        tables = {"shop.customers": (columns["shop.customers"], customers),
                  "shop.orders": (columns["shop.orders"], orders)}
        for name in ENGINES:
            engine = open_engine(name, pg_dsn)
            engine.load(tables)
            out[(tag, name)] = engine
    yield out
    for engine in out.values():
        engine.close()


def _members(engine, sql, form):
    rows = engine.query(sql)
    if form == "count":
        return rows
    return sorted(tuple(r) for r in rows)


@pytest.mark.parametrize("case", list(CASES))
def test_executed_dialects_agree(executed, case):
    project, name, form = CASES[case]
    tag = "rolling" if case.startswith("rolling/") else "pinned"
    results = {}
    for dialect in ENGINES:
        if (dialect, case) in EXPECTED_ERRORS:
            continue
        sql = golden_path(dialect, case).read_text(encoding="utf-8")
        results[dialect] = _members(executed[(tag, dialect)], sql, form)
    reference = results.pop("duckdb")
    for dialect, got in results.items():
        assert got == reference, f"{case}: {dialect} disagrees with duckdb"
    if tag == "rolling":  # rolling at today == pinned at today
        today = segc.load_project(PROJECT, as_of=dt.date.today())
        sql = today.compile(name, dialect="duckdb", form=form)
        assert _members(executed[(tag, "duckdb")], sql, form) == reference
