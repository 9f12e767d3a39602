"""The playground's feature matrix: every feature of the project (and every aggregate,
column and rank cut its segments need) computed once per as-of in one grouped pass, kept
as a DuckDB table, so that an edited segment is recounted as a filter over one row per
customer of the population.

Whether the matrix can answer a condition is decided by lowering it: the lowerer
remembers what a condition needs from the raw data (base columns, event aggregates, rank
cuts, anything a later construct adds). The matrix's lowerer starts with what the matrix
holds; if lowering a condition made it remember anything more, the condition needs the
raw data and the caller falls back to the full query (NotInMatrix). No list of constructs."""
from __future__ import annotations

import copy
import dataclasses
import itertools
from pathlib import Path

from sqlglot import exp

from segc import ir
from segc.backend.lower import KEY, Lowerer
from segc.backend.trees import col, flag, ident, make_select, table
from segc.preview import require_unique_keys
from segc.project import Project

_TABLES = itertools.count(1)


def _picks(node) -> list[ir.Agg]:
    """The first / last / nth / mode aggregates in a checked condition."""
    if isinstance(node, ir.Agg):
        return [node] if node.func in ir.PICKS else []
    if isinstance(node, (tuple, list)):
        return [a for item in node for a in _picks(item)]
    if isinstance(node, (ir.Pred, ir.Value)):
        return [a for f in dataclasses.fields(node) for a in _picks(getattr(node, f.name))]
    return []


class NotInMatrix(Exception):
    """The condition needs more than the matrix holds: run the full query."""


class MatrixLowerer(Lowerer):
    """A lowerer whose final relation is the matrix table: `query` selects from it (the
    population is already applied) and refuses what needs anything the matrix lacks."""

    def __init__(self, base: Lowerer, name: str, flags: dict):
        self.__dict__.update(_state_copy(base))
        self._held = _state_copy(base)
        self._table = name
        self._flags = flags
        self.conditions = 0  # Lowerer's bound on one query, counted per query

    def pred(self, p, positive: bool = True):
        # a defined segment's condition is a 0/1 column of the matrix (never NULL: the
        # same under a `not`), so an overlap with every segment reads columns
        name = self._flags.get(p)
        if name is not None:
            return exp.EQ(this=col(name), expression=exp.Literal.number(1))
        return super().pred(p, positive)

    def query(self, population, select):
        self.conditions = 0
        projections, where = select(self)
        if _state(self) != _state_of(self._held):
            raise NotInMatrix()
        return make_select(projections, table(self._table), where)


_OWN = ("schema", "as_of", "_held", "_table", "_flags", "conditions")  # not what lowering remembers


def _state(lw) -> dict:
    return _state_of(vars(lw))


def _state_of(d: dict) -> dict:
    return {k: v for k, v in d.items() if k not in _OWN}


def _state_copy(lw) -> dict:
    """What a lowerer remembers, deep-copied (the schema and as-of are shared)."""
    return {k: (v if k in ("schema", "as_of") else copy.deepcopy(v)) for k, v in vars(lw).items()
            if k not in _OWN[2:]}


class MatrixProject(Project):
    """The project with its previews (count, profile, overlap, sample) run on the matrix:
    preview.py's functions unchanged, so the figures mean what `segc count` means."""

    def __init__(self, project: Project, base: Lowerer, name: str, flags: dict):
        self.__dict__.update(project.__dict__)
        self._base, self._table, self._flags = base, name, flags

    def lowerer(self, as_of=None) -> Lowerer:
        return MatrixLowerer(self._base, self._table, self._flags)


class Matrix:
    """The matrix of one project at one as-of (a temp table on the project's DuckDB)."""

    def __init__(self, project: Project, as_of=None):
        self.project = project
        self.as_of = as_of
        lw = project.lowerer(as_of)
        for v in project.feature_values(project.schema.features).values():
            lw.value(v)
        preds = list(dict.fromkeys(d.pred for d in project.checked.segments.values() if d.pred is not None))
        for pick in dict.fromkeys(a for p in preds for a in _picks(p)):
            # held as values, so that a comparison with any other constant (an edit of
            # `last(orders.category) = "shoes"`) reads them too instead of the edge-time
            # tests the full query uses, which the matrix would hold only for these constants
            lw.value(pick)
        for p in preds:
            lw.pred(p)
        self.name = f"segc_matrix_{next(_TABLES)}"
        flags = {p: f"segc_segment_{i}" for i, p in enumerate(preds, 1)}

        def select(q: Lowerer):
            held = [KEY, *q.columns, *(c for s in q.sources.values() for c in s.aggs.values()),
                    *(c for cuts in q.cuts.values() for c in cuts.values())]
            segments = [exp.alias_(flag(q.pred(p)), ident(name)) for p, name in flags.items()]
            return [col(c) for c in dict.fromkeys(held)] + segments, None

        query = lw.query(project.checked.population, select)
        project.duckdb()  # the matrix is a DuckDB table: refuse (E706) any other engine
        project.run(exp.Create(this=table(self.name), kind="TABLE", replace=True, expression=query,
                               properties=exp.Properties(expressions=[exp.TemporaryProperty()])))
        self.view = MatrixProject(project, lw, self.name, flags)
        require_unique_keys(self.view, as_of)  # once, on the matrix: its previews then skip it
        self.view.keys_checked = True

    def drop(self) -> None:
        self.project.run(exp.Drop(tables=[table(self.name)], kind="TABLE", exists=True))


def data_stamp(root: Path, project: Project) -> tuple:
    """What the matrix depends on: segc.yml and every data file of the project. Not the
    mtime alone: a file replaced by a copy that keeps its time (`cp -p`, `rsync -t`, `tar x`)
    has another inode and ctime."""
    files = [root / "segc.yml"]
    for src in project.schema.sources.values():
        path = getattr(src, "path", None)
        if path:
            p = Path(path)
            p = p if p.is_absolute() else root / p
            files += sorted(p.parent.glob(p.name)) if any(ch in p.name for ch in "*?[") else [p]
    def stamp(f: Path):
        try:
            st = f.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size

    return tuple((str(f), stamp(f)) for f in files)
