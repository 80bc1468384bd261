"""The Monte Carlo driver: chunking, seeding, common random numbers and streaming statistics.

One run simulates one or more scenarios on the same grid with the same draws (common random
numbers), chunk by chunk. Each chunk is a whole number of random-number blocks
(:data:`simengine.rng.BLOCK`), and every statistic is accumulated exactly in integers
(:mod:`simengine.stats`), so the numbers are bit-identical for any chunk size or thread count.
Memory is bounded by the chunk size, not the path count.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from simengine import stats
from simengine.blas import single_threaded_blas
from simengine.exceptions import SimulationError
from simengine.kernel_inputs import chunk_supported, kernel_log_returns, supported
from simengine.params import ModelParams
from simengine.parts import RunShape, ScenarioModel
from simengine.policy import PolicyParams
from simengine.policy_paths import policy_factor_paths
from simengine.rng import BLOCK, DrawPlan, Draws, draw_blocks, root_seed
from simengine.statistics import Accumulators, Beat, ChunkPaths, Layout, default_statistics

__all__ = [
    "RunConfig",
    "default_chunk_size",
    "run_block_range",
    "run_scenarios",
    "statistics_layout",
]

CELLS_PER_CHUNK = 2**18  # paths x steps per chunk: bounds memory (~2 MB per float array)
"""262,144 path-steps (40,960 paths a chunk at 6 monthly steps): with the fused kernel this is as
fast as 2**19 and halves the working set (1e7 paths, 2 threads: peak RSS 454 MiB, was 654 MiB;
benchmarks/README.md)."""


def default_chunk_size(n_steps: int) -> int:
    """Paths per chunk so that a chunk holds about :data:`CELLS_PER_CHUNK` path-steps."""
    return max(BLOCK, (CELLS_PER_CHUNK // max(n_steps, 1)) // BLOCK * BLOCK)


def statistics_layout(params: ModelParams) -> Layout:
    """Series, portfolios, comparisons, events and factors the statistics are computed over,
    from the model's vocabulary (:class:`simengine.structure.ModelStructure`): the assets, then
    the portfolios; the comparisons; the events of the parts (``squeeze``: at least one jump
    over the horizon); the factors in the model file's order."""
    structure = params.structure
    return Layout(
        series=structure.series,
        factors=structure.factor_names,
        portfolios={p.name: dict(p.weights) for p in structure.portfolios},
        beats=tuple(Beat(c.name, c.asset, c.beats) for c in structure.comparisons),
        events=tuple(p.event for p in params.parts.values() if p.event),
    )


@dataclass(frozen=True)
class RunConfig:
    """How to run: path count, seed, chunking, antithetic pairs, kept sample, worker threads,
    whether to keep every path's terminal return (``keep_terminal``) and whether to use the
    fused kernel (``kernel``; the numbers are the same either way, see :attr:`use_kernel`)."""

    n_paths: int
    seed: int | np.random.SeedSequence
    chunk_size: int | None = None
    antithetic: bool = False
    n_sample: int = 200
    threads: int = 1
    keep_terminal: bool = False
    kernel: bool | None = None

    @property
    def use_kernel(self) -> bool:
        """The fused kernel (:mod:`simengine.kernel`) unless ``kernel=False`` or, when
        ``kernel`` is ``None``, the environment sets ``SIMENGINE_KERNEL=0``; ``False`` runs
        the numpy reference route."""
        if self.kernel is not None:
            return self.kernel
        return os.environ.get("SIMENGINE_KERNEL", "1") != "0"


def _cumulative_returns(
    r: np.ndarray, legs: Sequence[Sequence[tuple[int, float]]] = ()
) -> np.ndarray:
    """Simple cumulative returns ``exp(cumsum r) - 1`` in series-major layout (S, T, m).

    Then one row per portfolio, ``sum_a w_a R_a`` over its ``(asset index, weight)`` legs (the
    pair: ``1 * R_large + (-1) * R_small``, bit-identical to ``R_large - R_small``).
    Series-major rows are contiguous, which is what the histograms, sums and the drawdown
    loop want.
    """
    m, T, N = r.shape
    RT = np.empty((N + len(legs), T, m))
    np.cumsum(r, axis=1, out=r)
    RT[:N] = r.transpose(2, 1, 0)
    return _compound(RT, N, legs)


