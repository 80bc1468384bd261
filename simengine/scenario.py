"""Scenario overlays: a validated spec becomes dated arrays on the time grid.

This module turns the words of a scenario (FOMC decisions, market pricing, tariff steps, drifts,
shocks, pins) into arrays; :mod:`simengine.factors` and :mod:`simengine.assets` turn those into
paths. Nothing here draws random numbers: random decisions and tariff events are resolved from
uniforms drawn in :mod:`simengine.rng`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from simengine.calendar import FOMC_DECISION_DATES, TimeGrid
from simengine.exceptions import SpecError
from simengine.spec.model_file import STOCHASTIC_FACTORS

if TYPE_CHECKING:
    from simengine.spec import ScenarioSpec

__all__ = ["Meeting", "ScenarioModel", "build_scenario", "expected_change_pp"]

BP = 0.01  # one basis point in percentage points


@dataclass(frozen=True)
class Meeting:
    """One FOMC decision in the window: outcomes (pp) with probabilities, and what was priced."""

    day: date
    step: int
    outcomes_pp: np.ndarray  # (k,)
    probs: np.ndarray  # (k,)
    expected_pp: float

    @property
    def is_random(self) -> bool:
        return self.outcomes_pp.size > 1


def _outcome_arrays(outcomes: dict[int | float, float]) -> tuple[np.ndarray, np.ndarray]:
    keys = sorted(outcomes)
    return np.array([k * BP for k in keys]), np.array([float(outcomes[k]) for k in keys])


def expected_change_pp(pricing) -> float:
    """Market-expected change at a meeting (pp) from outcome probabilities or ``expected_bp``."""
    if pricing is None:
        return 0.0
    if pricing.outcomes:
        values, probs = _outcome_arrays(pricing.outcomes)
        return float(values @ probs)
    return float(pricing.expected_bp) * BP


def _pricing_outcomes(pricing) -> dict[float, float]:
    """Outcome distribution implied by market pricing.

    Probabilities are used as given; an ``expected_bp`` alone is read the way fed funds futures
    are: split between the two neighbouring multiples of 25bp (-15bp -> 60% -25, 40% hold).
    """
    if pricing.outcomes:
        return dict(pricing.outcomes)
    e = float(pricing.expected_bp)
    lo = 25.0 * np.floor(e / 25.0)
    w_hi = (e - lo) / 25.0
    return {lo: 1.0 - w_hi, lo + 25.0: w_hi} if w_hi > 0 else {lo: 1.0}


def _meetings(spec: ScenarioSpec, grid: TimeGrid) -> tuple[Meeting, ...]:
    calendar = tuple(spec.fomc_calendar) if spec.fomc_calendar else FOMC_DECISION_DATES
    pricing = {p.fomc: p for p in spec.market_pricing}
    decisions = {d.meeting: d for d in spec.fomc}
    out = []
    for day in grid.meetings(calendar):
        priced = pricing.get(day)
        decision = decisions.get(day)
        if decision is not None and decision.change_bp is not None:
            outcomes = {decision.change_bp: 1.0}
        elif decision is not None:
            outcomes = dict(decision.outcomes)
        elif priced is not None:
            outcomes = _pricing_outcomes(priced)
        else:
            outcomes = {0: 1.0}
        values, probs = _outcome_arrays(outcomes)
        keep = probs > 0
        out.append(
            Meeting(day, grid.step_of(day), values[keep], probs[keep], expected_change_pp(priced))
        )
    return tuple(out)


@dataclass(frozen=True)
class ScenarioModel:
    """A scenario on a grid, ready to simulate.

    Notes
    -----
    Policy rate at the end of step ``t``: ``p_t = p_0 + sum_{meetings j in steps <= t} d_j``;
    surprise in step ``t``: ``sum_{j in step t} (d_j - E_market[d_j])`` (pp). Tariff level: the
    last step (whose random draw succeeded) at or before ``t``; ``dtau_t = tau_t - tau_{t-1}``.
    """

    name: str
    grid: TimeGrid
    meetings: tuple[Meeting, ...]
    policy0: float
    tariff0: float
    tariff_steps: np.ndarray  # (E,) int step index
    tariff_levels: np.ndarray  # (E,)
    tariff_probs: np.ndarray  # (E,)
    shift: np.ndarray  # (T, K) mean shift of each factor
    shock: np.ndarray  # (T, K)
    pin_mask: np.ndarray  # (T, K) bool
    pin_value: np.ndarray  # (T, K)
    z0: np.ndarray | None  # (K,) or None = unconditional mean
    short_interest_bn: float | None
    index_levels: dict[str, float] = field(default_factory=dict)
    spec_hash: str = ""

    @property
    def n_steps(self) -> int:
        return self.grid.n_steps

    @property
    def random_tariff_events(self) -> np.ndarray:
        """Indices of tariff steps that happen only with some probability."""
        return np.flatnonzero(self.tariff_probs < 1.0)

    def policy_paths(self, decision_u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Policy rate at step ends and policy surprises.

        Parameters
        ----------
        decision_u : ndarray (M, m)
            Uniforms, one per meeting and path (used where the decision is random).

        Returns
        -------
        policy : ndarray (m or 1, T)
            Policy rate (%) at the end of each step.
        surprise : ndarray (m or 1, T)
            Sum of (decision - market expectation) in each step (pp).
        """
        m = decision_u.shape[1] if any(mt.is_random for mt in self.meetings) else 1
        change = np.zeros((m, self.n_steps))
        surprise = np.zeros((m, self.n_steps))
        for j, mt in enumerate(self.meetings):
            if mt.is_random:
                k = (decision_u[j][:, None] > np.cumsum(mt.probs)[None, :-1]).sum(axis=1)
                d = mt.outcomes_pp[k]
            else:
                d = mt.outcomes_pp[0]
            change[:, mt.step] += d
            surprise[:, mt.step] += d - mt.expected_pp
        return self.policy0 + np.cumsum(change, axis=1), surprise

    def tariff_paths(self, tariff_u: np.ndarray) -> np.ndarray:
        """Tariff level (%) at the end of each step, shape (m or 1, T).

        ``tariff_u`` (E_random, m) holds one uniform per random tariff event and path.
        """
        random_idx = {e: i for i, e in enumerate(self.random_tariff_events)}
        m = tariff_u.shape[1] if random_idx else 1
        level = np.full(m, self.tariff0)
        out = np.empty((m, self.n_steps))
        order = np.argsort(self.tariff_steps, kind="stable")
        pos = 0
        for t in range(self.n_steps):
            while pos < order.size and self.tariff_steps[order[pos]] == t:
                e = order[pos]
                if e in random_idx:
                    level = np.where(
                        tariff_u[random_idx[e]] < self.tariff_probs[e], self.tariff_levels[e], level
                    )
                else:
                    level = np.full(m, self.tariff_levels[e])
                pos += 1
            out[:, t] = level
        return out


