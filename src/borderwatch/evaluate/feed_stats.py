"""The statistics of a pre-registered exposure test, as pure functions of view counts.

Given the views per value of one attribute in the baseline window and in the comparison
window, `exposure_shift` asks, for each value, whether its share of views differs
between the windows, and whether the distribution as a whole moved:

- per value, a G-test (log-likelihood ratio, one degree of freedom) of the 2 x 2 table
  (this value, every other value) x (baseline, comparison), through
  `scipy.stats.power_divergence`;
- the p-values of all values adjusted together by Benjamini-Hochberg
  (`scipy.stats.false_discovery_control`), since a test looks at many values at once
  and one of them would cross alpha by chance far more often than alpha;
- the Jensen-Shannon distance (base 2: 0 for the same distribution, 1 for disjoint
  ones) between the two distributions (`scipy.spatial.distance.jensenshannon`).

A value is reported when its adjusted p-value is below alpha AND its change in share is
at least the declared minimal effect: with 100,000 views a change of 0.3 percentage
points is already "significant", and the declaration says which changes matter. The
distribution is reported when its distance reaches the declared maximum.

The same function serves the scan (counts from SQL on the engine) and the simulation in
the test suite (counts from numpy's multinomial draws).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import false_discovery_control, power_divergence

# A value of the tested attribute; None for views whose record did not give it.
Value = str | None


@dataclass(frozen=True)
class ValueShift:
    """One value's share of views in both windows and the test of its change."""

    value: Value
    baseline_views: int
    comparison_views: int
    baseline_share: float
    comparison_share: float
    # comparison share minus baseline share (0.02: two percentage points more).
    effect: float
    g_statistic: float
    p_value: float
    # Benjamini-Hochberg adjusted across the test's values.
    p_adjusted: float
    # adjusted p below alpha and |effect| at least the minimal effect.
    shifted: bool


@dataclass(frozen=True)
class ExposureResult:
    """The outcome of one exposure test over two windows' counts."""

    baseline_total: int
    comparison_total: int
    distance: float
    distance_exceeded: bool
    values: tuple[ValueShift, ...]

    @property
    def shifted_values(self) -> tuple[ValueShift, ...]:
        return tuple(v for v in self.values if v.shifted)

    @property
    def raised(self) -> bool:
        """Whether the test reports a shift (a value's, or the whole distribution's)."""
        return self.distance_exceeded or bool(self.shifted_values)


def exposure_shift(
    baseline: Mapping[Value, int],
    comparison: Mapping[Value, int],
    *,
    alpha: float,
    min_effect: float,
    max_distance: float = 1.0,
) -> ExposureResult:
    """Test each value's share of views, comparison window against baseline window.

    Both windows must hold views (a window without any is a coverage gap, decided by the
    caller before testing); a value missing from one window has 0 views there.
    """
    values = sorted(set(baseline) | set(comparison), key=_order)
    base = np.array([int(baseline.get(v, 0)) for v in values], dtype=np.int64)
    comp = np.array([int(comparison.get(v, 0)) for v in values], dtype=np.int64)
    base_total, comp_total = int(base.sum()), int(comp.sum())
    if base_total <= 0 or comp_total <= 0:
        raise ValueError("both windows need views to compare their shares")
    g, p = _g_tests(base, comp)
    adjusted = false_discovery_control(p, method="bh") if len(p) else p
    base_share, comp_share = base / base_total, comp / comp_total
    effect = comp_share - base_share
    distance = float(jensenshannon(base_share, comp_share, base=2))
    # Rounding can leave the distance of equal distributions a hair above 0, or NaN.
    distance = 0.0 if not np.isfinite(distance) else distance
    shifts = tuple(
        ValueShift(
            value=value,
            baseline_views=int(base[i]),
            comparison_views=int(comp[i]),
            baseline_share=float(base_share[i]),
            comparison_share=float(comp_share[i]),
            effect=float(effect[i]),
            g_statistic=float(g[i]),
            p_value=float(p[i]),
            p_adjusted=float(adjusted[i]),
            shifted=bool(adjusted[i] < alpha and abs(effect[i]) >= min_effect),
        )
        for i, value in enumerate(values)
    )
    return ExposureResult(
        baseline_total=base_total,
        comparison_total=comp_total,
        distance=distance,
        distance_exceeded=distance >= max_distance,
        values=shifts,
    )


def _g_tests(base: np.ndarray, comp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """G statistic and p-value of each value's 2 x 2 table, all values at once.

    The table of value i: [[base_i, base_total - base_i], [comp_i, comp_total - comp_i]];
    the expected counts come from its margins, and a 2 x 2 table has one degree of
    freedom (4 cells - 1 - 2 estimated margins: ddof=2). A value that holds every view
    in both windows has nothing to compare with: G = 0, p = 1.
    """
    if base.size == 0:
        return np.zeros(0), np.ones(0)
    base_total, comp_total = base.sum(), comp.sum()
    total = base_total + comp_total
    observed = np.stack([base, base_total - base, comp, comp_total - comp], axis=1).astype(float)
    value_total = base + comp
    other_total = total - value_total
    expected = np.stack(
        [
            value_total * base_total / total,
            other_total * base_total / total,
            value_total * comp_total / total,
            other_total * comp_total / total,
        ],
        axis=1,
    )
    testable = other_total > 0
    g = np.zeros(base.size)
    p = np.ones(base.size)
    if testable.any():
        result = power_divergence(
            observed[testable],
            expected[testable],
            ddof=2,
            axis=1,
            lambda_="log-likelihood",
        )
        g[testable] = result.statistic
        p[testable] = result.pvalue
    return g, p


def _order(value: Value) -> tuple[int, str]:
    # None (views whose record did not give the attribute) sorts last.
    return (1, "") if value is None else (0, str(value))
