"""The fused return block for point parameters, in tiles of paths (numba).

:func:`simengine.kernel._block` walks the chunk path by path: each path's factor
news, loadings, means, residuals and cumulative sums are a few hundred scalar operations whose
dependency chains leave the CPU idle. With point parameters every path shares the
coefficients, so the same operations can run on :data:`TILE` paths at once with the path
index innermost: the tile's per-path inputs (factors, policy gap and surprise, shocks, level)
are first copied path-last into small buffers, and then each operation is a loop over the tile
that the compiler turns into SIMD instructions. Nothing is reordered *within* a path: every
value gets the same operations in the same order as in :func:`simengine.kernel._block` (the
same fma chains, the same left-to-right additions, ``sqrt`` is exact in SIMD as in scalar
code), so the numbers are the same bit for bit; ``tests/test_kernel.py`` (the whole engine
against the numpy route) and ``tests/test_kernel_tiles.py`` (this block against
:func:`_block` on odd shapes) check it. Posterior draws (one row per draw) keep
:func:`_block`: a tile version reading each path's draw row (gathers) measured no faster.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simengine.kernel import _block, _fma, _row

__all__ = ["TILE", "block_log_returns", "is_point"]

TILE = 128
"""Paths per tile (1e6 paths, 1 thread: 128 was faster than 32, 64 and 256)."""


def is_point(args: tuple) -> bool:
    """Whether every parameter array of the block's arguments (:func:`block_args`) has one
    row (point parameters)."""
    news = args[2]
    arrays = [args[i] for i in (6, 7, 8, 12, 16, 17, 18)]  # mu kappa bz beta_t chol sigma ratio
    if args[1]:
        arrays += [news[i] for i in range(7)]  # start, A, c, g, m, rho, levels
    return all(a.shape[0] == 1 for a in arrays)


def block_log_returns(args: tuple) -> np.ndarray:
    """The cumulative log returns of the chunk into ``out[:N]`` (the last argument) from the
    arguments of :func:`simengine.kernel.block_args`: in tiles of paths for point parameters
    (:func:`is_point`), else path by path (:func:`simengine.kernel._block`); the same numbers."""
    if is_point(args):
        return _block_point(args)
    return _block(*args)


@njit(inline="always")
def _tile_dot(X, coef, P, Q):
    """``Q[q] = sum_k X[k, q] coef[k]`` for the tile's paths ``q < P``: each an fma chain from
    zero in ``k`` order (:func:`simengine.kernel._fma_dot`), the paths innermost."""
    for q in range(P):
        Q[q] = 0.0
    for k in range(X.shape[0]):
        ck = coef[k]
        for q in range(P):
            Q[q] = _fma(X[k, q], ck, Q[q])


@njit(inline="always")
def _load(args, p0, P, buf):
    """Copy the per-path inputs of paths ``p0 .. p0 + P - 1`` path-last into ``buf``."""
    z, news_on, news_args = args[0], args[1], args[2]
    gap_s, tar, surprise_s, eps, level = args[9], args[11], args[14], args[15], args[20]
    surprise_m, gap_m, priced = news_args[8], news_args[10], news_args[12]
    Z, GM, PR, SM, G, S, X, E, L = (
        buf[0],
        buf[1],
        buf[2],
        buf[3],
        buf[4],
        buf[5],
        buf[6],
        buf[7],
        buf[8],
    )
    M, K, T, N = z.shape[1], z.shape[2], eps.shape[1], eps.shape[2]
    for q in range(P):
        p = p0 + q
        for m in range(M):
            for k in range(K):
                Z[m, k, q] = z[p, m, k]
        gs, ts, ss = _row(gap_s.shape[0], p), _row(tar.shape[0], p), _row(surprise_s.shape[0], p)
        for t in range(T):
            G[t, q] = gap_s[gs, t]
            S[t, q] = surprise_s[ss, t]
            if tar.shape[0] > 0:
                X[t, q] = tar[ts, t]
            for k in range(N):
                E[t, k, q] = eps[p, t, k]
        L[q] = level[_row(level.shape[0], p)]
        if news_on:
            gp, tp = _row(gap_m.shape[0], p), _row(priced.shape[0], p)
            sp = _row(surprise_m.shape[0], p)
            for m in range(M):
                GM[m, q] = gap_m[gp, m]
                PR[m, q] = priced[tp, m]
                SM[m, q] = surprise_m[sp, m] if surprise_m.shape[1] > m else 0.0


@njit(inline="always")
def _news(news_args, P, buf, work):
    """The factor news of the tile (:func:`simengine.kernel._news`) into ``FL`` (M, K, tile)."""
    start, A, c, g, mcoef, rho, levels, ecm, _, k_r, _, k_g, _ = news_args
    Z, GM, PR, SM, FL = buf[0], buf[1], buf[2], buf[3], buf[9]
    LAG, CUM, Q = work[0], work[1], work[2]
    M, K = Z.shape[0], Z.shape[1]
    for m in range(M):
        for k in range(K):
            for q in range(P):
                LAG[k, q] = start[0, k] if m == 0 else Z[m - 1, k, q]
        if m > 0 and k_r >= 0:
            for q in range(P):
                LAG[k_r, q] = LAG[k_r, q] - SM[m - 1, q]
        for k in range(K):
            for q in range(P):
                CUM[k, q] = LAG[k, q] if m == 0 else CUM[k, q] + LAG[k, q]
        for i in range(K):
            _tile_dot(LAG, A[0, i], P, Q)
            ci, gi, mi = c[0, i], g[0, i], mcoef[0, i]
            gm = 0 if i == k_g else m
            for q in range(P):
                Q[q] = Q[q] + (ci + gi * GM[gm, q])
            for q in range(P):
                Q[q] = Q[q] + mi * PR[m, q]
            if ecm:
                ri, li, si = rho[0, i], levels[0, i], start[0, i]
                for q in range(P):
                    Q[q] = Q[q] + ri * ((li + CUM[i, q]) - si)
            for q in range(P):
                FL[m, i, q] = Z[m, i, q] - Q[q]


@njit(inline="always")
def _steps(args, p0, P, rd, buf, work):
    """The tile's log returns step by step and their running sums into ``out`` (each path as
    :func:`simengine.kernel._block` adds them); ``PM`` holds the loadings per month."""
    w_idx, w_val, mu, kappa, dt = args[4], args[5], args[6], args[7], args[10]
    beta_t, ann, chol, sigma, jump, out = args[12], args[13], args[16], args[17], args[21], args[22]
    G, S, X, E, L, PM = buf[4], buf[5], buf[6], buf[7], buf[8], buf[10]
    R, Q, acc = work[2], work[3], work[4]
    T, N = E.shape[0], E.shape[1]
    for a in range(N):
        mu_a, ka, sa, ba, aa = mu[0, a], kappa[0, a], sigma[0, a], beta_t[0, a], ann[a]
        for t in range(T):
            dtt, rdt = dt[t], rd[t, a]
            for q in range(P):
                R[q] = 0.0
            for j in range(w_idx.shape[1]):
                wv, wi = w_val[t, j], w_idx[t, j]
                for q in range(P):
                    R[q] = R[q] + wv * PM[wi, a, q]
            for q in range(P):
                R[q] = R[q] + (mu_a - ka * G[t, q]) * dtt
            if args[11].shape[0] > 0:
                for q in range(P):
                    R[q] = R[q] + ba * X[t, q]
            for q in range(P):
                R[q] = R[q] + aa * S[t, q]
            _tile_dot(E[t], chol[0, a], P, Q)
            for q in range(P):
                R[q] = R[q] + Q[q] * (sa * np.sqrt(rdt * L[q]))
            if jump.shape[0] > 0:
                for q in range(P):
                    R[q] = R[q] + jump[p0 + q, t, a]
            for q in range(P):
                acc[q] = R[q] if t == 0 else acc[q] + R[q]
            for q in range(P):
                out[a, t, p0 + q] = acc[q]


@njit(cache=True, nogil=True)
def _block_point(args):
    """:func:`simengine.kernel._block` for point parameters, :data:`TILE` paths at a time with
    the path innermost (``args``: :func:`simengine.kernel.block_args`; every parameter array
    has one row). Each path's operations and their order are :func:`_block`'s."""
    z, news_on, news_args, bz = args[0], args[1], args[2], args[8]
    dt, eps, ratio, step_month, out = args[10], args[15], args[18], args[19], args[22]
    n, M, K = z.shape
    T, N = eps.shape[1], eps.shape[2]
    buf = (
        np.empty((M, K, TILE)),  # Z: the factors
        np.empty((M, TILE)),  # GM: the policy gap per month (news)
        np.empty((M, TILE)),  # PR: the priced tariff change per month (news)
        np.empty((M, TILE)),  # SM: the 2-year policy component per month (news)
        np.empty((T, TILE)),  # G: the policy gap per step
        np.empty((T, TILE)),  # S: the policy surprise per step
        np.empty((T, TILE)),  # X: the tariff shock per step
        np.empty((T, N, TILE)),  # E: the residual shocks
        np.empty(TILE),  # L: the variance level
        np.empty((M, K, TILE)),  # FL: the flows the returns load on (news or factors)
        np.empty((M, N, TILE)),  # PM: the loadings per month
    )
    work = (
        np.empty((K, TILE)),
        np.empty((K, TILE)),
        np.empty(TILE),
        np.empty(TILE),
        np.empty(TILE),
    )
    rd = np.empty((T, N))  # v dt per step and asset, as the reference's (v dt) L
    for t in range(T):
        for a in range(N):
            rd[t, a] = ratio[0, step_month[t], a] * dt[t]
    Z, FL, PM, Q = buf[0], buf[9], buf[10], work[2]
    for p0 in range(0, n, TILE):
        P = min(TILE, n - p0)
        _load(args, p0, P, buf)
        if news_on:
            _news(news_args, P, buf, work)
        else:
            FL[:, :, :P] = Z[:, :, :P]
        for m in range(M):
            for a in range(N):
                _tile_dot(FL[m], bz[0, a], P, Q)
                PM[m, a, :P] = Q[:P]
        _steps(args, p0, P, rd, buf, work)
    return out
