"""Scenario overlays: a validated spec becomes dated arrays on the time grid (``overlays: scenario``).

This module turns the words of a scenario (tariff steps, drifts, shocks, pins, the start
state, positioning; FOMC decisions and pricing through :mod:`simengine.parts.policy`) into a
:class:`ScenarioModel`; the other parts turn that into paths. Random tariff events are resolved
from this part's own uniforms (stream ``TARIFF``).

Conditioning overlays (e.g. Waggoner-Zha conditional forecasts, which constrain the factor
shocks so that a factor follows a path in expectation) fit here: they compile the condition
into arrays of the :class:`ScenarioModel` that the factor dynamics read, as pins do today.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from simengine.calendar import FOMC_DECISION_DATES, TimeGrid
from simengine.exceptions import SpecError
from simengine.parts.base import EventPaths, Part, RunShape
from simengine.parts.policy import Meeting, compile_meetings, decisions, policy_paths
from simengine.rng import Kind, Stream
from simengine.spec.fields import LEVEL_PINS
from simengine.structure import ModelStructure

if TYPE_CHECKING:
    from simengine.spec import ScenarioSpec

__all__ = ["EventPaths", "Meeting", "Overlays", "ScenarioModel", "build_scenario"]


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
    last tariff step (whose random draw succeeded) at or before ``t``; tariff surprise: the
    change of that level less the change of the level of the announced steps alone (what was
    known, and priced, on the start date). The same on months.
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
    states: dict[str, float] = field(default_factory=dict)  # start-date states of the parts
    tariff_announced: np.ndarray | None = None  # (E,) bool: known before the start, priced
    squeeze: bool = False  # simulate squeeze jumps (positioning.squeeze)
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
        return decisions(self.meetings, decision_u)

    def policy_paths(self, decision_u: np.ndarray) -> EventPaths:
        """Policy rate and surprises on steps and months.

        Parameters
        ----------
        decision_u : ndarray (n_meetings, m)
            Uniforms, one per meeting and path (used where the decision is random).
        """
        return policy_paths(self.meetings, self.policy0, self.n_steps, self.n_months, decision_u)

    def tariff_paths(self, tariff_u: np.ndarray) -> EventPaths:
        """Tariff level (%) at the end of each step and month.

        ``tariff_u`` (E_random, m) holds one uniform per random tariff event and path.
        """
        after = self._tariff_after_events(tariff_u)  # (m|1, E + 1): column 0 = before any event
        known = self._tariff_after_events(tariff_u, announced_only=True)
        steps = _last_event(self.tariff_steps, self.n_steps) + 1
        months = _last_event(self.tariff_months, self.n_months) + 1
        return EventPaths(
            level_step=after[:, steps],
            level_month=after[:, months],
            start=self.tariff0,
            surprise_step=_surprise(after[:, steps], known[:, steps], self.tariff0),
            surprise_month=_surprise(after[:, months], known[:, months], self.tariff0),
        )

    def _tariff_after_events(
        self, tariff_u: np.ndarray, announced_only: bool = False
    ) -> np.ndarray:
        """Level after each tariff event (in date order), with the starting level first.

        ``announced_only``: the path of the announced steps alone (the others do not happen).
        """
        random_idx = {e: i for i, e in enumerate(self.random_tariff_events)}
        announced = self.tariff_announced
        m = tariff_u.shape[1] if random_idx else 1
        level = np.full(m, self.tariff0)
        cols = [level]
        for e in range(self.tariff_levels.size):
            if announced_only and (announced is None or not announced[e]):
                pass  # an unannounced step is not in the known path
            elif e in random_idx:
                happens = tariff_u[random_idx[e]] < self.tariff_probs[e]
                level = np.where(happens, self.tariff_levels[e], level)
            else:
                level = np.full(m, self.tariff_levels[e])
            cols.append(level)
        return np.stack(cols, axis=1)


def _surprise(level: np.ndarray, known: np.ndarray, start: float) -> np.ndarray:
    """Change of ``level`` less the change of ``known`` in each period (pp)."""
    m = max(level.shape[0], known.shape[0])
    d_level = np.diff(level, axis=1, prepend=start)
    d_known = np.diff(known, axis=1, prepend=start)
    return np.broadcast_to(d_level - d_known, (m, level.shape[1]))


def _last_event(event_index: np.ndarray, size: int) -> np.ndarray:
    """For each period, the index of the last event (in date order) at or before it, -1 if none."""
    return np.searchsorted(event_index, np.arange(size), side="right") - 1


def _overlays(
    spec: ScenarioSpec, grid: TimeGrid, factors: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Drifts, shocks and pins on the month axis of the factors, shape (M, K)."""
    M, K = grid.months.size, len(factors)
    _factor_index = factors.index
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
    announced: bool = False  # a tariff pin is a surprise (not priced at the start)


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


def build_scenario(spec: ScenarioSpec, structure: ModelStructure) -> ScenarioModel:
    """Compile a validated spec into a :class:`ScenarioModel` on its time grid.

    ``structure`` gives the order of the stochastic factors (the columns of the overlays).
    """
    grid = TimeGrid(spec.start, spec.horizon, spec.frequency)
    meetings = compile_meetings(spec, grid)
    levels = _level_pins(spec, grid, meetings)
    tariffs = levels["tariffs"]
    initial = spec.initial
    z0 = None
    if initial.factors:
        z0 = np.array([float(initial.factors.get(f, 0.0)) for f in structure.stochastic])
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
        states=initial.states,
        tariff_announced=np.array([bool(s.announced) for s in tariffs], dtype=bool),
        squeeze=bool(positioning is not None and positioning.squeeze),
        reading=spec.reading,
        calendar=tuple(spec.calendar),
        yield_2y0=initial.yield_2y,
        yield_2y_pins=levels["yield_2y_pins"],
        policy_pins=levels["policy_pins"],
        **_overlays(spec, grid, structure.stochastic),
    )


class Overlays(Part):
    """The scenario's tariff path and factor overlays; no parameters of its own."""

    role = "overlays"
    kind = "scenario"

    def __init__(self, structure: ModelStructure) -> None:
        self.structure = structure

    def streams(self, shape: RunShape, params: None) -> tuple[Stream, ...]:
        return (Stream("tariff_u", Kind.TARIFF, "uniform_events", (shape.n_tariff_events,)),)

    def tariff(self, scn: ScenarioModel, draws: Any) -> EventPaths:
        """Tariff level on steps and months."""
        return scn.tariff_paths(draws["tariff_u"][: scn.random_tariff_events.size])
