"""Path-by-path terminal differences of each scenario from the reference (first) scenario."""

from __future__ import annotations

import numpy as np
import xarray as xr

from simengine import stats
from simengine.statistics.base import ChunkPaths, Column, State, Statistic, Variable
from simengine.statistics.histograms import histogram

__all__ = ["Differences", "block_moments", "pooled_moments"]

DIFF_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def block_moments(
    diff: np.ndarray, block: int, first_block: int, n_blocks: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count, mean and centred sum of squares of ``diff`` (S, m) for each whole block.

    Returns arrays over all ``n_blocks`` blocks of the run (zero outside this chunk's blocks),
    so chunk states merge exactly by addition.
    """
    S = diff.shape[0]
    count = np.zeros(n_blocks, np.int64)
    mean = np.zeros((n_blocks, S))
    m2 = np.zeros((n_blocks, S))
    for j, lo in enumerate(range(0, diff.shape[1], block)):
        part = np.ascontiguousarray(diff[:, lo : lo + block])
        b = first_block + j
        count[b] = part.shape[1]
        mean[b] = part.mean(axis=1)
        m2[b] = np.square(part - mean[b][:, None]).sum(axis=1)
    return count, mean, m2


def pooled_moments(
    count: np.ndarray, mean: np.ndarray, m2: np.ndarray, n: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation from per-block moments, combined in block order.

    Notes
    -----
    ``mean = sum_b n_b mean_b / n``, ``M2 = sum_b [M2_b + n_b (mean_b - mean)^2]``,
    ``std = sqrt(M2 / (n - 1))`` (Chan et al.'s pairwise update, all blocks at once).
    """
    bn = count.astype(np.float64)[..., None]  # (scenario, B, 1)
    pooled = (bn * mean).sum(axis=1) / n
    total_m2 = (m2 + bn * (mean - pooled[:, None, :]) ** 2).sum(axis=1)
    return pooled, np.sqrt(total_m2 / np.maximum(n - 1.0, 1.0))


class Differences(Statistic):
    """Terminal ``R_scenario - R_reference`` on the same paths: histogram with exact bin sums,
    paths above zero, and exact per-block moments (zero for the reference scenario)."""

    name = "differences"
    difference_columns = (
        Column("mean"),
        Column("std"),
        Column("q05"),
        Column("q25"),
        Column("median"),
        Column("q75"),
        Column("q95"),
        Column("prob_positive", label="P(higher than reference)"),
    )

    @property
    def variables(self) -> tuple[Variable, ...]:
        return (
            Variable("diff_count", ("series", "bin")),
            Variable("diff_sum", ("series", "bin")),
            Variable("diff_pos", ("series",)),
            Variable("diff_block_n", ("block",)),
            Variable("diff_block_mean", ("block", "series")),
            Variable("diff_block_m2", ("block", "series")),
        )

    def update(self, chunk: ChunkPaths) -> State:
        S, B = len(self.layout.series), chunk.n_blocks
        if chunk.reference is None:
            return {
                "diff_count": np.zeros((S, stats.FINE.size), np.int64),
                "diff_sum": np.zeros((S, stats.FINE.size)),
                "diff_pos": np.zeros(S, np.int64),
                "diff_block_n": np.zeros(B, np.int64),
                "diff_block_mean": np.zeros((B, S)),
                "diff_block_m2": np.zeros((B, S)),
            }
        diff = chunk.terminal - chunk.reference
        count, total = histogram(stats.FINE, stats.FINE.transform(diff), diff)
        bn, bmean, bm2 = block_moments(diff, chunk.block, chunk.first_block, B)
        return {
            "diff_count": count,
            "diff_sum": total,
            "diff_pos": np.count_nonzero(diff > 0, axis=1).astype(np.int64),
            "diff_block_n": bn,
            "diff_block_mean": bmean,
            "diff_block_m2": bm2,
        }

    def difference(self, ds: xr.Dataset) -> dict[str, np.ndarray]:
        n = ds["n_paths"].values.astype(np.float64)[:, None]
        mean, std = pooled_moments(
            ds["diff_block_n"].values, ds["diff_block_mean"].values, ds["diff_block_m2"].values, n
        )
        q = stats.quantile_from_hist(
            ds["diff_count"].values, stats.FINE, np.array(DIFF_QUANTILES), ds["diff_sum"].values
        )
        cols = {"mean": mean, "std": std, "q05": q[..., 0], "q25": q[..., 1], "median": q[..., 2]}
        return cols | {
            "q75": q[..., 3],
            "q95": q[..., 4],
            "prob_positive": ds["diff_pos"].values / n,
        }
