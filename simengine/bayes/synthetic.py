"""Synthetic calibration tables simulated with the model's own equations (for recovery tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simengine.bayes.priors import VAR_FACTORS
from simengine.structure import default_structure

__all__ = ["example_params", "simulate_table"]


def example_params(
    assets: tuple[str, ...] = default_structure().asset_names,
) -> dict[str, np.ndarray]:
    """A plausible parameter set (one draw, no leading axis) in the contract's units.

    Close to the fit on 1997-2025 data; used as the truth in recovery tests.
    """
    n = len(assets)
    beta_rows = np.array(
        [
            [-0.02, -0.007, 0.004, -0.002, -0.055],
            [-0.015, -0.008, 0.002, -0.001, -0.05],
        ]
    )
    corr = np.array([[1.0, 0.6], [0.6, 1.0]])[:n, :n]
    sd = np.array([0.2, 0.6, 1.5, 0.5])
    fcorr = np.eye(4)
    fcorr[0, 3] = fcorr[3, 0] = -0.3
    fcorr[1, 3] = fcorr[3, 1] = -0.4
    return {
        "mu": np.array([0.08, 0.10])[:n],
        "kappa": np.array([0.03, 0.005])[:n],
        "beta": beta_rows[:n],
        "sigma": np.array([0.16, 0.20])[:n],
        "chol_a": np.linalg.cholesky(corr),
        "nu_a": np.array(6.0),
        "c": np.array([0.0, 0.0, 0.1, 0.0]),
        "A": np.diag([0.1, 0.15, 0.4, 0.15]),
        "g": np.array([-0.01, 0.0, 0.05, 0.02]),
        "chol": np.diag(sd) @ np.linalg.cholesky(fcorr),
        "nu_f": np.array(8.0),
        "neutral": np.array(3.0),
    }


def _unit_t(rng: np.random.Generator, nu: float, shape: tuple[int, ...]) -> np.ndarray:
    """Student-t(nu) draws scaled to unit variance (Gaussian if nu is inf); rows share the mixing."""
    z = rng.standard_normal(shape)
    if not np.isfinite(nu):
        return z
    w = rng.chisquare(nu, size=shape[:-1] + (1,)) / nu
    return z / np.sqrt(w) * np.sqrt((nu - 2.0) / nu)


def simulate_table(
    params: dict[str, np.ndarray],
    n_months: int,
    rng: np.random.Generator,
    assets: tuple[str, ...] = default_structure().asset_names,
    start: str = "1990-01",
) -> pd.DataFrame:
    """Simulate a monthly calibration table from known parameters.

    Parameters
    ----------
    params : dict
        As :func:`example_params` (no leading draw axis).
    n_months : int
    rng : numpy.random.Generator
    assets : tuple of str
    start : str
        First month (``YYYY-MM``).

    Returns
    -------
    DataFrame
        Columns ``assets..., policy_rate, rates, tariff, dtariff, growth, inflation, credit``
        indexed by month end; ``attrs["table_hash"]`` unset (content-hashed on use).

    Notes
    -----
    The policy rate follows a slow deterministic cycle between about 0.5% and 6% plus small
    steps; the tariff rate is flat at 2% with a few jumps (so its loading is weakly identified,
    as in real data). Then, for t = 1..T::

        z_t = c + A z_{t-1} + g (p_{t-1} - n) + L eps_t,            eps_t ~ t(nu_f), unit variance
        r_t = (mu - kappa (p_{t-1} - n)) dt + beta x_t + sigma sqrt(dt) L_a e_t,   e_t ~ t(nu_a)
    """
    dt = 1.0 / 12.0
    t_all = n_months + 1
    months = np.arange(t_all)
    policy = (
        3.25
        + 2.75 * np.sin(2 * np.pi * months / 96.0)
        + 0.25 * np.round(rng.standard_normal(t_all))
    )
    policy = np.clip(policy, 0.125, None)
    tariff = np.full(t_all, 2.0)
    for jump_at, size in ((t_all // 3, 3.0), (2 * t_all // 3, -2.0), (t_all - 4, 10.0)):
        tariff[jump_at:] += size
    gap = policy - params["neutral"]
    eps = _unit_t(rng, float(params["nu_f"]), (t_all, len(VAR_FACTORS))) @ params["chol"].T
    z = np.zeros((t_all, len(VAR_FACTORS)))
    for t in range(1, t_all):  # data generation only: the model graph itself has no time loop
        z[t] = params["c"] + params["A"] @ z[t - 1] + params["g"] * gap[t - 1] + eps[t]
    dtariff = np.diff(tariff, prepend=tariff[0])
    x = np.column_stack([z[:, 0], dtariff, z[:, 1], z[:, 2], z[:, 3]])
    e = _unit_t(rng, float(params["nu_a"]), (t_all, len(assets))) @ params["chol_a"].T
    lag_gap = np.concatenate([[gap[0]], gap[:-1]])
    r = (params["mu"] - params["kappa"] * lag_gap[:, None]) * dt + x @ params["beta"].T
    r = r + params["sigma"] * np.sqrt(dt) * e
    index = pd.date_range(
        pd.Period(start, "M").to_timestamp(how="end").normalize(), periods=t_all, freq="ME"
    )
    frame = pd.DataFrame(r, index=index, columns=list(assets))
    frame["policy_rate"] = policy
    frame["rates"], frame["growth"], frame["inflation"], frame["credit"] = z.T
    frame["tariff"], frame["dtariff"] = tariff, dtariff
    return frame.iloc[1:]
