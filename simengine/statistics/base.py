"""The statistics interface: what a chunk of paths offers, what a statistic declares.

A statistic is an exact streaming accumulator. For each chunk of simulated paths it computes a
*state*: a dict of named arrays (integer counts, quantised integer sums, or per-block float
moments that are zero outside the chunk's own blocks). States of two chunks merge by addition,
which is exact and order-independent, so the merged totals are bit-identical for any chunk size
or thread count. The state variables are the variables of the saved result dataset; the
statistic also turns the dataset back into summary columns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np
import xarray as xr

__all__ = [
    "Beat",
    "ChunkPaths",
    "Column",
    "Layout",
    "State",
    "Statistic",
    "Variable",
]

State = dict[str, np.ndarray]


@dataclass(frozen=True)
class Beat:
    """A comparison "series ``a`` ends above series ``b``", reported as ``prob_<name>``."""

    name: str
    a: str
    b: str


@dataclass(frozen=True)
class Layout:
    """What the statistics are computed over: named series, portfolios, comparisons, events.

    Parameters
    ----------
    series : tuple of str
        Names of the simulated series, in the order of the first axis of
        :attr:`ChunkPaths.returns` (assets, then portfolios).
    factors : tuple of str
        Names of the factor columns of :attr:`ChunkPaths.factors`.
    portfolios : mapping of str to mapping of str to float
        Portfolio series (P&L per $1 a side) and their asset weights, e.g.
        ``{"pair": {"large_cap": 1, "small_cap": -1}}``. Drawdowns of portfolios are in dollars,
        of assets a fraction of the running peak.
    beats : tuple of Beat
        "A beats B" comparisons.
    events : tuple of str
        Per-path event flags (``squeeze`` -> variable ``squeeze_any``, column ``prob_squeeze``).
    """

    series: tuple[str, ...]
    factors: tuple[str, ...] = ()
    portfolios: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    beats: tuple[Beat, ...] = ()
    events: tuple[str, ...] = ()

    def index(self, name: str) -> int:
        """Position of series ``name``."""
        return self.series.index(name)

    @property
    def is_portfolio(self) -> np.ndarray:
        """Boolean mask over :attr:`series`: True for portfolio (P&L) series."""
        return np.array([s in self.portfolios for s in self.series], dtype=bool)

    def to_json(self) -> str:
        """The layout as JSON (stored in the result's attributes)."""
        return json.dumps(
            {
                "series": list(self.series),
                "factors": list(self.factors),
                "portfolios": {k: dict(v) for k, v in self.portfolios.items()},
                "beats": [[b.name, b.a, b.b] for b in self.beats],
                "events": list(self.events),
            }
        )

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> Layout:
        """The layout a result was written with (results without the stamp: today's rules)."""
        if "layout" in ds.attrs:
            d = json.loads(ds.attrs["layout"])
            return cls(
                series=tuple(d["series"]),
                factors=tuple(d["factors"]),
                portfolios=d["portfolios"],
                beats=tuple(Beat(*b) for b in d["beats"]),
                events=tuple(d["events"]),
            )
        series = tuple(str(s) for s in ds["series"].values.tolist())
        return cls(
            series=series,
            factors=tuple(str(f) for f in ds["factor"].values.tolist()),
            portfolios={"pair": {"large_cap": 1.0, "small_cap": -1.0}} if "pair" in series else {},
            beats=(Beat("small_beats_large", "small_cap", "large_cap"),)
            if "small_beats_large" in ds
            else (),
            events=("squeeze",) if "squeeze_any" in ds else (),
        )


@dataclass(frozen=True)
class ChunkPaths:
    """Everything the statistics see of one chunk of ``m`` paths of one scenario.

    Attributes
    ----------
    returns : ndarray (S, T, m)
        Simple cumulative returns per series (series-major, contiguous rows).
    factors : tuple of ndarray
        Factor paths in blocks of shape (m or 1, T, k), concatenated in :attr:`Layout.factors`
        order; a block with one row is shared by all paths (a deterministic factor).
    events : mapping of str to ndarray (m,) bool
        Per-path event flags by event name.
    draw : ndarray (m,) int
        Parameter-draw index of each path (0 for point parameters).
    n_draws : int
        Number of parameter draws.
    first_block, n_blocks : int
        Index of the chunk's first random-number block and the run's block count.
    block : int
        Paths per random-number block.
    first_path : int
        Index of the chunk's first path in the run.
    reference : ndarray (S, m), optional
        Terminal returns of the reference scenario on the same paths (differences).
    """

    returns: np.ndarray
    factors: tuple[np.ndarray, ...]
    events: Mapping[str, np.ndarray]
    draw: np.ndarray
    n_draws: int
    first_block: int
    n_blocks: int
    block: int
    first_path: int
    reference: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Paths in the chunk."""
        return self.returns.shape[2]

    @property
    def terminal(self) -> np.ndarray:
        """Terminal cumulative returns (S, m) (a view)."""
        return self.returns[:, -1, :]


@dataclass(frozen=True)
class Variable:
    """A dataset variable a statistic writes: name and dims after the leading ``scenario``."""

    name: str
    dims: tuple[str, ...]


@dataclass(frozen=True)
class Column:
    """A summary column: name, display format, label, and placement.

    ``after`` places the column right after another statistic's column (e.g. ``median`` after
    ``mean``); otherwise columns follow the registration order of the statistics.
    """

    name: str
    fmt: Literal["percent", "number"] = "percent"
    label: str = ""
    after: str | None = None


class Statistic:
    """An exact streaming statistic (subclass and register in :mod:`simengine.statistics`).

    A subclass declares :attr:`variables` (what it writes into the result dataset),
    :attr:`columns` (summary columns) and :attr:`difference_columns` (columns of the difference
    table of a comparison), and implements :meth:`update`; :meth:`merge` adds states, which is
    exact for integer counts and sums. :meth:`summary` and :meth:`difference` read the dataset.
    """

    name: ClassVar[str] = ""
    columns: tuple[Column, ...] = ()
    difference_columns: tuple[Column, ...] = ()

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    @property
    def variables(self) -> tuple[Variable, ...]:
        """The dataset variables this statistic writes (state keys)."""
        raise NotImplementedError

    def update(self, chunk: ChunkPaths) -> State:
        """The state of one chunk: one array per :attr:`variables` entry."""
        raise NotImplementedError

    def merge(self, a: State, b: State) -> State:
        """Combine two chunks' states exactly (default: add; integers make it exact)."""
        return {k: a[k] + b[k] for k in a}

    def summary(self, ds: xr.Dataset, t: int, terminal: bool) -> dict[str, np.ndarray]:
        """Summary columns at step ``t``, each (scenario, series)."""
        return {}

    def difference(self, ds: xr.Dataset) -> dict[str, np.ndarray]:
        """Columns of the difference table, each (scenario, series), on non-reference scenarios."""
        return {}


def n_paths(ds: xr.Dataset) -> np.ndarray:
    """Paths per scenario as float64, shape (scenario, 1) for broadcasting over series."""
    return ds["n_paths"].values.astype(np.float64)[:, None]


def per_series(values: np.ndarray, n_series: int) -> np.ndarray:
    """Repeat a per-scenario column (scenario,) over the series: (scenario, series)."""
    return np.repeat(values[:, None], n_series, axis=1)
