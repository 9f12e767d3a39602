"""`segc check --data`: the preview data against segc.yml — every column a feature or a
source declares exists with a compatible type, `nullable: false` and `values:` hold, and
the base key is unique (E715). Reports counts only, never the offending values (they may
be personal data)."""
from __future__ import annotations

from sqlglot import exp

from segc.front.errors import Diagnostic
from segc.backend.lower import col, table

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


def _accepts(segc_type: str, duck_type: str) -> bool:
    base = duck_type.split("(")[0].strip().upper()
    return base in _ACCEPTS[segc_type]


def check_data(project) -> list[Diagnostic]:
    from segc.run.duckdb_engine import run

    schema = project.schema
    con = project.duckdb()
    columns: dict[str, dict[str, str]] = {}
    for src in schema.sources.values():
        q = exp.select(exp.Star()).from_(table(".".join(src.table.split(".")[-2:]))).limit(0)
        desc = con.execute(q.sql(dialect="duckdb")).description
        columns[src.name] = {d[0]: str(d[1]) for d in desc}
    diags: list[Diagnostic] = []

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
            diags.append(Diagnostic("E711", f"{what}: column `{column}` of {src.path} is {have[column]}, "
                                    f"not {segc_type}", schema.key_span(*path),
                                    hints=("declare `type:` to match the data, or convert the column",)))
            return False
        return True

    base = schema.base
    need(base, schema.key, None, ("key",), "key")
    for name, src in schema.sources.items():
        if src.time:
            need(name, src.time, "timestamp", ("sources", name, "time"), f"source `{name}` time")
        if name == base:
            continue
        if src.key:
            need(name, src.key, None, ("sources", name, "key"), f"source `{name}`")
        for c, t in src.columns.items():
            need(name, c, t, ("sources", name, "columns", c), f"source `{name}`")
    checks = []
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
        if f.type == "float" and columns[base][f.column].split("(")[0].upper() in _NAN_TYPES:
            checks.append((name, "W716", _is_nan(col(f.column)), _NAN_MESSAGE, _NAN_HINT))
    # one scan of the base for every check, the key's uniqueness included
    sums = [exp.Sum(this=exp.Case(ifs=[exp.If(this=cond, true=exp.Literal.number(1))],
                                  default=exp.Literal.number(0))) for _n, _c, cond, _m, _h in checks]
    key_ok = schema.key in columns[base]
    if key_ok:
        sums.append(duplicates(col(schema.key)))
    if sums:
        src = schema.sources[base]
        q = exp.select(*sums).from_(table(".".join(src.table.split(".")[-2:])))
        row = run(con, q.sql(dialect="duckdb"))[0]
        for (name, code, _cond, message, hint), n in zip(checks, row):
            if n:
                diags.append(Diagnostic(code, f"feature `{name}` " + message.format(n=int(n)),
                                        schema.key_span("features", name), hints=(hint,),
                                        severity="warning" if code.startswith("W") else "error"))
        if key_ok and row[-1]:
            diags.append(duplicate_keys(schema, int(row[-1]), f"the base `{base}`"))
    diags += _event_nans(schema, columns, run, con)
    return diags


# NaN (not a number) is a value to DuckDB, PostgreSQL and Spark, ranked above +inf; segc
# reads it as missing (lower.nan_free), but other readers of the table may not. Only
# binary floats can hold one.
_NAN_TYPES = ("FLOAT", "DOUBLE", "REAL")
_NAN_MESSAGE = "has {n} NaN values (not a number), which segc reads as missing"
_NAN_HINT = ("store a missing value as NULL: engines and other tools rank NaN above every number "
             "and count it in comparisons")


def _is_nan(c: exp.Expression) -> exp.Expression:
    return exp.IsNan(this=c)


def _event_nans(schema, columns, run, con) -> list[Diagnostic]:
    """W716 for the float columns of event sources: one query per source."""
    out = []
    for name, src in schema.sources.items():
        floats = [c for c, t in src.columns.items() if t == "float" and name != schema.base
                  and columns[name].get(c, "").split("(")[0].upper() in _NAN_TYPES]
        if not floats:
            continue
        sums = [exp.Sum(this=exp.Case(ifs=[exp.If(this=_is_nan(col(c)), true=exp.Literal.number(1))],
                                      default=exp.Literal.number(0))) for c in floats]
        q = exp.select(*sums).from_(table(".".join(src.table.split(".")[-2:])))
        for c, n in zip(floats, run(con, q.sql(dialect="duckdb"))[0]):
            if n:
                out.append(Diagnostic("W716", f"column `{c}` of source `{name}` " + _NAN_MESSAGE.format(n=int(n)),
                                      schema.key_span("sources", name, "columns", c), hints=(_NAN_HINT,),
                                      severity="warning"))
    return out


def duplicates(key: exp.Expression) -> exp.Expression:
    """How many rows repeat the key of an earlier one (a missing key repeats nothing)."""
    return exp.Sub(this=exp.Count(this=key), expression=exp.Count(this=exp.Distinct(expressions=[key.copy()])))


def duplicate_keys(schema, n: int, where: str) -> Diagnostic:
    """E715: the base key is not unique (DESIGN §8.2). The count only, never a key: keys
    may be personal data (e-mail addresses)."""
    return Diagnostic("E715", f"{where} has {n:,} row{'s' if n != 1 else ''} whose key `{schema.key}` "
                      "another row has too: a customer would be counted more than once",
                      schema.key_span("key"),
                      hints=("the key must be unique: deduplicate the table, or declare the column that "
                             "is unique as `key:`",))
