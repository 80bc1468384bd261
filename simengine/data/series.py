"""Building blocks of the calibration table: raw observations -> one value per period.

Each function takes already-loaded series (see :mod:`simengine.data.loaders`) and a period
grid (period-end dates) and returns a float series on that grid. No file access here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simengine.exceptions import DataError

__all__ = [
    "FREQUENCIES",
    "log_return",
    "mark_stale",
    "monthly_to_grid",
    "period_change",
    "period_last",
    "policy_rate",
    "tariff_level",
]

#: pandas resample rule of each table frequency (period-end labels).
FREQUENCIES: dict[str, str] = {"monthly": "ME", "weekly": "W-FRI"}

#: Rolling window (observations) of the median that smooths month-end EFFR spikes.
EFFR_MEDIAN_WINDOW = 5


def rule(frequency: str) -> str:
    """Return the resample rule of a table frequency, or raise a clear error."""
    try:
        return FREQUENCIES[frequency]
    except KeyError:
        raise DataError(
            f"frequency {frequency!r} is not supported (choose one of {list(FREQUENCIES)})"
        ) from None


def period_last(series: pd.Series, grid: pd.DatetimeIndex, frequency: str) -> pd.Series:
    """Last valid observation in each period of ``grid``.

    Holiday rows and blanks are skipped (the last *valid* value counts); a period without any
    valid observation is NaN, never the previous period's value.

    Parameters
    ----------
    series : pandas.Series
        Observations on a DatetimeIndex (daily or irregular).
    grid : pandas.DatetimeIndex
        Period-end dates of the table.
    frequency : str
        ``"monthly"`` or ``"weekly"``.

    Returns
    -------
    pandas.Series
        One value per grid date.
    """
    valid = series.dropna()
    if valid.empty:
        return pd.Series(np.nan, index=grid, name=series.name)
    last = valid.resample(rule(frequency)).last()
    return last.reindex(grid)


def mark_stale(close: pd.Series) -> pd.Series:
    """Blank out stale vendor prints: a close exactly equal to the previous close.

    A real index practically never closes unchanged to every printed digit; such rows are
    repeated vendor values. They become NaN so that daily returns do not show a fake zero
    (the next valid close then carries the two-day move). Period-end levels are unaffected
    because the last valid observation equals the stale one.
    """
    stale = close.diff() == 0
    return close.mask(stale)


def log_return(level: pd.Series) -> pd.Series:
    """Log return between consecutive values (NaN where either end is missing)."""
    return np.log(level).diff()


def period_change(level: pd.Series) -> pd.Series:
    """Change between consecutive period values (NaN where either end is missing)."""
    return level.diff()


def monthly_to_grid(
    monthly: pd.Series, grid: pd.DatetimeIndex, frequency: str, max_age_days: int = 40
) -> pd.Series:
    """Put a month-end-dated series on the table grid.

    Monthly grid: aligned by date. Weekly grid: each week carries the value of the latest
    month end on or before its Friday (forward fill), at most ``max_age_days`` old, so a
    month without a print stays NaN instead of repeating the previous month.
    """
    monthly = monthly.sort_index()
    if frequency == "monthly":
        return monthly.reindex(grid)
    return monthly.reindex(grid, method="ffill", tolerance=pd.Timedelta(days=max_age_days))


def policy_rate(
    upper: pd.Series,
    lower: pd.Series,
    effr: pd.Series,
    fedfunds: pd.Series,
    grid: pd.DatetimeIndex,
    frequency: str,
) -> tuple[pd.Series, pd.Timestamp]:
    """Fed funds policy rate at each period end (%).

    Parameters
    ----------
    upper, lower : pandas.Series
        Daily target range bounds (from 2008-12-16).
    effr : pandas.Series
        Daily effective fed funds rate (from 2000-07).
    fedfunds : pandas.Series
        Monthly average effective rate, dated at month end (from 1954).
    grid : pandas.DatetimeIndex
        Period-end dates.
    frequency : str
        ``"monthly"`` or ``"weekly"``.

    Returns
    -------
    (pandas.Series, pandas.Timestamp)
        The policy rate on the grid and the first date of the target range.

    Notes
    -----
    From the first target-range day: midpoint ``(upper + lower) / 2`` on the last valid day of
    the period. Before it: the median of the last five daily EFFR prints up to the period end
    (the raw month-end EFFR has quarter- and year-end spikes of up to 1.2 pp). Before daily
    EFFR exists: the monthly average FEDFUNDS (forward-filled onto weekly grids).
    """
    mid = ((upper + lower) / 2.0).dropna()
    if mid.empty:
        raise DataError("the fed funds target range has no valid values")
    start = mid.index[0]
    smooth = effr.dropna().rolling(EFFR_MEDIAN_WINDOW, min_periods=1).median()
    daily = pd.concat([smooth[smooth.index < start], mid]).sort_index()
    out = period_last(daily, grid, frequency)
    first_daily = smooth.index[0] if not smooth.empty else start
    early = monthly_to_grid(fedfunds, grid, frequency)
    use_monthly = grid < first_daily + pd.offsets.MonthEnd(0)
    return out.where(~use_monthly, early), start


def tariff_level(
    annual: pd.Series, statutory: pd.Series, grid: pd.DatetimeIndex, frequency: str
) -> tuple[pd.Series, pd.Series]:
    """Effective tariff rate (%) on the grid and its change per period (pp).

    Parameters
    ----------
    annual : pandas.Series
        Annual customs duty rate (% of goods imports), dated at each year's 1 January.
    statutory : pandas.Series
        Daily import-weighted statutory tariff rate (%), 2025.
    grid : pandas.DatetimeIndex
        Period-end dates.
    frequency : str
        ``"monthly"`` or ``"weekly"``.

    Returns
    -------
    (level, change) : tuple of pandas.Series

    Notes
    -----
    Splice. Up to the period before the first statutory observation, each period carries its
    calendar year's annual rate (a year with a blank rate holds the previous year's value,
    e.g. 2024 holds 2023's 2.64%). From the period containing the first statutory day
    (2025-01-01) the level is the statutory series on the last valid day of the period. The
    two sources differ in level (2.64 vs 2.30), so the change in the splice period is taken
    *within* the statutory series (period-end value minus its first observation), not across
    the sources: the splice never shows up as a tariff shock.
    """
    stat = statutory.dropna()
    if stat.empty:
        raise DataError("the daily tariff series has no valid values")
    years = annual.groupby(annual.index.year).last().ffill()
    pre = pd.Series(grid.year.map(years).to_numpy(dtype=float), index=grid)
    post = period_last(stat, grid, frequency)
    first_period = grid[grid >= stat.index[0]][:1]
    is_post = grid >= first_period[0] if len(first_period) else np.zeros(len(grid), bool)
    level = pre.where(~is_post, post)
    change = period_change(level)
    if len(first_period):
        change.loc[first_period[0]] = post.loc[first_period[0]] - stat.iloc[0]
    return level, change
