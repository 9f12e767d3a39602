"""A KPI's value against its `targets:` (segc.yml): met or missed, and by how much.

    check_target(Targets(min=0.4, max=None), 0.35)  # TargetCheck(0.4, None, met=False, gap=-0.05)

The gap is how far the value is outside the targets, signed as the value minus the bound
it crosses: value − min (negative) below `min`, value − max (positive) above `max`, 0 when
met. A missing value (an empty segment, a ratio whose denominators add up to 0) is neither
met nor missed: `met` and `gap` are None, so that a report never counts a figure it could
not compute as a success or a failure.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TargetCheck:
    min: float | None
    max: float | None
    met: bool | None  # None: no value to compare
    gap: float | int | None  # 0 when met; None when there is no value

    def to_dict(self) -> dict:
        return {"min": self.min, "max": self.max, "met": self.met, "gap": self.gap}


def check_target(targets, value) -> TargetCheck:
    """`targets` (schema Targets: min and/or max) against `value` (None: missing)."""
    low, high = targets.min, targets.max
    if value is None:
        return TargetCheck(low, high, None, None)
    if low is not None and value < low:
        return TargetCheck(low, high, False, value - low)
    if high is not None and value > high:
        return TargetCheck(low, high, False, value - high)
    return TargetCheck(low, high, True, 0)
