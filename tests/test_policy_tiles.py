"""The compiled policy loop in tiles of paths, with the meeting memory
(simengine.kernel_policy), equals the numpy route on runs whose path count is not a whole
number of tiles, point and Bayesian."""

from __future__ import annotations

import pytest

import simengine
from simengine.kernel_policy import TILE
from tests.conftest import SCENARIOS


@pytest.mark.parametrize("method", ["monte_carlo", "bayesian"])
@pytest.mark.parametrize("name", ["fed_cut_september", "base_2025h2"])
def test_tiled_loop_equals_numpy_with_a_partial_tile(monkeypatch, method: str, name: str) -> None:
    spec = simengine.load_scenario(SCENARIOS / f"{name}.yaml")
    n = 4096 + TILE // 2 + 3  # a partial block and a partial tile
    kw = dict(n_paths=n, seed=21, method=method)
    got = simengine.simulate(spec, **kw).summary(wide=True)
    monkeypatch.setenv("SIMENGINE_KERNEL", "0")
    ref = simengine.simulate(spec, **kw).summary(wide=True)
    assert got.equals(ref)
