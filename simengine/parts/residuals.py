"""Residual process: constant-volatility multivariate Student-t (``residuals: student_t``).

The interface of a residual part is :meth:`StudentT.add`: given the per-path parameters, the
draws and the step lengths, add the residual to the mean log returns in place. A residual with
a volatility state (GARCH, a VIX factor) keeps the same interface: it declares its own streams
and start state (e.g. ``initial.vix`` of the scenario, read from ``scn``) and loops over steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)

from simengine.guards import correlation_cholesky
from simengine.parts.base import Part, PartParams, RunShape
from simengine.parts.dynamics import corr_matrix
from simengine.rng import Kind, Stream
from simengine.spec.validators import check_keys, correlations, finite
from simengine.structure import ModelStructure

__all__ = ["StudentT", "StudentTParams", "StudentTSchema"]


class _Sigma(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)  # "3.0", true: not numbers

    sigma: float = Field(gt=0)
    sigma_scale: float = Field(default=1.0, gt=0, le=10, allow_inf_nan=False)
    """Out-of-sample variance recalibration of the residual volatility: the simulated residual
    volatility is ``sigma * sigma_scale`` (:mod:`simengine.backtest.recalibration`)."""


class StudentTSchema(BaseModel):
    """Section ``residuals`` (``corr``, ``dof``) and each asset's annual ``sigma``."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)  # "3.0", true: not numbers

    corr: dict[str, dict[str, float]] = Field(default_factory=dict)
    dof: float | None = None
    repair_correlation: Annotated[bool, Strict()] = False
    """Opt-in: if corr is not positive definite, use the nearest valid correlation matrix."""
    assets: dict[str, _Sigma]

    @field_validator("corr")
    @classmethod
    def _corr(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return correlations(
            {k: {c: finite(float(v), c) for c, v in row.items()} for k, row in value.items()}
        )

    @field_validator("dof")
    @classmethod
    def _dof(cls, value: float | None) -> float | None:
        if value is not None and not (value > 2.0 and math.isfinite(value)):
            raise ValueError(f"residuals.dof must be > 2 (or null for Gaussian), got {value}")
        return value

    @model_validator(mode="after")
    def _names(self, info: ValidationInfo) -> StudentTSchema:
        names = info.context["structure"].asset_names
        for row, cols in self.corr.items():
            check_keys({row: 0, **cols}, names, "asset in residuals.corr")
        return self


@dataclass(frozen=True)
class StudentTParams(PartParams):
    """``N`` assets, leading draw axis ``D``."""

    sigma: np.ndarray  # (D, N) annual residual volatility, recalibrated (sigma * sigma_scale)
    sigma_scale: np.ndarray  # (D, N) recalibration scale already applied to sigma
    chol: np.ndarray  # (D, N, N) Cholesky factor of the residual correlation
    nu: np.ndarray  # (D,) residual dof, inf = Gaussian

    asset_axis = ("sigma", "sigma_scale")
    asset_chol = ("chol",)
    dof_fields = ("nu",)
    positive = ("sigma", "sigma_scale", "chol")
    diagonal = ("chol",)


class StudentT(Part):
    """Unit-variance multivariate Student-t shocks, correlated across assets.

    Notes
    -----
    ``resid_{a,t} = sigma_a sqrt(dt_t) (L e_t)_a``, ``e_t = sqrt((nu - 2) / W_t) n_t``,
    ``W_t ~ chi2(nu)`` shared across the assets (jointly multivariate t), ``n_t ~ N(0, I)``.
    ``sigma_a`` is the model file's ``sigma`` times its ``sigma_scale`` (default 1), applied when
    the parameters are built, so the equation is the same with or without recalibration.
    """

    role = "residuals"
    kind = "student_t"
    section = "residuals"
    asset_fields = ("sigma", "sigma_scale")
    Schema = StudentTSchema

    def __init__(self, structure: ModelStructure) -> None:
        self.structure = structure

    def build(
        self,
        schema: StudentTSchema,
        structure: ModelStructure,
        where: str,
        repair: bool | None = None,
    ) -> StudentTParams:
        names = structure.asset_names
        chol = correlation_cholesky(
            corr_matrix(schema.corr, names, "residuals.corr"),
            f"residuals.corr{where}",
            names,
            repair=schema.repair_correlation if repair is None else repair,
            repair_field="residuals.repair_correlation",
        )
        scale = np.array([[schema.assets[a].sigma_scale for a in names]])
        return StudentTParams(
            sigma=np.array([[schema.assets[a].sigma for a in names]]) * scale,
            sigma_scale=scale,
            chol=chol[None],
            nu=np.array([np.inf if schema.dof is None else float(schema.dof)]),
        )

    def streams(self, shape: RunShape, params: StudentTParams) -> tuple[Stream, ...]:
        return (
            Stream(
                "asset",
                Kind.ASSET,
                "student_t",
                (shape.n_steps, shape.n_assets),
                Kind.ASSET_CHI2,
                tuple(params.nu.tolist()),
            ),
        )

    def factor_scale(
        self, scn: Any, draws: Any, p: StudentTParams, w: np.ndarray | None = None
    ) -> np.ndarray | None:
        """Scale of the factor innovations per month (m, M); ``None``: constant volatility
        (``w``: the variance ratio when the caller has it, unused here)."""
        return None

    def factor_variance(self, scn: Any, p: StudentTParams) -> np.ndarray | None:
        """Variance ratio of the factor innovations per month shared by every path (D, M),
        without a per-path level; ``None``: constant volatility."""
        return None

    def residual_variance(self, scn: Any, p: StudentTParams) -> np.ndarray:
        """Variance of the residual summed over the horizon, (D, N): ``sigma_a^2 sum_t dt_t``."""
        return p.sigma**2 * float(np.sum(scn.grid.dt_years))

    def add(
        self, r: np.ndarray, draws: Any, dt: np.ndarray, p: StudentTParams, scn: Any = None
    ) -> None:
        """Add the residual to the log returns ``r`` (m, T, N) in place (``scn`` unused)."""
        eps = draws["asset"]
        if p.chol.shape[0] == 1:
            resid = eps @ p.chol[0].T
        else:
            resid = np.einsum("mtj,maj->mta", eps, p.chol)
        resid *= p.sigma[:, None, :] * np.sqrt(dt)[None, :, None]
        r += resid
