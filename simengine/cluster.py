"""One large run split across a Dask cluster: whole random-number blocks per task, exact merge.

A run of ``n`` paths is ``ceil(n / BLOCK)`` random-number blocks (:mod:`simengine.rng`), and a
block's draws depend only on the seed and the block index. The blocks are cut into contiguous
parts; each Dask task simulates one part (:func:`simengine.simulate.run_block_range`) and
returns its accumulators, which the client merges as parts complete. Every accumulator is an
exact integer (or integer-valued float) sum, so the merge order does not matter and the
numbers equal a local run with the same seed, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from simengine.exceptions import SimulationError
from simengine.params import ModelParams
from simengine.parts import ScenarioModel
from simengine.policy import PolicyParams
from simengine.rng import BLOCK
from simengine.simulate import RunConfig, run_block_range
from simengine.statistics import Accumulators

__all__ = [
    "MAX_BLOCKS_PER_PART",
    "MAX_CLUSTER_PATHS",
    "PARTS_PER_SLOT",
    "block_parts",
    "cluster_path_limit",
    "run_on_cluster",
]

PARTS_PER_SLOT = 4
"""Parts per worker thread at least: balances workers of unequal speed."""
MAX_BLOCKS_PER_PART = 1024
"""At most ~4.2 million paths per task, so progress and failures stay fine-grained."""
MAX_CLUSTER_PATHS = 10**10
"""Default path limit of a cluster run (memory is per worker and bounded by the chunk size)."""


def cluster_path_limit() -> int:
    """Path limit of a cluster run: ``SIMENGINE_MAX_CLUSTER_PATHS`` or :data:`MAX_CLUSTER_PATHS`."""
    from simengine.spec.fields import limit

    return limit("SIMENGINE_MAX_CLUSTER_PATHS", MAX_CLUSTER_PATHS)


def block_parts(n_blocks: int, slots: int) -> list[tuple[int, int]]:
    """Split blocks ``0 .. n_blocks - 1`` into contiguous ``(first_block, n_blocks)`` parts.

    At least :data:`PARTS_PER_SLOT` parts per slot (when there are enough blocks) and at most
    :data:`MAX_BLOCKS_PER_PART` blocks per part; sizes differ by at most one block.
    """
    wanted = max(slots * PARTS_PER_SLOT, -(-n_blocks // MAX_BLOCKS_PER_PART))
    n_parts = max(1, min(n_blocks, wanted))
    base, extra = divmod(n_blocks, n_parts)
    parts, first = [], 0
    for i in range(n_parts):
        size = base + (i < extra)
        parts.append((first, size))
        first += size
    return parts


def _run_part(first_block: int, n_blocks: int, run: tuple) -> list[Accumulators]:
    """One task: :func:`~simengine.simulate.run_block_range` of ``run`` = (scenarios, params,
    cfg, policy), with the per-block arrays cut to the part.

    The per-block states span the whole run (zero outside the part), megabytes per part at 1e9
    paths; the client pads them back (:meth:`Accumulators.pad_blocks`) before merging.
    """
    scenarios, params, cfg, policy = run
    accs = run_block_range(scenarios, params, cfg, first_block, n_blocks, policy)
    for acc in accs:
        acc.trim_blocks(first_block, n_blocks)
    return accs


def run_on_cluster(
    scenarios: Sequence[ScenarioModel],
    params: ModelParams,
    cfg: RunConfig,
    scheduler: str,
    progress: Callable[[int, int], None] | None = None,
    *,
    policy: PolicyParams,
) -> list[Accumulators]:
    """:func:`simengine.simulate.run_scenarios` on the workers of a Dask scheduler.

    Parameters
    ----------
    scenarios, params, cfg
        As for :func:`~simengine.simulate.run_scenarios`; ``cfg.threads`` is ignored (each task
        runs on one worker thread).
    scheduler : str
        Address of a running Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.
    progress : callable, optional
        ``progress(paths_done, n_paths)`` as parts complete.
    policy : PolicyParams
        The policy part's parameters, as for :func:`~simengine.simulate.run_scenarios`.

    Returns
    -------
    list of Accumulators
        As :func:`~simengine.simulate.run_scenarios`: one per scenario, merged over every part
        (:meth:`Accumulators.merge`: exact sums, kept sample paths in path order), so equal to
        a local run's.
    """
    from distributed import Client, as_completed

    if cfg.n_paths < 1:
        raise SimulationError(f"n_paths must be at least 1, got {cfg.n_paths}")
    part_cfg = replace(cfg, threads=1)
    n_blocks = -(-cfg.n_paths // BLOCK)
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError, TypeError) as err:
        raise SimulationError(
            f"cannot reach the Dask scheduler at {scheduler!r} ({type(err).__name__}: {err}); "
            "check the address (e.g. tcp://10.0.0.5:8786) and that the scheduler is running"
        ) from None
    with client:
        slots = max(sum(client.nthreads().values()), 1)
        models, pars, pol = client.scatter([tuple(scenarios), params, policy], broadcast=True)
        run = (models, pars, part_cfg, pol)  # Dask resolves the scattered futures in the tuple
        futures = {
            client.submit(_run_part, b0, nb, run, pure=False): (
                b0,
                nb,
            )
            for b0, nb in block_parts(n_blocks, slots)
        }
        total: list[Accumulators] | None = None
        done = 0
        for future in as_completed(list(futures)):
            b0, _ = futures.pop(future)
            accs = future.result()
            for acc in accs:
                acc.pad_blocks(b0, n_blocks)
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
