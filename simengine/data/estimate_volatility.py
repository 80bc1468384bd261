"""Estimation of the volatility state: where variance starts (VIX, realised) and how it reverts.

The model's shocks have a time-varying variance ``h_{a,k} = hbar_a v_{a,k}``: ``hbar_a`` is the
unconditional variance of the fitted model and ``v_{a,k}`` a variance ratio for the ``k``-th
month ahead, set by the state on the start date. The state is the VIX close and the asset's
realised variance over the last 63 trading days (Corsi 2009 HAR-style). The ratio path is
estimated directly, one regression per month ahead (:func:`fit_variance_term_structure`)::

    log RV_{t+k} = a_k + c_k log VIX_t + d_k log RVS_t + u_{k,t},   k = 1 .. K

so the mean reversion is whatever the data say at each horizon (a fast component over the
first two or three months and a slow one that is still there at twelve months), not a single
exponential. ``arch``'s GJR-GARCH on daily returns (:func:`fit_gjr_daily`) is kept as the
cross-check: its one-component decay reverts faster than the direct regressions show.

Every function takes the data it fits on and reads nothing beyond it (the regression for month
``k`` ahead uses only pairs whose realised month is in the sample).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simengine.data.loaders import read_fred_csv
from simengine.exceptions import DataError

__all__ = [
    "MONTHS_AHEAD",
    "STATE_DAYS",
    "VIX_FILE",
    "fit_gjr_daily",
    "fit_realised_given_vix",
    "implied_realised_vol",
    "fit_variance_term_structure",
    "monthly_realised_variance",
    "monthly_vix",
    "read_vix",
    "state_on",
    "trailing_variance",
    "variance_ratios",
    "vix_on",
]

VIX_FILE = "fred/VIXCLS.csv"
MONTHS_AHEAD = 12
STATE_DAYS = 63  # three months of trading days: the realised part of the state
MIN_MONTHS = 60
MIXING_MONTHS = 6  # horizon of the regression whose residual sets the per-path mixing


def read_vix(data_dir: Path) -> pd.Series:
    """Daily VIX closes (CBOE, FRED ``VIXCLS``), holidays dropped."""
    return read_fred_csv(Path(data_dir) / VIX_FILE).dropna()


def monthly_vix(vix: pd.Series) -> pd.Series:
    """VIX close on the last trading day of each month, indexed by month end."""
    return vix.resample("ME").last().dropna()


def vix_on(vix: pd.Series, day: str | pd.Timestamp) -> float:
    """VIX close on ``day`` or the last trading day before it."""
    known = vix.loc[:day].dropna()
    if known.empty:
        raise DataError(
            f"no VIX close on or before {day}; the series starts {vix.index[0]:%Y-%m-%d}"
        )
    return float(known.iloc[-1])


def monthly_realised_variance(daily: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """Sum of squared daily log returns per calendar month (months with >= 10 returns)."""
    return (daily**2).resample("ME").sum(min_count=10)


def trailing_variance(daily: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """Realised variance per month over the last :data:`STATE_DAYS` trading days, each day.

    ``RVS_t = (21 / 63) sum_{i < 63} r_{t-i}^2``: on the scale of one month's realised variance.
    """
    return (daily**2).rolling(STATE_DAYS, min_periods=STATE_DAYS).sum() * (21.0 / STATE_DAYS)


def state_on(vix: pd.Series, daily: pd.Series, day: str | pd.Timestamp) -> tuple[float, float]:
    """The volatility state on ``day``: VIX close and realised volatility (annualised, %).

    The realised volatility is ``100 sqrt(12 RVS)`` from :func:`trailing_variance`, so a user
    can read and set it like the VIX.
    """
    rvs = trailing_variance(daily).loc[:day].dropna()
    if rvs.empty:
        raise DataError(f"fewer than {STATE_DAYS} daily returns before {day}")
    return vix_on(vix, day), float(100.0 * np.sqrt(12.0 * rvs.iloc[-1]))


def _state_frame(rv: pd.Series, vix_me: pd.Series, rvs_me: pd.Series) -> pd.DataFrame:
    return pd.concat(
        {"rv": rv, "lvix": np.log(vix_me), "lrvs": np.log(rvs_me)}, axis=1
    ).sort_index()


def fit_variance_term_structure(
    rv: pd.Series,
    vix_me: pd.Series,
    rvs_me: pd.Series,
    daily: pd.Series,
    months: int = MONTHS_AHEAD,
    *,
    mean_from: str | None = None,
    realised: bool = True,
) -> dict[str, Any]:
    """Direct regressions of realised variance ``k`` months ahead on the state, ``k = 1..months``.

    Parameters
    ----------
    rv : Series
        Monthly realised variance of the asset (:func:`monthly_realised_variance`).
    vix_me, rvs_me : Series
        VIX and trailing realised variance (:func:`trailing_variance`) at each month end.
    daily : Series
        The asset's daily log returns (for the sampling noise of realised variance).
    months : int
        Months ahead ``K``.
    mean_from : str, optional
        First month (``YYYY-MM``) of the mean realised variance that ratio 1 stands for: the
        first month of the sample the model's own variances are fitted on, so that
        ``hbar v_k`` is on the scale of the data. Default: all months.
    realised : bool
        Use the realised part of the state (``d_k``); False: the VIX alone (``d_k = 0``).

    Returns
    -------
    dict
        ``intercept``, ``vix``, ``realised``, ``smearing`` (lists of ``K``), ``mean_rv`` (the
        sample mean of monthly realised variance), ``r2`` (list), ``n`` (pairs at ``k = 1``),
        ``mixing_sd`` and its ingredients.

    Notes
    -----
    ``E[RV_{t+k} | state] = exp(a_k + c_k log VIX_t + d_k log RVS_t) s_k`` with Duan's smearing
    factor ``s_k = mean(exp(u_k))``; the variance ratio is that over ``mean_rv``
    (:func:`variance_ratios`). The same regression for the sum of the next
    :data:`MIXING_MONTHS` months' realised variance leaves a residual whose variance, less the
    sampling variance of realised variance (``(kurt - 1) / n_days`` for returns standardised by
    their trailing 21-day volatility), is the variance of a per-path log-normal level
    ``mixing_sd^2``: the part of next months' volatility the state does not foretell.
    """
    data = _state_frame(rv, vix_me, rvs_me)
    out: dict[str, Any] = {"intercept": [], "vix": [], "realised": [], "smearing": [], "r2": []}
    for k in range(1, months + 1):
        y = np.log(data["rv"].shift(-k))  # realised in month t+k, state at the end of month t
        coef, resid, n, r2 = _regress(y, data, realised)
        out["intercept"].append(coef[0])
        out["vix"].append(coef[1])
        out["realised"].append(coef[2])
        out["smearing"].append(float(np.mean(np.exp(resid))))
        out["r2"].append(r2)
        if k == 1:
            out["n"] = n
    out["mean_rv"] = float(data["rv"].loc[mean_from:].dropna().mean())
    horizon_rv = sum(data["rv"].shift(-k) for k in range(1, MIXING_MONTHS + 1))
    _, resid, _, _ = _regress(np.log(horizon_rv), data, realised)
    noise = _log_rv_noise_var(daily, 21 * MIXING_MONTHS)
    out["mixing_resid_var"] = float(resid.var())
    out["mixing_noise_var"] = noise
    out["mixing_sd"] = float(np.sqrt(max(resid.var() - noise, 0.0)))
    return out


def _regress(
    y: pd.Series, data: pd.DataFrame, realised: bool = True
) -> tuple[list[float], np.ndarray, int, float]:
    frame = pd.concat([y.rename("y"), data[["lvix", "lrvs"]]], axis=1).dropna()
    if not realised:
        frame["lrvs"] = 0.0
    if len(frame) < MIN_MONTHS:
        raise DataError(
            f"volatility term structure needs {MIN_MONTHS} months of VIX and realised variance, "
            f"got {len(frame)}"
        )
    x = np.column_stack([np.ones(len(frame)), frame["lvix"], frame["lrvs"]])
    coef, *_ = np.linalg.lstsq(x, frame["y"].to_numpy(), rcond=None)  # d = 0 if no column
    resid = frame["y"].to_numpy() - x @ coef
    r2 = float(1.0 - resid.var() / frame["y"].var(ddof=0))
    return [float(c) for c in coef], resid, len(frame), r2


def _log_rv_noise_var(daily: pd.Series, n_days: int) -> float:
    """Sampling variance of log realised variance over ``n_days`` days, ``(kurt - 1) / n``."""
    local = daily.rolling(21, min_periods=21).std().shift(1)
    z = (daily / local).dropna()
    kurt = float(np.mean(z**4) / np.mean(z**2) ** 2)
    return (kurt - 1.0) / n_days


def variance_ratios(
    coefs: dict[str, Any], vix: float, realised_vol: float, n_months: int
) -> np.ndarray:
    """Variance ratio of each month ahead, ``v_k``, shape (n_months,).

    Parameters
    ----------
    coefs : dict
        :func:`fit_variance_term_structure` output (or the model file's ``vol_state``).
    vix : float
        VIX close on the start date.
    realised_vol : float
        Realised volatility on the start date (annualised %, :func:`state_on`).
    n_months : int
        Months to return; beyond the fitted ``K`` the ratio stays at its month-``K`` value.

    Notes
    -----
    ``v_k = exp(a_k + c_k log VIX + d_k log RVS) s_k / mean_rv`` with
    ``RVS = (realised_vol / 100)^2 / 12``.
    """
    a, c, d, s = (
        np.asarray(coefs[k], dtype=np.float64) for k in ("intercept", "vix", "realised", "smearing")
    )
    rvs = (realised_vol / 100.0) ** 2 / 12.0
    v = np.exp(a + c * np.log(vix) + d * np.log(rvs)) * s / float(coefs["mean_rv"])
    k = np.minimum(np.arange(n_months), v.size - 1)
    return v[k]


def fit_realised_given_vix(rvs_me: pd.Series, vix_me: pd.Series) -> dict[str, float]:
    """How realised volatility goes with the VIX: the default realised state for a given VIX.

    ``log RVS_t = e + f log VIX_t + w_t`` at month ends, OLS; :func:`implied_realised_vol`
    returns ``E[RVS | VIX]`` (with smearing) as an annualised volatility in %.
    """
    data = pd.concat({"y": np.log(rvs_me), "x": np.log(vix_me)}, axis=1).dropna()
    if len(data) < MIN_MONTHS:
        raise DataError(f"realised-given-VIX needs {MIN_MONTHS} months, got {len(data)}")
    f, e = np.polyfit(data["x"], data["y"], 1)
    resid = data["y"] - (e + f * data["x"])
    return {"intercept": float(e), "slope": float(f), "smearing": float(np.mean(np.exp(resid)))}


def implied_realised_vol(given_vix: dict[str, float], vix: float) -> float:
    """Realised volatility (annualised %) expected at a VIX level (:func:`fit_realised_given_vix`)."""
    rvs = np.exp(given_vix["intercept"] + given_vix["slope"] * np.log(vix)) * given_vix["smearing"]
    return float(100.0 * np.sqrt(12.0 * rvs))


def fit_gjr_daily(daily: pd.Series) -> dict[str, float]:
    """GJR-GARCH(1,1) with Student-t innovations on daily log returns (``arch``), cross-check.

    Returns
    -------
    dict
        ``alpha``, ``gamma``, ``beta``, ``dof``, daily ``persistence``
        ``alpha + gamma / 2 + beta``, ``monthly_persistence`` (``persistence ** 21``) and
        ``half_life_months``.

    Notes
    -----
    ``h_t = omega + (alpha + gamma I[e_{t-1} < 0]) e_{t-1}^2 + beta h_{t-1}``;
    ``E[h_{t+j}] - hbar = p^j (h_t - hbar)``, so a month's mean variance reverts by ``p^21``.
    """
    from arch import arch_model

    y = 100.0 * daily.dropna()
    res = arch_model(y, mean="Constant", vol="GARCH", p=1, o=1, q=1, dist="t").fit(
        disp="off", show_warning=False
    )
    p = res.params
    pers = float(p["alpha[1]"] + 0.5 * p["gamma[1]"] + p["beta[1]"])
    monthly = pers**21
    return {
        "alpha": float(p["alpha[1]"]),
        "gamma": float(p["gamma[1]"]),
        "beta": float(p["beta[1]"]),
        "dof": float(p["nu"]),
        "persistence": pers,
        "monthly_persistence": monthly,
        "half_life_months": float(np.log(0.5) / np.log(monthly)),
        "n": int(y.size),
    }
