"""simengine: macro scenario simulation for small- and large-cap equity returns.

Write a scenario in YAML, then::

    import simengine
    spec = simengine.load_scenario("scenarios/fed_cut_september.yaml")
    res = simengine.simulate(spec, n_paths=100_000, seed=1)
    res.summary()

The public names below are imported on first use, so ``import simengine.spec`` stays light and
heavy optional components (PyMC, Dask, matplotlib) are imported only where they are used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "compare": "simengine.api",
    "simulate": "simengine.api",
    "load_model": "simengine.api",
    "load_scenario": "simengine.spec",
    "ScenarioSpec": "simengine.spec",
    "SimulationResult": "simengine.results",
    "Comparison": "simengine.results",
    "load_result": "simengine.results",
    "SimengineError": "simengine.exceptions",
    "SpecError": "simengine.exceptions",
    "run_batch": "simengine.batch",
}

__all__ = [
    "Comparison",
    "ScenarioSpec",
    "SimengineError",
    "SimulationResult",
    "SpecError",
    "__version__",
    "compare",
    "load_model",
    "load_result",
    "load_scenario",
    "run_batch",
    "simulate",
]

if TYPE_CHECKING:
    from simengine.api import compare, load_model, simulate
    from simengine.batch import run_batch
    from simengine.exceptions import SimengineError, SpecError
    from simengine.results import Comparison, SimulationResult, load_result
    from simengine.spec import ScenarioSpec, load_scenario


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'simengine' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
