"""asv benchmarks of the Monte Carlo engine: full simulation, random-number floor, threads, memory.

``KernelVsNumpy`` times the fused kernel against the numpy reference route.
``time_*`` are timed by asv, ``peakmem_*`` report the peak RSS of the benchmark process. The
workloads live in :mod:`benchmarks.common` and are shared with ``benchmarks/run.py``.
"""

from __future__ import annotations

import os
from typing import Any

from benchmarks import common


class EngineVsFloor:
    """Full simulation and the time to draw its random numbers alone (same blocks, same chunks)."""

    params = ([100_000, 1_000_000], ["monthly", "weekly"])
    param_names = ["n_paths", "frequency"]
    timeout = 600

    def setup(self, n_paths: int, frequency: str) -> None:
        self.spec: Any = common.bench_spec(frequency)
        common.engine_run(self.spec, 4096)  # caches and imports outside the timing

    def time_engine(self, n_paths: int, frequency: str) -> None:
        """Factors, overlays, assets, compounding and every summary statistic."""
        common.engine_run(self.spec, n_paths)

    def time_floor(self, n_paths: int, frequency: str) -> None:
        """``rng.draw_blocks`` over the same blocks: the random-number floor."""
        common.draw_floor(self.spec, n_paths)


class KernelVsNumpy:
    """The same simulation on the fused kernel (default) and on the numpy reference route."""

    params = ([100_000], ["monthly", "weekly"])
    param_names = ["n_paths", "frequency"]
    timeout = 600

    def setup(self, n_paths: int, frequency: str) -> None:
        self.spec: Any = common.bench_spec(frequency)
        common.engine_run(self.spec, 4096)

    def _run(self, n_paths: int, flag: str) -> None:
        before = os.environ.get("SIMENGINE_KERNEL")
        os.environ["SIMENGINE_KERNEL"] = flag
        try:
            common.engine_run(self.spec, n_paths)
        finally:
            if before is None:
                os.environ.pop("SIMENGINE_KERNEL")
            else:
                os.environ["SIMENGINE_KERNEL"] = before

    def time_kernel(self, n_paths: int, frequency: str) -> None:
        self._run(n_paths, "1")

    def time_numpy(self, n_paths: int, frequency: str) -> None:
        self._run(n_paths, "0")


class Threads:
    """One large simulation on one and on two worker threads."""

    params = ([1, 2],)
    param_names = ["threads"]
    timeout = 900

    def setup(self, threads: int) -> None:
        self.spec: Any = common.bench_spec("monthly")
        common.engine_run(self.spec, 4096)

    def time_simulate_1e6(self, threads: int) -> None:
        common.engine_run(self.spec, 1_000_000, threads=threads)


class Memory:
    """Peak RSS against the path count: flat beyond one chunk."""

    params = ([100_000, 1_000_000, 10_000_000],)
    param_names = ["n_paths"]
    timeout = 1200

    def setup(self, n_paths: int) -> None:
        self.spec: Any = common.bench_spec("monthly")

    def peakmem_simulate(self, n_paths: int) -> None:
        common.engine_run(self.spec, n_paths)


class Horizon:
    """Time against the horizon (monthly steps), 1e5 paths."""

    params = (["2025-12-31", "2026-07-16", "2027-07-16", "2030-07-16"],)
    param_names = ["horizon"]

    def setup(self, horizon: str) -> None:
        self.spec: Any = common.bench_spec("monthly", horizon)
        common.engine_run(self.spec, 4096)

    def time_simulate_1e5(self, horizon: str) -> None:
        common.engine_run(self.spec, 100_000)
