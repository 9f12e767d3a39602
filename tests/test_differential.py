"""Differential testing: random data and random segment expressions, compiled by segc for
DuckDB, SQLite and PostgreSQL, executed, and compared member for member with the pure
Python reference interpreter (tests/reference.py, which follows DESIGN.md §3 literally).

Metamorphic checks on the same runs: |A| + |not A| = |population|,
|A or B| = |A| + |B| - |A and B|, `A and A` = A, the count form agrees with the select
form, and a random segmentation partitions (with `else`: covers) the population.

One fixed schema (reserved words and spaces in names, hostile values in `values:`,
nullable and non-nullable features, aggregates with windows and `where`, a `sql`
feature); hypothesis generates the rows (mostly reusing a few days, strings and amounts
per example, so that values meet) and a seed for each expression TEXT, which a typed,
grammar-driven generator writes (half of them "probes": one construct, each about equally
often, compared with a value of the data). The engines are opened once per module and
the tables reloaded per example.

Examples: `SEGC_FUZZ_EXAMPLES` (default 2000) is split between the tests below
(members 75%, segmentations 25%); `derandomize=True` makes every run the same
(`SEGC_FUZZ_RANDOM=1`: new examples each run; `SEGC_FUZZ_NO_SHRINK=1`: report the first
failure unshrunk, when exploring). The last test prints how many examples and queries ran
on each engine, and the time taken.
"""
from __future__ import annotations

import datetime as dt
import functools
import os
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

import segc
from tests import reference as ref
from tests.conftest import table_columns, write_project
from tests.engines import ENGINES, open_engine

TOTAL = int(os.environ.get("SEGC_FUZZ_EXAMPLES", "2000"))
MEMBERS_EXAMPLES = max(1, TOTAL * 3 // 4)
SEGMENTATION_EXAMPLES = max(1, TOTAL - MEMBERS_EXAMPLES)

SETTINGS = dict(deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much, HealthCheck.large_base_example])
if os.environ.get("SEGC_FUZZ_NO_SHRINK"):  # exploring: report the first failure as found
    SETTINGS["phases"] = [Phase.explicit, Phase.generate]
if os.environ.get("SEGC_FUZZ_RANDOM"):  # exploring: new examples on every run
    SETTINGS["derandomize"] = False

VALUES = ["FR", "BE", "L'Île", "a%_b"]
CONFIG = {
    "name": "fuzz",
    "entity": "customer",
    "base": "customers",
    "key": "customer_id",
    "as_of": "2024-03-31",
    "population": "not is_test",
    "sources": {
        "customers": {"table": "crm.customers"},
        "orders": {"table": "crm.order", "key": "customer_id", "time": "ordered_at",  # a reserved word
                   "columns": {"amount": "float", "qty": "int", "category": "string", "status": "string",
                               "gift": "bool"}},
    },
    "features": {
        "age": {"type": "int"},
        "code": {"type": "int", "nullable": False},
        "score": {"type": "float"},
        "name": {"type": "string"},
        "city": {"type": "string", "column": "City Name"},
        "group": {"type": "string"},  # a reserved word in SQL
        "country": {"type": "string", "values": VALUES, "nullable": False},
        "vip": {"type": "bool"},
        "is_test": {"type": "bool"},
        "signup": {"type": "date"},
        "last_seen": {"type": "timestamp"},
        "double_age": {"type": "int", "sql": "age * 2"},
        "n_orders": {"type": "int", "from": "orders", "agg": "count"},
        "orders_30d": {"type": "int", "from": "orders", "agg": "count", "window": "30 days"},
        "rev_90d": {"type": "float", "from": "orders", "agg": "sum", "column": "amount",
                    "where": 'status = "paid"', "window": "90 days"},
        "basket": {"type": "float", "from": "orders", "agg": "avg", "column": "amount"},
        "max_qty_1m": {"type": "int", "from": "orders", "agg": "max", "column": "qty", "window": "1 month"},
        "n_cats_1y": {"type": "int", "from": "orders", "agg": "count_distinct", "column": "category",
                      "window": "1 year"},
        "first_order": {"type": "timestamp", "from": "orders", "agg": "min", "column": "ordered_at"},
        "last_paid": {"type": "timestamp", "from": "orders", "agg": "max", "column": "ordered_at",
                      "where": 'status = "paid" and not gift'},
    },
    "params": {
        "min_age": {"type": "int", "default": 30},
        "label": {"type": "string", "default": "it's \\ 100%_"},
        "since": {"type": "date", "default": "2024-01-31"},
    },
}
SEGMENTS = """\
segment adults = age >= 18
segment engaged = last_seen within last 30 days or n_orders > 2
segmentation tier {
  high = rev_90d >= 100
  mid  = n_orders >= 2 and not vip
  low  = else
}
"""
COLUMNS = table_columns(CONFIG)
CUSTOMER_TABLE, ORDER_TABLE = "crm.customers", "crm.order"

# how many examples / queries ran on each engine (printed by the last test)
EXAMPLES: Counter = Counter()
QUERIES: Counter = Counter()
SKIPPED: Counter = Counter()  # expressions or entities the reference calls ambiguous
TIMES: dict[str, float] = {}
STATS: Counter = Counter()


# ---------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return segc.load_project(write_project(tmp_path_factory.mktemp("fuzz"), CONFIG, SEGMENTS))


@pytest.fixture(scope="module")
def engines(pg_dsn):
    out = {name: open_engine(name, pg_dsn) for name in ENGINES}
    today = dt.date.today()
    for name, eng in out.items():
        got = eng.query("SELECT CAST(CURRENT_DATE AS VARCHAR)" if name != "sqlite" else "SELECT DATE('now')")[0][0]
        assert str(got)[:10] == today.isoformat(), f"{name}'s current date {got} is not {today}"
    yield out
    for eng in out.values():
        eng.close()


# ---------------------------------------------------------------------- data

AS_OFS = [dt.date(2024, 3, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 1), dt.date(2023, 3, 31),
          dt.date(2024, 12, 31), dt.date(2025, 1, 1), dt.date(2024, 5, 31), dt.date(2023, 2, 28),
          dt.date(2024, 7, 1), dt.date(2025, 3, 1)]

HOSTILE = ["", " ", "O'Brien", 'say "hi"', "back\\slash", "trailing\\", "100%", "a_b", "%_", "\\%",
           "Ann", "ann", "ANN", "an", "café", "cafe\u0301", "CAFÉ", "東京", "Zoë", "😀 party", "tab\tnew\nline",
           "cr\rx", "NULL", "null", "--", "'; DROP TABLE x; --", "Straße", "paid", "Paid", "pa'id", "shoes",
           "FR", "BE", "L'Île", "a%_b", "fr", "[ab]^", "x" * 30, "\u202eevil"]
STATUSES = ["paid", "paid", "Paid", "refunded", "pa'id", None, ""]

_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
strings = st.one_of(st.sampled_from(HOSTILE), st.text(_chars, max_size=6))
dyadic = st.integers(-400, 400).map(lambda k: k / 4)


