"""simengine: macro scenario simulation for small- and large-cap equity returns.

Write a scenario in YAML, then::

    import simengine
    spec = simengine.load_scenario("scenarios/fed_cut_september.yaml")
    res = simengine.simulate(spec, n_paths=100_000, seed=1)
    res.summary()

Heavy optional components (PyMC, Dask, matplotlib) are imported only when used.
"""

from __future__ import annotations

__version__ = "0.1.0"

from simengine.api import compare, load_model, simulate
from simengine.exceptions import SimengineError, SpecError
from simengine.results import Comparison, SimulationResult, load_result
from simengine.spec import ScenarioSpec, load_scenario

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
    "simulate",
]
