"""The policy part and the factor VAR in one compiled loop, bit-identical to the numpy route.

:func:`policy_loop` runs :func:`simengine.policy_paths._loop` (the month loop of the factor VAR
with the policy part's decisions, :meth:`simengine.policy.PolicyRun.decide`) path by path, all
months of a path at once, instead of one numpy pass over all paths per month and meeting. Each
operation is evaluated as numpy evaluates it on this machine:

* the normal CDF is scipy's own ``ndtr`` (``scipy.special.cython_special``, called through a
  named LLVM symbol, :data:`NDTR_SYMBOL`, so the compiled code stays cacheable);
* ``np.interp`` is numpy's algorithm (the segment ``xp[j] <= x < xp[j + 1]``, the slope
  ``(fp[j+1] - fp[j]) / (xp[j+1] - xp[j])``, ``slope (x - xp[j]) + fp[j]`` without fma);
* ``probs @ steps`` and ``(x - xbar) @ slopes`` (OpenBLAS ``dgemv``): :func:`gemv_dot`, four
  fma lanes over blocks of four, ``(l0 + l2) + (l1 + l3)``, then the tail of one to three terms
  as OpenBLAS's remainder code rounds it;
* the reaction state ``einsum("nmk,imk->ni", z[:, :m], W[:, :m])``: :func:`einsum_dot`, numpy's
  two-lane sum of products over the flattened (month, factor) axis, blocks of eight added in
  reverse, the tail forward;
* ``level_month[:, cols].sum(axis=1)`` (the growth channel): :func:`pairwise_sum`, numpy's
  pairwise summation (eight accumulators from eight terms on);
* element-wise terms one rounding per operation, in the reference's order.

``tests/test_kernel_policy.py`` checks each of these against numpy, and the whole loop against
the numpy route on every packaged scenario. Not covered (the engine takes the numpy loop): one
path (numpy's matmul becomes a ``gemv``), structural 2-year level pins, growth-channel lags
spanning more than :data:`PAIRWISE_BLOCK` months, per-path VAR coefficients with a factor count
outside :data:`simengine.kernel.LANE_LENGTHS`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simengine import scipy_symbols
from simengine.kernel import FMA, LANES, _fma, _lane_dot4, _row

__all__ = [
    "MEMO_SIZE",
    "NDTR_SYMBOL",
    "PAIRWISE_BLOCK",
    "TILE",
    "einsum_dot",
    "gemv_dot",
    "interp",
    "ndtr",
    "pairwise_sum",
    "policy_loop",
]

NDTR_SYMBOL = "simengine_scipy_special_ndtr_f64"
"""Name under which scipy's ``double ndtr(double, int)`` is registered with LLVM."""
PAIRWISE_BLOCK = 128
"""numpy's pairwise-summation block: :func:`pairwise_sum` covers sums up to this length."""
TILE = 64
"""Paths that :func:`policy_loop` advances month by month together (independent work for the
CPU between one path's dependent steps; each path's operations stay in their order)."""


scipy_symbols.register("__pyx_fuse_1ndtr", NDTR_SYMBOL)
_scipy_ndtr = scipy_symbols.float64_call(NDTR_SYMBOL, 0)  # scipy.special.ndtr(x), scipy's code


@njit(cache=True, nogil=True)
def ndtr(x):
    """The standard normal CDF, bit for bit ``scipy.special.ndtr``."""
    return _scipy_ndtr(x)


@njit(inline="always")
def gemv_dot(a, X, j, n):
    """``sum_{k<n} a_k X[j, k]`` as OpenBLAS's ``dgemv`` forms a row of ``A @ x`` (see module doc)."""
    m1 = n - n % 4
    acc = 0.0
    if m1 > 0:
        l0 = 0.0
        l1 = 0.0
        l2 = 0.0
        l3 = 0.0
        for k in range(0, m1, 4):
            l0 = _fma(a[k], X[j, k], l0)
            l1 = _fma(a[k + 1], X[j, k + 1], l1)
            l2 = _fma(a[k + 2], X[j, k + 2], l2)
            l3 = _fma(a[k + 3], X[j, k + 3], l3)
        acc = (l0 + l2) + (l1 + l3)
    tail = n - m1
    if tail == 1:
        acc = _fma(a[m1], X[j, m1], acc)
    elif tail == 2:
        acc = acc + _fma(a[m1], X[j, m1], a[m1 + 1] * X[j, m1 + 1])
    elif tail == 3:
        acc = acc + _fma(a[m1 + 2], X[j, m1 + 2], _fma(a[m1], X[j, m1], a[m1 + 1] * X[j, m1 + 1]))
    return acc


