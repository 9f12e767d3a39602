"""The statistics of an experiment readout (DESIGN §8.3, `segc lift`), in Python over the
per-member values the engine returns: one function per figure, separable from the query
so that a calibration test can re-split one data set many times without the engine.

A proportion metric (a condition) is compared with Newcombe's hybrid score interval
(method 10, built from the two Wilson intervals) and the pooled two-proportion z-test; a
mean metric (a number) with Welch's t interval and test, exactly as scipy's
`ttest_ind(equal_var=False)` gives them. scipy supplies the distributions: nothing here
is a hand-written distribution. The sample-ratio-mismatch (SRM) test is a chi-square
goodness-of-fit against the expected split; a p-value below SRM_THRESHOLD turns the
readout into a warning (0.001: the usual threshold, strict because a split is checked on
every readout and a false alarm costs a whole experiment)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

from scipy import stats

CONFIDENCE = 0.95
SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class Comparison:
    """One metric, target against control. `relative` (and its interval) is the
    difference over the control's value, missing (None) when that value is 0."""
    kind: str  # "proportion" or "mean"
    n_target: int
    n_control: int
    target: float | None
    control: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    relative: float | None
    relative_low: float | None
    relative_high: float | None
    p_value: float | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Srm:
    """The sample-ratio-mismatch test: `expected_share` is the target's expected share of
    the members; None when no share is known (the test is then not testable)."""
    n_target: int
    n_control: int
    expected_share: float | None
    chi2: float | None
    p_value: float | None

    @property
    def testable(self) -> bool:
        return self.p_value is not None

    @property
    def failed(self) -> bool:
        return self.testable and self.p_value < SRM_THRESHOLD

    def to_dict(self) -> dict:
        return {**asdict(self), "testable": self.testable, "failed": self.failed}


def _z() -> float:
    return float(stats.norm.ppf(1 - (1 - CONFIDENCE) / 2))


def wilson(successes: int, n: int) -> tuple[float, float]:
    """Wilson's score interval for a proportion (n > 0)."""
    z = _z()
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def _relative(difference, low, high, control) -> tuple[float | None, float | None, float | None]:
    # relative to the control's value, taken as known: the interval is the absolute one scaled
    if control is None or control == 0 or difference is None:
        return None, None, None
    return (difference / control, None if low is None else low / control,
            None if high is None else high / control)


def _none(kind: str, n_t: int, n_c: int, t, c) -> Comparison:
    return Comparison(kind, n_t, n_c, t, c, None, None, None, None, None, None, None)


def compare_proportions(target: Sequence[bool], control: Sequence[bool]) -> Comparison:
    """Proportion of True per arm; difference target - control with Newcombe's hybrid score
    interval; p-value of the pooled two-proportion z-test (two-sided). An empty arm gives
    missing figures; a pooled proportion of 0 or 1 gives p = 1 (no difference possible)."""
    n_t, n_c = len(target), len(control)
    x_t, x_c = sum(bool(v) for v in target), sum(bool(v) for v in control)
    p_t = x_t / n_t if n_t else None
    p_c = x_c / n_c if n_c else None
    if not n_t or not n_c:
        return _none("proportion", n_t, n_c, p_t, p_c)
    d = p_t - p_c
    l_t, u_t = wilson(x_t, n_t)
    l_c, u_c = wilson(x_c, n_c)
    low = d - math.sqrt((p_t - l_t) ** 2 + (u_c - p_c) ** 2)
    high = d + math.sqrt((u_t - p_t) ** 2 + (p_c - l_c) ** 2)
    pooled = (x_t + x_c) / (n_t + n_c)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    p_value = 1.0 if se == 0 else float(2 * stats.norm.sf(abs(d) / se))
    rel = _relative(d, low, high, p_c)
    return Comparison("proportion", n_t, n_c, p_t, p_c, d, low, high, *rel, p_value)


def compare_means(target: Sequence[float], control: Sequence[float]) -> Comparison:
    """Mean per arm over the values present (None is excluded, as `avg` does; a metric
    that counts a missing as 0 returns 0 from the query); difference with Welch's interval
    and p-value. Fewer than two values in an arm, or no variance at all, gives missing
    interval and p-value."""
    t = [float(v) for v in target if v is not None]
    c = [float(v) for v in control if v is not None]
    m_t = sum(t) / len(t) if t else None
    m_c = sum(c) / len(c) if c else None
    if len(t) < 2 or len(c) < 2:
        return _none("mean", len(t), len(c), m_t, m_c)
    d = m_t - m_c
    res = stats.ttest_ind(t, c, equal_var=False)
    if not math.isfinite(float(res.pvalue)):
        return Comparison("mean", len(t), len(c), m_t, m_c, d, None, None, *_relative(d, None, None, m_c), None)
    ci = res.confidence_interval(CONFIDENCE)
    low, high = float(ci.low), float(ci.high)
    return Comparison("mean", len(t), len(c), m_t, m_c, d, low, high, *_relative(d, low, high, m_c),
                      float(res.pvalue))


def sample_ratio(n_target: int, n_control: int, expected_share: float | None) -> Srm:
    """Chi-square goodness-of-fit of the arm sizes against the expected target share. With
    no expected share (arms not from `holdout N%`) the observed sizes are all there is, so
    the test is not testable and says so (p_value None)."""
    total = n_target + n_control
    if expected_share is None or total == 0 or not 0 < expected_share < 1:
        return Srm(n_target, n_control, expected_share, None, None)
    res = stats.chisquare([n_target, n_control], [total * expected_share, total * (1 - expected_share)])
    return Srm(n_target, n_control, expected_share, float(res.statistic), float(res.pvalue))


def readout(metrics: dict[str, tuple[str, Sequence, Sequence]], n_target: int, n_control: int,
            expected_share: float | None) -> dict:
    """The figures of one experiment as plain numbers (proportions as fractions), ready for
    --format json: `metrics` maps a name to (kind, target values, control values), kind
    "proportion" or "mean"; `warning` is set when the SRM test fails, and says when the
    split could not be tested."""
    compare = {"proportion": compare_proportions, "mean": compare_means}
    srm = sample_ratio(n_target, n_control, expected_share)
    warning = None
    if srm.failed:
        warning = (f"sample ratio mismatch (p = {srm.p_value:.2g} < {SRM_THRESHOLD}): the arms are not "
                   "split as expected, so the differences below may not be the campaign's effect")
    elif not srm.testable:
        warning = "sample ratio not testable: no expected split is known (the arms are not from `holdout N%`)"
    return {"srm": srm.to_dict(), "srm_threshold": SRM_THRESHOLD, "confidence": CONFIDENCE, "warning": warning,
            "metrics": {name: compare[kind](t, c).to_dict() for name, (kind, t, c) in metrics.items()}}
