"""The interface of a model part, and what parts pass to each other.

A model is a list of parts, one per role (:data:`ROLES`), in the manner of arch's mean /
volatility / distribution. Each part (a subclass of :class:`Part`) owns

* ``Schema``: the pydantic schema of its parameters in the model file. Its parameters are the
  top-level ``section`` (e.g. ``dynamics``), the ``top_fields`` (e.g. ``neutral_rate``) and the
  ``asset_fields`` of each asset (e.g. ``sigma``); the schema sees them as one mapping
  ``{**section, **top_fields, "assets": {name: {asset fields}}}``;
* ``Params``: a typed, frozen container of numpy arrays with a leading draw axis
  (:class:`PartParams`), built from the validated schema by :meth:`Part.build`;
* :meth:`Part.streams`: the random draws it needs (:class:`simengine.rng.Stream`, each its own
  stream kind, so the reproducibility contract of :mod:`simengine.rng` holds part by part);
* its simulate step, whose signature depends on the role (see each role's base class).

The engine (:mod:`simengine.simulate`) calls the roles in a fixed order: policy, overlays,
factor dynamics, returns (asset mean), residuals, jumps.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar, Self

import numpy as np
from pydantic import BaseModel

from simengine.exceptions import NumericalError, SimulationError
from simengine.rng import Stream
from simengine.structure import ModelStructure

__all__ = ["ROLES", "EventPaths", "Part", "PartParams", "RunShape", "first_bad", "sub_chol"]

ROLES: tuple[str, ...] = ("policy", "overlays", "dynamics", "returns", "residuals", "jumps")
"""Roles of a model's parts, in the order the engine runs them."""


def first_bad(bad: np.ndarray) -> str:
    """Which draw holds the first ``True`` of ``bad`` (leading draw axis), for messages."""
    idx = np.argwhere(bad)[0]
    n_draws = bad.shape[0]
    return f"draw {int(idx[0])} of {n_draws}" if n_draws > 1 else "the point value"


def sub_chol(chol: np.ndarray, idx: list[int]) -> np.ndarray:
    """Cholesky factor of the correlation of the rows/columns ``idx`` (leading draw axis)."""
    corr = chol @ np.swapaxes(chol, -1, -2)
    return np.linalg.cholesky(corr[:, idx][:, :, idx])


