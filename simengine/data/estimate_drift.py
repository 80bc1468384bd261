"""Drift anchored to a long-run equity premium, with a shrinkage weight chosen out of sample.

The prior centre of each asset's annual log drift ``mu_a`` (at the neutral policy rate) is the
long-run mean log *price* return of the US market, plus the asset's extra premium for its
market beta::

    m_a = 12 mean(log SPX_t / SPX_{t-1}) + (b_a - 1) ERP + (y_m - y_a)

* ``mean(log SPX)``: S&P 500 price index, monthly, from 1928 to the cut-off (a price drift, like
  the Russell 2000 and Nasdaq-100 price indices the model simulates);
* ``ERP``: 12 x mean Fama-French market excess return (Mkt-RF), July 1926 to the cut-off;
* ``b_a``: OLS beta of the asset's monthly log return on the S&P 500's, asset history to the
  cut-off.

The indices are price indices, while ``ERP`` is a total-return premium; the market's price drift
and an asset's differ by their dividend yields as well as by the premium
(``price_a - price_m = (b_a - 1) ERP + (y_m - y_a)``), so the centre adds the market's yield
minus the asset's, ``y_m - y_a`` (:func:`yield_gap_series`): each yield is the mean log return
of the index's dividend-adjusted ETF minus the index's, plus the ETF's expense ratio, from the
ETF's first month to the cut-off (:data:`YIELD_PROXIES`). The Nasdaq-100 yields about 1.2pp a
year less than the S&P 500, the Russell 2000 about 0.4pp less (1993-2025).

The historical-average premium is the benchmark that return predictors fail to beat out of
sample (Goyal & Welch 2008, Rev. Financial Studies 21(4); Campbell & Thompson 2008, RFS 21(4));
long-run premia: Dimson, Marsh & Staunton, UBS Global Investment Returns Yearbook. A fitting
window's own mean (the least-squares intercept) is shrunk towards ``m_a`` with weight ``w``::

    mu_a = w m_a + (1 - w) muhat_a

``w`` is chosen by :func:`choose_shrinkage` on data before the cut-off only: the weight whose
past ``h``-month forecasts (every month, each made with the prior and window mean known then)
had the smallest squared error on realised returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simengine.data.loaders import read_fama_french, read_index_csv
from simengine.exceptions import DataError

__all__ = [
    "FF3_FILE",
    "FF5_FILE",
    "SHRINK_GRID",
    "SPX_FILE",
    "YIELD_PROXIES",
    "choose_shrinkage",
    "drift_prior",
    "market_excess",
    "prior_series",
    "spx_monthly",
    "yield_gap_series",
    "yield_spread",
]

SPX_FILE = "equity/SPX_index_daily.csv"
FF3_FILE = "factors/ff3_monthly_1926_2018_from_arch.csv"
FF5_FILE = "factors/us_ff5_mom_monthly.csv"
SHRINK_GRID = tuple(np.round(np.linspace(0.0, 1.0, 21), 2))
MIN_WINDOW = 24  # months in a window mean before a past forecast counts
YIELD_PROXIES: dict[str, tuple[str, float]] = {
    SPX_FILE: ("equity/SPY_adj_daily.csv", 0.000945),
    "equity/RUT_index_daily.csv": ("equity/IWM_adj_daily.csv", 0.0019),
    "equity/NDX_index_daily.csv": ("equity/QQQ_adj_daily.csv", 0.0020),
}
"""Index close file -> (its ETF's split- and dividend-adjusted close file, the ETF's annual
expense ratio). Expense ratios from the funds' prospectuses: SPDR S&P 500 ETF Trust 0.0945%,
iShares Russell 2000 ETF 0.19%, Invesco QQQ Trust 0.20%. The adjusted ETF return is the index's
price return plus its dividend yield less the expense ratio, so the yield is the difference
plus the expense ratio."""
MIN_YIELD_MONTHS = 12  # a year of dividends (quarterly payers) before a yield counts


def spx_monthly(data_dir: Path) -> pd.Series:
    """Monthly log price returns of the S&P 500 (month-end closes), from 1928."""
    close = read_index_csv(Path(data_dir) / SPX_FILE)["Close"].resample("ME").last()
    return np.log(close).diff().dropna().rename("market")


def market_excess(data_dir: Path) -> pd.Series:
    """Fama-French market excess return (fraction per month), 1926-07 onwards.

    The 1926-2018 three-factor file up to 1963-06, then the five-factor file (both Ken French's
    data library, in percent).
    """
    old = read_fama_french(Path(data_dir) / FF3_FILE)
    new = read_fama_french(Path(data_dir) / FF5_FILE)
    col_old = _column(old, ("Mkt-RF", "MKT_RF"))
    col_new = _column(new, ("MKT_RF", "Mkt-RF"))
    first_new = new.index[0]
    spliced = pd.concat([old.loc[old.index < first_new, col_old], new[col_new]])
    return (spliced / 100.0).rename("mkt_rf")


def yield_spread(data_dir: Path, index_file: str) -> pd.Series | None:
    """Monthly dividend yield of an index (fraction per month), from its ETF; ``None`` without one.

    ``log(E_t / E_{t-1}) - log(I_t / I_{t-1}) + c / 12`` at month ends, ``E`` the ETF's
    dividend-adjusted close, ``I`` the index close (both on the days both have a close), ``c``
    the ETF's annual expense ratio (:data:`YIELD_PROXIES`).
    """
    if index_file not in YIELD_PROXIES:
        return None
    etf_file, expense = YIELD_PROXIES[index_file]
    closes = pd.concat(
        {
            "etf": read_index_csv(Path(data_dir) / etf_file)["Close"],
            "index": read_index_csv(Path(data_dir) / index_file)["Close"],
        },
        axis=1,
        join="inner",
    ).dropna()
    month_end = np.log(closes.resample("ME").last().dropna())
    diff = month_end["etf"].diff() - month_end["index"].diff()
    return (diff.dropna() + expense / 12.0).rename(index_file)


def yield_gap_series(
    market: pd.Series | None, asset: pd.Series | None, months: pd.DatetimeIndex
) -> pd.Series:
    """Annual dividend yield of the market minus the asset's, as known at each month.

    Each yield is ``12 x`` the expanding mean of :func:`yield_spread` up to the month, counted
    from :data:`MIN_YIELD_MONTHS` months on; before that, or for an index without an ETF, the
    gap is 0 (the asset is taken to yield what the market does, the centre without the term).
    """
    yields = []
    for spread in (market, asset):
        if spread is None:
            yields.append(pd.Series(np.nan, index=months))
            continue
        s = spread.dropna()
        known = (12.0 * s.expanding().mean()).where(s.expanding().count() >= MIN_YIELD_MONTHS)
        yields.append(known.reindex(months, method="ffill"))
    return (yields[0] - yields[1]).fillna(0.0).rename("yield_gap")


def _column(frame: pd.DataFrame, names: tuple[str, ...]) -> str:
    for n in names:
        if n in frame.columns:
            return n
    raise DataError(f"Fama-French file has none of {names}; columns {list(frame.columns)}")


def drift_prior(
    asset: pd.Series,
    market: pd.Series,
    excess: pd.Series,
    end: str | pd.Timestamp,
    yield_gap: float = 0.0,
) -> dict[str, float]:
    """Prior centre of an asset's annual log drift from data up to ``end``.

    Parameters
    ----------
    asset : Series
        The asset's monthly log returns.
    market : Series
        :func:`spx_monthly`.
    excess : Series
        :func:`market_excess`.
    end : str or Timestamp
        Last month used.
    yield_gap : float
        The market's annual dividend yield minus the asset's at ``end``
        (:func:`yield_gap_series`).

    Returns
    -------
    dict
        ``centre`` (annual log drift), ``market_drift``, ``erp``, ``beta``, ``yield_gap``,
        sample sizes.
    """
    m = market.loc[:end].dropna()
    e = excess.loc[:end].dropna()
    both = pd.concat([asset.loc[:end], m], axis=1, join="inner").dropna()
    if len(both) < MIN_WINDOW or len(m) < 120:
        raise DataError(f"too little history before {end} for the drift prior")
    x, y = both.iloc[:, 1].to_numpy(), both.iloc[:, 0].to_numpy()
    beta = float(np.cov(x, y)[0, 1] / np.var(x, ddof=1))
    market_drift = 12.0 * float(m.mean())
    erp = 12.0 * float(e.mean())
    return {
        "centre": market_drift + (beta - 1.0) * erp + yield_gap,
        "market_drift": market_drift,
        "erp": erp,
        "beta": beta,
        "yield_gap": yield_gap,
        "market_months": len(m),
        "asset_months": len(both),
    }


def prior_series(
    asset: pd.Series,
    market: pd.Series,
    excess: pd.Series,
    months: pd.DatetimeIndex,
    yield_gap: pd.Series | None = None,
) -> pd.Series:
    """:func:`drift_prior`'s ``centre`` as known at each month of ``months`` (expanding sums).

    The same numbers as calling :func:`drift_prior` with each month as ``end`` and
    ``yield_gap`` at that month (:func:`yield_gap_series` on ``months``; ``None``: 0), in one
    pass.
    """
    m = market.dropna()
    both = pd.concat({"a": asset, "m": m}, axis=1, join="inner").dropna()
    n = both["a"].expanding().count()
    cov = both["a"].expanding().cov(both["m"])
    var = both["m"].expanding().var()
    beta = (cov / var).where(n >= MIN_WINDOW)
    market_drift = 12.0 * m.expanding().mean()
    erp = 12.0 * excess.dropna().expanding().mean()
    frame = (
        pd.concat({"beta": beta, "drift": market_drift, "erp": erp}, axis=1).sort_index().ffill()
    )
    frame = frame.reindex(months, method="ffill")
    gap = 0.0 if yield_gap is None else yield_gap.reindex(months).fillna(0.0)
    return (frame["drift"] + (frame["beta"] - 1.0) * frame["erp"] + gap).rename("prior")


def choose_shrinkage(
    asset: pd.Series,
    prior: pd.Series,
    first: str,
    end: str | pd.Timestamp,
    horizon: int,
    grid: tuple[float, ...] = SHRINK_GRID,
) -> dict[str, Any]:
    """Shrinkage weight towards the prior, chosen by a backtest on data up to ``end`` only.

    Parameters
    ----------
    asset : Series
        Monthly log returns.
    prior : Series
        Annual prior centre known at each month (:func:`drift_prior` with that month as ``end``).
    first : str
        First month of the fitting windows (their mean is the data's estimate).
    end : str or Timestamp
        Cut-off: the last realised month any past forecast may use.
    horizon : int
        Months ahead of each past forecast.
    grid : tuple of float
        Candidate weights.

    Returns
    -------
    dict
        ``weight``, ``mse`` (per candidate), ``n`` (past forecasts scored).

    Notes
    -----
    At each past origin ``s`` (window ``first..s`` of at least :data:`MIN_WINDOW` months, and
    ``s + horizon <= end``): ``f_s(w) = horizon / 12 (w m_s + (1 - w) 12 mean(r_first..s))``,
    scored on ``sum r_{s+1..s+horizon}``.
    """
    r = asset.loc[first:end].dropna()
    cum = r.cumsum()
    n = np.arange(1, len(r) + 1)
    window_mean = 12.0 * cum.to_numpy() / n
    ahead = cum.shift(-horizon) - cum  # realised sum over s+1..s+horizon
    p = prior.reindex(r.index).to_numpy()
    ok = (n >= MIN_WINDOW) & ahead.notna().to_numpy() & np.isfinite(p)
    if ok.sum() < 12:
        return {
            "weight": 1.0,
            "mse": {},
            "n": int(ok.sum()),
            "note": "too few past forecasts: prior",
        }
    y = ahead.to_numpy()[ok]
    mse = {}
    for w in grid:
        f = horizon / 12.0 * (w * p[ok] + (1.0 - w) * window_mean[ok])
        mse[float(w)] = float(np.mean((y - f) ** 2))
    best = min(mse, key=lambda w: (mse[w], -w))  # ties: more shrinkage
    return {"weight": best, "mse": mse, "n": int(ok.sum())}
