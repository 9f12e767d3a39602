"""Segment unit tests: fixture rows -> the exact members each segment must select, on
in-memory DuckDB and SQLite (no warehouse needed).

A test file is `tests/*.yml` in the project:

    as_of: 2024-07-01                  # optional when segc.yml pins one
    defaults:                          # optional: values for columns a row leaves out
      customers: {is_test: false, email_optin: true}
    rows:                              # per source (its name in segc.yml, or its table)
      customers:
        - {customer_id: 1, country: FR, age: 34}
      orders:
        - {customer_id: 1, ordered_at: 2024-06-20, amount: 120.0, status: completed}
    expect:                            # segment -> its exact members (keys)
      loyal_big_basket: []
      value_tier.average: [1]          # segmentation branches as name.branch

Each source becomes a table under its warehouse name (`shop.orders`), typed from
segc.yml: the key, base features' columns (a feature's name may stand for its column),
the event sources' `time` and `columns`. SQLite stores dates and timestamps as ISO text
and booleans as 0/1. A column a row leaves out is NULL (or its default).
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from segc import ir
from segc.check.targets import BRANCH, SEGMENT, Takes
from segc.front.errors import Diagnostic, SegcError, suggest
from segc.front.files import display_path, read_source
from segc.front.source import Span
from segc.front.yamlpos import Located, load_yaml
from segc.run.engine import engine_message
from segc.run.memory import IN_MEMORY, PROVIDED, create_tables, open_memory, table_parts

ENGINES = IN_MEMORY  # no warehouse: the engines that hold a database in memory
EXPECT = Takes("`expect:`", frozenset({SEGMENT, BRANCH}), None)  # members of one segment or branch
TOP_KEYS = ("as_of", "description", "defaults", "rows", "expect")


# ---- results ----------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """One expected segment on one engine."""
    segment: str
    engine: str
    expected: tuple
    missing: tuple = ()  # expected members the engine did not select
    extra: tuple = ()  # selected members that were not expected
    error: str | None = None  # the SQL could not be compiled or failed on the engine

    @property
    def ok(self) -> bool:
        return self.error is None and not self.missing and not self.extra

    def to_dict(self) -> dict:
        out = {"segment": self.segment, "engine": self.engine, "ok": self.ok,
               "missing": list(self.missing), "extra": list(self.extra)}
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass(frozen=True)
class FileResult:
    file: str
    as_of: str
    outcomes: list[Outcome]

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def segments(self) -> list[str]:
        return list(dict.fromkeys(o.segment for o in self.outcomes))


@dataclass(frozen=True)
class TestReport:
    files: list[FileResult]
    engines: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return all(not f.failures for f in self.files)

    @property
    def checks(self) -> int:
        return sum(len(f.outcomes) for f in self.files)

    @property
    def failed(self) -> int:
        return sum(len(f.failures) for f in self.files)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "engines": list(self.engines), "checks": self.checks, "failed": self.failed,
                "files": [{"file": f.file, "as_of": f.as_of, "segments": f.segments,
                           "failures": [o.to_dict() for o in f.failures]} for f in self.files]}


# ---- a parsed test file -------------------------------------------------------------

@dataclass
class _Table:
    source: str
    name: str  # warehouse name, e.g. shop.orders
    columns: dict[str, str]  # column -> segc type, in creation order
    rows: list[tuple] = field(default_factory=list)  # canonical Python values, in column order


@dataclass
class _TestFile:
    file: str
    as_of: dt.date
    tables: list[_Table]
    expect: dict[str, tuple]  # segment -> expected keys


def find_tests(project) -> list[Path]:
    folder = project.root / "tests"
    return sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]) if folder.is_dir() else []


def run_tests(project, files: list[str | Path] | None = None, engines: tuple[str, ...] = ENGINES) -> TestReport:
    """Run the project's test files (default: tests/*.yml) on every engine. Raises
    SegcError with every problem of every malformed file before running any."""
    _check_engines(engines)
    paths = [Path(f) for f in files] if files else find_tests(project)
    if not paths:
        raise SegcError(Diagnostic("E806", f"no test files in {display_path(project.root / 'tests')}",
                                   file=display_path(project.root / "tests"),
                                   hints=("add tests/<name>.yml with `rows:` and `expect:` (see `segc test --help`)",)))
    parsed, diags = [], []
    for path in paths:
        if not (path.suffix in (".yml", ".yaml") and path.is_file()):
            # a segment name, or a mistyped file: segments are named in a file's `expect:`
            diags.append(Diagnostic("E806", f"`{path}` is neither a project folder nor a test file (.yml)",
                                    hints=("give test files (tests/*.yml) or a project folder; a test names its "
                                           "segments under `expect:`",)))
            continue
        try:
            parsed.append(parse_test_file(project, path))
        except SegcError as e:
            diags.extend(e.diagnostics)
    if diags:
        raise SegcError(diags)
    return TestReport([_run_file(project, t, engines) for t in parsed], tuple(engines))


def _check_engines(engines) -> None:
    for engine in engines:
        if engine not in ENGINES:
            close = suggest(str(engine), ENGINES)
            raise SegcError(Diagnostic("E808", f"segc test runs on {', '.join(ENGINES)}, not `{engine}`",
                                       hints=(f"did you mean `{close}`?",) if close else ()))


# ---- parsing and validation ---------------------------------------------------------------

def parse_test_file(project, path: Path) -> _TestFile:
    display = display_path(Path(path))
    src = read_source(Path(path), display)
    loc = load_yaml(src)
    schema = project.schema
    diags: list[Diagnostic] = []

    def err(p: tuple, message: str, *hints: str, code: str = "E801", value: bool = False):
        span = loc.value_spans[p][0] if value and p in loc.value_spans else loc.span(p)
        if span.start == span.end == 0 and not src.text:
            span = None
        diags.append(Diagnostic(code, message, span, hints=tuple(hints), file=display if span is None else None))

    data = loc.data
    if not isinstance(data, dict):
        raise SegcError(Diagnostic("E801", "a test file is a mapping with `rows:` and `expect:`",
                                   Span(src, 0, min(len(src.text), 1)) if src.text else None,
                                   file=None if src.text else display,
                                   hints=("see `segc test --help` for the format",)))
    for key in data:
        if key not in TOP_KEYS:
            close = suggest(str(key), TOP_KEYS)
            err((key,), f"unknown key `{key}` in a test file",
                f"did you mean `{close}`?" if close else "keys: " + ", ".join(TOP_KEYS))

    as_of = _as_of(data.get("as_of"), project, err)
    tables = _tables(project, loc, data, err)
    key_type = tables[schema.base].columns[schema.key] if tables else "int"
    expect = _expect(project, loc, data, key_type, err)
    if diags:
        raise SegcError(diags)
    order = [schema.base] + [s for s in schema.sources if s != schema.base]
    return _TestFile(display, as_of, [tables[s] for s in order if s in tables], expect)


def _as_of(value, project, err) -> dt.date | None:
    if value is None:
        if project.schema.as_of is None:
            err((), "the test file needs `as_of:` (segc.yml pins none)",
                "add e.g. `as_of: 2024-07-01` so the expected members do not change with the date")
        return project.schema.as_of
    if isinstance(value, dt.datetime):  # unquoted `2024-07-01T10:00:00`: never cut to its day unseen
        err(("as_of",), f"`as_of`: `{value.isoformat()}` is a timestamp; `as_of` is a date, not a timestamp",
            "write YYYY-MM-DD (the as-of is a day)", value=True)
        return None
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value))
        except ValueError:
            err(("as_of",), f"`as_of`: `{value}` is not a date", "write YYYY-MM-DD", value=True)
            return None
    if ir.as_of_problem(value):  # else one failure per segment and engine, unlocated
        err(("as_of",), ir.as_of_problem(value), ir.DATE_RANGE_HINT, code="E309", value=True)
        return None
    return value


def _columns(schema, base: bool, src) -> tuple[dict[str, str], dict[str, str]]:
    """Declared column types of a source's table, and feature names standing for columns."""
    cols: dict[str, str] = {}
    aliases: dict[str, str] = {}
    if base:
        for f in schema.features.values():
            if f.kind == "column":
                cols.setdefault(f.column, f.type)
                if f.column != f.name:
                    aliases[f.name] = f.column
    if src.time:  # an event's time, or the base's (when a customer joined: DESIGN §8.2)
        cols.setdefault(src.time, src.columns.get(src.time, "timestamp"))
    if not base:
        for c, t in src.columns.items():
            cols.setdefault(c, t)
    return cols, aliases


