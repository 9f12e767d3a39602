"""`segc check --data`: the preview data against segc.yml — every column a feature or a
source declares exists with a compatible type, `nullable: false` and `values:` hold, and
the base key is unique (E715). Reports counts; a value outside `values:` is named only
when at least MIN_SHARED rows hold it and the feature is not sensitive (a value one
customer holds may be personal data typed into the wrong field: a name, an e-mail); a
key never is."""
from __future__ import annotations

from sqlglot import exp

from segc.front.errors import Diagnostic
from segc.backend.trees import col, table
from segc.check.policy import sensitive_reads
from segc.run.duckdb_engine import local_name

# segc type -> DuckDB column types it accepts
_ACCEPTS = {
    "int": ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "UHUGEINT"),
    "float": ("FLOAT", "DOUBLE", "DECIMAL", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
              "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"),
    "string": ("VARCHAR",),
    "bool": ("BOOLEAN",),
    "date": ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"),
    "timestamp": ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE"),
}


MIN_SHARED = 10  # rows that must share a value before a message may name it
NAMED_VALUES = 5  # at most this many values are named, the most frequent first


def _accepts(segc_type: str, duck_type: str) -> bool:
    base = duck_type.split("(")[0].strip().upper()
    return base in _ACCEPTS[segc_type]


def _read_csv_through(project, columns: dict[str, dict[str, str]]) -> list[Diagnostic]:
    """Each CSV source read to its last line: DuckDB detects a column's type from the first
    lines, and a later value that does not convert (E707) fails only a query that reads it."""
    from segc.front.errors import SegcError

    diags: list[Diagnostic] = []
    for src in project.schema.sources.values():
        if not str(src.path or "").lower().endswith(".csv") or not columns[src.name]:
            continue
        q = exp.select(*(exp.Count(this=col(c)) for c in columns[src.name])).from_(
            table(local_name(src)))
        try:
            project.engine.execute(q.sql(dialect="duckdb"))
        except SegcError as e:
            diags += e.diagnostics
    return diags


