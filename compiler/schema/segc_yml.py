"""segc.yml: the project's sources, features and parameters, validated and turned into
plain dataclasses. Every error names the file, the key and the line."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from segc import ir
from segc.front import ast
from segc.front.errors import Diagnostic, SegcError, suggest
from segc.front.source import Source, Span
from segc.front.printable import has_control, one_line
from segc.front.parse_cache import cached
from segc.front.yamlpos import Located, load_yaml
from segc.schema.physical import Sensitivity, mark_features, outside_project, sensitivity
from segc.schema.source_checks import check_order_by, check_path, check_time_column, check_sensitive, check_table_name
from segc.schema.sql_feature import parse_sql_feature, unresolved_columns, unresolved_diagnostic
from segc.schema.segc_yml_plain import read_plain
from segc.ir import PICKS
from segc.schema.vocabulary import WINDOW, is_name
from segc.schema.yaml_words import check_keys, check_values
from segc.schema.param_values import coerce_param
from segc.records import record

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
# warnings about one feature, which its `ignore_warnings:` may silence
FEATURE_WARNINGS = {"W742": "missing for more than 20% of the population"}


@record
class Text:
    """An expression written inside segc.yml, with where it stands there."""
    text: str
    span: Span
    exact: bool  # the raw YAML text equals the value, so offsets map 1:1

    @property
    def offset(self) -> int:
        """Where the expression's first character is in the file. A quoted YAML scalar
        without escapes starts one character in; with escapes, positions are approximate."""
        raw = self.span.text()
        if not self.exact and len(raw) >= 2 and raw[0] in "'\"" and raw[1:1 + len(self.text)] == self.text:
            return self.span.start + 1
        return self.span.start


@record
class SourceDef:
    name: str
    table: str
    path: str | None
    key: str | None
    time: str | None
    columns: dict[str, str]
    span: Span | None = None
    sensitive: tuple[str, ...] = ()  # columns declared sensitive (physical.py)
    # how a CSV `path:` is read (CSV_OPTIONS): only the options segc.yml sets
    csv: dict[str, str | bool] = field(default_factory=dict)
    order_by: tuple[str, ...] = ()  # tie-breakers of the event order after `time:` (DESIGN §8.1)


# a CSV source's reading options in segc.yml (the others are DuckDB's own detection)
CSV_OPTIONS = ("dateformat", "timestampformat", "delimiter", "header")


@record
class FeatureDef:
    name: str
    type: str
    kind: str  # column, agg, sql
    nullable: bool
    sensitive: bool = False
    description: str = ""
    values: tuple | None = None
    column: str | None = None  # base column, or aggregated column
    source: str | None = None
    agg: str | None = None
    where: Text | None = None
    window: ast.Duration | None = None
    sql: object | None = None  # sqlglot expression
    span: Span | None = None
    ignore_warnings: frozenset[str] = frozenset()  # codes of FEATURE_WARNINGS not reported for it
    n: int | None = None  # agg: nth, the position


KPI_KINDS = ("count_of", "share_of", "sum", "avg", "per_customer", "ratio")


@record
class Targets:
    """A KPI's objective (segc.yml `targets:`): at least `min` and/or at most `max`."""
    min: float | None
    max: float | None


@record
class KpiDef:
    name: str
    kind: str  # one of KPI_KINDS
    expression: Text  # a condition (count_of, share_of), a number (the others; ratio: the numerator)
    description: str = ""
    span: Span | None = None
    denominator: Text | None = None  # ratio only
    targets: Targets | None = None


@record
class ScoreDef:
    """A score of segc.yml `scores:`; its target and features are checked in check/scores.py."""
    name: str
    target: Text  # a condition, evaluated `horizon` after the as-of
    horizon: ast.Duration
    features: tuple[str, ...]
    train_as_of: dt.date
    validate_as_of: dt.date | None  # None: train_as_of + horizon
    C: float
    allow_sensitive: str | None = None
    description: str = ""
    span: Span | None = None


@record
class ExperimentDef:
    """An experiment of segc.yml `experiments:` (DESIGN §8.3), as written; its arms and
    metrics are checked against the project in check/experiments.py."""
    name: str
    target: Text
    control: Text
    assigned_at: dt.date
    until: dt.date
    metrics: dict[str, Text]
    allow_sensitive: str | None = None
    description: str = ""
    span: Span | None = None
    until_span: Span | None = None


