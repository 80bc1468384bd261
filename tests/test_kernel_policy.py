"""The compiled policy/VAR loop (simengine.kernel_policy) equals numpy bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from scipy import special

import simengine
import simengine.policy_paths as policy_paths
from simengine import kernel_policy as kp
from simengine.policy import _ETA_GRID, DECISION_STEPS_PP, ReactionFunction, state_weights
from tests.conftest import SCENARIOS
from tests.test_kernel import SCENARIO_FILES, _assert_same

RNG = np.random.default_rng(20261130)


@njit
def _ndtr_all(x, out):
    for i in range(x.size):
        out[i] = kp.ndtr(x[i])


@njit
def _interp_all(x, xp, row, fp, buckets, out):
    for i in range(x.size):
        out[i] = kp.interp(x[i], xp, row, fp, buckets)


@njit
def _gemv_all(P, s, out):
    for i in range(P.shape[0]):
        out[i] = kp.gemv_dot(P[i], s, 0, s.shape[1])


@njit
def _einsum_all(z, W, n, out, out3):
    for p in range(z.shape[0]):
        for i in range(3):
            out[p, i] = 0.0 + kp.einsum_dot(z, p, W, 0, i, n)
        a, b, c = kp.einsum_dot3(z, p, W, 0, n)
        out3[p, 0], out3[p, 1], out3[p, 2] = 0.0 + a, 0.0 + b, 0.0 + c


@njit
def _pairwise_all(X, out):
    for p in range(X.shape[0]):
        out[p] = kp.pairwise_sum(X, p, 0, X.shape[1])


def test_ndtr_is_scipys():
    x = np.concatenate(
        [RNG.standard_normal(200_000) * 3, RNG.standard_normal(1000) * 40, [0.0, -0.0, np.inf]]
    )
    x = np.concatenate([x, [-np.inf, np.nan]])
    out = np.empty_like(x)
    _ndtr_all(x, out)
    assert np.array_equal(out, special.ndtr(x), equal_nan=True)


@pytest.mark.parametrize("state_var", [0.0, 0.7])
def test_interp_is_numpys_on_the_latent_tables(state_var):
    """The reaction function's tables (flat tails: repeated values) and keys inside, on,
    between and outside the table values, NaN included."""
    rf = ReactionFunction(np.array([0.3, 0.5, -0.2]), np.array([-1.5, -0.5, 0.5, 1.5]))
    s = np.sqrt(1.0 + state_var)
    tables = np.stack(
        [
            rf.mean_change(_ETA_GRID, rf.cuts / s),
            rf.mean_change(_ETA_GRID, np.array([-0.3]) / s, np.array([-0.25, 0.0])),
        ]
    )
    buckets = kp.interp_buckets(tables)
    for row, table in enumerate(tables):
        keys = np.concatenate(
            [
                RNG.uniform(table[0] - 0.1, table[-1] + 0.1, 50_000),
                table,
                np.nextafter(table, np.inf),
                np.nextafter(table, -np.inf),
                [np.nan, -np.inf, np.inf],
            ]
        )
        out = np.empty_like(keys)
        _interp_all(keys, tables, row, _ETA_GRID, buckets, out)
        assert np.array_equal(out, np.interp(keys, table, _ETA_GRID), equal_nan=True)


@pytest.mark.parametrize("length", range(1, 13))
def test_gemv_order_is_openblas(length):
    """``(n, L) @ (L,)``: the outcome probabilities times the steps, the state gap times the
    slopes."""
    P = RNG.standard_normal((20_000, length))
    s = RNG.standard_normal(length)
    out = np.empty(P.shape[0])
    _gemv_all(P, s[None], out)
    assert np.array_equal(out, P @ s)


@pytest.mark.parametrize("n_factors", [3, 4, 5, 6])
def test_reaction_state_sum_is_einsums(n_factors):
    """``einsum("nmk,imk->ni", z[:, :m], W[:, :m])`` on dense weights, every month count (the
    blocks of eight and the tail), and on the state weights themselves."""
    M = 12
    index = {"rates": 0, "growth": 1, "inflation": 2, "credit": n_factors - 1}
    for m in range(M + 1):
        z = RNG.standard_normal((2000, M, n_factors))
        for W in (RNG.standard_normal((3, M, n_factors)), state_weights(m, M, index, n_factors)[0]):
            ref = np.einsum("nmk,imk->ni", z[:, :m], W[:, :m])
            out, out3 = np.empty((2000, 3)), np.empty((2000, 3))
            zf, Wf = z.reshape(2000, -1), np.ascontiguousarray(W.reshape(1, 3, -1))
            _einsum_all(zf, Wf, m * n_factors, out, out3)
            assert np.array_equal(out, ref) and np.array_equal(out3, ref), m


@pytest.mark.parametrize("count", [1, 2, 5, 7, 8, 9, 12, 16, 17, 30])
def test_pairwise_sum_is_numpys(count):
    """``level_month[:, cols].sum(axis=1)`` of the growth channel."""
    X = RNG.standard_normal((5000, count)) * 2 + 4.3
    out = np.empty(5000)
    _pairwise_all(X, out)
    assert np.array_equal(out, X.sum(axis=1))


def test_decision_draw_is_numpys():
    rf = ReactionFunction(np.array([0.3, 0.5, -0.2]), np.array([-1.5, -0.5, 0.5, 1.5]))
    eta, u = RNG.standard_normal(10_000), RNG.random(10_000)
    probs = rf.probabilities(eta)
    steps = DECISION_STEPS_PP[None]
    ref = rf.draw_from(probs, u)

    @njit
    def draw_all(probs, u, steps, out):
        for p in range(u.size):
            out[p] = kp._draw(probs[p], probs.shape[1] - 1, u[p], steps, 0)

    out = np.empty(u.size)
    draw_all(probs, u, steps, out)
    assert np.array_equal(out, ref)


@pytest.fixture
def loop_calls(monkeypatch):
    """Counts of :func:`simengine.policy_paths._kernel_loop` calls that ran the kernel."""
    calls = {"kernel": 0, "numpy": 0}
    original = policy_paths._kernel_loop

    def counted(*args):
        ran = original(*args)
        calls["kernel" if ran else "numpy"] += 1
        return ran

    monkeypatch.setattr(policy_paths, "_kernel_loop", counted)
    return calls


@pytest.mark.parametrize("path", SCENARIO_FILES[:4], ids=lambda p: p.stem)
def test_whole_loop_runs_compiled_and_equals_numpy(path, loop_calls):
    """The engine's chunks take the compiled loop (not a silent fallback) and give numpy's
    numbers (``tests/test_kernel.py`` compares every scenario, posterior draws and weekly)."""
    _assert_same(simengine.load_scenario(path))
    assert loop_calls["kernel"] >= 1 and loop_calls["numpy"] == 0


def test_whole_loop_with_posterior_draws(loop_calls):
    """Per-path VAR coefficients (einsum's lanes), per-draw expected state."""
    _assert_same(simengine.load_scenario(SCENARIOS / "fed_three_cuts.yaml"), "bayesian", n_blocks=1)
    assert loop_calls["kernel"] >= 2


def test_one_path_takes_numpy(loop_calls):
    """One path: numpy's matmul is a gemv there, so the loop stays numpy (same numbers)."""
    spec = simengine.load_scenario(SCENARIOS / "fed_cut_september.yaml")
    simengine.simulate(spec, n_paths=1, seed=3)
    assert loop_calls["kernel"] == 0


def test_rows_by_draw_index(monkeypatch):
    """``FactorInputs.kernel_rows`` (rows per posterior draw and each path's draw): here the
    per-path rows shuffled, with the index that undoes the shuffle, which must give the same
    numbers (a kernel that ignored the index would read other paths' rows)."""
    original = policy_paths._kernel_loop
    used = []

    def with_rows(fi, u, run, z, level):
        n = z.shape[0]
        perm = np.random.default_rng(5).permutation(n)
        rows = [a if np.shape(a)[0] != n else np.asarray(a)[perm] for a in (fi.A, fi.base)]
        rows += [np.atleast_2d(fi.gap), np.atleast_1d(fi.neutral), fi.rho]
        rows[2:] = [a if np.shape(a)[0] != n else np.asarray(a)[perm] for a in rows[2:]]
        object.__setattr__(fi, "kernel_rows", (np.argsort(perm), *rows))
        used.append(fi.A.shape[0])
        return original(fi, u, run, z, level)

    monkeypatch.setattr(policy_paths, "_kernel_loop", with_rows)
    _assert_same(simengine.load_scenario(SCENARIOS / "fed_three_cuts.yaml"), "bayesian", n_blocks=1)
    assert max(used) > 1


@pytest.mark.parametrize("cumulative", [False, True])
def test_column_sums_are_the_matmul_with_the_indicator(cumulative):
    """``values @ on`` (one 1 per meeting row; two meetings in one column, empty columns) and
    ``p0 + cumsum`` of it: PolicyRun's per-month and per-step outputs."""
    from simengine.kernel import column_sums

    values = RNG.standard_normal((3000, 5)) * 0.3
    column = np.array([0, 2, 2, 5, 7])
    on = np.zeros((5, 9))
    on[np.arange(5), column] = 1.0
    ref = 4.33 + np.cumsum(values @ on, axis=1) if cumulative else values @ on
    assert np.array_equal(column_sums(values, column, 9, cumulative, 4.33), ref)
