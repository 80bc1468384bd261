"""Residual process with a volatility state: Student-t shocks whose variance starts where the
market is on the start date and reverts over the horizon (``residuals: vol_state``).

The state is the scenario's ``initial.vix`` and ``initial.realised_vol_<asset>`` (the last 63
trading days, annualised %): start-date states the model file declares in ``states``. Its effect ``k`` months ahead is estimated directly, one
regression per month ahead (:func:`simengine.data.estimate_volatility.fit_variance_term_structure`)::

    v_{a,k} = exp(a_{a,k} + c_{a,k} log VIX + d_{a,k} log RVS_a) s_{a,k} / mean_rv_a
    w_k     = exp(a_k + c_k log VIX) s_k / mean_rv                 (the market, S&P 500)

``v_{a,k}`` scales the variance of asset ``a``'s residual in month ``k``, ``w_k`` the variance of
the factor innovations (the engine calls :meth:`VolState.factor_scale` before the factor
dynamics). Beyond the fitted months the ratio stays at its last value. Each path also draws one
log-normal level ``L = exp(s n - s^2 / 2)``, ``n ~ N(0, 1)``, that multiplies both variances:
the part of the coming months' volatility the state does not foretell (``mixing_sd``), which
mixes volatility regimes across paths. Each asset's residual variance is also multiplied by its
slow level at the fit date (``per_asset.<asset>.level``: an exponentially weighted mean of the
state-normalised squared residuals over their long-run mean, half-life chosen by predictive
likelihood), which the VIX and realised-variance curves, fitted on the whole sample, miss.
Without ``initial.vix`` the state is at its long-run level (``v = w = 1``, no mixing, no slow
level); a missing realised volatility is set to the level the VIX implies
(``realised_given_vix``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from simengine.parts.base import RunShape
from simengine.parts.residuals import StudentT, StudentTParams, StudentTSchema
from simengine.rng import Kind, Stream
from simengine.spec.validators import check_keys

__all__ = [
    "REALISED_STATE",
    "VIX_STATE",
    "VolState",
    "VolStateParams",
    "VolStateSchema",
    "variance_ratio",
    "vix_state",
]


class _Curve(BaseModel):
    """One regression per month ahead: ``log RV_k = intercept_k + vix_k log VIX (+ realised_k
    log RVS)``, smearing factors, and the mean monthly realised variance that ratio 1 means."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    intercept: list[float] = Field(min_length=1)
    vix: list[float]
    realised: list[float] | None = None
    smearing: list[float]
    mean_rv: float = Field(gt=0)

    @model_validator(mode="after")
    def _same_length(self) -> _Curve:
        n = len(self.intercept)
        lengths = {len(self.vix), len(self.smearing), len(self.realised or self.vix)}
        if lengths != {n}:
            raise ValueError(f"intercept, vix, realised and smearing need {n} values each")
        return self


