"""Pydantic schema of the policy part's parameters (``simengine/models/policy.yaml``).

Written by ``scripts/estimate_policy.py`` from :mod:`simengine.data.estimate_policy`; every
number carries its source in ``provenance``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["GrowthChannel", "PolicyFile", "ReactionSpec", "default_policy_path", "load_policy_file"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
STATE_NAMES = ("growth3", "inflation3", "credit1")


class ReactionSpec(BaseModel):
    """Ordered probit: latent slopes on the state before a meeting, and its cutpoints."""

    model_config = _FROZEN

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

    model_config = _FROZEN

    measure: str
    gamma: float = Field(le=0.0, description="pp monthly growth per pp of policy (<= 0)")
    lags: tuple[int, int] = (1, 12)


class PolicyFile(BaseModel):
    """The policy part: path pass-through, reaction function, growth channel, responses."""

    model_config = _FROZEN

    format: str = Field(pattern=r"^simengine-policy/1$")
    path_pass_through: float = Field(ge=-1.0, le=1.0)
    window_months: float = Field(24.0, gt=0.0)
    reaction: ReactionSpec
    growth_channel: GrowthChannel
    historical_ranges: dict[str, tuple[float, float]] = Field(default_factory=dict)
    provenance: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, data: Any) -> Any:
        if isinstance(data, dict) and "announcement_total" in data:
            raise ValueError(
                "announcement_total moved to the model file (assets.<asset>.announcement_total), "
                "next to each asset's rates loading: delete it here and set it there"
            )
        return data


def default_policy_path() -> Path:
    """The packaged policy parameters."""
    return Path(__file__).resolve().parents[1] / "models" / "policy.yaml"


def load_policy_file(path: str | Path | None = None) -> PolicyFile:
    """Load and validate a policy file; every problem is reported with file and line.

    Raises
    ------
    ModelFileError
        If the file cannot be read or does not match the schema.
    """
    from pydantic import ValidationError

    from simengine.exceptions import ModelFileError, SpecError
    from simengine.spec.errors import issues_from_validation_error
    from simengine.spec.yaml_io import load_yaml_mapping

    shown = str(path if path is not None else default_policy_path())
    try:
        data, lines = load_yaml_mapping(Path(shown), shown)
    except SpecError as err:
        raise ModelFileError(err.issues) from None
    try:
        return PolicyFile.model_validate(data)
    except ValidationError as err:
        where = {loc: (shown, line) for loc, line in lines.items()}
        raise ModelFileError(issues_from_validation_error(err, PolicyFile, where, shown)) from None
