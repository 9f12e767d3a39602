"""`segc.records.record`: a frozen dataclass whose __eq__, __hash__ and __repr__ are built
without compiling code (start-up, benchmarks/README.md §1.4). It must behave exactly as
`@dataclass(frozen=True)`: each shape below is defined both ways and held to the same
answers, and every record class of segc is held to dataclass's documented formulas."""
from __future__ import annotations

import dataclasses
import importlib
import math
import pkgutil
from dataclasses import FrozenInstanceError, field

import pytest

import segc
from segc.records import record


def both(body: dict, bases: tuple = (), **options):
    """The same class body as a record and as a frozen dataclass (bases: pairs)."""
    made = []
    for i, decorate in enumerate((lambda c: record(c, **options), dataclasses.dataclass(frozen=True, **options))):
        ns = {k: (v() if callable(v) and getattr(v, "fresh_field", False) else v) for k, v in body.items()}
        made.append(decorate(type("Shape", tuple(b[i] for b in bases), {"__module__": __name__, "__qualname__": "Shape", **ns})))
    return made


def fresh(**kw):
    """A field() made anew for each class (a Field object belongs to one class)."""
    def make():
        return field(**kw)
    make.fresh_field = True
    return make


SHAPES = {
    "no field": ({"__annotations__": {}}, (), {}),
    "one field": ({"__annotations__": {"a": "object"}}, (), {}),
    "three fields": ({"__annotations__": {"a": "object", "b": "object", "c": "object"}}, (), {}),
    "defaults": ({"__annotations__": {"a": "object", "b": "object"}, "b": 7}, (), {}),
    "not compared": ({"__annotations__": {"a": "object", "b": "object"}, "b": fresh(default=None, compare=False)}, (), {}),
    "not in repr": ({"__annotations__": {"a": "object", "b": "object"}, "b": fresh(default=None, repr=False)}, (), {}),
    "not hashed": ({"__annotations__": {"a": "object", "b": "object"}, "b": fresh(default=None, hash=False)}, (), {}),
    "hashed, not compared": ({"__annotations__": {"a": "object", "b": "object"},
                              "b": fresh(default=None, compare=False, hash=True)}, (), {}),
    "kw_only": ({"__annotations__": {"a": "object", "b": "object"}}, (), {"kw_only": True}),
    "own __eq__": ({"__annotations__": {"a": "object"}, "__eq__": lambda s, o: True}, (), {}),
    "own __eq__ and __hash__": ({"__annotations__": {"a": "object"}, "__eq__": lambda s, o: True,
                                 "__hash__": lambda s: 5}, (), {}),
    "own __repr__": ({"__annotations__": {"a": "object"}, "__repr__": lambda s: "mine"}, (), {}),
}


def kwargs(cls, values):
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    return dict(zip(names, values))


VALUES = [(1, "x", None), (1, "x", None), (1, "y", None), (2, "x", (1, 2)), (math.nan, "x", None), (True, 1.0, None)]


@pytest.mark.parametrize("shape", SHAPES)
def test_a_record_answers_as_a_frozen_dataclass(shape):
    body, bases, options = SHAPES[shape]
    rec, dc = both(body, bases, **options)
    assert [f.name for f in dataclasses.fields(rec)] == [f.name for f in dataclasses.fields(dc)]
    nan = math.nan  # the same NaN object: tuples compare it by identity first
    values = [tuple(nan if isinstance(v, float) and math.isnan(v) else v for v in vs) for vs in VALUES]
    r = [rec(**kwargs(rec, vs)) for vs in values]
    d = [dc(**kwargs(dc, vs)) for vs in values]
    for i in range(len(values)):
        assert repr(r[i]) == repr(d[i])
        assert hash(r[i]) == hash(d[i])
        assert (rec.__hash__ is None) == (dc.__hash__ is None)
        for j in range(len(values)):
            assert (r[i] == r[j]) == (d[i] == d[j]), (i, j)
            assert (r[i] != r[j]) == (d[i] != d[j]), (i, j)
        assert (r[i] == "other") == (d[i] == "other")
        assert r[i].__eq__(object()) is NotImplemented or shape.startswith("own __eq__")
        with pytest.raises(FrozenInstanceError):
            setattr(r[i], "a", 3)
        with pytest.raises(FrozenInstanceError):
            r[i].new_attribute = 1
    assert dataclasses.replace(r[0]) == r[0]
    assert rec.__match_args__ == dc.__match_args__


