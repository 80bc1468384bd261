"""Conditional forecasts of a VAR(1) path: the distribution of innovations given conditions (pure).

A scenario that fixes something (a factor's value in a month, a level such as the 2-year yield
at a date, the size of a month's innovation in one factor) can be read as *information* about
the economy: the other factors then move through the innovation covariance and the dynamics.
This module draws from that conditional distribution, Waggoner and Zha (1999, Rev. Econ. Stat.
81) and Banbura, Giannone and Lenza (2015, Int. J. Forecasting 31): for Gaussian innovations
the draw is exact; it needs no loop over paths.

Notation (months ``m = 0 .. M-1``, factors ``k = 0 .. K-1``)::

    z_m = A z_{m-1} + D S_{m-1} + b_m + C eps_m,   S_m = S_{m-1} + z_m,   eps_m ~ N(0, w_m I_K)

``D = diag(rho)`` is the error correction of the factors modelled as levels (credit: its
monthly change reverts on the lagged spread level ``S``; ``rho = 0``: a plain VAR) and
``w_m`` the variance of month ``m``'s shocks (the volatility state's ratio for the factor
innovations; 1 without one). Stacking ``eps`` (M K) the path is affine in the innovations,
``z = mu + Phi eps`` with the block lower-triangular impulse matrix ``Phi[m, i] = H_{m-i} C``:
``H_h`` is the response of ``z`` to a unit impulse ``h`` months before, from the companion form
``(z, S)_m = [[A, D], [A, I + D]] (z, S)_{m-1} + [I; I] (b_m + C eps_m)`` (``H_h = A^h`` when
``D = 0``). Conditions are linear: on the path, ``R z = r`` (pins, levels, sums), and on the
innovations in factor units, ``S (C eps) = s`` (a shock of a given size that the rest of the
system learns from). Both become ``G eps = h`` with ``G = [R Phi; S C_blk]``; with
``Omega = Cov(eps) = diag(w) (x) I_K`` the conditional law is exact for Gaussian shocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simengine.exceptions import SimulationError

__all__ = [
    "Conditions",
    "ConditionedDraw",
    "conditional_moments",
    "impulse_matrix",
    "innovation_variance",
    "prepare",
]

RANK_TOL = 1e-10  # relative singular-value floor: below it two conditions say the same thing


@dataclass(frozen=True)
class Conditions:
    """Linear conditions on a monthly factor path.

    Attributes
    ----------
    path_weights : ndarray (q1, M, K)
        Row ``j`` is ``R_j``: the condition is ``sum_{m,k} R_j[m, k] z[m, k] = path_target_j``.
    path_target : ndarray (q1,) or (n, q1)
        Targets, shared or per path.
    innovation_weights : ndarray (q2, M, K)
        Row ``j`` is ``S_j`` on the innovations in factor units ``u_m = C eps_m``.
    innovation_target : ndarray (q2,) or (n, q2)
    labels : tuple of str
        One label per condition (path conditions first), for error messages.
    """

    path_weights: np.ndarray
    path_target: np.ndarray
    innovation_weights: np.ndarray
    innovation_target: np.ndarray
    labels: tuple[str, ...] = ()

    @classmethod
    def empty(cls, n_months: int, n_factors: int) -> Conditions:
        """No conditions."""
        w = np.zeros((0, n_months, n_factors))
        return cls(w, np.zeros(0), w.copy(), np.zeros(0))

    @property
    def n(self) -> int:
        return int(self.path_weights.shape[0] + self.innovation_weights.shape[0])


def impulse_matrix(
    A: np.ndarray, C: np.ndarray, n_months: int, rho: np.ndarray | None = None
) -> np.ndarray:
    """``Phi`` with ``z = mu + Phi eps``: shape (..., M K, M K) for ``A``, ``C`` of shape (..., K, K).

    ``rho`` (..., K), optional: error correction on the lagged levels (module notes).

    Notes
    -----
    ``Phi[m, i] = H_{m-i} C`` for ``i <= m`` and 0 above the block diagonal, with
    ``H_0 = I``, ``H_{h+1} = A H_h + D L_h``, ``L_h = L_{h-1} + H_h`` (``L_{-1} = 0``): the
    responses of the changes ``z`` and of the levels ``S``. ``H_h = A^h`` when ``rho`` is 0.
    """
    K = A.shape[-1]
    lead = np.broadcast_shapes(A.shape[:-2], C.shape[:-2])
    if rho is not None:
        lead = np.broadcast_shapes(lead, np.shape(rho)[:-1])
    phi = np.zeros((*lead, n_months * K, n_months * K))
    H = np.broadcast_to(np.eye(K), (*lead, K, K)).copy()  # response of z, h months on
    L = H.copy()  # response of the levels S
    for h in range(n_months):
        block = H @ C
        for i in range(n_months - h):
            m = i + h
            phi[..., m * K : (m + 1) * K, i * K : (i + 1) * K] = block
        H = A @ H
        if rho is not None:
            H = H + np.asarray(rho)[..., :, None] * L
        L = L + H
    return phi


def _constraint_matrix(cond: Conditions, phi: np.ndarray, C: np.ndarray) -> np.ndarray:
    """``G`` (..., q, M K): the conditions as rows on the stacked innovations ``eps``."""
    q1, M, K = cond.path_weights.shape
    rows = [np.einsum("qj,...ji->...qi", cond.path_weights.reshape(q1, M * K), phi)]
    if cond.innovation_weights.shape[0]:
        s = cond.innovation_weights  # (q2, M, K) on u_m = C eps_m
        rows.append(np.einsum("qmk,...kj->...qmj", s, C).reshape(*C.shape[:-2], -1, M * K))
    lead = phi.shape[:-2]
    return np.concatenate([np.broadcast_to(r, (*lead, *r.shape[-2:])) for r in rows], axis=-2)


def _check_rank(G: np.ndarray, labels: tuple[str, ...]) -> None:
    sv = np.linalg.svd(G, compute_uv=False)
    small = sv[..., -1] <= RANK_TOL * np.maximum(sv[..., 0], 1.0)
    if np.any(small):
        what = ", ".join(labels) if labels else f"{G.shape[-2]} conditions"
        raise SimulationError(
            f"the scenario's conditions ({what}) are not independent: one of them is implied by "
            "the others or contradicts them (for example a pin and a level pin on the same month, "
            "or more conditions in a month than factors); drop or merge the duplicate"
        )


@dataclass(frozen=True)
class ConditionedDraw:
    """Precomputed projection for one set of conditions and parameters (reuse across chunks).

    ``G`` (D, q, MK), ``P = G' (G G')^{-1}`` (D, MK, q) and ``Phi P`` (D, MK, q), with ``D`` = 1
    for point parameters or one per parameter draw.
    """

    G: np.ndarray
    P: np.ndarray
    phi_P: np.ndarray
    n_months: int
    n_factors: int

    def residual(
        self, cond: Conditions, z: np.ndarray, eps: np.ndarray, C: np.ndarray
    ) -> np.ndarray:
        """Target minus the current value of each condition, per path: (n, q).

        ``z`` (n, M, K) is the path from ``eps`` (n, M, K) before conditioning; ``C`` (D|n, K, K).
        """
        n, M, K = z.shape
        q1 = cond.path_weights.shape[0]
        out = np.empty((n, self.G.shape[-2]))
        out[:, :q1] = cond.path_target - z.reshape(n, -1) @ cond.path_weights.reshape(q1, M * K).T
        if cond.innovation_weights.shape[0]:
            u = (
                eps @ np.swapaxes(C[0], -1, -2)
                if C.shape[0] == 1
                else np.einsum("nmj,nkj->nmk", eps, C)
            )
            q2 = cond.innovation_weights.shape[0]
            out[:, q1:] = (
                cond.innovation_target
                - u.reshape(n, -1) @ cond.innovation_weights.reshape(q2, M * K).T
            )
        return out

    def apply(
        self, z: np.ndarray, eps: np.ndarray, resid: np.ndarray, draw: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Conditioned innovations and path: ``eps + P resid`` and ``z + Phi P resid``.

        ``draw`` (n,) picks the parameter draw of each path when ``D > 1``.
        """
        n = z.shape[0]
        if self.P.shape[0] == 1:
            d_eps = resid @ self.P[0].T
            d_z = resid @ self.phi_P[0].T
        else:
            d_eps = np.einsum("nq,niq->ni", resid, self.P[draw])
            d_z = np.einsum("nq,niq->ni", resid, self.phi_P[draw])
        shape = (n, self.n_months, self.n_factors)
        return eps + d_eps.reshape(shape), z + d_z.reshape(shape)