def _compound(
    RT: np.ndarray, N: int, legs: Sequence[Sequence[tuple[int, float]]] = ()
) -> np.ndarray:
    """``expm1`` of the cumulative log returns ``RT[:N]`` in place, then the portfolio rows."""
    with np.errstate(over="ignore"):  # inf is reported by the overflow guard (NumericalError)
        np.expm1(RT[:N], out=RT[:N])
    for j, portfolio in enumerate(legs):
        (a, w), *rest = portfolio
        np.multiply(RT[a], w, out=RT[N + j])
        for a, w in rest:
            RT[N + j] += w * RT[a]
    return RT


def _check_returns(RT: np.ndarray, what: str) -> None:
    """Fast check that every value is finite and within ``MAX_ABS`` (details only on failure)."""
    hi, lo = float(np.max(RT)), float(np.min(RT))
    if not (hi <= stats.MAX_ABS and lo >= -stats.MAX_ABS):
        stats.check_finite(RT, what)


class _Engine:
    """Simulates the scenarios of one run for a range of blocks."""

    def __init__(
        self,
        scenarios: Sequence[ScenarioModel],
        params: ModelParams,
        cfg: RunConfig,
        policy: PolicyParams,
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
        self.layout = statistics_layout(params)
        self.legs = tuple(
            tuple((params.assets.index(a), float(w)) for a, w in legs.items())
            for legs in self.layout.portfolios.values()
        )
        self.statistics = default_statistics(self.layout, min(cfg.n_sample, cfg.n_paths))
        if cfg.keep_terminal:  # every path's terminal return (custom payoffs)
            from simengine.statistics.terminal import TerminalReturns

            self.statistics = (*self.statistics, TerminalReturns(self.layout))
        structure = params.structure
        shape = RunShape(
            n_steps=first.n_steps,
            n_months=first.n_months,
            n_factors=len(structure.stochastic),
            n_assets=len(structure.assets),
            n_meetings=max(len(s.meetings) for s in scenarios),
            n_tariff_events=max(s.random_tariff_events.size for s in scenarios),
        )
        streams = tuple(
            s
            for role, part in params.parts.items()
            for s in part.streams(shape, params.values[role])
        )
        self.plan = DrawPlan(
            n_paths=cfg.n_paths,
            streams=streams,
            n_param_draws=params.n_draws,
            antithetic=cfg.antithetic,
        )
        self.root = root_seed(cfg.seed)
        self.policy = policy
        self.kernel = False
        self._scenario_cache: dict[int, dict] = {}  # per scenario: inputs shared by all chunks
        if cfg.use_kernel:
            self.kernel = supported(params)

    def paths(self, scn: ScenarioModel, draws: Draws, pp: dict) -> tuple:
        """Cumulative returns ``RT`` (S, T, m), policy and tariff paths, factors on the steps
        ``z`` (m, T, K) and jump counts (m, T).

        The parts run in the order of :data:`simengine.parts.ROLES`; ``pp`` holds each part's
        parameters for these paths (:meth:`ModelParams.per_path`). The policy part and the
        factor dynamics advance together month by month (:mod:`simengine.policy_paths`: the
        reaction function reads the simulated state); the returns part's announcement
        response is the policy part's (``psi``, on the 2-year policy component).
        """
        parts = self.params.parts
        tariff = parts["overlays"].tariff(scn, draws)
        # the factor shocks times the volatility state's scale (inside the compiled chol eps)
        model_var = parts["residuals"].factor_variance(scn, self.params["residuals"])
        factor_var = pp.gather(model_var)  # a function of each draw's parameters: gathered
        factor_scale = parts["residuals"].factor_scale(scn, draws, pp["residuals"], factor_var)
        by_draw = self._by_draw(scn, draws) if self.kernel else None
        if by_draw is None:
            level0 = parts["dynamics"].levels(scn, pp["dynamics"])
        else:  # row by row from each draw's parameters: the per-draw levels, gathered
            level0 = np.take(by_draw[2], draws.param_draw, axis=0)
        policy, z = policy_factor_paths(
            scn,
            pp["dynamics"],
            pp["policy"].neutral,
            self.policy,
            tariff,
            draws,
            self.params.structure.stochastic,
            self.params["dynamics"],
            level0=level0,
            factor_var=factor_var,
            model_factor_var=model_var,
            kernel=self.kernel,
            by_draw=by_draw,
            cache=self._scenario_cache.setdefault(id(scn), {}),
            factor_scale=factor_scale,
        )
        if self.kernel and chunk_supported(
            z.shape[0], scn.n_months, scn.n_steps, len(self.params.assets)
        ):
            RT, n_jumps = kernel_log_returns(
                self, scn, draws, pp, policy, tariff, z, len(self.layout.series)
            )
            RT = _compound(RT, len(self.params.assets), self.legs)
        else:
            RT, n_jumps = self._numpy_returns(scn, draws, pp, policy, tariff, z)
        _check_returns(RT, f"cumulative returns of scenario {scn.name!r}")
        # factors are reported per step: the values of the month each step ends in (monthly
        # steps: the months themselves, no copy). ``take`` gives a C-contiguous (m, T, K) array
        # (``z[:, step_month]`` puts the step axis outermost in memory), which the statistics'
        # compiled sums need.
        step_month = scn.grid.step_month
        if not np.array_equal(step_month, np.arange(z.shape[1])):
            z = np.take(z, step_month, axis=1)
        return RT, policy.level_step, tariff.level_step, z, n_jumps

    def _by_draw(self, scn: ScenarioModel, draws: Draws) -> tuple | None:
        """Each path's posterior draw, the neutral rate and the start levels per draw (the
        policy loop's expected state is computed per draw); ``None`` for point parameters."""
        if self.params.n_draws == 1:
            return None
        dyn = self.params["dynamics"]
        levels = self.params.parts["dynamics"].levels(scn, dyn)
        return draws.param_draw, self.params["policy"].neutral, levels

    def _numpy_returns(self, scn: ScenarioModel, draws: Draws, pp: Any, policy, tariff, z) -> tuple:
        """The reference route of :meth:`paths` after the factors: the parts in numpy."""
        parts = self.params.parts
        flows = z
        if getattr(parts["returns"], "loads_on_news", False):
            flows = parts["dynamics"].news(z, scn, pp["dynamics"], policy, tariff)
        r = parts["returns"].simulate(
            flows, self.weights, self.dt, pp["returns"], policy, tariff, self.policy.announcement
        )
        parts["residuals"].add(r, draws, self.dt, pp["residuals"], scn)
        n_jumps = parts["jumps"].add(
            r, draws, self.dt, pp["jumps"], scn.short_interest_bn, scn.squeeze
        )
        return _cumulative_returns(r, self.legs), n_jumps

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
    ) -> Accumulators:
        """Every statistic's state of one chunk from :meth:`paths` output (``ref``: the
        reference scenario's terminal returns (S, m), for the difference distributions)."""
        chunk = ChunkPaths(
            returns=RT,
            factors=(policy[:, :, None], tariff[:, :, None], z),
            events={event: jumps.any(axis=1) for event in self.layout.events},
            draw=draw,
            n_draws=self.params.n_draws,
            first_block=first_block,
            n_blocks=self.plan.n_blocks,
            block=BLOCK,
            first_path=first_block * BLOCK,
            reference=ref,
        )
        return Accumulators.of_chunk(self.statistics, chunk)

    def run_blocks(self, first_block: int, n_blocks: int) -> list[Accumulators]:
        """Simulate whole blocks; return each scenario's statistics of them."""
        draws = draw_blocks(self.root, first_block, n_blocks, self.plan, self.kernel)
        pp = _PerPath(self.params, draws.param_draw if self.params.n_draws > 1 else None)
        accs, ref = [], None
        for i, scn in enumerate(self.scenarios):
            RT, policy, tariff, z, jumps = self.paths(scn, draws, pp)
            accs.append(
                self.accumulate(RT, policy, tariff, z, jumps, draws.param_draw, ref, first_block)
            )
            if i == 0:
                ref = RT[:, -1, :]
        return accs


