"""Summaries, files and the PIT plot of a backtest (the forecasts table of :func:`run_backtest`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simengine.backtest.scores import LEVELS, pit_chi2
from simengine.exceptions import NumericalError
from simengine.io import atomic_write

__all__ = ["diebold_mariano", "hac_se", "plot_pit", "save_backtest", "summarise", "summary_json"]

PIT_BINS = 10
MIN_HAC_SCORES = 24
"""Fewest scores (origins) for a standard error or a Diebold-Mariano test (two years of monthly
origins; with fewer, the autocovariances that choose the bandwidth are not estimable)."""
UNCERTAINTY = ("_se", "crps_dm")
"""Summary columns that are NaN when there are too few origins (:data:`MIN_HAC_SCORES`)."""


FORECASTERS: tuple[tuple[str, str], ...] = (
    ("model", ""),
    ("random_walk", "rw_"),
    ("vix_random_walk", "vrw_"),
)
"""Forecaster name and its column prefix in the forecasts table."""


def _forecasters(forecasts: pd.DataFrame) -> list[tuple[str, str]]:
    return [(who, p) for who, p in FORECASTERS if f"{p}crps" in forecasts.columns]


def hac_se(x: np.ndarray) -> float:
    """Standard error of the mean of ``x``, a series of scores of forecasts made every month for
    several months ahead: consecutive ones share months of outcome, so they are autocorrelated.

    ``se = sqrt(LRV / n)``, the long-run variance ``LRV`` by the quadratic-spectral kernel
    with its bandwidth chosen from the data (Andrews 1991, Econometrica 59(3), the kernel's
    optimality; Newey and West 1994, Rev. Economic Studies 61(4), the bandwidth), as
    :class:`arch.covariance.kernel.QuadraticSpectral` computes it. On 300 overlapping 6-month
    windows of white noise it gives about 0.9 of the spread of the mean over samples (the
    usual small-sample shortfall), where the iid formula gives 0.4. NaN with fewer than
    :data:`MIN_HAC_SCORES` scores.
    """
    from arch.covariance.kernel import QuadraticSpectral

    x = np.asarray(x, dtype=float)
    if len(x) < MIN_HAC_SCORES:
        return float("nan")
    if np.all(x == x[0]):
        return 0.0
    lrv = float(QuadraticSpectral(x).cov.long_run[0, 0])
    return float(np.sqrt(max(lrv, 0.0) / len(x)))


def diebold_mariano(loss: np.ndarray, benchmark: np.ndarray) -> tuple[float, float]:
    """Diebold-Mariano test of equal mean score: ``(statistic, two-sided p-value)``.

    ``d_t = benchmark_t - loss_t`` (> 0: the forecaster scores better),
    ``DM = mean(d) / se(d)`` with :func:`hac_se`, against the standard normal (Diebold and
    Mariano 1995, J. Business & Economic Statistics 13(3)). The same scores: ``(0, 1)``;
    fewer than :data:`MIN_HAC_SCORES` scores: ``(nan, nan)``.
    """
    from scipy.special import ndtr

    d = np.asarray(benchmark, dtype=float) - np.asarray(loss, dtype=float)
    se = hac_se(d)
    if se == 0.0 or not np.isfinite(se):
        return (0.0, 1.0) if se == 0.0 else (float("nan"), float("nan"))
    stat = float(d.mean() / se)
    return stat, float(2.0 * ndtr(-abs(stat)))


def summarise(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Per asset and forecaster (``model``, ``random_walk``, ``vix_random_walk``): scores.

    Columns: ``n``, ``cover50``, ``cover80``, ``cover90`` (share of realised values inside the
    central interval), ``crps`` (mean), ``crps_skill`` (1 - CRPS / random-walk CRPS; > 0: beats
    the random walk), ``crps_skill_vix`` (1 - CRPS / VIX-scaled random-walk CRPS, when that
    benchmark was run), ``pit_mean``, ``pit_chi2_p`` (descriptive: overlapping horizons make
    consecutive PITs dependent); then what the overlap allows one to conclude: the standard
    errors ``cover50_se``, ``cover80_se``, ``cover90_se``, ``pit_mean_se`` (:func:`hac_se`),
    and the Diebold-Mariano statistics and p-values of the CRPS against the random walk
    (``crps_dm``, ``crps_dm_p``) and the VIX-scaled one (``crps_dm_vix``, ``crps_dm_vix_p``;
    :func:`diebold_mariano`, > 0: better than the benchmark).

    Raises
    ------
    NumericalError
        If a forecast's score is NaN or infinite (a mean would skip or carry it silently).
    """
    rows = []
    who_prefix = _forecasters(forecasts)
    _check_scores(forecasts, who_prefix)
    for asset, g in forecasts.groupby("asset", sort=False):
        g = g.sort_values("origin") if "origin" in g else g
        rw_crps = float(g["rw_crps"].mean())
        vrw_crps = float(g["vrw_crps"].mean()) if "vrw_crps" in g else None
        for who, prefix in who_prefix:
            crps = float(g[f"{prefix}crps"].mean())
            row: dict[str, Any] = {"asset": asset, "forecaster": who, "n": len(g)}
            for c in LEVELS:
                row[f"cover{int(c * 100)}"] = float(g[f"{prefix}in{int(c * 100)}"].mean())
            row["crps"] = crps
            row["crps_skill"] = 1.0 - crps / rw_crps
            if vrw_crps is not None:
                row["crps_skill_vix"] = 1.0 - crps / vrw_crps
            row["pit_mean"] = float(g[f"{prefix}pit"].mean())
            row["pit_chi2_p"] = pit_chi2(g[f"{prefix}pit"].to_numpy(), PIT_BINS)[1]
            row.update(_uncertainty(g, prefix, vrw_crps is not None))
            rows.append(row)
    out = pd.DataFrame(rows).set_index(["asset", "forecaster"])
    scores = [c for c in out.columns if not any(u in c for u in UNCERTAINTY)]
    if not np.all(np.isfinite(out[scores].to_numpy(dtype=np.float64))):
        raise NumericalError(
            "backtest summary has NaN/inf: too few origins or a degenerate forecast"
        )
    return out


