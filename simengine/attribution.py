"""Attribution of a comparison's mean difference to the model's channels (common random numbers).

The difference between two scenarios (``scenario - reference``, terminal cumulative return per
series) is split by switching the channels off one at a time, cumulatively, in the order of
:data:`CHANNEL_ORDER`, re-simulating both scenarios on the same random numbers each time:

    D_0 = full model,   D_i = D with channels 1..i off,
    contribution_i = D_{i-1} - D_i,   residual = D_n (with every channel off).

The contributions and the residual telescope to ``D_0`` exactly (up to float rounding, far
below 1e-9), and ``D_0`` is the comparison's own mean difference (same estimator, same draws).
The model is not linear (returns compound, decisions react to the state), so a channel's share
depends on the order; the residual holds what no listed channel carries (the policy gap's
effect on rates and inflation, VAR cross-effects) and the interactions left after the last
switch. Switching a channel off sets its parameter to zero in *both* scenarios.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from simengine import stats
from simengine.params import ModelParams
from simengine.parts import ScenarioModel
from simengine.policy import PolicyParams
from simengine.simulate import RunConfig, run_scenarios
from simengine.statistics import Accumulators
from simengine.statistics.differences import pooled_moments

__all__ = [
    "CHANNELS",
    "Runner",
    "CHANNEL_ORDER",
    "attribute",
    "jump_means",
    "mean_differences",
    "switch_off",
    "terminal_means",
]

Runner = Callable[..., list[Accumulators]]
"""``runner(scenarios, params, cfg, policy=policy)``: :func:`simengine.simulate.run_scenarios`,
or the same on a cluster (:func:`simengine.cluster.run_on_cluster` with its scheduler)."""

CHANNEL_ORDER: tuple[str, ...] = (
    "announcement",
    "repricing",
    "carry",
    "growth",
    "credit",
    "tariff",
    "volatility",
    "jumps",
)
CHANNELS: tuple[str, ...] = (*CHANNEL_ORDER, "residual")

CHANNEL_DOC: dict[str, str] = {
    "announcement": "the policy surprise at each meeting: its move of the 2-year yield and the "
    "event-study response of the assets on the day",
    "repricing": "the market repricing the next meeting after a surprise (path pass-through), "
    "and the 2-year and asset response to it",
    "carry": "the drift lost per pp of policy rate above neutral (floating-rate debt)",
    "growth": "the growth factor: the estimated lagged effect of the policy rate on growth and "
    "the assets' loading on growth (so growth drifts and conditioned data land here too)",
    "credit": "the assets' loading on credit-spread changes",
    "tariff": "tariff pass-through to the factors and the assets' tariff loading",
    "volatility": "residual volatility of the assets (acts on a difference only through "
    "compounding)",
    "jumps": "short-squeeze jumps",
    "residual": "what remains with every channel off: the policy gap's effect on rates and "
    "inflation, VAR cross-effects, interactions",
}


def _exposure(params: ModelParams, name: str) -> np.ndarray:
    beta = params["returns"].beta.copy()
    beta[..., params.structure.exposures.index(name)] = 0.0
    return beta


def _with(params: ModelParams, role: str, **fields: np.ndarray) -> ModelParams:
    """``params`` with fields of one part's parameters replaced."""
    return replace(params, values={**params.values, role: replace(params[role], **fields)})


def switch_off(
    channel: str, params: ModelParams, policy: PolicyParams
) -> tuple[ModelParams, PolicyParams]:
    """``(params, policy)`` with ``channel`` switched off (see :data:`CHANNEL_DOC`)."""
    if channel in ("announcement", "repricing"):
        return params, policy.without(channel)
    if channel == "growth":
        return _with(params, "returns", beta=_exposure(params, "growth")), policy.without(channel)
    zero = np.zeros_like
    if channel == "carry":
        return _with(params, "returns", kappa=zero(params["returns"].kappa)), policy
    if channel == "credit":
        return _with(params, "returns", beta=_exposure(params, "credit")), policy
    if channel == "tariff":
        params = _with(params, "returns", beta=_exposure(params, "tariff"))
        return _with(params, "dynamics", m=zero(params["dynamics"].m)), policy
    if channel == "volatility":
        return _with(params, "residuals", sigma=zero(params["residuals"].sigma)), policy
    if channel == "jumps":
        return _with(params, "jumps", base_intensity=zero(params["jumps"].base_intensity)), policy
    raise ValueError(f"unknown channel {channel!r}; expected one of {CHANNEL_ORDER}")