def anchors(as_of: dt.date) -> list[dt.date]:
    """Dates where the boundaries are: window starts, month ends, calendar periods."""
    out = [as_of]
    out += [as_of - dt.timedelta(days=d) for d in (1, 6, 7, 8, 29, 30, 31, 89, 90, 91, 364, 365, 366)]
    out += [as_of + dt.timedelta(days=d) for d in (1, 6, 7)]
    out += [ref.add_months(as_of, m) for m in (-1, -3, -6, -12, 1, 12)]
    month = as_of.replace(day=1)
    week = as_of - dt.timedelta(days=as_of.weekday())
    out += [month, ref.add_months(month, -1), ref.add_months(month, 1), month - dt.timedelta(days=1),
            as_of.replace(month=1, day=1), as_of.replace(year=as_of.year - 1, month=1, day=1),
            as_of.replace(month=12, day=31), week, week - dt.timedelta(days=7), week + dt.timedelta(days=7),
            week - dt.timedelta(days=1), week - dt.timedelta(days=8), week + dt.timedelta(days=6),
            dt.date(2024, 2, 29), dt.date(2024, 3, 1), dt.date(2023, 2, 28)]
    return out


@functools.lru_cache(maxsize=None)
def dates(as_of: dt.date):
    near = st.sampled_from(anchors(as_of))
    anywhere = st.integers(-800, 40).map(lambda d: as_of + dt.timedelta(days=d))
    return st.one_of(near, near, anywhere)


TIMES_OF_DAY = [dt.time(0, 0), dt.time(0, 0), dt.time(0, 0), dt.time(23, 59, 59), dt.time(0, 0, 1),
                dt.time(12, 0), dt.time(23, 59, 59, 999999), dt.time(8, 30, 15, 500000)]


@functools.lru_cache(maxsize=None)
def timestamps(as_of: dt.date):
    return st.builds(dt.datetime.combine, dates(as_of), st.sampled_from(TIMES_OF_DAY))


PERCENT = st.integers(0, 99)
SEEDS = st.integers(0, 2**63 - 1)
AGES = st.one_of(st.integers(-5, 120), st.sampled_from([0, 17, 18, 30, 31, 65]))
CODES = st.integers(-3, 9)
QTYS = st.integers(-2, 12)
IS_TEST = st.sampled_from([None, False, False, False, True])
COUNTRIES = st.sampled_from(VALUES)
STATUS = st.sampled_from(STATUSES)


def opt(draw, strategy, missing: float = 0.25):
    """A value, or None (missing) with the given probability."""
    return None if draw(PERCENT) < missing * 100 else draw(strategy)


def palette(draw, strategy, size: int = 4):
    """A few values of one example that its rows mostly reuse: equal values (same day,
    same string, same amount) are where comparisons and ranks decide."""
    values = [draw(strategy) for _ in range(size)]
    return st.one_of(st.sampled_from(values), st.sampled_from(values), st.sampled_from(values), strategy)


@st.composite
def datasets(draw, as_of: dt.date):
    n = 0 if draw(PERCENT) < 3 else draw(st.integers(3, 14))  # an empty base sometimes
    day = palette(draw, dates(as_of))
    moment = st.builds(dt.datetime.combine, day, st.sampled_from(TIMES_OF_DAY))
    text, number = palette(draw, strings, 5), palette(draw, dyadic)
    customers = []
    for key in range(1, n + 1):
        customers.append({
            "customer_id": key,
            "age": opt(draw, AGES),
            "code": draw(CODES),
            "score": opt(draw, number),
            "name": opt(draw, text),
            "City Name": opt(draw, text),
            "group": opt(draw, text),
            "country": draw(COUNTRIES),
            "vip": opt(draw, st.booleans()),
            "is_test": draw(IS_TEST),
            "signup": opt(draw, day),
            "last_seen": opt(draw, moment),
        })
        if customers[-1]["signup"] is not None and draw(PERCENT) < 20:  # the same day, at midnight
            customers[-1]["last_seen"] = dt.datetime.combine(customers[-1]["signup"], dt.time())
    orders = []
    for _ in range(draw(st.integers(0, 3 * n + 2))):
        orders.append({
            "customer_id": draw(st.integers(1, n + 1)),  # n + 1: an order of nobody in the base
            "ordered_at": opt(draw, moment, 0.05),
            "amount": opt(draw, number, 0.15),
            "qty": opt(draw, QTYS, 0.15),
            "category": opt(draw, text, 0.1),
            "status": draw(STATUS),
            "gift": opt(draw, st.booleans()),
        })
    return customers, orders


def world(project, customers, orders, as_of) -> ref.World:
    entities = {}
    for row in customers:
        features = {name: row.get(f.column or name) for name, f in project.schema.features.items()
                    if f.kind == "column"}
        features["double_age"] = None if row["age"] is None else row["age"] * 2
        entities[row["customer_id"]] = features
    return ref.World(entities, {"orders": orders}, as_of, project.schema)


def load(engines, customers, orders):
    tables = {CUSTOMER_TABLE: (COLUMNS[CUSTOMER_TABLE], customers), ORDER_TABLE: (COLUMNS[ORDER_TABLE], orders)}
    for eng in engines.values():
        eng.load(tables)


# ---------------------------------------------------------------------- expressions
#
# The expression generator makes its choices through `draw(spec)`, where a spec is one of
# the small classes below. Two drawers interpret them: `HypothesisDraw` (choices are
# hypothesis data: they shrink) and `RandomDraw` (a seeded random.Random). The fuzz tests
# use the second for expressions: hypothesis mutates its earlier examples part by part,
# which in a test that draws a whole data set keeps re-using the same few expressions
# (about 1 in 4 was new); a drawn seed makes every expression new, and the data still
# shrinks.

@dataclass(frozen=True)
class Pick:
    options: tuple


@dataclass(frozen=True)
class Int:
    lo: int
    hi: int


@dataclass(frozen=True)
class OneOf:
    specs: tuple


@dataclass(frozen=True)
class Map:
    spec: object
    fn: object


@dataclass(frozen=True)
class Text:
    max_size: int


@dataclass(frozen=True)
class Tuple:
    specs: tuple


def pick(options) -> Pick:
    return Pick(tuple(options))


BOOL = Pick((False, True))
DYADIC = Map(Int(-400, 400), lambda k: k / 4)
STRINGS = OneOf((pick(HOSTILE), Text(6)))


@functools.lru_cache(maxsize=None)
def date_spec(as_of: dt.date):
    near = pick(anchors(as_of))
    return OneOf((near, near, Map(Int(-800, 40), lambda d: as_of + dt.timedelta(days=d))))


@functools.lru_cache(maxsize=None)
def timestamp_spec(as_of: dt.date):
    return Map(Tuple((date_spec(as_of), pick(TIMES_OF_DAY))), lambda pair: dt.datetime.combine(*pair))


class HypothesisDraw:
    def __init__(self, draw):
        self.hdraw = draw

    def __call__(self, spec):
        return self.hdraw(self.strategy(spec))

    @classmethod
    def strategy(cls, spec):
        if isinstance(spec, Pick):
            return st.sampled_from(spec.options)
        if isinstance(spec, Int):
            return st.integers(spec.lo, spec.hi)
        if isinstance(spec, OneOf):
            return st.one_of(*(cls.strategy(s) for s in spec.specs))
        if isinstance(spec, Map):
            return cls.strategy(spec.spec).map(spec.fn)
        if isinstance(spec, Text):
            return st.text(_chars, max_size=spec.max_size)
        if isinstance(spec, Tuple):
            return st.tuples(*(cls.strategy(s) for s in spec.specs))
        raise TypeError(spec)