@record
class ParamDef:
    name: str
    type: str
    default: object
    span: Span | None = None


@dataclass
class Schema:
    name: str
    entity: str
    base: str
    key: str
    as_of: dt.date | None
    dialect: str
    population: Text | None
    min_size: int | None
    sources: dict[str, SourceDef]
    features: dict[str, FeatureDef]
    params: dict[str, ParamDef]
    file: str
    located: Located | None = field(default=None, repr=False)
    kpis: dict[str, KpiDef] = field(default_factory=dict)
    scores: dict[str, ScoreDef] = field(default_factory=dict)
    experiments: dict[str, ExperimentDef] = field(default_factory=dict)
    broken: frozenset[str] = frozenset()  # features left out for a problem in segc.yml
    sensitivity: Sensitivity | None = field(default=None, repr=False)  # physical.py
    min_group: int = 10  # the fewest members sharing a value for it to be shown (profile, report --by)
    allow_outside_paths: bool = False

    def is_sensitive_column(self, source: str, column: str) -> bool:
        return self.sensitivity is not None and self.sensitivity.is_sensitive(source, column)
    quoting: str = "preserve"  # how names are written in the SQL: backend.dialects.QUOTING

    def key_span(self, *path) -> Span | None:
        return self.located.span(tuple(path)) if self.located else None


def parse_window(text: str) -> ast.Duration | None:
    """`90 days`, `1 year` (None when the text is not a duration)."""
    m = WINDOW.match(text)
    return ast.Duration(int(m.group(1)), m.group(2)) if m else None


def load_schema(source: Source, root=None, cache: bool = False) -> tuple[Schema, list[Diagnostic]]:
    """The schema and the problems of segc.yml. A feature with a problem is left out of
    the schema and named in `broken`, so that the segments are still checked (and their
    uses of it not reported again); only a document without a usable shape raises.
    `cache`: the YAML as read before from the same text (a file read from disk)."""
    located = cached("yml", source, lambda: load_yaml(source)) if cache else load_yaml(source)
    if not isinstance(located.data, dict):
        raise SegcError(Diagnostic("E003", "segc.yml must be a mapping of keys (name:, base:, sources: ...)",
                                   Span(source, 0, min(len(source.text), 1)),
                                   hints=("`segc init DIR` writes a segc.yml to start from",)))
    model, diags, broken = read_plain(located.data), [], set()
    if model is None:
        from segc.schema.segc_yml_pydantic import validate

        model, diags, broken = validate(located)
    schema, problems = _build(model, located, broken, root)
    return schema, diags + problems


def _text(located: Located, path: tuple, value: str) -> Text:
    span, exact = located.value_spans.get(path, (located.span(path), False))
    return Text(value, span, exact)


def _csv_options(name: str, s, err) -> dict[str, str | bool]:
    """The CSV options a source sets; E005 where the file is not a CSV or a value cannot be one."""
    options = {k: getattr(s, k) for k in CSV_OPTIONS if getattr(s, k) is not None}
    for key, value in options.items():
        path = ("sources", name, key)
        if not (s.path or "").lower().endswith(".csv"):
            err(path, f"`{key}:` of source `{name}` applies to a CSV file, and its `path:` is not one",
                f"remove `{key}:`")
        elif key == "delimiter" and len(value) != 1:
            err(path, f"`delimiter:` of source `{name}` must be one character", 'e.g. `delimiter: ";"`, or `delimiter: "\\t"` for a tab')
        elif key.endswith("format") and "%" not in value:
            err(path, f"`{key}:` of source `{name}` is not a format: it has no `%` field",
                "e.g. `dateformat: \"%d/%m/%Y\"`, `timestampformat: \"%d/%m/%Y %H:%M\"` (strftime fields)")
    return options


