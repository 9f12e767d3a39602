"""segc.yml's plain reading: pydantic (segc_yml_pydantic.py) stays the reference, but
importing it and building its models is the largest share of `segc compile`'s start-up
(benchmarks/README.md, cold start). A well-written file needs neither: YAML already gives
every value its exact type. So a document whose every key is known and every value has
exactly the type its field takes is read here; anything else (a missing or unknown key,
a value pydantic would coerce or reject) returns None and is read by pydantic, with its
coercions and error messages. tests/test_segc_yml_plain.py checks the fields against
pydantic's models and that both readings agree."""
from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace

from segc.backend.dialects import DIALECTS, QUOTING
from segc.schema.vocabulary import AGGS, TYPES, WINDOW

REQUIRED = object()  # a field without a default
_BAD = object()  # a value that the plain reading leaves to pydantic


def _exact(*types):
    return lambda v: v if type(v) in types else _BAD


def _one_of(choices):
    return lambda v: v if type(v) is str and v in choices else _BAD


def _window(v):  # as FeatureModel._window
    m = WINDOW.match(v) if type(v) is str else None
    return v if m and int(m.group(1)) != 0 else _BAD


def _horizon(v):  # as ScoreModel._horizon
    return v if type(v) is str and WINDOW.match(v) else _BAD


def _list_of(*types, min_length=0):
    return lambda v: (list(v) if type(v) is list and len(v) >= min_length and all(type(x) in types for x in v)
                      else _BAD)


def _positive(v):  # C: a float > 0; an int is read as a float, as pydantic does
    if type(v) not in (int, float) or not v > 0:
        return _BAD
    try:
        return float(v)
    except OverflowError:  # an int too large for a float: pydantic's message says so
        return _BAD


def _size(v):  # min_size: an int >= 0
    return v if type(v) is int and v >= 0 else _BAD


def _columns(v):
    if type(v) is not dict or not all(type(k) is str and type(t) is str and t in TYPES for k, t in v.items()):
        return _BAD
    return dict(v)


def _mapping(fields):
    """A mapping of names to entries of `fields`: one namespace per entry."""
    def read(v):
        if type(v) is not dict or not all(type(k) is str for k in v):
            return _BAD
        out = {k: _entry(fields, x) for k, x in v.items()}
        return _BAD if any(x is _BAD for x in out.values()) else out
    return read


def _entry(fields, data):
    """One entry: its keys among `fields` (key -> (attribute, read, default)); a default
    of None also admits an explicit null, as the Optional fields of the models do."""
    if type(data) is not dict or not all(k in fields for k in data):
        return _BAD
    out = {}
    for key, (attr, read, default) in fields.items():
        if key not in data:
            if default is REQUIRED:
                return _BAD
            out[attr] = default.copy() if isinstance(default, (dict, list)) else default
            continue
        value = data[key]
        value = None if value is None and default is None else read(value)
        if value is _BAD:
            return _BAD
        out[attr] = value
    return SimpleNamespace(**out)


_STR, _BOOL, _DATE = _exact(str), _exact(bool), _exact(dt.date)


def _metrics(v):  # an experiment's metrics: at least one name -> an expression
    return dict(v) if type(v) is dict and v and all(type(k) is str and type(x) is str for k, x in v.items()) else _BAD

def _ratio(v):  # as KpiModel._ratio: [numerator, denominator]
    return list(v) if type(v) is list and len(v) == 2 and all(type(x) is str for x in v) else _BAD


def _target(v):  # as segc_yml_pydantic.target_number: an int or a finite float, read as a float
    if type(v) not in (int, float):
        return _BAD
    try:
        v = float(v)
    except OverflowError:
        return _BAD
    return v if math.isfinite(v) else _BAD


