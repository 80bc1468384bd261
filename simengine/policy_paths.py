"""Factor paths with the policy part in the loop, and conditional scenarios (pure).

The monthly VAR and the policy part advance together, month by month: at the start of month
``m`` the meetings of that month are decided from the state of the months before (the reaction
function) and the market's expected path; then the factors of month ``m`` are propagated with
the policy rate at the end of the previous month (the rates/inflation/credit gap terms; the
growth equation keeps its gap term at the start level) and the growth channel. The policy component of the 2-year yield (announcement + repricing) is added to
the ``rates`` factor afterwards: it is not fed through the VAR's lag terms, whose coefficient of
growth on last month's 2-year change mixes policy with growth news (and has the sign of news).

A scenario read as a *conditional forecast* turns its fixed decisions, pins and shocks into
linear conditions on the innovations (:mod:`simengine.conditioning`): the factors are first
propagated from the drawn innovations, the conditions' residuals give the conditioned
innovations, and the factors are propagated again from those. Read as a *structural shock*,
decisions are pure surprises, pins overwrite the factor and shocks add to one factor only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from simengine.conditioning import Conditions, impulse_matrix, innovation_variance, prepare
from simengine.policy import PolicyParams, PolicyRun, state_weights

__all__ = ["FactorInputs", "PolicyFactors", "decision_conditions", "simulate_factors"]


@dataclass(frozen=True)
class FactorInputs:
    """What the loop needs besides the innovations (arrays with leading axis 1 or n).

    ``base`` (·, M, K): the drive without the policy terms (constant, tariff pass-through,
    drifts, structural shocks); ``A`` (·, K, K); ``chol`` (·, K, K); ``gap`` (·, K): response
    to the policy rate above neutral; ``neutral`` (·,); pins as in
    :class:`simengine.scenario.ScenarioModel` (``pin_mask`` all False when conditioned);
    ``rho`` (·, K) error correction on the lagged level and ``level0`` (·, K) the start levels
    (:meth:`simengine.parts.dynamics.Var1.levels`; ``None``: no error correction).
    """

    z0: np.ndarray
    base: np.ndarray
    A: np.ndarray
    chol: np.ndarray
    gap: np.ndarray
    neutral: np.ndarray
    pin_mask: np.ndarray
    pin_value: np.ndarray
    factor_index: dict[str, int]
    yield_2y_pins: tuple[tuple[int, float], ...] = ()  # (month, level): structural reading
    yield_2y0: float = 0.0
    rho: np.ndarray | None = None
    level0: np.ndarray | None = None
    kernel: bool = False  # each month's VAR step in the compiled kernel (same numbers)
    kernel_rows: tuple | None = None
    """Posterior draws on the kernel route: ``(draw (n,), A, base, gap, neutral, rho)`` with
    one row per draw, read by the compiled month step instead of the per-path rows."""


@dataclass(frozen=True)
class PolicyFactors:
    """Factor paths (VAR part + policy component of rates) and the policy run behind them."""

    z: np.ndarray  # (n, M, K), rates including the policy component
    run: PolicyRun
    dy2_announce: np.ndarray  # (n, M)
    dy2_reprice: np.ndarray  # (n, M)


def _step(prev: np.ndarray, A: np.ndarray) -> np.ndarray:
    return prev @ A[0].T if A.shape[0] == 1 else np.einsum("nij,nj->ni", A, prev)


def _loop(fi: FactorInputs, u: np.ndarray, run: PolicyRun) -> np.ndarray:
    """``z_m = A z_{m-1} + rho S_{m-1} + base_m + gap (p_{m-1} - n) + growth channel + u_m``,
    deciding first; ``S_m = S_{m-1} + z_m`` (after pins), ``S_{-1}`` = ``level0``."""
    n, M, K = u.shape
    z = np.zeros((n, M, K))
    prev = np.broadcast_to(fi.z0, (n, K))
    g_idx = fi.factor_index["growth"]
    ecm = fi.rho is not None and fi.level0 is not None and bool(np.any(fi.rho))
    level = np.broadcast_to(fi.level0, (n, K)).copy() if ecm else None
    if fi.kernel and n > 1 and not fi.yield_2y_pins:  # one path: numpy's matmul is a gemv
        if _kernel_loop(fi, u, run, z, level):
            return z
    for m in range(M):
        run.decide(m, z)
        p_before = run.level_month[:, m - 1] if m > 0 else np.full(n, run.p0)
        if fi.kernel and n > 1:  # one path: numpy's matmul is a gemv (another order)
            _kernel_month(fi, z, m, u, p_before, g_idx, run.growth_term(m), level)
        else:
            drive = u[:, m] + fi.base[:, m] + fi.gap * (p_before - fi.neutral)[:, None]
            drive[:, g_idx] += run.growth_term(m)
            if level is not None:
                drive += fi.rho * level
            z[:, m] = _step(prev, fi.A) + drive
        if fi.pin_mask[m].any():
            k = fi.pin_mask[m]
            z[:, m, k] = fi.pin_value[m, k]
        for month, y2_level in fi.yield_2y_pins:
            if month == m:  # the 2-year level at the end of the month, policy component included
                r = fi.factor_index["rates"]
                before = z[:, :m, r].sum(axis=1) + run.dy2_by_month[:, : m + 1].sum(axis=1)
                z[:, m, r] = y2_level - fi.yield_2y0 - before
        prev = z[:, m]
        if level is not None:
            level += prev
    return z


def _arr(x, ndim: int) -> np.ndarray:
    x = np.atleast_2d(x) if ndim == 2 else np.atleast_1d(x)
    return np.ascontiguousarray(x, dtype=float)


def _kernel_loop(fi: FactorInputs, u: np.ndarray, run: PolicyRun, z, level) -> bool:
    """The whole of :func:`_loop` by :func:`simengine.kernel_policy.policy_loop` (the same
    numbers); ``False`` (nothing done) where the kernel does not cover the inputs."""
    from simengine.kernel_policy import MEMO_SIZE, PAIRWISE_BLOCK, interp_buckets, policy_loop

    n, M, K = z.shape
    lo, hi = run.params.growth_lags
    if hi - lo + 1 > PAIRWISE_BLOCK or not (u.dtype == np.float64 and u.flags.c_contiguous):
        return False
    tables = run.kernel_inputs(M, K)
    if tables is None:
        return False
    draw, A, base, gap, neutral, rho = _var_rows(fi)
    var = (
        _arr(fi.z0, 2),
        np.ascontiguousarray(base, dtype=float),
        np.ascontiguousarray(A, dtype=float),
        _arr(gap, 2),
        _arr(neutral, 1),
        fi.factor_index["growth"],
        _arr(rho, 2) if level is not None else np.zeros((1, K)),
        level if level is not None else np.zeros((0, K)),
        np.ascontiguousarray(fi.pin_mask, dtype=np.bool_),
        np.ascontiguousarray(fi.pin_value, dtype=float),
        np.ascontiguousarray(draw, dtype=np.int64),
    )
    tab, pol = tables
    W, width = pol[2], tab[5].shape[1]
    work = (
        z.reshape(n, M * K),
        W.reshape(W.shape[0], 3, M * K),
        pol[0].reshape(1, -1),
        np.zeros(width),
        np.zeros(3),
        interp_buckets(tab[8]),
        np.zeros(K),
        np.zeros(MEMO_SIZE),
    )
    policy_loop(z, u, var, tab, pol, run.kernel_growth(), run.kernel_outputs(), work)
    run.kernel = True
    return True


def _var_rows(fi: FactorInputs) -> tuple:
    """``(draw, A, base, gap, neutral, rho)`` for the compiled month step: one row per posterior
    draw with each path's ``draw`` (:attr:`FactorInputs.kernel_rows`), else the inputs' own rows
    with an empty ``draw``."""
    if fi.kernel_rows is not None:
        return fi.kernel_rows
    return np.zeros(0, np.int64), fi.A, fi.base, fi.gap, fi.neutral, fi.rho


def _kernel_month(fi: FactorInputs, z, m: int, u, p_before, g_idx: int, growth, level) -> None:
    """The same month step as :func:`_loop`'s numpy lines, by :func:`simengine.kernel.var_month`."""
    from simengine.kernel import var_month

    K = z.shape[2]
    draw, A, base, gap, neutral, rho = _var_rows(fi)
    var_month(
        z,
        m,
        _arr(fi.z0, 2),
        u,
        base,
        _arr(gap, 2),
        np.ascontiguousarray(p_before, dtype=float),
        _arr(neutral, 1),
        g_idx,
        np.array(np.broadcast_to(growth, (z.shape[0],)), dtype=float),  # writable: one signature
        _arr(rho, 2) if level is not None else np.zeros((1, K)),
        level if level is not None else np.zeros((0, K)),
        A,
        draw,
    )