class _PerPath(dict):
    """Each part's parameters for the chunk's paths (:meth:`ModelParams.per_path`), gathered
    on first use: the fused kernel reads most parts per posterior draw instead."""

    def __init__(self, params: ModelParams, param_draw: np.ndarray | None) -> None:
        super().__init__()
        self.params, self.param_draw = params, param_draw

    def __missing__(self, role: str) -> Any:
        value = self.params.values[role]
        self[role] = None if value is None else value.take(self.param_draw)
        return self[role]

    def gather(self, per_draw: np.ndarray | None) -> np.ndarray | None:
        """Rows of a per-draw array (D|1, ...) for the chunk's paths: what the same row-wise
        computation on the per-path parameters gives, computed once per draw."""
        if per_draw is None or self.param_draw is None or per_draw.shape[0] == 1:
            return per_draw
        return np.take(per_draw, self.param_draw, axis=0)  # per_draw[param_draw], faster


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
    *,
    policy: PolicyParams,
) -> list[Accumulators]:
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
    policy : PolicyParams
        The policy part's parameters (:func:`simengine.policy_model.policy_params`; attribution
        passes switched copies). The engine reads no file: the caller loads them.

    Returns
    -------
    list of Accumulators
        One per scenario, every statistic merged over all chunks (in path order), including
        the first ``cfg.n_sample`` paths kept whole (:class:`simengine.statistics.sample.Sample`).
    """
    if cfg.n_paths < 1:
        raise SimulationError(f"n_paths must be at least 1, got {cfg.n_paths}")
    engine = _Engine(scenarios, params, cfg, policy)
    return _run_range(engine, 0, engine.plan.n_blocks, progress)


def run_block_range(
    scenarios: Sequence[ScenarioModel],
    params: ModelParams,
    cfg: RunConfig,
    first_block: int,
    n_blocks: int,
    policy: PolicyParams,
) -> list[Accumulators]:
    """Simulate only the random-number blocks ``first_block .. first_block + n_blocks - 1``.

    The part of a run that one worker of a cluster does (:mod:`simengine.cluster`): the same
    draws and accumulators as those blocks get in :func:`run_scenarios`, so merging the parts
    of all blocks (:meth:`Accumulators.merge`, exact and order-independent; the kept sample
    paths merge in path order) gives the whole run's numbers.
    """
    engine = _Engine(scenarios, params, cfg, policy)
    if not (0 <= first_block and n_blocks >= 1 and first_block + n_blocks <= engine.plan.n_blocks):
        raise SimulationError(
            f"blocks {first_block}..{first_block + n_blocks - 1} are outside the run's "
            f"{engine.plan.n_blocks} blocks"
        )
    return _run_range(engine, first_block, n_blocks, None)


def _run_range(
    engine: _Engine, first: int, count: int, progress: Callable[[int, int], None] | None
) -> list[Accumulators]:
    """Blocks ``first .. first + count - 1`` chunk by chunk, merged in chunk order."""
    cfg = engine.cfg
    chunk = cfg.chunk_size or default_chunk_size(engine.scenarios[0].n_steps)
    blocks_per_chunk = max(1, -(-chunk // BLOCK))
    end = first + count
    starts = list(range(first, end, blocks_per_chunk))
    total: list[Accumulators] | None = None
    done = 0

    def one(b0: int) -> list[Accumulators]:
        return engine.run_blocks(b0, min(blocks_per_chunk, end - b0))

    with single_threaded_blas():
        for accs in _map_bounded(one, starts, cfg.threads):
            if total is None:
                total = accs
            else:
                for t, a in zip(total, accs, strict=True):
                    t.merge(a)
            done += accs[0].n
            if progress is not None:
                progress(done, cfg.n_paths)
    assert total is not None
    return total
