"""Policy: FOMC decisions and market pricing (``policy: fomc``).

The scenario's decisions (fixed or with probabilities) and what the market priced become, at
each meeting of the window, an outcome distribution and an expected change; random decisions
are drawn from this part's own uniforms. The surprise of a decision is the decision minus what
was priced. The part owns the neutral rate ``n`` (``p - n`` drives the carry and the policy
gap of the factor dynamics) and, in the model file's ``policy`` section, the parameters of the
Fed's reaction and of what a surprise does (:class:`FomcSchema`; estimated by
:mod:`simengine.data.estimate_policy`, turned into :class:`simengine.policy.PolicyParams` by
:func:`simengine.policy_model.policy_params`).

A policy that reprices the expected path after surprises, or reacts to the simulated state,
keeps the interface: :meth:`Fomc.simulate` returns the policy path on steps and months; a
reactive policy is stepped by the engine month by month with the factor state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from simengine.calendar import FOMC_DECISION_DATES, TimeGrid
from simengine.parts.base import EventPaths, Part, PartParams, RunShape
from simengine.rng import Kind, Stream
from simengine.structure import ModelStructure

if TYPE_CHECKING:
    from simengine.parts.overlays import ScenarioModel
    from simengine.spec import ScenarioSpec

__all__ = [
    "STATE_NAMES",
    "Fomc",
    "FomcParams",
    "FomcSchema",
    "GrowthChannel",
    "Meeting",
    "ReactionSpec",
    "compile_meetings",
    "expected_change_pp",
    "policy_paths",
]

BP = 0.01  # one basis point in percentage points


STATE_NAMES = ("growth3", "inflation3", "credit1")
"""The reaction function's state, in the order of :class:`simengine.policy.ReactionFunction`'s
slopes: 3-month average growth and inflation factors, last month's credit change."""
_SECTION = ConfigDict(frozen=True, extra="forbid")


