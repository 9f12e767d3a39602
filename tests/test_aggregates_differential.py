"""Event aggregates against an independent pure-Python reference, on DuckDB, SQLite and
PostgreSQL.

Seeded random orders (NULL, negative and fractional amounts, NULL categories, integer
quantities, timestamps clustered on the window boundaries of several as-of dates: month
ends, a leap day, the day after one) and every aggregate kind (count, count of a column,
count_distinct, sum, avg, min, max over numbers, timestamps and strings, exists), with
and without `where`, with and without a window — both as features declared in segc.yml
(`window:`) and inline (`during ...`).

The reference below implements DESIGN.md §2-§3 on its own (it does not import segc):
only events with `t < as_of`; a window keeps `lo <= t < hi`, with month and year
arithmetic clamped to the month's end; `count`/`sum` of nothing is 0, `avg/min/max` of
nothing is missing; NULLs are ignored by the aggregates; inside `where`, a condition on a
NULL column is false and `not` is its complement.

Two comparisons per seed, as-of and engine:
1. values: one query projects every aggregate per customer (the lowering used by
   `segc sample`, rendered for the engine), compared value by value with the reference;
2. members: `compile_expression("<aggregate> > t")` and `"<aggregate> is missing"` through
   the public API, for thresholds between two reference values, compared with the
   customers the reference selects.
"""
from __future__ import annotations

import calendar
import datetime as dt
import math
import random

import pytest

import segc
from segc.backend.lower import KEY
from segc.backend.trees import col, ident
from segc.backend.render import render
from tests.conftest import table_columns, write_project
from tests.engines import ENGINES, normalize, open_engine

SEEDS = (11, 23, 37, 41)
AS_OFS = (dt.date(2024, 3, 31), dt.date(2024, 2, 29), dt.date(2023, 3, 31), dt.date(2024, 1, 31),
          dt.date(2025, 3, 1))
N_CUSTOMERS = 40
CATEGORIES = ("shoes", "bags", "hats", "coats")  # lowercase ASCII: same order under every collation

COLUMNS = {"amount": "float", "qty": "int", "category": "string"}
TIME = "ordered_at"
COLUMN_TYPES = dict(COLUMNS, ordered_at="timestamp")

# (agg, column); `exists` has no segc.yml form
KINDS = [
    ("count", None), ("count", "amount"), ("count_distinct", "category"), ("count_distinct", "amount"),
    ("sum", "amount"), ("sum", "qty"), ("avg", "amount"), ("avg", "qty"), ("min", "amount"),
    ("max", "amount"), ("min", "qty"), ("min", "ordered_at"), ("max", "ordered_at"), ("min", "category"),
    ("max", "category"), ("exists", None),
]
WHERES = [None, 'category = "shoes"', "amount > 10", "not amount > 0", "category is missing or qty >= 2",
          "ordered_at >= 2024-02-15T12:00:00"]
# inline `during` periods
PERIODS = [None, "last 30 days", "last 1 month", "last 2 weeks", "last 1 year", "last 6 months", "this month",
           "last month", "this year", "last year", "this week", "last week", "2024-01-01 to 2024-02-29"]
# segc.yml `window:` durations
WINDOWS = [None, "30 days", "1 month", "2 weeks", "1 year", "6 months", "90 days"]


# ---- the reference -----------------------------------------------------------------

def shift(d: dt.date, amount: int, unit: str) -> dt.date:
    if unit == "day":
        return d + dt.timedelta(days=amount)
    if unit == "week":
        return d + dt.timedelta(weeks=amount)
    months = d.year * 12 + d.month - 1 + amount * (12 if unit == "year" else 1)
    year, month0 = divmod(months, 12)
    return dt.date(year, month0 + 1, min(d.day, calendar.monthrange(year, month0 + 1)[1]))


def _duration(text: str) -> tuple[int, str]:
    n, unit = text.split()
    return int(n), unit.rstrip("s")


