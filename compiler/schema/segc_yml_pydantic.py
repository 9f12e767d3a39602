"""pydantic's reading of segc.yml: the reference for what a valid document is, what it
coerces (`C: 1` is 1.0, `nullable: "yes"` is true) and what every error says.

Loaded only for a document that segc_yml's plain reading declines (an error, or a value
that needs coercing): importing pydantic and building these models takes ~80 ms, the
largest share of `segc compile`'s start-up (benchmarks/README.md, cold start)."""
from __future__ import annotations

import datetime as dt
import math
import re
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from segc.backend.dialects import DIALECTS
from segc.front.errors import Diagnostic, SegcError, suggest
from segc.front.yamlpos import Located
from segc.schema.vocabulary import AGGS, TYPES, WINDOW

TypeName = Literal["int", "float", "string", "bool", "date", "timestamp"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SourceModel(_Model):
    table: str | None = None
    path: str | None = None
    key: str | None = None
    time: str | None = None
    order_by: tuple[str, ...] = ()
    columns: dict[str, TypeName] = {}
    sensitive: tuple[str, ...] = ()
    dateformat: str | None = None
    timestampformat: str | None = None
    delimiter: str | None = None
    header: bool | None = None


class FeatureModel(_Model):
    type: TypeName
    description: str = ""
    column: str | None = None
    from_: str | None = Field(default=None, alias="from")
    agg: Literal[AGGS] | None = None
    n: int | None = None  # agg: nth
    where: str | None = None
    window: str | None = None
    sql: str | None = None
    sql_dialect: str = "duckdb"
    values: list[Union[str, int]] | None = None
    nullable: bool = True
    sensitive: bool = False
    ignore_warnings: list[str] = []

    @field_validator("n", mode="before")  # before: pydantic reads `n: true` as 1
    @classmethod
    def _n(cls, v):
        return not_a_bool(v, "`n:` is the position of the event, a whole number (1 = the first)")

    @field_validator("window", mode="before")  # before: `window: 30` is a number, not a string
    @classmethod
    def _window(cls, v):
        if v is None:
            return v
        m = WINDOW.match(v) if isinstance(v, str) else None
        if m is None:
            raise ValueError("a window is a duration such as `90 days`, `2 weeks`, `6 months`, `1 year`")
        if int(m.group(1)) == 0:
            raise ValueError(f"a window of `{v.strip()}` holds no time, so the aggregate would see no event; "
                             "leave `window:` out to aggregate every event before the as-of")
        return v


def not_a_bool(v, message: str):
    """An int field's value, refusing YAML's booleans (`true`, `yes`, `on`), which pydantic
    would read as 1 and 0."""
    if isinstance(v, bool):
        raise ValueError(f"{message}, and YAML reads the value as a boolean")
    return v


class ParamModel(_Model):
    type: TypeName
    default: Union[bool, int, float, str, dt.datetime, dt.date, None] = None  # YAML reads 2024-01-01T10:00 as a datetime
    description: str = ""


def target_number(v):
    """A KPI's target bound: a finite number (an int is read as a float); not a bool, nor
    a string that pydantic would coerce (`min: "0.4"` is more likely a mistake)."""
    if v is None:
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError("a target is a number, e.g. `min: 0.4` (a share is a fraction: 0.4 = 40%)")
    try:
        v = float(v)
    except OverflowError:
        v = math.inf
    if not math.isfinite(v):
        raise ValueError("a target is a finite number")
    return v


class TargetsModel(_Model):
    """A KPI's objective: its value should be at least `min` and/or at most `max`."""
    min: float | None = None
    max: float | None = None

    @field_validator("min", "max", mode="before")  # before: `min: true` would be 1.0
    @classmethod
    def _number(cls, v):
        return target_number(v)


class KpiModel(_Model):
    """A KPI of `segc report`: exactly one of the kinds, written in the segment language."""
    description: str = ""
    count_of: str | None = None
    share_of: str | None = None
    sum: str | None = None
    avg: str | None = None
    per_customer: str | None = None
    ratio: list[str] | None = None  # [numerator, denominator]
    targets: TargetsModel | None = None

    @field_validator("ratio", mode="before")
    @classmethod
    def _ratio(cls, v):
        if v is not None and not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v)):
            raise ValueError("`ratio:` is a list of two expressions, [numerator, denominator], "
                             "e.g. `ratio: [revenue_365d, purchases_365d]`")
        return v


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
        if not WINDOW.match(v):
            raise ValueError("a horizon is a duration such as `90 days`, `26 weeks`, `6 months`, `1 year`")
        return v


