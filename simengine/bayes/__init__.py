"""Bayesian calibration: PyMC model, fit, diagnostics, posterior store, scenario weighting.

Attributes are imported lazily so that ``import simengine.bayes`` (and the scenario-weighting
helpers) do not import PyMC or ArviZ; :func:`fit` and the model import them when called.

    table --fit--> InferenceData --save_posterior--> posterior.nc
    posterior.nc --load_posterior--> InferenceData --posterior_to_param_arrays--> ModelParams fields
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "DiagnosticsReport",
    "PriorSet",
    "Thresholds",
    "build_model",
    "check_convergence",
    "diagnose",
    "fit",
    "gaussian_path_loglik",
    "load_posterior",
    "load_priors",
    "model_structure_hash",
    "params_from_posterior",
    "posterior_to_param_arrays",
    "posterior_weights",
    "prepare_data",
    "save_posterior",
    "thin_posterior",
]

_WHERE = {
    "DiagnosticsReport": "diagnostics",
    "Thresholds": "diagnostics",
    "check_convergence": "diagnostics",
    "diagnose": "diagnostics",
    "PriorSet": "priors",
    "load_priors": "priors",
    "build_model": "model",
    "fit": "fit",
    "prepare_data": "prepare",
    "load_posterior": "store",
    "model_structure_hash": "store",
    "params_from_posterior": "store",
    "posterior_to_param_arrays": "store",
    "save_posterior": "store",
    "thin_posterior": "store",
    "gaussian_path_loglik": "weights",
    "posterior_weights": "weights",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'simengine.bayes' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"simengine.bayes.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
