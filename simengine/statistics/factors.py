"""Mean factor paths (policy rate, tariff level and the stochastic factors) at every step."""

from __future__ import annotations

import numpy as np
import xarray as xr

from simengine import stats
from simengine.statistics.base import ChunkPaths, State, Statistic, Variable

__all__ = ["FactorMeans"]


class FactorMeans(Statistic):
    """Exact quantised sums over paths of every factor at every step (no summary column;
    :meth:`mean` gives the mean paths)."""

    name = "factor_means"

    @property
    def variables(self) -> tuple[Variable, ...]:
        return (Variable("factor_sum", ("time", "factor")),)

    def update(self, chunk: ChunkPaths) -> State:
        m = chunk.n
        cols = []
        for block in chunk.factors:  # (m or 1, T, k): a shared row counts m times
            if block.shape[0] == 1:
                cols.append(stats.quantise(block[0]) * m)
            else:
                cols.append(stats.quantised_sum(block, axis=0))
        return {"factor_sum": np.concatenate(cols, axis=1)}

    @staticmethod
    def mean(ds: xr.Dataset) -> xr.DataArray:
        """Mean factor paths, dims (scenario, time, factor)."""
        n = ds["n_paths"].values.astype(np.float64)[:, None, None]
        return (ds["factor_sum"] / float(2**stats.Q_SUM) / n).rename("factor_mean")
