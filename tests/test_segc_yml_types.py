"""A value of the wrong type in segc.yml (pydantic's reading) is told in segc.yml's words,
with a hint: "a mapping", not Python's "dictionary"; never pydantic's "Input should be";
`dialect:` lists the dialects of the one table (backend/dialects.py). Every key of the
models is tried with values of every other shape, so a key added later is covered too."""
from __future__ import annotations

import copy

import pytest
import yaml

from segc.backend.dialects import DIALECTS
from segc.front.errors import SegcError
from segc.front.source import Source
from segc.schema.segc_yml import load_schema
from segc.schema.segc_yml_pydantic import FeatureModel, ParamModel, ProjectModel, SourceModel

DOC = {
    "name": "p", "base": "customers", "key": "customer_id",
    "sources": {"customers": {"table": "shop.customers"},
                "orders": {"table": "shop.orders", "key": "customer_id", "time": "ordered_at",
                           "columns": {"amount": "float"}}},
    "features": {"age": {"type": "int"}},
    "params": {"n": {"type": "int", "default": 3}},
}
# where each model's keys are tried
PLACES = {ProjectModel: (), SourceModel: ("sources", "orders"), FeatureModel: ("features", "age"),
          ParamModel: ("params", "n")}
SHAPES = (5, ["a"], {"a": 1}, "zz", True, 2.5)
LEAKS = ("Input should", "dictionary", "instance of", "valid string", "SourceModel", "FeatureModel")


def diagnostics(doc: dict) -> list:
    try:
        _schema, diags = load_schema(Source("segc.yml", yaml.safe_dump(doc, sort_keys=False)))
    except SegcError as e:
        return e.diagnostics
    return diags


def cases():
    for model, place in PLACES.items():
        for name, field in model.model_fields.items():
            for value in SHAPES:
                yield place + (field.alias or name,), value


@pytest.mark.parametrize("path,value", list(cases()), ids=lambda x: ".".join(x) if isinstance(x, tuple) else repr(x))
def test_a_wrong_value_is_told_in_yaml_words_with_a_hint(path, value):
    doc = copy.deepcopy(DOC)
    node = doc
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    for d in diagnostics(doc):
        if d.code != "E004":
            continue
        assert d.hints, d
        assert not any(leak in d.message or any(leak in h for h in d.hints) for leak in LEAKS), d


@pytest.mark.parametrize("path,value,message,hint", [
    (("sources", "orders", "key"), 5, "`sources.orders.key` takes text, not `5`",
     "`key:` is the column that joins it to the base, e.g. `key: customer_id`"),
    (("sources", "orders", "time"), ["ordered_at"], "`sources.orders.time` takes text, not a list",
     "e.g. `time: ordered_at`"),
    (("sources",), 5, "`sources` takes a mapping, not `5`", "write `name: value` pairs indented under `sources:`"),
    (("dialect",), "oracle", "`dialect`: `oracle` is not a dialect segc writes", "dialects: " + ", ".join(DIALECTS)),
    (("features", "age", "nullable"), "maybe", "`features.age.nullable` takes true or false, not `maybe`",
     "write `nullable: true` or `nullable: false`"),
])
def test_the_reviewers_cases(path, value, message, hint):
    doc = copy.deepcopy(DOC)
    node = doc
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    diags = [d for d in diagnostics(doc) if d.code == "E004"]
    assert [d.message for d in diags] == [message], diags
    assert any(hint in h for h in diags[0].hints), diags[0].hints
