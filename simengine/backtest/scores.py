"""Scores of probabilistic forecasts: PIT, central-interval coverage, CRPS (``scoringrules``).

Forecasts come as samples (the model) or as normal distributions (the random-walk benchmarks);
both are scored against the realised value the same way. CRPS comes from ``scoringrules``
(Zanetta & Allen 2024): ``crps_ensemble`` (quantile-decomposition estimator) for samples (the CRPS of
the empirical distribution of the draws) and the closed form ``crps_normal``.
"""

from __future__ import annotations

import numpy as np
import scoringrules as sr
from scipy import stats

__all__ = [
    "LEVELS",
    "coverage_normal",
    "coverage_samples",
    "crps_normal",
    "crps_samples",
    "pit_chi2",
    "pit_normal",
    "pit_samples",
]

LEVELS: tuple[float, ...] = (0.5, 0.8, 0.9)
"""Central-interval probabilities whose coverage is reported."""


def crps_samples(samples: np.ndarray, y: float) -> float:
    """CRPS of an empirical forecast distribution: ``E|X - y| - 0.5 E|X - X'|``.

    Parameters
    ----------
    samples : ndarray (n,)
        Draws from the forecast distribution.
    y : float
        Realised value.

    Notes
    -----
    ``scoringrules.crps_ensemble`` with ``estimator="qd"`` (quantile decomposition, O(n log n)),
    which is exact for the empirical distribution: the expectations are over the
    empirical distribution of the draws (all ordered pairs for ``E|X - X'|``).
    """
    x = np.asarray(samples, dtype=np.float64)
    return float(sr.crps_ensemble(float(y), x, estimator="qd", backend="numpy"))


def crps_normal(mean: float, sd: float, y: float) -> float:
    """Closed-form CRPS of ``N(mean, sd**2)``: ``sd [z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi)]``."""
    return float(sr.crps_normal(float(y), float(mean), float(sd), backend="numpy"))


def pit_samples(samples: np.ndarray, y: float) -> float:
    """Probability integral transform ``P(X <= y)`` from samples (ties split in half)."""
    x = np.asarray(samples)
    return float((np.sum(x < y) + 0.5 * np.sum(x == y)) / x.size)


def pit_normal(mean: float, sd: float, y: float) -> float:
    """``Phi((y - mean) / sd)``."""
    return float(stats.norm.cdf((y - mean) / sd))


def coverage_samples(
    samples: np.ndarray, y: float, levels: tuple[float, ...] = LEVELS
) -> list[bool]:
    """Whether ``y`` lies in each central interval of the sample (empirical quantiles)."""
    out = []
    for c in levels:
        lo, hi = np.quantile(samples, [(1.0 - c) / 2.0, (1.0 + c) / 2.0])
        out.append(bool(lo <= y <= hi))
    return out


def coverage_normal(
    mean: float, sd: float, y: float, levels: tuple[float, ...] = LEVELS
) -> list[bool]:
    """Whether ``y`` lies in each central interval of ``N(mean, sd**2)``."""
    z = abs(y - mean) / sd
    return [bool(z <= stats.norm.ppf((1.0 + c) / 2.0)) for c in levels]


def pit_chi2(pit: np.ndarray, bins: int = 10) -> tuple[np.ndarray, float]:
    """PIT histogram counts and the chi-square p-value of uniformity.

    The p-value assumes independent PITs; with overlapping horizons (``h > 1`` monthly
    forecasts made every month) consecutive PITs are correlated, so it is optimistic about
    rejection: read it as a descriptive number, not a test at its nominal size.
    """
    counts, _ = np.histogram(np.asarray(pit), bins=bins, range=(0.0, 1.0))
    if counts.sum() == 0:
        return counts, float("nan")
    return counts, float(stats.chisquare(counts).pvalue)
