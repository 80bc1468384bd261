"""The model's vocabulary, read from the model file: factors, exposures, assets, portfolios,
comparisons and the list of parts.

One :class:`ModelStructure` object is what every layer asks for names: the spec layer (which
factors a scenario may move), the parameters and the engine (array axes, the series of a
result), the Bayesian module and the data layer (which columns to build and fit), the
backtest. Nothing else in simengine spells a factor or an asset name.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from simengine.spec.model_file import ModelFile, load_model_file

__all__ = [
    "Asset",
    "Comparison",
    "Factor",
    "ModelStructure",
    "Portfolio",
    "default_model_path",
    "default_structure",
    "model_path",
]


def default_model_path() -> Path:
    """Path of the packaged default model file."""
    return Path(str(resources.files("simengine") / "models" / "default.yaml"))


def model_path(model: str | Path | None) -> Path:
    """A model file's path: ``None`` or ``"default"`` is the packaged default model."""
    return default_model_path() if model is None or str(model) == "default" else Path(model)


@dataclass(frozen=True)
class Factor:
    """A factor: ``stochastic`` ones are simulated by the factor dynamics, the others are set
    by the policy part (``policy_rate``) or the scenario overlays (``tariff``)."""

    name: str
    units: str
    stochastic: bool


@dataclass(frozen=True)
class Asset:
    """An asset: label, index ticker, daily close file (relative to the data folder), level."""

    name: str
    label: str
    index: str
    data: str
    start_level: float


@dataclass(frozen=True)
class Portfolio:
    """A portfolio of assets, ``weights`` per $1 a side (``pair``: +1 large_cap, -1 small_cap).

    Its cumulative return is ``sum_a w_a R_a`` (the P&L per $1 a side); with net weight 0 it is
    a long/short book whose drawdown is measured in dollars, not as a fraction of a peak.
    """

    name: str
    weights: tuple[tuple[str, float], ...]

    @property
    def dollar_neutral(self) -> bool:
        return sum(w for _, w in self.weights) == 0.0


@dataclass(frozen=True)
class Comparison:
    """The probability that ``asset`` has the higher cumulative return than ``beats``."""

    name: str
    asset: str
    beats: str


@dataclass(frozen=True)
class ModelStructure:
    """The vocabulary of one model (see the module docstring)."""

    factors: tuple[Factor, ...]
    exposures: tuple[str, ...]
    assets: tuple[Asset, ...]
    portfolios: tuple[Portfolio, ...] = ()
    comparisons: tuple[Comparison, ...] = ()
    parts: tuple[tuple[str, str], ...] = ()
    states: tuple[str, ...] = ()
    """Start-date states the parts read from a scenario's ``initial`` (e.g. ``vix``)."""

    @classmethod
    def from_model_file(cls, model: ModelFile) -> ModelStructure:
        """The vocabulary of a validated model-file envelope."""
        return cls(
            factors=tuple(Factor(n, f.units, f.stochastic) for n, f in model.factors.items()),
            exposures=tuple(model.exposures),
            assets=tuple(
                Asset(n, a.label or n, a.index, a.data, float(a.start_level))
                for n, a in model.assets.items()
            ),
            portfolios=tuple(
                Portfolio(n, tuple((a, float(w)) for a, w in weights.items()))
                for n, weights in model.portfolios.items()
            ),
            comparisons=tuple(
                Comparison(n, c.asset, c.beats) for n, c in model.comparisons.items()
            ),
            parts=tuple(model.parts.items()),
            states=tuple(model.states),
        )

    @property
    def factor_names(self) -> tuple[str, ...]:
        """All factors in the order of results (non-stochastic ones are declared first)."""
        return tuple(f.name for f in self.factors)

    @property
    def stochastic(self) -> tuple[str, ...]:
        """Factors of the factor dynamics, the order of the state vector ``z``."""
        return tuple(f.name for f in self.factors if f.stochastic)

    @property
    def asset_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.assets)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(a.label for a in self.assets)

    @property
    def series(self) -> tuple[str, ...]:
        """Series of a result: the assets, then the portfolios."""
        return (*self.asset_names, *(p.name for p in self.portfolios))

    def asset(self, name: str) -> Asset:
        return self.assets[self.asset_names.index(name)]

    def exposure_index(self, names: tuple[str, ...]) -> list[int]:
        """Positions of ``names`` among :attr:`exposures` (columns of ``beta``)."""
        return [self.exposures.index(n) for n in names]

    def select_assets(self, names: tuple[str, ...] | list[str]) -> ModelStructure:
        """Keep (and order) the given assets, and the portfolios and comparisons they complete."""
        keep = set(names)
        return ModelStructure(
            factors=self.factors,
            exposures=self.exposures,
            assets=tuple(self.asset(n) for n in names),
            portfolios=tuple(p for p in self.portfolios if {a for a, _ in p.weights} <= keep),
            comparisons=tuple(c for c in self.comparisons if {c.asset, c.beats} <= keep),
            parts=self.parts,
            states=self.states,
        )


@lru_cache(maxsize=8)
def _structure_of(path: str) -> ModelStructure:
    return ModelStructure.from_model_file(load_model_file(path)[0])


def default_structure(model: str | Path | None = None) -> ModelStructure:
    """The vocabulary of a model file (default: the packaged default model)."""
    return _structure_of(str(model_path(model).resolve()))
