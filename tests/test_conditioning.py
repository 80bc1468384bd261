"""Conditional forecasts against the closed form (Waggoner-Zha) for a Gaussian VAR(1)."""

from __future__ import annotations

import numpy as np
import pytest

from simengine.conditioning import Conditions, conditional_moments, impulse_matrix, prepare
from simengine.exceptions import SimulationError

K, M = 3, 6


def _var(seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    A = 0.5 * rng.standard_normal((K, K)) / np.sqrt(K)
    cov = np.array([[1.0, 0.5, -0.3], [0.5, 2.0, 0.4], [-0.3, 0.4, 0.7]])
    b = rng.standard_normal((M, K)) * 0.2
    return A, np.linalg.cholesky(cov), b


def _propagate(A: np.ndarray, C: np.ndarray, b: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """Plain loop (independent of the module): z_m = A z_{m-1} + b_m + C eps_m, z_{-1} = 0."""
    z = np.zeros_like(eps)
    prev = np.zeros((eps.shape[0], K))
    for m in range(M):
        prev = prev @ A.T + b[m] + eps[:, m] @ C.T
        z[:, m] = prev
    return z


def _conditions() -> Conditions:
    path_w = np.zeros((2, M, K))
    path_w[0, 2, 0] = 1.0  # pin: factor 0 in month 2 equals 1.0
    path_w[1, :5, 1] = 1.0  # level: the sum of factor 1 over months 0..4 equals -0.5
    innov_w = np.zeros((1, M, K))
    innov_w[0, 3, 2] = 1.0  # a +0.8 innovation in factor 2 in month 3, learnt from
    return Conditions(
        path_w, np.array([1.0, -0.5]), innov_w, np.array([0.8]), ("pin", "level", "shock")
    )


def _assert_conditions_hold(z_c, eps_c, C, propagated) -> None:
    """The three conditions of :func:`_conditions` hold on every path, and the conditioned
    path is the propagation of the conditioned innovations."""
    assert np.allclose(z_c[:, 2, 0], 1.0, atol=1e-9)
    assert np.allclose(z_c[:, :5, 1].sum(axis=1), -0.5, atol=1e-9)
    assert np.allclose(eps_c[:, 3] @ C[2], 0.8, atol=1e-9)
    np.testing.assert_allclose(propagated, z_c, atol=1e-9)


def _moments_check(z_c: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> tuple[bool, bool]:
    """Sample mean and covariance within 5 standard errors of the closed form (pinned cells,
    zero variance: 1e-9), as (mean ok, covariance ok)."""
    n = z_c.shape[0]
    flat = z_c.reshape(n, -1)
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    free = sd > 1e-8
    err = np.abs(flat.mean(axis=0) - mean.ravel())
    mean_ok = bool(np.all(err[free] < 5 * sd[free] / np.sqrt(n)) and np.all(err[~free] < 1e-9))
    se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    cov_ok = bool(np.all(np.abs(np.cov(flat.T) - cov) < 5 * se_cov + 1e-9))
    return mean_ok, cov_ok


def test_impulse_matrix_matches_a_propagation() -> None:
    A, C, _ = _var()
    eps = np.random.default_rng(2).standard_normal((5, M, K))
    z = _propagate(A, C, np.zeros((M, K)), eps)
    phi = impulse_matrix(A, C, M)
    np.testing.assert_allclose(eps.reshape(5, -1) @ phi.T, z.reshape(5, -1), atol=1e-12)


def test_conditional_draws_match_the_closed_form() -> None:
    """Sample mean and covariance of conditioned paths vs the analytic Waggoner-Zha moments.

    Tolerances: 5 standard errors of each sample moment (``sd / sqrt(n)`` for a mean,
    ``sqrt((s_ii s_jj + s_ij^2) / n)`` for a Gaussian covariance), so a false failure has
    probability well below 1e-4 per element; a projection that gets the spread wrong (for
    example ``eps + G' h`` without the ``(G G')^{-1}``) misses by many standard errors.
    """
    A, C, b = _var()
    cond = _conditions()
    n = 40_000
    eps = np.random.default_rng(3).standard_normal((n, M, K))
    z = _propagate(A, C, b, eps)
    proj = prepare(cond, A[None], C[None])
    eps_c, z_c = proj.apply(z, eps, proj.residual(cond, z, eps, C[None]))
    # the conditions hold on every path, and the conditioned path is the propagated eps_c
    _assert_conditions_hold(z_c, eps_c, C, _propagate(A, C, b, eps_c))

    mu = _propagate(A, C, b, np.zeros((1, M, K)))[0]
    mean, cov = conditional_moments(mu, A, C, cond)
    assert _moments_check(z_c, mean, cov) == (True, True)
    # the conditioning moved the other factors in the shock month (through the covariance)
    assert abs(mean[3, 0] - mu[3, 0]) > 0.05


def test_per_draw_parameters_condition_each_path_with_its_draw() -> None:
    A, C, b = _var()
    A2, C2 = 0.5 * A, 1.5 * C
    cond = _conditions()
    eps = np.random.default_rng(4).standard_normal((8, M, K))
    draw = np.array([0, 1] * 4)
    z = np.where((draw == 0)[:, None, None], _propagate(A, C, b, eps), _propagate(A2, C2, b, eps))
    proj = prepare(cond, np.stack([A, A2]), np.stack([C, C2]))
    Cs = np.stack([C, C2])[draw]
    eps_c, z_c = proj.apply(z, eps, proj.residual(cond, z, eps, Cs), draw)
    assert np.allclose(z_c[:, 2, 0], 1.0)
    assert np.allclose(np.einsum("nk,nk->n", eps_c[:, 3], Cs[:, 2]), 0.8)
    np.testing.assert_allclose(_propagate(A2, C2, b, eps_c[1::2]), z_c[1::2], atol=1e-9)


def test_dependent_conditions_are_an_error() -> None:
    A, C, _ = _var()
    w = np.zeros((2, M, K))
    w[:, 1, 0] = [1.0, 2.0]  # the same condition twice
    cond = Conditions(w, np.array([1.0, 2.0]), np.zeros((0, M, K)), np.zeros(0), ("a", "b"))
    with pytest.raises(SimulationError, match="not independent"):
        prepare(cond, A[None], C[None])


RHO = np.array([0.0, 0.0, -0.25])  # factor 2 error-corrects on its level (credit-like)
W = np.array([4.0, 2.5, 1.5, 1.0, 0.7, 0.6])  # shock variance by month (a volatility state)


def _propagate_ecm(A, C, b, eps, rho=RHO) -> np.ndarray:
    """Plain loop with error correction: z_m = A z_{m-1} + rho S_{m-1} + b_m + C eps_m,
    S_m = S_{m-1} + z_m, z_{-1} = S_{-1} = 0 (independent of the module)."""
    z = np.zeros_like(eps)
    prev = np.zeros((eps.shape[0], K))
    level = np.zeros((eps.shape[0], K))
    for m in range(M):
        prev = prev @ A.T + rho * level + b[m] + eps[:, m] @ C.T
        level = level + prev
        z[:, m] = prev
    return z


def test_impulse_matrix_propagates_through_the_error_correction() -> None:
    A, C, _ = _var()
    eps = np.random.default_rng(5).standard_normal((5, M, K))
    z = _propagate_ecm(A, C, np.zeros((M, K)), eps)
    phi = impulse_matrix(A, C, M, RHO)
    np.testing.assert_allclose(eps.reshape(5, -1) @ phi.T, z.reshape(5, -1), atol=1e-12)
    # the error correction matters: A's powers alone miss it by far more than round-off
    assert np.abs(eps.reshape(5, -1) @ impulse_matrix(A, C, M).T - z.reshape(5, -1)).max() > 0.1


def test_conditioning_is_exact_with_error_correction_and_scaled_shocks() -> None:
    """Shocks with month-varying variance ``W`` and an error-correcting factor: the conditions
    hold exactly on every path and the conditioned paths have the closed-form Gaussian
    conditional moments. The projection that ignores the error correction breaks the
    conditions; the one in the unit metric gets the conditional spread wrong."""
    A, C, b = _var()
    cond = _conditions()
    n = 40_000
    eps = np.random.default_rng(6).standard_normal((n, M, K)) * np.sqrt(W)[None, :, None]
    z = _propagate_ecm(A, C, b, eps)
    proj = prepare(cond, A[None], C[None], RHO[None], W[None])
    eps_c, z_c = proj.apply(z, eps, proj.residual(cond, z, eps, C[None]))
    _assert_conditions_hold(z_c, eps_c, C, _propagate_ecm(A, C, b, eps_c))
    mu = _propagate_ecm(A, C, b, np.zeros((1, M, K)))[0]
    mean, cov = conditional_moments(mu, A, C, cond, RHO, W)
    assert _moments_check(z_c, mean, cov) == (True, True)

    # old behaviour 1: impulses through A alone; re-propagated with the error correction the
    # conditions no longer hold
    old = prepare(cond, A[None], C[None])
    eps_o, _ = old.apply(z, eps, old.residual(cond, z, eps, C[None]))
    z_o = _propagate_ecm(A, C, b, eps_o)
    assert np.abs(z_o[:, :5, 1].sum(axis=1) + 0.5).max() > 1e-3
    # old behaviour 2: the scaled shocks treated as unit-variance (right path, wrong metric)
    unit = prepare(cond, A[None], C[None], RHO[None])
    _, z_u = unit.apply(z, eps, unit.residual(cond, z, eps, C[None]))
    assert np.allclose(z_u[:, :5, 1].sum(axis=1), -0.5, atol=1e-9)
    assert _moments_check(z_u, mean, cov) != (True, True)


def test_no_conditions_is_empty() -> None:
    cond = Conditions.empty(M, K)
    assert cond.n == 0 and cond.labels == ()
    assert cond.path_weights.shape == cond.innovation_weights.shape == (0, M, K)
    assert cond.path_target.shape == cond.innovation_target.shape == (0,)


def test_analytic_moments_equal_the_projection_of_the_mean_path() -> None:
    """Two shocks and two path conditions: ``E[z | G eps = h] = mu + Phi P h`` and
    ``Cov = Phi (I - P G) Phi'`` (the projection of :func:`prepare`), exactly."""
    A, C, b = _var(5)
    path_w = np.zeros((2, M, K))
    path_w[0, 4, 1] = 1.0
    path_w[1, :3, 0] = 1.0
    innov_w = np.zeros((2, M, K))
    innov_w[0, 1, 2] = 1.0
    innov_w[1, 3, 0] = 1.0
    cond = Conditions(path_w, np.array([0.4, -0.2]), innov_w, np.array([0.8, -0.3]))
    mu = _propagate(A, C, b, np.zeros((1, M, K)))[0]
    mean, cov = conditional_moments(mu, A, C, cond)
    proj = prepare(cond, A[None], C[None])
    eps0 = np.zeros((1, M, K))
    _, z_c = proj.apply(mu[None], eps0, proj.residual(cond, mu[None], eps0, C[None]))
    np.testing.assert_allclose(mean, z_c[0], atol=1e-10)
    phi = impulse_matrix(A, C, M)
    eye = np.eye(M * K)
    np.testing.assert_allclose(cov, phi @ (eye - proj.P[0] @ proj.G[0]) @ phi.T, atol=1e-10)
    assert mean[4, 1] == pytest.approx(0.4) and mean[:3, 0].sum() == pytest.approx(-0.2)


def test_dependent_conditions_name_themselves_and_the_fix() -> None:
    """The message lists the labels (or counts the conditions) and says what to do; a nearly
    dependent pair (relative singular value 1e-12) is caught, a weakly independent one is not."""
    A, C, _ = _var()
    w = np.zeros((2, M, K))
    w[:, 1, 0] = [1.0, 2.0]
    empty = (np.zeros((0, M, K)), np.zeros(0))
    expected = (
        r"the scenario's conditions \(pin in August, level in August\) are not independent: "
        r"one of them is implied by the others or contradicts them \(for example a pin and a "
        r"level pin on the same month, or more conditions in a month than factors\); drop or "
        r"merge the duplicate"
    )
    labelled = Conditions(w, np.zeros(2), *empty, ("pin in August", "level in August"))
    with pytest.raises(SimulationError, match=expected):
        prepare(labelled, A[None], C[None])
    with pytest.raises(SimulationError, match=r"conditions \(2 conditions\) are not independent"):
        prepare(Conditions(w, np.zeros(2), *empty), A[None], C[None])
    near = w.copy()
    near[1, 1, 1] = 1e-13
    with pytest.raises(SimulationError, match="not independent"):
        prepare(Conditions(near, np.zeros(2), *empty), A[None], C[None])
    near[1, 1, 1] = 1e-6
    assert prepare(Conditions(near, np.zeros(2), *empty), A[None], C[None]).P.shape[-1] == 2
