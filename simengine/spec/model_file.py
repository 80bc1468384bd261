"""Pydantic schema of a model file's envelope: its vocabulary and its list of parts.

A model file (``simengine/models/default.yaml``) declares

* the vocabulary: ``factors`` (units, stochastic or not), ``exposures`` (the factors the
  assets load on, in the order of ``beta``), ``assets`` (label, index, data file, start level),
  ``portfolios`` (weights per $1 a side) and ``comparisons`` ("probability that A beats B");
* ``parts``: role -> kind, e.g. ``dynamics: var1``;
* the parameter sections of the parts. Those are validated by the parts themselves
  (:mod:`simengine.parts`, each part owns its schema), not here: this module keeps them as
  plain mappings with their line numbers.

Matrices are written as nested mappings keyed by factor or asset name so that a strategist can
read them; missing entries are zero (correlations: missing off-diagonals are zero).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator, model_validator

from simengine.exceptions import ModelFileError, SpecError
from simengine.spec.errors import issues_from_validation_error
from simengine.spec.validators import check_keys, finite
from simengine.spec.yaml_io import LineMap, load_yaml_mapping

__all__ = [
    "FORMAT",
    "AssetDecl",
    "ComparisonDecl",
    "FactorDecl",
    "StateDecl",
    "ModelFile",
    "load_model_file",
    "model_factors",
    "model_states",
]

FORMAT = "simengine-model/1"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_FROZEN = ConfigDict(frozen=True, extra="forbid", strict=True)  # "3.0", true: not numbers


def _name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"{what} {value!r} is not an identifier (letters, digits, '_')")
    return value


class FactorDecl(BaseModel):
    """One factor: its units and whether the factor dynamics simulate it."""

    model_config = _FROZEN

    units: str
    stochastic: Annotated[bool, Strict()]
    description: str = ""


class AssetDecl(BaseModel):
    """One asset's identity; the parts' per-asset parameters sit next to it (checked there)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    label: str = ""
    index: str = ""
    data: str = ""
    """Daily close file, relative to the data folder (``equity/RUT_index_daily.csv``)."""
    start_level: float = Field(gt=0)


class StateDecl(BaseModel):
    """A start-date state a part reads from the scenario's ``initial`` (e.g. ``vix``)."""

    model_config = _FROZEN

    units: str
    description: str = ""


class ComparisonDecl(BaseModel):
    """``P(R_asset > R_beats)`` at each date."""

    model_config = _FROZEN

    asset: str
    beats: str


_VOCABULARY = ("factors", "exposures", "portfolios", "comparisons", "parts")


def _default_path() -> str:
    return str(resources.files("simengine") / "models" / "default.yaml")


@lru_cache(maxsize=1)
def _default_document() -> dict[str, Any]:
    return load_yaml_mapping(_default_path())[0]


class ModelFile(BaseModel):
    """A model file: vocabulary, parts and (unvalidated here) the parts' sections."""

    model_config = ConfigDict(frozen=True, extra="allow")

    format: str = FORMAT
    name: str
    description: str = ""
    provenance: dict[str, Any] = Field(default_factory=dict)
    factors: dict[str, FactorDecl]
    exposures: tuple[str, ...]
    assets: dict[str, AssetDecl]
    portfolios: dict[str, dict[str, float]] = Field(default_factory=dict)
    comparisons: dict[str, ComparisonDecl] = Field(default_factory=dict)
    states: dict[str, StateDecl] = Field(default_factory=dict)
    """Start-date states of the parts, given in a scenario's ``initial`` (none today)."""
    parts: dict[str, str]

    @model_validator(mode="before")
    @classmethod
    def _inherit_vocabulary(cls, data: Any) -> Any:
        """A file without vocabulary sections (written before they existed) takes the packaged
        default model's, keeping the portfolios and comparisons its assets complete."""
        if not isinstance(data, dict) or all(k in data for k in _VOCABULARY):
            return data
        default = _default_document()
        names = set(data.get("assets") or {}) if isinstance(data.get("assets"), dict) else set()
        out = dict(data)
        for key in _VOCABULARY:
            if key in out:
                continue
            value = default[key]
            if key == "portfolios":
                value = {k: w for k, w in value.items() if set(w) <= names}
            elif key == "comparisons":
                value = {k: c for k, c in value.items() if {c["asset"], c["beats"]} <= names}
            out[key] = value
        return out

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value != FORMAT:
            raise ValueError(f"unsupported model file format {value!r}; expected {FORMAT!r}")
        return value

    @model_validator(mode="after")
    def _names(self) -> ModelFile:
        if not self.assets:
            raise ValueError("assets must define at least one asset")
        if not any(f.stochastic for f in self.factors.values()):
            raise ValueError("factors must declare at least one stochastic factor")
        for name in (*self.factors, *self.assets, *self.portfolios, *self.comparisons):
            _name(name, "name")
        clash = sorted(set(self.assets) & (set(self.portfolios) | set(self.factors)))
        if clash:
            raise ValueError(f"names used twice (asset and portfolio/factor): {clash}")
        check_keys(dict.fromkeys(self.exposures), tuple(self.factors), "exposure")
        assets = tuple(self.assets)
        for name, weights in self.portfolios.items():
            check_keys(weights, assets, f"asset in portfolio {name}")
            for w in weights.values():
                finite(w, f"weight in portfolio {name}")
        for name, c in self.comparisons.items():
            check_keys({c.asset: 0, c.beats: 0}, assets, f"asset in comparison {name}")
        return self

    def section(self, key: str) -> Any:
        """A top-level entry that is not part of the envelope (a part's section), or None."""
        return (self.model_extra or {}).get(key)


def load_model_file(path: str | Path) -> tuple[ModelFile, dict[str, Any], LineMap]:
    """Load a model file and validate its envelope; every problem is reported with file and line.

    Returns
    -------
    envelope : ModelFile
    data : dict
        The whole document as plain data (the parts validate their sections from it).
    lines : dict
        Field path -> line, for the parts' errors.

    Raises
    ------
    ModelFileError
        If the file cannot be read or its envelope does not match the schema.
    """
    from pydantic import ValidationError

    shown = str(path)
    try:
        data, lines = load_yaml_mapping(path, shown)
    except SpecError as err:
        raise ModelFileError(err.issues) from None
    try:
        return ModelFile.model_validate(data), data, lines
    except ValidationError as err:
        where = {loc: (shown, line) for loc, line in lines.items()}
        raise ModelFileError(issues_from_validation_error(err, ModelFile, where, shown)) from None


@lru_cache(maxsize=8)
def _vocabulary_of(path: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    envelope = load_model_file(path)[0]
    factors = tuple(n for n, f in envelope.factors.items() if f.stochastic)
    return factors, tuple(envelope.states)


def _vocabulary(path: str | Path | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if path is not None:
        try:
            return _vocabulary_of(str(Path(path).resolve()))
        except (ModelFileError, OSError):
            pass
    return _vocabulary_of(_default_path())


def model_factors(path: str | Path | None) -> tuple[str, ...]:
    """Stochastic factors of a model file (``None``: the packaged default model).

    A file that cannot be read gives the default model's: its own problems are reported when
    the model is loaded for the run.
    """
    return _vocabulary(path)[0]


def model_states(path: str | Path | None) -> tuple[str, ...]:
    """Start-date states a model file's parts read from a scenario's ``initial``."""
    return _vocabulary(path)[1]
