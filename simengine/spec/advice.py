"""What a scenario leaves implicit, said out loud: drawn meetings, missing pricing, odd values.

Nothing here rejects a scenario (that is :mod:`simengine.spec.scenario` and
:mod:`simengine.guards`). It returns notes and warnings that ``validate`` and ``run`` print and
the Python API raises as :class:`~simengine.exceptions.ScenarioWarning`:

* which FOMC meetings the scenario does not decide, so each path draws them from market
  pricing (or holds, where nothing is priced);
* a scenario with meetings but no ``market_pricing`` (every decision is then a full surprise);
* factor values, policy and tariff levels outside the range of 1980-2025 history
  (``simengine/models/history.json``, written by ``scripts/history_ranges.py``).
"""

from __future__ import annotations

import json
import warnings
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simengine.exceptions import Issue, ScenarioWarning

if TYPE_CHECKING:  # pragma: no cover - typing only
    from simengine.spec.scenario import ScenarioSpec

__all__ = [
    "FACTOR_UNITS",
    "decided_meetings",
    "drawn_meetings",
    "history",
    "meetings_line",
    "scenario_warnings",
    "warn_scenario",
]

#: Factor units in a strategist's words, and how to read one unit of it.
FACTOR_UNITS: dict[str, str] = {
    "rates": "pp a month of change in the 2-year Treasury yield (0.25 = the 2-year yield rises "
    "25bp a month)",
    "growth": "pp a month of industrial production growth above its 1980-2025 average of "
    "0.12pp (0.1 = about +1.2pp annualised)",
    "inflation": "pp of annualised core CPI inflation above 2% (1.0 = core CPI running at 3%)",
    "credit": "pp a month of change in the high-yield spread (0.1 = spreads widen 10bp a month)",
}


@lru_cache(maxsize=1)
def history() -> dict[str, Any]:
    """Historical ranges of the factors and levels (``simengine/models/history.json``)."""
    path = Path(__file__).resolve().parents[1] / "models" / "history.json"
    return json.loads(path.read_text(encoding="utf-8"))


def fit_sample_ranges() -> dict[str, tuple[float, float]]:
    """(min, max) monthly value of each factor (and the policy rate and tariff level) over the
    default model's fit sample, 1997-2025 (``history.json``'s ``fit_sample``): what the units
    warning on pins of a monthly change quotes (:func:`simengine.spec.model_checks.check_pin_units`)."""
    return {k: (float(lo), float(hi)) for k, (lo, hi) in history()["fit_sample"]["monthly"].items()}


def _window(spec: ScenarioSpec) -> tuple[date, ...]:
    return tuple(m for m in spec.calendar if spec.start < m <= spec.horizon)


def decided_meetings(spec: ScenarioSpec) -> dict[date, str]:
    """Meetings the scenario decides itself: date -> ``"hold"``, ``"-25bp"`` or ``"random"``."""
    return {
        d.meeting: (
            "random"
            if d.change_bp is None
            else "hold"
            if d.change_bp == 0
            else f"{d.change_bp:+g}bp"
        )
        for d in spec.fomc
    }


def drawn_meetings(spec: ScenarioSpec) -> tuple[date, ...]:
    """Meetings in ``(start, horizon]`` the scenario leaves open: drawn from pricing on each path."""
    decided = decided_meetings(spec)
    return tuple(m for m in _window(spec) if m not in decided)


def meetings_line(spec: ScenarioSpec) -> str:
    """One line for a run header: fixed meetings, then those drawn from market pricing."""
    decided = decided_meetings(spec)
    fixed = [f"{m} {decided[m]}" for m in _window(spec) if m in decided]
    drawn = drawn_meetings(spec)
    priced = {p.fomc for p in spec.market_pricing}
    parts = []
    if fixed:
        parts.append("set by the scenario: " + ", ".join(fixed))
    if drawn:
        held = [m for m in drawn if m not in priced]
        text = "drawn from market pricing on each path: " + ", ".join(map(str, drawn))
        if held:
            text += f" (unpriced, so held: {', '.join(map(str, held))})"
        parts.append(text)
    return "; ".join(parts) if parts else "no FOMC meeting in the window"


