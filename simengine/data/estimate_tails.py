"""Student-t tails of the shocks *given* the volatility state (``residuals: vol_state``).

The model draws a monthly shock as ``sqrt(v_t L) t_nu``: ``v_t`` the volatility state's variance
ratio for the month, ``L`` the per-path log-normal level (``mixing_sd``) and ``t_nu`` a
unit-variance Student-t. A dof fitted on the raw residuals (constant variance) counts the
volatility clustering that ``v_t`` and ``L`` already draw a second time: on 1997-2025 it is about
5 for the asset residuals, against 30 or more once the shocks are divided by ``sqrt(v_t)`` and
``L`` is integrated out. Counted twice, the tails reach 20-50 standard deviations at 1e8 paths
(a path beyond +10,000% over six months).

:func:`conditional_dof` is the profile-likelihood dof of the standardised shocks
``z_t = e_t / sqrt(v_t)`` under the model's own mixture::

    f(z) = int t_nu(z; 0, C L (nu - 2) / nu) dLogN(L; -s^2 / 2, s),   C = cov(z)

with the level integrated by Gauss-Hermite quadrature. :func:`one_month_ratios` gives ``v_t``
for each fitted month from the volatility curves (the state at the end of the month before).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from simengine.parts.vol_state import variance_ratio

__all__ = ["DOF_BOUNDS", "GAUSSIAN_ABOVE", "conditional_dof", "one_month_ratios"]

DOF_BOUNDS = (2.2, 200.0)
"""Search range of the dof; the Gaussian (``nu = inf``) is compared with the best inside it."""
GAUSSIAN_ABOVE = 200.0
"""A best dof at the upper bound, or a Gaussian that fits as well, is returned as ``None``."""
NODES = 40  # Gauss-Hermite nodes for the log-normal level


def one_month_ratios(
    curve: Mapping[str, Any], lvix_prev: pd.Series, lrvs_prev: pd.Series | None = None
) -> np.ndarray:
    """The volatility state's variance ratio for each month, one month ahead of its state.

    ``v_t = exp(a_1 + c_1 log VIX_{t-1} + d_1 log RVS_{t-1}) s_1 / mean_rv`` (the curve's first
    month; ``d_1 = 0`` for the market curve, which has no realised part): the simulation's own
    :func:`simengine.parts.vol_state.variance_ratio` at each month's state.
    """
    first = {k: np.asarray(curve[k][:1], dtype=float) for k in ("intercept", "vix", "smearing")}
    realised = curve.get("realised") is not None and lrvs_prev is not None
    v = variance_ratio(
        first["intercept"],
        first["vix"],
        first["smearing"],
        np.asarray(float(curve["mean_rv"])),
        np.exp(lvix_prev.to_numpy(dtype=float))[:, None],
        1,
        np.asarray(curve["realised"][:1], dtype=float) if realised else None,
        np.exp(lrvs_prev.to_numpy(dtype=float)) if realised else None,
    )
    return v[:, 0]


def _mixture_loglik(z: np.ndarray, cov: np.ndarray, nu: float, mixing_sd: float) -> float:
    """Log-likelihood of the rows of ``z`` under the t (or Gaussian) scale mixture."""
    x, w = np.polynomial.hermite_e.hermegauss(NODES)
    level = np.exp(mixing_sd * x - mixing_sd**2 / 2.0)
    k = z.shape[1]
    logs = []
    for lev in level:
        if np.isinf(nu):
            logs.append(stats.multivariate_normal.logpdf(z, np.zeros(k), cov * lev))
        else:
            shape = cov * lev * (nu - 2.0) / nu
            logs.append(stats.multivariate_t.logpdf(z, np.zeros(k), shape, df=nu))
    stacked = np.reshape(np.array(logs), (NODES, -1))
    return float(np.sum(special.logsumexp(stacked, axis=0, b=(w / w.sum())[:, None])))


def conditional_dof(z: np.ndarray, mixing_sd: float, *, pooled: bool = False) -> dict[str, Any]:
    """Profile-likelihood Student-t dof of standardised shocks under the log-normal mixing.

    Parameters
    ----------
    z : ndarray
        Shocks divided by ``sqrt(v_t)``, shape (T,) or (T, N).
    mixing_sd : float
        ``s`` of the per-path level ``L = exp(s n - s^2 / 2)`` (0: no mixing).
    pooled : bool
        Pool the columns as one univariate sample, each divided by its sd (as the factor
        innovations' dof is fitted); otherwise a multivariate t with ``C = cov(z)``.

    Returns
    -------
    dict
        ``dof`` (None: Gaussian), ``mle`` (the best finite dof), ``loglik`` and
        ``loglik_gaussian``, ``n`` (rows).

    Notes
    -----
    ``z_t ~ int t_nu(0, C L (nu - 2)/nu) dF(L)``, ``log L ~ N(-s^2/2, s^2)``; ``E[L] = 1`` so that
    ``C`` is the covariance. ``nu`` maximises the likelihood on :data:`DOF_BOUNDS` (bounded
    scalar search on ``log nu``); if the Gaussian fits at least as well, or the best ``nu`` is
    at the bound, the shocks are Gaussian given the state.
    """
    z = np.asarray(z, dtype=float)
    z = z[:, None] if z.ndim == 1 else z
    z = z[np.all(np.isfinite(z), axis=1)]
    if pooled:
        z = (z / z.std(axis=0, ddof=1)).reshape(-1, 1)
    cov = np.atleast_2d(np.cov(z.T))
    lo, hi = np.log(DOF_BOUNDS[0]), np.log(DOF_BOUNDS[1])
    found = optimize.minimize_scalar(
        lambda t: -_mixture_loglik(z, cov, float(np.exp(t)), mixing_sd),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-3},
    )
    mle, best = float(np.exp(found.x)), -float(found.fun)
    gaussian = _mixture_loglik(z, cov, np.inf, mixing_sd)
    is_gaussian = gaussian >= best or mle >= GAUSSIAN_ABOVE * 0.99
    return {
        "dof": None if is_gaussian else mle,
        "mle": mle,
        "loglik": best,
        "loglik_gaussian": gaussian,
        "n": int(z.shape[0]),
    }
