"""asv benchmarks of whole workflows: the default Bayesian calibration and scenario batches.

Both skip (``NotImplementedError``, asv's convention) when their module or data is missing.
"""

from __future__ import annotations

import importlib.util
import tempfile
from typing import Any

from benchmarks import common


class Calibration:
    """Default fit (2 chains x 1000 draws) on ``../shared/data``."""

    params = (["nutpie", "pymc"],)
    param_names = ["sampler"]
    timeout = 1800
    number = 1
    repeat = 1

    def setup(self, sampler: str) -> None:
        if importlib.util.find_spec("simengine.bayes.fit") is None:
            raise NotImplementedError("simengine.bayes.fit is not available")
        if sampler == "nutpie" and importlib.util.find_spec("nutpie") is None:
            raise NotImplementedError("nutpie is not installed")
        if not common.SHARED_DATA.is_dir():
            raise NotImplementedError(f"no calibration data at {common.SHARED_DATA}")
        from simengine.data import build_table

        self.table: Any = build_table(common.SHARED_DATA)

    def time_fit(self, sampler: str) -> None:
        from simengine.bayes.fit import fit

        fit(self.table, sampler=sampler, progress=False)


class Batch:
    """100 scenarios x 1e5 paths, serially (``workers=0``) and on a 2-worker LocalCluster."""

    params = ([0, 2],)
    param_names = ["workers"]
    timeout = 1800
    number = 1
    repeat = 1

    def setup(self, workers: int) -> None:
        if importlib.util.find_spec("simengine.batch") is None:
            raise NotImplementedError("simengine.batch is not available")
        spec = common.bench_spec("monthly")
        self.specs = [spec.with_overrides(name=f"bench-{i:03d}", seed=i) for i in range(100)]

    def time_run_batch(self, workers: int) -> None:
        from simengine.batch import run_batch

        with tempfile.TemporaryDirectory() as out:
            run_batch(self.specs, out, workers=workers, n_paths=100_000)
