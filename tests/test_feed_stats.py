"""The feed audit's statistics checked by simulation: numpy multinomial draws of view
counts go through the same function a scan uses (evaluate/feed_stats.exposure_shift).

What must hold: a planted 2-percentage-point shift in one value's share is found at
100,000 views; unshifted feeds raise the declared test in at most 3 of 100 seeds at
alpha 0.01; and, with the effect-size guard switched off, the G-tests with the
Benjamini-Hochberg adjustment keep the rate of false alarms at alpha while the
unadjusted tests would not.
"""

from __future__ import annotations

import numpy as np
import pytest

from borderwatch.evaluate.feed_stats import exposure_shift

VIEWS = 100_000
# Organic shares of views by the items' source country.
SHARES = {"US": 0.40, "GB": 0.20, "CN": 0.15, "DE": 0.15, "IN": 0.10}
# A declared test as a policy would write it: a change of one point matters.
DECLARED = {"alpha": 0.01, "min_effect": 0.01, "max_distance": 0.1}


def boosted(shares: dict[str, float], value: str, points: float) -> dict[str, float]:
    """`value` gains `points` of share; every other value gives in proportion."""
    rest = 1 - shares[value]
    scale = (rest - points) / rest
    return {k: s + points if k == value else s * scale for k, s in shares.items()}


def draw(rng: np.random.Generator, shares: dict[str, float], views: int) -> dict[str, int]:
    counts = rng.multinomial(views, list(shares.values()))
    return dict(zip(shares, (int(c) for c in counts), strict=True))


@pytest.mark.parametrize("value", ["CN", "IN", "US"])
def test_a_planted_two_point_shift_is_found_at_100000_views(value: str) -> None:
    shifted = boosted(SHARES, value, 0.02)
    for seed in range(30):
        rng = np.random.default_rng(seed)
        result = exposure_shift(draw(rng, SHARES, VIEWS), draw(rng, shifted, VIEWS), **DECLARED)
        assert result.raised
        found = {v.value: v for v in result.shifted_values}
        assert value in found, (seed, result)
        planted = found[value]
        assert planted.effect == pytest.approx(0.02, abs=0.008)
        assert planted.p_adjusted < DECLARED["alpha"]
        assert planted.comparison_views + planted.baseline_views > 0
        # The others only lost share (the planted gain came from them).
        assert all(v.effect < 0 for k, v in found.items() if k != value)


def test_a_shift_smaller_than_the_declared_effect_is_not_reported() -> None:
    """2 points are certain at this size, but the declaration says 3 matter."""
    rng = np.random.default_rng(1)
    result = exposure_shift(
        draw(rng, SHARES, VIEWS),
        draw(rng, boosted(SHARES, "CN", 0.02), VIEWS),
        alpha=0.01,
        min_effect=0.03,
    )
    cn = next(v for v in result.values if v.value == "CN")
    assert cn.p_adjusted < 1e-6
    assert not result.raised


def test_unshifted_feeds_raise_the_declared_test_in_at_most_3_of_100_seeds() -> None:
    raised = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        result = exposure_shift(draw(rng, SHARES, VIEWS), draw(rng, SHARES, VIEWS), **DECLARED)
        raised += result.raised
    assert raised <= 3


def test_without_the_effect_guard_the_adjusted_tests_keep_alpha() -> None:
    """The G-tests and Benjamini-Hochberg alone: over 1,000 unshifted seeds the test is
    raised in about alpha of them (expected 10; at most 17 is within 2.3 standard
    deviations), while 'any value's raw p below alpha' happens about four times as
    often: the adjustment is what keeps the declared alpha."""
    seeds = 1_000
    raised = unadjusted = 0
    p_values: list[float] = []
    for seed in range(seeds):
        rng = np.random.default_rng(10_000 + seed)
        result = exposure_shift(
            draw(rng, SHARES, VIEWS), draw(rng, SHARES, VIEWS), alpha=0.01, min_effect=1e-12
        )
        raised += result.raised
        unadjusted += min(v.p_value for v in result.values) < 0.01
        p_values.extend(v.p_value for v in result.values)
    assert raised <= 17
    assert unadjusted >= 25
    # Under no shift the p-values are uniform: about 5% of them below 0.05.
    assert 0.035 <= np.mean(np.array(p_values) < 0.05) <= 0.065


def test_the_whole_distribution_moving_past_the_declared_distance_is_raised() -> None:
    """Every value moves a little (none by the declared point), the distance is past
    the declared maximum: the test is raised for the distribution."""
    before = {"a": 40_000, "b": 30_000, "c": 20_000, "d": 10_000}
    after = {"a": 36_000, "b": 32_000, "c": 21_000, "d": 11_000}
    result = exposure_shift(before, after, alpha=0.01, min_effect=0.05, max_distance=0.03)
    assert not result.shifted_values
    assert result.distance >= 0.03
    assert result.raised


def test_values_seen_in_one_window_only_and_missing_values() -> None:
    result = exposure_shift(
        {"a": 500, None: 500}, {"a": 400, None: 400, "new": 200}, alpha=0.01, min_effect=0.05
    )
    by_value = {v.value: v for v in result.values}
    assert by_value["new"].baseline_views == 0
    assert by_value["new"].shifted
    # Views whose record did not give the attribute are a value of their own, last.
    assert result.values[-1].value is None
    assert sum(v.comparison_share for v in result.values) == pytest.approx(1.0)


def test_one_value_holding_every_view_has_nothing_to_compare() -> None:
    result = exposure_shift({"a": 10}, {"a": 20}, alpha=0.01, min_effect=0.01)
    assert result.values[0].p_value == 1.0
    assert not result.raised


def test_an_empty_window_is_refused() -> None:
    with pytest.raises(ValueError, match="both windows"):
        exposure_shift({}, {"a": 1}, alpha=0.01, min_effect=0.01)