class RandomDraw:
    # code points for random text: ASCII, Latin-1, other BMP, astral (no NUL, no surrogates)
    RANGES = ((0x01, 0x7F), (0x80, 0xFF), (0x100, 0xD7FF), (0xE000, 0xFFFD), (0x10000, 0x10FFFF))

    def __init__(self, rng: random.Random):
        self.rng = rng

    def __call__(self, spec):
        r = self.rng
        if isinstance(spec, Pick):
            return spec.options[r.randrange(len(spec.options))]
        if isinstance(spec, Int):
            return r.randint(spec.lo, spec.hi)
        if isinstance(spec, OneOf):
            return self(spec.specs[r.randrange(len(spec.specs))])
        if isinstance(spec, Map):
            return spec.fn(self(spec.spec))
        if isinstance(spec, Text):
            out = []
            for _ in range(r.randint(0, spec.max_size)):
                lo, hi = self.RANGES[r.randrange(len(self.RANGES))]
                out.append(chr(r.randint(lo, hi)))
            return "".join(out)
        if isinstance(spec, Tuple):
            return tuple(self(s) for s in spec.specs)
        raise TypeError(spec)


def string_literal(draw, s: str) -> str:
    """`s` written as a segc string literal, with a random choice of quotes and escapes."""
    quote = draw(Pick(('"', "'")))
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == quote:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch in "\r\t" or (not ch.isascii() and draw(BOOL)):
            code = ord(ch)
            if code > 0xFFFF:
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04X}")
            else:
                out.append(f"\\u{code:04x}" if ch != "\t" or draw(BOOL) else "\\t")
        elif ch in "'\"" and draw(BOOL):
            out.append("\\" + ch)  # an escaped other quote stands for itself
        else:
            out.append(ch)
    return quote + "".join(out) + quote


# value texts carry a precedence: 0 sum, 1 product, 2 unary, 3 atom
SUM, PRODUCT, UNARY, ATOM = 0, 1, 2, 3

INT_FEATURES = ["age", "code", "double_age", "n_orders", "orders_30d", "max_qty_1m", "n_cats_1y"]
FLOAT_FEATURES = ["score", "rev_90d", "basket"]
STRING_FEATURES = ["name", "city", "group"]
DATE_FEATURES = ["signup"]
TS_FEATURES = ["last_seen", "first_order", "last_paid"]
BOOL_FEATURES = ["vip", "is_test"]
SEGMENT_REFS = ["adults", "engaged", "tier.high", "tier.mid", "tier.low"]
EVENT_COLUMNS = {"int": ["qty"], "float": ["amount"], "string": ["category", "status"],
                 "ts": ["ordered_at"], "date": [], "bool": ["gift"]}
PERCENTS = ["10", "25", "50", "1", "33.3", "66.7", "100", "0.5", "12.5", "99"]
HOLDOUT_SHARES = ["50", "50", "10", "2.5", "33.3", "90", "99.9", "0.5"]
SEEDS_TEXT = ["spring", "a", "x:y", "it's \\ \"q\"", "été 😀", "東京", " ", "100%_"]


