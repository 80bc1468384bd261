"""The compiled policy loop in tiles of paths, with the meeting memory
(simengine.kernel_policy), equals the numpy route on runs whose path count is not a whole
number of tiles, point and Bayesian; the meeting memory reuses outcomes only for the same
inputs."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import simengine
from simengine import kernel_policy as kp
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


def _subset(args: tuple, idx: np.ndarray) -> tuple:
    """The compiled loop's inputs (as on entry) for the paths ``idx`` only, with an empty
    meeting memory and the reaction state's weights on the simulated months set to zero (every
    path then has the same state at every meeting): per-path arrays (leading axis n; the
    decision uniforms (J, n)) sliced."""
    z, u, var, tab, pol, growth, out, work = args
    n = z.shape[0]

    def rows(a):
        return a[idx].copy() if isinstance(a, np.ndarray) and a.ndim and a.shape[0] == n else a

    z_s = z[idx].copy()
    W = np.zeros_like(pol[2])
    pol_s = (*(rows(a) for a in pol[:2]), W, *(rows(a) for a in pol[3:9]), pol[9][:, idx].copy())
    work_s = (
        z_s.reshape(idx.size, -1),
        W.reshape(W.shape[0], 3, -1),
        *work[2:7],
        np.zeros(kp.MEMO_SIZE),
    )
    return (z_s, u[idx].copy(), tuple(rows(a) for a in var), tab, pol_s, growth,
            tuple(rows(a) for a in out), work_s)  # fmt: skip


def test_meeting_memo_reuses_only_the_same_inputs(monkeypatch) -> None:
    """A Bayesian tile's paths run together (the meeting memory reuses the previous path's
    outcome probabilities when the inputs are the same numbers) give each path's numbers run
    alone. With the state weights at zero, every path has the same target and state at
    September's fixed cut but its own draw's expected state: a memory keyed without the
    expected state would hand one draw's probabilities to another path."""
    spec = simengine.load_scenario(SCENARIOS / "fed_cut_september.yaml")
    calls = []
    original = kp.policy_loop

    def keep(*args):
        if args[2][10].size:  # the chunk (not the expected state per draw)
            calls.append(copy.deepcopy(args))
        return original(*args)

    monkeypatch.setattr(kp, "policy_loop", keep)
    simengine.simulate(spec, n_paths=4096, seed=5, method="bayesian")
    idx = np.arange(TILE)
    together = _subset(calls[0], idx)
    original(*together)
    xbar, target, state = together[4][1], together[6][1], together[6][4]
    assert np.unique(target[:, 1]).size == 1 and np.unique(state[:, 1], axis=0).shape[0] == 1
    assert np.unique(xbar[:, 1], axis=0).shape[0] > TILE // 2
    for q, p in enumerate(idx):
        alone = _subset(calls[0], np.array([p]))
        original(*alone)
        assert np.array_equal(alone[0][0], together[0][q])
        for a, b in zip(alone[6], together[6], strict=True):
            assert np.array_equal(a[0], b[q])