class ExperimentModel(_Model):
    """An experiment of `segc lift` (DESIGN §8.3): two arms frozen at `assigned_at`, and
    metrics over the events of [assigned_at, until); checked in check/experiments.py."""
    description: str = ""
    target: str
    control: str
    assigned_at: dt.date
    until: dt.date
    metrics: dict[str, str] = Field(min_length=1)
    allow_sensitive: str | None = None


class ProjectModel(_Model):
    name: str
    entity: str = "customer"
    base: str
    key: str
    as_of: dt.date | None = None
    dialect: Literal[DIALECTS] = "duckdb"
    population: str | None = None
    min_size: int | None = Field(default=None, ge=0)
    min_group: int = Field(default=10, ge=1)
    allow_outside_paths: bool = False
    quoting: Literal["preserve", "fold"] = "preserve"
    sources: dict[str, SourceModel]
    features: dict[str, FeatureModel] = {}
    params: dict[str, ParamModel] = {}
    kpis: dict[str, KpiModel] = {}
    scores: dict[str, ScoreModel] = {}
    experiments: dict[str, ExperimentModel] = {}

    @field_validator("min_size", "min_group", mode="before")  # before: pydantic reads `true` as 1
    @classmethod
    def _count(cls, v, info):
        return not_a_bool(v, f"`{info.field_name}:` is a number of customers")

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, v):
        # pydantic would read a number as seconds since 1970 (`as_of: 86400` = 1970-01-02)
        if isinstance(v, (bool, int, float)):
            raise ValueError("a date is written YYYY-MM-DD")
        return v


def validate(located: Located) -> tuple[ProjectModel, list[Diagnostic], set[str]]:
    """The model of the document, its diagnostics, and the features left out for a problem
    (validated again without them); a problem outside `features:` raises."""
    data, diags, broken = located.data, [], set()
    while True:
        try:
            return ProjectModel.model_validate(data), diags, broken
        except ValidationError as e:
            errors = _one_per_union(located, e.errors())
            diags += [_diagnostic(located, err) for err in errors]
            in_features = [err["loc"][1] for err in errors if len(err["loc"]) > 1 and err["loc"][0] == "features"]
            if len(in_features) < len(errors) or not isinstance(data.get("features"), dict):
                raise SegcError(diags) from None  # a problem outside `features:`
            bad = set(in_features)
            data = {**data, "features": {k: v for k, v in data["features"].items() if k not in bad}}
            broken |= bad


_MEMBERS = {"bool": "true or false", "int": "a whole number", "float": "a number", "str": "text",
            "date": "a date", "datetime": "a timestamp"}


def _one_per_union(located: Located, errors: list[dict]) -> list[dict]:
    """pydantic reports a value that fits no member of a union once per member, at paths
    ending in the member's name (`params.x.default.bool`, `.int`, ...): one error instead,
    at the value, saying what it takes."""
    groups: dict[tuple, list[dict]] = {}
    for err in errors:
        loc = err["loc"]
        if err["type"] not in ("missing", "extra_forbidden"):
            while loc and loc[-1] in _MEMBERS and loc not in located.spans and loc[:-1] in located.spans:
                loc = loc[:-1]
        groups.setdefault(loc, []).append(err)
    out = []
    for loc, group in groups.items():
        members = [e["loc"][len(loc)] for e in group if len(e["loc"]) > len(loc)]
        if len(members) < 2:
            out += group
            continue
        value = group[0].get("input")
        what = ("null (no value)" if value is None else "a list" if isinstance(value, list) else
                "a mapping" if isinstance(value, dict) else f"`{value}`")
        takes = [_MEMBERS[m] for m in dict.fromkeys(members) if m in _MEMBERS]
        out.append({"loc": loc, "type": "union", "input": value,
                    "msg": f"{what} is not a value here: it takes " + ", ".join(takes[:-1]) + f" or {takes[-1]}"})
    return out


