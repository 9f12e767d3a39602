"""segc.yml's plain reading (segc_yml_plain.read_plain, which spares `segc compile` importing
pydantic) agrees with pydantic's models (segc_yml_pydantic.py), the reference: the same
fields and defaults, and on any document either the same model or a refusal that leaves
it to pydantic (never a document that pydantic rejects)."""
from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from segc.schema.segc_yml_plain import PLAIN_FIELDS, REQUIRED, read_plain
from segc.schema.segc_yml_pydantic import (FeatureModel, KpiModel, ParamModel, ProjectModel, ScoreModel,
                                           SourceModel)

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted(p for p in ROOT.glob("**/segc.yml") if ".venv" not in p.parts)
MODELS = {"project": ProjectModel, "source": SourceModel, "feature": FeatureModel, "param": ParamModel,
          "kpi": KpiModel, "score": ScoreModel}
# what a YAML value can be: each is tried in place of every value of the documents
ODD_VALUES = [None, True, False, 0, 1, -1, 1.5, float("inf"), "", "x", "int", "sum", "30 days", "0 days", "2 weeks",
              "2024-07-01", dt.date(2024, 7, 1), dt.datetime(2024, 7, 1, 12), [], ["a"], ["a", 1], [1, True], [1.5],
              {}, {"a": "int"}, {"a": "integer"}, {1: "int"}, 10 ** 400]  # too large for a float


def _dump(value):
    """read_plain's namespaces as pydantic's model_dump() gives its models."""
    if hasattr(value, "__dict__"):
        return {k: _dump(v) for k, v in vars(value).items()}
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


def _agree(data) -> str:
    """Whether the two readings agree on `data`; returns which way it went."""
    plain = read_plain(data)
    try:
        reference = ProjectModel.model_validate(data).model_dump()
    except ValidationError:
        assert plain is None, f"the plain reading accepts what pydantic rejects: {data!r}"
        return "rejected"
    if plain is None:
        return "left to pydantic"
    assert _dump(plain) == reference
    assert [type(v) for v in _dump(plain).values()] == [type(v) for v in reference.values()]
    return "read"


@pytest.mark.parametrize("kind", list(MODELS))
def test_the_fields_are_pydantics(kind):
    fields = MODELS[kind].model_fields
    plain = PLAIN_FIELDS[kind]
    assert list(plain) == [f.alias or name for name, f in fields.items()]
    for (name, f), (attr, _read, default) in zip(fields.items(), plain.values()):
        assert attr == name
        if f.is_required():
            assert default is REQUIRED, name
        else:
            assert default == f.default and type(default) is type(f.default), name


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_projects_are_read_without_pydantic(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert _agree(data) == "read"


def _leaves(data, path=()):
    """The paths of every value of a document, mappings and lists included."""
    yield path
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _leaves(v, path + (i,))


def _replaced(data, path, value):
    out = copy.deepcopy(data)
    node = out
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return out


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_odd_value_is_read_alike_or_left_to_pydantic(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    seen = set()
    for where in list(_leaves(data))[1:]:
        for value in ODD_VALUES:
            seen.add(_agree(_replaced(data, where, value)))
        node = data
        for p in where[:-1]:
            node = node[p]
        if isinstance(node, dict):  # the key left out, and an unknown key beside it
            for changed in ({k: v for k, v in node.items() if k != where[-1]}, {**node, "colour": "red"}):
                seen.add(_agree(_replaced(data, where[:-1], changed) if where[:-1] else changed))
    assert seen == {"read", "rejected", "left to pydantic"}


MINIMAL = {
    "name": "t", "base": "customers", "key": "id",
    "sources": {"customers": {"table": "customers"}},
    "features": {"age": {"type": "int"}},
    "params": {"p": {"type": "int"}},
    "kpis": {"k": {"count_of": "age > 1"}},
    "scores": {"s": {"target": "age > 1", "horizon": "30 days", "features": ["age"],
                     "train_as_of": dt.date(2024, 1, 1)}},
}
ENTRIES = {"project": (), "source": ("sources", "customers"), "feature": ("features", "age"),
           "param": ("params", "p"), "kpi": ("kpis", "k"), "score": ("scores", "s")}


@pytest.mark.parametrize("kind", list(ENTRIES))
def test_every_field_with_every_odd_value(kind):
    assert _agree(MINIMAL) == "read"
    seen = set()
    for key in PLAIN_FIELDS[kind]:
        for value in ODD_VALUES:
            seen.add(_agree(_replaced(MINIMAL, ENTRIES[kind] + (key,), value)))
    assert {"read", "rejected"} <= seen
