"""The parts a model is made of, by role and kind (see :mod:`simengine.parts.base`).

A model file lists its parts (``parts: {dynamics: var1, ...}``); :data:`KINDS` maps each
``(role, kind)`` to its class. A new part is one module and one line here.
"""

from __future__ import annotations

from simengine.parts.base import ROLES, EventPaths, Part, PartParams, RunShape
from simengine.parts.dynamics import Var1
from simengine.parts.jumps import Squeeze
from simengine.parts.overlays import Overlays, ScenarioModel, build_scenario
from simengine.parts.policy import Fomc
from simengine.parts.residuals import StudentT
from simengine.parts.returns import FactorLoadings

__all__ = [
    "KINDS",
    "ROLES",
    "EventPaths",
    "Part",
    "PartParams",
    "RunShape",
    "ScenarioModel",
    "build_scenario",
]

KINDS: dict[tuple[str, str], type[Part]] = {
    (cls.role, cls.kind): cls for cls in (Fomc, Overlays, Var1, FactorLoadings, StudentT, Squeeze)
}
"""``(role, kind)`` -> part class."""
