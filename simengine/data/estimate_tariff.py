"""Tariffs as news: how much of a tariff surprise's price effect reverses, and how fast.

On a tariff news day the index moves by ``beta_tariff x (surprise change of the tariff rate)``
(:func:`simengine.data.fit.tariff_events`). April 2025 showed most of those moves undone within
weeks. This module measures the reversal on the 2025 event windows::

    post_{e,H} = log P_{end_e + H} - log P_{end_e} - beta sum_{e' starting in (end_e, end_e + H]} dtau_{e'}
    post_{e,H} = a_H - R_H x event_return_e + error     (pooled over RUT and NDX)

``post`` is the return over the ``H`` trading days after the event window, net of the effect of
later tariff news inside those days at the event-day loading; the intercept ``a_H`` takes the
common drift of the weeks after April 2025 (the rally was not only tariff news); ``R_H`` is
the share of the event move undone after ``H`` days. The curve ``R_H = R (1 - exp(-lambda H))`` gives the share
that reverses, ``R``, and its rate, ``lambda`` (per trading day; x21 per month).

Which rate is the news: the statutory import-weighted rate (tradewartracker) moves on the
announcement days (02 Apr after the close, 08 and 09 Apr, 12 May), when the indices moved; the
Budget Lab effective rate moves on implementation dates and did not move on the 09 Apr pause or
the 12 May Geneva deal, the two largest rallies. So the statutory rate's announced changes are
the surprises that move prices (:func:`compare_rates` measures the fit of both), while the
effective rate is what the economy pays (its level drives the inflation and growth
pass-through).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from simengine.data.loaders import read_index_csv

__all__ = [
    "EFFECTIVE_FILE",
    "HORIZONS",
    "STATUTORY_FILE",
    "compare_rates",
    "event_table",
    "fit_reversal",
]

STATUTORY_FILE = "tariffs/import_weighted_statutory_tariff_daily.csv"
EFFECTIVE_FILE = "tariffs/budgetlab_daily_effective_rate.csv"
HORIZONS: tuple[int, ...] = (5, 10, 21, 42, 63)
INDEX_FILES = {"small_cap": "equity/RUT_index_daily.csv", "large_cap": "equity/NDX_index_daily.csv"}


def _closes(data_dir: Path) -> dict[str, pd.Series]:
    return {a: read_index_csv(Path(data_dir) / f)["Close"] for a, f in INDEX_FILES.items()}


def event_table(
    data_dir: Path,
    events: Sequence[tuple[str, str, list[str], str]],
    beta: dict[str, float],
    horizons: tuple[int, ...] = HORIZONS,
) -> pd.DataFrame:
    """One row per event and asset: the window return and the net returns ``H`` days after.

    Parameters
    ----------
    data_dir : Path
        Data folder.
    events : sequence
        ``(window start close, window end close, statutory dates, label)`` as
        :data:`simengine.data.fit.TARIFF_EVENTS`.
    beta : dict
        Asset -> event-day tariff loading (log return per pp).
    horizons : tuple of int
        Trading days after the window end.
    """
    level = pd.read_csv(Path(data_dir) / STATUTORY_FILE, parse_dates=["date"])
    change = level.set_index("date")["import_weighted_avg_tariff"].diff()
    dtau = {e[0]: float(sum(change.loc[pd.Timestamp(d)] for d in e[2])) for e in events}
    rows = []
    for asset, close in _closes(data_dir).items():
        days = close.index
        for start, end, _, label in events:
            i_end = days.get_loc(pd.Timestamp(end))
            row: dict[str, Any] = {
                "asset": asset,
                "event": f"{start}..{end}",
                "what": label,
                "dtau": dtau[start],
                "event_return": float(np.log(close.loc[end] / close.loc[start])),
            }
            for h in horizons:
                if i_end + h >= len(days):
                    row[f"post{h}"] = np.nan
                    continue
                stop = days[i_end + h]
                later = sum(
                    dtau[s] for s, _, _, _ in events if pd.Timestamp(end) < pd.Timestamp(s) < stop
                )
                raw = float(np.log(close.iloc[i_end + h] / close.iloc[i_end]))
                row[f"post{h}"] = raw - beta[asset] * later
            rows.append(row)
    return pd.DataFrame(rows)


def fit_reversal(table: pd.DataFrame, horizons: tuple[int, ...] = HORIZONS) -> dict[str, Any]:
    """Share of the event move reversed at each horizon and the exponential curve through them.

    Returns
    -------
    dict
        ``share_by_horizon`` (``R_H`` and its s.e.), ``share`` ``R``, ``rate_per_day``
        ``lambda``, ``half_life_days``, ``rate_per_month`` (``21 lambda``), ``n_events``.
    """
    shares, ses = [], []
    for h in horizons:
        ok = table[f"post{h}"].notna()
        x = np.column_stack([np.ones(ok.sum()), table.loc[ok, "event_return"]])
        y = table.loc[ok, f"post{h}"].to_numpy()
        coef, *_ = np.linalg.lstsq(x, y, rcond=None)
        resid = y - x @ coef
        cov = resid @ resid / max(len(y) - 2, 1) * np.linalg.inv(x.T @ x)
        shares.append(-float(coef[1]))
        ses.append(float(np.sqrt(cov[1, 1])))
    h = np.asarray(horizons, dtype=np.float64)
    r = np.asarray(shares)
    w = 1.0 / np.maximum(np.asarray(ses), 1e-6)
    fit = least_squares(
        lambda th: w * (th[0] * (1.0 - np.exp(-th[1] * h)) - r),
        x0=[0.5, 0.05],
        bounds=([0.0, 1e-4], [1.0, 2.0]),
    )
    share, lam = (float(v) for v in fit.x)
    return {
        "share_by_horizon": {int(k): (s, e) for k, s, e in zip(horizons, shares, ses, strict=True)},
        "share": share,
        "rate_per_day": lam,
        "half_life_days": float(np.log(2.0) / lam),
        "rate_per_month": 21.0 * lam,
        "n_events": int(len(table) // 2),
    }


def compare_rates(
    data_dir: Path, events: Sequence[tuple[str, str, list[str], str]]
) -> dict[str, dict[str, float]]:
    """R^2 of event-window returns on the statutory vs the effective rate's change (through 0).

    The change of each rate over the event window's calendar days (window start exclusive to
    the last attributed statutory date inclusive).
    """
    stat = pd.read_csv(Path(data_dir) / STATUTORY_FILE, parse_dates=["date"]).set_index("date")
    eff = pd.read_csv(Path(data_dir) / EFFECTIVE_FILE, parse_dates=["date"]).set_index("date")
    series = {
        "statutory": stat["import_weighted_avg_tariff"],
        "effective": 100.0 * eff["weighted_etr"],
    }
    closes = _closes(data_dir)
    out: dict[str, dict[str, float]] = {}
    for name, s in series.items():
        x = np.array(
            [
                float(s.loc[:last].iloc[-1] - s.loc[:start].iloc[-1])
                for start, _, dates, _ in events
                for last in [max(dates)]
            ]
        )
        out[name] = {}
        for asset, close in closes.items():
            y = np.array([np.log(close.loc[end] / close.loc[start]) for start, end, _, _ in events])
            beta = float(x @ y / (x @ x)) if x @ x > 0 else 0.0
            resid = y - beta * x
            out[name][asset] = float(1.0 - resid @ resid / (y @ y))
            out[name][f"{asset}_beta"] = beta
    return out