def _factor_index(name: str) -> int:
    return STOCHASTIC_FACTORS.index(name)


def _overlays(spec: ScenarioSpec, grid: TimeGrid) -> dict[str, np.ndarray]:
    T, K = grid.n_steps, len(STOCHASTIC_FACTORS)
    shift, shock = np.zeros((T, K)), np.zeros((T, K))
    pin_mask, pin_value = np.zeros((T, K), dtype=bool), np.zeros((T, K))
    for d in spec.drifts:
        first = grid.step_of(d.start) if d.start and d.start > spec.start else 0
        last = grid.step_of(d.end) if d.end and d.end < spec.horizon else T - 1
        shift[first : last + 1, _factor_index(d.factor)] += d.shift
    for s in spec.shocks:
        shock[grid.step_of(s.date), _factor_index(s.factor)] += s.size
    problems = []
    for i, p in enumerate(spec.pins):
        k = _factor_index(p.factor)
        for day, value in p.values.items():
            t = grid.step_of(day)
            if pin_mask[t, k]:
                problems.append(
                    spec.issue(
                        ("pins", i, "values", str(day)),
                        f"{day} falls in the same {spec.frequency} step (ending {grid.dates[t]}) as another "
                        f"pinned date of {p.factor}",
                        "give one value per step, or use a finer frequency",
                    )
                )
            pin_mask[t, k], pin_value[t, k] = True, value
    if problems:
        raise SpecError(problems)
    return {"shift": shift, "shock": shock, "pin_mask": pin_mask, "pin_value": pin_value}


def build_scenario(spec: ScenarioSpec) -> ScenarioModel:
    """Compile a validated spec into a :class:`ScenarioModel` on its time grid."""
    grid = TimeGrid(spec.start, spec.horizon, spec.frequency)
    tariffs = sorted(spec.tariffs, key=lambda s: s.date)
    initial = spec.initial
    z0 = None
    if initial.factors:
        z0 = np.array([float(initial.factors.get(f, 0.0)) for f in STOCHASTIC_FACTORS])
    positioning = spec.positioning
    return ScenarioModel(
        name=spec.name,
        grid=grid,
        meetings=_meetings(spec, grid),
        policy0=float(initial.policy_rate),
        tariff0=float(initial.tariff),
        tariff_steps=np.array([grid.step_of(s.date) for s in tariffs], dtype=np.intp),
        tariff_levels=np.array([float(s.level) for s in tariffs]),
        tariff_probs=np.array(
            [1.0 if s.probability is None else float(s.probability) for s in tariffs]
        ),
        z0=z0,
        short_interest_bn=None if positioning is None else positioning.short_interest_bn,
        index_levels=dict(initial.index_levels or {}),
        spec_hash=spec.spec_hash(),
        **_overlays(spec, grid),
    )
