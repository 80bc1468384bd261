"""Statistics of simulated paths as exact, mergeable accumulators, and the result schema.

Each statistic (:class:`~simengine.statistics.base.Statistic`) turns a chunk of paths
(:class:`~simengine.statistics.base.ChunkPaths`) into a state of named arrays that merge exactly,
declares the dataset variables it writes and the summary columns it reads back. The registry
:func:`default_statistics` fixes which statistics a run computes and the order of the summary
columns; :class:`Accumulators` runs them over chunks; :func:`build_dataset` lays the merged
states out as the result dataset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from simengine import stats
from simengine.statistics.base import Beat, ChunkPaths, Column, Layout, State, Statistic, Variable
from simengine.statistics.differences import Differences
from simengine.statistics.drawdown import Drawdown
from simengine.statistics.factors import FactorMeans
from simengine.statistics.histograms import QUANTILES, Quantiles, Tails
from simengine.statistics.moments import Moments
from simengine.statistics.probabilities import Beats, Events, Loss
from simengine.statistics.sample import Sample
from simengine.statistics.variance_share import ParamVarShare

__all__ = [
    "FORMAT",
    "QUANTILES",
    "Accumulators",
    "Beat",
    "ChunkPaths",
    "Column",
    "Layout",
    "Statistic",
    "Variable",
    "build_dataset",
    "column_formats",
    "default_statistics",
    "difference_columns",
    "summary_columns",
]

FORMAT = "simengine-result/1"


def default_statistics(layout: Layout, n_sample: int = 0) -> tuple[Statistic, ...]:
    """The statistics of a run, in summary-column order (register a new statistic here)."""
    return (
        Moments(layout),
        Quantiles(layout),
        Tails(layout),
        Loss(layout),
        Beats(layout),
        Events(layout),
        Drawdown(layout),
        ParamVarShare(layout),
        FactorMeans(layout),
        Differences(layout),
        Sample(layout, n_sample),
    )


class Accumulators:
    """The merged states of every statistic for one scenario, plus the path count."""

    def __init__(self, statistics: Sequence[Statistic], n: int, states: dict[str, State]) -> None:
        self.statistics = tuple(statistics)
        self.n = n
        self.states = states

    @classmethod
    def of_chunk(cls, statistics: Sequence[Statistic], chunk: ChunkPaths) -> Accumulators:
        """Every statistic's state of one chunk."""
        return cls(statistics, chunk.n, {s.name: s.update(chunk) for s in statistics})

    def merge(self, other: Accumulators) -> None:
        """Add another chunk's states (exact; see :meth:`Statistic.merge`)."""
        self.n += other.n
        for s in self.statistics:
            self.states[s.name] = s.merge(self.states[s.name], other.states[s.name])

    def _block_variables(self) -> list[tuple[str, str]]:
        """(statistic, variable) of every state array indexed by random-number block first."""
        return [
            (s.name, v.name)
            for s in self.statistics
            for v in s.variables
            if v.dims[:1] == ("block",)
        ]

    def trim_blocks(self, first: int, count: int) -> None:
        """Keep only blocks ``first .. first + count - 1`` of the per-block arrays (in place).

        Per-block states are zero outside a part's own blocks, so a part of a cluster run ships
        its blocks only; :meth:`pad_blocks` restores the run's length before :meth:`merge`.
        """
        for stat, name in self._block_variables():
            self.states[stat][name] = self.states[stat][name][first : first + count].copy()

    def pad_blocks(self, first: int, n_blocks: int) -> None:
        """Undo :meth:`trim_blocks`: per-block arrays of all ``n_blocks``, zero outside the part."""
        for stat, name in self._block_variables():
            part = self.states[stat][name]
            full = np.zeros((n_blocks, *part.shape[1:]), part.dtype)
            full[first : first + part.shape[0]] = part
            self.states[stat][name] = full

    @property
    def layout(self) -> Layout:
        """The layout the statistics were built for."""
        return self.statistics[0].layout

    def variable(self, name: str) -> np.ndarray:
        """One dataset variable's merged array."""
        for state in self.states.values():
            if name in state:
                return state[name]
        raise KeyError(name)


def _ordered(columns: Sequence[Column]) -> list[str]:
    """Column names in declaration order, each ``after=`` column moved behind its anchor."""
    order = [c.name for c in columns if c.after is None]
    for c in columns:
        if c.after is not None:
            order.insert(order.index(c.after) + 1, c.name)
    return order


def summary_columns(
    statistics: Sequence[Statistic], ds: xr.Dataset, t: int, terminal: bool
) -> dict[str, np.ndarray]:
    """Every statistic's summary columns at step ``t``, in registry order."""
    cols: dict[str, np.ndarray] = {}
    for s in statistics:
        cols |= s.summary(ds, t, terminal)
    order = _ordered([c for s in statistics for c in s.columns])
    return {name: cols[name] for name in order if name in cols}


def difference_columns(statistics: Sequence[Statistic], ds: xr.Dataset) -> dict[str, np.ndarray]:
    """Every statistic's difference-table columns (non-reference scenarios of ``ds``)."""
    cols: dict[str, np.ndarray] = {}
    for s in statistics:
        cols |= s.difference(ds)
    return cols


def column_formats(statistics: Sequence[Statistic]) -> dict[str, str]:
    """Display format (``percent`` or ``number``) of every summary and difference column."""
    return {c.name: c.fmt for s in statistics for c in (*s.columns, *s.difference_columns)}


def build_dataset(
    accs: Sequence[Accumulators],
    *,
    scenario_names: Sequence[str],
    dates: np.ndarray,
    attrs: dict[str, Any],
) -> xr.Dataset:
    """The result dataset: one variable per declared statistic variable, stacked over scenarios."""
    layout = accs[0].layout
    data: dict[str, Any] = {"n_paths": (("scenario",), np.array([a.n for a in accs], np.int64))}
    for s in accs[0].statistics:
        for v in s.variables:
            data[v.name] = (("scenario", *v.dims), np.stack([a.variable(v.name) for a in accs]))
    n_sample = data["sample_returns"][1].shape[1] if "sample_returns" in data else 0
    coords = {
        "scenario": list(scenario_names),
        "series": list(layout.series),
        "time": dates.astype("datetime64[ns]"),
        "factor": list(layout.factors),
        "sample": np.arange(n_sample),
        "bin_edge": stats.FINE.edges,
        "cbin_edge": stats.COARSE.edges,
    }
    stamps = {"format": FORMAT, **attrs, "layout": layout.to_json()}
    return xr.Dataset(data, coords=coords, attrs=stamps)
