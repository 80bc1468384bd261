"""The Monte Carlo driver: chunking, seeding, common random numbers and streaming statistics.

One run simulates one or more scenarios on the same grid with the same draws (common random
numbers), chunk by chunk. Each chunk is a whole number of random-number blocks
(:data:`simengine.rng.BLOCK`), and every statistic is accumulated exactly in integers
(:mod:`simengine.stats`), so the numbers are bit-identical for any chunk size or thread count.
Memory is bounded by the chunk size, not the path count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from simengine import stats
from simengine.assets import asset_returns
from simengine.exceptions import SimulationError
from simengine.factors import PathParams, exogenous_terms, propagate, unconditional_mean
from simengine.params import GridParams, ModelParams
from simengine.rng import BLOCK, DrawPlan, Draws, draw_blocks, root_seed
from simengine.scenario import ScenarioModel
from simengine.spec.model_file import STOCHASTIC_FACTORS

__all__ = [
    "FACTOR_NAMES",
    "ChunkStats",
    "RunConfig",
    "default_chunk_size",
    "run_scenarios",
    "series_names",
]

FACTOR_NAMES: tuple[str, ...] = ("policy_rate", "tariff", *STOCHASTIC_FACTORS)
CELLS_PER_CHUNK = 2**19  # paths x steps per chunk: bounds memory (~tens of MB per array)


def default_chunk_size(n_steps: int) -> int:
    """Paths per chunk so that a chunk holds about :data:`CELLS_PER_CHUNK` path-steps."""
    return max(BLOCK, (CELLS_PER_CHUNK // max(n_steps, 1)) // BLOCK * BLOCK)


def series_names(assets: Sequence[str]) -> tuple[str, ...]:
    """Assets, then ``pair`` (long large_cap / short small_cap) when both legs are simulated."""
    return (*assets, "pair") if {"small_cap", "large_cap"} <= set(assets) else tuple(assets)


@dataclass(frozen=True)
class RunConfig:
    """How to run: path count, seed, chunking, antithetic pairs, kept sample, worker threads."""

    n_paths: int
    seed: int | np.random.SeedSequence
    chunk_size: int | None = None
    antithetic: bool = False
    n_sample: int = 200
    threads: int = 1


class ChunkStats:
    """Exact integer accumulators for one scenario (see the result layout in docs/architecture.md)."""

    def __init__(
        self, n_series: int, n_steps: int, n_factors: int, n_draws: int = 1, n_blocks: int = 1
    ) -> None:
        S, T = n_series, n_steps
        self.n = 0
        self.hist_count = np.zeros((S, T, stats.COARSE.size), np.int64)
        self.term_count = np.zeros((S, stats.FINE.size), np.int64)
        self.term_sum = np.zeros((S, stats.FINE.size))
        self.dd_count = np.zeros((S, stats.FINE.size), np.int64)
        self.loss_count = np.zeros((S, T), np.int64)
        self.sum = np.zeros((S, T), np.int64)
        self.sum_sq = np.zeros((S, T), np.int64)
        self.small_beats_large = np.zeros(T, np.int64)
        self.squeeze_any = np.zeros((), np.int64)
        self.factor_sum = np.zeros((T, n_factors), np.int64)
        self.diff_count = np.zeros((S, stats.FINE.size), np.int64)
        self.diff_sum = np.zeros((S, stats.FINE.size))
        self.diff_pos = np.zeros(S, np.int64)
        # per random-number block: count, mean and centred sum of squares of the differences,
        # combined in block order at the end (exact float moments, independent of chunking)
        self.diff_block_n = np.zeros(n_blocks, np.int64)
        self.diff_block_mean = np.zeros((n_blocks, S))
        self.diff_block_m2 = np.zeros((n_blocks, S))
        # per parameter draw: paths, sums and squares of terminal returns (variance decomposition)
        self.draw_count = np.zeros(n_draws, np.int64)
        self.draw_sum = np.zeros((n_draws, S), np.int64)
        self.draw_sq = np.zeros((n_draws, S), np.int64)

    def merge(self, other: ChunkStats) -> None:
        """Add another chunk's accumulators (exact, order-independent)."""
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)


