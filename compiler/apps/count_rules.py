"""What `segc count` finds wrong with the sizes it measured, as diagnostics: a segment
below its `min_size` (an error under `--strict`), an empty segmentation branch, a feature
missing for more than preview.MISSING_WARNING of the population. Each points at the
definition it is about, so a warning reads like any other."""
from __future__ import annotations

from segc.front.errors import Diagnostic
from segc.preview import CountResult
from segc.project import Project


def count_diagnostics(project: Project, result: CountResult, strict: bool = False) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for s in result.segments:
        if s.too_small:
            where = ("its `@min_size`" if _min_size_annotated(project, s.name)
                     else "`min_size:` in segc.yml")
            out.append(Diagnostic(
                "E740" if strict else "W740",
                f"`{s.name}` has {s.count:,} members, below its min_size {s.min_size:,}",
                _span(project, s.name), severity="error" if strict else "warning",
                hints=(f"too small to act on or to measure: widen it, merge it, or lower {where}",)))
    for name in result.empty_branches:
        out.append(Diagnostic(
            "W741", f"branch `{name}` is empty: no customer of the population is in it",
            _span(project, name), severity="warning",
            hints=("check its condition, and whether the branches before it already take its customers",)))
    for feature, share in result.missing.items():
        if "W742" in project.schema.features[feature].ignore_warnings:
            continue
        out.append(Diagnostic(
            "W742", f"`{feature}` (used by {_names(result.readers.get(feature, ()))}) is missing for "
            f"{share:.0%} of the population: conditions on it exclude them (`not` includes them)",
            project.schema.key_span("features", feature), severity="warning",
            hints=(f"`{feature} is missing` selects them; `coalesce({feature}, ...)` gives them a value",
                   f"if that is intended, silence this in segc.yml: `ignore_warnings: [W742]` on `{feature}`")))
    return out


def _names(names: tuple[str, ...], shown: int = 5) -> str:
    """`a`, `b` and 3 more: the segments a warning concerns, without flooding the terminal."""
    quoted = [f"`{n}`" for n in names[:shown]]
    if len(names) > shown:
        quoted.append(f"{len(names) - shown} more")
    if len(quoted) <= 1:
        return "".join(quoted) or "the counted segments"
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _span(project: Project, name: str):
    d = project.checked.segments.get(name)
    if d is None:
        return None
    _, _, branch = name.partition(".")
    if branch:
        for b in getattr(d.node, "branches", ()):
            if b.name == branch:
                return b.name_span or b.span
    return d.node.name_span or d.node.span


def _min_size_annotated(project: Project, name: str) -> bool:
    d = project.checked.segments.get(name)
    return d is not None and d.annotations.min_size_annotated
