"""The fused kernel's inputs, gathered from the model's parts (numpy, once per chunk).

:func:`kernel_log_returns` is what the engine calls after the policy part and the factor loop:
it asks each part for the arrays its equation needs, per posterior draw (``(D, ...)``, read
through each path's draw index inside :mod:`simengine.kernel`) where the numpy route gathers
them per path, and returns ``None`` when a part has no kernel form (a kind other than
``var1`` / ``factor_loadings`` / ``factor_news`` / ``student_t`` / ``vol_state``, or posterior
draws with a contraction length outside :data:`simengine.kernel.LANE_LENGTHS`): then the
engine takes the numpy route.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from simengine.parts.base import EventPaths
from simengine.parts.dynamics import Var1, drift_offsets
from simengine.parts.residuals import StudentT
from simengine.parts.returns import FactorLoadings, FactorNews
from simengine.parts.vol_state import VolState

__all__ = ["chunk_supported", "kernel_log_returns", "supported"]


def supported(params: Any) -> bool:
    """Whether the kernel covers the model's parts (else the engine uses numpy)."""
    parts = params.parts
    if type(parts["returns"]) not in (FactorLoadings, FactorNews):
        return False
    if type(parts["residuals"]) not in (StudentT, VolState):
        return False
    if getattr(parts["returns"], "loads_on_news", False) and type(parts["dynamics"]) is not Var1:
        return False
    if params.n_draws > 1:  # per-path contractions: numpy's einsum order
        from simengine.kernel import LANE_LENGTHS

        structure = params.structure
        return len(structure.stochastic) in LANE_LENGTHS and len(structure.assets) in LANE_LENGTHS
    return True


def chunk_supported(n_paths: int, n_months: int, n_steps: int, n_assets: int) -> bool:
    """Whether the kernel's sum orders are the reference's for a chunk of this shape.

    With a unit axis (one path, month, step or asset) numpy's matmul becomes a ``gemv`` or
    einsum takes another loop, whose orders the kernel does not copy: such chunks use numpy.
    """
    return min(n_paths, n_months, n_steps, n_assets) > 1


def _news_inputs(
    dyn_part: Var1, scn: Any, values: Any, pp: Any, policy: EventPaths, tariff: EventPaths
) -> tuple:
    """The arguments of :func:`simengine.kernel._news` (see :meth:`Var1.news`)."""
    stochastic = dyn_part.structure.stochastic
    k_r = -1
    surprise_m = np.zeros((1, 1))
    if policy.surprise_month is not None and "rates" in stochastic:
        k_r = stochastic.index("rates")
        surprise_m = np.ascontiguousarray(policy.surprise_month, dtype=float)
    k_g = stochastic.index("growth") if "growth" in stochastic else -1
    priced = tariff.change_month
    if tariff.surprise_month is not None:
        priced = priced - tariff.surprise_month
    return (
        np.ascontiguousarray(dyn_part.start(scn, values), dtype=float),
        np.ascontiguousarray(values.A),
        np.ascontiguousarray(values.c),
        np.ascontiguousarray(values.g),
        np.ascontiguousarray(values.m),
        np.ascontiguousarray(values.rho),
        np.ascontiguousarray(dyn_part.levels(scn, values), dtype=float),
        bool(np.any(pp.rho)),
        surprise_m,
        k_r,
        np.ascontiguousarray(policy.gap_month, dtype=float),
        k_g,
        np.ascontiguousarray(np.atleast_2d(priced), dtype=float),
        _drift_offsets(values.A, scn.shift),
    )