def _pricing_warning(spec: ScenarioSpec) -> list[Issue]:
    if spec.market_pricing or not _window(spec):
        return []
    return [
        spec.issue(
            ("market_pricing",),
            "no market_pricing: the market is taken to expect no change at any meeting, so "
            "every cut or hike is a full surprise (it moves the 2-year yield and prices on the "
            "day)",
            "add market_pricing: (what futures price per meeting), or extend base_2025h2",
        )
    ]


def _outside(value: float, span: dict[str, Any]) -> bool:
    return not span["p01"] <= value <= span["p99"]


def _range_text(span: dict[str, Any], what: str) -> str:
    return (
        f"1980-2025 {what}: {span['min']:.2f} ({span['min_date'][:7]}) to {span['max']:.2f} "
        f"({span['max_date'][:7]}); 98% within {span['p01']:.2f} .. {span['p99']:.2f}"
    )


def _value_warnings(spec: ScenarioSpec) -> list[Issue]:
    """Values beyond history; factors without a recorded history (a model's own) are skipped."""
    hist = history()
    monthly, yearly = hist["monthly"], hist["avg_12m"]
    checks: list[tuple[tuple, float, dict[str, Any] | None, str, str]] = []
    for i, d in enumerate(spec.drifts):
        units = FACTOR_UNITS.get(d.factor, "")
        checks.append(
            (("drifts", i, "shift"), d.shift, yearly.get(d.factor), "12-month averages", units)
        )
    for i, s in enumerate(spec.shocks):
        checks.append((("shocks", i, "size"), s.size, monthly.get(s.factor), "monthly values", ""))
    for i, p in enumerate(spec.pins):
        for day, v in p.values.items():
            loc = ("pins", i, "values", str(day))
            checks.append((loc, v, monthly.get(p.factor), "monthly values", ""))
    for k, v in spec.initial.factors.items():
        checks.append((("initial", "factors", k), v, monthly.get(k), "monthly values", ""))
    checks = [c for c in checks if c[2] is not None]
    out = [
        spec.issue(
            loc,
            f"{value:g} is outside the usual range of history ({_range_text(span, what)})",
            (f"units: {units}. " if units else "") + "check the size, or keep it if you mean it",
        )
        for loc, value, span, what, units in checks
        if _outside(value, span)
    ]
    return out + _level_warnings(spec, hist["level"])


def _level_warnings(spec: ScenarioSpec, levels: dict[str, Any]) -> list[Issue]:
    out = []
    rate = levels["policy_rate"]
    if not rate["min"] <= spec.initial.policy_rate <= rate["max"]:
        out.append(
            spec.issue(
                ("initial", "policy_rate"),
                f"{spec.initial.policy_rate:g}% is outside 1980-2025 history "
                f"({rate['min']:g}% to {rate['max']:g}%)",
            )
        )
    tariff = levels["tariff"]
    for i, step in enumerate(spec.tariffs):
        if step.level > tariff["max"]:
            out.append(
                spec.issue(
                    ("tariffs", i, "level"),
                    f"{step.level:g}% is above the highest effective tariff rate since 1980 "
                    f"({tariff['max']:.1f}% in {tariff['max_date'][:7]}); the tariff loadings are "
                    "fitted on moves up to that size",
                )
            )
    return out


def scenario_warnings(spec: ScenarioSpec) -> list[Issue]:
    """Every warning about ``spec``, each placed at its file and line.

    Returns
    -------
    list of Issue
        Missing market pricing, values outside history (a horizon past the FOMC calendar is
        an error of the spec itself).
    """
    return _pricing_warning(spec) + _value_warnings(spec)


def warn_scenario(spec: ScenarioSpec) -> list[Issue]:
    """Issue each of :func:`scenario_warnings` as a :class:`ScenarioWarning`; return them."""
    issues = scenario_warnings(spec)
    for issue in issues:
        warnings.warn(issue.format(), ScenarioWarning, stacklevel=3)
    return issues