def _sql_columns(schema) -> set[str]:
    """Base columns that `sql:` features read: their types come from the test rows."""
    from sqlglot import exp

    out = set()
    for f in schema.features.values():
        if f.kind == "sql" and f.sql is not None:
            out.update(c.name for c in f.sql.find_all(exp.Column))
    return out


def _tables(project, loc: Located, data: dict, err) -> dict[str, _Table]:
    schema = project.schema
    rows_data = data.get("rows")
    if rows_data is None:
        err((), "the test file needs `rows:` (fixture rows per source)", "`segc init` writes a test file to start from")
        return {}
    if not isinstance(rows_data, dict):
        err(("rows",), "`rows:` maps each source to a list of rows", "e.g. `rows: {customers: [{customer_id: 1, age: 30}]}`",
            value=True)
        return {}
    defaults_data = data.get("defaults") or {}
    if not isinstance(defaults_data, dict):
        err(("defaults",), "`defaults:` maps a source to {column: value}", "e.g. `defaults: {customers: {country: FR}}`",
            value=True)
        defaults_data = {}

    by_table = {s.table: name for name, s in schema.sources.items()}

    def source_name(key, where: tuple) -> str | None:
        if key in schema.sources:
            return key
        if key in by_table:
            return by_table[key]
        close = suggest(str(key), list(schema.sources))
        err(where, f"unknown source `{key}`", code="E802",
            *([f"did you mean `{close}`?"] if close else ["sources: " + ", ".join(schema.sources)]))
        return None

    def twice(section: str, key, name: str, seen: dict) -> bool:
        """A source given under its name and its table: the later would replace the earlier."""
        if name not in seen:
            return False
        first = seen[name][0]
        err((section, key), f"`{section}.{key}` is source `{name}`, already given as `{first}` at line "
            f"{loc.span((section, first)).line}", f"give `{name}` once, under one name")
        return True

    given: dict[str, tuple] = {}  # source -> (yaml key, rows)
    for key, rows in rows_data.items():
        name = source_name(key, ("rows", key))
        if name is None or twice("rows", key, name, given):
            continue
        if rows is None:
            rows = []
        if not isinstance(rows, list):
            err(("rows", key), f"`rows.{key}` must be a list of rows ({{column: value}} mappings)",
                f"e.g. `{key}: [{{...}}, {{...}}]`")
            continue
        given[name] = (key, rows)
    defaults: dict[str, tuple] = {}
    for key, values in defaults_data.items():
        name = source_name(key, ("defaults", key))
        if name is None or twice("defaults", key, name, defaults):
            continue
        if not isinstance(values, dict):
            err(("defaults", key), f"`defaults.{key}` must map columns to values", f"e.g. `{key}: {{column: value}}`")
            continue
        defaults[name] = (key, values)

    # the key's type: what the base rows use (int unless they are strings)
    base_rows = given.get(schema.base, (None, []))[1]
    keys = [r.get(schema.key) for r in base_rows if isinstance(r, dict) and r.get(schema.key) is not None]
    key_type = "string" if keys and all(isinstance(k, str) for k in keys) else "int"
    key_hint = (f"the keys are {'text' if key_type == 'string' else 'ints'}, as the rows of `{schema.base}` give "
                "them: write every key alike")
    sql_cols = _sql_columns(schema)

    tables: dict[str, _Table] = {}
    for name, src in schema.sources.items():
        base = name == schema.base
        key_col = schema.key if base else src.key
        if key_col is None:
            continue  # not usable as an event source (the checker says so where it matters)
        declared, aliases = _columns(schema, base, src)
        columns = {key_col: key_type, **{c: t for c, t in declared.items() if c != key_col}}
        yaml_key, rows = given.get(name, (name, []))
        d_key, d_values = defaults.get(name, (name, {}))
        if base:  # columns read by `sql:` features: typed by the values the tests give
            for c in sorted(sql_cols - set(columns)):
                values = [r.get(c) for r in rows if isinstance(r, dict)] + [d_values.get(c)]
                columns[c] = _infer(values)

        def resolve(column, where: tuple, what: str) -> str | None:
            if column in columns:
                return column
            if column in aliases:
                return aliases[column]
            known = list(columns) + list(aliases)
            close = suggest(str(column), known)
            err(where, f"unknown column `{column}` in {what} of source `{name}` ({src.table})", code="E803",
                *([f"did you mean `{close}`?"] if close else ["columns: " + ", ".join(known)]))
            return None

        hints = {key_col: key_hint}  # a key's type is not declared: the rows give it
        fill: dict[str, object] = {}
        refused = set()  # columns whose value was refused (E804): not also said to be missing
        for c, v in d_values.items():
            real = resolve(c, ("defaults", d_key, c), "the defaults")
            if real is not None:
                fill[real] = _value(v, columns[real], ("defaults", d_key, c), err, hints.get(real))
                if fill[real] is None and v is not None:
                    refused.add(real)
        table = _Table(name, src.table, columns)
        seen_keys: dict = {}
        for i, row in enumerate(rows):
            where = ("rows", yaml_key, i)
            if not isinstance(row, dict):
                err(where, f"row {i + 1} of `{yaml_key}` must be a mapping {{column: value}}",
                    "write each row as `- {column: value, ...}`")
                continue
            values, wrong = dict(fill), set(refused)
            for c, v in row.items():
                real = resolve(c, where + (c,), "a row")
                if real is not None:
                    values[real] = _value(v, columns[real], where + (c,), err, hints.get(real))
                    wrong.discard(real)
                    if values[real] is None and v is not None:
                        wrong.add(real)
            if key_col in wrong:
                pass  # its value is refused already
            elif values.get(key_col) is None:
                err(where, f"row {i + 1} of `{yaml_key}` has no `{key_col}` (the key)",
                    f"give each row its `{key_col}`, or set it in `defaults:`")
            elif base:
                k = values[key_col]
                if k in seen_keys:
                    err(where + (schema.key,), f"duplicate key {k!r} in `{yaml_key}`",
                        f"row {seen_keys[k] + 1} has the same key: a customer is one row of the base", value=True)
                seen_keys.setdefault(k, i)
            if base:
                for f in schema.features.values():
                    if f.kind == "column" and not f.nullable and values.get(f.column) is None and f.column not in wrong:
                        err(where, f"row {i + 1} of `{yaml_key}` has no `{f.column}`, declared `nullable: false`",
                            f"give it a value, or one for every row under `defaults: {{{yaml_key}: ...}}`")
            table.rows.append(tuple(values.get(c) for c in columns))
        tables[name] = table
    return tables