def innovation_variance(var_scale: np.ndarray | None, n_months: int, n_factors: int) -> np.ndarray:
    """Diagonal of ``Omega = Cov(eps)`` (..., M K) from the monthly variances ``w`` (..., M)."""
    if var_scale is None:
        return np.ones((1, n_months * n_factors))
    w = np.asarray(var_scale, dtype=np.float64)
    return np.repeat(np.atleast_2d(w), n_factors, axis=-1)


def prepare(
    cond: Conditions,
    A: np.ndarray,
    C: np.ndarray,
    rho: np.ndarray | None = None,
    var_scale: np.ndarray | None = None,
) -> ConditionedDraw:
    """Build the projection for ``cond`` under VAR matrices ``A``, ``C`` of shape (D, K, K).

    ``rho`` (D, K): error correction on the lagged levels (``None``: none); ``var_scale``
    (D, M): the variance ``w_m`` of month ``m``'s shocks ``eps_m`` (``None``: 1). A per-path
    factor common to every month (the volatility state's level ``L``) cancels and is left out.

    Notes
    -----
    With ``eps ~ N(0, Omega)`` and conditions ``G eps = h``, the conditional law is
    ``N(P h, Omega - P G Omega)`` with ``P = Omega G' (G Omega G')^{-1}``;
    ``eps + P (h - G eps)`` is an exact draw from it (the projection of an unconditional draw
    onto the constraint set). For Student-t innovations the same map gives the right
    conditional mean and an approximate spread.

    Raises
    ------
    SimulationError
        If the conditions are linearly dependent (rank-deficient ``G``).
    """
    _, M, K = cond.path_weights.shape
    phi = impulse_matrix(A, C, M, rho)
    G = _constraint_matrix(cond, phi, C)
    _check_rank(G, cond.labels)
    omega_Gt = innovation_variance(var_scale, M, K)[..., :, None] * np.swapaxes(
        G, -1, -2
    )  # Omega G'
    P = np.swapaxes(np.linalg.solve(G @ omega_Gt, np.swapaxes(omega_Gt, -1, -2)), -1, -2)
    return ConditionedDraw(G=G, P=P, phi_P=phi @ P, n_months=M, n_factors=K)