class Gen:
    """A typed generator of segment-language text. `scope` is `features`, or `event`
    inside an aggregate's `where` (names are the source's columns there)."""

    def __init__(self, draw, as_of: dt.date, scope: str = "features", pool: dict | None = None):
        self.draw, self.as_of, self.scope = draw, as_of, scope
        self.pool = pool or {}  # values in the example's rows, by type: literals hit them
        self.rank_ok = True  # false inside what is ranked: window functions do not nest (E306)

    def unranked(self) -> Gen:
        gen = Gen(self.draw, self.as_of, self.scope, self.pool)
        gen.rank_ok = False
        return gen

    def from_pool(self, kind: str):
        """A value of the data half of the time (boundaries are where bugs are), else None."""
        values = self.pool.get(kind)
        if values and self.chance(0.5):
            return self.pick(values)
        return None

    def pick(self, options):
        return self.draw(pick(options))

    def chance(self, p=0.5) -> bool:
        return self.draw(Int(0, 99)) < p * 100

    def event(self) -> Gen:
        return Gen(self.draw, self.as_of, "event", self.pool)

    # ---- literals ----
    def int_lit(self) -> tuple[str, int]:
        v = self.from_pool("int")
        if v is None:
            v = self.draw(OneOf((Int(-3, 20), Pick((0, 1, 2, 7, 18, 30, 100, -1)), Int(-200, 1000))))
        return str(v), (ATOM if v >= 0 else UNARY)

    def float_lit(self):
        v = self.from_pool("float")
        if v is None:
            v = self.draw(DYADIC)
        text = repr(v)
        return text, (ATOM if not text.startswith("-") else UNARY)

    def str_lit(self) -> str:
        v = self.from_pool("string")
        return string_literal(self.draw, self.draw(STRINGS) if v is None else v)

    def pattern(self) -> str:
        base = self.from_pool("string")
        if base is None:
            base = self.draw(STRINGS)
        i = self.draw(Int(0, len(base)))
        j = self.draw(Int(i, len(base)))
        return string_literal(self.draw, self.pick([base, base[:j], base[i:], base[i:j]]))

    def date_lit(self) -> str:
        d = self.from_pool("date")
        return (self.draw(date_spec(self.as_of)) if d is None else d).isoformat()

    def ts_lit(self) -> str:
        t = self.from_pool("timestamp")
        if t is None:
            t = self.draw(timestamp_spec(self.as_of))
        text = t.isoformat(timespec="microseconds" if t.microsecond else "seconds")
        if not t.microsecond and t.second == 0 and self.chance(0.3):
            text = t.isoformat(timespec="minutes")
        return text

    def duration(self, small=False) -> str:
        unit = self.pick(["days", "day", "weeks", "months", "month", "years", "year"])
        n = self.draw(Int(0, 3)) if unit.startswith(("month", "year")) or small else \
            self.draw(OneOf((Pick((1, 7, 30, 31, 90, 365, 0, 6, 29)), Int(0, 120))))
        if unit.endswith("s") is False and n != 1 and self.chance(0.5):
            unit += "s"
        return f"{n} {unit}"

    # ---- values: (text, precedence) ----
    def num(self, depth: int, want: str = "num") -> tuple[str, int, str]:
        """A number: (text, precedence, type) with type int or float; want: int or num."""
        kinds = ["atom_int", "atom_int", "lit_int", "atom_float", "lit_float", "func_int", "func_int",
                 "func_int", "func_float", "func_float", "func_float"]
        if self.scope == "features":
            kinds += ["agg_int", "agg_float", "param"]
        if depth > 0:
            kinds += ["arith", "arith", "div", "mod", "neg"]
        if want == "int":
            kinds = [k for k in kinds if k not in ("atom_float", "lit_float", "func_float", "agg_float", "div")]
        kind = self.pick(kinds)
        ev = self.scope == "event"
        if kind == "atom_int":
            return self.pick(EVENT_COLUMNS["int"] if ev else INT_FEATURES), ATOM, "int"
        if kind == "atom_float":
            return self.pick(EVENT_COLUMNS["float"] if ev else FLOAT_FEATURES), ATOM, "float"
        if kind == "lit_int":
            return (*self.int_lit(), "int")
        if kind == "lit_float":
            return (*self.float_lit(), "float")
        if kind == "param":
            return "$min_age", ATOM, "int"
        if kind == "func_int":
            f = self.pick(["length", "days_since", "year_of", "month_of", "abs", "floor", "ceil",
                           "coalesce", "least", "greatest"] + (["quantile_score"] if not ev and self.rank_ok else []))
            if f == "length":
                return f"length({self.string(depth - 1)[0]})", ATOM, "int"
            if f in ("days_since", "year_of", "month_of"):
                return f"{f}({self.temporal(depth - 1)[0]})", ATOM, "int"
            if f == "abs":
                return f"abs({self.num(depth - 1, 'int')[0]})", ATOM, "int"
            if f in ("floor", "ceil"):
                return f"{f}({self.num(depth - 1)[0]})", ATOM, "int"
            if f == "quantile_score":
                by = self.unranked().num(depth - 1)[0] if self.chance(0.7) else self.temporal(depth - 1)[0]
                return f"quantile_score({by}, {self.draw(Int(2, 10))})", ATOM, "int"
            args = [self.num(depth - 1, "int")[0] for _ in range(self.draw(Int(2, 3)))]
            return f"{f}({', '.join(args)})", ATOM, "int"
        if kind == "func_float":
            f = self.pick(["round", "abs", "coalesce", "least", "greatest"])
            if f == "round":
                x = self.num(depth - 1)[0]
                if self.chance(0.5):
                    return f"round({x})", ATOM, "float"
                return f"round({x}, {self.pick(['0', '1', '2', '-1', '-1', '-2'])})", ATOM, "float"
            if f == "abs":
                return f"abs({self.float_value(depth - 1)})", ATOM, "float"
            args = [self.float_value(depth - 1)] + [self.num(depth - 1)[0] for _ in range(self.draw(Int(1, 2)))]
            if self.chance(0.5):
                args.reverse()
            return f"{f}({', '.join(args)})", ATOM, "float"
        if kind == "agg_int":
            f = self.pick(["count", "count", "count_distinct", "sum", "min", "max"])
            column = {"count": self.pick([None, None, "amount", "category"]),
                      "count_distinct": self.pick(["category", "qty", "amount", "status", "ordered_at", "gift"]),
                      "sum": "qty", "min": "qty", "max": "qty"}[f]
            return self.aggregate(f, column, depth), ATOM, "int"
        if kind == "agg_float":
            f = self.pick(["sum", "avg", "min", "max", "avg"])
            column = "qty" if f == "avg" and self.chance(0.3) else "amount"
            return self.aggregate(f, column, depth), ATOM, "float"
        if kind == "neg":
            x, prec, t = self.num(depth - 1, want)
            if prec < UNARY or x.startswith("-"):
                x = f"({x})"
            return f"-{x}", UNARY, t
        if kind == "mod":
            a = self.operand(self.num(depth - 1, "int"), PRODUCT, left=True)
            b = self.operand(self.num(depth - 1, "int"), PRODUCT, left=False)
            return f"{a} % {b}", PRODUCT, "int"
        if kind == "div":
            a = self.operand(self.num(depth - 1), PRODUCT, left=True)
            b = self.operand(self.num(depth - 1), PRODUCT, left=False)
            return f"{a} / {b}", PRODUCT, "float"
        op = self.pick(["+", "-", "*"])
        prec = PRODUCT if op == "*" else SUM
        left, right = self.num(depth - 1, want), self.num(depth - 1, want)
        t = "int" if left[2] == right[2] == "int" else "float"
        return f"{self.operand(left, prec, True)} {op} {self.operand(right, prec, False)}", prec, t

    def float_value(self, depth):
        kind = self.pick(["atom", "lit"] + (["div"] if depth > 0 else []))
        if kind == "atom":
            return self.pick(EVENT_COLUMNS["float"] if self.scope == "event" else FLOAT_FEATURES)
        if kind == "lit":
            return self.float_lit()[0]
        left, right = self.num(depth - 1), self.num(depth - 1)
        return f"{self.operand(left, PRODUCT, True)} / {self.operand(right, PRODUCT, False)}"

    def operand(self, value, prec: int, left: bool) -> str:
        text, p = value[0], value[1]
        if p < prec or (not left and p == prec) or (p < ATOM and self.chance(0.2)):
            return f"({text})"
        return text

    def string(self, depth: int, country: bool = True) -> tuple[str, str]:
        """(text, kind): kind `country` when it is the bare feature with `values:`."""
        ev = self.scope == "event"
        kinds = ["atom", "atom", "lit"]
        if not ev:
            kinds += ["param"] + (["country"] if country else [])
            if depth > 0:
                kinds += ["agg"]
        if depth > 0:
            kinds += ["lower", "upper", "coalesce"]
        kind = self.pick(kinds)
        if kind == "atom":
            return self.pick(EVENT_COLUMNS["string"] if ev else STRING_FEATURES), "value"
        if kind == "lit":
            return self.str_lit(), "literal"
        if kind == "param":
            return "$label", "literal"
        if kind == "country":
            return "country", "country"
        if kind == "agg":
            return self.aggregate(self.pick(["min", "max"]), "category", depth), "value"
        if kind == "coalesce":
            return f"coalesce({self.string(depth - 1, False)[0]}, {self.string(depth - 1, False)[0]})", "value"
        return f"{kind}({self.string(depth - 1)[0]})", "value"

    def temporal(self, depth: int, want: str | None = None) -> tuple[str, str]:
        """(text, type) with type date or ts."""
        ev = self.scope == "event"
        t = want or self.pick(["date", "ts"])
        kinds = ["atom", "atom", "lit"]
        if t == "date":
            kinds += ["today"] + (["param"] if not ev else [])
        if depth > 0:
            kinds += ["shift", "coalesce"] + (["agg"] if t == "ts" and not ev else [])
        kind = self.pick(kinds)
        if kind == "atom":
            names = EVENT_COLUMNS[t] if ev else (DATE_FEATURES if t == "date" else TS_FEATURES)
            if not names:
                kind = "lit"
            else:
                return self.pick(names), t
        if kind == "lit":
            return (self.date_lit() if t == "date" else self.ts_lit()), t
        if kind == "today":
            return "today", t
        if kind == "param":
            return "$since", t
        if kind == "agg":
            return self.aggregate(self.pick(["min", "max"]), "ordered_at", depth), t
        if kind == "coalesce":
            f = self.pick(["coalesce", "least", "greatest"])
            other = self.pick([t, t, "date", "ts"])  # dates among timestamps: their midnight
            args = [self.temporal(depth - 1, t)[0], self.temporal(depth - 1, other)[0]]
            if self.chance(0.5):
                args.reverse()
            return f"{f}({', '.join(args)})", ("ts" if "ts" in (t, other) else "date")
        base = self.temporal(depth - 1, t)[0]
        return f"{base} {self.pick(['+', '-'])} {self.duration()}", t

    def fixed_temporal(self, t: str) -> str:
        """A date or timestamp that is the same for every entity (a `during` bound)."""
        kind = self.pick(["lit", "lit", "today", "param", "shift"] if t == "date" else ["lit", "lit", "shift"])
        if kind == "lit":
            return self.date_lit() if t == "date" else self.ts_lit()
        if kind == "today":
            return "today"
        if kind == "param":
            return "$since"
        base = self.pick(["today", self.date_lit(), "$since"]) if t == "date" else self.ts_lit()
        return f"{base} {self.pick(['+', '-'])} {self.duration()}"

    def period(self, depth: int, fixed: bool = False) -> str:
        kind = self.pick(["last", "last", "next", "this", "previous", "range"])
        if kind == "last":
            return f"last {self.duration()}"
        if kind == "next":
            return f"next {self.duration()}"
        if kind == "this":
            return f"this {self.pick(['week', 'month', 'year'])}"
        if kind == "previous":
            return f"last {self.pick(['week', 'month', 'year'])}"
        t = self.pick(["date", "ts"])
        if fixed:
            return f"{self.fixed_temporal(t)} to {self.fixed_temporal(t)}"
        lo, hi = self.temporal(max(depth - 1, 0), t)[0], self.temporal(max(depth - 1, 0), t)[0]
        return f"{lo} to {hi}"

    def aggregate(self, func: str, column: str | None, depth: int) -> str:
        parts = ["orders" if column is None else f"orders.{column}"]
        if self.chance(0.5):
            parts.append("where " + self.event().pred(min(depth, 2)))
        if self.chance(0.5):
            parts.append("during " + self.period(depth, fixed=True))
        return f"{func}({' '.join(parts)})"

    # ---- probes: one construct in a deciding position ----
    def probe(self, depth: int) -> str:
        """One value construct (each about equally often, however rare it is deep inside
        random trees) compared with a value of the data, or with a value of its kind."""
        d = max(depth - 1, 0)
        name = self.pick(sorted(PROBES))
        text, kind = PROBES[name](self, d)
        if kind == "bool":
            return text
        op = self.pick(["=", "!=", "<", "<=", ">", ">="])
        if kind == "num":
            other = self.pick([self.int_lit()[0], self.float_lit()[0], self.num(d)[0]])
        elif kind == "string":
            other = self.pick([self.str_lit(), self.string(d, country=False)[0]])
        else:
            other = self.pick([self.date_lit(), self.ts_lit(), self.temporal(d)[0],
                               self.pick(DATE_FEATURES + TS_FEATURES)])
        return f"{other} {op} {text}" if self.chance(0.3) else f"{text} {op} {other}"

    # ---- conditions ----
    def pred(self, depth: int) -> str:
        ev = self.scope == "event"
        kinds = ["cmp_num", "cmp_num", "cmp_str", "cmp_time", "bool", "missing", "between", "in",
                 "match", "within", "literal"]
        if not ev:
            kinds += ["top", "exists", "ref"]
            if self.chance(0.3):  # rarer than the rest: SQLite cannot run it (E602, no md5)
                kinds.append("holdout")
        if depth > 0:
            kinds += ["not", "and", "or", "and", "or", "not"]
        return self._pred(self.pick(kinds), depth)

    def compound(self, depth: int) -> str:
        """A condition as an operand of and/or/not: compound ones in parentheses."""
        text = self.pred(depth)
        if any(w in text for w in (" and ", " or ", "not ")) and not _is_atomic(text):
            return f"({text})"
        return text

    def _pred(self, kind: str, depth: int) -> str:
        ev = self.scope == "event"
        if kind == "cmp_num":
            op = self.pick(["=", "!=", "<", "<=", ">", ">="])
            return f"{self.num(depth)[0]} {op} {self.num(depth)[0]}"
        if kind == "cmp_str":
            op = self.pick(["=", "!=", "<", "<=", ">", ">="])
            left, lkind = self.string(depth)
            if lkind == "country":
                right = string_literal(self.draw, self.pick(VALUES)) if self.chance(0.7) else \
                    self.string(depth, country=False)[0]
                if right.startswith(("'", '"')) or right == "$label":
                    right = string_literal(self.draw, self.pick(VALUES))
            else:
                right = self.string(depth, country=False)[0]
            return f"{left} {op} {right}"
        if kind == "cmp_time":
            op = self.pick(["=", "!=", "<", "<=", ">", ">="])
            return f"{self.temporal(depth)[0]} {op} {self.temporal(depth)[0]}"
        if kind == "bool":
            b = self.pick(EVENT_COLUMNS["bool"] if ev else BOOL_FEATURES + ["vip"])
            form = self.pick(["bare", "eq", "eq2"])
            if form == "bare":
                return b
            if form == "eq":
                return f"{b} {self.pick(['=', '!='])} {self.pick(['true', 'false'])}"
            other = self.pick(EVENT_COLUMNS["bool"] if ev else BOOL_FEATURES)
            return f"{b} {self.pick(['=', '!='])} {other}"
        if kind == "literal":
            return self.pick(["true", "false"])
        if kind == "missing":
            what = self.pick(["num", "num", "str", "time"])
            x = self.num(depth)[0] if what == "num" else self.string(depth)[0] if what == "str" else \
                self.temporal(depth)[0]
            return f"{x} is {self.pick(['missing', 'present'])}"
        if kind == "between":
            if self.chance(0.7):
                return f"{self.num(depth)[0]} between {self.num(depth)[0]} and {self.num(depth)[0]}"
            t = self.pick(["date", "ts"])
            return (f"{self.temporal(depth, t)[0]} between {self.temporal(depth)[0]} "
                    f"and {self.temporal(depth)[0]}")
        if kind == "in":
            neg = self.pick(["in", "not in"])
            what = self.pick(["num", "num", "str", "country", "date"])
            n = self.draw(Int(0, 4))
            if what == "num":
                items = [self.pick([self.int_lit()[0], self.float_lit()[0], "$min_age"]) for _ in range(n)]
                x = self.num(depth)[0]
            elif what == "str" or (what == "country" and ev):
                items = [self.pick([self.str_lit(), "$label"]) for _ in range(n)]
                x = self.string(depth, country=False)[0]
            elif what == "country":
                items = [string_literal(self.draw, self.pick(VALUES)) for _ in range(n)]
                x = "country"
            else:
                items = [self.date_lit() for _ in range(n)]
                x = self.temporal(depth)[0]
            return f"{x} {neg} [{', '.join(items)}]"
        if kind == "match":
            word = self.pick(["contains", "starts with", "ends with"])
            pattern = self.pattern() if self.chance(0.9) or ev else "$label"
            return f"{self.string(depth)[0]} {word} {pattern}"
        if kind == "within":
            return f"{self.temporal(depth)[0]} within {self.period(depth)}"
        if kind == "top":
            by = self.unranked().num(depth)[0] if self.chance(0.8) else self.temporal(depth)[0]
            return f"{self.pick(['top', 'bottom'])} {self.pick(PERCENTS)}% by {by}"
        if kind == "exists":
            return self.aggregate("exists", None, depth)
        if kind == "holdout":
            seed = "$label" if self.chance(0.1) else string_literal(self.draw, self.pick(SEEDS_TEXT))
            return f"holdout {self.pick(HOLDOUT_SHARES)}% seed {seed}"
        if kind == "ref":
            return self.pick(SEGMENT_REFS)
        if kind == "not":
            return f"not {self.compound(depth - 1)}"
        word = kind
        items = [self.compound(depth - 1) for _ in range(self.draw(Int(2, 3)))]
        return f" {word} ".join(items)


