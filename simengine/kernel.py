"""The compiled (numba) kernels of the engine, each bit-identical to the numpy route.

* :func:`block_args` and :func:`_block` (:func:`simengine.kernel_tiles.block_log_returns`
  runs it): after the policy part and the factor loop have produced the
  monthly factor paths ``z``, one loop over the chunk's paths computes factor news, asset means
  (loadings on the sparse month weights, carry, tariff and announcement terms), residuals
  (Student-t, volatility-state scaled), the jumps' addition and the cumulative log returns,
  series-major, without the (paths, steps, assets) temporaries of the numpy route
  (:meth:`simengine.simulate._Engine.paths` with ``RunConfig(kernel=False)``, the reference);
  numpy then takes ``expm1`` and the portfolios;
* :func:`var_month`: the VAR's month step inside the policy loop (:func:`simengine.policy_paths._loop`);
* :func:`var_propagate`: :func:`simengine.parts.dynamics.propagate`;
* :func:`t_scale_into`: the Student-t scaling of the draws (:func:`simengine.rng.draw_blocks`);
* :func:`scaled_innovations`: the factor innovations ``chol (s eps)`` with the volatility
  state's scale ``s`` (:func:`simengine.policy_paths.simulate_factors`);
* :func:`quantised_sums`, :func:`histogram_rows`, :func:`drawdown_rows`: the exact sums,
  histograms and maximum drawdowns of the statistics (:mod:`simengine.stats`,
  :mod:`simengine.statistics`).

What stays numpy, and why:

* the draws (:mod:`simengine.rng`: numpy's generators define the streams);
* the Waggoner-Zha projection of a ``reading: conditional_forecast`` scenario
  (:mod:`simengine.conditioning`); the policy part's decisions and the month loop are compiled
  in :mod:`simengine.kernel_policy` (scipy's own ``ndtr``, numpy's ``interp`` and sum orders),
  except for structural 2-year level pins and one-path runs (:func:`var_month` then);
* everything that takes ``exp``/``log`` (the volatility-state ratios, the path's variance level,
  the tariff-reversal kernel, the squeeze jumps): numba's libm differs from numpy's in a few
  percent of values, so these are computed once per chunk (or per posterior draw) in numpy and
  passed in;
* ``expm1`` of the cumulative returns and the statistics' ``arcsinh`` (numpy's, for the same
  reason).

Bit-identity with the reference. Every sum is evaluated in the reference's order:

* a point-parameter contraction (``x @ B``, OpenBLAS ``dgemm``) is a fused multiply-add chain
  from zero in index order (:func:`_fma_dot`), which is what OpenBLAS's x86-64 kernels compute
  for these sizes;
* a per-path contraction (``np.einsum``, posterior draws) on contiguous operands is numpy's
  two-lane sum of products: lane sums of the even and odd terms, then their sum
  (:func:`_lane_dot`), checked for contraction lengths 1, 2, 4 and 6 (:data:`LANE_LENGTHS`;
  other lengths use the numpy route); on the strided ``beta[..., z_columns]`` einsum adds in
  index order (:func:`_seq_dot`);
* element-wise terms are added in the reference's order, one rounding per operation (numba
  does not contract ``a * b + c`` into an fma unless asked, and ``sqrt`` is exact).

So "bit-identical" holds on the machines where these orders hold (OpenBLAS's ``dgemm`` kernel
and numpy's SIMD path are chosen at run time from the CPU); ``tests/test_kernel.py`` checks it.
Posterior draws: the kernel reads each part's parameters per draw (``(D, ...)`` arrays and each
path's draw index), so nothing is gathered per path for the return, residual and news terms.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = [
    "LANE_LENGTHS",
    "block_args",
    "column_sums",
    "drawdown_rows",
    "histogram_rows",
    "quantised_sums",
    "scaled_innovations",
    "t_scale_into",
    "var_month",
    "var_propagate",
]

LANE_LENGTHS = (1, 2, 4, 6)
"""Contraction lengths for which :func:`_lane_dot` reproduces ``np.einsum``."""


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` with one rounding (LLVM ``llvm.fma.f64``)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        d = ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [d], ir.FunctionType(d, [d, d, d]))
        return builder.call(fn, args)

    return sig, codegen


@njit(inline="always")
def _fma_dot(x, y):
    """``sum_k x_k y_k`` as OpenBLAS's ``dgemm`` forms it: ``acc = fma(x_k, y_k, acc)``, k = 0.."""
    acc = 0.0
    for k in range(x.size):
        acc = _fma(x[k], y[k], acc)
    return acc


