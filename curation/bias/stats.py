"""Rates with Wilson intervals and the disparity ratio between groups, as fairlearn defines it.

The ratio is fairlearn's ``MetricFrame(...).ratio()`` of a selection rate (the lowest group's rate
over the highest one's); its interval comes from the two Wilson intervals, so it needs no sampling.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist

__all__ = [
    "Disparity",
    "GroupRate",
    "disparity",
    "ratio_interval",
    "wilson_interval",
    "z_value",
]


def z_value(confidence: float) -> float:
    """The two-sided standard normal quantile for `confidence` (1.96 for 0.95)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), not {confidence!r}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of the rate ``k / n``.

    Unlike the normal approximation it stays inside [0, 1] and is not empty at ``k = 0`` or
    ``k = n``, so "0 of 3" gets a wide interval ([0, 0.56] at 95 %), not a certainty.

    Parameters
    ----------
    k, n:
        Successes and trials, ``0 <= k <= n``; ``n = 0`` gives ``(0, 1)``.
    confidence:
        Two-sided confidence level.
    """
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, not k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    z = z_value(confidence)
    p = k / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # at k = 0 (or n) the bound is exactly 0 (or 1); rounding must not push it past
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


def ratio_interval(
    k_low: int, n_low: int, k_high: int, n_high: int, confidence: float = 0.95
) -> tuple[float, float]:
    """An interval for ``(k_low / n_low) / (k_high / n_high)``, the ratio of two rates.

    Each rate gets a Wilson interval at ``1 - (1 - confidence) / 2`` (97.5 % for 95 %); the
    ratio's interval is ``[low_low / high_high, high_low / low_high]``. By Bonferroni's
    inequality both rates are inside their intervals at once at least `confidence` of the time,
    and then the ratio is inside this one: it is conservative (wider than a likelihood
    interval), which is the point here: a disparity is only called when the counts show it.

    Returns
    -------
    tuple[float, float]
        ``(low, high)``; high is ``inf`` when the second rate's interval reaches 0.
    """
    each = 1 - (1 - confidence) / 2
    lo_l, lo_h = wilson_interval(k_low, n_low, each)
    hi_l, hi_h = wilson_interval(k_high, n_high, each)
    low = lo_l / hi_h if hi_h > 0 else 0.0
    high = lo_h / hi_l if hi_l > 0 else math.inf
    return low, high


@dataclass(frozen=True, slots=True)
class GroupRate:
    """One group's rate: ``k`` of its ``n`` examples have the outcome, with a Wilson interval."""

    group: str
    k: int
    n: int
    low: float
    high: float

    @property
    def rate(self) -> float:
        return self.k / self.n if self.n else 0.0


@dataclass(frozen=True, slots=True)
class Disparity:
    """The lowest- and highest-rate groups and the ratio between them.

    Attributes
    ----------
    low, high:
        The group with the lowest rate and the one with the highest (among those compared).
    ratio:
        ``low.rate / high.rate`` (fairlearn's between-groups ratio), 1.0 when both are 0.
    ratio_low, ratio_high:
        Its confidence interval (`ratio_interval`).
    compared:
        Every group compared (each with at least the minimum number of examples), by rate.
    """

    low: GroupRate
    high: GroupRate
    ratio: float
    ratio_low: float
    ratio_high: float
    compared: tuple[GroupRate, ...]

    def supported(self, threshold: float, *, min_events: int) -> bool:
        """Whether the counts show a ratio below `threshold`: the point estimate is below it,
        the interval excludes parity (its upper end is below 1), and the higher-rate group has
        at least `min_events` examples with the outcome."""
        return self.ratio < threshold and self.ratio_high < 1.0 and self.high.k >= min_events


def disparity(
    counts: Mapping[str, tuple[int, int]],
    *,
    min_n: int = 1,
    confidence: float = 0.95,
) -> Disparity | None:
    """The between-groups ratio of a rate, from ``group -> (k, n)``.

    Groups with fewer than `min_n` examples are left out; None when fewer than two groups are
    left or no group has the outcome.
    """
    rates = [
        GroupRate(g, k, n, *wilson_interval(k, n, confidence))
        for g, (k, n) in counts.items()
        if n >= max(1, min_n)
    ]
    if len(rates) < 2:
        return None
    # ties go to the group with more examples: its rate is the better known
    rates.sort(key=lambda r: (r.rate, -r.n, r.group))
    low = rates[0]
    high = max(rates, key=lambda r: (r.rate, r.n))
    if high.k == 0:
        return None
    ratio = low.rate / high.rate
    ratio_low, ratio_high = ratio_interval(low.k, low.n, high.k, high.n, confidence)
    return Disparity(low, high, ratio, ratio_low, ratio_high, tuple(rates))