def period_bounds(period: str | None, as_of: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """[lo, hi) of a `during` period or `window:` (None: unbounded); the as-of cap is separate."""
    if period is None:
        return None, None
    words = period.split()
    if " to " in period:
        a, b = period.split(" to ")
        return dt.date.fromisoformat(a), dt.date.fromisoformat(b) + dt.timedelta(days=1)
    if words[0].isdigit():  # a segc.yml window
        n, unit = _duration(period)
        return shift(as_of, -n, unit), None
    if len(words) == 3:  # last N unit
        n, unit = _duration(" ".join(words[1:]))
        return shift(as_of, -n, unit), as_of
    kind, unit = words
    if unit == "week":
        start = as_of - dt.timedelta(days=as_of.weekday())
    elif unit == "month":
        start = as_of.replace(day=1)
    else:
        start = as_of.replace(month=1, day=1)
    nxt = shift(start, 1, unit)
    return (start, nxt) if kind == "this" else (shift(start, -1, unit), start)


def where_holds(where: str | None, e: dict) -> bool:
    amount, qty, category = e["amount"], e["qty"], e["category"]
    if where is None:
        return True
    if where == 'category = "shoes"':
        return category == "shoes"
    if where == "amount > 10":
        return amount is not None and amount > 10
    if where == "not amount > 0":
        return not (amount is not None and amount > 0)
    if where == "category is missing or qty >= 2":
        return category is None or (qty is not None and qty >= 2)
    if where == "ordered_at >= 2024-02-15T12:00:00":
        return e[TIME] >= dt.datetime(2024, 2, 15, 12)
    raise AssertionError(where)


def reference(events: list[dict], as_of: dt.date, agg: str, column: str | None, where, period):
    lo, hi = period_bounds(period, as_of)
    end = dt.datetime.combine(min(hi, as_of) if hi else as_of, dt.time())
    start = dt.datetime.combine(lo, dt.time()) if lo else None
    rows = [e for e in events if e[TIME] < end and (start is None or e[TIME] >= start) and where_holds(where, e)]
    if agg == "exists":
        return len(rows) > 0
    if agg == "count" and column is None:
        return len(rows)
    values = [e[column] for e in rows if e[column] is not None]
    if agg == "count":
        return len(values)
    if agg == "count_distinct":
        return len(set(values))
    if agg == "sum":
        return sum(values) if values else 0
    if not values:
        return None
    if agg == "avg":
        return sum(values) / len(values)
    return min(values) if agg == "min" else max(values)


# ---- the variants: inline text and segc.yml features --------------------------------

def _inline(agg, column, where, period) -> str:
    target = f"orders.{column}" if column else "orders"
    text = f"{agg}({target}"
    if where:
        text += f" where {where}"
    if period:
        text += f" during {period}"
    return text + ")"


def _variants():
    """(label, expression text, agg, column, where, period-or-window, value type). Every
    kind with every where (the period rotating), and every kind with every period (the
    where rotating); the same for segc.yml features with `window:`."""
    out, seen = [], set()

    def add(form, agg, column, where, period):
        key = (form, agg, column, where, period)
        if key in seen:
            return
        seen.add(key)
        if agg in ("count", "count_distinct", "exists"):
            vtype = "int" if agg != "exists" else "bool"
        elif agg == "avg":
            vtype = "float"
        else:
            vtype = COLUMN_TYPES[column]
        if form == "inline":
            out.append((f"inline_{len(out)}", _inline(agg, column, where, period), agg, column, where, period, vtype))
        else:
            name = f"f_{len(out)}"
            out.append((name, name, agg, column, where, period, vtype))

    for i, (agg, column) in enumerate(KINDS):
        for j, where in enumerate(WHERES):
            add("inline", agg, column, where, PERIODS[(i + j) % len(PERIODS)])
        for j, period in enumerate(PERIODS):
            add("inline", agg, column, WHERES[(i + j) % len(WHERES)], period)
        if agg == "exists":
            continue
        for j, where in enumerate(WHERES):
            add("feature", agg, column, where, WINDOWS[(i + j) % len(WINDOWS)])
        for j, window in enumerate(WINDOWS):
            add("feature", agg, column, WHERES[(i + 2 * j) % len(WHERES)], window)
    return out


VARIANTS = _variants()


def _config() -> dict:
    features = {}
    for name, text, agg, column, where, window, vtype in VARIANTS:
        if name != text:
            continue
        f = {"type": vtype, "from": "orders", "agg": agg}
        if column:
            f["column"] = column
        if where:
            f["where"] = where
        if window:
            f["window"] = window
        features[name] = f
    return {
        "name": "aggregates",
        "base": "customers",
        "key": "customer_id",
        "sources": {
            "customers": {"table": "shop.customers"},
            "orders": {"table": "shop.orders", "key": "customer_id", "time": TIME, "columns": dict(COLUMNS)},
        },
        "features": {"country": {"type": "string"}, **features},
    }


CONFIG = _config()


# ---- data ---------------------------------------------------------------------------

def _boundaries() -> list[dt.datetime]:
    """Instants on and next to every window bound of every as-of."""
    days = set()
    for a in AS_OFS:
        month = a.replace(day=1)
        week = a - dt.timedelta(days=a.weekday())
        days |= {a, a + dt.timedelta(days=1), a - dt.timedelta(days=30), a - dt.timedelta(days=90),
                 a - dt.timedelta(days=14), shift(a, -1, "month"), shift(a, -6, "month"), shift(a, -1, "year"),
                 month, shift(month, -1, "month"), a.replace(month=1, day=1),
                 shift(a.replace(month=1, day=1), -1, "year"), week, week - dt.timedelta(days=7)}
    days |= {dt.date(2024, 1, 1), dt.date(2024, 2, 29), dt.date(2024, 3, 1)}
    out = []
    for d in sorted(days):
        midnight = dt.datetime.combine(d, dt.time())
        out += [midnight, midnight - dt.timedelta(seconds=1), midnight + dt.timedelta(hours=12)]
    out.append(dt.datetime(2024, 2, 15, 12))
    out.append(dt.datetime(2024, 2, 15, 11, 59, 59))
    return out


BOUNDARIES = _boundaries()


def generate(seed: int) -> dict[int, list[dict]]:
    rng = random.Random(seed)
    events: dict[int, list[dict]] = {}
    for c in range(1, N_CUSTOMERS + 1):
        n = rng.choice([0, 0, 1, 2, 3, 5, 8, 12])
        out = []
        for _ in range(n):
            if rng.random() < 0.5:
                t = rng.choice(BOUNDARIES)
            else:
                base = dt.datetime.combine(rng.choice(AS_OFS), dt.time())
                t = base + dt.timedelta(seconds=rng.randint(-420 * 86400, 5 * 86400))
            out.append({
                TIME: t,
                "amount": None if rng.random() < 0.12 else rng.randint(-8, 40) * 2.5 + rng.choice([0, 0.25]),
                "qty": None if rng.random() < 0.15 else rng.randint(-1, 5),
                "category": None if rng.random() < 0.2 else rng.choice(CATEGORIES),
            })
        events[c] = out
    return events


def _tables(events):
    columns = table_columns(CONFIG)
    customers = [{"customer_id": c, "country": "FR"} for c in events]
    orders = [{"customer_id": c, **e} for c, es in events.items() for e in es]
    return {"shop.customers": (columns["shop.customers"], customers),
            "shop.orders": (columns["shop.orders"], orders)}


# ---- compiling ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return segc.load_project(write_project(tmp_path_factory.mktemp("aggregates"), CONFIG))


_VALUE_SQL: dict = {}
_CHECKED: list = []
CHUNK = 100  # variants per query: DuckDB plans hundreds of conditional aggregates slowly


def _checked(project) -> list:
    """Each variant as checked ir: a value, or (exists) a condition."""
    if not _CHECKED:
        for label, text, *_rest, vtype in VARIANTS:
            if vtype == "bool":
                _CHECKED.append((label, project.check_expression(text)[0], True))
            else:
                pred, _used = project.check_expression(f"{text} is present")
                _CHECKED.append((label, pred.operand, False))
    return _CHECKED


def values_sql(project, as_of: dt.date, dialect: str) -> list[tuple[int, str]]:
    """Queries of the key and the values of a chunk of variants per customer, with the
    index of the chunk's first variant (cached: they do not depend on the data; the trees
    are lowered once per as-of and rendered per dialect)."""
    if (as_of, dialect) not in _VALUE_SQL:
        if as_of not in _VALUE_SQL:
            _VALUE_SQL[as_of] = _value_trees(project, as_of)
        _VALUE_SQL[as_of, dialect] = [(start, render(tree, dialect, pretty=False))
                                      for start, tree in _VALUE_SQL[as_of]]
    return _VALUE_SQL[as_of, dialect]


def _value_trees(project, as_of: dt.date) -> list:
    from sqlglot import exp

    checked = _checked(project)
    out = []
    for start in range(0, len(checked), CHUNK):
        chunk = checked[start:start + CHUNK]

        def select(lw, chunk=chunk):
            cols = [exp.alias_(col(KEY), ident("customer_id"))]
            for label, node, is_pred in chunk:
                if is_pred:
                    value = exp.Case(ifs=[exp.If(this=lw.pred(node), true=exp.Literal.number(1))],
                                     default=exp.Literal.number(0))
                else:
                    value = lw.value(node)
                cols.append(exp.alias_(value, ident(label)))
            return cols, None

        out.append((start, project.lowerer(as_of).query(project.checked.population, select)))
    return out


def _same(expected, got, vtype) -> bool:
    if expected is None or got is None:
        return expected is None and got is None
    if vtype == "float":
        return math.isclose(expected, got, rel_tol=1e-9, abs_tol=1e-9)
    return expected == got


def _threshold_cases(rng: random.Random, expected: dict[str, dict[int, object]]) -> list[tuple[str, list[int]]]:
    """Expressions `<aggregate> > t` (t between two reference values) and `is missing`,
    with the customers the reference selects."""
    cases = []
    numeric = [v for v in VARIANTS if v[6] in ("int", "float")]
    for label, text, agg, column, where, period, vtype in rng.sample(numeric, 14):
        values = sorted({v for v in expected[label].values() if v is not None})
        if len(values) >= 2:
            i = rng.randrange(len(values) - 1)
            t = (values[i] + values[i + 1]) / 2
        else:
            t = (values[0] if values else 0) - 0.5
        literal = repr(float(t))
        cases.append((f"{text} > {literal}", sorted(c for c, v in expected[label].items()
                                                    if v is not None and v > t)))
        if agg in ("avg", "min", "max"):
            cases.append((f"{text} is missing", sorted(c for c, v in expected[label].items() if v is None)))
    for label, text, *_rest in rng.sample([v for v in VARIANTS if v[6] in ("timestamp", "string")], 4):
        cases.append((f"{text} is present", sorted(c for c, v in expected[label].items() if v is not None)))
    for label, text, *_rest in rng.sample([v for v in VARIANTS if v[6] == "bool"], 3):
        cases.append((text, sorted(c for c, v in expected[label].items() if v)))
        cases.append((f"not {text}", sorted(c for c, v in expected[label].items() if not v)))
    return cases


# ---- the tests ----------------------------------------------------------------------

def test_variants_cover_every_kind_where_and_window():
    inline = [v for v in VARIANTS if v[0].startswith("inline_")]
    features = [v for v in VARIANTS if v[0].startswith("f_")]
    assert {(v[2], v[3]) for v in inline} == set(KINDS)
    assert {v[4] for v in inline} == set(WHERES) and {v[5] for v in inline} == set(PERIODS)
    assert {(v[2], v[3]) for v in features} == set(KINDS) - {("exists", None)}
    assert {v[4] for v in features} == set(WHERES) and {v[5] for v in features} == set(WINDOWS)
    assert len(VARIANTS) > 300


def test_reference_bounds():
    """The reference's own calendar, on the cases DESIGN.md spells out."""
    assert shift(dt.date(2024, 3, 31), -1, "month") == dt.date(2024, 2, 29)
    assert shift(dt.date(2023, 3, 31), -1, "month") == dt.date(2023, 2, 28)
    assert shift(dt.date(2024, 1, 31), -1, "month") == dt.date(2023, 12, 31)
    assert shift(dt.date(2024, 2, 29), -1, "year") == dt.date(2023, 2, 28)
    assert period_bounds("this week", dt.date(2024, 3, 31)) == (dt.date(2024, 3, 25), dt.date(2024, 4, 1))
    assert period_bounds("last month", dt.date(2024, 3, 31)) == (dt.date(2024, 2, 1), dt.date(2024, 3, 1))
    assert period_bounds("2024-01-01 to 2024-02-29", dt.date(2024, 3, 31)) == \
        (dt.date(2024, 1, 1), dt.date(2024, 3, 1))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("seed", SEEDS)
def test_aggregates_match_reference(project, pg_dsn, engine, seed):
    events = generate(seed)
    assert sum(map(len, events.values())) > 100
    rng = random.Random(seed * 1000 + 7)
    mismatches = []
    with open_engine(engine, pg_dsn) as eng:
        eng.load(_tables(events))
        for as_of in AS_OFS:
            expected = {label: {c: reference(events[c], as_of, agg, column, where, period) for c in events}
                        for label, _t, agg, column, where, period, _v in VARIANTS}
            # 1. every value of every customer
            rows: dict[int, list] = {c: [] for c in events}
            for start, sql in values_sql(project, as_of, engine):
                result = eng.query(sql)
                assert sorted(r[0] for r in result) == sorted(events)
                for r in result:
                    assert len(rows[r[0]]) == start
                    rows[r[0]].extend(r[1:])
            for i, (label, text, *_rest, vtype) in enumerate(VARIANTS):
                for c in events:
                    got = normalize(rows[c][i], vtype)
                    want = expected[label][c]
                    if not _same(want, got, vtype):
                        mismatches.append(f"{as_of} {text!r} customer {c}: expected {want!r}, got {got!r}")
            # 2. members of segments through the public API
            for expr, members in _threshold_cases(rng, expected):
                sql = project.compile_expression(expr, dialect=engine, as_of=as_of)
                got = sorted(r[0] for r in eng.query(sql))
                if got != members:
                    mismatches.append(f"{as_of} members of {expr!r}: expected {members}, got {got}")
    assert not mismatches, f"{len(mismatches)} mismatches on {engine}, seed {seed}:\n" + "\n".join(mismatches[:30])