@njit(inline="always")
def _lane_dot(x, y):
    """``sum_k x_k y_k`` as ``np.einsum`` forms it: two lanes (even, odd k), then their sum."""
    n = x.size
    if n == 1:
        return 0.0 + x[0] * y[0]
    even = 0.0
    odd = 0.0
    for k in range(0, n - 1, 2):
        even = even + x[k] * y[k]
        odd = odd + x[k + 1] * y[k + 1]
    return even + odd


@njit(inline="always")
def _lane_dot4(v0, v1, v2, v3, A, d, i):
    """:func:`_lane_dot` of ``(v0, v1, v2, v3)`` with ``A[d, i]`` (K = 4, the values loaded
    once for the four rows)."""
    even = (0.0 + v0 * A[d, i, 0]) + v2 * A[d, i, 2]
    odd = (0.0 + v1 * A[d, i, 1]) + v3 * A[d, i, 3]
    return even + odd


@njit(inline="always")
def _seq_dot(x, y):
    """``sum_k x_k y_k`` added in index order (``np.einsum`` on a strided operand)."""
    acc = 0.0
    for k in range(x.size):
        acc = acc + x[k] * y[k]
    return acc


FMA, LANES, SEQUENTIAL = 0, 1, 2


@njit(inline="always")
def _dot(x, y, mode):
    if mode == FMA:
        return _fma_dot(x, y)
    if mode == LANES:
        return _lane_dot(x, y)
    return _seq_dot(x, y)


@njit(inline="always")
def _row(n_rows, p):
    """Row of a path-or-shared array: ``p`` when it has one row per path, else 0."""
    return p if n_rows > 1 else 0


@njit(cache=True, nogil=True)
def _news(z, p, d, args, out, lag, cum, ax):
    """Factor news of path ``p`` into ``out`` (M, K): ``z_m - E_{m-1}[z_m]`` (``lag``, ``cum``,
    ``ax``: work buffers (K,)).

    ``known_m = A lag_m + (c + g gap_m) + m priced_m + h_m + rho ((S_0 + sum_{i<=m} lag_i) -
    start)``, each bracket rounded as in :meth:`simengine.parts.dynamics.Var1.news` (``h``: the
    drift offsets, none when ``held`` has no months); ``lag_0 = start``, ``lag_m = z_{m-1}``
    less last month's 2-year policy component on rates.
    """
    start, A, c, g, mcoef, rho, levels, ecm, surprise_m, k_r, gap_m, k_g, priced, held = args
    M, K = z.shape[1], z.shape[2]
    mode = LANES if A.shape[0] > 1 else FMA
    da, ds, dl = _row(A.shape[0], d), _row(start.shape[0], d), _row(levels.shape[0], d)
    gp, tp = _row(gap_m.shape[0], p), _row(priced.shape[0], p)
    sp = _row(surprise_m.shape[0], p)
    for m in range(M):
        for k in range(K):
            lag[k] = start[ds, k] if m == 0 else z[p, m - 1, k]
        if m > 0 and k_r >= 0:
            lag[k_r] = lag[k_r] - surprise_m[sp, m - 1]
        for k in range(K):
            cum[k] = lag[k] if m == 0 else cum[k] + lag[k]
        if mode == FMA:  # the K chains advance together (each in its own order)
            if K == 4:
                a0 = a1 = a2 = a3 = 0.0
                for k in range(4):
                    v = lag[k]
                    a0 = _fma(v, A[da, 0, k], a0)
                    a1 = _fma(v, A[da, 1, k], a1)
                    a2 = _fma(v, A[da, 2, k], a2)
                    a3 = _fma(v, A[da, 3, k], a3)
                ax[0], ax[1], ax[2], ax[3] = a0, a1, a2, a3
            else:
                for i in range(K):
                    ax[i] = _dot(lag, A[da, i], mode)
        else:
            for i in range(K):
                ax[i] = _dot(lag, A[da, i], mode)
        for i in range(K):
            known = ax[i]
            gap = gap_m[gp, 0] if i == k_g else gap_m[gp, m]
            known = known + (c[da, i] + g[da, i] * gap)
            known = known + mcoef[da, i] * priced[tp, m]
            if held.shape[1] > 0:
                known = known + held[_row(held.shape[0], d), m, i]
            if ecm:
                known = known + rho[da, i] * ((levels[dl, i] + cum[i]) - start[ds, i])
            out[m, i] = z[p, m, i] - known


