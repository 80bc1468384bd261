"""Out-of-sample variance recalibration of the residual volatility (``sigma_scale``).

A calibrated forecast's probability integral transform ``PIT_j = F_j(y_j)`` is uniform, so its
probit ``u_j = Phi^-1(PIT_j)`` is standard normal whatever the shape of the forecast
distribution (fat tails, volatility mixing). The mean of ``u_j^2`` measures the forecast's
spread against the outcomes: below 1 the forecasts are too wide, above 1 too narrow. Being a
transform of ranks it is bounded (``|u| <= 3.7`` at 4,096 paths), so one crash does not
dominate it, unlike the mean squared error over the forecast variance.

The recalibration variance factor, shrunk to 1 by ``n0`` pseudo-observations with ``u^2 = 1``:

    c = (sum_j u_j^2 + n0) / (n + n0)

is turned into a scale of the asset's residual volatility (the model file's
``assets.<asset>.sigma_scale``, applied at the parameter level), so that the forecast variance
``V = S + R`` (systematic part ``S``, residual part ``R``,
:meth:`simengine.parts.residuals.StudentT.residual_variance`) becomes ``c V``:

    sigma_scale^2 = 1 + (c - 1) / rho,        rho = R / V

The ``u_j`` come from the unscaled model's own forecasts (``sigma_scale = 1``); in the backtest
only from forecasts whose whole horizon is realised by the origin (:func:`known_before`), so the
scale carries no look-ahead.

``n0 = 24`` (:data:`PSEUDO_OBS`): two years of monthly origins. With 6-month horizons on monthly
origins the errors overlap, so ``n`` monthly errors carry about ``n / 6`` independent ones; 24
pseudo-observations keep the first years' factor close to 1 (weight on the data 1/3 after
one year of known outcomes, 0.92 after the 25 years of the backtest).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

__all__ = [
    "K_MAX",
    "K_MIN",
    "PIT_CLIP",
    "PSEUDO_OBS",
    "known_before",
    "sigma_scale",
    "variance_factor",
]

PSEUDO_OBS = 24.0
PIT_CLIP = 1e-4  # PITs of 0 or 1 (outcome beyond every path) count as 1e-4 / 1 - 1e-4
K_MIN = 1e-4  # sigma_scale >= 0.01
K_MAX = 100.0  # sigma_scale <= 10 (the model file's bound)


def variance_factor(pit: np.ndarray, pseudo_obs: float = PSEUDO_OBS) -> float:
    """``c = (sum_j u_j^2 + n0) / (n + n0)``, ``u_j = Phi^-1(PIT_j)`` (1 without PITs).

    Parameters
    ----------
    pit : ndarray
        PITs of the unscaled model's forecasts, in [0, 1].
    pseudo_obs : float
        ``n0``, the shrinkage to ``c = 1``.
    """
    p = np.clip(np.asarray(pit, dtype=np.float64), PIT_CLIP, 1.0 - PIT_CLIP)
    u = ndtri(p)
    return float((np.sum(u * u) + pseudo_obs) / (u.size + pseudo_obs))


def sigma_scale(factor: float, resid_share: float | np.ndarray) -> float | np.ndarray:
    """``sqrt(1 + (c - 1) / rho)``, clipped to ``[sqrt(K_MIN), sqrt(K_MAX)]``.

    ``factor`` is ``c`` of :func:`variance_factor`; ``resid_share`` is ``rho = R / V``, the
    residual part of the forecast variance, in (0, 1].
    """
    rho = np.asarray(resid_share, dtype=np.float64)
    if np.any(~(rho > 0)) or np.any(rho > 1 + 1e-9):
        raise ValueError(f"residual share of the forecast variance must be in (0, 1], got {rho}")
    k = np.clip(1.0 + (factor - 1.0) / rho, K_MIN, K_MAX)
    return float(np.sqrt(k)) if np.ndim(k) == 0 else np.sqrt(k)


def known_before(positions: np.ndarray, i: int, horizon: int) -> np.ndarray:
    """Indices ``j`` of the origins whose ``horizon`` months are realised by origin ``i``.

    ``positions`` are the origins' month numbers; origin ``j`` is scored on months
    ``positions[j] + 1 .. positions[j] + horizon``, known at origin ``i`` when
    ``positions[j] + horizon <= positions[i]``.
    """
    pos = np.asarray(positions)
    return np.flatnonzero(pos + horizon <= pos[i])
