"""What the checker produces: checked definitions with their annotations read once, the
segmentations with their branches, and the scopes names are looked up in."""
from __future__ import annotations

from dataclasses import dataclass, field

from segc import ir
from segc.front import ast
from segc.front.errors import Diagnostic
from segc.schema.segc_yml import Schema
from segc.records import record


def annotation(node, name: str):
    for a in getattr(node, "annotations", ()):
        if a.name == name:
            return a
    return None


@record
class Annotations:
    """A definition's annotations, read once (they are checked in names.py)."""
    owner: str | None = None
    tags: tuple[str, ...] = ()
    min_size: int | None = None        # @min_size, else the project's `min_size:`
    min_size_annotated: bool = False   # @min_size given on the definition itself
    allow_sensitive: str | None = None  # the reason

    @classmethod
    def of(cls, node, default_min_size: int | None = None) -> Annotations:
        def arg(name):
            a = annotation(node, name)
            return a.args[0] if a is not None and a.args else None

        owner, reason, size = arg("owner"), arg("allow_sensitive"), arg("min_size")
        tags = annotation(node, "tags")
        annotated = isinstance(size, int) and not isinstance(size, bool)
        return cls(owner=None if owner is None else str(owner),
                   tags=tuple(str(t) for t in tags.args) if tags is not None else (),
                   min_size=size if annotated else default_min_size, min_size_annotated=annotated,
                   allow_sensitive=reason if isinstance(reason, str) and reason.strip() else None)


@dataclass
class Definition:
    """A checked segment, or one branch of a segmentation (name `seg.branch`)."""
    name: str
    pred: ir.Pred
    node: ast.Segment | ast.Segmentation
    file: str
    features: frozenset[str] = frozenset()
    sensitive: dict[str, str] = field(default_factory=dict)  # feature -> reason allowed
    annotations: Annotations = Annotations()


@dataclass
class SegmentationInfo:
    name: str
    node: ast.Segmentation
    file: str
    branches: list[tuple[str, ir.Pred | None]]  # None: else
    features: frozenset[str] = frozenset()
    annotations: Annotations = Annotations()


@dataclass
class Checked:
    schema: Schema
    segments: dict[str, Definition]
    segmentations: dict[str, SegmentationInfo]
    population: ir.Pred
    warnings: list[Diagnostic]
    params: dict[str, object]
    scores: dict[str, ir.Pred] = field(default_factory=dict)  # score -> its checked target

    def summary(self) -> str:
        """What was checked, as `segc check` says it: `34 segments and 3 segmentations (13
        branches)` (`segments` holds the branches too: 47 read as 47 segments)."""
        def n(count: int, one: str, many: str) -> str:
            return f"{count} {one if count == 1 else many}"

        branches = sum(len(info.branches) for info in self.segmentations.values())
        text = n(len(self.segments) - branches, "segment", "segments")
        if self.segmentations:
            text += (f" and {n(len(self.segmentations), 'segmentation', 'segmentations')}"
                     f" ({n(branches, 'branch', 'branches')})")
        return text


class Scope:
    """Where names are looked up: the features (and definitions), or one event source's
    columns inside an aggregate. `used` collects the features read."""

    def __init__(self, kind: str, columns: dict[str, str] | None = None, source: str | None = None):
        self.kind = kind  # features, event
        self.columns = columns or {}
        self.source = source
        self.used: set[str] = set()


def branch_preds(info: SegmentationInfo):
    """First match wins: a branch holds those matched by it and by no earlier branch.
    [(branch, condition)]; the conditions share the earlier branches' `not` nodes."""
    out, earlier = [], ()
    for name, pred in info.branches:
        this = ir.TRUE if pred is None else pred
        out.append((name, ir.And(earlier + (this,)) if earlier else this))
        earlier += (ir.Not(this),)
    return out