def _check_scores(forecasts: pd.DataFrame, who_prefix: list[tuple[str, str]]) -> None:
    """Every score (CRPS, PIT, coverage) of every forecaster finite, or a NumericalError that
    names the first bad one."""
    for who, prefix in who_prefix:
        for name in ("crps", "pit", *(f"in{int(c * 100)}" for c in LEVELS)):
            values = forecasts[f"{prefix}{name}"].to_numpy(dtype=np.float64)
            bad = ~np.isfinite(values)
            if bad.any():
                row = forecasts.iloc[int(np.argmax(bad))]
                where = f"origin {row['origin']:%Y-%m}, " if "origin" in forecasts else ""
                raise NumericalError(
                    f"backtest {who} score {name} is {values[bad][0]} ({where}{row['asset']}): "
                    "a degenerate forecast; the summary would skip or carry it"
                )


def _uncertainty(g: pd.DataFrame, prefix: str, vix: bool) -> dict[str, float]:
    """Standard errors of the coverages and the mean PIT, and the Diebold-Mariano tests."""
    out = {
        f"cover{int(c * 100)}_se": hac_se(g[f"{prefix}in{int(c * 100)}"].to_numpy()) for c in LEVELS
    }
    out["pit_mean_se"] = hac_se(g[f"{prefix}pit"].to_numpy())
    crps = g[f"{prefix}crps"].to_numpy()
    out["crps_dm"], out["crps_dm_p"] = diebold_mariano(crps, g["rw_crps"].to_numpy())
    if vix:
        out["crps_dm_vix"], out["crps_dm_vix_p"] = diebold_mariano(crps, g["vrw_crps"].to_numpy())
    return out


def summary_json(forecasts: pd.DataFrame, settings: dict[str, Any]) -> dict[str, Any]:
    """Machine-readable summary: settings, per-asset scores and PIT histogram counts."""
    table = summarise(forecasts)
    doc: dict[str, Any] = {"settings": settings, "assets": {}}
    prefixes = dict(FORECASTERS)
    for (asset, who), row in table.iterrows():
        entry = doc["assets"].setdefault(asset, {})
        prefix = prefixes[str(who)]
        counts = pit_chi2(forecasts.loc[forecasts["asset"] == asset, f"{prefix}pit"].to_numpy())[0]
        values = {k: float(v) if np.isfinite(v) else None for k, v in row.items()}
        entry[who] = {**values, "pit_histogram": counts.tolist()}
    return doc


def save_backtest(
    forecasts: pd.DataFrame, out: Path, settings: dict[str, Any], force: bool = False
) -> list[Path]:
    """Write ``forecasts.csv``, ``summary.csv`` and ``summary.json`` into ``out`` atomically."""
    out = Path(out)
    written = []
    for name, write in (
        ("forecasts.csv", lambda p: forecasts.to_csv(p, index=False)),
        ("summary.csv", lambda p: summarise(forecasts).to_csv(p)),
        (
            "summary.json",
            lambda p: Path(p).write_text(json.dumps(summary_json(forecasts, settings), indent=2)),
        ),
    ):
        with atomic_write(out / name, overwrite=force) as tmp:
            write(tmp)
        written.append(out / name)
    return written


def plot_pit(forecasts: pd.DataFrame, path: Path, force: bool = False) -> Path:
    """PIT histograms (model and random walk, per asset) as a PNG; uniform = calibrated."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assets = list(dict.fromkeys(forecasts["asset"]))
    fig, axes = plt.subplots(1, len(assets), figsize=(5 * len(assets), 3.6), squeeze=False)
    edges = np.linspace(0.0, 1.0, PIT_BINS + 1)
    for ax, asset in zip(axes[0], assets, strict=True):
        g = forecasts[forecasts["asset"] == asset]
        lines = [("pit", "model", "C0"), ("rw_pit", "random walk", "C1")]
        if "vrw_pit" in g:
            lines.append(("vrw_pit", "VIX-scaled random walk", "C2"))
        for col, label, style in lines:
            counts = np.histogram(g[col], bins=edges)[0] / len(g) * PIT_BINS
            ax.stairs(counts, edges, label=label, color=style, linewidth=2)
        ax.axhline(1.0, color="grey", linestyle="--", linewidth=1, label="uniform")
        ax.set(title=f"PIT of {asset} ({len(g)} origins)", xlabel="PIT", ylabel="density")
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    with atomic_write(path, overwrite=force) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path
