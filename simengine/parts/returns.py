"""Asset mean: carry, factor loadings and the announcement effects (``returns: factor_loadings``).

The mean of each step's log return, before the residual (:mod:`simengine.parts.residuals`)
and the jumps (:mod:`simengine.parts.jumps`) are added.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from simengine.parts.base import EventPaths, Part, PartParams
from simengine.parts.dynamics import vector
from simengine.spec.validators import check_keys, finite
from simengine.structure import ModelStructure

__all__ = [
    "AssetMean",
    "FactorLoadings",
    "FactorNews",
    "LoadingParams",
    "LoadingsSchema",
    "NewsParams",
    "NewsSchema",
    "factor_loadings",
    "month_weighted",
    "reversal_kernel",
]


class AssetMean(BaseModel):
    """One asset's mean: ``(mu - kappa (p_{t-1} - n)) dt + beta . x_t + psi surprise_t``;
    ``mu``, ``kappa`` annual, ``beta`` per unit of each exposure.

    ``announcement_total`` is the asset's total log return per pp of policy surprise on the
    announcement day (event studies); the policy part splits it into the asset's rates loading
    on the 2-year policy component and the direct response ``psi``
    (:func:`simengine.policy_model.policy_params`). 0: no move on the day.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)  # "3.0", true: not numbers

    mu: float
    kappa: float
    beta: dict[str, float]
    announcement_total: float = 0.0

    @field_validator("beta")
    @classmethod
    def _beta(cls, value: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        check_keys(value, info.context["structure"].exposures, "exposure")
        return {k: finite(float(v), k) for k, v in value.items()}


class LoadingsSchema(BaseModel):
    """The per-asset fields ``mu, kappa, beta, surprise_response`` of ``assets``."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)  # "3.0", true: not numbers

    assets: dict[str, AssetMean]


@dataclass(frozen=True)
class LoadingParams(PartParams):
    """``N`` assets, ``E`` exposures (:attr:`ModelStructure.exposures`), leading draw axis."""

    mu: np.ndarray  # (D, N) annual log drift at p = n
    kappa: np.ndarray  # (D, N) annual drift lost per pp of (p - n)
    beta: np.ndarray  # (D, N, E)
    announcement_total: np.ndarray  # (D, N) total log return per pp of surprise on the day

    asset_axis = ("mu", "kappa", "beta", "announcement_total")


def factor_loadings(z: np.ndarray, weights: np.ndarray, bz: np.ndarray) -> np.ndarray:
    """Factor contribution to each step's log return, shape (m, T, N).

    ``sum_m W[t, m] beta_z . z_m``: month ``m``'s factor flow, in the share of the month that
    step ``t`` covers. ``z`` (m, M, K), ``weights`` (T, M), ``bz`` (D|m, N, K).
    """
    per_month = (
        z @ np.swapaxes(bz[0], -1, -2) if bz.shape[0] == 1 else np.einsum("pmk,pnk->pmn", z, bz)
    )
    return month_weighted(weights, per_month)


def month_weighted(weights: np.ndarray, per_month: np.ndarray) -> np.ndarray:
    """``sum_m W[t, m] x[:, m]`` over the non-zero weights only: (T, M), (p, M, N) -> (p, T, N).

    A step covers at most a few calendar months, so ``W`` is sparse: the dense contraction
    is O(T M) per path, this is O(T k) for ``k`` months per step at most. The same value as
    the dense sum (``einsum("tm,pmn->ptn")``): the skipped terms are exact zeros, and the
    kept ones are added to zero in increasing month order.

    Notes
    -----
    ``k``-th non-zero month of each step: ``idx[t, k]`` with weight ``w[t, k]`` (0 where a step
    has fewer), and ``out = 0 + w[:, 0] x[:, idx[:, 0]] + w[:, 1] x[:, idx[:, 1]] + ...``.
    """
    T = weights.shape[0]
    nonzero = weights != 0.0
    k = int(nonzero.sum(axis=1).max(initial=0))
    out = np.zeros((per_month.shape[0], T, per_month.shape[2]))
    if k == 0:
        return out
    # stable sort puts each step's non-zero months first, in increasing month order
    order = np.argsort(~nonzero, axis=1, kind="stable")[:, :k]  # (T, k)
    w = np.take_along_axis(weights, order, axis=1)
    for j in range(k):
        out += w[None, :, j, None] * per_month[:, order[:, j], :]
    return out


class FactorLoadings(Part):
    """Carry on the policy gap, loadings on the monthly factor flow, tariff and announcement
    effects on the day.

    Notes
    -----
    ``mean_{a,t} = (mu_a - kappa_a (p_{t-1} - n)) dt_t + sum_m W_{tm} beta_{a,z} . z_m
    + beta_{a,tariff} dtau_t + psi_a surprise_t``, ``psi`` the policy part's announcement
    response (from ``announcement_total``). On a monthly grid ``W`` is the identity (apart
    from the part-month of the start date).
    """

    role = "returns"
    kind = "factor_loadings"
    asset_fields = ("mu", "kappa", "beta", "announcement_total")
    Schema = LoadingsSchema

    def __init__(self, structure: ModelStructure) -> None:
        self.structure = structure
        self.z_columns = structure.exposure_index(structure.stochastic)
        self.tariff_column = structure.exposures.index("tariff")

    def build(self, schema: LoadingsSchema, structure: ModelStructure, where: str) -> LoadingParams:
        assets = [schema.assets[a] for a in structure.asset_names]
        return LoadingParams(
            mu=np.array([[a.mu for a in assets]]),
            kappa=np.array([[a.kappa for a in assets]]),
            beta=np.array([[vector(a.beta, structure.exposures) for a in assets]]),
            announcement_total=np.array([[a.announcement_total for a in assets]]),
        )

    def _loadings_and_carry(
        self,
        z: np.ndarray,
        weights: np.ndarray,
        dt: np.ndarray,
        p: LoadingParams,
        policy: EventPaths,
    ) -> np.ndarray:
        """``sum_m W[t,m] beta . z_m + (mu - kappa (p_{t-1} - n)) dt_t``, summed in that order
        (m, T, N): the part both return parts share."""
        drift = (p.mu[:, None, :] - p.kappa[:, None, :] * policy.gap_step[..., None]) * dt[
            None, :, None
        ]
        r = factor_loadings(z, weights, p.beta[..., self.z_columns])
        r += drift
        return r

    def simulate(
        self,
        z: np.ndarray,
        weights: np.ndarray,
        dt: np.ndarray,
        p: LoadingParams,
        policy: EventPaths,
        tariff: EventPaths,
        announcement: np.ndarray,
    ) -> np.ndarray:
        """Mean log returns (m, T, N) (``p``: per-path parameters; ``announcement``: the policy
        part's response ``psi`` per pp of surprise, (N,))."""
        r = self._loadings_and_carry(z, weights, dt, p, policy)
        # then the events, summed left to right in place
        shock = self.tariff_shock(dt, p, tariff)
        if shock is not None:
            r += p.beta[:, None, :, self.tariff_column] * shock[..., None]
        r += np.asarray(announcement)[None, None, :] * policy.surprise_step[..., None]
        return r

    def tariff_shock(
        self, dt: np.ndarray, p: LoadingParams, tariff: EventPaths
    ) -> np.ndarray | None:
        """The tariff term the assets' ``beta_tariff`` loads on (m|1, T): each step's change."""
        return tariff.change_step


class NewsSchema(LoadingsSchema):
    """:class:`LoadingsSchema` plus section ``tariff_news`` (the reversal of tariff surprises)."""

    reversal_share: float = Field(ge=0.0, le=1.0)
    reversal_half_life_days: float = Field(gt=0.0)


@dataclass(frozen=True)
class NewsParams(LoadingParams):
    """:class:`LoadingParams` plus the tariff-surprise reversal."""

    reversal_share: np.ndarray  # (D,)
    reversal_rate: np.ndarray  # (D,) per year

    non_negative = ("reversal_share", "reversal_rate")


TRADING_DAYS = 252.0


def reversal_kernel(dt: np.ndarray, rate: float) -> np.ndarray:
    """``K[t, s]``: share of a surprise of step ``s`` that reverses in step ``t`` (T, T).

    A surprise at the start of step ``s`` reverses as ``1 - exp(-rate tau)`` of it by ``tau``
    years later: ``K[t, s] = exp(-rate (Tb_t - Tb_s)) - exp(-rate (Te_t - Tb_s))`` for
    ``t >= s`` (``Tb``, ``Te``: start and end of each step), 0 before.
    """
    te = np.cumsum(dt)
    tb = te - dt
    lag_b = tb[:, None] - tb[None, :]
    lag_e = te[:, None] - tb[None, :]
    k = np.exp(-rate * np.maximum(lag_b, 0.0)) - np.exp(-rate * np.maximum(lag_e, 0.0))
    return np.tril(k)


class FactorNews(FactorLoadings):
    """Asset mean loading on factor *news*, tariff *surprises* that partly reverse, carry and
    the announcement effect of policy surprises (``returns: factor_news``).

    Notes
    -----
    ``mean_{a,t} = (mu_a - kappa_a (p_{t-1} - n)) dt_t + sum_m W_{tm} beta_{a,z} . news_m
    + beta_{a,tariff} (dtau^s_t - R sum_{s <= t} K[t, s] dtau^s_s) + psi_a surprise_t``.
    ``news_m = z_m - E_{m-1}[z_m]`` (:meth:`simengine.parts.dynamics.Var1.news`): what is known
    a month ahead (the VAR's own dynamics, the error correction of credit, the policy gap,
    announced tariffs) is priced and moves no price, so it carries no hidden drift. Tariff
    surprises ``dtau^s`` (steps not announced by the start date) move prices on the day; a
    share ``R`` of that move reverses with half-life ``h`` trading days (:func:`reversal_kernel`,
    rate ``log 2 / h x 252`` a year), as most of April 2025's moves did.
    """

    kind = "factor_news"
    section = "tariff_news"
    Schema = NewsSchema
    loads_on_news = True

    def build(self, schema: NewsSchema, structure: ModelStructure, where: str) -> NewsParams:
        base = super().build(schema, structure, where)
        rate = np.log(2.0) / schema.reversal_half_life_days * TRADING_DAYS
        return NewsParams(
            **base.arrays(),
            reversal_share=np.array([schema.reversal_share]),
            reversal_rate=np.array([rate]),
        )

    def tariff_shock(self, dt: np.ndarray, p: NewsParams, tariff: EventPaths) -> np.ndarray | None:
        """``dtau^s_t - R sum_{s <= t} K[t, s] dtau^s_s`` (m|1, T); ``None``: no surprise."""
        surprise = tariff.surprise_step if tariff.surprise_step is not None else tariff.change_step
        if not np.any(surprise):
            return None
        if p.reversal_rate.shape[0] == 1:
            kernel = reversal_kernel(dt, float(p.reversal_rate[0]))
            undone = np.einsum("ts,ms->mt", kernel, surprise) * p.reversal_share[:, None]
        else:  # per-path rates (posterior draws)
            undone = np.stack(
                [
                    reversal_kernel(dt, float(rate)) @ row * share
                    for rate, row, share in zip(
                        p.reversal_rate,
                        np.broadcast_to(surprise, (p.reversal_rate.size, dt.size)),
                        p.reversal_share,
                        strict=True,
                    )
                ]
            )
        return surprise - undone
