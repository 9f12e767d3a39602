"""The statistics of `segc lift` (segc/apps/lift_stats.py) held to scipy.stats computed
another way in the test, to 1e-9, and a calibration test: on data with no effect, 200
seeded splits give intervals that cover 0 about 95% of the time."""
import math

import numpy as np
import pytest
from scipy import stats

from segc.apps import lift_stats as ls

TOL = 1e-9


def _rows(seed=7, n_t=400, n_c=300):
    rng = np.random.default_rng(seed)
    return (rng.random(n_t) < 0.31, rng.random(n_c) < 0.24,
            rng.gamma(2.0, 30.0, n_t), rng.gamma(2.0, 27.0, n_c))


def test_proportions_equal_scipy_wilson_newcombe_and_chi2():
    bt, bc, _, _ = _rows()
    r = ls.compare_proportions(list(bt), list(bc))
    x_t, n_t, x_c, n_c = int(bt.sum()), len(bt), int(bc.sum()), len(bc)
    p_t, p_c = x_t / n_t, x_c / n_c
    # Wilson from scipy's binomtest, Newcombe (1998) method 10 from them
    wt = stats.binomtest(x_t, n_t).proportion_ci(0.95, method="wilson")
    wc = stats.binomtest(x_c, n_c).proportion_ci(0.95, method="wilson")
    d = p_t - p_c
    low = d - math.hypot(p_t - wt.low, wc.high - p_c)
    high = d + math.hypot(wt.high - p_t, p_c - wc.low)
    # the pooled two-proportion z-test is the uncorrected chi-square on the 2x2 table
    p = stats.chi2_contingency([[x_t, n_t - x_t], [x_c, n_c - x_c]], correction=False).pvalue
    assert (r.kind, r.n_target, r.n_control) == ("proportion", n_t, n_c)
    for got, want in [(r.target, p_t), (r.control, p_c), (r.difference, d), (r.ci_low, low),
                      (r.ci_high, high), (r.p_value, p), (r.relative, d / p_c),
                      (r.relative_low, low / p_c), (r.relative_high, high / p_c)]:
        assert got == pytest.approx(want, abs=TOL, rel=0)
    assert r.ci_low < r.difference < r.ci_high


def test_means_equal_scipy_welch():
    _, _, vt, vc = _rows()
    r = ls.compare_means(list(vt) + [None], list(vc))  # a missing value is excluded
    # Welch by hand from scipy's t distribution
    se2 = vt.var(ddof=1) / len(vt) + vc.var(ddof=1) / len(vc)
    df = se2 ** 2 / ((vt.var(ddof=1) / len(vt)) ** 2 / (len(vt) - 1) + (vc.var(ddof=1) / len(vc)) ** 2 / (len(vc) - 1))
    d = vt.mean() - vc.mean()
    half = stats.t.ppf(0.975, df) * math.sqrt(se2)
    p = 2 * stats.t.sf(abs(d) / math.sqrt(se2), df)
    assert (r.kind, r.n_target, r.n_control) == ("mean", len(vt), len(vc))
    for got, want in [(r.target, vt.mean()), (r.control, vc.mean()), (r.difference, d),
                      (r.ci_low, d - half), (r.ci_high, d + half), (r.p_value, p),
                      (r.relative, d / vc.mean())]:
        assert got == pytest.approx(want, abs=TOL, rel=0)


def test_srm_equals_normal_test_and_flags_a_bad_split():
    n_t, n_c = 9120, 880
    s = ls.sample_ratio(n_t, n_c, 0.9)
    z = (n_t - 10000 * 0.9) / math.sqrt(10000 * 0.9 * 0.1)
    assert s.chi2 == pytest.approx(z * z, abs=TOL, rel=0)
    assert s.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), abs=TOL, rel=0)
    assert s.failed and s.testable
    assert not ls.sample_ratio(9010, 990, 0.9).failed
    unknown = ls.sample_ratio(n_t, n_c, None)
    assert not unknown.testable and not unknown.failed and unknown.p_value is None


def test_degenerate_arms_give_missing_figures_not_errors():
    assert ls.compare_proportions([], [True]).difference is None
    assert ls.compare_proportions([False] * 5, [False] * 4).p_value == 1.0
    assert ls.compare_means([1.0], [2.0, 3.0]).ci_low is None
    assert ls.compare_means([None, None], [2.0, 3.0]).target is None
    assert ls.compare_means([1.0, 2.0], [0.0, 0.0]).relative is None  # control mean 0


def test_calibration_no_effect_intervals_cover_zero_about_95_percent():
    rng = np.random.default_rng(20261204)
    bought = rng.random(2000) < 0.3
    spent = rng.gamma(2.0, 30.0, 2000)
    covered = {"proportion": 0, "mean": 0}
    for _ in range(200):
        t = rng.random(2000) < 0.8  # a holdout 20% split of the same members: no effect
        p = ls.compare_proportions(list(bought[t]), list(bought[~t]))
        m = ls.compare_means(list(spent[t]), list(spent[~t]))
        covered["proportion"] += p.ci_low <= 0 <= p.ci_high
        covered["mean"] += m.ci_low <= 0 <= m.ci_high
    # 99.9% binomial band around 190 of 200
    lo, hi = stats.binom.ppf([0.0005, 0.9995], 200, 0.95)
    for kind, n in covered.items():
        assert lo <= n <= hi, (kind, n, lo, hi)


def test_readout_is_plain_numbers_and_warns_on_srm():
    import json
    bt, bc, vt, vc = _rows()
    out = ls.readout({"bought": ("proportion", list(bt), list(bc)), "spent": ("mean", list(vt), list(vc))},
                     len(bt), len(bc), 0.5)
    back = json.loads(json.dumps(out))
    assert back == out
    for m in back["metrics"].values():
        assert all(isinstance(m[k], (int, float)) for k in ("target", "control", "difference", "ci_low",
                                                            "ci_high", "p_value", "n_target", "n_control"))
    assert 0 <= back["metrics"]["bought"]["target"] <= 1  # a fraction, not a percentage
    assert back["srm"]["failed"] and "sample ratio mismatch" in back["warning"]  # 400/300 against 50%
    assert ls.readout({}, 400, 300, 400 / 700)["warning"] is None
    assert "not testable" in ls.readout({}, 400, 300, None)["warning"]