def _infer(values) -> str:
    present = [v for v in values if v is not None]
    for t, ok in (("bool", lambda v: isinstance(v, bool)),
                  ("int", lambda v: isinstance(v, int) and not isinstance(v, bool)),
                  ("float", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
                  ("timestamp", lambda v: isinstance(v, dt.datetime)),
                  ("date", lambda v: isinstance(v, dt.date) and not isinstance(v, dt.datetime))):
        if present and all(ok(v) for v in present):
            return t
    return "string"


def _value(value, type_: str, where: tuple, err, hint: str | None = None):
    """A YAML value as the canonical Python value of a segc type (or an error)."""
    try:
        return to_python(value, type_)
    except ValueError as e:
        err(where, f"`{where[-1]}`: {e}", getattr(e, "hint", None) or hint or
            f"the column is declared `{type_}` in segc.yml; write null for a missing value", code="E804", value=True)
        return None


class _Refused(ValueError):
    """A value refused for how it is written, with the hint to write it right."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+")  # what YAML 1.1 leaves as text


def _exponent_text(value) -> None:
    """`1e3`, `1.0e300`: a number to the eye, text to YAML 1.1 (its floats need a dot and a
    signed exponent): refused with the spelling it reads, `1.0e+3`."""
    if not (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        return
    mantissa, exponent = re.split("[eE]", value.strip())
    mantissa += "" if "." in mantissa else ".0"
    exponent = exponent if exponent[0] in "+-" else "+" + exponent
    raise _Refused(f"{value!r} is text: YAML reads an exponent as a number only with a dot and a sign "
                   f"({mantissa}e{exponent})", f"write {mantissa}e{exponent}, or the number written out")


def to_python(value, type_: str):
    """Check a fixture value against a segc type. Nothing is guessed: YAML reads `NO` as
    false, `1.0` is not a string."""
    if value is None:
        return None
    bad = ValueError(f"{value!r} is not {'an' if type_ == 'int' else 'a'} {type_}")
    if type_ in ("int", "float"):
        _exponent_text(value)
    if type_ == "int":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            if not -2 ** 63 <= value < 2 ** 63:  # the engines' BIGINT: it would fail to load
                raise _Refused(f"{value!r} is outside the range of an int (64 bits)",
                               "an int column holds -9223372036854775808 to 9223372036854775807")
            return value
        raise bad
    if type_ == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        return float(value)
    if type_ == "string":
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a string (quote it: \"{value}\")")
        if "\x00" in value:
            raise ValueError("strings may not contain NUL")
        return value
    if type_ == "bool":
        if isinstance(value, bool):
            return value
        raise ValueError(f"{value!r} is not true or false")
    if type_ == "date":
        if isinstance(value, dt.datetime):
            raise ValueError(f"{value!r} is a timestamp, not a date")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
        raise bad
    if type_ == "timestamp":
        if isinstance(value, dt.datetime):
            result = value
        elif isinstance(value, dt.date):
            result = dt.datetime(value.year, value.month, value.day)
        elif isinstance(value, str):
            try:
                result = dt.datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a timestamp (YYYY-MM-DD HH:MM:SS)") from None
        else:
            raise bad
        if result.tzinfo is not None:
            raise ValueError(f"{value!r} has a time zone; segc timestamps are naive")
        return result
    raise bad


def _expect(project, loc: Located, data: dict, key_type: str, err) -> dict[str, tuple]:
    expect = data.get("expect")
    if expect is None:
        err((), "the test file needs `expect:` (segment -> its exact members)", "e.g. `expect: {big_basket: [1, 3]}`")
        return {}
    if not isinstance(expect, dict) or not expect:
        err(("expect",), "`expect:` maps segment names to lists of member keys", "e.g. `expect: {big_basket: [1, 3]}`",
            value=True)
        return {}
    out = {}
    for name, keys in expect.items():
        name_s = str(name)
        where = ("expect", name)
        try:
            project.target(name_s, EXPECT)
        except SegcError as e:  # the resolver's words, at the key of the test file
            err(where, e.diagnostics[0].message, *e.diagnostics[0].hints, code="E805")
            continue
        if not isinstance(keys, list):  # also an empty value (null): `[]` says "no members"
            err(where, f"`expect.{name_s}` must be a list of keys (`[]` for none)", f"e.g. `{name_s}: [1, 3]`", value=True)
            continue
        values = []
        key = project.schema.key
        for i, k in enumerate(keys):
            try:
                v = to_python(k, key_type)
            except ValueError:
                err(where + (i,), f"member {k!r} of `{name_s}` is not {'an' if key_type == 'int' else 'a'} "
                    f"{key_type} like the keys (`{key}`) of the rows", "list the keys as the rows give them",
                    code="E804", value=True)
                continue
            if v is None:
                err(where + (i,), f"a member of `{name_s}` is null: list keys (`{key}`)", "remove the empty item",
                    code="E804", value=True)
                continue
            if v in values:
                err(where + (i,), f"a member of `{name_s}` is listed twice",
                    "list each key once (was another key meant?)", code="E804", value=True)
                continue
            values.append(v)
        out[name_s] = tuple(sorted(values))
    return out


# ---- running -----------------------------------------------------------------------------

def _run_file(project, test: _TestFile, engines) -> FileResult:
    outcomes = []
    for engine in engines:
        con = _load(engine, test.tables, test.file)
        try:
            for name, expected in test.expect.items():
                outcomes.append(_check(project, con, engine, name, expected, test.as_of))
        finally:
            con.close()
    outcomes.sort(key=lambda o: (list(test.expect).index(o.segment), engines.index(o.engine)))
    return FileResult(test.file, test.as_of.isoformat(), outcomes)


def _check(project, con, engine: str, name: str, expected: tuple, as_of: dt.date) -> Outcome:
    try:
        sql = project.compile(name, dialect=engine, as_of=as_of, pretty=False, provided=PROVIDED[engine])
    except SegcError as e:
        return Outcome(name, engine, expected, error="; ".join(d.message for d in e.diagnostics))
    try:
        got = {row[0] for row in con.execute(sql).fetchall()}
    except Exception as e:  # the engine's own error type; a segc bug or an unsupported construct
        return Outcome(name, engine, expected, error=f"the query failed: {engine_message(e)}")
    want = set(expected)
    return Outcome(name, engine, expected, tuple(sorted(want - got, key=_order)), tuple(sorted(got - want, key=_order)))


def _order(k):
    return (isinstance(k, str), k)


def _load(engine: str, tables: list[_Table], file: str):
    """A fresh in-memory connection of `engine` with the tables created and filled."""
    for t in tables:
        try:
            table_parts(engine, t.name)
        except ValueError as e:
            raise SegcError(Diagnostic("E807", f"source `{t.source}`: {e}",
                                       hints=("a fixture's table is named after its source in segc.yml",))) from None
    con = open_memory(engine)
    try:
        create_tables(con, engine, [(t.name, t.columns, t.rows) for t in tables])
    except (KeyboardInterrupt, SegcError):
        con.close()
        raise
    except Exception as e:  # the engine refused a value (e.g. an int beyond 64 bits): never shown
        con.close()
        raise SegcError(Diagnostic("E804", f"{file}: the rows cannot be loaded into {engine}: {engine_message(e)}",
                                   hints=("a value outside its column type's range?",))) from None
    return con
