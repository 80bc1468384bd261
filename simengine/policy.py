"""The policy part: decisions, the market's expected path, repricing and the reaction function (pure).

Per path, meeting by meeting in date order (a loop over meetings, never over paths):

* the market's expected change at meeting ``j`` is ``e_j``: the start-date pricing ``e0_j``
  plus the repricing left by earlier surprises;
* the decision ``d_j`` is fixed by the scenario or drawn from the reaction function, an ordered
  probit whose intercept at each meeting is set so that its mean is ``e_j`` at the state the
  market expected (:attr:`PolicyRun.xbar`), and whose slopes move the probabilities with the
  simulated state (growth, inflation, credit before the meeting);
* the surprise ``s_j = d_j - E[d_j | state_j]`` is the decision minus what the market expected
  given the data it had seen; it reprices the next meeting by ``lambda s_j`` (the path
  pass-through, in the manner of the path factor of Gurkaynak, Sack and Swanson 2005);
* the 2-year yield moves by the change of the expected policy path averaged over its two-year
  window: ``dy2_j = s_j + lambda s_j w_j`` with ``w_j`` the share of the 24-month window after
  the next meeting. The two terms are the *announcement* and *repricing* channels.

Estimates and sources: :mod:`simengine.data.estimate_policy`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
from scipy import special  # ndtr/ndtri: norm.cdf/ppf bit for bit, without scipy.stats' import

__all__ = [
    "CHANNELS",
    "DECISION_STEPS_PP",
    "MeetingPlan",
    "PolicyParams",
    "PolicyRun",
    "ReactionFunction",
    "meeting_plan",
    "state_weights",
]

DECISION_STEPS_PP = np.array([-0.5, -0.25, 0.0, 0.25, 0.5])
STATE_FACTORS = ("growth", "inflation", "credit")
STATE_MONTHS = (3, 3, 1)  # months averaged for each state variable (the months before the meeting)
CHANNELS = ("announcement", "repricing", "growth")  # the switches this part owns
DAYS_PER_MONTH = 365.25 / 12.0
DEFAULT_GAP_MONTHS = 1.5  # months to the next meeting when the calendar has none (8 a year)
_ETA_GRID = np.linspace(-8.0, 8.0, 2001)


@dataclass(frozen=True)
class ReactionFunction:
    """Ordered probit of a decision on the state (latent units; unit-variance noise).

    ``P(d = steps_k | eta) = Phi(c_k - eta) - Phi(c_{k-1} - eta)``,
    ``eta = delta_j + slopes . (x - xbar_j)``. ``cuts`` and ``steps`` are the estimated ones
    (:data:`DECISION_STEPS_PP`); every method also takes a meeting's own (market-implied) ones.
    """

    slopes: np.ndarray  # (3,) on simengine.parts.policy.STATE_NAMES
    cuts: np.ndarray  # (4,)

    def probabilities(self, eta: np.ndarray, cuts: np.ndarray | None = None) -> np.ndarray:
        """Outcome probabilities, shape ``eta.shape + (len(cuts) + 1,)``."""
        c = self.cuts if cuts is None else cuts
        eta = np.asarray(eta, dtype=float)
        cdf = special.ndtr(np.asarray(c) - eta[..., None])  # standard normal CDF
        edge = np.ones((*eta.shape, 1))
        return np.diff(np.concatenate([0.0 * edge, cdf, edge], axis=-1), axis=-1)

    def mean_change(
        self, eta: np.ndarray, cuts: np.ndarray | None = None, steps: np.ndarray | None = None
    ) -> np.ndarray:
        """``E[d | eta]`` (pp); increasing in ``eta``."""
        return self.probabilities(eta, cuts) @ (DECISION_STEPS_PP if steps is None else steps)

    def latent_for_mean(
        self,
        mean: np.ndarray,
        cuts: np.ndarray | None = None,
        steps: np.ndarray | None = None,
        state_var: float = 0.0,
    ) -> np.ndarray:
        """The intercept ``delta`` whose mean change is ``mean`` (pp), averaged over the state.

        With ``eta = delta + xi``, ``xi ~ N(0, state_var)`` (the state's deviation from what the
        market expected, in latent units), ``E[Phi(c - eta)] = Phi((c - delta) / s)``,
        ``s = sqrt(1 + state_var)``: the average over states is a probit with cutpoints and
        intercept scaled by ``1/s``. Inverted by interpolation on a fine grid; means outside
        the support's range give the grid's end.
        """
        s = np.sqrt(1.0 + state_var)
        c = self.cuts if cuts is None else cuts
        table = self.mean_change(_ETA_GRID, c / s, steps)
        return s * np.interp(mean, table, _ETA_GRID)

    def draw(
        self,
        eta: np.ndarray,
        u: np.ndarray,
        cuts: np.ndarray | None = None,
        steps: np.ndarray | None = None,
    ) -> np.ndarray:
        """Decisions (pp) by inverse CDF from uniforms ``u`` (same shape as ``eta``)."""
        return self.draw_from(self.probabilities(eta, cuts), u, steps)

    def draw_from(
        self, probs: np.ndarray, u: np.ndarray, steps: np.ndarray | None = None
    ) -> np.ndarray:
        """:meth:`draw` from the outcome probabilities ``probs`` (:meth:`probabilities`)."""
        cdf = np.cumsum(probs, axis=-1)[..., :-1]
        grid = DECISION_STEPS_PP if steps is None else steps
        return grid[(u[..., None] > cdf).sum(axis=-1)]


@dataclass(frozen=True)
class PolicyParams:
    """Parameters of the policy part.

    Attributes
    ----------
    path_pass_through : float
        ``lambda``: revision of the next meeting's expected change per pp of surprise.
    reaction : ReactionFunction
    growth_gamma : float
        Growth channel: pp of monthly growth per pp of the policy rate's deviation from its
        start level, averaged over the months ``growth_lags`` before (negative: cuts lift growth).
    announcement : ndarray (N,)
        Asset log return per pp of the policy component of the 2-year yield, on top of the
        asset's ``beta.rates`` (calibrated so the total response matches the event studies).
    growth_lags : (int, int)
    window_months : float
        Maturity of the yield that follows the expected path (24: the 2-year).
    off : frozenset of str
        Channels switched off (attribution): any of :data:`CHANNELS`.
    """

    path_pass_through: float
    reaction: ReactionFunction
    growth_gamma: float
    announcement: np.ndarray
    growth_lags: tuple[int, int] = (1, 12)
    window_months: float = 24.0
    off: frozenset[str] = field(default_factory=frozenset)

    def without(self, *channels: str) -> PolicyParams:
        """A copy with ``channels`` switched off."""
        unknown = set(channels) - set(CHANNELS)
        if unknown:
            raise ValueError(f"unknown policy channels {sorted(unknown)}; expected {CHANNELS}")
        return replace(self, off=self.off | frozenset(channels))

    @property
    def lam(self) -> float:
        return 0.0 if "repricing" in self.off else self.path_pass_through


@dataclass(frozen=True)
class MeetingPlan:
    """The meetings of a window as arrays (one entry per meeting, date order).

    ``fixed`` is NaN where the decision is random; ``e0`` the start-date expected change (pp);
    ``next_gap`` the months from each meeting to the next scheduled one (calendar, also past
    the horizon); ``conditional`` marks fixed decisions read as a conditional forecast;
    ``priced`` the distribution a random decision is drawn from, averaged over the states
    (``(outcomes_pp, probs)``: the scenario's own outcomes, else the market's; a single outcome,
    such as an unpriced meeting's hold, is certain and the state cannot move it), or None (the
    estimated probit's support -50..+50bp); ``draw_mean`` its mean (pp; the market's ``e0``
    unless the scenario has its own view).
    """

    month: np.ndarray
    step: np.ndarray
    fixed: np.ndarray
    e0: np.ndarray
    next_gap: np.ndarray
    conditional: np.ndarray
    priced: tuple[tuple[np.ndarray, np.ndarray] | None, ...] = ()
    draw_mean: np.ndarray | None = None
    level_target: np.ndarray | None = None  # (J,) policy-rate level pinned after the meeting

    def is_set(self, j: int) -> bool:
        """Whether the scenario sets meeting ``j`` (a fixed change or a level pin)."""
        return not np.isnan(self.fixed[j]) or not np.isnan(self.level_target[j])

    @property
    def n(self) -> int:
        return int(self.month.size)


def meeting_plan(
    days: tuple[date, ...],
    months: np.ndarray,
    steps: np.ndarray,
    fixed: np.ndarray,
    e0: np.ndarray,
    calendar: tuple[date, ...],
    conditional: np.ndarray | None = None,
    priced: tuple[tuple[np.ndarray, np.ndarray] | None, ...] | None = None,
    draw_mean: np.ndarray | None = None,
    level_target: np.ndarray | None = None,
) -> MeetingPlan:
    """Build a :class:`MeetingPlan`; ``calendar`` gives the next meeting after each one."""
    gaps = []
    for d in days:
        later = [m for m in calendar if m > d]
        gaps.append((later[0] - d).days / DAYS_PER_MONTH if later else DEFAULT_GAP_MONTHS)
    n = len(days)
    cond = np.zeros(n, bool) if conditional is None else np.asarray(conditional, bool)
    level = np.full(n, np.nan) if level_target is None else np.asarray(level_target, float)
    return MeetingPlan(
        np.asarray(months, np.intp),
        np.asarray(steps, np.intp),
        np.asarray(fixed, float),
        np.asarray(e0, float),
        np.array(gaps, float),
        cond & (~np.isnan(np.asarray(fixed, float)) | ~np.isnan(level)),
        tuple(priced) if priced is not None else (None,) * n,
        np.asarray(e0, float) if draw_mean is None else np.asarray(draw_mean, float),
        level,
    )


def state_weights(month: int, n_months: int, factor_index: dict[str, int], n_factors: int):
    """The reaction state before ``month`` as a linear map of the path and the start state.

    Returns ``(W, W0)``: ``W`` (3, M, K) on the monthly path ``z`` and ``W0`` (3, K) on the
    start state ``z0`` (months before the start take the start state), so that
    ``x = W . z + W0 . z0``.
    """
    W = np.zeros((3, n_months, n_factors))
    W0 = np.zeros((3, n_factors))
    for i, (name, span) in enumerate(zip(STATE_FACTORS, STATE_MONTHS, strict=True)):
        k = factor_index[name]
        for mm in range(month - span, month):
            if mm >= 0:
                W[i, mm, k] += 1.0 / span
            else:
                W0[i, k] += 1.0 / span
    return W, W0


class PolicyRun:
    """The policy path of ``n`` paths, advanced month by month alongside the factors.

    ``state_var`` (J,) is the variance of ``slopes . (x_j - xbar_j)`` across paths: the
    intercepts are set so that the reaction function's mean decision, averaged over the
    states, equals the market's expected change (agreement with pricing at the start date).

    Call :meth:`decide` at the start of each month (before the factors of that month are
    propagated) with the factor path so far. Afterwards the arrays hold, per path and meeting,
    the decisions, surprises and the 2-year components; per month the policy level.
    """

    def __init__(
        self,
        plan: MeetingPlan,
        params: PolicyParams,
        p0: float,
        n: int,
        n_months: int,
        z0: np.ndarray,
        factor_index: dict[str, int],
        decision_u: np.ndarray | None,
        xbar: np.ndarray | None = None,
        expected_only: bool = False,
        state_var: np.ndarray | None = None,
    ) -> None:
        J = plan.n
        self.plan, self.params, self.p0, self.n = plan, params, p0, n
        self.z0 = np.broadcast_to(z0, (n, z0.shape[-1]))
        self.index = factor_index
        self.u = decision_u
        self.expected_only = expected_only
        self.xbar = np.zeros((1, J, 3)) if xbar is None else xbar
        self.state_var = np.zeros(J) if state_var is None else state_var
        self.expected = np.broadcast_to(plan.e0, (n, J)).copy()  # the market's, repriced
        self.target = np.broadcast_to(plan.draw_mean, (n, J)).copy()  # the draw's mean
        self.decision = np.zeros((n, J))
        self.surprise = np.zeros((n, J))
        self.state = np.zeros((n, J, 3))
        self.dy2_announce = np.zeros((n, J))
        self.dy2_reprice = np.zeros((n, J))
        self.level_month = np.full((n, n_months), p0)
        self.dy2_by_month = np.zeros((n, n_months))  # policy component of the 2-year change
        self._level = np.full(n, p0)
        self.kernel = False  # outputs by the compiled kernels (set by the compiled loop)
        self._weights = {
            j: state_weights(int(plan.month[j]), n_months, factor_index, z0.shape[-1])
            for j in range(J)
        }

    def state_before(self, j: int, z: np.ndarray) -> np.ndarray:
        """Reaction state before meeting ``j`` (n, 3) from the path ``z`` (n, M, K) so far."""
        W, W0 = self._weights[j]
        m = int(self.plan.month[j])
        return np.einsum("nmk,imk->ni", z[:, :m], W[:, :m]) + self.z0 @ W0.T

    def decide(self, month: int, z: np.ndarray) -> None:
        """Decide the meetings of ``month`` and record the level at its end."""
        for j in np.flatnonzero(self.plan.month == month):
            self._meeting(int(j), z)
        self.level_month[:, month] = self._level

    def support(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Cutpoints and outcomes (pp) of meeting ``j`` given the state.

        Where the meeting has a priced distribution: ``c_k = s_j Phi^{-1}(P(d <= k))``,
        ``s_j = sqrt(1 + state_var_j)``, so that averaged over the states the probabilities
        are exactly the priced ones at ``delta = 0`` (one outcome: no cutpoints, certain).
        Without one: the estimated cutpoints and steps.
        """
        priced = self.plan.priced[j] if self.plan.priced else None
        rf = self.params.reaction
        if priced is None:
            return rf.cuts, DECISION_STEPS_PP
        outcomes, probs = priced
        cum = np.clip(np.cumsum(probs)[:-1], 1e-12, 1 - 1e-12)
        return np.sqrt(1.0 + self.state_var[j]) * special.ndtri(cum), outcomes  # normal quantile

    def _meeting(self, j: int, z: np.ndarray) -> None:
        plan, par, rf = self.plan, self.params, self.params.reaction
        x = self.state_before(j, z)
        self.state[:, j] = x
        cuts, steps = self.support(j)
        var = 0.0 if self.expected_only else self.state_var[j]
        delta = rf.latent_for_mean(self.target[:, j], cuts, steps, var)
        # the expected-only run defines xbar (the state the market expected): no state term
        eta = delta if self.expected_only else delta + (x - self.xbar[:, j]) @ rf.slopes
        # the market has seen the data: its expectation moves with the rule's mean, from the
        # rule's mean averaged over states (= target, computed rather than assumed: exact)
        sd = np.sqrt(1.0 + var)
        average = rf.mean_change(delta / sd, cuts / sd, steps)
        probs = rf.probabilities(eta, cuts)  # once for the mean and the draw
        expected_now = self.expected[:, j] + probs @ steps - average
        if not np.isnan(plan.level_target[j]):
            d = plan.level_target[j] - self._level  # a level pin: whatever change reaches it
        elif not np.isnan(plan.fixed[j]):
            d = np.full(self.n, plan.fixed[j])
        elif self.expected_only:
            d = self.expected[:, j].copy()
        else:
            d = rf.draw_from(probs, self.u[j, : self.n], steps)
        s = d - (self.expected[:, j] if self.expected_only else expected_now)
        self.decision[:, j], self.surprise[:, j] = d, s
        self._level = self._level + d
        lam = par.lam
        w = max(0.0, par.window_months - plan.next_gap[j]) / par.window_months
        if j + 1 < plan.n:
            self.expected[:, j + 1] += lam * s
            self.target[:, j + 1] += lam * s
        self.dy2_announce[:, j] = 0.0 if "announcement" in par.off else s
        self.dy2_reprice[:, j] = lam * s * w
        self.dy2_by_month[:, plan.month[j]] += self.dy2_announce[:, j] + self.dy2_reprice[:, j]

    def kernel_inputs(self, n_months: int, n_factors: int) -> tuple[tuple, tuple] | None:
        """The per-meeting tables and inputs of :func:`simengine.kernel_policy.policy_loop`.

        Everything that does not depend on the path, computed here as :meth:`_meeting` computes
        it: each meeting's cutpoints and outcomes (:meth:`support`), the interpolation table of
        :meth:`ReactionFunction.latent_for_mean`, the scaled cutpoints of the average, the
        state weights and the repricing window. ``None`` when an operand is not what the
        kernel's sum orders assume (non-contiguous outcomes or slopes).
        """
        plan, par, rf = self.plan, self.params, self.params.reaction
        J = plan.n
        supports = [self.support(j) for j in range(J)]
        slopes = np.asarray(rf.slopes)
        arrays = [slopes, *(s for _, s in supports)]
        if not all(a.dtype == np.float64 and a.flags.c_contiguous for a in arrays):
            return None
        width = max((s.size for _, s in supports), default=1)
        cuts, steps = np.zeros((J, width)), np.zeros((J, width))
        cuts_sd, sd = np.zeros((J, width)), np.zeros(J)
        tables = np.zeros((J, _ETA_GRID.size))
        n_out = np.zeros(J, np.int64)
        for j, (c, st) in enumerate(supports):
            var = 0.0 if self.expected_only else self.state_var[j]
            s = np.sqrt(1.0 + var)
            tables[j] = rf.mean_change(_ETA_GRID, c / s, st)
            n_out[j], sd[j] = st.size, s
            cuts[j, : c.size], steps[j, : st.size], cuts_sd[j, : c.size] = c, st, c / s
        W = np.zeros((J, 3, n_months, n_factors))
        W0 = np.zeros((J, 3, n_factors))
        for j in range(J):
            W[j], W0[j] = self._weights[j]
        window = [max(0.0, par.window_months - g) / par.window_months for g in plan.next_gap]
        z0 = self.z0[:1] if self.z0.strides[0] == 0 else self.z0
        tab = (
            np.ascontiguousarray(plan.month, dtype=np.int64),
            np.asarray(plan.fixed, dtype=float),
            np.asarray(plan.level_target, dtype=float),
            n_out,
            cuts,
            steps,
            cuts_sd,
            sd,
            tables,
            _ETA_GRID,
        )
        pol = (
            slopes,
            np.ascontiguousarray(self.xbar, dtype=float),
            W,
            W0,
            np.ascontiguousarray(z0, dtype=float),
            self.expected_only,
            float(par.lam),
            np.array(window, dtype=float),
            "announcement" in par.off,
            np.zeros((0, 0)) if self.u is None else np.ascontiguousarray(self.u, dtype=float),
        )
        return tab, pol

    def kernel_outputs(self) -> tuple:
        """The arrays :func:`simengine.kernel_policy.policy_loop` fills (in this order)."""
        return (
            self.expected,
            self.target,
            self.decision,
            self.surprise,
            self.state,
            self.dy2_announce,
            self.dy2_reprice,
            self.level_month,
            self.dy2_by_month,
            self._level,
        )

    def kernel_growth(self) -> tuple[float, int, int, float]:
        """``(gamma, lo, hi, p0)`` of :meth:`growth_term` (``gamma = 0``: the channel is off)."""
        par = self.params
        off = "growth" in par.off or par.growth_gamma == 0.0
        lo, hi = par.growth_lags
        return (0.0 if off else float(par.growth_gamma), int(lo), int(hi), float(self.p0))

    # -- outputs on the two time axes -----------------------------------------------------

    def dy2_month(self, n_months: int) -> tuple[np.ndarray, np.ndarray]:
        """Announcement and repricing components of the 2-year change per month (n, M)."""
        month = self.plan.month
        return self._per_column(self.dy2_announce, month, n_months), self._per_column(
            self.dy2_reprice, month, n_months
        )

    def dy2_step(self, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        """The same on the steps of the return grid (n, T)."""
        step = self.plan.step
        return self._per_column(self.dy2_announce, step, n_steps), self._per_column(
            self.dy2_reprice, step, n_steps
        )

    def level_step(self, n_steps: int) -> np.ndarray:
        """Policy rate at the end of each step (n, T)."""
        return self._per_column(self.decision, self.plan.step, n_steps, cumulative=True)

    def _per_column(
        self, values: np.ndarray, column: np.ndarray, n_cols: int, cumulative: bool = False
    ) -> np.ndarray:
        """``values @ on`` with ``on[j, column[j]] = 1`` (``cumulative``: ``p0 + cumsum`` of it
        over the columns); by :func:`simengine.kernel.column_sums` on the kernel route (the
        same numbers)."""
        if self.kernel and min(values.shape) > 1 and values.flags.c_contiguous:
            from simengine.kernel import column_sums

            idx = np.ascontiguousarray(column, dtype=np.int64)
            return column_sums(values, idx, n_cols, cumulative, float(self.p0))
        on = np.zeros((self.plan.n, n_cols))
        on[np.arange(self.plan.n), column] = 1.0
        if cumulative:
            return self.p0 + np.cumsum(values @ on, axis=1)
        return values @ on

    def growth_term(self, month: int) -> np.ndarray:
        """Growth channel for ``month`` (n,): ``gamma * mean_{l in lags}(p_{month-l} - p0)``.

        ``p_{month-l}`` is the level at the end of month ``month - l`` (``p0`` before the start).
        """
        par = self.params
        if "growth" in par.off or par.growth_gamma == 0.0:
            return np.zeros(self.n)
        lo, hi = par.growth_lags
        first, last = month - hi, month - lo
        cols = [mm for mm in range(max(first, 0), last + 1)]
        dev = self.level_month[:, cols].sum(axis=1) - self.p0 * len(cols) if cols else 0.0
        return par.growth_gamma * dev / (hi - lo + 1)
