"""The factor innovations with the volatility state's scale inside the compiled ``chol eps``
(:func:`simengine.kernel.scaled_innovations`) equal numpy's scaled copy and product."""

from __future__ import annotations

import numpy as np
import pytest

import simengine
from simengine.kernel import LANE_LENGTHS, scaled_innovations
from tests.conftest import SCENARIOS

NO_DRAW = np.zeros(0, np.int64)


def _inputs(K: int, n: int = 3000, M: int = 6, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal((n, M, K))
    level = np.exp(0.6 * rng.standard_normal((n, 1)) - 0.18)
    scale = np.sqrt(rng.uniform(0.5, 2.0, (1, M)) * level)  # as VolState.factor_scale
    return rng, eps, scale


@pytest.mark.parametrize("K", [1, 2, 3, 4, 5, 6])
def test_point_parameters_are_the_scaled_copy_times_chol(K: int) -> None:
    rng, eps, scale = _inputs(K)
    chol = np.tril(rng.standard_normal((1, K, K)))
    ref = (eps * scale[..., None]) @ chol[0].T
    got = scaled_innovations(eps, scale, chol, NO_DRAW, np.empty_like(eps))
    assert np.array_equal(got, ref), f"{np.mean(got != ref):.1%} of values differ"
    plain = scaled_innovations(eps, np.zeros((0, 6)), chol, NO_DRAW, np.empty_like(eps))
    assert np.array_equal(plain, eps @ chol[0].T)


@pytest.mark.parametrize("K", LANE_LENGTHS)
def test_posterior_draws_are_the_per_path_einsum_of_the_scaled_copy(K: int) -> None:
    rng, eps, scale = _inputs(K, seed=K)
    D = 25
    chol = np.tril(rng.standard_normal((D, K, K)))
    draw = rng.integers(0, D, eps.shape[0])
    ref = np.einsum("nmj,nij->nmi", eps * scale[..., None], chol[draw])
    got = scaled_innovations(eps, scale, chol, draw, np.empty_like(eps))
    assert np.array_equal(got, ref)


def test_the_engine_scales_inside_the_kernel(monkeypatch) -> None:
    """The kernel route hands the unscaled draws and the scale to the compiled product (no
    scaled copy), and a run's numbers equal the numpy route's."""
    import simengine.kernel as kernel

    seen = []
    original = kernel.scaled_innovations

    def spy(eps, scale, chol, draw, out):
        seen.append(scale.shape[0])
        return original(eps, scale, chol, draw, out)

    monkeypatch.setattr(kernel, "scaled_innovations", spy)
    spec = simengine.load_scenario(SCENARIOS / "fed_cut_september.yaml")
    got = simengine.simulate(spec, n_paths=2 * 4096, seed=5).summary(wide=True)
    assert seen and all(rows == 4096 * 2 for rows in seen)  # one scale row per path
    monkeypatch.setenv("SIMENGINE_KERNEL", "0")
    ref = simengine.simulate(spec, n_paths=2 * 4096, seed=5).summary(wide=True)
    assert got.equals(ref)
