"""`segc check --data`: the preview data against segc.yml — every column a feature or a
source declares exists with a compatible type, and `nullable: false` and `values:` hold.
Reports counts; a value outside `values:` is named only when at least MIN_SHARED rows
hold it and the feature is not sensitive (a value one customer holds may be personal
data typed into the wrong field: a name, an e-mail)."""
from __future__ import annotations

from sqlglot import exp

from segc.front.errors import Diagnostic
from segc.backend.lower import col, table
from segc.check.policy import sensitive_reads

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
            table(".".join(src.table.split(".")[-2:])))
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
        q = exp.select(exp.Star()).from_(table(".".join(src.table.split(".")[-2:]))).limit(0)
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
        if name == base:
            continue
        if src.key:
            need(name, src.key, None, ("sources", name, "key"), f"source `{name}`")
        if src.time:
            need(name, src.time, "timestamp", ("sources", name, "time"), f"source `{name}` time")
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
    if checks:
        sums = [exp.Sum(this=exp.Case(ifs=[exp.If(this=cond, true=exp.Literal.number(1))],
                                      default=exp.Literal.number(0))) for _n, _c, cond, _m, _h in checks]
        src = schema.sources[base]
        base_table = table(".".join(src.table.split(".")[-2:]))
        q = exp.select(*sums).from_(base_table)
        row = project.engine.execute(q.sql(dialect="duckdb"))[0]
        for (name, code, _cond, message, hint), n in zip(checks, row):
            if n:
                hints = (hint,)
                if code == "E713":
                    hints = (_outside_values(project, base_table, name, outside_checks[name]),) + hints
                diags.append(Diagnostic(code, f"feature `{name}` " + message.format(n=int(n)),
                                        schema.key_span("features", name), hints=tuple(h for h in hints if h)))
    return diags


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