def _run(fi: FactorInputs, run_args: dict, u: np.ndarray, **kw) -> tuple[np.ndarray, PolicyRun]:
    run = PolicyRun(**run_args, **kw)
    return _loop(fi, u, run), run


def expected_state(fi: FactorInputs, run_args: dict, n: int) -> np.ndarray:
    """``xbar`` (n|1, J, 3): the reaction state the market expected at each meeting.

    The factors propagated with zero innovations from the start state, the constant and the
    tariff pass-through only (``base`` without drifts and shocks is the caller's choice), and
    the decisions equal to their priced expectations.
    """
    zero = np.zeros((n, fi.base.shape[1], fi.base.shape[2]))
    _, run = _run(fi, run_args | {"n": n, "decision_u": None}, zero, expected_only=True)
    return run.state


def state_variance(
    plan,
    rf,
    A: np.ndarray,
    chol: np.ndarray,
    factor_index: dict[str, int],
    n_months: int,
    rho: np.ndarray | None = None,
    var_scale: np.ndarray | None = None,
) -> np.ndarray:
    """Variance of ``slopes . x_j`` across paths at each meeting (J,), from the VAR alone.

    ``x_j = W_j z``, ``Cov(z) = Phi Omega Phi'`` with ``Phi`` the responses through the VAR and
    the error correction ``rho`` (D, K) (:func:`simengine.conditioning.impulse_matrix`) and
    ``Omega = diag(w_m) (x) I_K`` the innovations' variance by month (``var_scale`` (D|1, M),
    the volatility state's ``w``; ``None``: 1; the path's level ``L`` has mean 1), averaged over
    the parameter draws ``A``, ``chol`` (D, K, K) of the *model* (not of a chunk's paths, so the
    numbers do not depend on chunking); the policy feedback is left out.
    """
    K = A.shape[-1]
    phi = impulse_matrix(A, chol, n_months, rho)  # (D, MK, MK)
    omega = innovation_variance(var_scale, n_months, K)  # (D|1, MK)
    out = np.zeros(plan.n)
    for j in range(plan.n):
        W, _ = state_weights(int(plan.month[j]), n_months, factor_index, K)
        row = np.einsum("i,imk->mk", rf.slopes, W).ravel() @ phi  # (D, MK)
        out[j] = float(np.mean(np.sum(row * row * omega, axis=-1)))
    return out


