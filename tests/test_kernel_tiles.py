"""The return block in tiles of paths (simengine.kernel_tiles), for point parameters and for
posterior draws, equals the path-by-path block (simengine.kernel._block) bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import simengine
from simengine import kernel_tiles
from simengine.kernel import _block, block_args
from tests.conftest import SCENARIOS
from tests.test_kernel import _assert_same


def _inputs(
    rng, n: int, M: int, T: int, K: int, N: int, news: bool, per_path: bool, D: int = 1,
    ecm: bool = True, drifts: bool = True,
):  # fmt: skip
    """Random block inputs of the engine's shapes: one row per parameter array, or ``D`` rows
    (posterior draws; the means and the news' start state shared) with random draws. The drift
    offsets have the draws' rows, except for ``n = 128``: one row shared by every draw."""
    rows = n if per_path else 1
    z = rng.standard_normal((n, M, K))
    nd = lambda *s: rng.standard_normal((D, *s))  # noqa: E731
    weights = np.zeros((T, M))
    step_month = np.minimum(np.arange(T) * M // T, M - 1)
    weights[np.arange(T), step_month] = rng.uniform(0.2, 1.0, T)
    weights[1::3, np.minimum(step_month[1::3] + 1, M - 1)] = 0.4  # part-months: two terms
    returns = {
        "mu": rng.standard_normal((1, N)),
        "kappa": nd(N),
        "bz": nd(N, K),
        "beta_tariff": nd(N),
        "announcement": rng.standard_normal(N),
        "gap_step": rng.standard_normal((rows, T)),
        "surprise_step": rng.standard_normal((rows, T)),
        "tariff": rng.standard_normal((rows, T)) if per_path else np.zeros((0, T)),
        "dt": rng.uniform(0.01, 0.1, T),
    }
    residuals = {
        "eps": rng.standard_normal((n, T, N)),
        "chol": np.tril(nd(N, N)),
        "sigma": rng.uniform(0.1, 0.3, (D, N)),
        "ratio": rng.uniform(0.5, 2.0, (D, M, N)),
        "step_month": step_month.astype(np.int64),
        "level": rng.uniform(0.5, 2.0, n if per_path else 1),
    }
    news_args = None
    if news:
        news_args = (
            rng.standard_normal((1, K)),
            0.3 * nd(K, K),
            nd(K),
            nd(K),
            nd(K),
            0.05 * nd(K) if ecm else np.zeros((1, 1)),
            nd(K) if ecm else np.zeros((1, 1)),
            ecm,
            rng.standard_normal((rows, M)),
            0,
            rng.standard_normal((rows, M)),
            min(1, K - 1),
            rng.standard_normal((rows, M)),
            0.1 * rng.standard_normal((1 if n == 128 else D, M, K))
            if drifts
            else np.zeros((1, 0, K)),
        )
    jump = rng.standard_normal((n, T, N)) if per_path else None
    draw = rng.integers(0, D, n) if D > 1 else np.zeros(n, np.int64)
    return z, news_args, draw, weights, returns, residuals, jump


@pytest.mark.parametrize(
    ("n", "M", "T", "K", "N"),
    [(300, 6, 6, 4, 2), (129, 6, 25, 4, 2), (128, 3, 13, 5, 3), (1000, 12, 12, 3, 1),
     (128, 3, 13, 6, 1), (1000, 12, 12, 2, 4)],
)  # fmt: skip
@pytest.mark.parametrize("news", [True, False])
@pytest.mark.parametrize("per_path", [True, False])
@pytest.mark.parametrize("D", [1, 17])
def test_tiles_equal_the_path_by_path_block(n, M, T, K, N, news, per_path, D) -> None:
    """Point parameters (``D = 1``) and posterior draws: each path's draw rows (the means and
    start state shared), einsum's lanes, the loadings in order; with and without error
    correction."""
    rng = np.random.default_rng(n + M + T + D)
    kw = dict(D=D, ecm=n % 2 == 0 or D == 1, drifts=n % 3 != 0)
    z, news_args, draw, weights, rets, res, jump = _inputs(rng, n, M, T, K, N, news, per_path, **kw)
    args = block_args(z, news_args, draw, weights, rets, res, jump, np.full((N + 1, T, n), 7.0))
    assert kernel_tiles.is_point(args) is (D == 1) and kernel_tiles.is_by_draw(args) is (D > 1)
    ref = _block(*args)[:N].copy()
    tiles = kernel_tiles._block_point if D == 1 else kernel_tiles._block_draws
    got = tiles((*args[:-1], np.full((N + 1, T, n), 7.0)))
    assert np.array_equal(got[:N], ref), f"{np.mean(got[:N] != ref):.1%} of values differ"
    assert np.all(got[N:] == 7.0)  # the portfolio rows are left to the caller


def test_which_blocks_take_the_draw_tiles() -> None:
    rng = np.random.default_rng(1)
    z, news_args, draw, weights, rets, res, jump = _inputs(rng, 50, 6, 6, 4, 2, True, False, 5)
    out = np.empty((2, 6, 50))
    assert kernel_tiles.is_by_draw(block_args(z, news_args, draw, weights, rets, res, jump, out))
    assert kernel_tiles.is_by_draw(block_args(z, None, draw, weights, rets, res, jump, out))
    for key, shared in (("bz", {**rets, "bz": rets["bz"][:1]}), ("chol", None)):
        r = {**res, "chol": res["chol"][:1]} if key == "chol" else res
        a = block_args(z, news_args, draw, weights, shared or rets, r, jump, out)
        assert not kernel_tiles.is_by_draw(a), key
    news_1 = (news_args[0], news_args[1][:1], *news_args[2:])
    assert not kernel_tiles.is_by_draw(block_args(z, news_1, draw, weights, rets, res, jump, out))


def test_which_blocks_take_the_point_tiles() -> None:
    rng = np.random.default_rng(0)
    z, news_args, draw, weights, rets, res, jump = _inputs(rng, 50, 6, 6, 4, 2, True, False)
    out = np.empty((2, 6, 50))
    assert kernel_tiles.is_point(block_args(z, news_args, draw, weights, rets, res, jump, out))
    per_draw = {**rets, "mu": np.zeros((3, 2))}
    assert not kernel_tiles.is_point(
        block_args(z, news_args, draw, weights, per_draw, res, jump, out)
    )
    news_d = (news_args[0], np.zeros((3, 4, 4)), *news_args[2:])
    assert not kernel_tiles.is_point(block_args(z, news_d, draw, weights, rets, res, jump, out))
    assert kernel_tiles.is_point(block_args(z, None, draw, weights, rets, res, jump, out))


@pytest.mark.parametrize(
    ("method", "kernel"), [("monte_carlo", "_block_point"), ("bayesian", "_block_draws")]
)
def test_the_engine_runs_the_tiles(monkeypatch, method: str, kernel: str) -> None:
    """Point parameters take the point tiles, posterior draws the draw tiles."""
    seen = []
    original = getattr(kernel_tiles, kernel)

    def spy(args):
        seen.append(args[0].shape[0])
        return original(args)

    monkeypatch.setattr(kernel_tiles, kernel, spy)
    spec = simengine.load_scenario(SCENARIOS / "fed_cut_september.yaml")
    simengine.simulate(spec, n_paths=4096 + 10, seed=3, method=method)
    assert seen == [4096 + 10]


def test_weekly_posterior_draws_equal_the_numpy_route() -> None:
    """Weekly steps with posterior draws (part-month weights, the squeeze's jumps): the
    engine's kernel route (the draw tiles) gives the numpy route's paths."""
    spec = simengine.load_scenario(SCENARIOS / "short_squeeze.yaml")
    _assert_same(spec.with_overrides(frequency="weekly"), "bayesian", n_blocks=1)
