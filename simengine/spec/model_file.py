"""Pydantic schema of a model (parameter) file such as ``simengine/models/default.yaml``.

Matrices are written as nested mappings keyed by factor or asset name so that a strategist can
read them; missing entries are zero (correlations: missing off-diagonals are zero).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator, model_validator

__all__ = [
    "ASSET_EXPOSURES",
    "STOCHASTIC_FACTORS",
    "AssetParams",
    "Dynamics",
    "ModelFile",
    "Residuals",
    "Squeeze",
    "load_model_file",
]

STOCHASTIC_FACTORS: tuple[str, ...] = ("rates", "growth", "inflation", "credit")
ASSET_EXPOSURES: tuple[str, ...] = ("rates", "tariff", "growth", "inflation", "credit")

_FROZEN = ConfigDict(frozen=True, extra="forbid", strict=True)  # "3.0" and true are not numbers
MAX_ELASTICITY = 10.0
"""Largest squeeze elasticity: at 10, twice the normal short interest already multiplies the
jump intensity by 1,024; beyond it the intensity overflows (1000 gave NaN)."""


def _finite(v: float, what: str) -> float:
    if not math.isfinite(v):
        raise ValueError(f"{what} must be a finite number, got {v}")
    return v


def _check_keys(mapping: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(mapping) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; expected names from {list(allowed)}")


def _correlations(value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    for row, cols in value.items():
        for col, v in cols.items():
            if row == col and v != 1.0:
                raise ValueError(f"correlation of {row} with itself must be 1, got {v}")
            if not -1.0 <= v <= 1.0:
                raise ValueError(f"correlation {row}-{col} must be in [-1, 1], got {v}")
    return value


def _factor_vector(value: dict[str, float]) -> dict[str, float]:
    _check_keys(value, STOCHASTIC_FACTORS, "factor")
    return {k: _finite(float(v), k) for k, v in value.items()}


class Dynamics(BaseModel):
    """VAR(1) dynamics of the stochastic factors (monthly).

    ``z_t = const + ar z_{t-1} + policy_gap (p_{t-1} - n) + surprise_pass_through * surprise_t
    + tariff_pass_through * dtau_t + u_t``, ``u_t = diag(innovation_sd) chol(innovation_corr) eps_t``.
    """

    model_config = _FROZEN

    const: dict[str, float] = Field(default_factory=dict)
    ar: dict[str, dict[str, float]] = Field(default_factory=dict)
    innovation_sd: dict[str, float]
    innovation_corr: dict[str, dict[str, float]] = Field(default_factory=dict)
    innovation_dof: float | None = None
    policy_gap: dict[str, float] = Field(default_factory=dict)
    surprise_pass_through: dict[str, float] = Field(default_factory=dict)
    tariff_pass_through: dict[str, float] = Field(default_factory=dict)
    repair_correlation: Annotated[bool, Strict()] = False
    """Opt-in: if innovation_corr is not positive definite, use the nearest valid correlation
    matrix (Higham 2002) with a warning instead of failing."""

    _vectors = field_validator(
        "const", "innovation_sd", "policy_gap", "surprise_pass_through", "tariff_pass_through"
    )(_factor_vector)

    @field_validator("ar", "innovation_corr")
    @classmethod
    def _matrix(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        _check_keys(value, STOCHASTIC_FACTORS, "factor")
        return {k: _factor_vector(row) for k, row in value.items()}

    @field_validator("innovation_corr")
    @classmethod
    def _corr_range(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return _correlations(value)

    @field_validator("innovation_dof")
    @classmethod
    def _dof(cls, value: float | None) -> float | None:
        if value is not None and not (value > 2.0 and math.isfinite(value)):
            raise ValueError(
                f"innovation_dof must be > 2 for a finite variance (or null for Gaussian), got {value}"
            )
        return value

    @model_validator(mode="after")
    def _sd_complete(self) -> Dynamics:
        missing = [f for f in STOCHASTIC_FACTORS if f not in self.innovation_sd]
        if missing:
            raise ValueError(f"innovation_sd is missing {missing}")
        if any(v <= 0 for v in self.innovation_sd.values()):
            raise ValueError("innovation_sd values must be > 0")
        return self


class AssetParams(BaseModel):
    """One asset.

    ``r_t = (mu - kappa (p_{t-1} - n)) dt + beta . x_t + surprise_response surprise_t
    + sigma sqrt(dt) e_t + squeeze_loading J_t``.
    """

    model_config = _FROZEN

    label: str = ""
    index: str = ""
    start_level: float = Field(gt=0)
    mu: float
    kappa: float
    beta: dict[str, float]
    sigma: float = Field(gt=0)
    surprise_response: float = 0.0
    squeeze_loading: float = 0.0

    @field_validator("beta")
    @classmethod
    def _beta(cls, value: dict[str, float]) -> dict[str, float]:
        _check_keys(value, ASSET_EXPOSURES, "exposure")
        return {k: _finite(float(v), k) for k, v in value.items()}


class Residuals(BaseModel):
    """Multivariate Student-t residuals across assets (unit variance, correlation ``corr``)."""

    model_config = _FROZEN

    corr: dict[str, dict[str, float]] = Field(default_factory=dict)
    dof: float | None = None
    repair_correlation: Annotated[bool, Strict()] = False
    """Opt-in: if corr is not positive definite, use the nearest valid correlation matrix."""

    @field_validator("corr")
    @classmethod
    def _corr(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return _correlations(
            {k: {c: _finite(float(v), c) for c, v in row.items()} for k, row in value.items()}
        )

    @field_validator("dof")
    @classmethod
    def _dof(cls, value: float | None) -> float | None:
        if value is not None and not (value > 2.0 and math.isfinite(value)):
            raise ValueError(f"residuals.dof must be > 2 (or null for Gaussian), got {value}")
        return value


class Squeeze(BaseModel):
    """Short-squeeze jumps: ``lambda = base_intensity (short_interest / normal) ** elasticity`` per year."""

    model_config = _FROZEN

    base_intensity: float = Field(ge=0)
    normal_short_interest_bn: float = Field(gt=0)
    elasticity: float = Field(ge=0, le=MAX_ELASTICITY)
    jump_mean: float
    jump_sd: float = Field(ge=0)


class ModelFile(BaseModel):
    """A complete parameter set for the factor model (point values)."""

    model_config = _FROZEN

    format: str = "simengine-model/1"
    name: str
    description: str = ""
    provenance: dict[str, Any] = Field(default_factory=dict)
    neutral_rate: float
    dynamics: Dynamics
    assets: dict[str, AssetParams]
    residuals: Residuals = Residuals()
    squeeze: Squeeze

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value != "simengine-model/1":
            raise ValueError(
                f"unsupported model file format {value!r}; expected 'simengine-model/1'"
            )
        return value

    @model_validator(mode="after")
    def _residual_names(self) -> ModelFile:
        if not self.assets:
            raise ValueError("assets must define at least one asset")
        names = tuple(self.assets)
        for row, cols in self.residuals.corr.items():
            _check_keys({row: 0, **cols}, names, "asset in residuals.corr")
        return self


def load_model_file(path: str | Path) -> ModelFile:
    """Load and validate a model file; every problem is reported with file and line.

    Raises
    ------
    ModelFileError
        If the file cannot be read or does not match the schema.
    """
    from pydantic import ValidationError

    from simengine.exceptions import ModelFileError, SpecError
    from simengine.spec.errors import issues_from_validation_error
    from simengine.spec.yaml_io import load_yaml_mapping

    shown = str(path)
    try:
        data, lines = load_yaml_mapping(path, shown)
    except SpecError as err:
        raise ModelFileError(err.issues) from None
    try:
        return ModelFile.model_validate(data)
    except ValidationError as err:
        where = {loc: (shown, line) for loc, line in lines.items()}
        raise ModelFileError(issues_from_validation_error(err, ModelFile, where, shown)) from None
