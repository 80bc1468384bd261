"""Maximum drawdown over the horizon: median and 95th percentile across paths."""

from __future__ import annotations

import numpy as np
import xarray as xr

from simengine import stats
from simengine.statistics.base import ChunkPaths, Column, State, Statistic, Variable
from simengine.statistics.histograms import histogram

__all__ = ["Drawdown", "max_drawdown"]


def max_drawdown(R: np.ndarray, is_portfolio: np.ndarray) -> np.ndarray:
    """Maximum drawdown over the horizon per series and path, (S, m), from ``R`` (S, T, m).

    Notes
    -----
    Assets: the largest fall of wealth ``W_t = 1 + R_t`` from its running peak
    ``P_t = max(1, W_1 .. W_t)``, as a fraction of the peak: ``max_t (P_t - W_t) / P_t``.
    Portfolios (P&L per $1 a side): the largest fall of the P&L from its running peak, in
    dollars: ``max_t (P_t - W_t)``. A loop over steps on contiguous (S, m) slices; each value is
    the same as the vectorised ``maximum.accumulate`` form (max is exact).
    """
    S, T, m = R.shape
    if R.dtype == np.float64 and R.flags.c_contiguous:  # the same values in one compiled pass
        from simengine.kernel import drawdown_rows

        return drawdown_rows(R, np.asarray(is_portfolio, dtype=np.bool_), np.empty((S, m)))
    assets = ~is_portfolio
    peak = np.ones((S, m))
    wealth = np.empty((S, m))
    fall = np.empty((S, m))
    dd = np.zeros((S, m))
    for t in range(T):
        np.add(R[:, t], 1.0, out=wealth)
        np.maximum(peak, wealth, out=peak)
        np.subtract(peak, wealth, out=fall)
        if assets.all():
            fall /= peak
        else:
            fall[assets] /= peak[assets]
        np.maximum(dd, fall, out=dd)
    return dd


class Drawdown(Statistic):
    """Histogram (:data:`stats.FINE`) of each path's maximum drawdown per series."""

    name = "drawdown"
    columns = (
        Column("max_drawdown_median", label="max drawdown (median)"),
        Column("max_drawdown_p95", label="max drawdown (95%)"),
    )

    @property
    def variables(self) -> tuple[Variable, ...]:
        return (Variable("drawdown_count", ("series", "bin")),)

    def update(self, chunk: ChunkPaths) -> State:
        dd = max_drawdown(chunk.returns, self.layout.is_portfolio)
        return {"drawdown_count": histogram(stats.FINE, stats.FINE.transform(dd))[0]}

    def summary(self, ds: xr.Dataset, t: int, terminal: bool) -> dict[str, np.ndarray]:
        if not terminal:
            return {}
        q = stats.quantile_from_hist(ds["drawdown_count"].values, stats.FINE, np.array([0.5, 0.95]))
        return {"max_drawdown_median": q[..., 0], "max_drawdown_p95": q[..., 1]}
