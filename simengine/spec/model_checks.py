"""Checks of a loaded scenario against the model it runs on (the last spec-layer checks).

:func:`check_against_model` runs once the model's vocabulary is known: asset names, factor
names, and factor values against a safety bound. Every problem is reported at its file and line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from simengine.exceptions import ComparisonError, SpecError
from simengine.spec.errors import did_you_mean

if TYPE_CHECKING:
    from simengine.spec.scenario import ScenarioSpec

__all__ = [
    "MAX_FACTOR_VALUE",
    "check_against_model",
    "check_assets",
    "check_comparison",
    "check_scenario_values",
]

MAX_FACTOR_VALUE = 100.0
"""Largest |value| of a factor shock, drift, pin or initial state in a scenario (pp: the
factors are monthly changes of yields and spreads, growth and inflation surprises, where 100pp
is already far beyond anything observed); ``SIMENGINE_MAX_FACTOR_VALUE``."""


class Vocabulary(Protocol):
    """What the checks need of :class:`simengine.structure.ModelStructure`."""

    @property
    def asset_names(self) -> tuple[str, ...]: ...

    @property
    def stochastic(self) -> tuple[str, ...]: ...


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def check_assets(spec: ScenarioSpec, available: Sequence[str]) -> None:
    """Check the spec's asset names against the model's.

    Raises
    ------
    SpecError
        Naming the file and line of each unknown asset, with "did you mean" and the valid names.
    """
    valid = ", ".join(available)
    issues = [
        spec.issue(("assets", i), f"unknown asset {name!r}", _guess_hint(name, available, valid))
        for i, name in enumerate(spec.assets)
        if name not in available
    ]
    if issues:
        raise SpecError(issues)


def _guess_hint(name: str, available: Sequence[str], valid: str) -> str:
    guess = did_you_mean(name, available)
    text = f"the model defines: {valid}" if valid else "the model defines no assets"
    return f"{guess} {text}" if guess else text


def _factor_entries(spec: ScenarioSpec) -> list[tuple[tuple, str, float]]:
    """(location, factor, value) of every factor value of the scenario."""
    out: list[tuple[tuple, str, float]] = [
        (("initial", "factors", k), k, v) for k, v in spec.initial.factors.items()
    ]
    out += [(("drifts", i, "shift"), d.factor, d.shift) for i, d in enumerate(spec.drifts)]
    out += [(("shocks", i, "size"), s.factor, s.size) for i, s in enumerate(spec.shocks)]
    out += [
        (("pins", i, "values", str(day)), p.factor, v)
        for i, p in enumerate(spec.pins)
        for day, v in p.values.items()
    ]
    return out


def check_scenario_values(spec: ScenarioSpec) -> None:
    """Reject absurd factor values (shocks, drifts, pins, initial state) at their file:line.

    Raises
    ------
    SpecError
        One issue per value with ``|value| > MAX_FACTOR_VALUE``.
    """
    bound = _env_float("SIMENGINE_MAX_FACTOR_VALUE", MAX_FACTOR_VALUE)
    issues = [
        spec.issue(
            loc,
            f"received {value:g}; expected a value within +-{bound:g} (factor units are pp; a "
            "safety limit)",
            "check the units, or raise the limit with SIMENGINE_MAX_FACTOR_VALUE=<value>",
        )
        for loc, _, value in _factor_entries(spec)
        if not abs(value) <= bound
    ]
    if issues:
        raise SpecError(issues)


def check_against_model(spec: ScenarioSpec, model: Vocabulary) -> None:
    """All checks of a scenario against its model: assets, factor names, factor values.

    Raises
    ------
    SpecError
        With the file and line of each problem.
    """
    check_assets(spec, model.asset_names)
    factors = model.stochastic
    issues = [
        spec.issue(
            loc[:-1] if loc[0] == "initial" else (*loc[:2], "factor"),
            f"unknown factor {name!r}",
            "the model's stochastic factors: " + ", ".join(factors),
        )
        for loc, name, _ in _factor_entries(spec)
        if name not in factors
    ]
    if issues:
        raise SpecError(issues)
    check_scenario_values(spec)


def check_comparison(specs: Sequence[ScenarioSpec]) -> None:
    """Scenarios compared on common random numbers need distinct names.

    Raises
    ------
    ComparisonError
        Listing the repeated names (bad input: exit status 2).
    """
    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ComparisonError(f"scenario names must be unique in a comparison; repeated: {dupes}")