@njit(cache=True, nogil=True)
def _block(
    z,
    news_on,
    news_args,
    draw,
    w_idx,
    w_val,
    mu,
    kappa,
    bz,
    gap_s,
    dt,
    tar,
    beta_t,
    ann,
    surprise_s,
    eps,
    chol,
    sigma,
    ratio,
    step_month,
    level,
    jump,
    out,
):
    """The return block path by path (the arguments of :func:`block_args`; see there)."""
    n, M, K = z.shape
    T, N = eps.shape[1], eps.shape[2]
    # per-path loadings: numpy's einsum on the strided beta[..., z_columns] adds in order
    mode_b = SEQUENTIAL if bz.shape[0] > 1 else FMA
    mode_c = LANES if chol.shape[0] > 1 else FMA
    per_month = np.empty((M, N))
    flows = np.empty((M, K))
    lag, cum, ax = np.empty(K), np.empty(K), np.empty(K)
    acc = np.empty(N)
    for p in range(n):
        d = draw[p]
        if news_on:
            _news(z, p, d, news_args, flows, lag, cum, ax)
        else:
            flows[:, :] = z[p]
        db = _row(bz.shape[0], d)
        for m in range(M):
            for a in range(N):
                per_month[m, a] = _dot(flows[m], bz[db, a], mode_b)
        dc, dsg = _row(chol.shape[0], d), _row(sigma.shape[0], d)
        dm, dbt = _row(mu.shape[0], d), _row(beta_t.shape[0], d)
        dr = _row(ratio.shape[0], d)
        gs = _row(gap_s.shape[0], p)
        ts = _row(tar.shape[0], p)
        ss = _row(surprise_s.shape[0], p)
        lv = level[_row(level.shape[0], p)]
        acc[:] = 0.0
        for t in range(T):
            for a in range(N):
                r = 0.0
                for j in range(w_idx.shape[1]):
                    r = r + w_val[t, j] * per_month[w_idx[t, j], a]
                r = r + (mu[dm, a] - kappa[dm, a] * gap_s[gs, t]) * dt[t]
                if tar.shape[0] > 0:
                    r = r + beta_t[dbt, a] * tar[ts, t]
                r = r + ann[a] * surprise_s[ss, t]
                resid = _dot(eps[p, t], chol[dc, a], mode_c)
                scale = ratio[dr, step_month[t], a] * dt[t] * lv
                r = r + resid * (sigma[dsg, a] * np.sqrt(scale))
                if jump.shape[0] > 0:
                    r = r + jump[p, t, a]
                acc[a] = r if t == 0 else acc[a] + r
                out[a, t, p] = acc[a]
    return out


def block_args(
    z: np.ndarray,
    news: tuple | None,
    draw: np.ndarray,
    weights: np.ndarray,
    returns: dict,
    residuals: dict,
    jump: np.ndarray | None,
    out: np.ndarray,
) -> tuple:
    """The arguments of the compiled return block, which writes the cumulative log returns of
    every path, series-major, into ``out[:N]`` (N, T, m): :func:`_block` path by path, or
    :func:`simengine.kernel_tiles.block_log_returns` (tiles of paths for point parameters and
    for posterior draws).

    The sparse month weights are each step's non-zero months in month order; absent news and
    jumps get placeholders.

    Parameters
    ----------
    z : ndarray (m, M, K)
        Monthly factor paths (with the 2-year policy component on rates).
    news : tuple or None
        Inputs of the factor news (:func:`_news`; built by :mod:`simengine.kernel_inputs`), or
        ``None`` when the returns load on ``z`` itself.
    draw : ndarray (m,)
        Each path's posterior draw (0 for point parameters).
    weights : ndarray (T, M)
        The grid's month weights ``W``.
    returns, residuals : dict
        Per-draw arrays of the return and residual parts (see :mod:`simengine.kernel_inputs`).
    jump : ndarray (m, T, N) or None
        The jumps part's addition to each log return (``None``: no jumps).
    out : ndarray (S, T, m)

    Notes
    -----
    Per path and step, in this order (each as the numpy parts round it):
    ``r = sum_j W[t, m_j] (beta_z . news_{m_j})`` over the step's non-zero months,
    ``+ (mu - kappa (p_{t-1} - n)) dt_t + beta_tariff dtau^s_t + b surprise_t``
    ``+ (chol e_t)_a sigma_a sqrt(v_{a,k(t)} dt_t L) + jump_{t,a}``, then
    ``R_{a,t} = sum_{s<=t} r_{a,s}``.
    """
    nonzero = weights != 0.0
    k = max(int(nonzero.sum(axis=1).max(initial=0)), 1)
    order = np.argsort(~nonzero, axis=1, kind="stable")[:, :k]
    w_val = np.take_along_axis(weights, order, axis=1)
    K = z.shape[2]
    news_on = news is not None
    if news is None:
        e = np.zeros((1, 1))
        news = (e, np.zeros((1, K, K)), e, e, e, e, e, False, e, -1, e, -1, e, np.zeros((1, 0, K)))
    return (
        z,
        news_on,
        news,
        draw,
        np.ascontiguousarray(order, dtype=np.int64),
        np.ascontiguousarray(w_val),
        returns["mu"],
        returns["kappa"],
        returns["bz"],
        returns["gap_step"],
        returns["dt"],
        returns["tariff"],
        returns["beta_tariff"],
        returns["announcement"],
        returns["surprise_step"],
        residuals["eps"],
        residuals["chol"],
        residuals["sigma"],
        residuals["ratio"],
        residuals["step_month"],
        residuals["level"],
        np.zeros((0, 0, 0)) if jump is None else jump,
        out,
    )


