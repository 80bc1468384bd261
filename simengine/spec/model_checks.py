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
from simengine.spec.fields import LEVEL_PINS

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
        if p.factor not in LEVEL_PINS  # levels (%): checked by the scenario schema
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


CHANGE_PINS = {
    "rates": (
        "rates is the monthly change of the 2-year yield (pp)",
        "to pin the 2-year yield level write factor: yield_2y (%, needs initial.yield_2y)",
    ),
    "credit": (
        "credit is the monthly change of the high-yield spread (pp)",
        "pin the change in the month, e.g. 0.5 for +50bp",
    ),
}


def check_pin_units(spec: ScenarioSpec, ranges: dict[str, tuple[float, float]]) -> list[str]:
    """Warn where a pin on a monthly change lies outside that change's historical range.

    ``ranges`` maps a factor to its (min, max) monthly value in the data
    (:func:`simengine.spec.advice.fit_sample_ranges`). Returns the messages (also issued as
    :class:`UnitsWarning`).
    """
    import warnings

    from simengine.exceptions import UnitsWarning

    messages = []
    for i, pin in enumerate(spec.pins):
        if pin.factor not in CHANGE_PINS or pin.factor not in ranges:
            continue
        lo, hi = ranges[pin.factor]
        what, hint = CHANGE_PINS[pin.factor]
        for day, v in pin.values.items():
            if lo <= v <= hi:
                continue
            issue = spec.issue(
                ("pins", i, "values", str(day)),
                f"{v:g} is outside the historical range of {pin.factor} ({lo:+.2f} to {hi:+.2f} "
                f"pp a month, 1997-2025); {what}, so this is a {v * 100:+.0f}bp move in one "
                "month - was a level meant?",
                hint,
            )
            messages.append(issue.format())
    for message in messages:
        warnings.warn(UnitsWarning(message), stacklevel=2)
    return messages
