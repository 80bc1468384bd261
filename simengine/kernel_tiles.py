"""The fused return block in tiles of paths (numba), for point parameters and posterior draws.

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
:func:`_block` on odd shapes) check it.

Posterior draws (:func:`_block_draws`): each path reads its draw's rows. They are first
copied path-last into tile buffers, one field at a time with the path innermost
(:func:`_gather2`, :func:`_gather3`; a per-path copy loop cost more than the tiles saved), and
then the same tile loops run in :func:`_block`'s per-draw order: einsum's two lanes for
``A lag`` and ``chol e`` (:func:`_lane_tile`), the loadings added in order
(:func:`_seq_tile`). Other row layouts (some per-draw arrays with one row) keep :func:`_block`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simengine.kernel import _block, _fma, _row

__all__ = ["TILE", "block_log_returns", "is_by_draw", "is_point"]

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
    (:func:`is_point`) and for posterior draws (:func:`is_by_draw`), else path by path
    (:func:`simengine.kernel._block`); the same numbers."""
    if is_point(args):
        return _block_point(args)
    if is_by_draw(args):
        return _block_draws(args)
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
def _lags(m, P, Z, SM, k_r, LAG, CUM):
    """Month ``m``'s lags of the tile (``z_{m-1}`` less last month's 2-year policy component
    on rates; at ``m = 0`` the start state, filled by the caller) and their running sums."""
    K = LAG.shape[0]
    if m > 0:
        for k in range(K):
            for q in range(P):
                LAG[k, q] = Z[m - 1, k, q]
        if k_r >= 0:
            for q in range(P):
                LAG[k_r, q] = LAG[k_r, q] - SM[m - 1, q]
    for k in range(K):
        for q in range(P):
            CUM[k, q] = LAG[k, q] if m == 0 else CUM[k, q] + LAG[k, q]


@njit(inline="always")
def _news(news_args, P, buf, work):
    """The factor news of the tile (:func:`simengine.kernel._news`) into ``FL`` (M, K, tile)."""
    start, A, c, g, mcoef, rho, levels, ecm, _, k_r, _, k_g, _, held = news_args
    Z, GM, PR, SM, FL = buf[0], buf[1], buf[2], buf[3], buf[9]
    LAG, CUM, Q = work[0], work[1], work[2]
    M, K = Z.shape[0], Z.shape[1]
    for m in range(M):
        if m == 0:
            for k in range(K):
                for q in range(P):
                    LAG[k, q] = start[0, k]
        _lags(m, P, Z, SM, k_r, LAG, CUM)
        for i in range(K):
            _tile_dot(LAG, A[0, i], P, Q)
            ci, gi, mi = c[0, i], g[0, i], mcoef[0, i]
            gm = 0 if i == k_g else m
            for q in range(P):
                Q[q] = Q[q] + (ci + gi * GM[gm, q])
            for q in range(P):
                Q[q] = Q[q] + mi * PR[m, q]
            if held.shape[1] > 0:
                h = held[0, m, i]
                for q in range(P):
                    Q[q] = Q[q] + h
            if ecm:
                ri, li, si = rho[0, i], levels[0, i], start[0, i]
                for q in range(P):
                    Q[q] = Q[q] + ri * ((li + CUM[i, q]) - si)
            for q in range(P):
                FL[m, i, q] = Z[m, i, q] - Q[q]


@njit(inline="always")
def _month_terms(R, w_idx, w_val, PM, t, a, P):
    """``R = sum_j W[t, m_j] PM[m_j, a]`` over step ``t``'s non-zero months, from zero."""
    for q in range(P):
        R[q] = 0.0
    for j in range(w_idx.shape[1]):
        wv, wi = w_val[t, j], w_idx[t, j]
        for q in range(P):
            R[q] = R[q] + wv * PM[wi, a, q]