def _build(m, loc: Located, broken: set[str], root=None) -> tuple[Schema, list[Diagnostic]]:
    """`m`: the document as read (read_plain's namespaces, or pydantic's models: the same
    attributes); `broken`: the features already left out (their entry did not validate);
    `root`: the project folder, where `path:`s are resolved (physical.py)."""
    diags: list[Diagnostic] = []

    def err(path, message, *hints, code="E005"):
        diags.append(Diagnostic(code, message, loc.span(path), hints=tuple(hints)))

    if has_control(m.name):
        err(("name",), "the project's `name:` holds a control character (a line break, a tab, an escape)",
            "the name is written in the header comment of every file `segc build` makes: write it on one line")
    if has_control(m.key):
        err(("key",), "the project's `key:` holds a control character (a line break, a tab, an escape)",
            "the key column is named in the comments of the files `segc build` makes: "
            "write the column's name on one line")
    retyped = check_keys(loc, err)
    sources = {}
    for name, s in m.sources.items():
        sources[name] = SourceDef(name, s.table or name, s.path, s.key, s.time, dict(s.columns),
                                  loc.span(("sources", name)), tuple(s.sensitive), _csv_options(name, s, err),
                                  tuple(s.order_by))
        check_order_by(sources[name], err)
        check_time_column(sources[name], err)
        if not is_name(name) or name.startswith("segc_"):
            err(("sources", name), f"`{name}` cannot be a source name",
                "a source is named in expressions (`count(orders where ...)`): letters, digits and _, "
                "not a keyword of the language, not starting with segc_")
        if s.table is None and s.path is None:
            err(("sources", name), f"source `{name}` needs a `table:` (warehouse name) or a `path:` (local file)",
                "e.g. `path: data/orders.parquet` or `table: analytics.orders`")
        if s.table is not None:
            check_table_name(s.table, ("sources", name, "table"), err)
        if s.path is not None:
            check_path(s.path, ("sources", name, "path"), err)
    if m.base not in sources:
        close = suggest(m.base, sources)
        err(("base",), f"the base source `{m.base}` is not declared under `sources:`",
            *([f"did you mean `{close}`?"] if close else ["add it under `sources:`"]))

    features, broken = {}, set(broken)
    for name, f in m.features.items():
        path = ("features", name)
        before = len(diags)
        if path in retyped:  # `on:`: reported by check_keys
            broken.add(name)
            continue
        if not is_name(name) or name.startswith("segc_"):
            err(path, f"`{name}` cannot be a feature name",
                "names are letters, digits and _, not a keyword of the language, and do not start with segc_")
        kinds = [k for k, v in (("from", f.from_), ("sql", f.sql)) if v is not None]
        if len(kinds) > 1:
            err(path, f"feature `{name}` has both `from:` and `sql:`; choose one",
                "`from:` aggregates a source's events; `sql:` is a SQL expression on the base")
            broken.add(name)
            continue
        if f.values is not None and f.type not in ("string", "int"):
            err(path + ("values",), "`values:` is only for string and int features", "remove `values:`")
        check_values(loc, name, f.type, err)
        values = tuple(f.values) if f.values is not None else None
        for code in f.ignore_warnings:
            if code not in FEATURE_WARNINGS:
                err(path + ("ignore_warnings",), f"`{code}` is not a warning about a feature",
                    "warnings that a feature can silence: " + ", ".join(
                        f"{c} ({what})" for c, what in FEATURE_WARNINGS.items()))
        common = dict(name=name, type=f.type, sensitive=f.sensitive, description=f.description,
                      values=values, span=loc.span(path), ignore_warnings=frozenset(f.ignore_warnings))
        if f.from_ is not None:
            features[name] = _agg_feature(name, f, m, loc, err, common)
        elif f.sql is not None:
            features[name] = _sql_feature(name, f, loc, diags, common)
        else:
            for key in ("agg", "where", "window"):
                if getattr(f, key) is not None:
                    err(path + (key,), f"`{key}:` needs `from:` (an event source to aggregate)",
                        f"add `from: <source>` to feature `{name}`")
            features[name] = FeatureDef(kind="column", nullable=f.nullable, column=f.column or name, **common)
        if len(diags) > before:
            broken.add(name)
            features.pop(name, None)

    _check_base_time(sources.get(m.base), features, err)
    _check_sql_columns(m, sources, features, loc, diags, broken)
    check_sensitive(sources, m.base, m.key, base_columns(m, sources), loc, diags)
    if root is not None and not m.allow_outside_paths:
        for name, s in sources.items():
            if s.path is not None and outside_project(s.path, root):
                err(("sources", name, "path"), f"the `path:` of source `{name}` leads outside the project folder",
                    "keep the data inside the project (a folder such as data/), or set "
                    "`allow_outside_paths: true` in segc.yml to read it where it is", code="E709")
    found = sensitivity(sources, features, m.base, root)
    features = mark_features(features, m.base, found, sources)
    if m.as_of is not None and ir.as_of_problem(m.as_of):
        err(("as_of",), ir.as_of_problem(m.as_of), ir.DATE_RANGE_HINT, code="E309")

    params = {}
    for name, p in m.params.items():
        if not is_name(name):  # `$count`, `$été` would never parse
            err(("params", name), f"`{name}` cannot be a parameter name",
                "a parameter is written `$name` in expressions: letters, digits and _, not a keyword of the language")
            continue
        params[name] = ParamDef(name, p.type, p.default, loc.span(("params", name)))
        if p.default is not None:
            try:
                written = loc.value_spans.get(("params", name, "default"), (loc.span(()), False))[0].text()
                params[name] = ParamDef(name, p.type, coerce_param(p.type, p.default, written or None),
                                        loc.span(("params", name)))
            except ValueError as e:
                err(("params", name, "default"), f"default of `{name}`: {e}",
                    getattr(e, "hint", "the default has the parameter's `type:`"))

    population = _text(loc, ("population",), m.population) if m.population else None
    kpis = _kpis(m, loc, err)
    scores = _scores(m, loc, err, features)
    experiments = {}
    for name, e in getattr(m, "experiments", {}).items():
        if not _IDENT.match(name):  # printed in lift's title, JSON, CSV and HTML: a name, on one line
            err(("experiments", name), f"`{one_line(name)}` cannot be an experiment name",
                "names are letters, digits and _ (e.g. spring_loyalty), as a segment's")
            continue
        bad = [k for k in e.metrics if not _IDENT.match(k)]
        for k in bad:  # a metric's name is a column of lift's table, JSON, CSV and HTML, as the experiment's
            err(("experiments", name, "metrics", k), f"`{one_line(k)}` cannot be a metric name",
                "names are letters, digits and _ (e.g. revenue_per_customer), as a segment's")
        if not bad:
            experiments[name] = _experiment(name, e, loc)
    return Schema(m.name, m.entity, m.base, m.key, m.as_of, m.dialect, population, m.min_size,
                  sources, features, params, loc.source.name, loc, kpis=kpis, scores=scores, experiments=experiments,
                  broken=frozenset(broken), sensitivity=found, min_group=m.min_group,
                  allow_outside_paths=m.allow_outside_paths, quoting=m.quoting), diags


