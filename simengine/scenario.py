"""Scenario overlays: a validated spec becomes dated arrays on the time grid.

This module turns the words of a scenario (FOMC decisions, market pricing, tariff steps, drifts,
shocks, pins) into arrays; :mod:`simengine.factors` and :mod:`simengine.assets` turn those into
paths. Nothing here draws random numbers: random decisions and tariff events are resolved from
uniforms drawn in :mod:`simengine.rng`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from simengine.calendar import FOMC_DECISION_DATES, TimeGrid
from simengine.exceptions import SpecError
from simengine.spec.fields import LEVEL_PINS
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
    month: int
    outcomes_pp: np.ndarray  # (k,)
    probs: np.ndarray  # (k,)
    expected_pp: float
    fixed: bool = False  # decided by the scenario (not drawn)
    priced_pp: np.ndarray | None = None  # the market's outcome distribution (hold if unpriced)
    priced_probs: np.ndarray | None = None

    @property
    def draw_mean_pp(self) -> float:
        """Mean of the distribution a random decision is drawn from (pp)."""
        return float(self.outcomes_pp @ self.probs)

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
        market = _outcome_arrays(_pricing_outcomes(priced) if priced is not None else {0: 1.0})
        on = market[1] > 0
        out.append(
            Meeting(
                day,
                grid.step_of(day),
                grid.month_of(day),
                values[keep],
                probs[keep],
                expected_change_pp(priced),
                fixed=decision is not None and decision.change_bp is not None,
                priced_pp=market[0][on],
                priced_probs=market[1][on],
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class EventPaths:
    """A policy or tariff path on both time axes: steps (returns) and months (factors).

    ``level_*`` is the level at the end of each step / month (%); ``surprise_*`` the policy
    surprise in it (pp; zero for tariffs); ``change_*`` the change in the level over it.
    """

    level_step: np.ndarray  # (m or 1, T)
    level_month: np.ndarray  # (m or 1, M)
    start: float
    surprise_step: np.ndarray | None = None
    surprise_month: np.ndarray | None = None

    @property
    def change_step(self) -> np.ndarray:
        return np.diff(self.level_step, axis=1, prepend=self.start)

    @property
    def change_month(self) -> np.ndarray:
        return np.diff(self.level_month, axis=1, prepend=self.start)

    @property
    def before_step(self) -> np.ndarray:
        """Level at the start of each step (``p_{t-1}``)."""
        return np.concatenate(
            [np.full((self.level_step.shape[0], 1), self.start), self.level_step[:, :-1]], axis=1
        )

    @property
    def before_month(self) -> np.ndarray:
        """Level at the start of each month (the end of the previous one)."""
        return np.concatenate(
            [np.full((self.level_month.shape[0], 1), self.start), self.level_month[:, :-1]], axis=1
        )


def _one_hot(index: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((index.size, size))
    out[np.arange(index.size), index] = 1.0
    return out


@dataclass(frozen=True)
class ScenarioModel:
    """A scenario on a grid, ready to simulate.

    Two time axes: the *steps* of the grid, on which returns are computed, and the calendar
    *months* the window touches, on which the (monthly) factor VAR evolves. Meetings and tariff
    steps are placed on both; drifts, shocks and pins act on months.

    Notes
    -----
    Policy rate at the end of step ``t``: ``p_t = p_0 + sum_{meetings j in steps <= t} d_j``;
    surprise in step ``t``: ``sum_{j in step t} (d_j - E_market[d_j])`` (pp). Tariff level: the
    last tariff step (whose random draw succeeded) at or before ``t``. The same on months.
    """

    name: str
    grid: TimeGrid
    meetings: tuple[Meeting, ...]
    policy0: float
    tariff0: float
    tariff_steps: np.ndarray  # (E,) int step index
    tariff_months: np.ndarray  # (E,) int month index
    tariff_levels: np.ndarray  # (E,)
    tariff_probs: np.ndarray  # (E,)
    shift: np.ndarray  # (M, K) mean shift of each factor
    shock: np.ndarray  # (M, K)
    pin_mask: np.ndarray  # (M, K) bool
    pin_value: np.ndarray  # (M, K)
    z0: np.ndarray | None  # (K,) or None = unconditional mean
    short_interest_bn: float | None
    spec_hash: str = ""
    reading: str = "structural_shock"  # or "conditional_forecast" (see simengine.policy_paths)
    calendar: tuple[date, ...] = FOMC_DECISION_DATES
    yield_2y0: float | None = None  # 2-year yield on the start date (%)
    yield_2y_pins: tuple[tuple[int, float], ...] = ()  # (month, level %)
    policy_pins: tuple[tuple[int, float], ...] = ()  # (meeting index, level % after it)

    @property
    def n_steps(self) -> int:
        return self.grid.n_steps

    @property
    def n_months(self) -> int:
        return int(self.grid.months.size)

    @property
    def random_tariff_events(self) -> np.ndarray:
        """Indices of tariff steps that happen only with some probability."""
        return np.flatnonzero(self.tariff_probs < 1.0)

    def decisions(self, decision_u: np.ndarray) -> np.ndarray:
        """FOMC decisions (pp), shape (m or 1, n_meetings); random ones drawn from ``decision_u``."""
        m = decision_u.shape[1] if any(mt.is_random for mt in self.meetings) else 1
        out = np.empty((m, len(self.meetings)))
        for j, mt in enumerate(self.meetings):
            if mt.is_random:
                k = (decision_u[j][:, None] > np.cumsum(mt.probs)[None, :-1]).sum(axis=1)
                out[:, j] = mt.outcomes_pp[k]
            else:
                out[:, j] = mt.outcomes_pp[0]
        return out

    def policy_paths(self, decision_u: np.ndarray) -> EventPaths:
        """Policy rate and surprises on steps and months.

        Parameters
        ----------
        decision_u : ndarray (n_meetings, m)
            Uniforms, one per meeting and path (used where the decision is random).
        """
        d = self.decisions(decision_u)
        surprise = d - np.array([mt.expected_pp for mt in self.meetings])
        on_steps = _one_hot(np.array([mt.step for mt in self.meetings], np.intp), self.n_steps)
        on_months = _one_hot(np.array([mt.month for mt in self.meetings], np.intp), self.n_months)
        return EventPaths(
            level_step=self.policy0 + np.cumsum(d @ on_steps, axis=1),
            level_month=self.policy0 + np.cumsum(d @ on_months, axis=1),
            start=self.policy0,
            surprise_step=surprise @ on_steps,
            surprise_month=surprise @ on_months,
        )

    def tariff_paths(self, tariff_u: np.ndarray) -> EventPaths:
        """Tariff level (%) at the end of each step and month.

        ``tariff_u`` (E_random, m) holds one uniform per random tariff event and path.
        """
        after = self._tariff_after_events(tariff_u)  # (m|1, E + 1): column 0 = before any event
        return EventPaths(
            level_step=after[:, _last_event(self.tariff_steps, self.n_steps) + 1],
            level_month=after[:, _last_event(self.tariff_months, self.n_months) + 1],
            start=self.tariff0,
        )

    def _tariff_after_events(self, tariff_u: np.ndarray) -> np.ndarray:
        """Level after each tariff event (in date order), with the starting level first."""
        random_idx = {e: i for i, e in enumerate(self.random_tariff_events)}
        m = tariff_u.shape[1] if random_idx else 1
        level = np.full(m, self.tariff0)
        cols = [level]
        for e in range(self.tariff_levels.size):
            if e in random_idx:
                happens = tariff_u[random_idx[e]] < self.tariff_probs[e]
                level = np.where(happens, self.tariff_levels[e], level)
            else:
                level = np.full(m, self.tariff_levels[e])
            cols.append(level)
        return np.stack(cols, axis=1)


def _last_event(event_index: np.ndarray, size: int) -> np.ndarray:
    """For each period, the index of the last event (in date order) at or before it, -1 if none."""
    return np.searchsorted(event_index, np.arange(size), side="right") - 1


def _factor_index(name: str) -> int:
    return STOCHASTIC_FACTORS.index(name)


def _overlays(spec: ScenarioSpec, grid: TimeGrid) -> dict[str, np.ndarray]:
    """Drifts, shocks and pins on the month axis of the factors, shape (M, K)."""
    M, K = grid.months.size, len(STOCHASTIC_FACTORS)
    shift, shock = np.zeros((M, K)), np.zeros((M, K))
    pin_mask, pin_value = np.zeros((M, K), dtype=bool), np.zeros((M, K))
    for d in spec.drifts:
        first = grid.month_of(d.start) if d.start and d.start > spec.start else 0
        last = grid.month_of(d.end) if d.end and d.end < spec.horizon else M - 1
        shift[first : last + 1, _factor_index(d.factor)] += d.shift
    for s in spec.shocks:
        shock[grid.month_of(s.date), _factor_index(s.factor)] += s.size
    problems = []
    for i, p in enumerate(spec.pins):
        if p.factor in LEVEL_PINS:
            continue  # levels: see _level_pins
        k = _factor_index(p.factor)
        for day, value in p.values.items():
            t = grid.month_of(day)
            if pin_mask[t, k]:
                problems.append(
                    spec.issue(
                        ("pins", i, "values", str(day)),
                        f"{day} falls in the same month ({grid.months[t]}) as another pinned date of "
                        f"{p.factor}; factors are monthly (their values are per month)",
                        "give one value per month",
                    )
                )
            pin_mask[t, k], pin_value[t, k] = True, value
    if problems:
        raise SpecError(problems)
    return {"shift": shift, "shock": shock, "pin_mask": pin_mask, "pin_value": pin_value}


@dataclass(frozen=True)
class _Step:
    date: date
    level: float
    probability: float | None = None


def _level_pins(spec: ScenarioSpec, grid: TimeGrid, meetings: tuple[Meeting, ...]) -> dict:
    """Pins in levels: tariff steps, policy-rate levels at meetings, 2-year levels by month.

    A policy-rate level applies at the last meeting on or before its date; a tariff level is a
    step on its date (replacing a step on the same date); a 2-year level is the yield at the
    end of the month containing the date.
    """
    tariff_pins = {d: v for p in spec.pins if p.factor == "tariff" for d, v in p.values.items()}
    steps = {s.date: s for s in spec.tariffs} | {d: _Step(d, v) for d, v in tariff_pins.items()}
    policy, y2 = [], []
    for p in spec.pins:
        for day, v in sorted(p.values.items()):
            if p.factor == "policy_rate":
                j = max(i for i, mt in enumerate(meetings) if mt.day <= day)
                policy.append((j, float(v)))
            elif p.factor == "yield_2y":
                y2.append((grid.month_of(day), float(v)))
    return {
        "tariffs": sorted(steps.values(), key=lambda s: s.date),
        "policy_pins": tuple(policy),
        "yield_2y_pins": tuple(y2),
    }


def build_scenario(spec: ScenarioSpec) -> ScenarioModel:
    """Compile a validated spec into a :class:`ScenarioModel` on its time grid."""
    grid = TimeGrid(spec.start, spec.horizon, spec.frequency)
    meetings = _meetings(spec, grid)
    levels = _level_pins(spec, grid, meetings)
    tariffs = levels["tariffs"]
    initial = spec.initial
    z0 = None
    if initial.factors:
        z0 = np.array([float(initial.factors.get(f, 0.0)) for f in STOCHASTIC_FACTORS])
    positioning = spec.positioning
    return ScenarioModel(
        name=spec.name,
        grid=grid,
        meetings=meetings,
        policy0=float(initial.policy_rate),
        tariff0=float(initial.tariff),
        tariff_steps=np.array([grid.step_of(s.date) for s in tariffs], dtype=np.intp),
        tariff_months=np.array([grid.month_of(s.date) for s in tariffs], dtype=np.intp),
        tariff_levels=np.array([float(s.level) for s in tariffs]),
        tariff_probs=np.array(
            [1.0 if s.probability is None else float(s.probability) for s in tariffs]
        ),
        z0=z0,
        short_interest_bn=None if positioning is None else positioning.short_interest_bn,
        spec_hash=spec.spec_hash(),
        reading=spec.reading,
        calendar=tuple(spec.calendar),
        yield_2y0=initial.yield_2y,
        yield_2y_pins=levels["yield_2y_pins"],
        policy_pins=levels["policy_pins"],
        **_overlays(spec, grid),
    )