_TYPE = _one_of(TYPES)
PLAIN_FIELDS = {
    "source": {
        "table": ("table", _STR, None), "path": ("path", _STR, None), "key": ("key", _STR, None),
        "time": ("time", _STR, None),
        "order_by": ("order_by", lambda v: tuple(v) if _list_of(str)(v) is not _BAD else _BAD, ()),
        "columns": ("columns", _columns, {}),
        "sensitive": ("sensitive", lambda v: tuple(v) if _list_of(str)(v) is not _BAD else _BAD, ()),
        "dateformat": ("dateformat", _STR, None), "timestampformat": ("timestampformat", _STR, None),
        "delimiter": ("delimiter", _STR, None), "header": ("header", _BOOL, None),
    },
    "feature": {
        "type": ("type", _TYPE, REQUIRED), "description": ("description", _STR, ""),
        "column": ("column", _STR, None), "from": ("from_", _STR, None), "agg": ("agg", _one_of(AGGS), None),
        "n": ("n", _exact(int), None),
        "where": ("where", _STR, None), "window": ("window", _window, None), "sql": ("sql", _STR, None),
        "sql_dialect": ("sql_dialect", _STR, "duckdb"), "values": ("values", _list_of(str, int), None),
        "nullable": ("nullable", _BOOL, True), "sensitive": ("sensitive", _BOOL, False),
        "ignore_warnings": ("ignore_warnings", _list_of(str), []),
    },
    "param": {
        "type": ("type", _TYPE, REQUIRED),
        "default": ("default", _exact(bool, int, float, str, dt.date, dt.datetime), None),
        "description": ("description", _STR, ""),
    },
    "kpi": {
        "description": ("description", _STR, ""), "count_of": ("count_of", _STR, None),
        "share_of": ("share_of", _STR, None), "sum": ("sum", _STR, None), "avg": ("avg", _STR, None),
        "per_customer": ("per_customer", _STR, None), "ratio": ("ratio", _ratio, None),
        "targets": ("targets", lambda v: _entry(PLAIN_FIELDS["kpi_targets"], v), None),
    },
    "kpi_targets": {"min": ("min", _target, None), "max": ("max", _target, None)},
    "score": {
        "description": ("description", _STR, ""), "target": ("target", _STR, REQUIRED),
        "horizon": ("horizon", _horizon, REQUIRED), "features": ("features", _list_of(str, min_length=1), REQUIRED),
        "train_as_of": ("train_as_of", _DATE, REQUIRED), "validate_as_of": ("validate_as_of", _DATE, None),
        "C": ("C", _positive, 1.0), "allow_sensitive": ("allow_sensitive", _STR, None),
    },
    "experiment": {
        "description": ("description", _STR, ""), "target": ("target", _STR, REQUIRED),
        "control": ("control", _STR, REQUIRED), "assigned_at": ("assigned_at", _DATE, REQUIRED),
        "until": ("until", _DATE, REQUIRED), "metrics": ("metrics", _metrics, REQUIRED),
        "allow_sensitive": ("allow_sensitive", _STR, None),
    },
}
PLAIN_FIELDS["project"] = {
    "name": ("name", _STR, REQUIRED), "entity": ("entity", _STR, "customer"), "base": ("base", _STR, REQUIRED),
    "key": ("key", _STR, REQUIRED), "as_of": ("as_of", _DATE, None), "dialect": ("dialect", _one_of(DIALECTS), "duckdb"),
    "population": ("population", _STR, None), "min_size": ("min_size", _size, None),
    "min_group": ("min_group", lambda v: v if type(v) is int and v >= 1 else _BAD, 10),
    "allow_outside_paths": ("allow_outside_paths", _BOOL, False),
    "quoting": ("quoting", _one_of(QUOTING), "preserve"),
    "sources": ("sources", _mapping(PLAIN_FIELDS["source"]), REQUIRED),
    "features": ("features", _mapping(PLAIN_FIELDS["feature"]), {}),
    "params": ("params", _mapping(PLAIN_FIELDS["param"]), {}),
    "kpis": ("kpis", _mapping(PLAIN_FIELDS["kpi"]), {}),
    "scores": ("scores", _mapping(PLAIN_FIELDS["score"]), {}),
    "experiments": ("experiments", _mapping(PLAIN_FIELDS["experiment"]), {}),
}


def read_plain(data) -> SimpleNamespace | None:
    """The document as pydantic's ProjectModel would read it, when every value already has
    its exact type; None when pydantic must read it (see above)."""
    model = _entry(PLAIN_FIELDS["project"], data)
    return None if model is _BAD else model