def _hist(
    grid: stats.BinGrid, values: np.ndarray, weights: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row histograms of ``values`` (rows, m) -> counts (rows, bins) and exact sums."""
    rows = values.shape[0]
    flat = (grid.index(values) + np.arange(rows)[:, None] * grid.size).ravel()
    counts = stats.bincount_exact(flat, None, rows * grid.size).reshape(rows, grid.size)
    sums = None
    if weights:
        sums = stats.bincount_exact(flat, values, rows * grid.size).reshape(rows, grid.size)
    return counts, sums


def _drawdown(R: np.ndarray, is_pair: np.ndarray) -> np.ndarray:
    """Maximum drawdown over the horizon per path and series, (m, S).

    Assets: largest fall from a running peak of wealth ``1 + R`` as a fraction of the peak.
    Pair: largest fall of the P&L (per $1 a side) from its running peak, in dollars.
    """
    wealth = 1.0 + R
    peak = np.maximum(np.maximum.accumulate(wealth, axis=1), 1.0)
    fall = peak - wealth
    rel = np.where(is_pair[None, None, :], fall, fall / peak)
    return rel.max(axis=1)


class _Engine:
    """Simulates the scenarios of one run for a range of blocks."""

    def __init__(
        self, scenarios: Sequence[ScenarioModel], params: ModelParams, cfg: RunConfig
    ) -> None:
        first = scenarios[0]
        for s in scenarios[1:]:
            if not np.array_equal(s.grid.dates, first.grid.dates):
                raise SimulationError(
                    f"scenarios {first.name!r} and {s.name!r} have different time grids; a comparison "
                    "needs the same start, horizon and frequency"
                )
        self.scenarios = tuple(scenarios)
        self.params = params
        self.cfg = cfg
        self.grid = GridParams.build(params, first.grid.h_months)
        self.series = series_names(params.assets)
        self.is_pair = np.array([s == "pair" for s in self.series])
        self.legs = (
            (params.assets.index("small_cap"), params.assets.index("large_cap"))
            if "pair" in self.series
            else None
        )
        self.plan = DrawPlan(
            n_paths=cfg.n_paths,
            n_steps=first.n_steps,
            n_factors=len(STOCHASTIC_FACTORS),
            n_assets=len(params.assets),
            n_meetings=max(len(s.meetings) for s in scenarios),
            n_tariff_events=max(s.random_tariff_events.size for s in scenarios),
            n_param_draws=params.n_draws,
            nu_f=tuple(params.nu_f.tolist()),
            nu_a=tuple(params.nu_a.tolist()),
            antithetic=cfg.antithetic,
        )
        self.root = root_seed(cfg.seed)

    def paths(self, scn: ScenarioModel, draws: Draws, pp: PathParams) -> tuple[np.ndarray, ...]:
        """Simple cumulative returns (m, T, S), factor paths (m, T, F) and jump counts (m, T)."""
        policy, surprise = scn.policy_paths(draws.decision_u[: len(scn.meetings)])
        tariff = scn.tariff_paths(draws.tariff_u[: scn.random_tariff_events.size])
        dtau = np.diff(tariff, axis=1, prepend=scn.tariff0)
        exog = exogenous_terms(scn, pp, policy, surprise, dtau)
        z0 = scn.z0[None] if scn.z0 is not None else unconditional_mean(pp.A_month, pp.c_month)
        z = propagate(z0, draws.factor, exog, pp, scn)
        r, n_jumps = asset_returns(
            z, dtau, policy, surprise, draws.asset, draws.jump_u, draws.jump_z, pp, scn
        )
        R = np.expm1(np.cumsum(r, axis=1))
        if self.legs is not None:
            small, large = self.legs
            R = np.concatenate([R, (R[..., large] - R[..., small])[..., None]], axis=-1)
        stats.check_finite(R, f"cumulative returns of scenario {scn.name!r}")
        m, T = z.shape[:2]
        factors = np.concatenate(
            [
                np.broadcast_to(policy[..., None], (m, T, 1)),
                np.broadcast_to(tariff[..., None], (m, T, 1)),
                z,
            ],
            axis=-1,
        )
        return R, factors, n_jumps

    def accumulate(
        self,
        R: np.ndarray,
        factors: np.ndarray,
        jumps: np.ndarray,
        draw: np.ndarray,
        ref: np.ndarray | None,
        first_block: int,
    ) -> ChunkStats:
        m, T, S = R.shape
        D = self.params.n_draws
        acc = ChunkStats(S, T, factors.shape[-1], D, self.plan.n_blocks)
        acc.n = m
        by_row = np.moveaxis(R, 0, -1).reshape(S * T, m)
        acc.hist_count = _hist(stats.COARSE, by_row, False)[0].reshape(S, T, -1)
        terminal = R[:, -1, :].T  # (S, m)
        acc.term_count, acc.term_sum = _hist(stats.FINE, terminal, True)
        acc.dd_count = _hist(stats.FINE, _drawdown(R, self.is_pair).T, False)[0]
        acc.loss_count = (R < 0).sum(axis=0).T.astype(np.int64)
        acc.sum = stats.quantise(R).sum(axis=0).T
        acc.sum_sq = stats.quantise_sq(R).sum(axis=0).T
        if self.legs is not None:
            small, large = self.legs
            acc.small_beats_large = (R[..., small] > R[..., large]).sum(axis=0).astype(np.int64)
        acc.squeeze_any = np.asarray((jumps > 0).any(axis=1).sum(), np.int64)
        acc.factor_sum = stats.quantise(factors).sum(axis=0)
        acc.draw_count = np.bincount(draw, minlength=D).astype(np.int64)
        for name, q in (
            ("draw_sum", stats.quantise(terminal)),
            ("draw_sq", stats.quantise_sq(terminal)),
        ):
            per_draw = [np.bincount(draw, weights=row.astype(np.float64), minlength=D) for row in q]
            setattr(acc, name, np.rint(np.stack(per_draw, axis=1)).astype(np.int64))
        if ref is not None:
            diff = terminal - ref
            acc.diff_count, acc.diff_sum = _hist(stats.FINE, diff, True)
            acc.diff_pos = (diff > 0).sum(axis=1).astype(np.int64)
            self._block_moments(acc, diff, first_block)
        return acc

    def _block_moments(self, acc: ChunkStats, diff: np.ndarray, first_block: int) -> None:
        """Mean and centred sum of squares of ``diff`` (S, m) for each whole block of the chunk."""
        for j, lo in enumerate(range(0, diff.shape[1], BLOCK)):
            part = np.ascontiguousarray(diff[:, lo : lo + BLOCK])
            b = first_block + j
            acc.diff_block_n[b] = part.shape[1]
            acc.diff_block_mean[b] = part.mean(axis=1)
            acc.diff_block_m2[b] = np.square(part - acc.diff_block_mean[b][:, None]).sum(axis=1)

    def run_blocks(
        self, first_block: int, n_blocks: int
    ) -> tuple[list[ChunkStats], list[tuple[np.ndarray, ...]]]:
        """Simulate whole blocks; return per-scenario accumulators and kept sample paths."""
        draws = draw_blocks(self.root, first_block, n_blocks, self.plan)
        pp = PathParams(
            self.params, self.grid, draws.param_draw if self.params.n_draws > 1 else None
        )
        keep = max(0, min(self.cfg.n_sample, self.cfg.n_paths) - first_block * BLOCK)
        accs, samples, ref = [], [], None
        for i, scn in enumerate(self.scenarios):
            R, factors, jumps = self.paths(scn, draws, pp)
            accs.append(
                self.accumulate(
                    R, factors, jumps, draws.param_draw, ref if i > 0 else None, first_block
                )
            )
            if i == 0:
                ref = R[:, -1, :].T
            samples.append((R[:keep], factors[:keep], draws.param_draw[:keep]))
        return accs, samples


def _map_bounded(fn: Callable, items: list[int], threads: int) -> Iterator:
    """``map`` on a thread pool with at most ``2 * threads`` chunks in flight (bounded memory)."""
    if threads <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        pending: list = []
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= 2 * threads:
                yield pending.pop(0).result()
        for fut in pending:
            yield fut.result()


def run_scenarios(
    scenarios: Sequence[ScenarioModel],
    params: ModelParams,
    cfg: RunConfig,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[ChunkStats], list[tuple[np.ndarray, ...]]]:
    """Simulate scenarios on common random numbers.

    Parameters
    ----------
    scenarios : sequence of ScenarioModel
        Same time grid. The first is the reference of the difference distributions.
    params : ModelParams
        Point parameters or posterior draws (each path takes one draw).
    cfg : RunConfig
    progress : callable, optional
        Called as ``progress(paths_done, n_paths)`` after each chunk.

    Returns
    -------
    accumulators : list of ChunkStats
        One per scenario, merged over all chunks.
    samples : list of tuple
        Per scenario: cumulative returns (n_sample, T, S), factors (n_sample, T, F) and the
        posterior draw index (n_sample,) of the first paths.
    """
    if cfg.n_paths < 1:
        raise SimulationError(f"n_paths must be at least 1, got {cfg.n_paths}")
    engine = _Engine(scenarios, params, cfg)
    chunk = cfg.chunk_size or default_chunk_size(scenarios[0].n_steps)
    blocks_per_chunk = max(1, -(-chunk // BLOCK))
    n_blocks = engine.plan.n_blocks
    starts = list(range(0, n_blocks, blocks_per_chunk))
    total: list[ChunkStats] | None = None
    samples: list[tuple[np.ndarray, ...]] = []
    done = 0

    def one(b0: int) -> tuple[list[ChunkStats], list[tuple[np.ndarray, ...]]]:
        return engine.run_blocks(b0, min(blocks_per_chunk, n_blocks - b0))

    for accs, smp in _map_bounded(one, starts, cfg.threads):
        if total is None:
            total, samples = accs, smp
        else:
            for t, a in zip(total, accs, strict=True):
                t.merge(a)
        done += accs[0].n
        if progress is not None:
            progress(done, cfg.n_paths)
    assert total is not None
    return total, samples