def _ecm_rho(fi) -> np.ndarray | None:
    """The error correction's ``rho`` when the dynamics carry levels, else ``None``."""
    return fi.rho if fi.level0 is not None and fi.rho is not None else None


def decision_conditions(
    run: PolicyRun, xbar: np.ndarray, n_months: int, n_factors: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Conditions that read each conditional fixed decision as information about the state.

    Notes
    -----
    The decision is a noisy signal of the state: ``eta = delta_j + xi + e``, ``xi = slopes .
    (x_j - xbar_j) ~ N(0, v_j)`` (the state's news, :func:`state_variance`), ``e ~ N(0, 1)``,
    and ``d_j`` says that ``eta`` lies between its two cutpoints ``(a, b)``. Then
    ``E[xi | d_j] = v_j / (1 + v_j) (E[eta | a < eta < b] - delta_j)`` with the truncated
    normal mean ``E[eta | .] = delta_j + s (phi(alpha) - phi(beta)) / (Phi(beta) - Phi(alpha))``,
    ``s = sqrt(1 + v_j)``, ``alpha = (a - delta_j) / s``, ``beta = (b - delta_j) / s``. The
    state is conditioned on ``xi = E[xi | d_j]``, linear in the path (``x_j = W z + W0 z0``,
    :func:`state_weights`), so Waggoner-Zha applies. A decision outside the meeting's priced
    outcomes uses the estimated support (-50..+50bp). Meetings whose state is all before the
    start carry no information and are skipped.

    Returns ``(weights (q, M, K), targets (n, q), labels)``.
    """
    plan, rf = run.plan, run.params.reaction
    rows, targets, labels = [], [], []
    for j in np.flatnonzero(plan.conditional):
        W, W0 = state_weights(int(plan.month[j]), n_months, run.index, n_factors)
        row = np.einsum("i,imk->mk", rf.slopes, W)
        v = float(run.state_var[j])
        if not row.any() or v <= 0.0:
            continue
        xi = _signal(rf, run, j, v)
        rhs = xi + xbar[:, j] @ rf.slopes - run.z0 @ (W0.T @ rf.slopes)
        rows.append(row)
        targets.append(np.broadcast_to(rhs, (run.n,)))
        labels.append(f"decision at meeting {j + 1}")
    if not rows:
        return np.zeros((0, n_months, n_factors)), np.zeros((run.n, 0)), []
    return np.stack(rows), np.stack(targets, axis=1), labels


def _signal(rf, run: PolicyRun, j: int, v: float) -> np.ndarray:
    """``E[xi | d_j]`` per path (see :func:`decision_conditions`)."""
    from scipy import stats

    from simengine.policy import DECISION_STEPS_PP

    cuts, steps = run.support(j)
    d = run.decision[:, j]  # fixed, or reaching a level pin (then per path)
    if not np.all(np.isclose(steps[None, :], d[:, None]).any(axis=1)):
        cuts, steps = rf.cuts, DECISION_STEPS_PP
        d = np.clip(d, steps[0], steps[-1])
    k = np.argmin(np.abs(steps[None, :] - d[:, None]), axis=1)
    edges = np.concatenate([[-np.inf], cuts, [np.inf]])
    s = np.sqrt(1.0 + v)
    delta = rf.latent_for_mean(run.target[:, j], cuts, steps, v)
    alpha, beta = (edges[k] - delta) / s, (edges[k + 1] - delta) / s
    mass = np.maximum(stats.norm.cdf(beta) - stats.norm.cdf(alpha), 1e-300)
    shift = s * (stats.norm.pdf(alpha) - stats.norm.pdf(beta)) / mass
    return v / (1.0 + v) * shift


def simulate_factors(
    fi: FactorInputs,
    eps: np.ndarray,
    run_args: dict,
    extra: Conditions | None = None,
    conditional_decisions: bool = False,
    xbar_base: FactorInputs | None = None,
    draw: np.ndarray | None = None,
    yield_levels: tuple[tuple[tuple[int, float], ...], float] | None = None,
    state_var: np.ndarray | None = None,
    var_scale: np.ndarray | None = None,
    eps_scale: np.ndarray | None = None,
    xbar_draw: np.ndarray | None = None,
    cache: dict | None = None,
) -> PolicyFactors:
    """Propagate factors and policy together; condition on ``extra`` and on the decisions.

    Parameters
    ----------
    fi : FactorInputs
    eps : ndarray (n, M, K)
        Innovations, variance ``var_scale`` (times a per-path level common to all months) once
        multiplied by ``eps_scale``.
    run_args : dict
        Arguments of :class:`PolicyRun` except ``n``, ``xbar``.
    extra : Conditions, optional
        Pins and shocks read as conditions (from the scenario).
    conditional_decisions : bool
        Add :func:`decision_conditions` for the plan's conditional meetings.
    xbar_base : FactorInputs, optional
        Inputs for :func:`expected_state` (default ``fi``).
    draw : ndarray (n,), optional
        Parameter draw of each path when ``A``/``chol`` have one entry per draw.
    var_scale : ndarray (1 or n, M), optional
        Variance of each month's innovations ``eps`` (the volatility state's ratio ``w_m``;
        ``None``: 1). The conditioning projects in the metric of that covariance, and through
        the error correction ``fi.rho`` (:func:`simengine.conditioning.prepare`), so linear
        conditions on the factors hold exactly and the draw is the exact Gaussian conditional.
    eps_scale : ndarray (1 or n, M), optional
        The volatility state's scale of each path's month (``None``: the innovations are
        ``eps`` as given): the innovations are ``eps * eps_scale[..., None]``, multiplied inside
        the compiled ``chol eps`` (:func:`simengine.kernel.scaled_innovations`) and copied only
        where the conditioning needs them (the same numbers either way).
    xbar_draw : ndarray (n,), optional
        Each path's posterior draw when ``xbar_base`` has one row per draw (not per path): the
        expected state is then computed once per draw and gathered (the same numbers).
    cache : dict, optional
        Keeps the expected state for the next chunks where it does not depend on the paths:
        per draw (with ``xbar_draw``) or for point parameters.
    """
    n, M, K = eps.shape
    # the market's expectations and the conditioning use the policy part with every channel on:
    # switching a channel off (attribution) changes how the economy maps to prices, not which
    # economy the scenario's information selects
    full = run_args | {"params": replace(run_args["params"], off=frozenset())}
    cache = {} if cache is None else cache
    if xbar_draw is not None:  # per posterior draw (xbar_base has one row per draw), gathered
        assert xbar_base is not None
        if "xbar_by_draw" not in cache:
            base_args = full | {"z0": xbar_base.z0}
            cache["xbar_by_draw"] = expected_state(xbar_base, base_args, xbar_base.A.shape[0])
        xbar = np.take(cache["xbar_by_draw"], xbar_draw, axis=0)
    elif xbar_base is not None and fi.A.shape[0] == 1:  # point parameters: one row per run
        if "xbar" not in cache:
            cache["xbar"] = expected_state(xbar_base, full, 1)
        xbar = cache["xbar"]
    else:
        xbar = expected_state(xbar_base or fi, full, fi.A.shape[0] if fi.A.shape[0] > 1 else 1)
        if xbar.shape[0] > 1 and draw is not None:
            xbar = xbar[draw]
    if state_var is None:
        state_var = state_variance(
            run_args["plan"],
            run_args["params"].reaction,
            fi.A,
            fi.chol,
            fi.factor_index,
            M,
            _ecm_rho(fi),
            var_scale,
        )
    extra_args = {"n": n, "xbar": xbar, "state_var": state_var}
    args, full = run_args | extra_args, full | extra_args

    def chol_n() -> np.ndarray:  # per path (gathered only where needed)
        return fi.chol if fi.chol.shape[0] == 1 or draw is None else fi.chol[draw]

    per_draw = None
    if xbar_draw is not None and fi.kernel and min(n, M) > 1:  # chol per draw, not per path
        assert xbar_base is not None
        per_draw = (xbar_base.chol, xbar_draw)
    elif fi.kernel and min(n, M) > 1 and fi.chol.shape[0] == 1:  # point parameters
        per_draw = (fi.chol, np.zeros(0, np.int64))
    u = _innovations(eps, None if per_draw else chol_n(), per_draw, eps_scale)
    z, run = _run(fi, full, u)
    levels = None
    if yield_levels is not None:
        levels = (*yield_levels, fi.factor_index["rates"])
    cond = _all_conditions(extra, run, xbar, M, K, conditional_decisions, levels)
    if cond is not None and cond.n:
        if eps_scale is not None:  # the innovations themselves, as the conditioning projects
            eps = eps * eps_scale[..., None]
        proj = prepare(cond, fi.A, fi.chol, _ecm_rho(fi), var_scale)
        resid = proj.residual(cond, z, eps, chol_n())
        eps_c, _ = proj.apply(z, eps, resid, draw)
        u = _innovations(eps_c, None if per_draw else chol_n(), per_draw)
    if cond is not None and cond.n or run_args["params"].off:
        z, run = _run(fi, args, u)
    ann, rep = run.dy2_month(M)
    z[..., fi.factor_index["rates"]] += ann + rep
    return PolicyFactors(z=z, run=run, dy2_announce=ann, dy2_reprice=rep)


def _innovations(
    eps: np.ndarray,
    chol: np.ndarray | None,
    per_draw: tuple | None = None,
    scale: np.ndarray | None = None,
) -> np.ndarray:
    """``u = chol (s eps)`` per path and month (n, M, K), ``s = scale[..., None]`` (or 1).

    ``per_draw``: the compiled route's inputs (:func:`simengine.kernel.scaled_innovations`),
    ``(chol (D, K, K), each path's draw (n,))`` (einsum's order, without the per-path
    ``chol``), or ``(chol (1, K, K), empty)`` for point parameters (OpenBLAS's order); the
    scaling happens inside, without a scaled copy of ``eps``.
    """
    if per_draw is not None:
        from simengine.kernel import scaled_innovations

        chol_d, draw = per_draw
        s = np.zeros((0, eps.shape[1])) if scale is None else np.ascontiguousarray(scale, float)
        e = np.ascontiguousarray(eps, dtype=float)
        out = np.empty(eps.shape)
        return scaled_innovations(e, s, np.ascontiguousarray(chol_d), draw.astype(np.int64), out)
    assert chol is not None
    if scale is not None:
        eps = eps * scale[..., None]
    return eps @ chol[0].T if chol.shape[0] == 1 else np.einsum("nmj,nij->nmi", eps, chol)


def yield_level_conditions(
    pins: tuple[tuple[int, float], ...], y0: float, run: PolicyRun, M: int, K: int, r: int
) -> Conditions:
    """2-year level pins as conditions on the VAR's rates: ``sum_{i<=m} z_i = level - y0 -
    sum_{i<=m} policy component_i`` (per path: the policy component is the first pass's)."""
    w = np.zeros((len(pins), M, K))
    targets = np.zeros((run.n, len(pins)))
    for q, (month, level) in enumerate(pins):
        w[q, : month + 1, r] = 1.0
        targets[:, q] = level - y0 - run.dy2_by_month[:, : month + 1].sum(axis=1)
    labels = tuple(f"2-year level in month {m}" for m, _ in pins)
    return Conditions(w, targets, np.zeros((0, M, K)), np.zeros(0), labels)


def _all_conditions(
    extra: Conditions | None,
    run: PolicyRun,
    xbar: np.ndarray,
    M: int,
    K: int,
    conditional_decisions: bool,
    levels: tuple[tuple[tuple[int, float], ...], float, int] | None = None,
) -> Conditions | None:
    parts = [] if extra is None else [extra]
    if levels is not None and levels[0]:
        parts.append(yield_level_conditions(levels[0], levels[1], run, M, K, levels[2]))
    if conditional_decisions:
        w, t, labels = decision_conditions(run, xbar, M, K)
        if w.shape[0]:
            empty = np.zeros((0, M, K))
            parts.append(Conditions(w, t, empty, np.zeros(0), tuple(labels)))
    if not parts:
        return None
    n = run.n

    def stack_targets(ts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([np.broadcast_to(t, (n, np.shape(t)[-1])) for t in ts], axis=1)

    return Conditions(
        np.concatenate([p.path_weights for p in parts]),
        stack_targets([p.path_target for p in parts]),
        np.concatenate([p.innovation_weights for p in parts]),
        stack_targets([p.innovation_target for p in parts]),
        tuple(label for p in parts for label in p.labels),
    )


def _expected_inputs(scn, dyn, neutral, level0, index, common: dict, kernel: bool) -> FactorInputs:
    """:class:`FactorInputs` of the market's expected state with one row per posterior draw
    (``dyn``, ``neutral``, ``level0`` per draw), built as :func:`policy_factor_paths` builds
    the per-path ones."""
    from simengine.parts.dynamics import unconditional_mean

    k_g = index["growth"]
    gap = _gap_without_growth(dyn, k_g)
    start_gap = _start_gap(scn, dyn, neutral, k_g)
    z0 = scn.z0[None] if scn.z0 is not None else unconditional_mean(dyn.A, dyn.c)
    per_draw = dict(z0=z0, A=dyn.A, chol=dyn.chol, gap=gap, neutral=neutral, level0=level0)
    return FactorInputs(
        base=_base_drive(scn, dyn, None, None, start_gap),
        pin_mask=np.zeros_like(scn.pin_mask),
        pin_value=scn.pin_value,
        **(common | per_draw | {"rho": getattr(dyn, "rho", None), "kernel": kernel}),
    )


def _base_drive(
    scn, pp, tariff, structural: bool | None, start_gap: np.ndarray, drift: np.ndarray | None = None
) -> np.ndarray:
    """``c + g_growth (p_0 - n) + m dtau + (I - A) shift + shock``: the drive without the
    policy terms that move with the path (·, M, K).

    ``drift``: ``(I - A) shift`` when the caller has it (:func:`_drift`, per posterior draw and
    gathered: the same numbers as per path).
    """
    if structural is None:  # the market's expected state: expected tariffs, no drifts or shocks
        expected = pp.m[:, None, :] * _expected_tariff_change(scn)[None, :, None]
        return pp.c[:, None, :] + start_gap[:, None, :] + expected
    base = pp.c[:, None, :] + pp.m[:, None, :] * tariff.change_month[..., None]
    base = base + start_gap[:, None, :]
    base = base + (_drift(scn, pp.A) if drift is None else drift)
    return base + scn.shock[None] if structural else base


def _gap_without_growth(dyn, k_g: int) -> np.ndarray:
    """The VAR's policy-gap loadings with the growth factor's set to 0 (·, K): growth keeps the
    gap at its start level (:func:`_start_gap`) and answers policy changes through the growth
    channel instead."""
    gap = dyn.g.copy()
    gap[:, k_g] = 0.0
    return gap


def _start_gap(scn, dyn, neutral, k_g: int) -> np.ndarray:
    """``g_growth (p_0 - n)`` on the growth factor, zero on the others (·, K)."""
    start_gap = np.zeros_like(dyn.g)
    start_gap[:, k_g] = dyn.g[:, k_g] * (scn.policy0 - neutral)
    return start_gap


def _base_by_draw(
    scn, dyn, neutral, tariff, structural: bool, k_g: int, draw, cache: dict
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`_base_drive` of each path from the posterior draws' parameters ``dyn`` and
    ``neutral`` (one row per draw) and each path's ``draw``: ``(per path, per draw)``.

    With a shared tariff path the drive is computed per draw and gathered (and kept in
    ``cache`` for the next chunks with the same tariff path); else the drift term per draw,
    gathered, and the rest per path (then no per-draw drive: ``None``). Element-wise the same
    operations on the same rows: the same numbers.
    """
    shared = np.shape(tariff.change_month)[0] == 1
    kept = cache.get("base_by_draw")
    if shared and kept is not None and np.array_equal(kept[0], tariff.change_month):
        return np.take(kept[1], draw, axis=0), kept[1]
    start_gap = _start_gap(scn, dyn, neutral, k_g)
    drift = _drift(scn, dyn.A)
    if shared:
        per_draw = _base_drive(scn, dyn, tariff, structural, start_gap, drift)
        cache["base_by_draw"] = (np.array(tariff.change_month), per_draw)
        return np.take(per_draw, draw, axis=0), per_draw
    per_path = dyn.take(draw)
    return _base_drive(scn, per_path, tariff, structural, start_gap[draw], drift[draw]), None


def _drift(scn, A: np.ndarray) -> np.ndarray:
    """``(I - A) shift`` (·, M, K): the drifts' mean shift through the VAR's mean reversion."""
    return np.einsum("dij,tj->dti", np.eye(A.shape[-1]) - A, scn.shift)


def _expected_tariff_change(scn) -> np.ndarray:
    """Expected monthly tariff change (M,): each random step happens with its probability."""
    level, levels = scn.tariff0, []
    for e in range(scn.tariff_levels.size):
        p = scn.tariff_probs[e]
        level = p * scn.tariff_levels[e] + (1.0 - p) * level
        levels.append(level)
    after = np.array([scn.tariff0, *levels])
    month_level = after[np.searchsorted(scn.tariff_months, np.arange(scn.n_months), "right")]
    return np.diff(month_level, prepend=scn.tariff0)


def policy_factor_paths(
    scn,
    dyn,
    neutral,
    policy: PolicyParams,
    tariff,
    draws,
    factors,
    model_dyn=None,
    level0=None,
    factor_var=None,
    kernel: bool = False,
    by_draw: tuple | None = None,
    model_factor_var=None,
    cache: dict | None = None,
    factor_scale=None,
):
    """Policy and factor paths of one scenario for a chunk of paths (the engine's entry point).

    Parameters
    ----------
    scn : ScenarioModel
    dyn : Var1Params
        The factor dynamics' parameters for these paths (leading axis 1 or per path).
    neutral : ndarray (1 or m,)
        Neutral policy rate (the policy part's).
    policy : PolicyParams
    tariff : EventPaths
    draws : Draws
        ``factor`` innovations (times ``factor_scale``), ``decision_u`` uniforms,
        ``param_draw``.
    factors : tuple of str
        The stochastic factors, in the dynamics' order (must include rates, growth,
        inflation, credit).
    model_dyn : Var1Params, optional
        The model's dynamics over all its parameter draws, for the state variance of the
        reaction function (default ``dyn``; pass it when ``dyn`` is per path).
    level0 : ndarray (1 or m, K), optional
        Start levels of the error-correcting factors (``dyn.rho != 0``;
        :meth:`simengine.parts.dynamics.Var1.levels`). The loop adds ``rho S_{m-1}`` to each
        month's drive, as :func:`simengine.parts.dynamics.propagate` does, and the
        Waggoner-Zha conditioning (conditional-forecast reading) propagates impulses through
        the same error correction, so conditions on credit hold exactly.
    factor_var : ndarray (1 or m, M), optional
        Variance ratio of each month's factor innovations (``draws["factor"]`` times
        ``factor_scale``; :meth:`simengine.parts.vol_state.VolState.factor_variance`), the
        covariance the conditioning uses. ``None``: unit variance.
    kernel : bool
        Each month's VAR step by :func:`simengine.kernel.var_month` (bit-identical to numpy).
    by_draw : (ndarray (m,), ndarray (D,), ndarray (D, K)), optional
        Posterior draws (``dyn`` per path, ``model_dyn`` per draw): each path's draw, the
        neutral rate and the start levels per draw. The market's expected state is then
        computed once per draw instead of once per path (the same numbers, gathered).
    model_factor_var : ndarray (1 or D, M), optional
        ``factor_var`` over the model's parameter draws, for the state variance with
        ``model_dyn`` (default ``factor_var``).
    cache : dict, optional
        A dict the caller keeps for this scenario across the chunks of a run: what does not
        depend on the chunk's paths (the state variance, the market's expected state per draw
        or for point parameters) is computed on the first chunk and read from it afterwards.
    factor_scale : ndarray (1 or m, M), optional
        The volatility state's scale of each path's month
        (:meth:`simengine.parts.vol_state.VolState.factor_scale`): the factor innovations are
        ``draws["factor"] * factor_scale[..., None]``. ``None``: ``draws["factor"]`` as given.

    Returns
    -------
    (EventPaths, ndarray (m, M, K))
        The policy rate on steps and months with the 2-year policy component (announcement +
        repricing) as its ``surprise``, and the factors.
    """
    from simengine.parts.base import EventPaths
    from simengine.parts.dynamics import unconditional_mean
    from simengine.policy_model import overlay_conditions, plan_from_scenario

    n, M, K = draws["factor"].shape
    index = {f: i for i, f in enumerate(factors)}
    conditional = scn.reading == "conditional_forecast"
    z0 = scn.z0[None] if scn.z0 is not None else unconditional_mean(dyn.A, dyn.c)
    # growth: the VAR's policy-gap term stays at the start level (a baseline, as fitted); the
    # response to policy *changes* is the estimated growth channel (the VAR's coefficient has
    # the sign of the Fed tightening into strength, not of policy's effect on growth)
    k_g = index["growth"]
    gap = _gap_without_growth(dyn, k_g)
    start_gap = _start_gap(scn, dyn, neutral, k_g)
    rho = getattr(dyn, "rho", None)
    common = dict(
        z0=z0,
        A=dyn.A,
        chol=dyn.chol,
        gap=gap,
        neutral=neutral,
        factor_index=index,
        rho=rho,
        level0=level0,
        kernel=kernel,
    )
    no_pins = np.zeros_like(scn.pin_mask)
    y0 = scn.yield_2y0 if scn.yield_2y0 is not None else 0.0
    xbar_draw = base = rows = None
    if by_draw is not None and model_dyn is not None and dyn.A.shape[0] > 1:
        xbar_draw = by_draw[0]  # per posterior draw, then gathered: the same numbers
        cache = {} if cache is None else cache
        base, base_d = _base_by_draw(
            scn, model_dyn, by_draw[1], tariff, not conditional, k_g, xbar_draw, cache
        )
        if kernel and base_d is not None:  # the compiled month step reads rows per draw
            gap_d = _gap_without_growth(model_dyn, k_g)
            rho_d = getattr(model_dyn, "rho", None)
            draw64 = np.ascontiguousarray(xbar_draw, dtype=np.int64)
            rows = (draw64, model_dyn.A, base_d, gap_d, by_draw[1], rho_d)
    fi = FactorInputs(
        base=_base_drive(scn, dyn, tariff, not conditional, start_gap) if base is None else base,
        pin_mask=no_pins if conditional else scn.pin_mask,
        pin_value=scn.pin_value,
        yield_2y_pins=() if conditional else scn.yield_2y_pins,
        yield_2y0=y0,
        kernel_rows=rows,
        **common,
    )
    if xbar_draw is not None:
        assert by_draw is not None and model_dyn is not None
        _, neutral_d, level0_d = by_draw
        expected = _expected_inputs(scn, model_dyn, neutral_d, level0_d, index, common, kernel)
    else:
        expected = FactorInputs(
            base=_base_drive(scn, dyn, tariff, None, start_gap),
            pin_mask=no_pins,
            pin_value=scn.pin_value,
            **common,
        )
    run_args = dict(
        plan=plan_from_scenario(scn),
        params=policy,
        p0=scn.policy0,
        n_months=M,
        z0=z0,
        factor_index=index,
        decision_u=draws["decision_u"],
    )
    draw = np.arange(n) if dyn.A.shape[0] > 1 else None  # per-path parameters: one row each
    ref = model_dyn if model_dyn is not None else dyn
    cache = {} if cache is None else cache
    state_var = cache.get("state_var")
    if state_var is None:
        ref_var = model_factor_var if model_dyn is not None else factor_var
        ref_rho = _ecm_rho(ref) if level0 is not None else None  # as the loop: levels on or off
        state_var = state_variance(
            run_args["plan"], policy.reaction, ref.A, ref.chol, index, M, ref_rho, ref_var
        )
        cache["state_var"] = state_var
    out = simulate_factors(
        fi,
        draws["factor"],
        run_args,
        overlay_conditions(scn),
        conditional,
        expected,
        draw,
        (scn.yield_2y_pins, y0) if conditional else None,
        state_var,
        factor_var,
        factor_scale,
        xbar_draw=xbar_draw,
        cache=cache,
    )
    T = scn.n_steps
    ann_s, rep_s = out.run.dy2_step(T)
    policy_paths = EventPaths(
        level_step=out.run.level_step(T),
        level_month=out.run.level_month,
        start=scn.policy0,
        surprise_step=ann_s + rep_s,
        surprise_month=out.dy2_announce + out.dy2_reprice,
        neutral=neutral,
    )
    return policy_paths, out.z