@njit(inline="always")
def einsum_dot(x, p, y, j, i, n):
    """``sum_{k<n} x[p, k] y[j, i, k]`` as ``np.einsum`` forms it on contiguous operands: two
    lanes (even, odd k); blocks of eight added last term first; then the rest. (Rows are
    indexed, not sliced.)"""
    l0 = 0.0
    l1 = 0.0
    q = 0
    while n - q >= 8:
        for b in range(6, -2, -2):
            l0 = x[p, q + b] * y[j, i, q + b] + l0
            l1 = x[p, q + b + 1] * y[j, i, q + b + 1] + l1
        q += 8
    while q < n:
        l0 = x[p, q] * y[j, i, q] + l0
        if q + 1 < n:
            l1 = x[p, q + 1] * y[j, i, q + 1] + l1
        q += 2
    return l0 + l1


@njit(inline="always")
def einsum_dot3(x, p, y, j, n):
    """:func:`einsum_dot` for ``i = 0, 1, 2`` at once (the same sums; three independent
    chains, so they overlap in the CPU)."""
    a0 = a1 = b0 = b1 = c0 = c1 = 0.0
    q = 0
    while n - q >= 8:
        for b in range(6, -2, -2):
            e, o = x[p, q + b], x[p, q + b + 1]
            a0 = e * y[j, 0, q + b] + a0
            a1 = o * y[j, 0, q + b + 1] + a1
            b0 = e * y[j, 1, q + b] + b0
            b1 = o * y[j, 1, q + b + 1] + b1
            c0 = e * y[j, 2, q + b] + c0
            c1 = o * y[j, 2, q + b + 1] + c1
        q += 8
    while q < n:
        e = x[p, q]
        a0 = e * y[j, 0, q] + a0
        b0 = e * y[j, 1, q] + b0
        c0 = e * y[j, 2, q] + c0
        if q + 1 < n:
            o = x[p, q + 1]
            a1 = o * y[j, 0, q + 1] + a1
            b1 = o * y[j, 1, q + 1] + b1
            c1 = o * y[j, 2, q + 1] + c1
        q += 2
    return a0 + a1, b0 + b1, c0 + c1


