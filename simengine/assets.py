"""Factor paths to asset log returns: carry, loadings, Student-t residuals and squeeze jumps (pure)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from simengine.factors import PathParams
from simengine.scenario import ScenarioModel

__all__ = ["asset_returns", "exposures", "squeeze_counts", "squeeze_intensity"]

POISSON_TAIL = 1e-14  # truncation of the jump count distribution (mass left out per step)


def exposures(z: np.ndarray, dtau: np.ndarray) -> np.ndarray:
    """Stack the asset exposures ``x_t = (rates, dtau, growth, inflation, credit)``, shape (m, T, 5)."""
    m = z.shape[0]
    return np.concatenate(
        [z[..., :1], np.broadcast_to(dtau[..., None], (m, *dtau.shape[1:], 1)), z[..., 1:]], axis=-1
    )


def squeeze_intensity(pp: PathParams, short_interest_bn: float | None) -> np.ndarray:
    """Squeeze intensity per year, ``base (SI / normal) ** elasticity``; shape (D or m,).

    Without positioning in the scenario the short interest is taken as normal.
    """
    if short_interest_bn is None:
        return pp.base_intensity
    return pp.base_intensity * (short_interest_bn / pp.normal_si) ** pp.elasticity


def squeeze_counts(u: np.ndarray, lam_dt: np.ndarray) -> np.ndarray:
    """Poisson jump counts by inverse CDF from uniforms ``u`` (m, T); ``lam_dt`` broadcasts to (m, T).

    The CDF is tabulated up to the count whose upper tail is below :data:`POISSON_TAIL`, so the
    counts are exact Poisson draws except with probability ~1e-14 per step.
    """
    kmax = int(stats.poisson.isf(POISSON_TAIL, float(np.max(lam_dt)))) + 1
    k = np.arange(kmax)
    cdf = stats.poisson.cdf(k, np.asarray(lam_dt)[..., None])  # (.., kmax)
    # count the CDF values below u one k at a time: no (m, T, kmax) temporary
    counts = np.zeros(np.broadcast_shapes(u.shape, cdf.shape[:-1]), np.int64)
    for j in range(kmax):
        counts += u > cdf[..., j]
    return counts


def asset_returns(
    z: np.ndarray,
    dtau: np.ndarray,
    policy: np.ndarray,
    surprise: np.ndarray,
    eps: np.ndarray,
    jump_u: np.ndarray,
    jump_z: np.ndarray,
    pp: PathParams,
    scn: ScenarioModel,
) -> tuple[np.ndarray, np.ndarray]:
    """Asset log returns per step.

    Parameters
    ----------
    z : ndarray (m, T, K)
        Factor paths.
    dtau : ndarray (m or 1, T)
        Tariff change per step (pp).
    policy : ndarray (m or 1, T)
        Policy rate at step ends (%).
    surprise : ndarray (m or 1, T)
        Policy surprise in each step (pp).
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
    ``r_{a,t} = (mu_a - kappa_a (p_{t-1} - n)) dt_t + beta_a . x_t + b_a surprise_t
    + sigma_a sqrt(dt_t) (L e_t)_a + l_a J_t``: carry, factor loadings, the announcement effect of
    a policy surprise, residual and squeeze jump with ``J_t = N_t jump_mean + sqrt(N_t) jump_sd z_t`` (the sum of ``N_t`` normal
    jump sizes), ``N_t ~ Poisson(lambda dt_t)``.
    """
    dt = pp.dt  # (T,)
    p_prev = np.concatenate([np.full((policy.shape[0], 1), scn.policy0), policy[:, :-1]], axis=1)
    gap = p_prev - pp.neutral[:, None]  # (m|1, T)
    drift = (pp.mu[:, None, :] - pp.kappa[:, None, :] * gap[..., None]) * dt[None, :, None]
    x = exposures(z, dtau)
    if pp.beta.shape[0] == 1:
        loading = x @ pp.beta[0].T
        del x
        resid = eps @ pp.chol_a[0].T
    else:
        loading = np.einsum("mtf,maf->mta", x, pp.beta)
        del x
        resid = np.einsum("mtj,maj->mta", eps, pp.chol_a)
    resid *= pp.sigma[:, None, :] * np.sqrt(dt)[None, :, None]
    lam_dt = squeeze_intensity(pp, scn.short_interest_bn)[:, None] * dt[None, :]
    n_jumps = squeeze_counts(jump_u, lam_dt)
    jump = n_jumps * pp.jump_mean[:, None] + np.sqrt(n_jumps) * pp.jump_sd[:, None] * jump_z
    announcement = pp.surprise_beta[:, None, :] * surprise[..., None]
    # r = drift + loading + announcement + resid + l J, summed left to right in place
    r = loading
    r += drift
    r += announcement
    r += resid
    del resid
    r += pp.squeeze_loading[:, None, :] * jump[..., None]
    return r, n_jumps