@njit(inline="always")
def _close_step(R, acc, jump, out, p0, t, a, P):
    """Add the jumps (if any) to step ``t``'s log return, then the running sum into ``out``."""
    if jump.shape[0] > 0:
        for q in range(P):
            R[q] = R[q] + jump[p0 + q, t, a]
    for q in range(P):
        acc[q] = R[q] if t == 0 else acc[q] + R[q]
    for q in range(P):
        out[a, t, p0 + q] = acc[q]


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
            _month_terms(R, w_idx, w_val, PM, t, a, P)
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
            _close_step(R, acc, jump, out, p0, t, a, P)


@njit(inline="always")
def _buffers(M, K, T, N):
    """The tile's per-path input buffers (:func:`_load`), the flows and the loadings."""
    return (
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


@njit(inline="always")
def _work(K):
    """Work rows of the tile: two (K, tile) for the news' lags and sums, five (tile,)."""
    return (
        np.empty((K, TILE)),
        np.empty((K, TILE)),
        np.empty(TILE),
        np.empty(TILE),
        np.empty(TILE),
        np.empty(TILE),
        np.empty(TILE),
    )


@njit(cache=True, nogil=True)
def _block_point(args):
    """:func:`simengine.kernel._block` for point parameters, :data:`TILE` paths at a time with
    the path innermost (``args``: :func:`simengine.kernel.block_args`; every parameter array
    has one row). Each path's operations and their order are :func:`_block`'s."""
    z, news_on, news_args, bz = args[0], args[1], args[2], args[8]
    dt, eps, ratio, step_month, out = args[10], args[15], args[18], args[19], args[22]
    n, M, K = z.shape
    T, N = eps.shape[1], eps.shape[2]
    buf = _buffers(M, K, T, N)
    work = _work(K)
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


def is_by_draw(args: tuple) -> bool:
    """Whether the block reads posterior draws (:func:`block_log_returns` in tiles by draw): the
    loadings, the residual Cholesky factors and, with news, the VAR coefficients have one row
    per draw (einsum's orders; each other parameter array one row per draw or one shared)."""
    news = args[2]
    arrays = [args[8], args[16]] + ([news[1]] if args[1] else [])
    return all(a.shape[0] > 1 for a in arrays)


@njit(inline="always")
def _lane_tile(X, C, i, P, Q, EV, OD):
    """``Q[q] = sum_k X[k, q] C[i, k, q]`` for the tile's paths as
    :func:`simengine.kernel._lane_dot` forms each (einsum's two lanes: the even and the odd
    terms from zero in ``k`` order, then their sum; one term: ``0 + x y``)."""
    n = X.shape[0]
    if n == 1:
        for q in range(P):
            Q[q] = 0.0 + X[0, q] * C[i, 0, q]
        return
    if n == 2:  # the lanes in registers
        for q in range(P):
            Q[q] = (0.0 + X[0, q] * C[i, 0, q]) + (0.0 + X[1, q] * C[i, 1, q])
        return
    if n == 4:
        for q in range(P):
            even = (0.0 + X[0, q] * C[i, 0, q]) + X[2, q] * C[i, 2, q]
            odd = (0.0 + X[1, q] * C[i, 1, q]) + X[3, q] * C[i, 3, q]
            Q[q] = even + odd
        return
    for q in range(P):
        EV[q] = 0.0
        OD[q] = 0.0
    for k in range(0, n - 1, 2):
        for q in range(P):
            EV[q] = EV[q] + X[k, q] * C[i, k, q]
        for q in range(P):
            OD[q] = OD[q] + X[k + 1, q] * C[i, k + 1, q]
    for q in range(P):
        Q[q] = EV[q] + OD[q]


@njit(inline="always")
def _seq_tile(X, C, i, P, Q):
    """``Q[q] = sum_k X[k, q] C[i, k, q]`` added in ``k`` order from zero
    (:func:`simengine.kernel._seq_dot`)."""
    for q in range(P):
        Q[q] = 0.0
    for k in range(X.shape[0]):
        for q in range(P):
            Q[q] = Q[q] + X[k, q] * C[i, k, q]


@njit(inline="always")
def _gather2(dst, src, DR, P, shared):
    """``dst[i, q] = src[DR[q], i]`` (``src`` (D, I): rows per draw) or ``src[0, i]``
    (``shared``: one row), the paths innermost."""
    for i in range(src.shape[1]):
        if shared:
            v = src[0, i]
            for q in range(P):
                dst[i, q] = v
        else:
            for q in range(P):
                dst[i, q] = src[DR[q], i]


@njit(inline="always")
def _gather3(dst, src, DR, P):
    """:func:`_gather2` for ``src`` (D, I, J): ``dst[i, j, q]`` (shared: one row)."""
    shared = src.shape[0] == 1
    for i in range(src.shape[1]):
        for j in range(src.shape[2]):
            if shared:
                v = src[0, i, j]
                for q in range(P):
                    dst[i, j, q] = v
            else:
                for q in range(P):
                    dst[i, j, q] = src[DR[q], i, j]


@njit(inline="always")
def _load_draws(args, p0, P, rd, pb, DR):
    """Copy the rows of each path's posterior draw (or the shared row) path-last into ``pb``,
    each array's row chosen as :func:`simengine.kernel._block` chooses it (``kappa`` by the
    means' rows, ``c``, ``g``, ``m`` and ``rho`` by the VAR coefficients')."""
    draw, news_args = args[3], args[2]
    one_mu = args[6].shape[0] == 1
    AT, CT, GT, MT, RT, LT, ST, BZ, MU, KA, BT, CH, SG, RD = pb
    for q in range(P):
        DR[q] = draw[p0 + q]
    _gather3(BZ, args[8], DR, P)
    _gather3(CH, args[16], DR, P)
    _gather2(MU, args[6], DR, P, one_mu)
    _gather2(KA, args[7], DR, P, one_mu)
    _gather2(BT, args[12], DR, P, args[12].shape[0] == 1)
    _gather2(SG, args[17], DR, P, args[17].shape[0] == 1)
    _gather3(RD, rd, DR, P)
    if args[1]:  # news
        _gather3(AT, news_args[1], DR, P)
        _gather2(CT, news_args[2], DR, P, False)  # A has a row per draw (is_by_draw)
        _gather2(GT, news_args[3], DR, P, False)
        _gather2(MT, news_args[4], DR, P, False)
        _gather2(ST, news_args[0], DR, P, news_args[0].shape[0] == 1)
        if news_args[7]:  # error correction
            _gather2(RT, news_args[5], DR, P, False)
            _gather2(LT, news_args[6], DR, P, news_args[6].shape[0] == 1)


@njit(inline="always")
def _news_draws(news_args, P, buf, pb, work, DR):
    """The factor news of the tile with each path's draw (:func:`simengine.kernel._news`,
    einsum's lanes for ``A lag``; ``DR`` the tile's draws) into ``FL`` (M, K, tile)."""
    ecm, k_r, k_g, held = news_args[7], news_args[9], news_args[11], news_args[13]
    shared_held = held.shape[0] == 1
    Z, GM, PR, SM, FL = buf[0], buf[1], buf[2], buf[3], buf[9]
    AT, CT, GT, MT, RT, LT, ST = pb[:7]
    LAG, CUM, Q, EV, OD = work[0], work[1], work[2], work[5], work[6]
    M, K = Z.shape[0], Z.shape[1]
    for m in range(M):
        if m == 0:
            for k in range(K):
                for q in range(P):
                    LAG[k, q] = ST[k, q]
        _lags(m, P, Z, SM, k_r, LAG, CUM)
        for i in range(K):
            _lane_tile(LAG, AT, i, P, Q, EV, OD)
            gm = 0 if i == k_g else m
            for q in range(P):
                Q[q] = Q[q] + (CT[i, q] + GT[i, q] * GM[gm, q])
            for q in range(P):
                Q[q] = Q[q] + MT[i, q] * PR[m, q]
            if held.shape[1] > 0:
                for q in range(P):
                    Q[q] = Q[q] + held[0 if shared_held else DR[q], m, i]
            if ecm:
                for q in range(P):
                    Q[q] = Q[q] + RT[i, q] * ((LT[i, q] + CUM[i, q]) - ST[i, q])
            for q in range(P):
                FL[m, i, q] = Z[m, i, q] - Q[q]


@njit(inline="always")
def _steps_draws(args, p0, P, buf, pb, work):
    """:func:`_steps` with each path's draw (einsum's lanes for the residual ``chol e``)."""
    w_idx, w_val, dt, ann, jump, out = args[4], args[5], args[10], args[13], args[21], args[22]
    G, S, X, E, L, PM = buf[4], buf[5], buf[6], buf[7], buf[8], buf[10]
    MU, KA, BT, CH, SG, RD = pb[8], pb[9], pb[10], pb[11], pb[12], pb[13]
    R, Q, acc, EV, OD = work[2], work[3], work[4], work[5], work[6]
    T, N = E.shape[0], E.shape[1]
    for a in range(N):
        aa = ann[a]
        for t in range(T):
            dtt = dt[t]
            _month_terms(R, w_idx, w_val, PM, t, a, P)
            for q in range(P):
                R[q] = R[q] + (MU[a, q] - KA[a, q] * G[t, q]) * dtt
            if args[11].shape[0] > 0:
                for q in range(P):
                    R[q] = R[q] + BT[a, q] * X[t, q]
            for q in range(P):
                R[q] = R[q] + aa * S[t, q]
            _lane_tile(E[t], CH, a, P, Q, EV, OD)
            for q in range(P):
                R[q] = R[q] + Q[q] * (SG[a, q] * np.sqrt(RD[t, a, q] * L[q]))
            _close_step(R, acc, jump, out, p0, t, a, P)


@njit(cache=True, nogil=True)
def _block_draws(args):
    """:func:`simengine.kernel._block` for posterior draws (:func:`is_by_draw`), :data:`TILE`
    paths at a time with the path innermost: each path's draw rows are first copied into
    tile buffers, then every operation runs in :func:`_block`'s order (einsum's lanes for
    ``A lag`` and ``chol e``, the loadings added in order)."""
    z, news_on, news_args = args[0], args[1], args[2]
    dt, eps, ratio, step_month, out = args[10], args[15], args[18], args[19], args[22]
    n, M, K = z.shape
    T, N = eps.shape[1], eps.shape[2]
    buf = _buffers(M, K, T, N)
    work = _work(K)
    pb = (
        np.empty((K, K, TILE)),  # AT: the VAR coefficients
        np.empty((K, TILE)),  # CT: the intercepts
        np.empty((K, TILE)),  # GT: the policy-gap loadings
        np.empty((K, TILE)),  # MT: the tariff loadings
        np.empty((K, TILE)),  # RT: the error correction
        np.empty((K, TILE)),  # LT: the start levels
        np.empty((K, TILE)),  # ST: the start state
        np.empty((N, K, TILE)),  # BZ: the factor loadings
        np.empty((N, TILE)),  # MU: the means
        np.empty((N, TILE)),  # KA: the policy-gap carry
        np.empty((N, TILE)),  # BT: the tariff betas
        np.empty((N, N, TILE)),  # CH: the residual Cholesky rows
        np.empty((N, TILE)),  # SG: the residual scales
        np.empty((T, N, TILE)),  # RD: v dt per step
    )
    DR = np.empty(TILE, np.int64)  # the tile's draws
    rd = np.empty((ratio.shape[0], T, N))  # v dt per draw, step and asset
    for r in range(ratio.shape[0]):
        for t in range(T):
            for a in range(N):
                rd[r, t, a] = ratio[r, step_month[t], a] * dt[t]
    Z, FL, PM, Q = buf[0], buf[9], buf[10], work[2]
    for p0 in range(0, n, TILE):
        P = min(TILE, n - p0)
        _load(args, p0, P, buf)
        _load_draws(args, p0, P, rd, pb, DR)
        if news_on:
            _news_draws(news_args, P, buf, pb, work, DR)
        else:
            FL[:, :, :P] = Z[:, :, :P]
        for m in range(M):
            for a in range(N):
                _seq_tile(FL[m], pb[7], a, P, Q)
                PM[m, a, :P] = Q[:P]
        _steps_draws(args, p0, P, buf, pb, work)
    return out