def _is_atomic(text: str) -> bool:
    """Whether `text` is one parenthesised group (so it needs no more parentheses)."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    level = 0
    for i, ch in enumerate(text):
        level += ch == "("
        level -= ch == ")"
        if level == 0 and i < len(text) - 1:
            return False
    return True


def _agg(func, column=None):
    kind = "num" if func.startswith("count") else {"category": "string", "ordered_at": "time"}.get(column, "num")
    return lambda g, d: (g.aggregate(func, column if column != "?" else g.pick(["amount", "qty"]), d), kind)


def _temporal_mix(func):
    """A date and a timestamp in one function: mostly features, which share days."""
    def make(g, d):
        day = g.pick(DATE_FEATURES) if g.chance(0.6) else g.temporal(d, "date")[0]
        moment = g.pick(TS_FEATURES) if g.chance(0.6) else g.temporal(d, "ts")[0]
        args = [day, moment] + ([g.temporal(d)[0]] if g.chance(0.3) else [])
        if g.chance(0.5):
            args.reverse()
        return f"{func}({', '.join(args)})", "time"
    return make


PROBES = {
    "round": lambda g, d: (f"round({g.num(d)[0]})", "num"),
    "round_digits": lambda g, d: (f"round({g.num(d)[0]}, {g.pick(['-2', '-1', '0', '1', '2'])})", "num"),
    "floor": lambda g, d: (f"floor({g.num(d)[0]})", "num"),
    "ceil": lambda g, d: (f"ceil({g.num(d)[0]})", "num"),
    "abs": lambda g, d: (f"abs({g.num(d)[0]})", "num"),
    "div": lambda g, d: (f"{g.operand(g.num(d), PRODUCT, True)} / {g.operand(g.num(d), PRODUCT, False)}", "num"),
    "mod": lambda g, d: (f"{g.operand(g.num(d, 'int'), PRODUCT, True)} % "
                         f"{g.operand(g.num(d, 'int'), PRODUCT, False)}", "num"),
    "neg": lambda g, d: (f"-({g.num(d)[0]})", "num"),
    "length": lambda g, d: (f"length({g.string(d)[0]})", "num"),
    "days_since": lambda g, d: (f"days_since({g.temporal(d)[0]})", "num"),
    "year_of": lambda g, d: (f"year_of({g.temporal(d)[0]})", "num"),
    "month_of": lambda g, d: (f"month_of({g.temporal(d)[0]})", "num"),
    "quantile": lambda g, d: (f"quantile_score({g.unranked().num(d)[0] if g.chance(0.7) else g.temporal(d)[0]}, "
                              f"{g.draw(Int(2, 10))})", "num"),
    "least_num": lambda g, d: (f"least({g.num(d)[0]}, {g.num(d)[0]})", "num"),
    "greatest_num": lambda g, d: (f"greatest({g.num(d)[0]}, {g.num(d)[0]}, {g.num(d)[0]})", "num"),
    "coalesce_num": lambda g, d: (f"coalesce({g.num(d)[0]}, {g.num(d)[0]})", "num"),
    "count": _agg("count"),
    "count_column": _agg("count", "category"),
    "count_distinct": lambda g, d: (g.aggregate("count_distinct", g.pick(["category", "qty", "amount", "ordered_at"]),
                                                d), "num"),
    "sum": _agg("sum", "?"),
    "avg": _agg("avg", "?"),
    "min": _agg("min", "?"),
    "max": _agg("max", "?"),
    "min_string": _agg("min", "category"),
    "max_time": _agg("max", "ordered_at"),
    "least_time": _temporal_mix("least"),
    "greatest_time": _temporal_mix("greatest"),
    "coalesce_time": _temporal_mix("coalesce"),
    "shift": lambda g, d: (f"{g.temporal(d)[0]} {g.pick(['+', '-'])} {g.duration()}", "time"),
    "lower": lambda g, d: (f"lower({g.string(d)[0]})", "string"),
    "upper": lambda g, d: (f"upper({g.string(d)[0]})", "string"),
    "coalesce_string": lambda g, d: (f"coalesce({g.string(d, False)[0]}, {g.string(d, False)[0]})", "string"),
    "within": lambda g, d: (f"{g.temporal(d)[0]} within {g.period(d)}", "bool"),
    "during": lambda g, d: (f"count(orders{' where ' + g.event().pred(1) if g.chance(0.4) else ''} "
                            f"during {g.period(d, fixed=True)})", "num"),
    "top": lambda g, d: (f"{g.pick(['top', 'bottom'])} {g.pick(PERCENTS)}% by "
                         f"{g.unranked().num(d)[0] if g.chance(0.8) else g.temporal(d)[0]}", "bool"),
    "match": lambda g, d: (g._pred("match", d), "bool"),
    "in": lambda g, d: (g._pred("in", d), "bool"),
    "missing": lambda g, d: (g._pred("missing", d), "bool"),
    "ref": lambda g, d: (g.pick(SEGMENT_REFS), "bool"),
    "holdout": lambda g, d: (g._pred("holdout", d), "bool"),
}


def make_expression(draw, as_of: dt.date, depth: int = 3, pool: dict | None = None, probes: bool = True) -> str:
    """A random condition; half of them a probe (one construct in a deciding position)
    alone, negated, or combined with a random condition. `draw` is a HypothesisDraw or a
    RandomDraw."""
    gen = Gen(draw, as_of, pool=pool)
    depth = draw(Int(0, depth))
    if not probes or draw(Int(0, 99)) < 50:
        return gen.pred(depth)
    probe = gen.probe(depth)
    how = draw(Pick(("alone", "alone", "not", "and", "or")))
    if how == "alone":
        return probe
    if how == "not":
        return f"not ({probe})"
    return f"({probe}) {how} {gen.compound(max(depth - 1, 0))}"


@st.composite
def expressions(draw, as_of: dt.date, depth: int = 3, pool: dict | None = None, probes: bool = True):
    """Random conditions whose every choice is hypothesis data (they shrink)."""
    return make_expression(HypothesisDraw(draw), as_of, depth, pool, probes)


def random_expression(seed: int, as_of: dt.date, depth: int = 3, pool: dict | None = None) -> str:
    """A random condition from a seed (always a new one: see RandomDraw)."""
    return make_expression(RandomDraw(random.Random(seed)), as_of, depth, pool)


def value_pool(customers, orders) -> dict[str, list]:
    """The values in the rows, by segc type (literals drawn from them hit the boundaries)."""
    out: dict[str, list] = {"int": [], "float": [], "string": [], "date": [], "timestamp": []}
    for row in customers + orders:
        for column, v in row.items():
            if v is None or column == "customer_id" or isinstance(v, bool):
                continue
            if isinstance(v, dt.datetime):
                out["timestamp"].append(v)
                out["date"].append(v.date())
            elif isinstance(v, dt.date):
                out["date"].append(v)
                out["timestamp"].append(dt.datetime.combine(v, dt.time()))
            elif isinstance(v, int):
                out["int"].append(v)
            elif isinstance(v, float):
                out["float"].append(v)
            else:
                out["string"].append(v)
    return {k: list(dict.fromkeys(v)) for k, v in out.items()}


# ---------------------------------------------------------------------- running

def today() -> dt.date:
    return dt.date.today()


@st.composite
def scenarios(draw):
    rolling = draw(st.integers(0, 9)) == 0
    as_of = today() if rolling else draw(st.sampled_from(AS_OFS))
    customers, orders = draw(datasets(as_of))
    return rolling, as_of, customers, orders


def engine_limit(engine: str, error: Exception) -> bool:
    """SQLite's parser has a fixed stack depth: generated expressions nested deeper than
    analysts write are an engine limit, not a compiler bug (counted, never silent)."""
    if engine == "sqlite" and "parser stack overflow" in str(error):
        SKIPPED["sqlite parser depth"] += 1
        return True
    return False


def sqlite_cannot(engine: str, error: segc.SegcError, text: str) -> bool:
    """SQLite cannot clamp month ends in SQL: month/year shifts of a column, or of a rolling
    `today`, are a diagnostic there (E602), never wrong SQL. Nor can it hash (`holdout`)."""
    if engine == "sqlite" and {d.code for d in error.diagnostics} == {"E602"} and \
            all("month ends" in d.message for d in error.diagnostics) and \
            any(w in text for w in ("month", "year", "max_qty_1m", "n_cats_1y")):
        SKIPPED["sqlite E602"] += 1
        return True
    if engine == "sqlite" and {d.code for d in error.diagnostics} == {"E602"} and \
            all("`holdout`" in d.message for d in error.diagnostics):
        SKIPPED["sqlite E602 holdout"] += 1
        return True
    return False


def run_members(project, engines, text: str, as_of, form: str = "select") -> dict[str, object]:
    """Each engine's member set (or count) for an expression; an engine that cannot
    express it (SQLite: month arithmetic on a column or a rolling today, E602) is left out."""
    out = {}
    for name, eng in engines.items():
        try:
            sql = project.compile_expression(text, dialect=name, form=form, as_of=as_of)
        except segc.SegcError as e:
            if sqlite_cannot(name, e, text):
                continue
            raise
        try:
            rows = eng.query(sql)
        except Exception as e:  # the SQL segc produced does not run: a compiler bug
            if engine_limit(name, e):
                continue
            raise AssertionError(f"{name} rejected the SQL for {text!r}: {e}\n{sql}") from None
        QUERIES[name] += 1
        if form == "count":
            out[name] = rows[0][0]
        else:
            keys = [r[0] for r in rows]
            assert len(keys) == len(set(keys)), f"{name}: duplicate members for {text!r}"
            out[name] = set(keys)
    return out


def check_against_reference(project, ev: ref.Evaluator, got: dict, pred, text: str, as_of):
    """Engines' members agree with the reference, except where it says either is right."""
    expected, unknown = set(), set()
    for key in ev.population:
        try:
            if ev.holds(pred, key):
                expected.add(key)
        except ref.Ambiguous:
            unknown.add(key)
    if unknown:
        SKIPPED["entities"] += len(unknown)
    for name, members in got.items():
        assert members - unknown == expected, (
            f"{text!r} on {name}: engine {sorted(members - unknown)} != reference {sorted(expected)}"
            f" (ambiguous: {sorted(unknown)})\n"
            + project.compile_expression(text, dialect=name, as_of=as_of, pretty=True))
    return expected, unknown


