"""Scenario weighting: prior scenario probabilities updated by observed data.

Generic numpy/scipy code (no PyMC): a scenario is summarised by the Gaussian predictive
density of the factor path it implies over an observed window.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.special import logsumexp

from simengine.exceptions import CalibrationError, NumericalError

__all__ = [
    "gaussian_path_loglik",
    "posterior_weights",
]


def posterior_weights(prior: Mapping[str, float], loglik: Mapping[str, float]) -> dict[str, float]:
    """Posterior scenario weights from prior weights and log-likelihoods.

    Parameters
    ----------
    prior : mapping scenario -> float
        Prior weights (>= 0; normalised here, so they need not sum to 1).
    loglik : mapping scenario -> float
        ``log p(observed | scenario)``, same keys; ``-inf`` allowed (impossible scenario).

    Returns
    -------
    dict scenario -> float
        Weights summing to 1, in the order of ``prior``.

    Raises
    ------
    CalibrationError
        Different keys, negative or all-zero prior, NaN log-likelihood, or every scenario with
        positive prior has zero likelihood.

    Notes
    -----
    Bayes' rule in log space (stable for log-likelihoods of any size)::

        log w_i = log prior_i + loglik_i - logsumexp_j(log prior_j + loglik_j)
    """
    if set(prior) != set(loglik):
        raise CalibrationError(
            f"prior and loglik name different scenarios: only in prior {sorted(set(prior) - set(loglik))}, "
            f"only in loglik {sorted(set(loglik) - set(prior))}"
        )
    names = list(prior)
    p = np.array([float(prior[k]) for k in names])
    ll = np.array([float(loglik[k]) for k in names])
    if np.any(~np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0:
        raise CalibrationError(
            f"prior weights must be finite, >= 0 and not all 0; got {dict(zip(names, p, strict=True))}"
        )
    if np.any(np.isnan(ll)) or np.any(ll == np.inf):
        raise CalibrationError(
            f"log-likelihoods must not be NaN or +inf; got {dict(zip(names, ll, strict=True))}"
        )
    with np.errstate(divide="ignore"):
        log_joint = np.log(p) + ll
    total = logsumexp(log_joint)
    if not np.isfinite(total):
        raise CalibrationError(
            "every scenario with positive prior weight has zero likelihood for the observed data"
        )
    return dict(zip(names, np.exp(log_joint - total).tolist(), strict=True))


def gaussian_path_loglik(observed: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> float:
    """Log density of an observed factor path under a scenario's Gaussian predictive.

    Parameters
    ----------
    observed : array (T, K)
        Observed factor values over the window; NaN entries are unobserved and marginalised out.
    mean : array (T, K)
        The scenario's mean path.
    cov : array (T*K, T*K) or (T, K, K)
        Joint covariance of the flattened path (row-major: index ``t*K + k``), or one
        covariance per step (steps independent).

    Returns
    -------
    float

    Raises
    ------
    CalibrationError
        Shapes do not match.
    NumericalError
        The covariance (of the observed entries) is not positive definite.

    Notes
    -----
    With ``d = vec(observed) - vec(mean)`` restricted to observed entries and ``S`` the
    matching block of the covariance::

        log p = -1/2 (d' S^-1 d + log det S + n log 2 pi)
    """
    obs = np.asarray(observed, dtype=float)
    mu = np.asarray(mean, dtype=float)
    cov = np.asarray(cov, dtype=float)
    if obs.ndim == 1:
        obs, mu = obs[:, None], mu[:, None]
        cov = cov[:, None, None] if cov.ndim == 1 else cov
    if obs.shape != mu.shape or obs.ndim != 2:
        raise CalibrationError(f"observed {obs.shape} and mean {mu.shape} must both be (T, K)")
    t, k = obs.shape
    if cov.shape == (t, k, k):
        return float(sum(_mvn_logpdf(obs[i], mu[i], cov[i]) for i in range(t)))
    if cov.shape == (t * k, t * k):
        return _mvn_logpdf(obs.ravel(), mu.ravel(), cov)
    raise CalibrationError(f"cov must be ({t * k}, {t * k}) or ({t}, {k}, {k}); got {cov.shape}")


def _mvn_logpdf(x: np.ndarray, mu: np.ndarray, cov: np.ndarray) -> float:
    seen = ~np.isnan(x)
    if not seen.any():
        return 0.0
    d = (x - mu)[seen]
    s = cov[np.ix_(seen, seen)]
    try:
        factor = cho_factor(s, lower=True)
    except LinAlgError as err:
        raise NumericalError(
            f"scenario covariance is not positive definite (size {len(d)}): {err}"
        ) from err
    logdet = 2.0 * np.sum(np.log(np.diag(factor[0])))
    quad = float(d @ cho_solve(factor, d))
    return float(-0.5 * (quad + logdet + len(d) * np.log(2.0 * np.pi)))