@njit(cache=True, nogil=True)
def var_month(z, m, z0, u, base, gap, p_before, neutral, g_idx, growth, rho, level, A, draw):
    """Month ``m`` of the factor VAR for every path, into ``z[:, m]`` (m, M, K).

    Notes
    -----
    ``z_m = A z_{m-1} + (((u_m + base_m) + gap (p_{m-1} - n)) + growth channel) + rho S_{m-1}``
    (:func:`simengine.policy_paths._loop`, each bracket rounded as there; the growth channel on
    the growth factor only; ``z_{-1} = z0``; ``level`` (m, K) is ``S_{m-1}``, or empty without
    error correction). ``A z_{m-1}`` is OpenBLAS's fma chain for point parameters and einsum's
    two lanes per path (posterior draws). The pins stay numpy (they overwrite ``z[:, m]``).
    ``draw`` (n,): each path's posterior draw when ``A``, ``base``, ``gap``, ``neutral`` and
    ``rho`` have one row per draw (or one shared row); empty: one row per path (or shared).
    """
    n, K = z.shape[0], z.shape[2]
    mode = LANES if A.shape[0] > 1 else FMA
    ecm = level.shape[0] > 0
    by_draw = draw.shape[0] > 0
    for p in range(n):
        prev = z0[_row(z0.shape[0], p)] if m == 0 else z[p, m - 1]
        q = draw[p] if by_draw else p
        da, db, dg = _row(A.shape[0], q), _row(base.shape[0], q), _row(gap.shape[0], q)
        dn, dr = _row(neutral.shape[0], q), _row(rho.shape[0], q)
        shift = p_before[p] - neutral[dn]
        for i in range(K):
            drive = (u[p, m, i] + base[db, m, i]) + gap[dg, i] * shift
            if i == g_idx:
                drive = drive + growth[p]
            if ecm:
                drive = drive + rho[dr, i] * level[p, i]
            z[p, m, i] = _dot(prev, A[da, i], mode) + drive


@njit(cache=True, nogil=True)
def t_scale_into(view, g, numerator, finite):
    """Student-t scaling of the normals ``view`` (n, T, k) in place, as :func:`simengine.rng._t_scale`.

    Notes
    -----
    ``e_{p,t} = n_{p,t} sqrt((nu - 2) / W_{p,t})`` with ``W = 2 g`` (exact) the chi-square draws
    from the gamma variates ``g`` (half, T) and ``numerator`` (half, 1) ``= nu - 2``; path
    ``p >= half`` (the antithetic mirror) reuses row ``p - half``; paths with infinite ``nu``
    keep their normals (scale 1).
    """
    n, T, k = view.shape
    half = g.shape[0]
    for p in range(n):
        src = p if p < half else p - half
        if not finite[src]:
            continue
        for t in range(T):
            s = np.sqrt(numerator[src, 0] / (2.0 * g[src, t]))
            for j in range(k):
                view[p, t, j] = view[p, t, j] * s


@njit(inline="always")
def _np_max(a, b):
    """``np.maximum(a, b)`` for one pair (NaN propagates; ``a`` on ties)."""
    if a >= b or a != a:
        return a
    return b


