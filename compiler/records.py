"""Frozen records — the syntax tree, the IR, the schema — as dataclasses that cost less to
define.

For each frozen class, Python 3.11's `dataclass` writes six methods as source text and
compiles them (`__init__`, `__repr__`, `__eq__`, `__hash__`, `__setattr__`,
`__delattr__`): 0.5 to 0.9 ms a class, about 40 ms of a cold `segc compile` for the 77
classes it defines (benchmarks/README.md §1.5). `record` lets `dataclass` write
`__init__` (the hottest: every node is built through it) and the two frozen guards, and
gives `__eq__`, `__hash__` and `__repr__` as closures over one `attrgetter` of the
class's fields: the same comparisons, hashes and text as dataclass's own methods — the
fields in the same order, tuples compared, `NotImplemented` for another class, methods
written in the class body kept — without compiling anything. tests/test_records.py holds
every record class of segc to dataclass's methods.
"""
from __future__ import annotations

import dataclasses
import reprlib
from operator import attrgetter


def record(cls=None, /, **options):
    """`@dataclass(frozen=True, **options)`, with __eq__, __hash__ and __repr__ built
    without compiling code. Used bare (`@record`) or with dataclass options."""
    def wrap(c):
        # dataclass gives a class without a docstring its signature as one (inspect.signature,
        # a sixth of its cost); a record without a docstring keeps none
        undocumented = c.__doc__ is None
        if undocumented:
            c.__doc__ = c.__name__
        c = _add_methods(dataclasses.dataclass(c, frozen=True, eq=False, repr=False, **options))
        if undocumented:
            c.__doc__ = None
        return c

    return wrap if cls is None else wrap(cls)


def _fields_getter(names: list[str]):
    """A function of an instance giving the named fields as a tuple, as dataclass's
    methods compare and hash them (a tuple even for one field or none)."""
    if len(names) >= 2:
        return attrgetter(*names)
    if len(names) == 1:
        name = names[0]
        return lambda obj: (getattr(obj, name),)
    return lambda obj: ()


def _add_methods(cls):
    fields = dataclasses.fields(cls)
    own = dict(cls.__dict__)  # the class body's own names, before any is added here
    if "__repr__" not in own:
        shown = [(f.name, attrgetter(f.name)) for f in fields if f.repr]

        @reprlib.recursive_repr()
        def __repr__(self):
            return f"{self.__class__.__qualname__}({', '.join(f'{n}={get(self)!r}' for n, get in shown)})"

        cls.__repr__ = __repr__
    if "__eq__" not in own:
        compared = _fields_getter([f.name for f in fields if f.compare])

        def __eq__(self, other):
            if other.__class__ is self.__class__:
                return compared(self) == compared(other)
            return NotImplemented

        cls.__eq__ = __eq__
    # as dataclass does for a frozen class with eq: hash the fields, unless the body
    # defines __hash__ (a body defining only __eq__ leaves __hash__ None: not explicit)
    body_hash = own.get("__hash__", dataclasses.MISSING)
    if body_hash is dataclasses.MISSING or (body_hash is None and "__eq__" in own):
        hashed = _fields_getter([f.name for f in fields if (f.compare if f.hash is None else f.hash)])
        cls.__hash__ = lambda self: hash(hashed(self))
    return cls
