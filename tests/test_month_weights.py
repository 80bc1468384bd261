"""Sparse month weights give the dense contraction's values bit for bit."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from simengine.calendar import TimeGrid
from simengine.parts.returns import month_weighted


@pytest.mark.parametrize(
    ("frequency", "horizon"),
    [("monthly", "2030-07-16"), ("weekly", "2027-07-16"), ("daily", "2025-10-16")],
)
def test_sparse_equals_dense(frequency: str, horizon: str) -> None:
    weights = TimeGrid(
        dt.date(2025, 7, 16), dt.date.fromisoformat(horizon), frequency
    ).month_weights
    x = np.random.default_rng(5).standard_normal((300, weights.shape[1], 3))
    x[0, 0] = -0.0  # sign of zero is kept as the dense sum keeps it
    dense = np.einsum("tm,pmn->ptn", weights, x)
    sparse = month_weighted(weights, x)
    np.testing.assert_array_equal(sparse, dense)
    assert np.array_equal(np.signbit(sparse), np.signbit(dense))


def test_steps_with_no_month_are_zero() -> None:
    weights = np.array([[0.0, 0.0], [0.25, 0.75]])
    x = np.arange(8.0).reshape(2, 2, 2)
    out = month_weighted(weights, x)
    np.testing.assert_array_equal(out[:, 0], 0.0)
    np.testing.assert_array_equal(out[:, 1], 0.25 * x[:, 0] + 0.75 * x[:, 1])