@njit(cache=True, nogil=True)
def drawdown_rows(R, is_portfolio, out):
    """:func:`simengine.statistics.drawdown.max_drawdown` of ``R`` (S, T, m) into ``out`` (S, m).

    The same operations per value and step as the numpy loop (``W = R + 1``, the running peak
    from 1, the fall, divided by the peak for assets), so the same numbers.
    """
    S, T, m = R.shape
    peak = np.empty(m)
    for s in range(S):
        asset = not is_portfolio[s]
        dd = out[s]
        peak[:] = 1.0
        dd[:] = 0.0
        for t in range(T):  # contiguous rows of paths, as the numpy loop walks them
            for p in range(m):
                wealth = R[s, t, p] + 1.0
                pk = _np_max(peak[p], wealth)
                peak[p] = pk
                fall = pk - wealth
                if asset:
                    fall = fall / pk
                dd[p] = _np_max(dd[p], fall)
    return out


@njit(cache=True, nogil=True)
def column_sums(values, column, n_cols, cumulative, start):
    """``start + cumsum(values @ on, axis=1)`` (``cumulative``) or ``values @ on``, where ``on``
    (J, n_cols) has a single 1 per row, at ``column[j]``: each output adds its rows' values in
    ``j`` order from 0 (what OpenBLAS's fma chain gives with 0/1 weights), then the running sum
    in column order and ``start`` (numpy's ``cumsum`` and the addition)."""
    n, J = values.shape
    out = np.zeros((n, n_cols))
    for p in range(n):
        for j in range(J):
            out[p, column[j]] = out[p, column[j]] + values[p, j]
        if cumulative:
            for t in range(1, n_cols):
                out[p, t] = out[p, t - 1] + out[p, t]
            for t in range(n_cols):
                out[p, t] = start + out[p, t]
    return out


@njit(cache=True, nogil=True)
def var_propagate(z0, shocks, exog, A, chol, rho, level, pin_mask, pin_value, out):
    """The monthly VAR(1) of :func:`simengine.parts.dynamics.propagate` for every path.

    Notes
    -----
    ``z_m = (A z_{m-1} + rho S_{m-1}) + (chol eps_m + b_m)``, ``S_m = S_{m-1} + z_m``, pinned
    values overwrite ``z_m[k]``; ``level`` (m, K) holds ``S`` (updated in place; empty without
    error correction). The contractions follow numpy's orders as in :func:`var_month`.
    """
    n, M, K = shocks.shape
    mode_a = LANES if A.shape[0] > 1 else FMA
    mode_c = LANES if chol.shape[0] > 1 else FMA
    ecm = level.shape[0] > 0
    u = np.empty(K)
    for p in range(n):
        da, dc, de = _row(A.shape[0], p), _row(chol.shape[0], p), _row(exog.shape[0], p)
        dr = _row(rho.shape[0], p)
        for t in range(M):
            prev = z0[_row(z0.shape[0], p)] if t == 0 else out[p, t - 1]
            for i in range(K):
                u[i] = _dot(shocks[p, t], chol[dc, i], mode_c) + exog[de, t, i]
            for i in range(K):
                step = _dot(prev, A[da, i], mode_a)
                if ecm:
                    step = step + rho[dr, i] * level[p, i]
                out[p, t, i] = step + u[i]
            for i in range(K):
                if pin_mask[t, i]:
                    out[p, t, i] = pin_value[t, i]
                if ecm:
                    level[p, i] = level[p, i] + out[p, t, i]
    return out


@njit(cache=True, nogil=True)
def quantised_sums(x, scale, square, over_rows, limit):
    """Exact sums of ``rint(x scale)`` (``square``: ``rint((x scale)^2)``) as int64, and whether
    every ``|x| <= limit`` (``False``, and the sums unfinished, at the first value that is not:
    NaN included; the caller then takes its checked route).

    ``x`` (r, c): sums over the rows (c,) when ``over_rows``, else over the columns (r,).
    The same integers as :func:`simengine.stats.quantised_sum` (every term is an integer,
    ``rint`` of a power-of-two multiple, and int64 sums are exact in any order).
    """
    r, c = x.shape
    out = np.zeros(c if over_rows else r, np.int64)
    for i in range(r):
        acc = 0
        for j in range(c):
            if not abs(x[i, j]) <= limit:
                return out, False
            v = x[i, j] * scale
            if square:
                v = v * v
            q = np.int64(np.rint(v))
            if over_rows:
                out[j] += q
            else:
                acc += q
        if not over_rows:
            out[i] = acc
    return out, True


