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
from simengine.blas import single_threaded_blas
from simengine.exceptions import SimulationError
from simengine.factors import PathParams
from simengine.params import ModelParams
from simengine.policy import PolicyParams
from simengine.policy_model import policy_params
from simengine.policy_paths import policy_factor_paths
from simengine.rng import BLOCK, DrawPlan, Draws, draw_blocks, root_seed
from simengine.scenario import ScenarioModel
from simengine.spec.model_file import STOCHASTIC_FACTORS
from simengine.spec.policy_file import load_policy_file

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
    grid: stats.BinGrid, z: np.ndarray, values: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row histograms from transformed values ``z`` (rows, m) -> counts (rows, bins).

    ``z`` is ``grid.transform(values)``; with ``values`` given, also the exact per-bin sums.
    """
    rows = z.shape[0]
    offset = (np.arange(rows, dtype=np.float64) * grid.size)[:, None]
    flat = grid.index_from_z(z, offset).ravel()
    counts = stats.bincount_exact(flat, None, rows * grid.size).reshape(rows, grid.size)
    sums = None
    if values is not None:
        sums = stats.bincount_exact(flat, values, rows * grid.size).reshape(rows, grid.size)
    return counts, sums


def _drawdown(RT: np.ndarray, is_pair: np.ndarray) -> np.ndarray:
    """Maximum drawdown over the horizon per series and path, (S, m), from ``RT`` (S, T, m).

    Assets: largest fall from a running peak of wealth ``1 + R`` (at least the start, 1) as a
    fraction of the peak. Pair: largest fall of the P&L (per $1 a side) from its running peak,
    in dollars. A loop over steps on contiguous (S, m) slices: each value is the same as the
    vectorised ``maximum.accumulate`` form (max is exact).
    """
    S, T, m = RT.shape
    assets = ~is_pair
    peak = np.ones((S, m))
    wealth = np.empty((S, m))
    fall = np.empty((S, m))
    dd = np.zeros((S, m))
    for t in range(T):
        np.add(RT[:, t], 1.0, out=wealth)
        np.maximum(peak, wealth, out=peak)
        np.subtract(peak, wealth, out=fall)
        if assets.all():
            fall /= peak
        else:
            fall[assets] /= peak[assets]
        np.maximum(dd, fall, out=dd)
    return dd


def _cumulative_returns(r: np.ndarray, legs: tuple[int, int] | None) -> np.ndarray:
    """Simple cumulative returns ``exp(cumsum r) - 1`` in series-major layout (S, T, m).

    The pair row (when ``legs`` is given) is ``R_large - R_small``. Series-major rows are
    contiguous, which is what the histograms, sums and the drawdown loop want.
    """
    m, T, N = r.shape
    S = N + (legs is not None)
    RT = np.empty((S, T, m))
    np.cumsum(r, axis=1, out=r)
    RT[:N] = r.transpose(2, 1, 0)
    np.expm1(RT[:N], out=RT[:N])
    if legs is not None:
        small, large = legs
        np.subtract(RT[large], RT[small], out=RT[N])
    return RT


def _check_returns(RT: np.ndarray, what: str) -> None:
    """Fast check that every value is finite and within ``MAX_ABS`` (details only on failure)."""
    hi, lo = float(np.max(RT)), float(np.min(RT))
    if not (hi <= stats.MAX_ABS and lo >= -stats.MAX_ABS):
        stats.check_finite(RT, what)


def _factor_sum(policy: np.ndarray, tariff: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Exact quantised sums over paths of (policy_rate, tariff, *z), shape (T, F).

    ``policy`` and ``tariff`` are (m or 1, T): a shared row counts ``m`` times.
    """
    m = z.shape[0]
    cols = []
    for level in (policy, tariff):
        if level.shape[0] == 1:
            cols.append(stats.quantise(level[0]) * m)
        else:
            cols.append(stats.quantised_sum(level, axis=0))
    return np.concatenate([np.stack(cols, axis=1), stats.quantised_sum(z, axis=0)], axis=1)