def test_a_subclass_of_a_record_compares_with_its_own_fields():
    @record(kw_only=True)
    class Base:
        span: object = field(default=None, compare=False, repr=False)

    @record
    class Child(Base):
        a: object

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class DBase:
        span: object = field(default=None, compare=False, repr=False)

    @dataclasses.dataclass(frozen=True)
    class DChild(DBase):
        a: object

    for x, y in ((Child(1, span=1), Child(1, span=2)), (DChild(1, span=1), DChild(1, span=2))):
        assert x == y and hash(x) == hash(y)
    assert repr(Child(1)).endswith("Child(a=1)") and repr(DChild(1)).endswith("DChild(a=1)")
    assert Child(1) != Base() and Base() == Base()


def test_a_recursive_repr_stops_as_dataclass_does():
    @record
    class Box:
        items: list

    @dataclasses.dataclass(frozen=True)
    class DBox:
        items: list

    r, d = Box([]), DBox([])
    r.items.append(r)
    d.items.append(d)
    assert repr(r) == "test_a_recursive_repr_stops_as_dataclass_does.<locals>.Box(items=[...])"
    assert repr(d) == "test_a_recursive_repr_stops_as_dataclass_does.<locals>.DBox(items=[...])"


def test_a_record_without_a_docstring_has_none():
    @record
    class Bare:
        a: int

    @record
    class Documented:
        """Said."""
        a: int

    assert Bare.__doc__ is None and Documented.__doc__ == "Said."


def _record_classes():
    found = {}
    for info in pkgutil.walk_packages(segc.__path__, "segc."):
        if ".apps.lsp" in info.name or ".apps.serve" in info.name or info.name.endswith("segment_parser"):
            continue  # optional dependencies (pygls, starlette); the generated parser
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == info.name and dataclasses.is_dataclass(value) \
                    and "_add_methods" in getattr(value.__eq__, "__qualname__", ""):
                found[f"{info.name}.{value.__qualname__}"] = value
    return found


RECORDS = _record_classes()


COMPILE_PATH = ("segc.front.ast", "segc.ir", "segc.front.source", "segc.front.errors", "segc.front.regex_subset",
                "segc.schema.segc_yml", "segc.schema.physical", "segc.schema.score_model", "segc.check.definitions",
                "segc.check.targets", "segc.check.experiments", "segc.check.kpis")


@pytest.mark.parametrize("module", COMPILE_PATH)
def test_the_compile_path_defines_its_frozen_classes_as_records(module):
    """What a cold `segc compile` imports: every frozen dataclass there is a record."""
    frozen = [v for v in vars(importlib.import_module(module)).values()
              if isinstance(v, type) and v.__module__ == module and dataclasses.is_dataclass(v)
              and v.__dataclass_params__.frozen]
    assert frozen
    assert [c.__qualname__ for c in frozen if f"{module}.{c.__qualname__}" not in RECORDS] == []


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_every_record_of_segc_keeps_dataclass_formulas(name):
    cls = RECORDS[name]
    fields = dataclasses.fields(cls)
    params = cls.__dataclass_params__
    assert params.frozen
    obj = object.__new__(cls)
    other = object.__new__(cls)
    for i, f in enumerate(fields):
        object.__setattr__(obj, f.name, ("value", i))
        object.__setattr__(other, f.name, ("value", i) if f.compare else ("other", i))
    compared = tuple(getattr(obj, f.name) for f in fields if f.compare)
    hashed = tuple(getattr(obj, f.name) for f in fields if (f.compare if f.hash is None else f.hash))
    assert obj == other  # only the fields that are not compared differ
    assert hash(obj) == hash(hashed)
    assert (obj == compared) is False
    shown = ", ".join(f"{f.name}={getattr(obj, f.name)!r}" for f in fields if f.repr)
    if "__repr__" not in cls.__dict__ or "_add_methods" in cls.__repr__.__qualname__:
        assert repr(obj) == f"{cls.__qualname__}({shown})"
    with pytest.raises(FrozenInstanceError):
        setattr(obj, fields[0].name if fields else "x", 1)