@dataclass(frozen=True)
class PartParams:
    """Typed parameters of one part: every field is an ndarray with a leading draw axis ``D``
    (1 for point values; the posterior draws otherwise).

    Subclasses declare their fields (with units in comments) and which fields carry an asset
    axis (``asset_axis``: axis 1) or are Cholesky factors across assets (``asset_chol``);
    ``dof_fields`` may be ``inf`` (Gaussian); ``positive`` / ``non_negative`` are checked
    (the diagonal for the matrices in ``diagonal``).
    """

    asset_axis: ClassVar[tuple[str, ...]] = ()
    asset_chol: ClassVar[tuple[str, ...]] = ()
    dof_fields: ClassVar[tuple[str, ...]] = ()
    positive: ClassVar[tuple[str, ...]] = ()
    non_negative: ClassVar[tuple[str, ...]] = ()
    diagonal: ClassVar[tuple[str, ...]] = ()
    """Matrices (Cholesky factors) whose diagonal is checked by ``positive``."""

    def arrays(self) -> dict[str, np.ndarray]:
        """Field name -> array."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def n_draws(self) -> int:
        return int(next(iter(self.arrays().values())).shape[0])

    def take(self, param_draw: np.ndarray | None) -> Self:
        """The parameters of each path (``param_draw`` (m,)); ``None`` keeps the shared draw.

        Each field is gathered when it is first read (:meth:`__getattr__`): a chunk of a
        Bayesian run reads only some fields per path (the fused kernel reads most per draw),
        and gathering every field of every part was a tenth of the run. The values are
        ``field[param_draw]`` either way.
        """
        if param_draw is None:
            return self
        out = object.__new__(type(self))
        object.__setattr__(out, "_gather_from", (self, param_draw))
        return out

    def __getattr__(self, name: str) -> Any:
        """A field of a :meth:`take` result, gathered on first read (normal lookup failed)."""
        source = self.__dict__.get("_gather_from")
        if source is None or name.startswith("__"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        params, param_draw = source
        value = np.take(getattr(params, name), param_draw, axis=0)  # = field[param_draw], faster
        object.__setattr__(self, name, value)
        return value

    def with_draws(self, arrays: dict[str, np.ndarray], d: int) -> Self:
        """Replace some fields by ``d`` posterior draws; tile the others along the draw axis."""
        out = {}
        for name, cur in self.arrays().items():
            new = arrays.get(name)
            if new is None:
                out[name] = np.repeat(cur, d, axis=0) if cur.shape[0] == 1 else cur
            elif new.shape[1:] != cur.shape[1:]:
                raise SimulationError(
                    f"posterior field {name} has shape {new.shape[1:]}, expected {cur.shape[1:]}"
                )
            else:
                out[name] = np.asarray(new, dtype=np.float64)
        return replace(self, **out)

    def select_assets(self, idx: list[int]) -> Self:
        """Keep (and order) the assets ``idx``."""
        out: dict[str, Any] = {n: getattr(self, n)[:, idx] for n in self.asset_axis}
        out.update({n: sub_chol(getattr(self, n), idx) for n in self.asset_chol})
        return replace(self, **out)

    def check(self, what: str, role: str = "") -> None:
        """Every value finite (dof may be ``inf``, must be > 2); the sign rules of the class.

        ``role`` prefixes the field names in messages (``residuals.sigma``).

        Raises
        ------
        NumericalError
            Naming the field, the draw and the value received.
        """
        pre = f"{role}." if role else ""
        for name, value in self.arrays().items():
            value = np.asarray(value, dtype=np.float64)
            if name in self.dof_fields:
                bad = np.isnan(value) | (value <= 2.0)
                if bad.any():
                    raise NumericalError(
                        f"{what}: {pre}{name} (Student-t degrees of freedom) is {value[bad][0]:g} in "
                        f"{first_bad(bad)}; it must be > 2 for a finite variance (inf = Gaussian)"
                    )
                continue
            bad = ~np.isfinite(value)
            if bad.any():
                raise NumericalError(
                    f"{what}: {pre}{name} has a non-finite value in {first_bad(bad)}"
                )
        rules = [(n, False) for n in self.positive] + [(n, True) for n in self.non_negative]
        for name, zero_ok in rules:
            value = np.asarray(getattr(self, name), dtype=np.float64)
            shown = pre + name
            if name in self.diagonal:
                value, shown = np.diagonal(value, axis1=-2, axis2=-1), f"{shown} (diagonal)"
            bad = value < 0 if zero_ok else value <= 0
            if bad.any():
                sign = ">= 0" if zero_ok else "> 0"
                raise NumericalError(
                    f"{what}: {shown} is {value[bad][0]:g} in {first_bad(bad)}; expected {sign}"
                )


@dataclass(frozen=True)
class RunShape:
    """Sizes of one run that fix the shapes of the draws."""

    n_steps: int
    n_months: int
    n_factors: int
    n_assets: int
    n_meetings: int = 0
    n_tariff_events: int = 0


@dataclass(frozen=True)
class EventPaths:
    """A policy or tariff path on both time axes: steps (returns) and months (factors).

    ``level_*`` is the level at the end of each step / month (%); ``surprise_*`` the policy
    surprise in it (pp; zero for tariffs); ``change_*`` the change in the level over it.
    """

    level_step: np.ndarray  # (m or 1, T)
    level_month: np.ndarray  # (m or 1, M)
    start: float
    surprise_step: np.ndarray | None = None
    surprise_month: np.ndarray | None = None
    neutral: np.ndarray | None = None  # (D|m,) neutral rate of a policy path

    @property
    def gap_step(self) -> np.ndarray:
        """``p_{t-1} - n`` on the steps (policy paths)."""
        assert self.neutral is not None
        return self.before_step - self.neutral[:, None]

    @property
    def gap_month(self) -> np.ndarray:
        """``p_{m-1} - n`` on the months (policy paths)."""
        assert self.neutral is not None
        return self.before_month - self.neutral[:, None]

    @property
    def change_step(self) -> np.ndarray:
        return np.diff(self.level_step, axis=1, prepend=self.start)

    @property
    def change_month(self) -> np.ndarray:
        return np.diff(self.level_month, axis=1, prepend=self.start)

    @property
    def before_step(self) -> np.ndarray:
        """Level at the start of each step (``p_{t-1}``)."""
        return np.concatenate(
            [np.full((self.level_step.shape[0], 1), self.start), self.level_step[:, :-1]], axis=1
        )

    @property
    def before_month(self) -> np.ndarray:
        """Level at the start of each month (the end of the previous one)."""
        return np.concatenate(
            [np.full((self.level_month.shape[0], 1), self.start), self.level_month[:, :-1]], axis=1
        )


class Part:
    """One part of the model (see the module docstring). Subclasses set the class attributes
    and implement :meth:`build`, and the simulate step of their role."""

    role: ClassVar[str]
    kind: ClassVar[str]
    section: ClassVar[str | None] = None
    top_fields: ClassVar[tuple[str, ...]] = ()
    asset_fields: ClassVar[tuple[str, ...]] = ()
    Schema: ClassVar[type[BaseModel] | None] = None
    event: ClassVar[str] = ""
    """Name of the per-path event the part reports (jumps: ``squeeze``), or none."""

    def build(self, schema: Any, structure: ModelStructure, where: str) -> PartParams | None:
        """Point parameters (``D = 1``) from the validated schema (``None``: no parameters).

        ``where`` names the model file in errors.
        """
        return None

    def streams(self, shape: RunShape, params: Any) -> tuple[Stream, ...]:
        """The random draws of one path (none by default)."""
        return ()

    def view(self, data: dict[str, Any]) -> dict[str, Any]:
        """The part's parameters in the model file, as the one mapping its schema reads."""
        out = dict(data.get(self.section) or {}) if self.section else {}
        out.update({k: data[k] for k in self.top_fields if k in data})
        if self.asset_fields:
            out["assets"] = {
                name: {k: v for k, v in (spec or {}).items() if k in self.asset_fields}
                for name, spec in (data.get("assets") or {}).items()
            }
        return out

    def file_loc(self, loc: tuple) -> tuple:
        """Where a field of :meth:`view` sits in the model file."""
        if not loc or loc[0] == "assets" or loc[0] in self.top_fields or self.section is None:
            return loc
        return (self.section, *loc)
