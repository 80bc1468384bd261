"""Exact moments of cumulative returns at every step: mean and standard deviation."""

from __future__ import annotations

import numpy as np
import xarray as xr

from simengine import stats
from simengine.statistics.base import ChunkPaths, Column, State, Statistic, Variable, n_paths

__all__ = ["Moments"]


class Moments(Statistic):
    """Exact sums of returns and squares per series and step (quantised integers).

    Notes
    -----
    ``mean = sum / n``, ``std = sqrt((sum_sq / n - mean**2) * n / (n - 1))`` with
    ``sum = sum_i round(R_i 2**Q_SUM)`` and ``sum_sq = sum_i round(R_i**2 2**Q_SQ)``.
    """

    name = "moments"
    columns = (Column("mean", label="mean"), Column("std", label="volatility"))

    @property
    def variables(self) -> tuple[Variable, ...]:
        return (Variable("sum", ("series", "time")), Variable("sum_sq", ("series", "time")))

    def update(self, chunk: ChunkPaths) -> State:
        R = chunk.returns
        return {
            "sum": stats.quantised_sum(R, axis=-1, checked=True),
            "sum_sq": stats.quantised_sum(R, axis=-1, square=True, checked=True),
        }

    def summary(self, ds: xr.Dataset, t: int, terminal: bool) -> dict[str, np.ndarray]:
        n = n_paths(ds)
        mean = ds["sum"].values[..., t] / float(2**stats.Q_SUM) / n
        ex2 = ds["sum_sq"].values[..., t] / float(2**stats.Q_SQ) / n
        var = np.maximum(ex2 - mean**2, 0.0) * n / np.maximum(n - 1.0, 1.0)
        return {"mean": mean, "std": np.sqrt(var)}
