"""The fused kernel equals the numpy reference route bit for bit (simengine.kernel)."""

from __future__ import annotations

import numpy as np
import pytest

import simengine
from simengine.api import load_params_for
from simengine.parts import build_scenario
from simengine.rng import draw_blocks
from simengine.simulate import RunConfig, _Engine, _PerPath
from tests.conftest import SCENARIOS, packaged_policy

SCENARIO_FILES = sorted(SCENARIOS.glob("*.yaml"))
OUTPUTS = ("cumulative returns", "policy", "tariff", "factors", "jump counts")


def _paths(spec, method: str | None, kernel: bool, n_blocks: int = 2, seed: int = 7) -> tuple:
    """One chunk of :meth:`_Engine.paths` on the kernel or the numpy route."""
    params = load_params_for(spec, method)
    model = build_scenario(spec, params.structure)
    engine = _Engine(
        [model], params, RunConfig(4096 * n_blocks, seed, kernel=kernel), packaged_policy(params)
    )
    assert engine.kernel is kernel
    draws = draw_blocks(engine.root, 0, n_blocks, engine.plan, kernel)
    pp = _PerPath(params, draws.param_draw if params.n_draws > 1 else None)
    return engine.paths(model, draws, pp)


def _assert_same(spec, method: str | None = None, **kw) -> None:
    ref, got = _paths(spec, method, False, **kw), _paths(spec, method, True, **kw)
    for name, a, b in zip(OUTPUTS, ref, got, strict=True):
        assert a.shape == b.shape, name
        assert np.array_equal(a, b), f"{name}: {np.mean(a != b):.1%} of values differ"


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_kernel_equals_numpy_on_every_packaged_scenario(path):
    _assert_same(simengine.load_scenario(path))


@pytest.mark.parametrize("name", ["base_2025h2", "tariff_escalation", "short_squeeze"])
def test_kernel_equals_numpy_with_posterior_draws(name):
    """Each path reads its posterior draw's parameters inside the kernel (no per-path gather)."""
    _assert_same(simengine.load_scenario(SCENARIOS / f"{name}.yaml"), "bayesian", n_blocks=1)


def test_kernel_equals_numpy_weekly():
    """Weekly steps: several steps per month and part-months (the sparse month weights)."""
    spec = simengine.load_scenario(SCENARIOS / "fed_cut_september.yaml").with_overrides(
        frequency="weekly"
    )
    _assert_same(spec)


def _summary(spec, monkeypatch, kernel: str, **kw):
    monkeypatch.setenv("SIMENGINE_KERNEL", kernel)
    return simengine.simulate(spec, n_paths=3 * 4096 + 100, seed=11, **kw).summary(wide=True)


def test_whole_run_same_numbers_on_both_routes_and_chunkings(monkeypatch):
    """Every accumulated statistic: kernel = numpy, and the kernel with other chunks/threads."""
    spec = simengine.load_scenario(SCENARIOS / "tariff_escalation.yaml")
    ref = _summary(spec, monkeypatch, "0")
    assert _summary(spec, monkeypatch, "1").equals(ref)
    assert _summary(spec, monkeypatch, "1", chunk_size=4096, threads=2).equals(ref)


def test_run_config_switch(monkeypatch):
    monkeypatch.delenv("SIMENGINE_KERNEL", raising=False)
    assert RunConfig(1, 1).use_kernel
    assert not RunConfig(1, 1, kernel=False).use_kernel
    monkeypatch.setenv("SIMENGINE_KERNEL", "0")
    assert not RunConfig(1, 1).use_kernel
    assert RunConfig(1, 1, kernel=True).use_kernel


def test_sum_orders_match_numpy_on_this_machine():
    """The orders the kernel relies on (README, "bit-identical"): OpenBLAS's fma chain for
    ``x @ A.T`` and einsum's two lanes on contiguous operands, its index order on strided ones."""
    from numba import njit

    from simengine.kernel import LANE_LENGTHS, _fma_dot, _lane_dot, _seq_dot

    @njit
    def rows(f, x, A):
        out = np.empty((x.shape[0], A.shape[0]))
        for p in range(x.shape[0]):
            for i in range(A.shape[0]):
                out[p, i] = f(x[p], A[i])
        return out

    rng = np.random.default_rng(3)
    for K in LANE_LENGTHS:
        x, A = rng.standard_normal((5000, K)), rng.standard_normal((3, K))
        assert np.array_equal(rows(_fma_dot, x, A), x @ A.T)
        B = rng.standard_normal((5000, 3, K))
        lanes = np.stack([rows(_lane_dot, x[p : p + 1], B[p])[0] for p in range(200)])
        assert np.array_equal(lanes, np.einsum("pij,pj->pi", B[:200], x[:200]))
        strided = np.asarray(rng.standard_normal((200, 3, K + 1)))[..., list(range(K))]
        seq = np.stack([rows(_seq_dot, x[p : p + 1], strided[p])[0] for p in range(200)])
        assert np.array_equal(seq, np.einsum("pk,pnk->pn", x[:200], strided))


@pytest.mark.parametrize(
    ("n_paths", "changes"),
    [
        (1, {}),  # one path: numpy's matmul is a gemv, the chunk takes the numpy route
        (4097, {}),  # the last block has one path
    ],
)
def test_unit_axes_same_numbers(monkeypatch, n_paths, changes):
    spec = simengine.load_scenario(SCENARIOS / "fed_cut_september.yaml").with_overrides(**changes)
    out = []
    for flag in ("0", "1"):
        monkeypatch.setenv("SIMENGINE_KERNEL", flag)
        out.append(simengine.simulate(spec, n_paths=n_paths, seed=5).summary(wide=True))
    assert out[1].equals(out[0])