def _check_dates(path, sc, err) -> None:
    """A score's as-of dates and horizon keep to the supported dates (ir.DATE_RANGE)."""
    for key in ("train_as_of", "validate_as_of"):
        value = getattr(sc, key)
        if value is not None and ir.as_of_problem(value):
            err(path + (key,), ir.as_of_problem(value), ir.DATE_RANGE_HINT, code="E309")
    horizon = parse_window(sc.horizon)
    if horizon is not None and ir.shift_years(horizon.amount, horizon.unit) > ir.MAX_SHIFT_YEARS:
        err(path + ("horizon",), f"a horizon of more than {ir.MAX_SHIFT_YEARS} years", ir.DATE_RANGE_HINT,
            code="E309")


def _check_base_time(base: SourceDef | None, features: dict[str, FeatureDef], err) -> None:
    """The base's `time:` (when a customer joined the population) is compared with the
    as-of: a feature reading that column must be a date or a timestamp."""
    if base is None or not base.time:
        return
    for name, f in features.items():
        if f.kind == "column" and f.column == base.time and f.type not in ("date", "timestamp"):
            err(("sources", base.name, "time"), f"the base's `time: {base.time}` is feature `{name}`, "
                f"a {f.type}; it must be a date or a timestamp",
                f"declare `{name}` `type: date` (or timestamp), or name another column", code="E301")
            return



