"""The slow level of each asset's residual variance, given the volatility state.

The volatility state (the VIX and the asset's trailing realised variance) predicts the next
months' variance through curves fitted on the whole sample. The residual of an index against
the factor news also has a level of its own that moves over years: the Nasdaq-100's residual
variance given the state was far higher in 2000-02 than since 2010, so a constant ``sigma``
fitted on an expanding window kept the dot-com years in every later forecast. Its estimate is
an exponentially weighted mean of the state-normalised squared residuals,

.. math::

    q_t = \\frac{\\sum_{u \\le t} \\lambda^{t-u} r_u^2 / v_u}{\\sum_{u \\le t} \\lambda^{t-u}},
    \\qquad \\lambda = 2^{-1/H},

(``r`` the monthly residual, ``v`` the state's one-month variance ratio at the end of the
month before, :func:`simengine.data.fit_distribution.state_ratios`), which predicts the next
month's residual variance as ``q_{t-1} v_t``. The half-life ``H`` is chosen per asset on the
fit sample by the one-month predictive Gaussian log-likelihood

.. math::

    \\ell(H) = \\sum_{t > B} \\log \\phi\\left(r_t;\\, 0,\\, q_{t-1}(H)\\, v_t\\right),

over a grid that includes ``H = inf`` (a constant level: the model without this part), the
first ``B`` months only starting the mean. The model file keeps the long-run volatility given
the state, ``sigma = sqrt(12 mean(r^2 / v))`` (with the regression's degrees of freedom: the
quantity the Bayesian likelihood estimates), and the level at the end of the sample,
``level = q_T / mean(r^2 / v)``, which multiplies the residual variance over the whole horizon
(the EWMA's forecast is flat: with half-lives of a year or more it moves little in 6 months).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.signal import lfilter

__all__ = [
    "BURN_MONTHS",
    "HALF_LIFE_GRID",
    "MIN_SCORED_MONTHS",
    "ew_means",
    "predictive_loglik",
    "residual_levels",
]

HALF_LIFE_GRID: tuple[float, ...] = (6, 9, 12, 18, 24, 36, 48, 72, 96, 144, 192, 288, math.inf)
"""Half-lives (months) searched; ``inf`` is the constant level."""

BURN_MONTHS = 36
"""Months that only start the weighted mean (their own prediction would rest on too few)."""

MIN_SCORED_MONTHS = 24
"""Fewer scored months than this and the level is held constant (``H = inf``, level 1)."""


def ew_means(x: np.ndarray, half_life: float) -> np.ndarray:
    """Exponentially weighted means ``q_t`` of ``x_0..x_t`` for every ``t`` (module notes).

    ``half_life`` in steps; ``inf`` gives the expanding mean.
    """
    x = np.asarray(x, dtype=np.float64)
    lam = 1.0 if math.isinf(half_life) else 0.5 ** (1.0 / half_life)
    num = lfilter([1.0], [1.0, -lam], x)
    den = lfilter([1.0], [1.0, -lam], np.ones_like(x))
    return num / den


def predictive_loglik(
    r: np.ndarray, v: np.ndarray, half_life: float, burn: int = BURN_MONTHS
) -> float:
    """One-month predictive log-likelihood ``l(H)`` of residuals ``r`` given ratios ``v``.

    Month ``t`` (from ``burn`` on) is predicted as ``N(0, q_{t-1} v_t)`` with ``q`` the
    weighted mean of ``r^2 / v`` up to the month before (module notes).
    """
    r = np.asarray(r, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    if len(r) <= burn:
        raise ValueError(f"need more than {burn} months to score a half-life, got {len(r)}")
    q = ew_means(r**2 / v, half_life)
    s2 = q[burn - 1 : -1] * v[burn:]
    return float(-0.5 * np.sum(np.log(2.0 * np.pi * s2) + r[burn:] ** 2 / s2))


def residual_levels(
    resid: pd.DataFrame,
    ratios: pd.DataFrame,
    n_params: int,
    grid: Sequence[float] = HALF_LIFE_GRID,
    burn: int = BURN_MONTHS,
) -> dict[str, dict[str, Any]]:
    """Long-run volatility given the state, and the slow level at the end of the sample.

    Parameters
    ----------
    resid : DataFrame
        Monthly residuals of the asset equations, one column per asset.
    ratios : DataFrame
        The state's one-month variance ratio ``v`` for the same months and columns; months
        where it is unknown (NaN) are left out.
    n_params : int
        Coefficients of each asset equation (the degrees of freedom ``sigma`` takes off).
    grid : sequence of float
        Half-lives in months to choose from (include ``inf``).
    burn : int
        Months that only start the weighted mean.

    Returns
    -------
    dict
        Per asset: ``sigma`` (annual, long run), ``level`` (``q_T / mean(r^2/v)``),
        ``half_life_months`` (``inf``: constant), ``loglik`` (per half-life; empty when fewer
        than :data:`MIN_SCORED_MONTHS` months after the burn-in: the level is then constant),
        ``n``.
    """
    out: dict[str, dict[str, Any]] = {}
    for a in resid.columns:
        both = pd.concat([resid[a], ratios[a]], axis=1, keys=["r", "v"]).dropna()
        r, v = both["r"].to_numpy(dtype=np.float64), both["v"].to_numpy(dtype=np.float64)
        if len(r) - burn < MIN_SCORED_MONTHS:
            scores, best = {}, math.inf
        else:
            scores = {float(h): predictive_loglik(r, v, h, burn) for h in grid}
            best = max(scores, key=lambda h: scores[h])
        z2 = r**2 / v
        mean = float(np.mean(z2))
        out[a] = {
            "sigma": math.sqrt(12.0 * float(np.sum(z2)) / (len(z2) - n_params)),
            "level": float(ew_means(z2, best)[-1]) / mean,
            "half_life_months": best,
            "loglik": scores,
            "n": len(z2),
        }
    return out