def run_flags(project, engines, preds: list, as_of) -> dict[str, list[set]]:
    """Every condition as a 0/1 column of one query (as `segc count`/`overlap` compute
    them): per engine, the member set of each condition."""
    from sqlglot import exp

    from segc.backend.lower import KEY
    from segc.backend.trees import col, ident
    from segc.backend.render import render

    def select(lw):
        flags = [exp.alias_(exp.Case(ifs=[exp.If(this=lw.pred(p), true=exp.Literal.number(1))],
                                     default=exp.Literal.number(0)), ident(f"segc_flag_{i}"))
                 for i, p in enumerate(preds)]
        return [exp.alias_(col(KEY), ident("key")), *flags], None

    out = {}
    for name, eng in engines.items():
        try:
            sql = render(project.lowerer(as_of).query(project.checked.population, select), name)
        except segc.SegcError as e:
            if sqlite_cannot(name, e, "month"):
                continue
            raise
        try:
            rows = eng.query(sql)
        except Exception as e:
            if engine_limit(name, e):
                continue
            raise AssertionError(f"{name} rejected the flags query: {e}\n{sql}") from None
        QUERIES[name] += 1
        out[name] = [{r[0] for r in rows if r[1 + i]} for i in range(len(preds))]
    return out


@settings(max_examples=MEMBERS_EXAMPLES, **SETTINGS)
@given(scenario=scenarios(), data=st.data())
def test_members(project, engines, scenario, data):
    """Two random expressions A and B, and A and B, A or B, not A, A and A: members on
    every engine = the reference; the set identities hold on every engine. A and B are
    compiled with `compile_expression` (select and count forms); all six also run as
    0/1 columns of one query."""
    start = time.perf_counter()
    rolling, as_of, customers, orders = scenario
    pin = "today" if rolling else as_of
    pool = value_pool(customers, orders)
    a = random_expression(data.draw(SEEDS, label="seed of A"), as_of, pool=pool)
    b = random_expression(data.draw(SEEDS, label="seed of B"), as_of, depth=2, pool=pool)
    note(f"A: {a}\nB: {b}")
    load(engines, customers, orders)
    ev = ref.Evaluator(world(project, customers, orders, as_of), project.checked.population)
    population = set(ev.population)
    texts = {"A": a, "B": b, "A and B": f"({a}) and ({b})", "A or B": f"({a}) or ({b})",
             "not A": f"not ({a})", "A and A": f"({a}) and ({a})"}
    preds = {label: project.check_expression(text)[0] for label, text in texts.items()}
    selected = {label: run_members(project, engines, texts[label], pin) for label in ("A", "B")}
    counts = run_members(project, engines, a, pin, form="count")
    flags = run_flags(project, engines, list(preds.values()), pin)
    for i, (label, text) in enumerate(texts.items()):
        got = {name: sets[i] for name, sets in flags.items()}
        if label in selected:
            for name, members in selected[label].items():
                assert members == got.get(name, members), f"{name}: select form != flag of {label}"
            got = {**got, **selected[label]}
        check_against_reference(project, ev, got, preds[label], text, pin)
    for name, sets in flags.items():
        A, B, A_and_B, A_or_B, not_A, A_and_A = sets
        assert A <= population and B <= population, f"{name}: members outside the population"
        assert len(A) + len(not_A) == len(population), f"{name}: |A| + |not A| != |population|"
        assert not_A == population - A
        assert len(A_or_B) == len(A) + len(B) - len(A_and_B), f"{name}: |A or B| != |A| + |B| - |A and B|"
        assert A_and_A == A
        EXAMPLES[name] += 1
    for name, count in counts.items():
        if name not in selected["A"]:
            continue
        assert count == len(selected["A"][name]), f"{name}: count form {count} != select form"
    for name, sets in flags.items():
        STATS["A decides"] += 0 < len(sets[0]) < len(population)  # neither empty nor everyone
        STATS["A"] += 1
    TIMES["members"] = TIMES.get("members", 0.0) + time.perf_counter() - start


