"""simengine: macro scenario simulation for small- and large-cap equity returns.

Write a scenario in YAML, then::

    import simengine
    spec = simengine.load_scenario("scenarios/fed_cut_september.yaml")
    res = simengine.simulate(spec, n_paths=100_000, seed=1)
    res.summary()

Heavy optional components (PyMC, Dask, matplotlib) are imported only where they are used;
``run_batch`` (Dask) is imported on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# The API functions are bound after their modules are imported, so the function
# ``simengine.simulate`` shadows the module ``simengine.simulate`` as an attribute.
from simengine.api import compare, load_model, simulate
from simengine.exceptions import SimengineError, SpecError
from simengine.results import Comparison, SimulationResult, load_result
from simengine.spec import ScenarioSpec, load_scenario
from simengine.version import __version__

if TYPE_CHECKING:
    from simengine.batch import run_batch

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


def __getattr__(name: str) -> Any:
    if name == "run_batch":
        from simengine.batch import run_batch

        return run_batch
    raise AttributeError(f"module 'simengine' has no attribute {name!r}")