def check_data(project) -> list[Diagnostic]:
    schema = project.schema
    con = project.duckdb()
    columns: dict[str, dict[str, str]] = {}
    for src in schema.sources.values():
        q = exp.select(exp.Star()).from_(table(local_name(src))).limit(0)
        desc = con.execute(q.sql(dialect="duckdb")).description
        columns[src.name] = {d[0]: str(d[1]) for d in desc}
    diags: list[Diagnostic] = _read_csv_through(project, columns)

    def need(source: str, column: str, segc_type: str | None, path: tuple, what: str) -> bool:
        src = schema.sources[source]
        have = columns[source]
        if column not in have:
            from segc.front.errors import suggest

            close = suggest(column, have)
            diags.append(Diagnostic("E710", f"{what}: column `{column}` not found in {src.path}",
                                    schema.key_span(*path),
                                    hints=(f"did you mean `{close}`?" if close else
                                           "columns: " + ", ".join(list(have)[:15]),)))
            return False
        if segc_type and not _accepts(segc_type, have[column]):
            hints = ("declare `type:` to match the data, or convert the column",)
            if segc_type in ("date", "timestamp") and str(src.path).lower().endswith(".csv"):
                option = "dateformat" if segc_type == "date" else "timestampformat"
                hints = (f"if the file writes {segc_type}s in a format DuckDB does not detect, set `{option}:` "
                         f"on source `{source}`, e.g. \"%d.%m.%Y\" (strftime fields)",) + hints
            diags.append(Diagnostic("E711", f"{what}: column `{column}` of {src.path} is {have[column]}, "
                                    f"not {segc_type}", schema.key_span(*path), hints=hints))
            return False
        return True

    base = schema.base
    need(base, schema.key, None, ("key",), "key")
    for name, src in schema.sources.items():
        if src.time:
            need(name, src.time, "timestamp", ("sources", name, "time"), f"source `{name}` time")
        if name == base:
            continue
        if src.key and need(name, src.key, None, ("sources", name, "key"), f"source `{name}`"):
            diags += _key_types(schema, src, columns)
        for c, t in src.columns.items():
            need(name, c, t, ("sources", name, "columns", c), f"source `{name}`")
    checks, outside_checks = [], {}
    for name, f in schema.features.items():
        if f.kind != "column":
            continue
        if not need(base, f.column, f.type, ("features", name), f"feature `{name}`"):
            continue
        if not f.nullable:
            checks.append((name, "E712", exp.Is(this=col(f.column), expression=exp.Null()),
                           "is declared `nullable: false` but is missing in {n} rows",
                           "remove `nullable: false` (segc then guards it) or fill the column"))
        if f.values is not None:
            outside = exp.Not(this=exp.In(this=col(f.column), expressions=[
                exp.Literal.string(v) if isinstance(v, str) else exp.Literal.number(v) for v in f.values]))
            checks.append((name, "E713", outside, "has {n} rows with a value outside its `values:`",
                           "add the values to `values:` (conditions on them are compile errors)"))
            outside_checks[name] = outside
        if f.type == "float" and columns[base][f.column].split("(")[0].upper() in _NAN_TYPES:
            checks.append((name, "W716", _is_nan(col(f.column)), _NAN_MESSAGE, _NAN_HINT))
    # one scan of the base for every check, the key's uniqueness included
    sums = [exp.Sum(this=exp.Case(ifs=[exp.If(this=cond, true=exp.Literal.number(1))],
                                  default=exp.Literal.number(0))) for _n, _c, cond, _m, _h in checks]
    key_ok = schema.key in columns[base]
    if key_ok:
        sums += key_problems(col(schema.key))
    if sums:
        src = schema.sources[base]
        base_table = table(local_name(src))
        q = exp.select(*sums).from_(base_table)
        row = project.engine.execute(q.sql(dialect="duckdb"))[0]
        for (name, code, _cond, message, hint), n in zip(checks, row[:len(checks)]):
            if n:
                hints = (hint,)
                if code == "E713":
                    hints = (_outside_values(project, base_table, name, outside_checks[name]),) + hints
                diags.append(Diagnostic(code, f"feature `{name}` " + message.format(n=int(n)),
                                        schema.key_span("features", name), hints=tuple(h for h in hints if h),
                                        severity="warning" if code.startswith("W") else "error"))
        problem = bad_keys(schema, int(row[-2] or 0), int(row[-1] or 0), f"the base `{base}`") if key_ok else None
        if problem is not None:
            diags.append(problem)
    diags += _event_nans(project, columns)
    return diags


def _key_kind(duck_type: str) -> str:
    """What a key column holds, as far as joining goes: numbers of any width join, as do
    dates and timestamps; any other type only itself."""
    if _accepts("float", duck_type):
        return "number"
    if _accepts("timestamp", duck_type):
        return "time"
    return duck_type.split("(")[0].strip().upper()


def _key_types(schema, src, columns) -> list[Diagnostic]:
    """E711 when an event source's `key:` column holds another kind of value than the base
    key: every query joins them (and fails, e.g. text against BIGINT on DuckDB)."""
    base = schema.sources[schema.base]
    have, want = columns[src.name].get(src.key), columns[schema.base].get(schema.key)
    if have is None or want is None or _key_kind(have) == _key_kind(want):
        return []
    return [Diagnostic("E711", f"source `{src.name}`: key column `{src.key}` of {src.path or src.table} is "
                       f"{have}, and the base key `{schema.key}` of {base.path or base.table} is {want}",
                       schema.key_span("sources", src.name, "key"),
                       hints=("the key joins each event to its customer: give both columns the same type "
                              "(in the data, or by converting one)",))]