@njit(inline="always")
def pairwise_sum(a, p, o, n):
    """``a[p, o : o + n].sum()`` as numpy's pairwise summation adds it (``n <= PAIRWISE_BLOCK``)."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res = res + a[p, o + i]
        return res
    r0, r1, r2, r3 = a[p, o], a[p, o + 1], a[p, o + 2], a[p, o + 3]
    r4, r5, r6, r7 = a[p, o + 4], a[p, o + 5], a[p, o + 6], a[p, o + 7]
    i = 8
    while i < n - n % 8:
        q = o + i
        r0, r1, r2, r3 = r0 + a[p, q], r1 + a[p, q + 1], r2 + a[p, q + 2], r3 + a[p, q + 3]
        r4, r5, r6, r7 = r4 + a[p, q + 4], r5 + a[p, q + 5], r6 + a[p, q + 6], r7 + a[p, q + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res = res + a[p, o + i]
        i += 1
    return res


@njit(inline="always")
def _rightmost(key, xp, row, lo, hi):
    """The largest ``j`` in ``[lo, hi)`` with ``xp[row, j] <= key``, given ``xp[row, lo] <= key``
    and ``key < xp[row, hi]`` (``hi`` may be the row length)."""
    while hi - lo > 1:
        mid = lo + ((hi - lo) >> 1)
        if key >= xp[row, mid]:
            lo = mid
        else:
            hi = mid
    return lo


@njit(inline="always")
def _segment(key, xp, row, buckets):
    """numpy's ``binary_search_with_guess`` on ``xp[row]``: -1 below, ``len`` above, else the
    ``j`` with ``xp[j] <= key < xp[j + 1]`` (the last such ``j`` where values repeat; ``len - 1``
    when ``key == xp[-1]``). That index is unique, so any exact search finds numpy's: here the
    bucket of ``key`` (:func:`interp_buckets`) narrows the range first, checked before use."""
    n = xp.shape[1]
    if key > xp[row, n - 1]:
        return n
    if key < xp[row, 0]:
        return -1
    nb = buckets.shape[1] - 3
    lo_v, inv_w = buckets[row, nb + 1], buckets[row, nb + 2]
    b = (key - lo_v) * inv_w
    if b >= 0.0 and b < nb:
        k = int(b)
        lo, hi = int(buckets[row, k]), int(buckets[row, k + 1]) + 1
        if hi > n:
            hi = n
        if xp[row, lo] <= key and (hi == n or key < xp[row, hi]):
            return _rightmost(key, xp, row, lo, hi)
    return _rightmost(key, xp, row, 0, n)


def interp_buckets(xp: np.ndarray, n_buckets: int = 2048) -> np.ndarray:
    """Search hints for :func:`interp` on each row of ``xp`` (J, L), ascending: (J, B + 3),
    per row the segment index at ``B + 1`` equally spaced values from the row's first to its
    last, then the first value and ``B / (last - first)`` (B = ``n_buckets``). Only a hint:
    :func:`_segment` checks the range before it uses it."""
    out = np.zeros((xp.shape[0], n_buckets + 3))
    for j, row in enumerate(xp):
        lo, hi = float(row[0]), float(row[-1])
        if not hi > lo:
            out[j, -2:] = lo, 0.0
            continue
        edges = np.linspace(lo, hi, n_buckets + 1)
        out[j, : n_buckets + 1] = np.clip(np.searchsorted(row, edges, "right") - 1, 0, None)
        out[j, -2:] = lo, n_buckets / (hi - lo)
    return out


@njit(inline="always")
def interp(x, xp_rows, row, fp, buckets):
    """``np.interp(x, xp_rows[row], fp)`` for one value (numpy's algorithm and roundings;
    ``buckets``: :func:`interp_buckets` of ``xp_rows``)."""
    if x != x:
        return x
    xp = xp_rows
    n = xp.shape[1]
    j = _segment(x, xp, row, buckets)
    if j == -1:
        return fp[0]
    if j >= n - 1:
        return fp[n - 1] if j == n else fp[j]
    if xp[row, j] == x:
        return fp[j]
    slope = (fp[j + 1] - fp[j]) / (xp[row, j + 1] - xp[row, j])
    r = slope * (x - xp[row, j]) + fp[j]
    if r != r:
        r = slope * (x - xp[row, j + 1]) + fp[j + 1]
        if r != r and fp[j] == fp[j + 1]:
            r = fp[j]
    return r


@njit(inline="always")
def _probabilities(eta, cuts, j, n_cuts, out):
    """``ReactionFunction.probabilities``: ``diff([0, ndtr(c_j - eta), 1])`` into ``out``."""
    last = 0.0
    for k in range(n_cuts):
        c = ndtr(cuts[j, k] - eta)
        out[k] = c - last
        last = c
    out[n_cuts] = 1.0 - last


@njit(inline="always")
def _growth(level_month, p, m, p0, gamma, lo, hi):
    """``PolicyRun.growth_term`` of path ``p`` in month ``m`` (0 when the channel is off)."""
    if gamma == 0.0:
        return 0.0
    first, last = max(m - hi, 0), m - lo
    count = last + 1 - first
    dev = 0.0
    if count > 0:
        dev = pairwise_sum(level_month, p, first, count) - p0 * count
    return gamma * dev / (hi - lo + 1)


@njit(inline="always")
def _state(p, j, zf, mj, W, W0, z0, zr, state):
    """``x_j = einsum(z[:, :m_j], W_j) + z0 W0_j'`` of path ``p`` into ``state[p, j]``
    (``W`` (J, 3, M K) flattened; ``z0`` row ``zr``; one non-zero term per row of ``W0``)."""
    K = z0.shape[1]
    xs = einsum_dot3(zf, p, W, j, mj * K)
    for i in range(3):
        x = 0.0 + xs[i]
        z0w = 0.0
        for k in range(K):
            z0w = z0w + z0[zr, k] * W0[j, i, k]
        state[p, j, i] = x + z0w


@njit(inline="always")
def _var_step(z, z0, p, m, A, da, mode, acc):
    """``acc_i = A_i . z_{m-1}`` for every ``i`` (``z0`` before the start), each in the order
    of :func:`simengine.kernel._dot`: OpenBLAS's fma chain (point parameters) or einsum's two
    lanes (per path, K < 8); the chains of the ``i`` advance together."""
    K = z.shape[2]
    zr = _row(z0.shape[0], p)
    if mode == FMA and K == 4:  # four chains in registers
        a0 = a1 = a2 = a3 = 0.0
        for k in range(4):
            v = z[p, m - 1, k] if m > 0 else z0[zr, k]
            a0 = _fma(v, A[da, 0, k], a0)
            a1 = _fma(v, A[da, 1, k], a1)
            a2 = _fma(v, A[da, 2, k], a2)
            a3 = _fma(v, A[da, 3, k], a3)
        acc[0], acc[1], acc[2], acc[3] = a0, a1, a2, a3
        return
    if K == 4:  # einsum's two lanes, the four rows from one load of z_{m-1}
        v0 = z[p, m - 1, 0] if m > 0 else z0[zr, 0]
        v1 = z[p, m - 1, 1] if m > 0 else z0[zr, 1]
        v2 = z[p, m - 1, 2] if m > 0 else z0[zr, 2]
        v3 = z[p, m - 1, 3] if m > 0 else z0[zr, 3]
        for i in range(4):
            acc[i] = _lane_dot4(v0, v1, v2, v3, A, da, i)
        return
    if mode == FMA or K == 1:
        for i in range(K):
            acc[i] = 0.0
        for k in range(K):
            v = z[p, m - 1, k] if m > 0 else z0[zr, k]
            for i in range(K):
                if mode == FMA:
                    acc[i] = _fma(v, A[da, i, k], acc[i])
                else:
                    acc[i] = 0.0 + v * A[da, i, k]
        return
    for i in range(K):
        even = 0.0
        odd = 0.0
        for k in range(0, K - 1, 2):
            a = z[p, m - 1, k] if m > 0 else z0[zr, k]
            b = z[p, m - 1, k + 1] if m > 0 else z0[zr, k + 1]
            even = even + a * A[da, i, k]
            odd = odd + b * A[da, i, k + 1]
        acc[i] = even + odd


@njit(inline="always")
def _draw(probs, nc, u, steps, j):
    """``ReactionFunction.draw_from``: outcome ``#{k < nc: u > cumsum(probs)_k}``."""
    cum = 0.0
    idx = 0
    for k in range(nc):
        cum = probs[k] if k == 0 else cum + probs[k]
        if u > cum:
            idx += 1
    return steps[j, idx]