def mean_differences(accs: Sequence[Accumulators]) -> np.ndarray:
    """Mean terminal difference ``scenario - reference`` per scenario and series (sc-1, S).

    The estimator of :meth:`simengine.results.Comparison.difference_summary` (per-block
    moments pooled in block order: exact for any chunking).
    """
    rest = accs[1:]
    count, mean, m2 = (
        np.stack([a.variable(name) for a in rest])
        for name in ("diff_block_n", "diff_block_mean", "diff_block_m2")
    )
    n = np.array([a.n for a in rest], np.float64)[:, None]
    return pooled_moments(count, mean, m2, n)[0]


def attribute(
    scenarios: Sequence[ScenarioModel],
    params: ModelParams,
    cfg: RunConfig,
    policy: PolicyParams,
    full: Sequence | None = None,
    runner: Runner = run_scenarios,
) -> tuple[np.ndarray, np.ndarray]:
    """Channel contributions to the mean difference of each scenario from the first.

    Parameters
    ----------
    scenarios, params, cfg, policy
        As for :func:`simengine.simulate.run_scenarios`.
    full : sequence of Accumulators, optional
        The accumulators of the full-model run, if already simulated (saves one run).
    runner : callable
        Runs the re-simulations where the run itself ran (:data:`Runner`).

    Returns
    -------
    contributions : ndarray (sc-1, S, len(CHANNELS))
        Mean contribution of each channel of :data:`CHANNELS` (the last is the residual).
    total : ndarray (sc-1, S)
        The mean difference ``D_0``; ``contributions.sum(-1)`` equals it.
    """
    quiet = replace(cfg, n_sample=0)
    accs = full if full is not None else runner(scenarios, params, quiet, policy=policy)
    levels = [mean_differences(accs)]
    for channel in CHANNEL_ORDER:
        params, policy = switch_off(channel, params, policy)
        levels.append(mean_differences(runner(scenarios, params, quiet, policy=policy)))
    d = np.stack(levels, axis=-1)  # (sc-1, S, n+1)
    contributions = np.concatenate([d[..., :-1] - d[..., 1:], d[..., -1:]], axis=-1)
    return contributions, d[..., 0]


def terminal_means(accs: Sequence[Accumulators]) -> np.ndarray:
    """Mean cumulative return at the horizon per scenario and series, (sc, S): the exact
    quantised sums of :class:`simengine.statistics.moments.Moments` over the path count."""
    return np.stack([a.variable("sum")[:, -1] / float(2**stats.Q_SUM) / a.n for a in accs])


def jump_means(
    scenarios: Sequence[ScenarioModel],
    params: ModelParams,
    cfg: RunConfig,
    policy: PolicyParams,
    full: Sequence[Accumulators],
    runner: Runner = run_scenarios,
) -> np.ndarray:
    """How much of each scenario's mean return comes from its squeeze jumps, (sc, S).

    ``mean(full model) - mean(jumps off)`` on the same random numbers, for the scenarios that
    simulate jumps (``positioning.squeeze: true``); 0 for the others. ``full`` holds the
    accumulators of the full run, one per scenario; ``runner`` runs the re-simulation
    (:data:`Runner`).

    Notes
    -----
    The jumps are compensated (each step subtracts ``lambda E[J] dt``), so their contribution
    to the mean *log* return is 0 up to Monte Carlo noise; in simple returns they add what a
    right tail adds through compounding, ``E[exp(J)] - exp(E[J]) > 0`` per jump.
    """
    out = np.zeros((len(scenarios), len(params.structure.series)))
    jumping = [i for i, scn in enumerate(scenarios) if scn.squeeze]
    if not jumping or "jumps" not in params.values:
        return out
    quiet = replace(cfg, n_sample=0)
    off, policy = switch_off("jumps", params, policy)
    without = runner([scenarios[i] for i in jumping], off, quiet, policy=policy)
    out[jumping] = terminal_means([full[i] for i in jumping]) - terminal_means(without)
    return out