def _kpis(m, loc: Located, err) -> dict[str, KpiDef]:
    """`kpis:` as written; their expressions are checked against the project (kpis.py)."""
    out = {}
    for name, k in m.kpis.items():
        path = ("kpis", name)
        kinds = [kind for kind in KPI_KINDS if getattr(k, kind) is not None]
        if not _IDENT.match(name) or name in ("size", "share") or name.startswith("segc_"):
            err(path, f"`{name}` cannot be a KPI name",
                "names are letters, digits and _, not `size` or `share` (always in the report), "
                "and do not start with segc_", code="E941")
        elif len(kinds) != 1:
            err(path, f"KPI `{name}` needs exactly one of " + ", ".join(f"`{x}:`" for x in KPI_KINDS)
                + (f" (it has {len(kinds)})" if kinds else ""),
                "e.g. `share_of: purchases_90d >= 1` or `avg: basket_avg`", code="E941")
        else:
            kind = kinds[0]
            written = getattr(k, kind)
            if kind == "ratio":  # [numerator, denominator], each located at its item
                expression, denominator = (_text(loc, path + (kind, i), written[i]) for i in (0, 1))
            else:
                expression, denominator = _text(loc, path + (kind,), written), None
            out[name] = KpiDef(name, kind, expression, k.description, loc.span(path), denominator,
                               _targets(name, kind, k.targets, path + ("targets",), err))
    return out


def _targets(name: str, kind: str, t, path, err) -> Targets | None:
    """A KPI's `targets:`, or None; E949 when they cannot be met or mean nothing."""
    if t is None:
        return None
    if t.min is None and t.max is None:
        err(path, f"`targets:` of KPI `{name}` sets neither `min:` nor `max:`",
            "e.g. `targets: {min: 0.4}` or `targets: {max: 120}`", code="E949")
    elif t.min is not None and t.max is not None and t.min > t.max:
        err(path, f"`targets:` of KPI `{name}`: `min: {t.min:g}` is above `max: {t.max:g}`, so no value meets both",
            "swap them, or keep one bound", code="E949")
    elif kind == "share_of" and any(b is not None and not 0 <= b <= 1 for b in (t.min, t.max)):
        err(path, f"`targets:` of KPI `{name}` is not a fraction: a share goes from 0 to 1",
            "write a share's target as a fraction: `min: 0.4` is 40%", code="E949")
    else:
        return Targets(t.min, t.max)
    return None


def _experiment(name: str, e, loc: Located) -> ExperimentDef:
    path = ("experiments", name)
    return ExperimentDef(name, _text(loc, path + ("target",), e.target), _text(loc, path + ("control",), e.control),
                         e.assigned_at, e.until,
                         {m: _text(loc, path + ("metrics", m), x) for m, x in e.metrics.items()},
                         e.allow_sensitive, e.description, loc.span(path), loc.span(path + ("until",)))


def _scores(m, loc: Located, err, features) -> dict[str, ScoreDef]:
    """`scores:` as written; their target and features are checked against the project
    (check/scores.py), their models read from models/<name>.yml (score_model.py)."""
    out, folded = {}, {}
    for name, sc in m.scores.items():
        path = ("scores", name)
        if folded.setdefault(name.casefold(), name) != name:  # models/NAME.yml: one file on macOS, Windows
            err(path, f"`{name}` differs from the score `{folded[name.casefold()]}` only in case",
                "rename one of them: each is fitted into models/<name>.yml, and file names ignore case on "
                "some systems", code="E939")
            continue
        if not is_name(name) or name.startswith("segc_"):
            err(path, f"`{name}` cannot be a score name",
                "names are letters, digits and _, not a keyword of the language, and do not start with segc_",
                code="E939")
            continue
        if name in features or name in m.features:
            err(path, f"`{name}` is already the name of a feature", "give the score another name", code="E939")
            continue
        if sc.allow_sensitive is not None and not sc.allow_sensitive.strip():
            err(path + ("allow_sensitive",), "`allow_sensitive:` needs a reason (the legal basis)",
                'e.g. `allow_sensitive: "legal basis: consent"`', code="E933")
        _check_dates(path, sc, err)
        out[name] = ScoreDef(name, _text(loc, path + ("target",), sc.target), parse_window(sc.horizon),
                             tuple(sc.features), sc.train_as_of, sc.validate_as_of, sc.C,
                             sc.allow_sensitive, sc.description, loc.span(path))
    return out


