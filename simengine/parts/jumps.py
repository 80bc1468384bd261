"""Jump process: short squeezes (``jumps: squeeze``).

The interface of a jump part is :meth:`Squeeze.add`: add the jumps to the log returns in place
and return the jump counts per path and step (the event statistics count paths with a jump).
A compensated jump process keeps it: it subtracts ``lambda E[J] dt`` in the same step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from simengine.parts.base import Part, PartParams, RunShape
from simengine.rng import Kind, Stream
from simengine.structure import ModelStructure

__all__ = [
    "Squeeze",
    "SqueezeParams",
    "SqueezeSchema",
    "poisson_kmax",
    "squeeze_counts",
    "squeeze_intensity",
]

POISSON_TAIL = 1e-14  # truncation of the jump count distribution (mass left out per step)


class _Loading(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)  # "3.0", true: not numbers

    squeeze_loading: float = 0.0


MAX_ELASTICITY = 10.0
"""Largest squeeze elasticity: at 10, twice the normal short interest already multiplies the
jump intensity by 1,024; beyond it the intensity overflows (1000 gave NaN)."""


class SqueezeSchema(BaseModel):
    """Section ``squeeze``: ``lambda = base_intensity (short_interest / normal) ** elasticity``
    per year, jump ~ N(jump_mean, jump_sd); each asset's ``squeeze_loading``."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)  # "3.0", true: not numbers

    base_intensity: float = Field(ge=0)
    normal_short_interest_bn: float = Field(gt=0)
    elasticity: float = Field(ge=0, le=MAX_ELASTICITY)
    jump_mean: float
    jump_sd: float = Field(ge=0)
    assets: dict[str, _Loading]


@dataclass(frozen=True)
class SqueezeParams(PartParams):
    """Leading draw axis ``D``; ``loading`` per asset."""

    loading: np.ndarray  # (D, N)
    base_intensity: np.ndarray  # (D,) squeezes per year at normal short interest
    normal_si: np.ndarray  # (D,) $bn
    elasticity: np.ndarray  # (D,)
    jump_mean: np.ndarray  # (D,)
    jump_sd: np.ndarray  # (D,)

    asset_axis = ("loading",)
    positive = ("normal_si",)
    non_negative = ("jump_sd", "base_intensity", "elasticity")


def squeeze_intensity(p: SqueezeParams, short_interest_bn: float | None) -> np.ndarray:
    """Squeeze intensity per year, ``base (SI / normal) ** elasticity``; shape (D or m,).

    Without positioning in the scenario the short interest is taken as normal.
    """
    if short_interest_bn is None:
        return p.base_intensity
    return p.base_intensity * (short_interest_bn / p.normal_si) ** p.elasticity


def poisson_kmax(lam: float, tail: float = POISSON_TAIL) -> int:
    """Number of CDF terms ``0 .. kmax - 1`` such that ``P(N >= kmax) <= tail`` for ``N ~ Poisson(lam)``.

    Notes
    -----
    Walks ``p_k = p_{k-1} lam / k`` from ``p_0 = exp(-lam)``; once ``k + 1 > lam`` the tail is
    bounded by a geometric series, ``P(N > k) <= p_{k+1} / (1 - lam / (k + 2))``.
    """
    if not 0.0 <= lam <= 700.0:  # exp(-lam) underflows beyond ~745
        raise ValueError(f"squeeze jump rate per step must be in [0, 700], got {lam!r}")
    pmf, k = float(np.exp(-lam)), 0
    while True:
        nxt = pmf * lam / (k + 1)
        if k + 2 > lam and nxt / (1.0 - lam / (k + 2)) <= tail:
            return k + 1
        pmf, k = nxt, k + 1


def squeeze_counts(u: np.ndarray, lam_dt: np.ndarray) -> np.ndarray:
    """Poisson jump counts by inverse CDF from uniforms ``u`` (m, T); ``lam_dt`` broadcasts to (m, T).

    The CDF is summed up to the count whose upper tail is below :data:`POISSON_TAIL`, so the
    counts are exact Poisson draws except with probability ~1e-14 per step.

    Notes
    -----
    ``N = #{k : u > F(k)}`` with ``F(k) = sum_{j<=k} p_j``, ``p_0 = exp(-lambda dt)`` and
    ``p_j = p_{j-1} lambda dt / j``: a numpy recurrence over ``k`` on the ``lam_dt`` array, so
    no (m, T, kmax) temporary and no scipy.
    """
    lam = np.asarray(lam_dt, dtype=np.float64)
    kmax = poisson_kmax(float(np.max(lam)))
    pmf = np.exp(-lam)
    cdf = pmf.copy()
    counts = np.zeros(np.broadcast_shapes(u.shape, lam.shape), np.int64)
    for j in range(kmax):
        if j:
            pmf *= lam
            pmf /= j
            cdf += pmf
        counts += u > cdf
    return counts


class Squeeze(Part):
    """Compound-Poisson short squeezes with normal sizes, loaded per asset.

    Notes
    -----
    ``J_t = N_t jump_mean + sqrt(N_t) jump_sd z_t`` (the sum of ``N_t`` normal jump sizes),
    ``N_t ~ Poisson(lambda dt_t)``; asset ``a`` moves by ``l_a J_t``.
    """

    role = "jumps"
    kind = "squeeze"
    section = "squeeze"
    asset_fields = ("squeeze_loading",)
    Schema = SqueezeSchema
    event = "squeeze"

    def __init__(self, structure: ModelStructure) -> None:
        self.structure = structure

    def build(self, schema: SqueezeSchema, structure: ModelStructure, where: str) -> SqueezeParams:
        def one(x: float) -> np.ndarray:
            return np.array([float(x)])

        return SqueezeParams(
            loading=np.array([[schema.assets[a].squeeze_loading for a in structure.asset_names]]),
            base_intensity=one(schema.base_intensity),
            normal_si=one(schema.normal_short_interest_bn),
            elasticity=one(schema.elasticity),
            jump_mean=one(schema.jump_mean),
            jump_sd=one(schema.jump_sd),
        )

    def streams(self, shape: RunShape, params: SqueezeParams) -> tuple[Stream, ...]:
        if not shape.n_assets:  # jumps move assets: a factor-only run needs none
            return ()
        return (
            Stream("jump_u", Kind.JUMP_U, "uniform_steps", (shape.n_steps,)),
            Stream("jump_z", Kind.JUMP_Z, "normal", (shape.n_steps,)),
        )

    def add(
        self,
        r: np.ndarray,
        draws: Any,
        dt: np.ndarray,
        p: SqueezeParams,
        short_interest_bn: float | None,
    ) -> np.ndarray:
        """Add the jumps to ``r`` (m, T, N) in place; return the jump counts (m, T)."""
        lam_dt = squeeze_intensity(p, short_interest_bn)[:, None] * dt[None, :]
        n_jumps = squeeze_counts(draws["jump_u"], lam_dt)
        jump = (
            n_jumps * p.jump_mean[:, None] + np.sqrt(n_jumps) * p.jump_sd[:, None] * draws["jump_z"]
        )
        r += p.loading[:, None, :] * jump[..., None]
        return n_jumps
