"""What the names given to a command (or to the API) stand for: the one place where a
target is resolved. A name is a segment, a segmentation's branch (`seg.branch`), or a
whole segmentation; an ad-hoc expression (`-e`) is checked by the project and arrives
here already a Target. Each command says which kinds it takes and what a segmentation
becomes: its branches side by side (count, overlap, profile, report), the segmentation
as a whole (compile, build, transitions), or a refusal naming its branches (sample).
Everything else is one coded diagnostic, never a traceback: E212 for a name that is not
defined (with a did-you-mean over every definition and feature), E011 for a kind the
command cannot take."""
from __future__ import annotations

import re
from dataclasses import field
from typing import Iterable

from segc import ir
from segc.check.definitions import Checked, Definition
from segc.front import ast
from segc.front.errors import Diagnostic, SegcError, suggest
from segc.records import record

EXPRESSION_LIKE = re.compile(r"[\s<>=!()\[\]\"']")  # what no name holds: spaces, operators
SEGMENT, BRANCH, SEGMENTATION, EXPRESSION = "segment", "branch", "segmentation", "expression"
WHOLE, BRANCHES = "whole", "branches"  # what a segmentation becomes, when a command takes one


@record
class Target:
    """One thing a command works on. `pred` is None for a whole segmentation, whose
    branches (`seg.branch`) are `branches`."""
    name: str
    kind: str
    pred: ir.Pred | None = None
    features: frozenset[str] = frozenset()
    sensitive: dict[str, str] = field(default_factory=dict)  # sensitive feature -> reason allowed
    min_size: int | None = None
    branches: tuple[str, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()  # an expression's (W101, ...), as `segc check` gives a segment's

    @classmethod
    def of(cls, d: Definition) -> Target:
        return cls(d.name, BRANCH if isinstance(d.node, ast.Segmentation) else SEGMENT, d.pred,
                   d.features, d.sensitive, d.annotations.min_size)


@record
class Takes:
    """What a command takes: the kinds, and what a segmentation becomes (WHOLE, BRANCHES,
    or None: refused). `what` names the command in diagnostics (`segc sample`)."""
    what: str
    kinds: frozenset[str] = frozenset({SEGMENT, BRANCH, EXPRESSION})
    segmentation: str | None = BRANCHES


def resolve(checked: Checked, features: Iterable[str], words: Iterable[str | Target], takes: Takes) -> list[Target]:
    """The targets the words name, in order, a segmentation expanded to its branches where
    the command takes them so; every problem of every word in one SegcError."""
    out, diags = [], []
    for word in words:
        try:
            out.extend(_one(checked, features, word, takes))
        except SegcError as e:
            diags.extend(e.diagnostics)
    if diags:
        raise SegcError(diags)
    return out


def _one(checked: Checked, features, word, takes: Takes) -> list[Target]:
    if isinstance(word, Target):
        found = [word]
    elif word in checked.segments:
        found = [Target.of(checked.segments[word])]
    elif word in checked.segmentations:
        found = [_segmentation(checked, word, takes)]
        if takes.segmentation == BRANCHES:
            return [Target.of(checked.segments[b]) for b in found[0].branches]
    else:
        raise SegcError(unknown(checked, features, str(word)))
    if found[0].kind not in takes.kinds:
        raise SegcError(_refused(checked, found[0], takes))
    return found


def _segmentation(checked: Checked, name: str, takes: Takes) -> Target:
    info = checked.segmentations[name]
    branches = tuple(f"{name}.{b}" for b, _p in info.branches)
    target = Target(name, SEGMENTATION, None, info.features, {}, info.annotations.min_size, branches)
    if takes.segmentation is None:
        raise SegcError(_refused(checked, target, takes))
    return target


def _refused(checked: Checked, target: Target, takes: Takes) -> Diagnostic:
    """E011: a target of a kind the command cannot take, with what it can take instead."""
    if target.kind == SEGMENTATION:
        names = ", ".join(f"`{b}`" for b in target.branches)
        return Diagnostic("E011", f"`{target.name}` is a segmentation: {takes.what} takes one segment",
                          hints=(f"name one of its branches: {names}",))
    if takes.kinds == {SEGMENTATION}:
        kind = "a branch" if target.kind == BRANCH else f"a{'n' if target.kind == EXPRESSION else ''} {target.kind}"
        whole = target.name.partition(".")[0] if target.kind == BRANCH else None
        return Diagnostic("E011", f"`{target.name}` is {kind}: {takes.what} takes a segmentation",
                          hints=(f"give the whole segmentation `{whole}`" if whole else
                                 "segmentations: " + (", ".join(checked.segmentations) or "none"),))
    if target.kind == BRANCH:
        whole = target.name.partition(".")[0]
        return Diagnostic("E011", f"`{target.name}` is a branch: {takes.what} takes it with its segmentation",
                          hints=(f"give `{whole}`",))
    return Diagnostic("E011", f"{takes.what} cannot take an expression",
                      hints=("name a segment defined in segments/*.seg",))


def unknown(checked: Checked, features: Iterable[str], name: str) -> Diagnostic:
    """E212 for a name that is no definition: the closest of every definition (segments,
    segmentations, branches) and feature; for `seg.nosuch`, the closest of seg's branches."""
    if EXPRESSION_LIKE.search(name):  # `segc count "age > 30"`: an expression, not a name
        return Diagnostic("E212", f"`{name}` is not a segment name",
                          hints=(f"an ad-hoc expression is given with -e: -e '{name}'",))
    if name in (".", "..") or "/" in name or "\\" in name or name.endswith(".seg"):  # `segc compile .`
        return Diagnostic("E212", f"`{name}` is a path, not a segment name",
                          hints=("this command takes one segment by name, and the project folder with "
                                 "--project DIR (a .seg file's folder is in its project)",))
    left, dot, right = name.partition(".")
    if dot and left in checked.segmentations:
        branches = [b for b, _p in checked.segmentations[left].branches]
        close = suggest(right, branches)
        return Diagnostic("E212", f"`{left}` has no branch `{right}`",
                          hints=(f"did you mean `{left}.{close}`?" if close else
                                 "its branches: " + ", ".join(f"`{left}.{b}`" for b in branches),))
    features = list(features)
    if name in features:
        return Diagnostic("E212", f"`{name}` is a feature, not a segment",
                          hints=(f"a condition on it is an expression: -e '{name} ...', e.g. "
                                 f"`{name} is present`",))
    names = list(checked.segments) + list(checked.segmentations)
    close = suggest(name, names + features)
    if close in features:
        hint = f"did you mean `{close}`? (a feature: use it in a condition, -e '{close} ...')"
    elif close:
        hint = f"did you mean `{close}`?"
    else:
        hint = "defined: " + ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    return Diagnostic("E212", f"unknown segment `{name}`", hints=(hint,))