def conditional_moments(
    mu: np.ndarray,
    A: np.ndarray,
    C: np.ndarray,
    cond: Conditions,
    rho: np.ndarray | None = None,
    var_scale: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Analytic mean (M, K) and covariance (M K, M K) of a Gaussian VAR path given ``cond``.

    Computed the textbook way on the path (not on the innovations): with
    ``Sigma = Cov(z) = Phi Omega Phi'`` and ``g`` the conditions as a linear map of ``z`` and
    ``eps``, ``E[z | g = t] = mu + Cov(z, g) Var(g)^{-1} (t - E g)``,
    ``Cov(z | g) = Sigma - Cov(z, g) Var(g)^{-1} Cov(g, z)``. ``mu`` (M, K) is the path with
    zero innovations; point parameters only (``A``, ``C`` of shape (K, K), ``rho`` (K,),
    ``var_scale`` (M,)); shared targets.
    """
    M, K = mu.shape
    half = np.sqrt(innovation_variance(var_scale, M, K)[0])  # eps = Omega^(1/2) e with e ~ N(0, I)
    phi = impulse_matrix(A, C, M, rho) * half
    q1 = cond.path_weights.shape[0]
    R = cond.path_weights.reshape(q1, -1)
    # the conditions as linear maps of e: path rows through Phi, innovation rows through C
    S = np.einsum("qmk,kj->qmj", cond.innovation_weights, C).reshape(-1, M * K) * half
    g_of_eps = np.vstack([R @ phi, S])
    mean_g = np.concatenate([R @ mu.ravel(), np.zeros(S.shape[0])])
    target = np.concatenate(
        [np.atleast_1d(cond.path_target), np.atleast_1d(cond.innovation_target)]
    )
    cov_zg = phi @ g_of_eps.T
    var_g = g_of_eps @ g_of_eps.T
    gain = np.linalg.solve(var_g, cov_zg.T).T
    mean = mu.ravel() + gain @ (target - mean_g)
    cov = phi @ phi.T - gain @ cov_zg.T
    return mean.reshape(M, K), cov
