"""The first ``n_sample`` paths of a run, kept whole (plots, backtests, weighting)."""

from __future__ import annotations

import numpy as np

from simengine.statistics.base import ChunkPaths, Layout, State, Statistic, Variable

__all__ = ["Sample"]


class Sample(Statistic):
    """Cumulative returns, factor paths and parameter-draw index of the run's first paths.

    A chunk keeps its paths that fall among the first ``n_sample``; merging two states of
    adjacent path ranges concatenates them in path order (by ``sample_first``, the index of the
    range's first path), so the kept sample does not depend on chunking or thread order.
    """

    name = "sample"

    def __init__(self, layout: Layout, n_sample: int) -> None:
        super().__init__(layout)
        self.n_sample = n_sample

    @property
    def variables(self) -> tuple[Variable, ...]:
        return (
            Variable("sample_returns", ("sample", "time", "series")),
            Variable("sample_factors", ("sample", "time", "factor")),
            Variable("sample_draw", ("sample",)),
        )

    def update(self, chunk: ChunkPaths) -> State:
        keep = max(0, min(self.n_sample - chunk.first_path, chunk.n))
        T = chunk.returns.shape[1]
        factors = np.concatenate(
            [np.broadcast_to(b[:keep], (keep, T, b.shape[2])) for b in chunk.factors], axis=-1
        )
        return {
            "sample_returns": np.ascontiguousarray(chunk.returns[:, :, :keep].transpose(2, 1, 0)),
            "sample_factors": factors,
            "sample_draw": chunk.draw[:keep].astype(np.int64),
            "sample_first": np.array(chunk.first_path),
        }

    def merge(self, a: State, b: State) -> State:
        first, second = (a, b) if a["sample_first"] <= b["sample_first"] else (b, a)
        out = {
            k: np.concatenate([first[k], second[k]])[: self.n_sample]
            for k in ("sample_returns", "sample_factors", "sample_draw")
        }
        return out | {"sample_first": first["sample_first"]}
