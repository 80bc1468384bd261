"""Factor paths to asset log returns: carry, loadings, Student-t residuals and squeeze jumps (pure)."""

from __future__ import annotations

import numpy as np

from simengine.factors import PathParams
from simengine.scenario import EventPaths, ScenarioModel
from simengine.spec.model_file import ASSET_EXPOSURES, STOCHASTIC_FACTORS

__all__ = [
    "asset_returns",
    "factor_loadings",
    "month_weighted",
    "poisson_kmax",
    "squeeze_counts",
    "squeeze_intensity",
]

POISSON_TAIL = 1e-14  # truncation of the jump count distribution (mass left out per step)


FACTOR_EXPOSURES = [ASSET_EXPOSURES.index(f) for f in STOCHASTIC_FACTORS]  # beta columns of z
TARIFF_EXPOSURE = ASSET_EXPOSURES.index("tariff")


def factor_loadings(z: np.ndarray, weights: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Factor contribution to each step's log return, shape (m, T, N).

    ``sum_m W[t, m] beta_z . z_m``: month ``m``'s factor flow, in the share of the month that
    step ``t`` covers. ``z`` (m, M, K), ``weights`` (T, M), ``beta`` (D|m, N, 5).
    """
    bz = beta[..., FACTOR_EXPOSURES]  # (D|m, N, K)
    per_month = (
        z @ np.swapaxes(bz[0], -1, -2) if bz.shape[0] == 1 else np.einsum("pmk,pnk->pmn", z, bz)
    )
    return month_weighted(weights, per_month)


def month_weighted(weights: np.ndarray, per_month: np.ndarray) -> np.ndarray:
    """``sum_m W[t, m] x[:, m]`` over the non-zero weights only: (T, M), (p, M, N) -> (p, T, N).

    A step covers at most a few calendar months, so ``W`` is sparse: the dense contraction
    is O(T M) per path, this is O(T k) for ``k`` months per step at most. The same value as
    the dense sum (``einsum("tm,pmn->ptn")``): the skipped terms are exact zeros, and the
    kept ones are added to zero in increasing month order.

    Notes
    -----
    ``k``-th non-zero month of each step: ``idx[t, k]`` with weight ``w[t, k]`` (0 where a step
    has fewer), and ``out = 0 + w[:, 0] x[:, idx[:, 0]] + w[:, 1] x[:, idx[:, 1]] + ...``.
    """
    T = weights.shape[0]
    nonzero = weights != 0.0
    k = int(nonzero.sum(axis=1).max(initial=0))
    out = np.zeros((per_month.shape[0], T, per_month.shape[2]))
    if k == 0:
        return out
    # stable sort puts each step's non-zero months first, in increasing month order
    order = np.argsort(~nonzero, axis=1, kind="stable")[:, :k]  # (T, k)
    w = np.take_along_axis(weights, order, axis=1)
    for j in range(k):
        out += w[None, :, j, None] * per_month[:, order[:, j], :]
    return out


def squeeze_intensity(pp: PathParams, short_interest_bn: float | None) -> np.ndarray:
    """Squeeze intensity per year, ``base (SI / normal) ** elasticity``; shape (D or m,).

    Without positioning in the scenario the short interest is taken as normal.
    """
    if short_interest_bn is None:
        return pp.base_intensity
    return pp.base_intensity * (short_interest_bn / pp.normal_si) ** pp.elasticity


def poisson_kmax(lam: float, tail: float = POISSON_TAIL) -> int:
    """Number of CDF terms ``0 .. kmax - 1`` such that ``P(N >= kmax) <= tail`` for ``N ~ Poisson(lam)``.

    Notes
    -----
    Walks ``p_k = p_{k-1} lam / k`` from ``p_0 = exp(-lam)``; once ``k + 1 > lam`` the tail is
    bounded by a geometric series, ``P(N > k) <= p_{k+1} / (1 - lam / (k + 2))``.
    """
    if not 0.0 <= lam <= 700.0:  # exp(-lam) underflows beyond ~745
        raise ValueError(f"squeeze jump rate per step must be in [0, 700], got {lam!r}")
    pmf, k = float(np.exp(-lam)), 0
    while True:
        nxt = pmf * lam / (k + 1)
        if k + 2 > lam and nxt / (1.0 - lam / (k + 2)) <= tail:
            return k + 1
        pmf, k = nxt, k + 1


def squeeze_counts(u: np.ndarray, lam_dt: np.ndarray) -> np.ndarray:
    """Poisson jump counts by inverse CDF from uniforms ``u`` (m, T); ``lam_dt`` broadcasts to (m, T).

    The CDF is summed up to the count whose upper tail is below :data:`POISSON_TAIL`, so the
    counts are exact Poisson draws except with probability ~1e-14 per step.

    Notes
    -----
    ``N = #{k : u > F(k)}`` with ``F(k) = sum_{j<=k} p_j``, ``p_0 = exp(-lambda dt)`` and
    ``p_j = p_{j-1} lambda dt / j``: a numpy recurrence over ``k`` on the ``lam_dt`` array, so
    no (m, T, kmax) temporary and no scipy.
    """
    lam = np.asarray(lam_dt, dtype=np.float64)
    kmax = poisson_kmax(float(np.max(lam)))
    pmf = np.exp(-lam)
    cdf = pmf.copy()
    counts = np.zeros(np.broadcast_shapes(u.shape, lam.shape), np.int64)
    for j in range(kmax):
        if j:
            pmf *= lam
            pmf /= j
            cdf += pmf
        counts += u > cdf
    return counts


def asset_returns(
    z: np.ndarray,
    weights: np.ndarray,
    policy: EventPaths,
    tariff: EventPaths,
    eps: np.ndarray,
    jump_u: np.ndarray,
    jump_z: np.ndarray,
    pp: PathParams,
    scn: ScenarioModel,
) -> tuple[np.ndarray, np.ndarray]:
    """Asset log returns per step.

    Parameters
    ----------
    z : ndarray (m, M, K)
        Monthly factor paths.
    weights : ndarray (T, M)
        Share of each month in each step (:attr:`TimeGrid.month_weights`).
    policy : EventPaths
        Policy rate and surprises on the steps (%, pp).
    tariff : EventPaths
        Tariff level on the steps (%).
    eps : ndarray (m, T, N)
        Unit-variance residual shocks (normal or Student-t with a shared mixing variable).
    jump_u, jump_z : ndarray (m, T)
        Uniforms for the jump counts and normals for the jump sizes.
    pp : PathParams
    scn : ScenarioModel

    Returns
    -------
    r : ndarray (m, T, N)
        Log returns.
    n_jumps : ndarray (m, T)
        Squeeze jumps per step.

    Notes
    -----
    ``r_{a,t} = (mu_a - kappa_a (p_{t-1} - n)) dt_t + sum_m W_{tm} beta_{a,z} . z_m
    + beta_{a,tariff} dtau_t + b_a surprise_t + sigma_a sqrt(dt_t) (L e_t)_a + l_a J_t``: carry,
    factor loadings, the tariff and announcement effects on the day, residual and squeeze jump,
    with ``J_t = N_t jump_mean + sqrt(N_t) jump_sd z_t`` (the sum of ``N_t`` normal jump sizes),
    ``N_t ~ Poisson(lambda dt_t)``. On a monthly grid ``W`` is the identity (apart from the
    part-month of the start date), so this is the monthly model exactly.
    """
    dt = pp.dt  # (T,)
    gap = policy.before_step - pp.neutral[:, None]  # (m|1, T)
    drift = (pp.mu[:, None, :] - pp.kappa[:, None, :] * gap[..., None]) * dt[None, :, None]
    r = factor_loadings(z, weights, pp.beta)
    if pp.chol_a.shape[0] == 1:
        resid = eps @ pp.chol_a[0].T
    else:
        resid = np.einsum("mtj,maj->mta", eps, pp.chol_a)
    resid *= pp.sigma[:, None, :] * np.sqrt(dt)[None, :, None]
    lam_dt = squeeze_intensity(pp, scn.short_interest_bn)[:, None] * dt[None, :]
    n_jumps = squeeze_counts(jump_u, lam_dt)
    jump = n_jumps * pp.jump_mean[:, None] + np.sqrt(n_jumps) * pp.jump_sd[:, None] * jump_z
    # r = loadings + drift + events + resid + l J, summed left to right in place
    r += drift
    r += pp.beta[:, None, :, TARIFF_EXPOSURE] * tariff.change_step[..., None]
    r += pp.surprise_beta[:, None, :] * policy.surprise_step[..., None]
    r += resid
    del resid
    r += pp.squeeze_loading[:, None, :] * jump[..., None]
    return r, n_jumps