def test_chunks_with_a_unit_axis_take_the_numpy_route():
    from simengine.kernel_inputs import chunk_supported

    assert chunk_supported(2, 2, 2, 2)
    for shape in [(1, 6, 6, 2), (100, 1, 6, 2), (100, 6, 1, 2), (100, 6, 6, 1)]:
        assert not chunk_supported(*shape)


@pytest.mark.parametrize("antithetic", [False, True])
@pytest.mark.parametrize("nu", [(5.0,), (4.0, np.inf, 7.0), (np.inf,)])
def test_student_t_scaling_in_the_kernel_draws_the_same_numbers(antithetic, nu):
    from simengine.rng import DrawPlan, Kind, Stream, root_seed

    streams = (
        Stream("factor", Kind.FACTOR, "student_t", (6, 4), Kind.FACTOR_CHI2, nu),
        Stream("asset", Kind.ASSET, "student_t", (9, 2), Kind.ASSET_CHI2, nu),
    )
    plan = DrawPlan(3 * 4096 + 5, streams, len(nu), antithetic)
    ref = draw_blocks(root_seed(4), 1, 3, plan)
    got = draw_blocks(root_seed(4), 1, 3, plan, kernel=True)
    assert np.array_equal(ref.param_draw, got.param_draw)
    for name in ("factor", "asset"):
        assert np.array_equal(ref[name], got[name]), name


@pytest.mark.parametrize("per_path", [False, True])
@pytest.mark.parametrize("n_factors", [4, 5])
def test_var_propagate_in_the_kernel_equals_numpy(per_path, n_factors):
    from types import SimpleNamespace

    from simengine.parts.dynamics import propagate

    rng = np.random.default_rng(n_factors)
    n, M, K = 3000, 12, n_factors
    D = n if per_path else 1
    p = SimpleNamespace(
        A=0.3 * rng.standard_normal((D, K, K)),
        chol=np.tril(rng.standard_normal((D, K, K))),
        rho=0.01 * rng.standard_normal((D, K)),
    )
    pins = np.zeros((M, K), bool)
    pins[3, 1] = True
    scn = SimpleNamespace(pin_mask=pins, pin_value=np.full((M, K), 0.5))
    args = (rng.standard_normal((1, K)), rng.standard_normal((n, M, K)))
    exog, level0 = rng.standard_normal((1, M, K)), rng.standard_normal((1, K))
    ref = propagate(*args, exog, p, scn, level0)
    assert np.array_equal(propagate(*args, exog, p, scn, level0, kernel=True), ref)


@pytest.mark.parametrize(("shape", "axis"), [((3, 25, 5000), -1), ((5000, 25, 4), 0), ((5, 7), 1)])
@pytest.mark.parametrize("square", [False, True])
def test_compiled_quantised_sums_are_the_numpy_integers(shape, axis, square):
    from simengine import stats

    x = np.random.default_rng(2).standard_normal(shape) * 3.0
    x.flat[:4] = [0.5 / 2**24, 1.5 / 2**24, -2.5 / 2**24, -99.99]  # rint ties to even
    q = stats.quantise_sq(x) if square else stats.quantise(x)
    got = stats.quantised_sum(x, axis, square=square)
    assert got.dtype == np.int64
    assert np.array_equal(got, q.sum(axis=axis))


@pytest.mark.parametrize("big", [150.0, -3e5, 3e6, 1e12])
def test_quantised_sums_beyond_the_range_are_the_int64_integers(big):
    """Values beyond ``MAX_ABS``: the compiled pass gives the int64 route's integers while
    they fit int64 (``INT64_EXACT``), and hands larger ones to the int64 route itself."""
    from simengine import stats

    x = np.random.default_rng(4).standard_normal((40, 30))
    x[7, 3] = big
    for axis in (0, -1):
        assert np.array_equal(stats.quantised_sum(x, axis), stats.quantise(x).sum(axis=axis))
        sq = stats.quantised_sum(x, axis, square=True)
        assert np.array_equal(sq, stats.quantise_sq(x).sum(axis=axis))


def test_compiled_histogram_is_the_numpy_one():
    from simengine import stats
    from simengine.statistics.histograms import histogram

    x = np.random.default_rng(3).standard_normal((6, 20000)) * 0.3
    x[0, :3] = [1e9, -1e9, 0.0]  # overflow, underflow and the centre bins
    for grid in (stats.FINE, stats.COARSE):
        z = grid.transform(x)
        offset = (np.arange(6, dtype=np.float64) * grid.size)[:, None]
        flat = grid.index_from_z(z, offset).ravel()
        counts, sums = histogram(grid, z, x)
        assert np.array_equal(counts, np.bincount(flat, minlength=6 * grid.size).reshape(6, -1))
        assert np.array_equal(sums, stats.bincount_exact(flat, x, 6 * grid.size).reshape(6, -1))
        with pytest.raises(ValueError, match="NaN"):
            histogram(grid, np.full((1, 3), np.nan))


def test_compiled_drawdown_is_the_numpy_loop():
    """Assets (fraction of the running peak) and a portfolio (dollars); a non-contiguous copy
    takes the numpy loop."""
    from simengine.statistics.drawdown import max_drawdown

    R = np.cumsum(np.random.default_rng(6).standard_normal((3, 25, 5000)) * 0.05, axis=1)
    R[0, 3, 0], R[0, :, 1], R[0, 0, 2] = -1.0, 0.0, 2.0  # total loss, flat, an early peak
    portfolio = np.array([False, False, True])
    ref = max_drawdown(np.asfortranarray(R), portfolio)
    assert np.array_equal(max_drawdown(R, portfolio), ref)
    assert not np.array_equal(max_drawdown(R, ~portfolio), ref)