# NaN (not a number) is a value to DuckDB, PostgreSQL and Spark, ranked above +inf; segc
# reads it as missing (lower.nan_free), but other readers of the table may not. Only
# binary floats can hold one.
_NAN_TYPES = ("FLOAT", "DOUBLE", "REAL")
_NAN_MESSAGE = "has {n} NaN values (not a number), which segc reads as missing"
_NAN_HINT = ("store a missing value as NULL: engines and other tools rank NaN above every number "
             "and count it in comparisons")


def _is_nan(c: exp.Expression) -> exp.Expression:
    return exp.IsNan(this=c)


def _event_nans(project, columns) -> list[Diagnostic]:
    """W716 for the float columns of event sources: one query per source."""
    schema, out = project.schema, []
    for name, src in schema.sources.items():
        floats = [c for c, t in src.columns.items() if t == "float" and name != schema.base
                  and columns[name].get(c, "").split("(")[0].upper() in _NAN_TYPES]
        if not floats:
            continue
        sums = [exp.Sum(this=exp.Case(ifs=[exp.If(this=_is_nan(col(c)), true=exp.Literal.number(1))],
                                      default=exp.Literal.number(0))) for c in floats]
        q = exp.select(*sums).from_(table(local_name(src)))
        for c, n in zip(floats, project.engine.execute(q.sql(dialect="duckdb"))[0]):
            if n:
                out.append(Diagnostic("W716", f"column `{c}` of source `{name}` " + _NAN_MESSAGE.format(n=int(n)),
                                      schema.key_span("sources", name, "columns", c), hints=(_NAN_HINT,),
                                      severity="warning"))
    return out


def key_problems(key: exp.Expression) -> list[exp.Expression]:
    """How many rows repeat the key of an earlier one, and how many have none."""
    return [exp.Sub(this=exp.Count(this=key), expression=exp.Count(this=exp.Distinct(expressions=[key.copy()]))),
            exp.Sub(this=exp.Count(this=exp.Star()), expression=exp.Count(this=key.copy()))]


def bad_keys(schema, repeated: int, missing: int, where: str) -> Diagnostic | None:
    """E715: the base key is not present and unique (DESIGN §8.2). Counts only, never a
    key: keys may be personal data (e-mail addresses)."""
    if repeated:
        return Diagnostic("E715", f"{where} has {repeated:,} row{'s' if repeated != 1 else ''} whose key "
                          f"`{schema.key}` another row has too: a customer would be counted more than once",
                          schema.key_span("key"),
                          hints=("the key must be unique: deduplicate the table, or declare the column that "
                                 "is unique as `key:`",))
    if missing:
        return Diagnostic("E715", f"{where} has {missing:,} row{'s' if missing != 1 else ''} without a key "
                          f"`{schema.key}`: such a customer is in the population but can be told from no "
                          "other (a holdout and its `not` would both leave it out)",
                          schema.key_span("key"),
                          hints=("every row needs its key: fill it, or leave those rows out of the table",))
    return None


def _outside_values(project, base_table: exp.Expression, name: str, outside: exp.Expression) -> str:
    """The most frequent values outside `values:` that at least MIN_SHARED rows share, for
    a feature that reads no sensitive column; otherwise it says why none is shown."""
    feature = project.schema.features[name]
    if sensitive_reads(project.schema, [name]):
        return "the values are not shown: the feature is sensitive"
    n = exp.Count(this=exp.Star())
    q = (exp.select(col(feature.column), n).from_(base_table.copy()).where(outside.copy())
         .group_by(col(feature.column)).having(exp.GTE(this=n.copy(), expression=exp.Literal.number(MIN_SHARED)))
         .order_by(exp.Ordered(this=n.copy(), desc=True), col(feature.column)).limit(NAMED_VALUES))
    shared = project.engine.execute(q.sql(dialect="duckdb"))
    if not shared:
        return f"no value outside `values:` is held by {MIN_SHARED} rows or more, so none is shown"
    named = ", ".join(f"`{v}` ({int(k)} rows)" for v, k in shared)
    return f"the most frequent, held by {MIN_SHARED} rows or more: {named} (rarer values are not shown)"