def _factor_paths(policy: np.ndarray, tariff: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Factor paths (m, T, F): policy rate, tariff level, then the stochastic factors."""
    m, T = z.shape[:2]
    return np.concatenate(
        [
            np.broadcast_to(policy[:m, :, None], (m, T, 1)),
            np.broadcast_to(tariff[:m, :, None], (m, T, 1)),
            z,
        ],
        axis=-1,
    )


class _Engine:
    """Simulates the scenarios of one run for a range of blocks."""

    def __init__(
        self,
        scenarios: Sequence[ScenarioModel],
        params: ModelParams,
        cfg: RunConfig,
        policy: PolicyParams | None = None,
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
        self.dt = first.grid.dt_years
        self.weights = first.grid.month_weights
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
            n_months=first.n_months,
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
        self.policy = policy or policy_params(load_policy_file(), params.assets, params.beta)

    def paths(self, scn: ScenarioModel, draws: Draws, pp: PathParams) -> tuple:
        """Cumulative returns ``RT`` (S, T, m), policy and tariff paths, factors on the steps
        ``z`` (m, T, K) and jump counts (m, T)."""
        tariff = scn.tariff_paths(draws.tariff_u[: scn.random_tariff_events.size])
        policy, z = policy_factor_paths(scn, pp, self.policy, tariff, draws)
        r, n_jumps = asset_returns(
            z, self.weights, policy, tariff, draws.asset, draws.jump_u, draws.jump_z, pp, scn
        )
        RT = _cumulative_returns(r, self.legs)
        _check_returns(RT, f"cumulative returns of scenario {scn.name!r}")
        # factors are reported per step: the values of the month each step ends in
        return RT, policy.level_step, tariff.level_step, z[:, scn.grid.step_month], n_jumps

    def accumulate(
        self,
        RT: np.ndarray,
        policy: np.ndarray,
        tariff: np.ndarray,
        z: np.ndarray,
        jumps: np.ndarray,
        draw: np.ndarray,
        ref: np.ndarray | None,
        first_block: int,
    ) -> ChunkStats:
        """Exact accumulators of one chunk from :meth:`paths` output (``ref``: the reference
        scenario's terminal returns (S, m), for the difference distributions)."""
        S, T, m = RT.shape
        D = self.params.n_draws
        acc = ChunkStats(S, T, len(FACTOR_NAMES), D, self.plan.n_blocks)
        acc.n = m
        # one asinh for both grids (same scale): per-step coarse bins, terminal fine bins
        zt = stats.COARSE.transform(RT)
        acc.hist_count = _hist(stats.COARSE, zt.reshape(S * T, m), None)[0].reshape(S, T, -1)
        terminal = RT[:, -1, :]  # (S, m)
        acc.term_count, acc.term_sum = _hist(stats.FINE, zt[:, -1, :], terminal)
        del zt
        dd = _drawdown(RT, self.is_pair)
        acc.dd_count = _hist(stats.FINE, stats.FINE.transform(dd), None)[0]
        acc.loss_count = np.count_nonzero(RT < 0, axis=-1).astype(np.int64)
        acc.sum = stats.quantised_sum(RT, axis=-1, checked=True)
        acc.sum_sq = stats.quantised_sum(RT, axis=-1, square=True, checked=True)
        if self.legs is not None:
            small, large = self.legs
            acc.small_beats_large = np.count_nonzero(RT[small] > RT[large], axis=-1).astype(
                np.int64
            )
        acc.squeeze_any = np.asarray(np.count_nonzero(jumps.any(axis=1)), np.int64)
        acc.factor_sum = _factor_sum(policy, tariff, z)
        if D == 1:
            acc.draw_count = np.array([m], np.int64)
            acc.draw_sum = acc.sum[None, :, -1].copy()
            acc.draw_sq = acc.sum_sq[None, :, -1].copy()
        else:
            acc.draw_count = np.bincount(draw, minlength=D).astype(np.int64)
            for name, q in (
                ("draw_sum", stats.quantise(terminal)),
                ("draw_sq", stats.quantise_sq(terminal)),
            ):
                per_draw = [
                    np.bincount(draw, weights=row.astype(np.float64), minlength=D) for row in q
                ]
                setattr(acc, name, np.rint(np.stack(per_draw, axis=1)).astype(np.int64))
        if ref is not None:
            diff = terminal - ref
            acc.diff_count, acc.diff_sum = _hist(stats.FINE, stats.FINE.transform(diff), diff)
            acc.diff_pos = np.count_nonzero(diff > 0, axis=1).astype(np.int64)
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
        pp = PathParams(self.params, self.dt, draws.param_draw if self.params.n_draws > 1 else None)
        # the announcement response of the policy part replaces the model file's surprise term
        pp.surprise_beta = self.policy.announcement[None]
        keep = max(0, min(self.cfg.n_sample, self.cfg.n_paths) - first_block * BLOCK)
        accs, samples, ref = [], [], None
        for i, scn in enumerate(self.scenarios):
            RT, policy, tariff, z, jumps = self.paths(scn, draws, pp)
            accs.append(
                self.accumulate(
                    RT,
                    policy,
                    tariff,
                    z,
                    jumps,
                    draws.param_draw,
                    ref if i > 0 else None,
                    first_block,
                )
            )
            if i == 0:
                ref = RT[:, -1, :]
            samples.append(
                (
                    np.ascontiguousarray(RT[:, :, :keep].transpose(2, 1, 0)),
                    _factor_paths(policy, tariff, z[:keep]),
                    draws.param_draw[:keep],
                )
            )
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
    policy: PolicyParams | None = None,
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
    policy : PolicyParams, optional
        The policy part (default: the packaged estimates; attribution passes switched copies).

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
    engine = _Engine(scenarios, params, cfg, policy)
    chunk = cfg.chunk_size or default_chunk_size(scenarios[0].n_steps)
    blocks_per_chunk = max(1, -(-chunk // BLOCK))
    n_blocks = engine.plan.n_blocks
    starts = list(range(0, n_blocks, blocks_per_chunk))
    total: list[ChunkStats] | None = None
    samples: list[tuple[np.ndarray, ...]] = []
    done = 0

    def one(b0: int) -> tuple[list[ChunkStats], list[tuple[np.ndarray, ...]]]:
        return engine.run_blocks(b0, min(blocks_per_chunk, n_blocks - b0))

    with single_threaded_blas():
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
