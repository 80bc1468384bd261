"""Probabilities: of a loss, that one series beats another, of a per-path event."""

from __future__ import annotations

import numpy as np
import xarray as xr

from simengine.statistics.base import (
    ChunkPaths,
    Column,
    State,
    Statistic,
    Variable,
    n_paths,
    per_series,
)

__all__ = ["Beats", "Events", "Loss"]


class Loss(Statistic):
    """Paths with a cumulative return below zero, per series and step: ``P(R_t < 0)``."""

    name = "loss"
    columns = (Column("prob_loss", label="P(loss)"),)

    @property
    def variables(self) -> tuple[Variable, ...]:
        return (Variable("loss_count", ("series", "time")),)

    def update(self, chunk: ChunkPaths) -> State:
        return {"loss_count": np.count_nonzero(chunk.returns < 0, axis=-1).astype(np.int64)}

    def summary(self, ds: xr.Dataset, t: int, terminal: bool) -> dict[str, np.ndarray]:
        return {"prob_loss": ds["loss_count"].values[..., t] / n_paths(ds)}


class Beats(Statistic):
    """For each comparison ``name: a beats b``, paths per step with ``R_a > R_b``: variable
    ``<name>`` (time), column ``prob_<name>`` (the same for every series)."""

    name = "beats"

    @property
    def columns(self) -> tuple[Column, ...]:  # type: ignore[override]
        return tuple(
            Column(f"prob_{b.name}", label=f"P({b.a} beats {b.b})") for b in self.layout.beats
        )

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(Variable(b.name, ("time",)) for b in self.layout.beats)

    def update(self, chunk: ChunkPaths) -> State:
        R, lay = chunk.returns, self.layout
        return {
            b.name: np.count_nonzero(R[lay.index(b.a)] > R[lay.index(b.b)], axis=-1).astype(
                np.int64
            )
            for b in lay.beats
        }

    def summary(self, ds: xr.Dataset, t: int, terminal: bool) -> dict[str, np.ndarray]:
        n = n_paths(ds)[:, 0]
        S = len(self.layout.series)
        return {
            f"prob_{b.name}": per_series(ds[b.name].values[:, t] / n, S) for b in self.layout.beats
        }


class Events(Statistic):
    """For each event flag ``name``, paths where it happened at least once over the horizon:
    variable ``<name>_any``, column ``prob_<name>`` (the same for every series)."""

    name = "events"

    @property
    def columns(self) -> tuple[Column, ...]:  # type: ignore[override]
        return tuple(Column(f"prob_{e}", label=f"P({e})") for e in self.layout.events)

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(Variable(f"{e}_any", ()) for e in self.layout.events)

    def update(self, chunk: ChunkPaths) -> State:
        return {
            f"{e}_any": np.asarray(np.count_nonzero(chunk.events[e]), np.int64)
            for e in self.layout.events
        }

    def summary(self, ds: xr.Dataset, t: int, terminal: bool) -> dict[str, np.ndarray]:
        n = n_paths(ds)[:, 0]
        S = len(self.layout.series)
        return {f"prob_{e}": per_series(ds[f"{e}_any"].values / n, S) for e in self.layout.events}