@njit(cache=True, nogil=True, _nrt=False)
def policy_loop(z, u, var, tab, pol, growth, out, work):
    """The month loop of :func:`simengine.policy_paths._loop` for every path, into ``z``.

    Parameters
    ----------
    z : ndarray (n, M, K)
        Output: the factors (zeros on entry).
    u : ndarray (n, M, K)
        Innovations ``chol eps``.
    var : tuple
        ``(z0, base, A, gap, neutral, g_idx, rho, level, pin_mask, pin_value, draw)`` as in
        :func:`simengine.kernel.var_month` (``level`` (n, K) the start levels, updated; empty
        without error correction); ``draw`` (n,) int64: each path's row of ``base``, ``A``,
        ``gap``, ``neutral`` and ``rho`` when those have one row per posterior draw (empty:
        one row per path, or one shared row).
    tab, pol : tuple
        Per-meeting tables and the policy run's inputs (built by
        :func:`simengine.policy_paths._kernel_loop` from :meth:`PolicyRun.kernel_inputs`).
    growth : tuple
        ``(gamma, lo, hi, p0)``: the growth channel (``gamma = 0``: off) and the start level.
    out : tuple
        The :class:`simengine.policy.PolicyRun` arrays it fills: expected, target, decision,
        surprise, state, dy2_announce, dy2_reprice, level_month, dy2_by_month, and the level
        after the last decision (n,).
    work : tuple
        ``z`` as (n, M K), the state weights as (J, 3, M K), the slopes as (1, 3) (views),
        work buffers for the outcome probabilities and the state gap, the interpolation
        tables' search hints (:func:`interp_buckets`), a (K,) buffer and a (:data:`MEMO_SIZE`,)
        buffer. The kernel runs without numba's reference counting (``_nrt=False``: nothing is
        allocated inside; with it, the array arguments of the inlined helpers cost atomic
        reference counts in the loop).

    Notes
    -----
    Per path, month by month: the meetings of month ``m`` in date order
    (:meth:`PolicyRun._meeting`), the level at the end of the month, then
    ``z_m = A z_{m-1} + ((((u_m + base_m) + gap (p_{m-1} - n)) + growth) + rho S_{m-1})``,
    pins, ``S_m = S_{m-1} + z_m``. :data:`TILE` paths advance together (each month's meetings
    for all of them, then their month ends): the same operations per path in the same order,
    with independent work between one path's dependent steps.
    """
    month = tab[0]
    n, M, J = z.shape[0], z.shape[1], month.size
    memo = work[7]
    for p0 in range(0, n, TILE):  # a tile of paths advances month by month together
        p1 = min(p0 + TILE, n)
        for m in range(M):
            for j in range(J):
                if month[j] != m:
                    continue
                memo[0] = 0.0  # nothing remembered yet
                for p in range(p0, p1):
                    _meeting(p, j, m, tab, pol, out, work, memo)
            for p in range(p0, p1):
                _month_end(p, m, z, u, var, growth, out[7], out[9], work[6])
    return 0