def _agg_feature(name, f, m, loc: Located, err, common) -> FeatureDef | None:
    path = ("features", name)
    src = m.sources.get(f.from_)
    if src is None:
        close = suggest(f.from_, m.sources)
        err(path + ("from",), f"unknown source `{f.from_}`",
            *([f"did you mean `{close}`?"] if close else ["declare it under `sources:`"]), code="E201")
        return None
    if f.from_ == m.base:  # as the checker says of an inline `count(customers ...)`
        events = [n for n, s in m.sources.items() if s.key and n != m.base]
        err(path + ("from",), f"`{f.from_}` is the base, not an event source",
            "a base column is a feature without `from:`; event sources: " + (", ".join(events) or "none declared"),
            code="E209")
        return None
    if f.agg is None:
        err(path, f"feature `{name}` takes `from: {f.from_}` but no `agg:`", "add e.g. `agg: count`")
        return None
    if src.key is None:
        err(("sources", f.from_), f"event source `{f.from_}` needs `key:` (the column joining it to the base)",
            "e.g. `key: customer_id`")
    if f.window is not None and src.time is None:
        err(path + ("window",), f"a window needs a time column, and source `{f.from_}` declares no `time:`",
            f"add `time: <column>` to source `{f.from_}`")
    column = f.column
    if f.agg not in ("count",) and column is None:
        err(path, f"`agg: {f.agg}` needs `column:` (which column of `{f.from_}` to aggregate)",
            "e.g. `column: amount`; `agg: count` needs none")
    known = dict(src.columns)
    if src.time:
        known.setdefault(src.time, "timestamp")
    if column is not None and column not in known:
        close = suggest(column, known)
        err(path + ("column",), f"source `{f.from_}` declares no column `{column}`",
            *([f"did you mean `{close}`?"] if close else [f"declare it under sources.{f.from_}.columns"]),
            code="E202")
    elif column is not None and f.agg in ("sum", "avg") and known[column] not in ("int", "float"):
        err(path + ("agg",), f"`{f.agg}` needs a numeric column; `{column}` is {known[column]}",
            "`count_distinct`, `min`, `max` or the picks take any column", code="E301")
    _check_pick(f, src, path, err)
    nullable = f.agg in ("avg", "min", "max") + PICKS
    where = _text(loc, path + ("where",), f.where) if f.where else None
    window = parse_window(f.window) if f.window else None
    return FeatureDef(kind="agg", nullable=nullable, column=column, source=f.from_, agg=f.agg,
                      where=where, window=window, n=f.n, **common)


def _check_pick(f, src, path, err) -> None:
    """`agg: nth` takes `n:` (a position from 1), no other aggregate does; first, last and
    nth need the events' order: the source's `time:`."""
    if f.agg == "nth" and (f.n is None or isinstance(f.n, bool) or f.n < 1):
        err(path + (("n",) if f.n is not None else ()), "`agg: nth` needs `n:`, the position of the event "
            "(1 = the first)", "e.g. `n: 2` for the second event", code="E304")
    elif f.agg != "nth" and f.n is not None:
        err(path + ("n",), f"`n:` is the position of `agg: nth`; `agg: {f.agg}` takes none",
            "remove `n:`, or write `agg: nth`", code="E304")
    if f.agg in ("first", "last", "nth") and not src.time:
        err(path + ("agg",), f"`agg: {f.agg}` needs the events in time order, and source `{f.from_}` "
            "declares no `time:`", f"add `time: <column>` to source `{f.from_}`", code="E210")


def _sql_feature(name, f, loc: Located, diags, common) -> FeatureDef:
    tree, problem = parse_sql_feature(name, f.sql, f.sql_dialect, loc.span(("features", name, "sql")))
    if problem is not None:
        diags.append(problem)
    return FeatureDef(kind="sql", nullable=f.nullable, sql=tree, **common)


def base_columns(m, sources: dict[str, SourceDef]) -> set[str]:
    """The base columns segc knows: the base's `columns:`, `key:` and `time:`, the
    project's key, and the `column:` of every base feature."""
    base = sources.get(m.base)
    known = {m.key} | ({c for c in (base.key, base.time) if c} | set(base.columns) if base else set())
    for name, f in m.features.items():
        if f.from_ is None and f.sql is None:
            known.add(f.column or name)
    return known


def _check_sql_columns(m, sources, features: dict[str, FeatureDef], loc: Located, diags, broken) -> None:
    """Every column an `sql:` feature reads must be one segc knows (sql_feature.py)."""
    known = base_columns(m, sources)
    for name, f in list(features.items()):
        if f.kind == "sql" and f.sql is not None:
            unknown = unresolved_columns(f.sql, known)
            if unknown:
                diags.append(unresolved_diagnostic(name, unknown, known, loc.span(("features", name, "sql"))))
                broken.add(name)
                features.pop(name)
