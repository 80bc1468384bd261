"""Factor dynamics: propagate the monthly VAR(1) of the stochastic factors (pure).

The factors evolve on calendar months, the frequency their parameters were fitted at, whatever
the grid of the returns: a weekly or daily grid takes each month's factor flow in proportion to
the days of the month each step covers (:meth:`simengine.calendar.TimeGrid.month_weights`).
Shocks come in already drawn (:mod:`simengine.rng`); this module only does arithmetic, so a
simulation can be replayed exactly from fixed draws.
"""

from __future__ import annotations

import numpy as np

from simengine.params import ModelParams
from simengine.scenario import EventPaths, ScenarioModel

__all__ = ["PathParams", "exogenous_terms", "propagate", "unconditional_mean"]

_PER_PATH = (
    "neutral s m mu kappa beta sigma surprise_beta chol_a squeeze_loading A c chol g "
    "base_intensity normal_si elasticity jump_mean jump_sd"
).split()


class PathParams:
    """Parameters gathered for a set of paths: arrays with leading axis 1 (shared) or m (per path).

    Point parameters keep a leading axis of 1 and broadcast; with posterior draws each path takes
    the draw ``param_draw[i]``. ``dt`` (T,) is the length of each grid step in years.
    """

    def __init__(self, params: ModelParams, dt: np.ndarray, param_draw: np.ndarray | None) -> None:
        for name in _PER_PATH:
            value = getattr(params, name)
            setattr(self, name, value if param_draw is None else value[param_draw])
        self.dt = dt


def unconditional_mean(A: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``(I - A)^{-1} c`` for stacks of monthly VAR parameters (the start state when none is given)."""
    eye = np.eye(A.shape[-1])
    return np.linalg.solve(eye - A, c[..., None])[..., 0]


def exogenous_terms(
    scn: ScenarioModel, pp: PathParams, policy: EventPaths, tariff: EventPaths
) -> np.ndarray:
    """Deterministic and scenario inputs to the factor equations, ``b_m`` of :func:`propagate`.

    Notes
    -----
    ``b_m = c + g (p_{m-1} - n) + s surprise_m + m dtau_m + (I - A) shift_m + shock_m`` for each
    month ``m``, with ``p_{m-1}`` the policy rate at the end of the previous month. The shift
    term moves the factor's stationary mean by ``shift`` and leaves the others alone.

    Returns
    -------
    ndarray (m or 1, M, K)
    """
    gap = policy.before_month - pp.neutral[:, None]  # (m|1, M)
    eye = np.eye(pp.A.shape[-1])
    shift = np.einsum("dij,tj->dti", eye - pp.A, scn.shift)  # (D|m, M, K)
    return (
        pp.c[:, None, :]
        + pp.g[:, None, :] * gap[..., None]
        + pp.s[:, None, :] * policy.surprise_month[..., None]
        + pp.m[:, None, :] * tariff.change_month[..., None]
        + shift
        + scn.shock[None]
    )


def propagate(
    z0: np.ndarray, shocks: np.ndarray, exog: np.ndarray, pp: PathParams, scn: ScenarioModel
) -> np.ndarray:
    """Run the monthly VAR(1) forward.

    Parameters
    ----------
    z0 : ndarray (m or 1, K)
        State before the first month (the last observed month's values).
    shocks : ndarray (m, M, K)
        Unit-variance innovations (normal or Student-t).
    exog : ndarray (m or 1, M, K)
        :func:`exogenous_terms`.
    pp : PathParams
        Parameters (monthly).
    scn : ScenarioModel
        For pins.

    Returns
    -------
    ndarray (m, M, K)
        Factor values ``z_m`` of each month.

    Notes
    -----
    ``z_m = A z_{m-1} + b_m + chol eps_m``; where a pin is set, ``z_m[k]`` is replaced by the
    pinned value (and the pinned value feeds month ``m + 1``).
    """
    m, M, K = shocks.shape
    if pp.chol.shape[0] == 1:
        u = shocks @ pp.chol[0].T
    else:
        u = np.einsum("mtj,mij->mti", shocks, pp.chol)
    u += exog  # the drive b_m + chol eps_m, in place
    z = np.empty((m, M, K))
    prev = np.broadcast_to(z0, (m, K))
    for t in range(M):
        step = prev @ pp.A[0].T if pp.A.shape[0] == 1 else np.einsum("mij,mj->mi", pp.A, prev)
        np.add(step, u[:, t], out=z[:, t])
        if scn.pin_mask[t].any():
            k = scn.pin_mask[t]
            z[:, t, k] = scn.pin_value[t, k]
        prev = z[:, t]
    return z
