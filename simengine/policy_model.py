"""Build the policy part's inputs from the model's parameters and a compiled scenario (pure).

Nothing here reads files: the policy part's parameters come with the model
(:class:`~simengine.parts.policy.FomcParams`, the model file's ``policy`` section).
"""

from __future__ import annotations

import numpy as np

from simengine.conditioning import Conditions
from simengine.params import ModelParams
from simengine.parts import ScenarioModel
from simengine.policy import (
    DEFAULT_GAP_MONTHS,
    MeetingPlan,
    PolicyParams,
    ReactionFunction,
    meeting_plan,
)

__all__ = ["overlay_conditions", "plan_from_scenario", "policy_params"]


def policy_params(params: ModelParams) -> PolicyParams:
    """:class:`PolicyParams` of the model: its policy part's reaction function, pass-through and
    growth channel, and each asset's announcement response (from its loading on the 2-year
    change).

    Notes
    -----
    The announcement response ``psi_a`` is set so that a 1pp surprise moves asset ``a`` by its
    event-study total ``T_a`` (the model file's ``assets.<a>.announcement_total``) on the day,
    through both the 2-year policy component and the asset's loading on the 2-year change:
    ``(beta_rates,a + psi_a)(1 + lambda wbar) = T_a``,
    ``wbar = (24 - 1.5) / 24`` (next meeting six weeks on).
    """
    fomc = params["policy"]  # model-file values, not sampled: the first draw's
    lam = float(fomc.path_pass_through[0])
    window = float(fomc.window_months[0])
    wbar = (window - DEFAULT_GAP_MONTHS) / window
    beta = params["returns"].beta
    b_rates = beta[..., params.structure.exposures.index("rates")].mean(axis=0)
    total = params["returns"].announcement_total[0]  # (N,): a model-file value, not sampled
    first, last = (int(x) for x in fomc.growth_lags[0])
    return PolicyParams(
        path_pass_through=lam,
        reaction=ReactionFunction(slopes=fomc.slopes[0].copy(), cuts=fomc.cuts[0].copy()),
        growth_gamma=float(fomc.growth_gamma[0]),
        announcement=total / (1.0 + lam * wbar) - b_rates,
        growth_lags=(first, last),
        window_months=window,
    )


def plan_from_scenario(scn: ScenarioModel) -> MeetingPlan:
    """Meetings of the scenario as a :class:`MeetingPlan` (random ones: NaN in ``fixed``)."""
    fixed = np.array([mt.outcomes_pp[0] if mt.fixed else np.nan for mt in scn.meetings])
    return meeting_plan(
        tuple(mt.day for mt in scn.meetings),
        np.array([mt.month for mt in scn.meetings], np.intp),
        np.array([mt.step for mt in scn.meetings], np.intp),
        fixed,
        np.array([mt.expected_pp for mt in scn.meetings]),
        scn.calendar,
        conditional=np.full(len(scn.meetings), scn.reading == "conditional_forecast"),
        # random: the distribution drawn from; fixed: the market's (what it expected)
        priced=tuple(
            (mt.priced_pp, mt.priced_probs) if mt.fixed else (mt.outcomes_pp, mt.probs)
            for mt in scn.meetings
        ),
        draw_mean=np.array([mt.draw_mean_pp for mt in scn.meetings]),
        level_target=_level_targets(scn),
    )


def _level_targets(scn: ScenarioModel) -> np.ndarray:
    out = np.full(len(scn.meetings), np.nan)
    for j, level in scn.policy_pins:
        out[j] = level
    return out


def overlay_conditions(scn: ScenarioModel) -> Conditions | None:
    """Pins (path values) and shocks (innovations) as conditions, for a conditional forecast."""
    if scn.reading != "conditional_forecast":
        return None
    M, K = scn.pin_mask.shape
    pins = np.argwhere(scn.pin_mask)
    shocks = np.argwhere(scn.shock != 0.0)
    pw = np.zeros((len(pins), M, K))
    pw[np.arange(len(pins)), pins[:, 0], pins[:, 1]] = 1.0
    sw = np.zeros((len(shocks), M, K))
    sw[np.arange(len(shocks)), shocks[:, 0], shocks[:, 1]] = 1.0
    labels = tuple(f"pin month {m} factor {k}" for m, k in pins) + tuple(
        f"shock month {m} factor {k}" for m, k in shocks
    )
    return Conditions(
        pw,
        scn.pin_value[pins[:, 0], pins[:, 1]] if len(pins) else np.zeros(0),
        sw,
        scn.shock[shocks[:, 0], shocks[:, 1]] if len(shocks) else np.zeros(0),
        labels,
    )