def _drift_offsets(A: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """:func:`simengine.parts.dynamics.drift_offsets` (D, M, K), or (1, 0, K) without drifts
    (the kernels then add nothing)."""
    if not np.any(shift):
        return np.zeros((1, 0, A.shape[-1]))
    return np.ascontiguousarray(drift_offsets(A, shift))


def _returns_inputs(
    part: FactorLoadings,
    values: Any,
    pp: Any,
    dt: np.ndarray,
    announcement: np.ndarray,
    policy,
    tariff,
) -> dict:
    """Per-draw loadings and carry, per-path policy terms (:meth:`FactorLoadings.simulate`)."""
    shock = part.tariff_shock(dt, pp, tariff)
    return {
        "mu": np.ascontiguousarray(values.mu),
        "kappa": np.ascontiguousarray(values.kappa),
        "bz": np.ascontiguousarray(values.beta[..., part.z_columns]),
        "beta_tariff": np.ascontiguousarray(values.beta[..., part.tariff_column]),
        "announcement": np.ascontiguousarray(announcement, dtype=float),
        "gap_step": np.ascontiguousarray(policy.gap_step, dtype=float),
        "surprise_step": np.ascontiguousarray(np.atleast_2d(policy.surprise_step), dtype=float),
        "tariff": np.zeros((0, dt.size))
        if shock is None
        else np.ascontiguousarray(np.atleast_2d(shock), dtype=float),
        "dt": np.ascontiguousarray(dt, dtype=float),
    }


def _residual_inputs(part: StudentT, scn: Any, draws: Any, values: Any) -> dict:
    """Per-draw residual scales (:meth:`StudentT.add`, :meth:`VolState.add`).

    Student-t: ``v = 1``, ``L = 1`` (``sigma sqrt(1 dt 1) = sigma sqrt(dt)`` exactly).
    """
    n_assets, n_months = values.sigma.shape[1], scn.n_months
    ratio, level = np.ones((1, n_months, n_assets)), np.ones(1)
    if isinstance(part, VolState):
        ratio = np.ascontiguousarray(part.asset_ratios(scn, values), dtype=float)
        mixing = SimpleNamespace(mixing_sd=values.mixing_sd[draws.param_draw])
        level = np.ascontiguousarray(np.reshape(part.level(scn, draws, mixing), -1), dtype=float)
    return {
        "eps": draws["asset"],
        "chol": np.ascontiguousarray(values.chol),
        "sigma": np.ascontiguousarray(values.sigma),
        "ratio": ratio,
        "step_month": np.ascontiguousarray(scn.grid.step_month, dtype=np.int64),
        "level": level,
    }


def kernel_log_returns(
    engine: Any,
    scn: Any,
    draws: Any,
    pp: Any,
    policy: EventPaths,
    tariff: EventPaths,
    z: np.ndarray,
    n_series: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative log returns (S, T, m) (rows ``:N`` filled) and the jump counts (m, T).

    ``pp`` is the engine's lazy per-path parameters: only the dynamics' error-correction flag,
    the tariff-reversal term and the jumps read per-path values here.
    """
    from simengine.kernel import block_args
    from simengine.kernel_tiles import block_log_returns

    parts, values = engine.params.parts, engine.params.values
    dt = engine.dt
    n, T = z.shape[0], scn.n_steps
    news = None
    if getattr(parts["returns"], "loads_on_news", False):
        news = _news_inputs(
            parts["dynamics"], scn, values["dynamics"], pp["dynamics"], policy, tariff
        )
    rets = _returns_inputs(
        parts["returns"],
        values["returns"],
        pp["returns"],
        dt,
        engine.policy.announcement,
        policy,
        tariff,
    )
    res = _residual_inputs(parts["residuals"], scn, draws, values["residuals"])
    n_assets = res["sigma"].shape[1]
    jump = None
    if scn.squeeze:
        jump = np.zeros((n, T, n_assets))
    n_jumps = parts["jumps"].add(
        jump if jump is not None else np.zeros((0, T, n_assets)),
        draws,
        dt,
        pp["jumps"],
        scn.short_interest_bn,
        scn.squeeze,
    )
    out = np.empty((n_series, T, n))
    draw = np.ascontiguousarray(draws.param_draw, dtype=np.int64)
    zc = np.ascontiguousarray(z, dtype=float)
    block_log_returns(block_args(zc, news, draw, engine.weights, rets, res, jump, out))
    return out, n_jumps
