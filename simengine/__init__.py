"""simengine: macro scenario simulation for small- and large-cap equity returns.

Write a scenario in YAML, then::

    import simengine
    spec = simengine.load_scenario("scenarios/fed_cut_september.yaml")
    res = simengine.simulate(spec, n_paths=100_000, seed=1)
    res.summary()

Every public name is imported on first access (module ``__getattr__``), so ``import simengine``
and the command line's ``--help`` load neither the engine nor pandas, xarray or scipy.
"""

from __future__ import annotations

import sys
import types
from importlib import import_module
from typing import TYPE_CHECKING, Any

from simengine.version import __version__

if TYPE_CHECKING:
    from simengine.api import compare, load_model, simulate
    from simengine.batch import run_batch
    from simengine.exceptions import SimengineError, SpecError
    from simengine.results import Comparison, SimulationResult, load_result
    from simengine.spec import ScenarioSpec, load_scenario
    from simengine.workflows import make_report, weigh

_PUBLIC: dict[str, str] = {
    "Comparison": "simengine.results",
    "ScenarioSpec": "simengine.spec",
    "SimengineError": "simengine.exceptions",
    "SimulationResult": "simengine.results",
    "SpecError": "simengine.exceptions",
    "compare": "simengine.api",
    "load_model": "simengine.api",
    "load_result": "simengine.results",
    "load_scenario": "simengine.spec",
    "make_report": "simengine.workflows",
    "run_batch": "simengine.batch",
    "simulate": "simengine.api",
    "weigh": "simengine.workflows",
}
"""Public name -> the module that defines it."""

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
    "make_report",
    "run_batch",
    "simulate",
    "weigh",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'simengine' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


class _Package(types.ModuleType):
    """The package module: ``simengine.simulate`` is the API function, never the submodule.

    Importing the submodule :mod:`simengine.simulate` makes the import system bind it as an
    attribute of the package; the setter ignores that binding (the submodule stays in
    ``sys.modules``), so the name keeps meaning :func:`simengine.api.simulate`.
    """

    @property
    def simulate(self) -> Any:
        override = self.__dict__.get("_simulate_override")
        if override is not None:
            return override
        from simengine.api import simulate

        return simulate

    @simulate.setter
    def simulate(self, value: Any) -> None:
        if not isinstance(value, types.ModuleType):  # e.g. a test's monkeypatch
            self.__dict__["_simulate_override"] = value

    @simulate.deleter
    def simulate(self) -> None:
        self.__dict__.pop("_simulate_override", None)


sys.modules[__name__].__class__ = _Package
