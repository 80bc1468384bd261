"""The squeeze jump counts: a numpy Poisson recurrence against scipy's CDF."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simengine.parts.jumps import POISSON_TAIL, poisson_kmax, squeeze_counts


@pytest.mark.parametrize("lam", [0.0, 1e-4, 0.01, 0.3, 1.0, 5.0, 30.0, 200.0])
def test_kmax_matches_scipy_tail(lam: float) -> None:
    assert poisson_kmax(lam) == int(stats.poisson.isf(POISSON_TAIL, lam)) + 1


def test_counts_equal_inverse_cdf_of_scipy() -> None:
    rng = np.random.default_rng(0)
    lam = rng.uniform(0.0, 3.0, (400, 9))
    u = rng.random((400, 9))
    kmax = poisson_kmax(float(lam.max()))
    cdf = stats.poisson.cdf(np.arange(kmax), lam[..., None])
    np.testing.assert_array_equal(squeeze_counts(u, lam), (u[..., None] > cdf).sum(-1))
    shared = np.full((1, 9), 0.05)  # one rate row broadcast over the paths
    cdf = stats.poisson.cdf(np.arange(poisson_kmax(0.05)), shared[..., None])
    np.testing.assert_array_equal(squeeze_counts(u, shared), (u[..., None] > cdf).sum(-1))


def test_counts_have_poisson_moments() -> None:
    u = np.random.default_rng(1).random((200_000, 1))
    n = squeeze_counts(u, np.array([[0.7]]))
    assert abs(n.mean() - 0.7) < 0.01 and abs(n.var() - 0.7) < 0.015


def test_rate_out_of_range_is_an_error() -> None:
    with pytest.raises(ValueError, match="squeeze jump rate"):
        poisson_kmax(1e4)
