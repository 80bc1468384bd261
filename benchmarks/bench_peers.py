"""asv benchmarks against peers: a correlated 5-factor VAR(1) simulated by statsmodels, by
simengine's propagation, by a hand-written numpy loop and by pyesg (correlated Wiener only)."""

from __future__ import annotations

from typing import Any

from benchmarks import common


class VarPeers:
    """Same steps x paths for every implementation (12 monthly steps)."""

    params = ([100_000, 1_000_000],)
    param_names = ["n_paths"]
    timeout = 600
    n_steps = 12

    def setup(self, n_paths: int) -> None:
        self.results: Any = common.peer_var_setup()

    def time_statsmodels(self, n_paths: int) -> None:
        common.statsmodels_var(self.results, n_paths, self.n_steps)

    def time_simengine(self, n_paths: int) -> None:
        common.simengine_var(self.results, n_paths, self.n_steps)

    def time_numpy_loop(self, n_paths: int) -> None:
        common.numpy_loop_var(self.results, n_paths, self.n_steps)

    def time_pyesg(self, n_paths: int) -> None:
        try:
            common.pyesg_wiener(self.results, n_paths, self.n_steps)
        except ImportError as err:  # asv records a failure; say why
            raise NotImplementedError(f"pyesg is not installed: {err}") from err
