"""Credit as a spread level with error correction (estimation).

The credit factor is the monthly change of the ICE BofA US high-yield option-adjusted spread
(FRED ``BAMLH0A0HYM2``). Its equation in the factor VAR error-corrects towards a long-run
level instead of responding to the policy rate::

    dS_t = c + a . z_{t-1} + rho S_{t-1} + u_t,        S* = -(c + a . zbar) / rho

``rho < 0`` pulls the spread back to ``S*`` at ``-rho`` per month (half-life
``log(0.5) / log(1 + rho)`` months). :func:`fit_credit_ecm` also reports the policy-gap
coefficient when it is added: once the level is in, the gap term is small and not significant,
which is why the credit equation drops it (the previous fit's gap term made spreads widen about
6bp a month at mid-2025 rates, a hidden drift).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simengine.data.loaders import read_fred_csv
from simengine.exceptions import DataError

__all__ = ["HY_FILE", "credit_level", "fit_credit_ecm"]

HY_FILE = "fred/BAMLH0A0HYM2.csv"
FACTORS = ("rates", "growth", "inflation", "credit")
MIN_MONTHS = 36


def credit_level(data_dir: Path) -> pd.Series:
    """High-yield OAS (pp) at each month end; its first difference is the table's ``credit``."""
    return read_fred_csv(Path(data_dir) / HY_FILE).resample("ME").last().rename("credit_level")


def fit_credit_ecm(
    table: pd.DataFrame,
    level: pd.Series,
    sample: tuple[str, str],
    exclude: pd.DatetimeIndex | None = None,
    neutral: float = 3.0,
) -> dict[str, Any]:
    """OLS of the spread change on the lagged factors and the lagged spread level.

    Parameters
    ----------
    table : DataFrame
        Monthly calibration table (factor columns, ``policy_rate``).
    level : Series
        :func:`credit_level`.
    sample : (str, str)
        First and last month of the dependent variable.
    exclude : DatetimeIndex, optional
        Months to drop (Covid months, as the VAR).
    neutral : float
        Neutral policy rate for the (reported, not used) gap coefficient.

    Returns
    -------
    dict
        ``const``, ``ar`` (coefficients on the lagged factors), ``rho``, ``rho_se``,
        ``long_run_level``, ``half_life_months``, ``sd`` (residual), ``resid`` (Series),
        ``gap_coef``/``gap_se`` (with the policy gap added), ``n``.
    """
    lagged = table[list(FACTORS)].shift(1).add_suffix("_lag")
    data = pd.concat(
        [
            table["credit"],
            lagged,
            level.reindex(table.index).shift(1).rename("level_lag"),
            (table["policy_rate"].shift(1) - neutral).rename("gap"),
        ],
        axis=1,
    ).loc[sample[0] : sample[1]]
    if exclude is not None:
        data = data.drop(index=exclude.intersection(data.index))
    data = data.dropna()
    if len(data) < MIN_MONTHS:
        raise DataError(f"credit ECM needs {MIN_MONTHS} months, got {len(data)} in {sample}")
    y = data["credit"].to_numpy()
    x = np.column_stack([np.ones(len(data)), data[list(lagged.columns)], data["level_lag"]])
    coef, se, resid = _ols(y, x)
    xg = np.column_stack([x, data["gap"]])
    coef_g, se_g, _ = _ols(y, xg)
    rho = float(coef[-1])
    zbar = data[list(lagged.columns)].mean().to_numpy()
    long_run = float(-(coef[0] + coef[1:5] @ zbar) / rho) if rho < 0 else float("nan")
    return {
        "const": float(coef[0]),
        "ar": dict(zip(FACTORS, map(float, coef[1:5]), strict=True)),
        "rho": rho,
        "rho_se": float(se[-1]),
        "long_run_level": long_run,
        "half_life_months": float(np.log(0.5) / np.log1p(rho)) if -1 < rho < 0 else float("inf"),
        "sd": float(resid.std(ddof=x.shape[1])),
        "resid": pd.Series(resid, index=data.index, name="credit"),
        "gap_coef": float(coef_g[-1]),
        "gap_se": float(se_g[-1]),
        "n": len(data),
    }


def _ols(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from simengine.data.fit import ols

    return ols(y, x)