@st.composite
def segmentations(draw, as_of, pool=None):
    n = draw(st.integers(1, 4))
    branches = [(f"b{i}", random_expression(draw(SEEDS), as_of, depth=2, pool=pool)) for i in range(n)]
    with_else = draw(st.booleans()) or n == 1
    return branches, with_else


@settings(max_examples=SEGMENTATION_EXAMPLES, **SETTINGS)
@given(scenario=scenarios(), data=st.data())
def test_segmentation(tmp_path_factory, engines, scenario, data):
    """A random segmentation: first match wins; each entity gets the branch the reference
    gives it; with `else` the branches cover the population."""
    start = time.perf_counter()
    rolling, as_of, customers, orders = scenario
    pin = "today" if rolling else as_of
    branches, with_else = data.draw(segmentations(as_of, value_pool(customers, orders)), label="segmentation")
    body = "".join(f"  {name} = {text}\n" for name, text in branches)
    if with_else:
        body += "  rest = else\n"
    seg = SEGMENTS + "segmentation fuzz {\n" + body + "}\n"
    note(seg)
    root = write_project(tmp_path_factory.mktemp("seg", numbered=True), CONFIG, seg)
    project = segc.load_project(root)
    load(engines, customers, orders)
    w = world(project, customers, orders, as_of)
    info = project.checked.segmentations["fuzz"]
    expected, unknown = ref.label(w, info.branches, project.checked.population)
    population = set(ref.Evaluator(w, project.checked.population).population)
    for name, eng in engines.items():
        try:
            sql = project.compile("fuzz", dialect=name, form="label", as_of=pin)
        except segc.SegcError as e:
            if sqlite_cannot(name, e, seg):
                continue
            raise
        rows = eng.query(sql)
        QUERIES[name] += 1
        labels = {r[0]: r[1] for r in rows}
        assert len(labels) == len(rows), f"{name}: an entity is in two branches"
        got = {k: v for k, v in labels.items() if k not in unknown}
        assert got == {k: v for k, v in expected.items() if k not in unknown}, f"{name}:\n{sql}"
        if with_else:
            assert set(labels) == population, f"{name}: with `else` the branches must cover the population"
        # branch by branch, the segments `fuzz.b` and their sizes sum up the same way
        total = 0
        for branch, _pred in info.branches:
            count = eng.query(project.compile(f"fuzz.{branch}", dialect=name, form="count",
                                              as_of=pin))[0][0]
            QUERIES[name] += 1
            assert count == sum(1 for v in labels.values() if v == branch), f"{name}: `fuzz.{branch}`"
            total += count
        assert total == len(labels)
        EXAMPLES[name] += 1
    TIMES["segmentation"] = TIMES.get("segmentation", 0.0) + time.perf_counter() - start


