"""The point-parameter return block in tiles of paths (simengine.kernel_tiles) equals the
path-by-path block (simengine.kernel._block) bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import simengine
from simengine import kernel_tiles
from simengine.kernel import _block, block_args
from tests.conftest import SCENARIOS


def _inputs(rng, n: int, M: int, T: int, K: int, N: int, news: bool, per_path: bool):
    """Random block inputs of the engine's shapes (one row per parameter array)."""
    rows = n if per_path else 1
    z = rng.standard_normal((n, M, K))
    weights = np.zeros((T, M))
    step_month = np.minimum(np.arange(T) * M // T, M - 1)
    weights[np.arange(T), step_month] = rng.uniform(0.2, 1.0, T)
    weights[1::3, np.minimum(step_month[1::3] + 1, M - 1)] = 0.4  # part-months: two terms
    returns = {
        "mu": rng.standard_normal((1, N)),
        "kappa": rng.standard_normal((1, N)),
        "bz": rng.standard_normal((1, N, K)),
        "beta_tariff": rng.standard_normal((1, N)),
        "announcement": rng.standard_normal(N),
        "gap_step": rng.standard_normal((rows, T)),
        "surprise_step": rng.standard_normal((rows, T)),
        "tariff": rng.standard_normal((rows, T)) if per_path else np.zeros((0, T)),
        "dt": rng.uniform(0.01, 0.1, T),
    }
    residuals = {
        "eps": rng.standard_normal((n, T, N)),
        "chol": np.tril(rng.standard_normal((1, N, N))),
        "sigma": rng.uniform(0.1, 0.3, (1, N)),
        "ratio": rng.uniform(0.5, 2.0, (1, M, N)),
        "step_month": step_month.astype(np.int64),
        "level": rng.uniform(0.5, 2.0, n if per_path else 1),
    }
    news_args = None
    if news:
        e = lambda *s: rng.standard_normal((1, *s))  # noqa: E731
        news_args = (
            e(K),
            0.3 * e(K, K),
            e(K),
            e(K),
            e(K),
            0.05 * e(K),
            e(K),
            True,
            rng.standard_normal((rows, M)),
            0,
            rng.standard_normal((rows, M)),
            min(1, K - 1),
            rng.standard_normal((rows, M)),
        )
    jump = rng.standard_normal((n, T, N)) if per_path else None
    return z, news_args, np.zeros(n, np.int64), weights, returns, residuals, jump


@pytest.mark.parametrize(
    ("n", "M", "T", "K", "N"),
    [(300, 6, 6, 4, 2), (129, 6, 25, 4, 2), (128, 3, 13, 5, 3), (1000, 12, 12, 3, 1)],
)
@pytest.mark.parametrize("news", [True, False])
@pytest.mark.parametrize("per_path", [True, False])
def test_tiles_equal_the_path_by_path_block(n, M, T, K, N, news, per_path) -> None:
    rng = np.random.default_rng(n + M + T)
    z, news_args, draw, weights, rets, res, jump = _inputs(rng, n, M, T, K, N, news, per_path)
    args = block_args(z, news_args, draw, weights, rets, res, jump, np.full((N + 1, T, n), 7.0))
    assert kernel_tiles.is_point(args)
    ref = _block(*args)[:N].copy()
    got = kernel_tiles._block_point((*args[:-1], np.full((N + 1, T, n), 7.0)))
    assert np.array_equal(got[:N], ref), f"{np.mean(got[:N] != ref):.1%} of values differ"
    assert np.all(got[N:] == 7.0)  # the portfolio rows are left to the caller


def test_posterior_draws_keep_the_path_by_path_block() -> None:
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


def test_the_engine_runs_the_tiles_for_point_parameters(monkeypatch) -> None:
    seen = []
    original = kernel_tiles._block_point

    def spy(args):
        seen.append(args[0].shape[0])
        return original(args)

    monkeypatch.setattr(kernel_tiles, "_block_point", spy)
    spec = simengine.load_scenario(SCENARIOS / "fed_cut_september.yaml")
    simengine.simulate(spec, n_paths=4096 + 10, seed=3)
    assert seen == [4096 + 10]
