"""Model parameters: the model's parts with their typed parameters, read from a model file.

A :class:`ModelParams` holds the vocabulary (:class:`~simengine.structure.ModelStructure`),
one part per role (:mod:`simengine.parts`) and each part's parameters
(:class:`~simengine.parts.base.PartParams`). Every parameter array has a leading *draw* axis
``D``: ``D = 1`` for point values from a model file, ``D`` = number of posterior draws for a
Bayesian run, where each path uses one draw.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from simengine.exceptions import Issue, ModelFileError, SimulationError
from simengine.parts import KINDS, ROLES, Part, PartParams
from simengine.spec.errors import format_field, issues_from_validation_error
from simengine.spec.model_file import ModelFile, load_model_file
from simengine.spec.yaml_io import LineMap
from simengine.structure import ModelStructure, default_model_path

__all__ = ["ModelParams", "default_model_path", "model_file_hash"]


class _PartLocations(Mapping):
    """Line numbers of a part's fields, looked up by their place in the part's view."""

    def __init__(self, part: Part, lines: LineMap, shown: str) -> None:
        self.part, self.lines, self.shown = part, lines, shown

    def __getitem__(self, loc: tuple) -> tuple[str, int | None]:
        line = self.lines.get(self.part.file_loc(loc))
        if line is None:
            raise KeyError(loc)
        return self.shown, line

    def __iter__(self):  # pragma: no cover - lookups only
        return iter(())

    def __len__(self) -> int:  # pragma: no cover
        return 0


def _validate_part(
    part: Part, data: dict[str, Any], lines: LineMap, shown: str, structure: ModelStructure
) -> Any:
    """The part's schema validated from its view of the file; errors at the file's lines."""
    assert part.Schema is not None
    try:
        return part.Schema.model_validate(part.view(data), context={"structure": structure})
    except ValidationError as err:
        issues = issues_from_validation_error(
            err, part.Schema, _PartLocations(part, lines, shown), shown
        )
        fixed = [
            replace(issue, field=format_field(part.file_loc(tuple(e["loc"]))))
            for issue, e in zip(issues, err.errors(), strict=False)
        ]
        raise ModelFileError(fixed + issues[len(fixed) :]) from None


RETIRED_ASSET_FIELDS = {
    "surprise_response": "surprise_response is no longer read (the policy part computed the "
    "response itself and ignored it): give announcement_total instead, the total log return per "
    "pp of policy surprise on the day (e.g. -0.06 for small caps, Bernanke & Kuttner 2005); the "
    "policy part splits it (docs/model.md)",
}
"""Asset fields earlier model files had, and what to write instead."""


def _claimed_keys(envelope: ModelFile, parts: dict[str, Part], lines: LineMap, shown: str) -> None:
    """Every top-level key and asset field belongs to the envelope or to a part."""
    top = {p.section for p in parts.values() if p.section} | {
        k for p in parts.values() for k in p.top_fields
    }
    per_asset = {k for p in parts.values() for k in p.asset_fields}
    issues = [
        Issue(shown, lines.get((k,)), k, "unknown key: no part of the model reads it", "")
        for k in envelope.model_extra or {}
        if k not in top
    ]
    for name, asset in envelope.assets.items():
        issues += [
            Issue(
                shown,
                lines.get(("assets", name, k)),
                f"assets.{name}.{k}",
                RETIRED_ASSET_FIELDS.get(k, "unknown asset field: no part of the model reads it"),
                f"fields read by the parts: {sorted(per_asset)}",
            )
            for k in asset.model_extra or {}
            if k not in per_asset
        ]
    if issues:
        raise ModelFileError(issues)


def _make_parts(envelope: ModelFile, structure: ModelStructure, lines: LineMap, shown: str):
    issues = []
    for role, kind in envelope.parts.items():
        if role not in ROLES:
            issues.append(
                Issue(
                    shown,
                    lines.get(("parts", role)),
                    f"parts.{role}",
                    f"unknown role {role!r}",
                    f"roles: {list(ROLES)}",
                )
            )
        elif (role, kind) not in KINDS:
            known = sorted(k for r, k in KINDS if r == role)
            issues.append(
                Issue(
                    shown,
                    lines.get(("parts", role)),
                    f"parts.{role}",
                    f"unknown {role} part {kind!r}",
                    f"known: {known}",
                )
            )
    missing = [r for r in ROLES if r not in envelope.parts]
    if missing:
        issues.append(
            Issue(
                shown,
                lines.get(("parts",)),
                "parts",
                f"missing roles {missing}",
                "list one part per role",
            )
        )
    if issues:
        raise ModelFileError(issues)
    return {role: KINDS[(role, envelope.parts[role])](structure) for role in ROLES}


def model_file_hash(envelope: ModelFile, schemas: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of a validated model file (envelope and part sections).

    The opt-in ``repair_correlation`` flags are left out while false, and the residual
    ``sigma_scale`` while 1 (no recalibration), so files without them keep their hash.
    """
    data: dict[str, Any] = envelope.model_dump(mode="json", exclude=set(envelope.model_extra or {}))
    parts = {}
    for role, schema in schemas.items():
        if schema is None:
            continue
        dumped = schema.model_dump(mode="json")
        if not dumped.get("repair_correlation", True):
            dumped.pop("repair_correlation")
        for spec in (dumped.get("assets") or {}).values():
            if isinstance(spec, dict) and spec.get("sigma_scale") == 1.0:
                spec.pop("sigma_scale")
        parts[role] = dumped
    data["part_parameters"] = parts
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ModelParams:
    """The model's parts and their parameters, with a leading draw axis ``D``.

    Notes
    -----
    ``params["dynamics"]`` is the factor dynamics' parameter container, and so on for each role
    of :data:`simengine.parts.ROLES`; the equations are in each part's docstring.
    """

    structure: ModelStructure
    parts: dict[str, Part]
    values: dict[str, PartParams | None]
    model_hash: str = ""
    posterior_hash: str = ""
    source: str = field(default="", compare=False)

    def __getitem__(self, role: str) -> Any:
        return self.values[role]

    @property
    def assets(self) -> tuple[str, ...]:
        return self.structure.asset_names

    @property
    def labels(self) -> tuple[str, ...]:
        return self.structure.labels

    @property
    def start_levels(self) -> tuple[float, ...]:
        return tuple(a.start_level for a in self.structure.assets)

    @property
    def n_draws(self) -> int:
        return max(v.n_draws for v in self.values.values() if v is not None)

    @classmethod
    def load(cls, path: str | Path, *, repair_correlation: bool | None = None) -> ModelParams:
        """Point parameters (``D = 1``) of a model file, stamped with its hash.

        Raises
        ------
        ModelFileError
            The file does not match the envelope schema or a part's schema (file and line).
        NumericalError
            A correlation matrix is not positive definite (and no repair was asked), the VAR is
            explosive beyond :data:`simengine.guards.MAX_SPECTRAL_RADIUS`, or a value is invalid.
        """
        envelope, data, lines = load_model_file(path)
        return cls.from_document(envelope, data, lines, str(path), repair_correlation)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str = "") -> ModelParams:
        """Point parameters from model-file data held in memory (e.g. a backtest refit)."""
        from simengine.spec.errors import issues_from_validation_error as issues

        try:
            envelope = ModelFile.model_validate(data)
        except ValidationError as err:
            raise ModelFileError(issues(err, ModelFile, {}, source or "<model>")) from None
        return cls.from_document(envelope, data, {}, source)

    @classmethod
    def from_document(
        cls,
        envelope: ModelFile,
        data: dict[str, Any],
        lines: LineMap,
        source: str = "",
        repair_correlation: bool | None = None,
    ) -> ModelParams:
        """Validate each part's section, build its parameters and run the numerical guards."""
        shown = source or "<model>"
        structure = ModelStructure.from_model_file(envelope)
        parts = _make_parts(envelope, structure, lines, shown)
        _claimed_keys(envelope, parts, lines, shown)
        where = f" in {source}" if source else ""
        schemas, values = {}, {}
        for role, part in parts.items():
            schema = (
                None if part.Schema is None else _validate_part(part, data, lines, shown, structure)
            )
            schemas[role] = schema
            if schema is None:
                values[role] = None
                continue
            kwargs = {}
            if repair_correlation is not None and hasattr(schema, "repair_correlation"):
                kwargs["repair"] = repair_correlation
            values[role] = part.build(schema, structure, where, **kwargs)
        out = cls(structure, parts, values, model_file_hash(envelope, schemas), source=source)
        return out._checked(f"model file{where}")

    def _checked(self, what: str) -> ModelParams:
        """Run each part's numerical guards and return ``self``."""
        for role, value in self.values.items():
            if value is not None:
                value.check(what, role)
        return self

    def with_draws(
        self, arrays: dict[str, dict[str, np.ndarray]], posterior_hash: str
    ) -> ModelParams:
        """Replace some parameters by posterior draws; the others are tiled along the draw axis.

        Parameters
        ----------
        arrays : dict
            Role -> field name -> array with a leading draw axis, in the units of the part.
        posterior_hash : str
            Hash of the posterior file, stamped on results.
        """
        n = {a.shape[0] for fields in arrays.values() for a in fields.values()}
        if len(n) != 1:
            raise SimulationError(f"posterior arrays disagree on the number of draws: {sorted(n)}")
        d = n.pop()
        values = {
            role: None if v is None else v.with_draws(arrays.get(role, {}), d)
            for role, v in self.values.items()
        }
        result = replace(self, values=values, posterior_hash=posterior_hash)
        return result._checked("posterior draws")

    def per_path(self, param_draw: np.ndarray | None) -> dict[str, Any]:
        """Each part's parameters for a set of paths (``None``: the shared point values)."""
        return {r: None if v is None else v.take(param_draw) for r, v in self.values.items()}

    def select_assets(self, names: tuple[str, ...] | list[str]) -> ModelParams:
        """Keep (and order) the given assets."""
        idx = [self.assets.index(a) for a in names]
        structure = self.structure.select_assets(names)
        parts = {role: type(p)(structure) for role, p in self.parts.items()}
        values = {r: None if v is None else v.select_assets(idx) for r, v in self.values.items()}
        return replace(self, structure=structure, parts=parts, values=values)

    def spectral_radius(self) -> float:
        """Largest modulus of the VAR's eigenvalues over all draws."""
        return float(np.abs(np.linalg.eigvals(self["dynamics"].A)).max())
