"""segc.yml: the project's sources, features and parameters, validated with pydantic and
turned into plain dataclasses. Every error names the file, the key and the line."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from segc.front import ast
from segc.front.errors import Diagnostic, SegcError, suggest
from segc.front.source import Source, Span
from segc.front.yamlpos import Located, load_yaml
from segc.backend.dialects import DIALECTS

TYPES = ("int", "float", "string", "bool", "date", "timestamp")
TypeName = Literal["int", "float", "string", "bool", "date", "timestamp"]
AGGS = ("count", "count_distinct", "sum", "avg", "min", "max")
# Words of the language: a feature named like one could never be referred to.
RESERVED = frozenset(
    "and or not between in is missing present contains starts ends with within by top bottom "
    "segment segmentation else true false today where during last next this to holdout seed "
    "count_distinct count sum avg min max exists".split())

_WINDOW = re.compile(r"\s*(\d+)\s*(day|week|month|year)s?\s*$")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SourceModel(_Model):
    table: str | None = None
    path: str | None = None
    key: str | None = None
    time: str | None = None
    columns: dict[str, TypeName] = {}


class FeatureModel(_Model):
    type: TypeName
    description: str = ""
    column: str | None = None
    from_: str | None = Field(default=None, alias="from")
    agg: Literal["count", "count_distinct", "sum", "avg", "min", "max"] | None = None
    where: str | None = None
    window: str | None = None
    sql: str | None = None
    sql_dialect: str = "duckdb"
    values: list[Union[str, int]] | None = None
    nullable: bool = True
    sensitive: bool = False

    @field_validator("window", mode="before")  # before: `window: 30` is a number, not a string
    @classmethod
    def _window(cls, v):
        if v is None:
            return v
        m = _WINDOW.match(v) if isinstance(v, str) else None
        if m is None:
            raise ValueError("a window is a duration such as `90 days`, `2 weeks`, `6 months`, `1 year`")
        if int(m.group(1)) == 0:
            raise ValueError(f"a window of `{v.strip()}` holds no time, so the aggregate would see no event; "
                             "leave `window:` out to aggregate every event before the as-of")
        return v


class ParamModel(_Model):
    type: TypeName
    default: Union[bool, int, float, str, dt.date, None] = None
    description: str = ""


class KpiModel(_Model):
    """A KPI of `segc report`: exactly one of the kinds, written in the segment language."""
    description: str = ""
    count_of: str | None = None
    share_of: str | None = None
    sum: str | None = None
    avg: str | None = None
    per_customer: str | None = None


class ScoreModel(_Model):
    """A potential score (`segc score fit NAME`): a logistic regression of `target`,
    evaluated `horizon` after the as-of, on `features` at the as-of."""
    description: str = ""
    target: str
    horizon: str
    features: list[str] = Field(min_length=1)
    train_as_of: dt.date
    validate_as_of: dt.date | None = None
    C: float = Field(default=1.0, gt=0)
    allow_sensitive: str | None = None

    @field_validator("horizon")
    @classmethod
    def _horizon(cls, v):
        if not _WINDOW.match(v):
            raise ValueError("a horizon is a duration such as `90 days`, `26 weeks`, `6 months`, `1 year`")
        return v


class ProjectModel(_Model):
    name: str
    entity: str = "customer"
    base: str
    key: str
    as_of: dt.date | None = None
    dialect: Literal[DIALECTS] = "duckdb"
    population: str | None = None
    min_size: int | None = Field(default=None, ge=0)
    sources: dict[str, SourceModel]
    features: dict[str, FeatureModel] = {}
    params: dict[str, ParamModel] = {}
    kpis: dict[str, KpiModel] = {}
    scores: dict[str, ScoreModel] = {}

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, v):
        # pydantic would read a number as seconds since 1970 (`as_of: 86400` = 1970-01-02)
        if isinstance(v, (bool, int, float)):
            raise ValueError("a date is written YYYY-MM-DD")
        return v


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class SourceDef:
    name: str
    table: str
    path: str | None
    key: str | None
    time: str | None
    columns: dict[str, str]
    span: Span | None = None


@dataclass(frozen=True)
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


KPI_KINDS = ("count_of", "share_of", "sum", "avg", "per_customer")


@dataclass(frozen=True)
class KpiDef:
    name: str
    kind: str  # one of KPI_KINDS
    expression: Text  # a condition (count_of, share_of) or a number (sum, avg, per_customer)
    description: str = ""
    span: Span | None = None


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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
    broken: frozenset[str] = frozenset()  # features left out for a problem in segc.yml

    def key_span(self, *path) -> Span | None:
        return self.located.span(tuple(path)) if self.located else None


def parse_window(text: str) -> ast.Duration | None:
    """`90 days`, `1 year` (None when the text is not a duration)."""
    m = _WINDOW.match(text)
    return ast.Duration(int(m.group(1)), m.group(2)) if m else None


def load_schema(source: Source) -> tuple[Schema, list[Diagnostic]]:
    """The schema and the problems of segc.yml. A feature with a problem is left out of
    the schema and named in `broken`, so that the segments are still checked (and their
    uses of it not reported again); only a document without a usable shape raises."""
    located = load_yaml(source)
    if not isinstance(located.data, dict):
        raise SegcError(Diagnostic("E003", "segc.yml must be a mapping of keys (name:, base:, sources: ...)",
                                   Span(source, 0, min(len(source.text), 1))))
    data, diags, broken = located.data, [], set()
    while True:
        try:
            model = ProjectModel.model_validate(data)
            break
        except ValidationError as e:
            errors = e.errors()
            diags += [_pydantic_diagnostic(located, err) for err in errors]
            in_features = [err["loc"][1] for err in errors if len(err["loc"]) > 1 and err["loc"][0] == "features"]
            if len(in_features) < len(errors) or not isinstance(data.get("features"), dict):
                raise SegcError(diags) from None  # a problem outside `features:`
            bad = set(in_features)
            data = {**data, "features": {k: v for k, v in data["features"].items() if k not in bad}}
            broken |= bad
    schema, problems = _build(model, located, broken)
    return schema, diags + problems


def _pydantic_diagnostic(located: Located, err: dict) -> Diagnostic:
    loc = tuple("from" if p == "from_" else p for p in err["loc"])
    # pydantic adds the union member or literal name at the end of some paths; drop what
    # does not exist in the document
    path = tuple(p for p in loc if isinstance(p, (str, int)))
    where = ".".join(str(p) for p in path) or "(top level)"
    kind = err["type"]
    hints: list[str] = []
    if kind == "missing":
        message = f"`{where}` is required"
        span = located.span(path[:-1])
    elif kind == "extra_forbidden":
        message = f"unknown key `{where}`"
        span = located.span(path)
        parent_model = {"sources": SourceModel, "features": FeatureModel, "params": ParamModel,
                        "kpis": KpiModel, "scores": ScoreModel}
        fields = ProjectModel.model_fields if len(path) == 1 else \
            parent_model.get(path[0], ProjectModel).model_fields
        names = [f.alias or n for n, f in fields.items()]
        close = suggest(str(path[-1]), names)
        if close:
            hints.append(f"did you mean `{close}`?")
        else:
            hints.append("known keys: " + ", ".join(sorted(names)))
    else:
        message = f"`{where}`: {err['msg'].removeprefix('Value error, ')}"  # our validators' own words
        span = located.value_spans.get(path, (located.span(path), False))[0]
        if "literal" in kind and isinstance(err.get("input"), str):  # `integer` -> `int`
            close = suggest(err["input"], re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", ""))))
            if close:
                hints.append(f"did you mean `{close}`?")
        if "literal" in kind and path and path[-1] == "type":
            hints.append("types are: " + ", ".join(TYPES))
        if kind.startswith("date_") or path == ("as_of",):  # pydantic's words are about datetimes
            message = f"`{where}` is not a date"
            hints.append("write a date as YYYY-MM-DD, e.g. 2024-07-01")
            if path == ("as_of",):
                hints.append("leave `as_of:` out to use the engine's current date (rolling)")
    return Diagnostic("E004", message, span, hints=tuple(hints))


def _text(located: Located, path: tuple, value: str) -> Text:
    span, exact = located.value_spans.get(path, (located.span(path), False))
    return Text(value, span, exact)


def _build(m: ProjectModel, loc: Located, broken: set[str]) -> tuple[Schema, list[Diagnostic]]:
    """`broken`: the features already left out (their entry did not validate)."""
    diags: list[Diagnostic] = []

    def err(path, message, *hints, code="E005"):
        diags.append(Diagnostic(code, message, loc.span(path), hints=tuple(hints)))

    sources = {}
    for name, s in m.sources.items():
        sources[name] = SourceDef(name, s.table or name, s.path, s.key, s.time, dict(s.columns),
                                  loc.span(("sources", name)))
        if s.table is None and s.path is None:
            err(("sources", name), f"source `{name}` needs a `table:` (warehouse name) or a `path:` (local file)")
    if m.base not in sources:
        close = suggest(m.base, sources)
        err(("base",), f"the base source `{m.base}` is not declared under `sources:`",
            *([f"did you mean `{close}`?"] if close else ["add it under `sources:`"]))

    features, broken = {}, set(broken)
    for name, f in m.features.items():
        path = ("features", name)
        before = len(diags)
        if not _IDENT.match(name) or name in RESERVED or name.startswith("segc_"):
            err(path, f"`{name}` cannot be a feature name",
                "names are letters, digits and _, not a keyword of the language, and do not start with segc_")
        kinds = [k for k, v in (("from", f.from_), ("sql", f.sql)) if v is not None]
        if len(kinds) > 1:
            err(path, f"feature `{name}` has both `from:` and `sql:`; choose one")
            broken.add(name)
            continue
        if f.values is not None and f.type not in ("string", "int"):
            err(path + ("values",), "`values:` is only for string and int features")
        values = tuple(f.values) if f.values is not None else None
        common = dict(name=name, type=f.type, sensitive=f.sensitive, description=f.description,
                      values=values, span=loc.span(path))
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

    _check_sensitive_columns(features, m.base, err)

    params = {}
    for name, p in m.params.items():
        params[name] = ParamDef(name, p.type, p.default, loc.span(("params", name)))
        if p.default is not None:
            try:
                params[name] = ParamDef(name, p.type, coerce_param(p.type, p.default), loc.span(("params", name)))
            except ValueError as e:
                err(("params", name, "default"), f"default of `{name}`: {e}")

    population = _text(loc, ("population",), m.population) if m.population else None
    kpis = _kpis(m, loc, err)
    scores = _scores(m, loc, err, features)
    return Schema(m.name, m.entity, m.base, m.key, m.as_of, m.dialect, population, m.min_size,
                  sources, features, params, loc.source.name, loc, kpis=kpis, scores=scores,
                  broken=frozenset(broken)), diags


def _reads(f: FeatureDef, base: str) -> set[tuple[str, str]]:
    """The (source, column) pairs a feature reads (its column, its `sql:`'s columns)."""
    from sqlglot import exp

    if f.kind == "sql":
        return {(base, c.name.casefold()) for c in f.sql.find_all(exp.Column)} if f.sql is not None else set()
    return {(f.source or base, f.column.casefold())} if f.column else set()


def _check_sensitive_columns(features: dict[str, FeatureDef], base: str, err) -> None:
    """A column that a sensitive feature reads is sensitive data under any other name:
    `faith: {column: religion}` beside a sensitive `religion` must be sensitive too."""
    owners = {r: name for name, f in features.items() if f.sensitive for r in _reads(f, base)}
    for name, f in features.items():
        for source, column in sorted(_reads(f, base)) if not f.sensitive else ():
            owner = owners.get((source, column))
            if owner is not None:
                err(("features", name), f"feature `{name}` reads `{column}` of `{source}`, which the sensitive "
                    f"feature `{owner}` reads too", f"mark `{name}` `sensitive: true` as well", code="E502")
                break


def _kpis(m: ProjectModel, loc: Located, err) -> dict[str, KpiDef]:
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
            out[name] = KpiDef(name, kinds[0], _text(loc, path + (kinds[0],), getattr(k, kinds[0])),
                               k.description, loc.span(path))
    return out


def _scores(m: ProjectModel, loc: Located, err, features) -> dict[str, ScoreDef]:
    """`scores:` as written; their target and features are checked against the project
    (check/scores.py), their models read from models/<name>.yml (score_model.py)."""
    out = {}
    for name, sc in m.scores.items():
        path = ("scores", name)
        if not _IDENT.match(name) or name in RESERVED or name.startswith("segc_"):
            err(path, f"`{name}` cannot be a score name",
                "names are letters, digits and _, not a keyword of the language, and do not start with segc_",
                code="E939")
            continue
        if name in features or name in m.features:
            err(path, f"`{name}` is already the name of a feature", "give the score another name", code="E939")
            continue
        if sc.allow_sensitive is not None and not sc.allow_sensitive.strip():
            err(path + ("allow_sensitive",), "`allow_sensitive:` needs a reason (the legal basis)", code="E933")
        out[name] = ScoreDef(name, _text(loc, path + ("target",), sc.target), parse_window(sc.horizon),
                             tuple(sc.features), sc.train_as_of, sc.validate_as_of, sc.C,
                             sc.allow_sensitive, sc.description, loc.span(path))
    return out


def _agg_feature(name, f: FeatureModel, m: ProjectModel, loc: Located, err, common) -> FeatureDef | None:
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
        err(("sources", f.from_), f"event source `{f.from_}` needs `key:` (the column joining it to the base)")
    if f.window is not None and src.time is None:
        err(path + ("window",), f"a window needs a time column, and source `{f.from_}` declares no `time:`",
            f"add `time: <column>` to source `{f.from_}`")
    column = f.column
    if f.agg not in ("count",) and column is None:
        err(path, f"`agg: {f.agg}` needs `column:` (which column of `{f.from_}` to aggregate)")
    known = dict(src.columns)
    if src.time:
        known.setdefault(src.time, "timestamp")
    if column is not None and column not in known:
        close = suggest(column, known)
        err(path + ("column",), f"source `{f.from_}` declares no column `{column}`",
            *([f"did you mean `{close}`?"] if close else [f"declare it under sources.{f.from_}.columns"]),
            code="E202")
    elif column is not None and f.agg in ("sum", "avg") and known[column] not in ("int", "float"):
        err(path + ("agg",), f"`{f.agg}` needs a numeric column; `{column}` is {known[column]}", code="E301")
    nullable = f.agg in ("avg", "min", "max")
    where = _text(loc, path + ("where",), f.where) if f.where else None
    window = parse_window(f.window) if f.window else None
    return FeatureDef(kind="agg", nullable=nullable, column=column, source=f.from_, agg=f.agg,
                      where=where, window=window, **common)


def _sql_feature(name, f: FeatureModel, loc: Located, diags, common) -> FeatureDef:
    import sqlglot
    from sqlglot.errors import ParseError

    path = ("features", name, "sql")
    try:
        tree = sqlglot.parse_one(f.sql, read=f.sql_dialect)
    except (ParseError, ValueError) as e:
        msg = str(e).split("\n")[0]
        diags.append(Diagnostic("E006", f"feature `{name}`: its `sql:` does not parse as {f.sql_dialect} SQL",
                                loc.span(path), hints=(msg,)))
        tree = None
    return FeatureDef(kind="sql", nullable=f.nullable, sql=tree, **common)


def coerce_param(type_: str, value) -> object:
    """A parameter value (from YAML or `--param k=v`) as a value of its declared type."""
    if isinstance(value, str):
        text = value.strip()
        if type_ == "int":
            if not re.fullmatch(r"-?\d+", text):
                raise ValueError(f"`{value}` is not an int")
            return int(text)
        if type_ == "float":
            try:
                return float(text)
            except ValueError:
                raise ValueError(f"`{value}` is not a number") from None
        if type_ == "bool":
            if text.lower() not in ("true", "false"):
                raise ValueError(f"`{value}` is not true or false")
            return text.lower() == "true"
        if type_ == "date":
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                raise ValueError(f"`{value}` is not a date (YYYY-MM-DD)") from None
        if type_ == "timestamp":
            try:
                return dt.datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f"`{value}` is not a timestamp (YYYY-MM-DDTHH:MM:SS)") from None
        return value
    ok = {"int": (int,), "float": (int, float), "bool": (bool,), "string": (str,),
          "date": (dt.date,), "timestamp": (dt.datetime,)}[type_]
    if isinstance(value, bool) and type_ != "bool" or not isinstance(value, ok):
        raise ValueError(f"`{value}` is not a {type_}")
    return float(value) if type_ == "float" else value