class ReactionSpec(BaseModel):
    """Ordered probit of the decision: latent slopes on the state before a meeting, and its
    cutpoints (between -50, -25, 0, +25 and +50bp)."""

    model_config = _SECTION

    slopes: dict[str, float]
    cutpoints: tuple[float, float, float, float]

    @field_validator("slopes")
    @classmethod
    def _slopes(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != set(STATE_NAMES):
            raise ValueError(
                f"expected slopes for exactly {list(STATE_NAMES)}, got {sorted(value)}"
            )
        return value

    @field_validator("cutpoints")
    @classmethod
    def _cuts(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if list(value) != sorted(value):
            raise ValueError(f"cutpoints must increase, got {list(value)}")
        return value


class GrowthChannel(BaseModel):
    """Growth response to the policy rate's deviation from its start level, lagged."""

    model_config = _SECTION

    measure: str
    gamma: float = Field(le=0.0, description="pp monthly growth per pp of policy (<= 0)")
    lags: tuple[int, int] = Field(description="first and last month of the lag window")

    @field_validator("lags")
    @classmethod
    def _lags(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not 1 <= value[0] <= value[1]:
            raise ValueError(f"lags must be 1 <= first <= last, got {list(value)}")
        return value


class FomcSchema(BaseModel):
    """Top-level ``neutral_rate`` (% nominal) and the ``policy`` section: the path pass-through
    ``lambda`` (the next decision's revision per pp of surprise), the window over which the
    2-year yield averages the policy path (months), the reaction function and the growth
    channel."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)  # "3.0", true: not numbers

    neutral_rate: float
    path_pass_through: float = Field(ge=-1.0, le=1.0)
    window_months: float = Field(gt=0.0)
    reaction: ReactionSpec
    growth_channel: GrowthChannel


@dataclass(frozen=True)
class FomcParams(PartParams):
    neutral: np.ndarray  # (D,) % nominal neutral rate
    path_pass_through: np.ndarray  # (D,) next decision's revision per pp of surprise
    window_months: np.ndarray  # (D,) months the 2-year yield averages the policy path over
    slopes: np.ndarray  # (D, 3) reaction slopes on STATE_NAMES
    cuts: np.ndarray  # (D, 4) ordered-probit cutpoints
    growth_gamma: np.ndarray  # (D,) pp monthly growth per pp of policy (<= 0)
    growth_lags: np.ndarray  # (D, 2) first and last lag (months) of the growth channel

    positive: ClassVar[tuple[str, ...]] = ("window_months",)


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


def expected_change_pp(pricing: Any) -> float:
    """Market-expected change at a meeting (pp) from outcome probabilities or ``expected_bp``."""
    if pricing is None:
        return 0.0
    if pricing.outcomes:
        values, probs = _outcome_arrays(pricing.outcomes)
        return float(values @ probs)
    return float(pricing.expected_bp) * BP


def _pricing_outcomes(pricing: Any) -> dict[float, float]:
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


def compile_meetings(spec: ScenarioSpec, grid: TimeGrid) -> tuple[Meeting, ...]:
    """The meetings of the window with their outcome distributions and expectations."""
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


def _one_hot(index: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((index.size, size))
    out[np.arange(index.size), index] = 1.0
    return out


def decisions(meetings: tuple[Meeting, ...], decision_u: np.ndarray) -> np.ndarray:
    """FOMC decisions (pp), shape (m or 1, n_meetings); random ones drawn from ``decision_u``."""
    m = decision_u.shape[1] if any(mt.is_random for mt in meetings) else 1
    out = np.empty((m, len(meetings)))
    for j, mt in enumerate(meetings):
        if mt.is_random:
            k = (decision_u[j][:, None] > np.cumsum(mt.probs)[None, :-1]).sum(axis=1)
            out[:, j] = mt.outcomes_pp[k]
        else:
            out[:, j] = mt.outcomes_pp[0]
    return out


def policy_paths(
    meetings: tuple[Meeting, ...],
    policy0: float,
    n_steps: int,
    n_months: int,
    decision_u: np.ndarray,
) -> EventPaths:
    """Policy rate and surprises on steps and months.

    Notes
    -----
    Policy rate at the end of step ``t``: ``p_t = p_0 + sum_{meetings j in steps <= t} d_j``;
    surprise in step ``t``: ``sum_{j in step t} (d_j - E_market[d_j])`` (pp). The same on months.
    """
    d = decisions(meetings, decision_u)
    surprise = d - np.array([mt.expected_pp for mt in meetings])
    on_steps = _one_hot(np.array([mt.step for mt in meetings], np.intp), n_steps)
    on_months = _one_hot(np.array([mt.month for mt in meetings], np.intp), n_months)
    return EventPaths(
        level_step=policy0 + np.cumsum(d @ on_steps, axis=1),
        level_month=policy0 + np.cumsum(d @ on_months, axis=1),
        start=policy0,
        surprise_step=surprise @ on_steps,
        surprise_month=surprise @ on_months,
    )


class Fomc(Part):
    """FOMC decisions as scenario inputs, priced or not by the market."""

    role = "policy"
    kind = "fomc"
    section = "policy"
    top_fields = ("neutral_rate",)
    Schema = FomcSchema

    def __init__(self, structure: ModelStructure) -> None:
        self.structure = structure

    def build(self, schema: FomcSchema, structure: ModelStructure, where: str) -> FomcParams:
        reaction, growth = schema.reaction, schema.growth_channel
        return FomcParams(
            neutral=np.array([float(schema.neutral_rate)]),
            path_pass_through=np.array([schema.path_pass_through]),
            window_months=np.array([schema.window_months]),
            slopes=np.array([[reaction.slopes[k] for k in STATE_NAMES]]),
            cuts=np.array([reaction.cutpoints]),
            growth_gamma=np.array([growth.gamma]),
            growth_lags=np.array([growth.lags], dtype=float),
        )

    def streams(self, shape: RunShape, params: FomcParams) -> tuple[Stream, ...]:
        return (Stream("decision_u", Kind.DECISION, "uniform_events", (shape.n_meetings,)),)

    def simulate(self, scn: ScenarioModel, draws: Any, p: FomcParams) -> EventPaths:
        """The policy path with its neutral rate (``p``: per-path parameters)."""
        u = draws["decision_u"][: len(scn.meetings)]
        return replace(scn.policy_paths(u), neutral=p.neutral)
