"""Rates, Wilson intervals and the disparity ratio: scipy as the oracle for Wilson, fairlearn's
definition of the between-groups ratio by hand, and the ratio interval's coverage by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest

from curation.bias.stats import disparity, ratio_interval, wilson_interval


@given(
    st.integers(min_value=1, max_value=400).flatmap(
        lambda n: st.tuples(st.integers(0, n), st.just(n))
    )
)
def test_wilson_matches_scipy(kn: tuple[int, int]) -> None:
    k, n = kn
    for confidence in (0.95, 0.975):
        expected = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
        low, high = wilson_interval(k, n, confidence)
        assert low == pytest.approx(expected.low, abs=1e-12)
        assert high == pytest.approx(expected.high, abs=1e-12)


def test_wilson_edges() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(0, 3)
    assert low == 0.0 and high == pytest.approx(0.5615, abs=1e-4)  # 0 of 3 is not certainty
    with pytest.raises(ValueError):
        wilson_interval(4, 3)


def test_disparity_is_the_lowest_rate_over_the_highest() -> None:
    # fairlearn: MetricFrame(selection_rate).ratio(method="between_groups") = min / max
    result = disparity({"a": (10, 50), "b": (30, 60), "c": (5, 10), "tiny": (0, 2)}, min_n=5)
    assert result is not None
    assert (result.low.group, result.high.group) == ("a", "b")  # 0.2 and 0.5 (c: 0.5, fewer)
    assert result.ratio == pytest.approx(0.2 / 0.5)
    assert [r.group for r in result.compared] == ["a", "b", "c"]  # "tiny" is under min_n
    assert result.ratio_low < result.ratio < result.ratio_high


def test_disparity_needs_two_groups_and_an_outcome() -> None:
    assert disparity({"a": (3, 10)}) is None
    assert disparity({"a": (0, 10), "b": (0, 12)}) is None
    assert disparity({"a": (3, 10), "b": (4, 4)}, min_n=5) is None


def test_support_needs_the_interval_below_parity_and_enough_events() -> None:
    strong = disparity({"w": (20, 40), "m": (4, 40)})
    assert strong is not None and strong.supported(0.8, min_events=5)
    weak = disparity({"w": (2, 3), "m": (0, 3)})
    assert weak is not None and weak.ratio == 0.0
    assert not weak.supported(0.8, min_events=1)  # the interval reaches past 1
    few = disparity({"w": (4, 400), "m": (0, 400)})
    assert few is not None and not few.supported(0.8, min_events=5)


def test_ratio_interval_covers_the_true_ratio_at_least_95_percent() -> None:
    rng = np.random.default_rng(7)
    for p_low, p_high, n in ((0.1, 0.5, 40), (0.3, 0.4, 200), (0.05, 0.2, 80)):
        truth = p_low / p_high
        k_low = rng.binomial(n, p_low, size=2000)
        k_high = rng.binomial(n, p_high, size=2000)
        hits = 0
        for a, b in zip(k_low, k_high, strict=True):
            low, high = ratio_interval(int(a), n, int(b), n)
            hits += low <= truth <= high
        assert hits / 2000 >= 0.95, (p_low, p_high, n, hits)


def test_ratio_interval_without_events_in_the_high_group() -> None:
    low, high = ratio_interval(0, 10, 0, 10)
    assert low == 0.0 and math.isinf(high)