@njit(cache=True, nogil=True)
def histogram_rows(z, values, z_max, per_unit, n_bins, weight_scale):
    """Per-row histogram counts (rows, n_bins + 2) and exact per-bin sums of ``values``.

    The bin of ``z`` is ``clip(floor((z + z_max) per_unit), -1, n_bins) + 1``, each operation
    as :meth:`simengine.stats.BinGrid.index_from_z` rounds it; the sums add
    ``rint(value weight_scale)`` in the order ``np.bincount`` does (row by row, in path order).
    ``values`` with no rows: counts only (the sums come back empty).
    """
    rows, m = z.shape
    size = n_bins + 2
    counts = np.zeros((rows, size), np.int64)
    with_sums = values.shape[0] > 0
    sums = np.zeros((rows if with_sums else 0, size))
    top = float(n_bins)
    for r in range(rows):
        for j in range(m):
            f = np.floor((z[r, j] + z_max) * per_unit)
            if f != f:
                raise ValueError("NaN in a histogram's values")
            if f < -1.0:
                f = -1.0
            elif f > top:
                f = top
            b = np.int64(f) + 1
            counts[r, b] += 1
            if with_sums:
                sums[r, b] += np.rint(values[r, j] * weight_scale)
    return counts, sums


@njit(cache=True, nogil=True)
def innovations(eps, chol, draw, out):
    """The factor innovations ``u_{p,m} = chol_{d(p)} eps_{p,m}`` (n, M, K) into ``out``.

    ``chol`` (D, K, K) holds one factor per posterior draw and ``draw`` (n,) each path's draw:
    the numbers of ``np.einsum("nmj,nij->nmi", eps, chol[draw])`` (einsum's two lanes,
    :func:`_lane_dot`; ``K`` in :data:`LANE_LENGTHS`) without gathering ``chol`` per path.
    :func:`scaled_innovations` without a scale.
    """
    return scaled_innovations(eps, np.zeros((0, eps.shape[1])), chol, draw, out)


@njit(cache=True, nogil=True)
def scaled_innovations(eps, scale, chol, draw, out):
    """The factor innovations ``u_{p,m} = chol_d (s_{p,m} eps_{p,m})`` (n, M, K) into ``out``.

    ``scale`` (n|1, M) is the volatility state's ``s = sqrt(w_m L_p)``
    (:meth:`simengine.parts.vol_state.VolState.factor_scale`; no rows: 1); ``chol`` (D, K, K)
    and ``draw`` (n,) each path's posterior draw, or (1, K, K) and an empty ``draw`` for point
    parameters. The numbers of ``eps * scale[..., None]`` followed by ``e @ chol[0].T``
    (OpenBLAS's fma chain, :func:`_fma_dot`) or ``np.einsum("nmj,nij->nmi", e, chol[draw])``
    (einsum's two lanes, :func:`_lane_dot`; ``K`` in :data:`LANE_LENGTHS`), without the scaled
    copy of the draws.
    """
    n, M, K = eps.shape
    by_draw = draw.shape[0] > 0
    scaled = scale.shape[0] > 0
    e = np.empty(K)
    for p in range(n):
        d = draw[p] if by_draw else 0
        sr = _row(scale.shape[0], p)
        for m in range(M):
            s = scale[sr, m] if scaled else 1.0
            for k in range(K):
                e[k] = eps[p, m, k] * s if scaled else eps[p, m, k]
            if by_draw and K == 4:
                for i in range(4):
                    out[p, m, i] = _lane_dot4(e[0], e[1], e[2], e[3], chol, d, i)
            elif by_draw:
                for i in range(K):
                    out[p, m, i] = _lane_dot(e, chol[d, i])
            elif K == 4:  # the four fma chains together
                a0 = a1 = a2 = a3 = 0.0
                for k in range(4):
                    v = e[k]
                    a0 = _fma(v, chol[0, 0, k], a0)
                    a1 = _fma(v, chol[0, 1, k], a1)
                    a2 = _fma(v, chol[0, 2, k], a2)
                    a3 = _fma(v, chol[0, 3, k], a3)
                out[p, m, 0], out[p, m, 1], out[p, m, 2], out[p, m, 3] = a0, a1, a2, a3
            else:
                for i in range(K):
                    out[p, m, i] = _fma_dot(e, chol[0, i])
    return out
