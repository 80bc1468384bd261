"""Scenario weighting (simengine.bayes.weights): hand computations in small Gaussian cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal, norm

from simengine.bayes.weights import (
    gaussian_path_loglik,
    posterior_weights,
)
from simengine.exceptions import CalibrationError, NumericalError


def test_two_scenario_weights_match_hand_computation():
    # Observed growth over 3 months; scenario "soft" expects 0, "recession" expects -0.5 per month;
    # both with per-month sd 0.6, independent steps.
    observed = np.array([[-0.3], [-0.4], [-0.2]])
    sd = 0.6
    means = {"soft": np.zeros((3, 1)), "recession": np.full((3, 1), -0.5)}
    cov = np.full((3, 1, 1), sd**2)
    loglik = {k: gaussian_path_loglik(observed, m, cov) for k, m in means.items()}
    hand_ll = {k: norm.logpdf(observed.ravel(), m.ravel(), sd).sum() for k, m in means.items()}
    assert loglik == pytest.approx(hand_ll, rel=1e-12)
    prior = {"soft": 0.7, "recession": 0.3}
    like = {k: np.exp(v) for k, v in hand_ll.items()}
    z = 0.7 * like["soft"] + 0.3 * like["recession"]
    expected = {"soft": 0.7 * like["soft"] / z, "recession": 0.3 * like["recession"] / z}
    assert posterior_weights(prior, loglik) == pytest.approx(expected, rel=1e-12)


def test_full_covariance_equals_blockwise_and_scipy():
    rng = np.random.default_rng(0)
    t, k = 4, 2
    blocks = np.stack([np.array([[1.0, 0.3], [0.3, 0.5]]) * (i + 1) for i in range(t)])
    full = np.zeros((t * k, t * k))
    for i in range(t):
        full[i * k : (i + 1) * k, i * k : (i + 1) * k] = blocks[i]
    obs, mean = rng.normal(size=(t, k)), rng.normal(size=(t, k))
    a = gaussian_path_loglik(obs, mean, blocks)
    b = gaussian_path_loglik(obs, mean, full)
    c = multivariate_normal(mean.ravel(), full).logpdf(obs.ravel())
    assert a == pytest.approx(b, rel=1e-12) and b == pytest.approx(c, rel=1e-12)


def test_missing_observations_are_marginalised():
    cov = np.array([[1.0, 0.5], [0.5, 2.0]])
    obs = np.array([[0.4, np.nan]])
    got = gaussian_path_loglik(obs, np.zeros((1, 2)), cov)
    assert got == pytest.approx(norm.logpdf(0.4, 0.0, 1.0), rel=1e-12)


def test_weights_stable_for_huge_logliks_and_zero_prior():
    w = posterior_weights(
        {"a": 0.5, "b": 0.5, "c": 0.0}, {"a": -10_000.0, "b": -10_001.0, "c": 0.0}
    )
    assert w["c"] == 0.0
    assert w["a"] == pytest.approx(1 / (1 + np.exp(-1.0)), rel=1e-12)
    assert sum(w.values()) == pytest.approx(1.0)


def test_weight_errors_are_explicit():
    with pytest.raises(CalibrationError, match="different scenarios"):
        posterior_weights({"a": 1.0}, {"b": 0.0})
    with pytest.raises(CalibrationError, match="zero likelihood"):
        posterior_weights({"a": 1.0, "b": 0.0}, {"a": -np.inf, "b": 0.0})
    with pytest.raises(NumericalError):
        gaussian_path_loglik(np.zeros((1, 2)), np.zeros((1, 2)), np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(CalibrationError, match="cov must be"):
        gaussian_path_loglik(np.zeros((2, 2)), np.zeros((2, 2)), np.eye(3))
