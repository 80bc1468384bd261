"""The PyMC model of the Bayesian calibration: asset loadings and factor dynamics.

Two blocks share no parameter (their posteriors factorise given the data) but are sampled
together so one posterior draw is one coherent parameter set for the simulation core.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from simengine.bayes.prepare import ECM_FACTOR, ModelData
from simengine.bayes.priors import EXPOSURES, VAR_FACTORS, PriorSet

__all__ = ["DT", "OBSERVED", "build_model", "observed_data"]

DT = 1.0 / 12.0
NODES = 20
"""Gauss-Hermite nodes that integrate the log-normal level out of the likelihood given the state."""
OBSERVED = ("y", "zs")
"""Observed arrays (returns, standardised factors) that ``observed_as_data`` makes swappable."""


def build_model(data: ModelData, priors: PriorSet, *, observed_as_data: bool = False) -> pm.Model:
    """Build the joint PyMC model of asset returns and factor dynamics.

    Parameters
    ----------
    data : ModelData
        Aligned arrays from :func:`simengine.bayes.prepare.prepare_data`.
    priors : PriorSet
        Validated priors (:func:`simengine.bayes.priors.load_priors`).
    observed_as_data : bool
        Hold the observed returns and factors in ``pm.Data`` containers named
        ``observed_y`` / ``observed_zs`` (see :func:`observed_data`), so that one compiled model
        can be refitted to new observations (``pm.set_data`` or nutpie's ``with_data``), as
        simulation-based calibration does. Regressors and standardisation stay fixed.

    Returns
    -------
    pymc.Model
        With deterministics in the contract's units: ``mu, kappa, sigma (asset)``,
        ``beta (asset, exposure)``, ``chol_a (asset, asset_)``, ``nu_a``, ``c, g, rho
        (factor)``, ``A (factor, lag)``, ``chol (factor, factor_)`` and ``nu_f`` (Student-t
        innovations).

    Notes
    -----
    Asset returns (monthly log returns, dt = 1/12) load on factor *news*, the VAR innovations
    ``u_t`` (what the month before did not predict), as the simulation's ``returns:
    factor_news`` part::

        r_{a,t} = (mu_a - kappa_a (p_{t-1} - n)) dt + beta_a . x_t + sigma_a sqrt(dt) e_{a,t}
        x_t = (u_rates_t, dtau_t, u_growth_t, u_inflation_t, u_credit_t)
        e_t ~ MvStudent-t(nu_a, 0, (nu_a - 2)/nu_a R),  R = L_a L_a'  (unit variances)

    Factor dynamics, written on standardised factors ``z~ = (z - m) / d`` (sample mean and sd),
    the centred gap ``gc_t = (p_{t-1} - n) - mean(p - n)`` and the standardised credit level
    ``l_t = (R_t - mean R) / sd R`` (``R``: the running sum of credit changes)::

        z~_t = c~ + A~ z~_{t-1} + g~ gc_t + rho~ l_{t-1} + u~_t,
        u~_t ~ MvStudent-t(nu_f, 0, (nu_f-2)/nu_f L~ L~')

    with ``g~`` zero and ``rho~`` non-zero only for credit (error correction on its level, no
    policy gap), mapped back exactly to the contract's
    ``z_t = c + A z_{t-1} + g (p_{t-1} - n) + rho R_{t-1} + u_t``::

        A = D A~ D^-1,  g = D g~,  rho = D rho~ / sd R,  L = D L~,
        c = m - A m + D (c~ - g~ mean(p - n) - rho~ mean R / sd R),  D = diag(d)

    ``c`` is relative to ``R``; the simulation's level is ``S = S_end - level_end + R``
    (:func:`simengine.bayes.store.params_from_posterior` shifts ``c`` accordingly).

    Normal priors are non-centred (``theta = mu0 + s0 * z``, ``z ~ N(0, 1)``); covariance
    matrices use LKJ Cholesky factors with half-normal scales. Every likelihood is vectorised
    over time (no loop in the graph). The surprise and tariff pass-through (s, m) and the squeeze
    terms are not in the model (see the prior file).
    """
    coords = {
        "asset": list(data.assets),
        "asset_": list(data.assets),
        "exposure": list(EXPOSURES),
        "factor": list(VAR_FACTORS),
        "factor_": list(VAR_FACTORS),
        "lag": list(VAR_FACTORS),
        "time": [str(d)[:7] for d in data.dates],
    }
    with pm.Model(coords=coords) as model:
        arrays = _data_containers(data)
        if observed_as_data:
            for name in OBSERVED:
                arrays[name] = pm.Data(f"observed_{name}", np.asarray(arrays[name].data))
        news = _factor_block(arrays, priors, innovations=priors.innovations)
        _asset_block(arrays, data.assets, priors, _exposures(arrays["x"], news))
    return model


def _exposures(x: pt.TensorVariable, news: pt.TensorVariable) -> pt.TensorVariable:
    """The asset regressors: each factor's news in place of the factor, other exposures as data."""
    columns = [
        news[:, VAR_FACTORS.index(e)] if e in VAR_FACTORS else x[:, j]
        for j, e in enumerate(EXPOSURES)
    ]
    return pt.stack(columns, axis=1)


def observed_data(data: ModelData, y: np.ndarray, z: np.ndarray) -> dict[str, np.ndarray]:
    """New observations for a model built with ``observed_as_data=True``.

    ``y`` (T, N) monthly log returns and ``z`` (T, K) factors in natural units, standardised
    with ``data``'s fixed mean and sd; returns ``{"observed_y": ..., "observed_zs": ...}``.
    """
    return {
        "observed_y": np.asarray(y, dtype=float),
        "observed_zs": (np.asarray(z, dtype=float) - data.z_mean) / data.z_sd,
    }


def _data_containers(data: ModelData) -> dict[str, pt.TensorVariable]:
    """Data as graph constants (standardised VAR factors, centred gap, standardisation).

    Constants rather than ``pm.Data``: the compiler specialises on them, and shared data did
    not shorten nutpie's compile time in our measurements.
    """
    m, d = data.z_mean, data.z_sd
    gap_mean = float(data.gap.mean())
    values = {
        "y": data.y,
        "x": data.x,
        "gap": data.gap,
        "ls_lag": (data.level_lag - data.level_lag.mean()) / data.level_lag.std(),
        "level_mean": np.array(data.level_lag.mean()),
        "level_sd": np.array(data.level_lag.std()),
        "zs": (data.z - m) / d,
        "zs_lag": (data.z_lag - m) / d,
        "gap_c": data.gap - gap_mean,
        "z_mean": m,
        "z_sd": d,
        "gap_mean": np.array(gap_mean),
    }
    tensors = {
        name: pt.as_tensor_variable(np.asarray(value, dtype=float))
        for name, value in values.items()
    }
    return {**tensors, "v": data.v, "w": data.w, "mixing_sd": float(data.mixing_sd)}


def _normal_nc(name: str, mean: np.ndarray, scale: np.ndarray, dims: str | tuple[str, ...]):
    """Non-centred normal: ``name = mean + scale * name_z``, ``name_z ~ N(0, 1)``."""
    raw = pm.Normal(f"{name}_z", 0.0, 1.0, dims=dims)
    return pm.Deterministic(name, mean + scale * raw, dims=dims)


def _given_state(
    name: str,
    observed: pt.TensorVariable,
    mean: pt.TensorVariable,
    chol: pt.TensorVariable,
    nu: pt.TensorVariable | None,
    ratio: np.ndarray,
    mixing_sd: float,
) -> None:
    """The likelihood of ``observed`` (T, K) given the volatility state, as a potential.

    ``e_t = observed_t - mean_t = sqrt(ratio_t L_t) * eps_t`` with ``eps_t`` the unit-scale
    multivariate t (``nu``) or Gaussian (``nu`` None) of Cholesky factor ``chol``; the level
    ``L_t ~ LogN(-s^2/2, s^2)`` is integrated out by Gauss-Hermite quadrature (:data:`NODES`)::

        log f(e_t) = -1/2 sum_k log ratio_tk
                     + log sum_j w_j L_j^(-K/2) f_eps((e_t / sqrt(ratio_t)) / sqrt(L_j))

    ``f_eps`` is the multivariate t (or normal) density with shape ``chol chol'``, written out
    from the Mahalanobis distance ``delta_t`` of one triangular solve, since the level only
    rescales it (``delta_t / L_j``); PyMC's ``MvStudentT.logp`` per node gave the same numbers
    with ``J`` solves and made a fit five times slower.

    Each month's level is integrated separately, for the asset and the factor blocks alike (a
    composite likelihood: the simulation draws one level per path for the whole horizon).
    """
    k = ratio.shape[1]
    nodes, weights = np.polynomial.hermite_e.hermegauss(NODES if mixing_sd > 0 else 1)
    level = np.exp(mixing_sd * nodes - mixing_sd**2 / 2.0)[:, None]  # (J, 1)
    std = (observed - mean) / np.sqrt(ratio)  # (T, K)
    # One triangular solve for every node: the level only rescales the Mahalanobis distance.
    delta = pt.sum(pt.linalg.solve_triangular(chol, std.T, lower=True) ** 2, axis=0)[None, :]
    log_det = pt.sum(pt.log(pt.diag(chol)))
    if nu is None:
        per_node = -0.5 * k * np.log(2.0 * np.pi) - 0.5 * delta / level
    else:
        per_node = (
            pt.gammaln((nu + k) / 2.0)
            - pt.gammaln(nu / 2.0)
            - 0.5 * k * pt.log(nu * np.pi)
            - 0.5 * (nu + k) * pt.log1p(delta / (nu * level))
        )
    per_node = per_node - log_det + np.log(weights / weights.sum())[:, None]
    per_node = per_node - 0.5 * k * np.log(level)
    jacobian = -0.5 * float(np.sum(np.log(ratio)))
    pm.Potential(name, pt.sum(pt.logsumexp(per_node, axis=0)) + jacobian)


def _student_dof(name: str, prior) -> pt.TensorVariable:
    """``nu = shift + Gamma(alpha, beta)`` (shift >= 2 so the unit-variance scaling exists)."""
    excess = pm.Gamma(f"{name}_excess", alpha=prior["alpha"], beta=prior["beta"])
    return pm.Deterministic(name, prior["shift"] + excess)


def _asset_block(
    data: dict, assets: tuple[str, ...], priors: PriorSet, x: pt.TensorVariable
) -> None:
    ap = priors.asset_priors

    def vec(par: str, key: str) -> np.ndarray:
        return np.array([ap[a][par][key] for a in assets])

    def mat(key: str) -> np.ndarray:
        return np.array([[ap[a]["beta"][e][key] for e in EXPOSURES] for a in assets])

    mu = _normal_nc("mu", vec("mu", "mu"), vec("mu", "sigma"), "asset")
    kappa = _normal_nc("kappa", vec("kappa", "mu"), vec("kappa", "sigma"), "asset")
    beta = _normal_nc("beta", mat("mu"), mat("sigma"), ("asset", "exposure"))
    sd_dist = pm.HalfNormal.dist(sigma=vec("sigma", "sigma") * np.sqrt(DT), shape=len(assets))
    chol_cov, _, stds = pm.LKJCholeskyCov(
        "resid_cov",
        n=len(assets),
        eta=priors.residuals["corr"]["eta"],
        sd_dist=sd_dist,
        compute_corr=True,
    )
    pm.Deterministic("sigma", stds / np.sqrt(DT), dims="asset")
    pm.Deterministic("chol_a", chol_cov / stds[:, None], dims=("asset", "asset_"))
    nu_a = _student_dof("nu_a", priors.residuals["dof"])
    mean = (mu[None, :] - kappa[None, :] * data["gap"][:, None]) * DT + pt.dot(x, beta.T)
    scale = chol_cov * pt.sqrt((nu_a - 2.0) / nu_a)
    if data["v"] is None:
        pm.MvStudentT(
            "returns", nu=nu_a, mu=mean, chol=scale, observed=data["y"], dims=("time", "asset")
        )
    else:
        _given_state("returns", data["y"], mean, scale, nu_a, data["v"], data["mixing_sd"])


def _factor_block(data: dict, priors: PriorSet, innovations: str) -> pt.TensorVariable:
    """The VAR likelihood; returns the innovations in natural units (T, K), the factor news."""
    dp = priors.dynamics
    k = len(VAR_FACTORS)
    ecm = np.array([f == ECM_FACTOR for f in VAR_FACTORS], dtype=float)
    m, d, gap_mean = data["z_mean"], data["z_sd"], data["gap_mean"]
    eye = np.eye(k)
    a_mean = eye * dp["ar_own"]["mu"] + (1 - eye) * dp["ar_cross"]["mu"]
    a_scale = eye * dp["ar_own"]["sigma"] + (1 - eye) * dp["ar_cross"]["sigma"]

    c_std = _normal_nc(
        "c_std", np.full(k, dp["const"]["mu"]), np.full(k, dp["const"]["sigma"]), "factor"
    )
    a_std = _normal_nc("A_std", a_mean, a_scale, ("factor", "lag"))
    g_free = _normal_nc(
        "g_std", np.full(k, dp["policy_gap"]["mu"]), np.full(k, dp["policy_gap"]["sigma"]), "factor"
    )
    g_std = g_free * (1.0 - ecm)  # credit error-corrects on its level instead
    ec = dp["error_correction"]
    rho_nat = _normal_nc("rho_credit", np.array(ec["mu"]), np.array(ec["sigma"]), ())
    rho_std = ecm * rho_nat * data["level_sd"] / d  # per factor, non-zero for credit only
    sd_dist = pm.HalfNormal.dist(sigma=dp["innovation_sd"]["sigma"], shape=k)
    chol_std, _, _ = pm.LKJCholeskyCov(
        "innov_cov", n=k, eta=dp["innovation_corr"]["eta"], sd_dist=sd_dist, compute_corr=True
    )
    mean = (
        c_std[None, :]
        + pt.dot(data["zs_lag"], a_std.T)
        + data["gap_c"][:, None] * g_std[None, :]
        + data["ls_lag"][:, None] * rho_std[None, :]
    )
    zs = data["zs"]
    nu_f = _student_dof("nu_f", dp["innovation_dof"]) if innovations == "student_t" else None
    scale = chol_std if nu_f is None else chol_std * pt.sqrt((nu_f - 2.0) / nu_f)
    if data["w"] is not None:
        w = np.repeat(np.asarray(data["w"])[:, None], k, axis=1)
        _given_state("factors", zs, mean, scale, nu_f, w, data["mixing_sd"])
    elif nu_f is not None:
        pm.MvStudentT("factors", nu=nu_f, mu=mean, chol=scale, observed=zs, dims=("time", "factor"))
    else:
        pm.MvNormal("factors", mu=mean, chol=chol_std, observed=zs, dims=("time", "factor"))

    a_nat = pm.Deterministic("A", a_std * (d[:, None] / d[None, :]), dims=("factor", "lag"))
    pm.Deterministic("g", d * g_std, dims="factor")
    pm.Deterministic("rho", ecm * rho_nat, dims="factor")
    level_term = rho_std * data["level_mean"] / data["level_sd"]
    pm.Deterministic(
        "c", m - pt.dot(a_nat, m) + d * (c_std - g_std * gap_mean - level_term), dims="factor"
    )
    pm.Deterministic("chol", d[:, None] * chol_std, dims=("factor", "factor_"))
    return (zs - mean) * d[None, :]