def _diagnostic(located: Located, err: dict) -> Diagnostic:
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
                        "kpis": KpiModel, "scores": ScoreModel,
                        "experiments": ExperimentModel}
        fields = ProjectModel.model_fields if len(path) == 1 else \
            TargetsModel.model_fields if path[0] == "kpis" and path[2:3] == ("targets",) else \
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
        choices = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        if "literal" in kind and isinstance(err.get("input"), str):  # `integer` -> `int`
            close = suggest(err["input"], choices)
            if close:
                hints.append(f"did you mean `{close}`?")
        if kind in _TAKES or "literal" in kind or kind in _LIMITS:  # pydantic's words, in segc.yml's
            message, hint = _in_yaml_words(where, path, kind, err, choices)
            hints.append(hint)
        if kind == "union":  # _one_per_union
            hints.append("write one value (a list is `[...]`, a mapping `{...}`, no value `null` or `~` to YAML); "
                         "quote text that YAML would read otherwise")
        if isinstance(err.get("input"), bool) and "boolean" in message:  # not_a_bool
            hints.append(f"write a whole number, e.g. `{path[-1]}: 2`")
        if kind.startswith("date_") or path == ("as_of",):  # pydantic's words are about datetimes
            message = f"`{where}` is not a date"
            hints.append("write a date as YYYY-MM-DD, e.g. 2024-07-01")
            if path == ("as_of",):
                hints.append("leave `as_of:` out to use the engine's current date (rolling)")
    if not hints:  # our validators' messages say what is expected; every diagnostic has a hint
        hints.append("every key of segc.yml and what it takes: docs/language.md, \"The project file\"")
    return Diagnostic("E004", message, span, hints=tuple(hints))


# pydantic's error type -> what the value takes, in YAML's words ("a mapping", not "a dictionary")
_TAKES = {"string_type": "text", "dict_type": "a mapping", "model_type": "a mapping",
          "model_attributes_type": "a mapping", "bool_type": "true or false", "bool_parsing": "true or false",
          "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
          "float_type": "a number", "float_parsing": "a number", "finite_number": "a finite number",
          "list_type": "a list", "tuple_type": "a list", "set_type": "a list"}
_LIMITS = {"greater_than": ("gt", "greater than"), "greater_than_equal": ("ge", "at least"),
           "less_than": ("lt", "less than"), "less_than_equal": ("le", "at most"),
           "too_short": ("min_length", "at least")}
# what a text value names, for the keys a new user writes first (else a generic example)
_TEXT_EXAMPLES = {"key": ("the column that joins it to the base", "customer_id"),
                  "time": ("the column holding each event's time", "ordered_at"),
                  "table": ("the warehouse table", "shop.orders"), "path": ("a local file", "data/orders.csv"),
                  "base": ("the source with one row per customer", "customers"),
                  "column": ("a column of the source", "amount"), "from": ("an event source", "orders")}


def _written(value) -> str:
    """A value of segc.yml, as the message names it."""
    if value is None:
        return "null (no value)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    text = str(value)
    return f"`{text}`" if len(text) <= 40 and text.isprintable() else "a longer value"


def _in_yaml_words(where: str, path: tuple, kind: str, err: dict, choices: list[str]) -> tuple[str, str]:
    """The message and hint of a value of the wrong type, the wrong literal or out of its limits."""
    key, value = (str(path[-1]) if path else "the document"), err.get("input")
    if kind in _LIMITS:
        bound, words = _LIMITS[kind]
        limit = err.get("ctx", {}).get(bound)
        if kind == "too_short":
            return f"`{where}` needs at least {limit} item", f"give at least {limit}: `{key}: [...]`"
        return f"`{where}` must be {words} {limit}", f"write a number {words} {limit}"
    if "literal" in kind:
        if key == "dialect":  # the one table of dialects
            return f"`{where}`: {_written(value)} is not a dialect segc writes", "dialects: " + ", ".join(DIALECTS)
        if tuple(choices) == tuple(TYPES):
            return f"`{where}`: {_written(value)} is not a type", "types are: " + ", ".join(TYPES)
        return f"`{where}`: {_written(value)} is not a value `{key}:` takes", "write one of: " + ", ".join(choices)
    takes = _TAKES[kind]
    message = f"`{where}` takes {takes}, not {_written(value)}"
    if takes == "a mapping":
        return message, (f"write `name: value` pairs indented under `{key}:` (or `{key}: {{name: value, ...}}` "
                         "on one line)")
    if takes == "text":
        named, example = _TEXT_EXAMPLES.get(key, ("text", "..."))
        return message, (f"`{key}:` is {named}, e.g. `{key}: {example}`" if key in _TEXT_EXAMPLES else
                         f"write text; quote it if YAML reads it otherwise: `{key}: \"...\"`")
    if takes == "a list":
        return message, f"write a list: `{key}: [a, b]`, or one `- item` per line under `{key}:`"
    if takes == "true or false":
        return message, f"write `{key}: true` or `{key}: false`"
    return message, f"write a number without quotes, e.g. `{key}: 10`"