def test_reference_agrees_with_hand_written_answers(tmp_path):
    """The reference itself, on the hand-worked conformance cases (tests/conformance)."""
    import yaml

    checked = 0
    for path in sorted((Path(__file__).parent / "conformance").glob("*.yml")):
        suite = yaml.safe_load(path.read_text(encoding="utf-8"))
        p = segc.load_project(write_project(tmp_path / path.stem, suite["project"], suite["segments"]))
        schema = p.schema
        entities = {row[schema.key]: {n: _parse(row.get(f.column or n), f.type)
                                      for n, f in schema.features.items() if f.kind == "column"}
                    for row in suite["rows"].get(schema.base, [])}
        events = {}
        for name, src in schema.sources.items():
            if name != schema.base:
                events[name] = [{**r, src.time: _parse(r.get(src.time), "timestamp")} if src.time else r
                                for r in suite["rows"].get(name, [])]
        base_time = schema.sources[schema.base].time
        joined = {row[schema.key]: _parse(row.get(base_time), "timestamp")
                  for row in suite["rows"].get(schema.base, [])} if base_time else {}
        w = ref.World(entities, events, p.as_of, schema, joined)
        for case in suite["cases"]:
            pred, _ = p.check_expression(case["expr"])
            members, unknown = ref.evaluate(w, pred, p.checked.population)
            assert not unknown and sorted(members) == sorted(case["members"]), case["expr"]
            checked += 1
    assert checked >= 60


def _parse(v, type_):
    if isinstance(v, str) and type_ == "date":
        return dt.date.fromisoformat(v)
    if type_ == "timestamp" and isinstance(v, str):
        return dt.datetime.fromisoformat(v)
    if type_ == "timestamp" and isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return dt.datetime(v.year, v.month, v.day)
    return v


def test_reference_calendar():
    """The reference's own calendar arithmetic, against worked examples."""
    d = dt.date
    assert ref.shift(d(2024, 3, 31), -1, "month") == d(2024, 2, 29)
    assert ref.shift(d(2023, 3, 31), -1, "month") == d(2023, 2, 28)
    assert ref.shift(d(2024, 2, 29), -1, "year") == d(2023, 2, 28)
    assert ref.shift(d(2024, 2, 29), 4, "year") == d(2028, 2, 29)
    assert ref.shift(d(2024, 1, 31), 1, "month") == d(2024, 2, 29)
    assert ref.shift(d(2024, 12, 31), 2, "month") == d(2025, 2, 28)
    assert ref.shift(d(2024, 1, 1), -1, "day") == d(2023, 12, 31)
    assert ref.shift(d(2024, 3, 5), -2, "week") == d(2024, 2, 20)
    assert ref.shift(dt.datetime(2024, 3, 31, 23, 59, 59), -1, "month") == dt.datetime(2024, 2, 29, 23, 59, 59)
    assert [ref.days_in_month(y, 2) for y in (1900, 2000, 2023, 2024)] == [28, 29, 28, 29]


def test_zz_summary(capsys):
    """How many examples and queries ran on each engine (run after the fuzz tests)."""
    if not EXAMPLES:
        pytest.skip("the differential tests did not run in this session")
    lines = [f"differential: {EXAMPLES[e]} examples, {QUERIES[e]} queries on {e}" for e in ENGINES]
    lines.append("differential: time " + ", ".join(f"{k} {v:.1f}s" for k, v in TIMES.items())
                 + f"; ambiguous entity decisions skipped: {SKIPPED['entities']}"
                 + f"; SQLite E602 (cannot clamp month ends): {SKIPPED['sqlite E602']}"
                 + f"; SQLite E602 (holdout: no md5): {SKIPPED['sqlite E602 holdout']}"
                 + f"; SQLite parser depth: {SKIPPED['sqlite parser depth']}"
                 + f"; A neither empty nor the population in {STATS['A decides']} of {STATS['A']} runs")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    for e in ("duckdb", "postgres"):
        assert EXAMPLES[e] >= min(TOTAL, 50), lines