MEMO_SIZE = 9
"""Length of :func:`_meeting`'s memory: a flag, the last computed path's inputs (target,
state, expected state) and its average outcome."""


@njit(inline="always")
def _meeting(p, j, m, tab, pol, out, work, memo):
    """:meth:`PolicyRun._meeting` for path ``p`` (each line as it rounds there).

    The outcome probabilities depend only on the path's target, state and expected state: when
    they equal the previous path's (``memo``; e.g. every path at a first meeting before any
    shock), the previous path's probabilities and sums are the same numbers and are reused.
    """
    _, fixed, level_target, n_out, cuts, steps, cuts_sd, sd, tables, eta_grid = tab
    slopes, xbar, W, W0, z0s, expected_only, lam, w, announce_off, u_dec = pol
    expected, target, decision, surprise, state, dy2_a, dy2_r, _, dy2_m, lev = out
    zf, Wf, slope_row, probs, xd, buckets = work[0], work[1], work[2], work[3], work[4], work[5]
    zr, xr = _row(z0s.shape[0], p), _row(xbar.shape[0], p)
    _state(p, j, zf, m, Wf, W0, z0s, zr, state)
    nc = n_out[j] - 1
    key = target[p, j]
    same = memo[0] == 1.0 and memo[1] == key
    for i in range(3):
        same = same and memo[2 + i] == state[p, j, i] and memo[5 + i] == xbar[xr, j, i]
    if same:
        average = memo[8]
    else:
        delta = sd[j] * interp(key, tables, j, eta_grid, buckets)
        eta = delta
        if not expected_only:
            for i in range(3):
                xd[i] = state[p, j, i] - xbar[xr, j, i]
            eta = delta + gemv_dot(xd, slope_row, 0, 3)
        _probabilities(delta / sd[j], cuts_sd, j, nc, probs)
        average = gemv_dot(probs, steps, j, nc + 1)
        _probabilities(eta, cuts, j, nc, probs)
        memo[0], memo[1] = 1.0, key
        for i in range(3):
            memo[2 + i], memo[5 + i] = state[p, j, i], xbar[xr, j, i]
        memo[8] = average
    expected_now = (expected[p, j] + gemv_dot(probs, steps, j, nc + 1)) - average
    if level_target[j] == level_target[j]:
        d = level_target[j] - lev[p]
    elif fixed[j] == fixed[j]:
        d = fixed[j]
    elif expected_only:
        d = expected[p, j]
    else:
        d = _draw(probs, nc, u_dec[j, p], steps, j)
    s = d - (expected[p, j] if expected_only else expected_now)
    decision[p, j] = d
    surprise[p, j] = s
    lev[p] = lev[p] + d
    if j + 1 < expected.shape[1]:
        expected[p, j + 1] += lam * s
        target[p, j + 1] += lam * s
    dy2_a[p, j] = 0.0 if announce_off else s
    dy2_r[p, j] = lam * s * w[j]
    dy2_m[p, m] += dy2_a[p, j] + dy2_r[p, j]


@njit(inline="always")
def _month_end(p, m, z, u, var, growth, level_month, lev, acc):
    """Path ``p`` at the end of month ``m``: the level, then
    ``z_m = A z_{m-1} + ((((u_m + base_m) + gap (p_{m-1} - n)) + growth) + rho S_{m-1})``,
    pins, ``S_m = S_{m-1} + z_m``."""
    z0, base, A, gap, neutral, g_idx, rho, level, pin_mask, pin_value, draw = var
    gamma, lo, hi, p0 = growth
    K = z.shape[2]
    d = draw[p] if draw.size > 0 else p  # rows per posterior draw, or per path
    da, db, dg = _row(A.shape[0], d), _row(base.shape[0], d), _row(gap.shape[0], d)
    dn, dr = _row(neutral.shape[0], d), _row(rho.shape[0], d)
    level_month[p, m] = lev[p]
    p_before = level_month[p, m - 1] if m > 0 else p0
    shift = p_before - neutral[dn]
    g = _growth(level_month, p, m, p0, gamma, lo, hi)
    _var_step(z, z0, p, m, A, da, LANES if A.shape[0] > 1 else FMA, acc)
    ecm = level.shape[0] > 0
    for i in range(K):
        drive = (u[p, m, i] + base[db, m, i]) + gap[dg, i] * shift
        if i == g_idx:
            drive = drive + g
        if ecm:
            drive = drive + rho[dr, i] * level[p, i]
        z[p, m, i] = acc[i] + drive
    for i in range(K):
        if pin_mask[m, i]:
            z[p, m, i] = pin_value[m, i]
        if ecm:
            level[p, i] = level[p, i] + z[p, m, i]
