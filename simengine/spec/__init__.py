"""Scenario specifications: pydantic models, safe YAML loading with file:line errors.

The spec layer never imports the numerical code (``factors``, ``assets``, ``simulate``).
"""

from simengine.spec.loader import load_merged_mapping, load_scenario, load_scenario_text
from simengine.spec.scenario import (
    FACTORS,
    Drift,
    FomcDecision,
    InitialState,
    MarketPricing,
    Pin,
    Positioning,
    ScenarioSpec,
    Shock,
    TariffStep,
    check_assets,
)
from simengine.spec.yaml_io import load_yaml_mapping

__all__ = [
    "FACTORS",
    "Drift",
    "FomcDecision",
    "InitialState",
    "MarketPricing",
    "Pin",
    "Positioning",
    "ScenarioSpec",
    "Shock",
    "TariffStep",
    "check_assets",
    "load_merged_mapping",
    "load_scenario",
    "load_scenario_text",
    "load_yaml_mapping",
]
