"""Histogram quantiles (per step and, finer, at the horizon) and tail risk (VaR, ES)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from simengine import stats
from simengine.statistics.base import ChunkPaths, Column, Layout, State, Statistic, Variable

__all__ = ["QUANTILES", "Quantiles", "Tails", "histogram", "return_floor"]

QUANTILES: tuple[float, ...] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def histogram(
    grid: stats.BinGrid, z: np.ndarray, values: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row histograms from transformed values ``z`` (rows, m) -> counts (rows, bins).

    ``z`` is ``grid.transform(values)``; with ``values`` given, also the exact per-bin sums.
    """
    rows = z.shape[0]
    if _compiled_ok(z, values):  # the same counts and sums in one compiled pass
        from simengine.kernel import histogram_rows

        v = np.zeros((0, 0)) if values is None else values
        per_unit = grid.n_bins / (2.0 * grid.z_max)  # as BinGrid.index_from_z computes it
        counts, sums = histogram_rows(
            z, v, grid.z_max, per_unit, grid.n_bins, float(2**stats.Q_BIN)
        )
        return counts, (sums if values is not None else None)
    offset = (np.arange(rows, dtype=np.float64) * grid.size)[:, None]
    flat = grid.index_from_z(z, offset).ravel()
    counts = stats.bincount_exact(flat, None, rows * grid.size).reshape(rows, grid.size)
    sums = None
    if values is not None:
        sums = stats.bincount_exact(flat, values, rows * grid.size).reshape(rows, grid.size)
    return counts, sums


def _compiled_ok(z: np.ndarray, values: np.ndarray | None) -> bool:
    arrays = (z,) if values is None else (z, values)
    return z.ndim == 2 and all(
        a.dtype == np.float64 and a.flags.c_contiguous and a.shape == z.shape for a in arrays
    )


def _qname(p: float) -> str:
    return f"q{int(round(p * 100)):02d}"


class Quantiles(Statistic):
    """Per-step histograms on :data:`stats.COARSE` (fan charts) and terminal ones on
    :data:`stats.FINE` with exact per-bin sums (summary quantiles, tails)."""

    name = "quantiles"
    columns = (
        Column("median", label="median", after="mean"),
        *(Column(_qname(p), label=f"{round(p * 100)}%") for p in QUANTILES if p != 0.5),
    )  # the 50% quantile is the median: one column, not two

    @property
    def variables(self) -> tuple[Variable, ...]:
        return (
            Variable("hist_count", ("series", "time", "cbin")),
            Variable("term_count", ("series", "bin")),
            Variable("term_sum", ("series", "bin")),
        )

    def update(self, chunk: ChunkPaths) -> State:
        R = chunk.returns
        S, T, m = R.shape
        # one asinh for both grids (same scale): per-step coarse bins, terminal fine bins
        zt = stats.COARSE.transform(R)
        hist = histogram(stats.COARSE, zt.reshape(S * T, m))[0].reshape(S, T, -1)
        count, total = histogram(stats.FINE, zt[:, -1, :], chunk.terminal)
        return {"hist_count": hist, "term_count": count, "term_sum": total}

    def summary(self, ds: xr.Dataset, t: int, terminal: bool) -> dict[str, np.ndarray]:
        q = self.at(ds, t, terminal, QUANTILES)
        return {"median": q[..., QUANTILES.index(0.5)]} | {
            _qname(p): q[..., i] for i, p in enumerate(QUANTILES) if p != 0.5
        }

    @staticmethod
    def at(ds: xr.Dataset, t: int, terminal: bool, quantiles: Sequence[float]) -> np.ndarray:
        """Quantiles (scenario, series, Q) at step ``t``: fine with exact bin sums at the
        horizon, coarse per-step bins elsewhere (never below :func:`return_floor`)."""
        floor = return_floor(Layout.from_dataset(ds))[None, :, None]
        if terminal:
            return stats.quantile_from_hist(
                ds["term_count"].values,
                stats.FINE,
                np.asarray(quantiles),
                ds["term_sum"].values,
                floor=floor,
            )
        return stats.quantile_from_hist(
            ds["hist_count"].values[:, :, t], stats.COARSE, np.asarray(quantiles), floor=floor
        )

    @staticmethod
    def paths(ds: xr.Dataset, quantiles: Sequence[float]) -> np.ndarray:
        """Quantiles at every step (scenario, series, time, Q) from the per-step histograms."""
        floor = return_floor(Layout.from_dataset(ds))[None, :, None, None]
        return stats.quantile_from_hist(
            ds["hist_count"].values, stats.COARSE, np.asarray(quantiles), floor=floor
        )


def return_floor(layout: Layout) -> np.ndarray:
    """Smallest possible cumulative return per series (S,).

    An asset's simple return is at least -1 (-100%); a portfolio with weights ``w`` per $1 is
    at least ``-sum(w)`` when every weight is positive, and unbounded below (``-inf``) with a
    short leg.
    """
    out = np.full(len(layout.series), -1.0)
    for i, name in enumerate(layout.series):
        weights = layout.portfolios.get(name)
        if weights is not None:
            w = np.array(list(weights.values()), dtype=float)
            out[i] = -w.sum() if np.all(w >= 0) else -np.inf
    return out


class Tails(Statistic):
    """Value at risk and expected shortfall at the horizon, from the terminal histogram of
    :class:`Quantiles` (writes no variable of its own).

    Notes
    -----
    ``VaR_a = -q_(1-a)``; ``ES_a = -E[R | R <= q_(1-a)]`` from the exact per-bin sums. The
    quantile interpolates inside its bin while the shortfall uses the bin's exact mean; where
    the two disagree (less than a bin width, e.g. every path near -100%) ``ES_a = max(ES_a,
    VaR_a)``, which holds for the exact distribution. Neither goes beyond the series' floor
    (:func:`return_floor`: a long asset loses at most 100%).
    """

    name = "tails"
    columns = (
        Column("var_95", label="VaR 95%"),
        Column("var_99", label="VaR 99%"),
        Column("es_95", label="ES 95%"),
        Column("es_99", label="ES 99%"),
    )

    @property
    def variables(self) -> tuple[Variable, ...]:
        return ()

    def update(self, chunk: ChunkPaths) -> State:
        return {}

    def summary(self, ds: xr.Dataset, t: int, terminal: bool) -> dict[str, np.ndarray]:
        if not terminal:
            return {}
        counts, sums = ds["term_count"].values, ds["term_sum"].values
        floor = return_floor(Layout.from_dataset(ds))[None, :]
        q = stats.quantile_from_hist(
            counts, stats.FINE, np.array([0.05, 0.01]), sums, floor=floor[..., None]
        )
        out = {"var_95": -q[..., 0], "var_99": -q[..., 1]}
        for key, alpha in (("es_95", 0.05), ("es_99", 0.01)):
            below = np.maximum(stats.es_from_hist(counts, sums, stats.FINE, alpha), floor)
            out[key] = np.maximum(-below, out["var" + key[2:]])
        return out