class _GivenVix(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    intercept: float
    slope: float
    smearing: float = Field(gt=0)


class _AssetCurve(_Curve):
    realised_given_vix: _GivenVix
    level: float = Field(default=1.0, gt=0, le=20, allow_inf_nan=False)
    """Slow level of the residual variance given the state, at the fit date, relative to its
    long run (:mod:`simengine.data.estimate_residual_level`); 1 = none."""


class _VolStateSection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mixing_sd: float = Field(ge=0, le=2)
    market: _Curve
    per_asset: dict[str, _AssetCurve]

    @model_validator(mode="after")
    def _assets(self, info: ValidationInfo) -> _VolStateSection:
        names = info.context["structure"].asset_names
        check_keys(self.per_asset, names, "asset in residuals.vol_state.per_asset")
        missing = [a for a in names if a not in self.per_asset]
        if missing:
            raise ValueError(f"residuals.vol_state.per_asset is missing {missing}")
        months = {len(c.intercept) for c in self.per_asset.values()} | {len(self.market.intercept)}
        if len(months) != 1:
            raise ValueError(f"every curve needs the same number of months, got {sorted(months)}")
        return self


class VolStateSchema(StudentTSchema):
    """Section ``residuals`` of :class:`StudentT` plus ``vol_state``."""

    vol_state: _VolStateSection


@dataclass(frozen=True)
class VolStateParams(StudentTParams):
    """:class:`StudentTParams` plus the curves (``N`` assets, ``K`` months ahead)."""

    a_int: np.ndarray  # (D, N, K)
    a_vix: np.ndarray  # (D, N, K)
    a_rv: np.ndarray  # (D, N, K)
    a_smear: np.ndarray  # (D, N, K)
    a_mean: np.ndarray  # (D, N)
    g_int: np.ndarray  # (D, N) realised given VIX
    g_slope: np.ndarray  # (D, N)
    g_smear: np.ndarray  # (D, N)
    m_int: np.ndarray  # (D, K) market
    m_vix: np.ndarray  # (D, K)
    m_smear: np.ndarray  # (D, K)
    m_mean: np.ndarray  # (D,)
    mixing_sd: np.ndarray  # (D,)
    a_level: np.ndarray  # (D, N) slow level of the residual variance

    asset_axis = (
        "sigma",
        "sigma_scale",
        "a_int",
        "a_vix",
        "a_rv",
        "a_smear",
        "a_mean",
        "g_int",
        "g_slope",
        "g_smear",
        "a_level",
    )
    positive = (
        "sigma",
        "sigma_scale",
        "chol",
        "a_smear",
        "a_mean",
        "g_smear",
        "m_smear",
        "m_mean",
        "a_level",
    )
    non_negative = ("mixing_sd",)


def variance_ratio(
    intercept: np.ndarray,
    vix_coef: np.ndarray,
    smear: np.ndarray,
    mean_rv: np.ndarray,
    vix: float,
    n_months: int,
    rv_coef: np.ndarray | None = None,
    rvs: np.ndarray | None = None,
) -> np.ndarray:
    """Variance ratio of each month ahead, shape (..., n_months).

    ``exp(intercept_k + vix_k log VIX + rv_k log RVS) smear_k / mean_rv`` with the month index
    held at the last fitted one beyond it; ``intercept`` etc. (..., K), ``mean_rv`` and ``rvs``
    (...,) (``rvs``: monthly realised variance).
    """
    k = np.minimum(np.arange(n_months), intercept.shape[-1] - 1)
    log_v = intercept[..., k] + vix_coef[..., k] * np.log(vix)
    if rv_coef is not None and rvs is not None:
        log_v = log_v + rv_coef[..., k] * np.log(rvs)[..., None]
    return np.exp(log_v) * smear[..., k] / mean_rv[..., None]


class VolState(StudentT):
    """Multivariate Student-t residuals scaled by the volatility state (module docstring).

    Notes
    -----
    ``resid_{a,t} = sigma_a sqrt(dt_t q_a v_{a,k(t)} L) (chol e_t)_a`` with ``k(t)`` the month
    of step ``t`` (0 = the month of the start date), ``L`` the path's variance level and ``q_a``
    the slow level of the asset's residual variance at the fit date (``per_asset.<a>.level``,
    :mod:`simengine.data.estimate_residual_level`; like the curves it applies when the scenario
    gives a VIX); the factor innovations of month ``k`` are scaled by ``sqrt(w_k L)``.
    """

    kind = "vol_state"
    Schema = VolStateSchema

    def build(
        self,
        schema: VolStateSchema,
        structure: Any,
        where: str,
        repair: bool | None = None,
    ) -> VolStateParams:
        base = super().build(schema, structure, where, repair)
        vs = schema.vol_state
        curves = [vs.per_asset[a] for a in structure.asset_names]

        def per_asset(field: str) -> np.ndarray:
            return np.array([[getattr(c, field) or [0.0] * len(c.vix) for c in curves]])

        return VolStateParams(
            sigma=base.sigma,
            sigma_scale=base.sigma_scale,
            chol=base.chol,
            nu=base.nu,
            a_int=per_asset("intercept"),
            a_vix=per_asset("vix"),
            a_rv=per_asset("realised"),
            a_smear=per_asset("smearing"),
            a_mean=np.array([[c.mean_rv for c in curves]]),
            g_int=np.array([[c.realised_given_vix.intercept for c in curves]]),
            g_slope=np.array([[c.realised_given_vix.slope for c in curves]]),
            g_smear=np.array([[c.realised_given_vix.smearing for c in curves]]),
            m_int=np.array([vs.market.intercept]),
            m_vix=np.array([vs.market.vix]),
            m_smear=np.array([vs.market.smearing]),
            m_mean=np.array([vs.market.mean_rv]),
            mixing_sd=np.array([vs.mixing_sd]),
            a_level=np.array([[c.level for c in curves]]),
        )

    def streams(self, shape: RunShape, params: VolStateParams) -> tuple[Stream, ...]:
        return (
            *super().streams(shape, params),
            Stream("vol_level", Kind.VOL_LEVEL, "normal", (1,)),
        )

    def level(self, scn: Any, draws: Any, p: VolStateParams) -> np.ndarray | float:
        """Each path's variance level ``L`` (m, 1), or 1 without a VIX."""
        if vix_state(scn) is None:
            return 1.0
        s = p.mixing_sd[:, None]
        return np.exp(s * draws["vol_level"] - 0.5 * s * s)

    def asset_ratios(self, scn: Any, p: VolStateParams) -> np.ndarray:
        """``v_{a,k}`` (D|m, M, N) for the months of the scenario: the curve's ratio times the
        slow level ``q_a`` (:class:`VolState` notes); 1 without a VIX (the long run)."""
        n_months, vix = scn.n_months, vix_state(scn)
        if vix is None:
            return np.ones((1, n_months, p.sigma.shape[1]))
        rvs = _realised_state(scn, p, vix, self.structure.asset_names)  # (D|m, N) monthly var.
        v = variance_ratio(p.a_int, p.a_vix, p.a_smear, p.a_mean, vix, n_months, p.a_rv, rvs)
        return np.swapaxes(v * p.a_level[..., None], -1, -2)

    def factor_variance(self, scn: Any, p: VolStateParams) -> np.ndarray | None:
        """``w_k`` (D, M): the factor innovations' variance ratio; ``None`` without a VIX."""
        vix = vix_state(scn)
        if vix is None:
            return None
        return variance_ratio(p.m_int, p.m_vix, p.m_smear, p.m_mean, vix, scn.n_months)

    def factor_scale(
        self, scn: Any, draws: Any, p: VolStateParams, w: np.ndarray | None = None
    ) -> np.ndarray | None:
        """``sqrt(w_k L)`` (m|D, M) for the factor innovations; ``None`` without a VIX.

        ``w``: :meth:`factor_variance` of ``p`` when the caller has it already (the engine
        computes it once per posterior draw and gathers it per path: the same numbers).
        """
        w = self.factor_variance(scn, p) if w is None else w
        return None if w is None else np.sqrt(w * self.level(scn, draws, p))

    def residual_variance(self, scn: Any, p: VolStateParams) -> np.ndarray:
        """Expected residual variance summed over the horizon, (D, N):
        ``sigma_a^2 sum_t dt_t v_{a,k(t)}`` (the level ``L`` has mean 1)."""
        v = self.asset_ratios(scn, p)[:, scn.grid.step_month]  # (D|1, T, N)
        dt = np.asarray(scn.grid.dt_years)
        return p.sigma**2 * np.einsum("dtn,t->dn", v, dt)

    def add(
        self, r: np.ndarray, draws: Any, dt: np.ndarray, p: VolStateParams, scn: Any = None
    ) -> None:
        """Add the residual to the log returns ``r`` (m, T, N) in place."""
        eps = draws["asset"]
        resid = (
            eps @ p.chol[0].T if p.chol.shape[0] == 1 else np.einsum("mtj,maj->mta", eps, p.chol)
        )
        v = self.asset_ratios(scn, p)[:, scn.grid.step_month]  # (D|m, T, N)
        scale = v * dt[None, :, None] * np.asarray(self.level(scn, draws, p))[..., None]
        resid *= p.sigma[:, None, :] * np.sqrt(scale)
        r += resid


VIX_STATE = "vix"
REALISED_STATE = "realised_vol_{asset}"
"""Names of the start-date states (``initial.vix``, ``initial.realised_vol_small_cap``)."""


def vix_state(scn: Any) -> float | None:
    """The scenario's ``initial.vix`` (``None``: not given)."""
    value = scn.states.get(VIX_STATE)
    return None if value is None else float(value)


def _realised_state(scn: Any, p: VolStateParams, vix: float, assets: tuple[str, ...]) -> np.ndarray:
    """Monthly realised variance of each asset: the scenario's, else the one the VIX implies."""
    implied = np.exp(p.g_int + p.g_slope * np.log(vix)) * p.g_smear  # (D, N)
    given = np.array([scn.states.get(REALISED_STATE.format(asset=a), np.nan) for a in assets])
    from_vol = (given / 100.0) ** 2 / 12.0
    return np.where(np.isfinite(from_vol)[None, :], from_vol[None, :], implied)
