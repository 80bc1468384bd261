"""Synthetic calibration tables simulated with the model's own equations (for recovery tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simengine.bayes.priors import VAR_FACTORS
from simengine.structure import default_structure

__all__ = ["example_params", "simulate_state", "simulate_table"]


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
        "g": np.array([-0.01, 0.0, 0.05, 0.0]),  # credit error-corrects on its level instead
        "rho": np.array([0.0, 0.0, 0.0, -0.06]),
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


def _month_ends(start: str, periods: int) -> pd.DatetimeIndex:
    first = pd.Period(start, "M").to_timestamp(how="end").normalize()
    return pd.date_range(first, periods=periods, freq="ME")


def simulate_state(
    n_months: int,
    rng: np.random.Generator,
    assets: tuple[str, ...] = default_structure().asset_names,
    start: str = "1990-01",
) -> pd.DataFrame:
    """Volatility-state variance ratios for a table of :func:`simulate_table` (same months).

    ``log w_t = 0.85 log w_{t-1} + 0.25 n_t`` (the market, mean about 1) and
    ``v_{a,t} = w_t exp(0.1 n_{a,t})``: persistent regimes shared by the assets and the factors,
    as the VIX-anchored curves give. Columns: the assets and ``market``; rows: ``n_months + 1``
    month ends from ``start`` (the table's months, its first row included).
    """
    t_all = n_months + 1
    x = np.zeros(t_all)
    shocks = rng.standard_normal(t_all)
    for t in range(1, t_all):  # data generation only
        x[t] = 0.85 * x[t - 1] + 0.25 * shocks[t]
    w = np.exp(x - x.var() / 2.0)
    v = w[:, None] * np.exp(0.1 * rng.standard_normal((t_all, len(assets))))
    frame = pd.DataFrame(v, index=_month_ends(start, t_all), columns=list(assets))
    frame["market"] = w
    return frame


def _level(rng: np.random.Generator, mixing_sd: float, n: int) -> np.ndarray:
    """Log-normal levels with mean 1: ``exp(s n - s^2 / 2)``."""
    return np.exp(mixing_sd * rng.standard_normal(n) - mixing_sd**2 / 2.0)


def simulate_table(
    params: dict[str, np.ndarray],
    n_months: int,
    rng: np.random.Generator,
    assets: tuple[str, ...] = default_structure().asset_names,
    start: str = "1990-01",
    state: pd.DataFrame | None = None,
    mixing_sd: float = 0.0,
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
    state, mixing_sd : DataFrame and float, optional
        Volatility-state ratios on the table's months (:func:`simulate_state`) and the sd of
        the log-normal level: the month's innovations are scaled by ``sqrt(w_t L^f_t)``, its
        residuals by ``sqrt(v_{a,t} L^a_t)``, with independent levels ``L ~ LogN(-s^2/2, s^2)``
        per month and block (the likelihood of ``simengine.bayes.model`` given the state).

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

        z_t = c + A z_{t-1} + g (p_{t-1} - n) + rho S_{t-1} + u_t,   u_t = L eps_t, eps_t ~ t(nu_f)
        S_t = S_{t-1} + z_t[credit],  S_0 = 0 (the level relative to before the first month)
        r_t = (mu - kappa (p_{t-1} - n)) dt + beta x_t + sigma sqrt(dt) L_a e_t,   e_t ~ t(nu_a)
        x_t = (u_rates, dtau, u_growth, u_inflation, u_credit)   (factor news)
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
    if state is not None:
        eps = eps * np.sqrt(state["market"].to_numpy() * _level(rng, mixing_sd, t_all))[:, None]
    rho = np.asarray(params.get("rho", np.zeros(len(VAR_FACTORS))))
    z = np.zeros((t_all, len(VAR_FACTORS)))
    level = np.zeros(len(VAR_FACTORS))
    for t in range(1, t_all):  # data generation only: the model graph itself has no time loop
        level = level + z[t - 1]
        z[t] = (
            params["c"] + params["A"] @ z[t - 1] + params["g"] * gap[t - 1] + rho * level + eps[t]
        )
    dtariff = np.diff(tariff, prepend=tariff[0])
    news = eps  # the innovations: what the month before did not predict
    x = np.column_stack([news[:, 0], dtariff, news[:, 1], news[:, 2], news[:, 3]])
    e = _unit_t(rng, float(params["nu_a"]), (t_all, len(assets))) @ params["chol_a"].T
    if state is not None:
        level = _level(rng, mixing_sd, t_all)[:, None]
        e = e * np.sqrt(state[list(assets)].to_numpy() * level)
    lag_gap = np.concatenate([[gap[0]], gap[:-1]])
    r = (params["mu"] - params["kappa"] * lag_gap[:, None]) * dt + x @ params["beta"].T
    r = r + params["sigma"] * np.sqrt(dt) * e
    index = _month_ends(start, t_all)
    frame = pd.DataFrame(r, index=index, columns=list(assets))
    frame["policy_rate"] = policy
    frame["rates"], frame["growth"], frame["inflation"], frame["credit"] = z.T
    frame["tariff"], frame["dtariff"] = tariff, dtariff
    return frame.iloc[1:]
