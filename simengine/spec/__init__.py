"""The spec layer: the scenario schema, the model-file envelope schema and sweeps, with safe
YAML loading and file:line errors.

The spec layer never imports the numerical code (``factors``, ``assets``, ``simulate``).
"""

from simengine.spec.loader import load_merged_mapping, load_scenario, load_scenario_text
from simengine.spec.model_checks import (
    check_against_model,
    check_assets,
    check_comparison,
    check_scenario_values,
)
from simengine.spec.scenario import (
    Drift,
    FomcDecision,
    InitialState,
    MarketPricing,
    Pin,
    Positioning,
    ScenarioSpec,
    Shock,
    TariffStep,
)
from simengine.spec.yaml_io import load_yaml_mapping

__all__ = [
    "Drift",
    "FomcDecision",
    "InitialState",
    "MarketPricing",
    "Pin",
    "Positioning",
    "ScenarioSpec",
    "Shock",
    "TariffStep",
    "check_against_model",
    "check_assets",
    "check_comparison",
    "check_scenario_values",
    "load_merged_mapping",
    "load_scenario",
    "load_scenario_text",
    "load_yaml_mapping",
]
