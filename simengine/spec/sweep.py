"""Sweep files: a base scenario and named axes of labelled changes; the grid of variants.

A sweep file has one top-level key, ``sweep``::

    sweep:
      name: tariff-growth                 # prefix of every variant's scenario name
      description: Tariff levels x growth paths.
      base: ../base_2025h2.yaml           # scenario the variants start from (relative to this file)
      set:                                # optional: changes applied to every variant
        model: ../../tests/fixtures/models/test_model.yaml
      vary:                               # the axes; the grid is their product, first axis slowest
        tariff:                           # a *field* axis: one field, a list or a range of values
          field: tariffs[0].level
          range: {from: 15, to: 30, step: 5}
        growth:                           # a *labelled* axis: label -> partial scenario
          values:
            soft: {drifts: [{factor: growth, shift: 0.1}]}
            base: {}
            recession: {drifts: [{factor: growth, shift: -0.4}]}
      exclude: [{tariff: 30, growth: soft}]   # optional: combinations to leave out
      include: []                              # optional: extra combinations (axes may be omitted)

Axis forms (``values`` or ``range``, exactly one):

* ``values: {label: {partial scenario}}`` without ``field``: each label's mapping is merged
  into the base like ``extends:`` (mappings merge key by key; lists and scalars replace).
* ``field: path`` with ``values: [v1, v2]``, ``values: {label: value}`` or
  ``range: {from, to, step}``: sets one field (dotted path, list items by index:
  ``tariffs[0].level``, ``positioning.short_interest_bn``).
* ``values: [v1, v2]`` or ``range`` without ``field``: a *parameter*. Any text value that is
  exactly ``$axis`` in ``set`` or in another axis's values is replaced by this variant's value
  of that axis (``change_bp: $size``); write ``$$`` for a literal ``$``. Nothing is evaluated.

Each variant gets a readable label (``cut=2025-10-29,size=-50``), its field values
(``{"cut": "2025-10-29", "size": -50}``) and a scenario ``name`` that is safe as a file name
(``cut-timing-size.cut_2025-10-29.size_-50``). Every variant is validated; all problems of
all variants are reported at once with the file and line they come from.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from simengine.exceptions import Issue, SpecError
from simengine.spec.errors import (
    Loc,
    Locations,
    custom_error,
    did_you_mean,
    format_field,
    issues_from_validation_error,
    locate,
)
from simengine.spec.fields import limit
from simengine.spec.loader import is_sweep_file, resolve_extends
from simengine.spec.merge import drop_below, merge_located
from simengine.spec.scenario import ScenarioSpec
from simengine.spec.yaml_io import LineMap, load_yaml_mapping

__all__ = [
    "MAX_VARIANTS",
    "SweepVariant",
    "expand_sweep",
    "expand_sweep_variants",
    "is_sweep_file",
    "safe_label",
]

MAX_VARIANTS = 10_000
"""Most variants one sweep may expand to; raise with ``SIMENGINE_MAX_SWEEP_VARIANTS``."""
_AXIS_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")
_REF_RE = re.compile(r"^\$([a-z][a-z0-9_]*)$")
_PATH_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")
_FORBIDDEN_KEYS = ("name", "extends")
_MAX_NAME = 80
_SWEEP = ("sweep",)


# ----------------------------------------------------------------------------- the file schema


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise custom_error(f"received {value!r}; expected a number", "e.g. 15 or 0.25")
    if not math.isfinite(value):
        raise custom_error(f"received {value}; expected a finite number")
    return value


Number = Annotated[Any, BeforeValidator(_number)]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Range(_Part):
    """Numbers from ``from`` to ``to`` (inclusive when reached) in steps of ``step``."""

    start: Number = Field(alias="from", description="first value, e.g. 15")
    to: Number = Field(description="last value (inclusive when a step lands on it), e.g. 30")
    step: Number = Field(description="positive increment, e.g. 5")

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.step <= 0:
            raise custom_error(f"step {self.step} is not positive", "e.g. step: 5")
        if self.to < self.start:
            raise custom_error(f"to {self.to} is below from {self.start}", "swap from and to")
        return self


class Axis(_Part):
    """One axis of a sweep: ``values`` (a list or label -> value mapping) or a ``range``."""

    field: Annotated[str, Field(min_length=1)] | None = Field(
        None, description="scenario field the values set, e.g. tariffs[0].level"
    )
    values: Any = Field(None, description="a list of values, or label -> value / partial scenario")
    range: Range | None = Field(None, description="{from: 15, to: 30, step: 5}")
    description: str = Field("", description="what the axis varies")

    @field_validator("values")
    @classmethod
    def _values(cls, value: Any) -> Any:
        if value is None:
            return value
        if not isinstance(value, list | dict) or not value:
            raise custom_error(
                f"received {value!r}; expected a non-empty list or a mapping label -> value",
                "e.g. values: [15, 20, 30] or values: {soft: {...}, recession: {...}}",
            )
        return value

    @model_validator(mode="after")
    def _one_form(self) -> Axis:
        if (self.values is None) == (self.range is None):
            what = "both" if self.values is not None else "neither"
            raise custom_error(
                f"{what} of 'values' and 'range' given; expected exactly one",
                "values: [...] or {label: ...}, or range: {from: .., to: .., step: ..}",
            )
        return self


Combo = dict[str, Any]


class SweepSection(_Part):
    """The ``sweep:`` mapping."""

    name: str = Field(description="prefix of the variant names, e.g. cut-timing-size")
    description: str = Field("", description="what the sweep explores")
    base: Annotated[str, Field(min_length=1)] = Field(
        description="scenario file the variants start from, relative to the sweep file"
    )
    set: dict[str, Any] = Field(default_factory=dict, description="changes for every variant")
    vary: dict[str, Axis] = Field(description="axis name -> axis (field/values/range)")
    exclude: list[Combo] = Field(default_factory=list, description="combinations to leave out")
    include: list[Combo] = Field(default_factory=list, description="extra combinations")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME_RE.fullmatch(value) or ".." in value:
            raise custom_error(
                f"received {value!r}; expected lowercase letters, digits, '.', '_', '-' "
                "(at most 40 characters)",
                "e.g. cut-timing-size",
            )
        return value

    @field_validator("vary")
    @classmethod
    def _axes(cls, value: dict[str, Axis]) -> dict[str, Axis]:
        if not value:
            raise custom_error("received an empty mapping; expected at least one axis")
        bad = [k for k in value if not isinstance(k, str) or not _AXIS_RE.match(k)]
        if bad:
            raise custom_error(
                f"axis name(s) {', '.join(map(repr, bad))} are not valid",
                "use lowercase letters, digits and '_', starting with a letter (e.g. cut, size)",
            )
        return value


class SweepFile(_Part):
    """A sweep file: one top-level key ``sweep``."""

    sweep: SweepSection = Field(description="name, base, vary (and description, set, ...)")


# ----------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class SweepVariant:
    """One point of a sweep grid.

    Attributes
    ----------
    spec : ScenarioSpec
        The validated scenario (its ``name`` is safe as a file name).
    fields : dict
        Axis -> value of this variant (numbers stay numbers; labels are text).
    label : str
        Readable name, ``cut=2025-10-29,size=-50``.
    sweep : str
        Name of the sweep it belongs to.
    """

    spec: ScenarioSpec
    fields: dict[str, Any]
    label: str
    sweep: str


def expand_sweep(path: str | os.PathLike[str]) -> list[ScenarioSpec]:
    """The validated scenario specs of every variant of a sweep file (grid order)."""
    return [v.spec for v in expand_sweep_variants(path)]


def expand_sweep_variants(path: str | os.PathLike[str]) -> list[SweepVariant]:
    """Load a sweep file, expand its grid and validate every variant.

    Parameters
    ----------
    path : path-like
        The sweep YAML file.

    Returns
    -------
    list of SweepVariant
        In grid order (first axis varies slowest), then the ``include`` combinations.

    Raises
    ------
    SpecError
        With every problem of the sweep file and of every variant, each with file:line.
    """
    shown = str(path)
    data, lines = load_yaml_mapping(path, shown)
    section = _validate_file(data, lines, shown)
    plan = _Plan(section, lines, shown, Path(path))
    try:
        base, base_locs = plan.load_base()
    except SpecError as err:
        raise SpecError([i for i, _ in plan.issues] + err.issues) from None
    variants, issues = [], list(plan.issues)
    for combo in plan.combos():
        try:
            variants.append(plan.variant(combo, base, base_locs))
        except SpecError as err:
            issues.extend((i, _combo_label(combo)) for i in err.issues)
    if issues:
        raise SpecError(_merge_issues(issues, len(plan.combos())))
    _check_unique_names(variants, plan)
    return variants


def safe_label(text: str) -> str:
    """Text safe inside a scenario name: lowercase ``[a-z0-9.-]``, other runs become ``-``."""
    out = re.sub(r"[^a-z0-9.-]+", "-", str(text).lower()).strip(".")
    out = re.sub(r"\.{2,}", ".", out)
    return out or "x"


# ----------------------------------------------------------------------------- validation


def _validate_file(data: dict[str, Any], lines: LineMap, shown: str) -> SweepSection:
    locations: Locations = {loc: (shown, line) for loc, line in lines.items()}
    try:
        return SweepFile.model_validate(data).sweep
    except ValidationError as err:
        raise SpecError(issues_from_validation_error(err, SweepFile, locations, shown)) from None


@dataclass(frozen=True)
class _Level:
    """One labelled value of an axis."""

    label: str
    value: Any
    loc: Loc  # where the value is written in the sweep file


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _range_values(r: Range) -> list[int | float]:
    start, to, step = (Decimal(str(x)) for x in (r.start, r.to, r.step))
    n = int((to - start) / step) + 1
    most = limit("SIMENGINE_MAX_SWEEP_VARIANTS", MAX_VARIANTS)
    if n > most:
        raise ValueError(f"the range has {n} values; the limit is {most}")
    numbers = [start + i * step for i in range(n)]
    if all(isinstance(x, int) for x in (r.start, r.step)):
        return [int(x) for x in numbers]
    return [float(x) for x in numbers]


def _combo_label(combo: Mapping[str, _Level]) -> str:
    return ",".join(f"{axis}={level.label}" for axis, level in combo.items())


def _merge_issues(found: list[tuple[Issue, str]], n_variants: int) -> list[Issue]:
    """One issue per distinct problem; say which variants have it unless all (or none) do."""
    where: dict[Issue, list[str]] = {}
    for issue, variant in found:
        where.setdefault(issue, [])
        if variant and variant not in where[issue]:
            where[issue].append(variant)
    out = []
    for issue, variants in where.items():
        if variants and len(variants) < n_variants:
            more = f" and {len(variants) - 1} more" if len(variants) > 1 else ""
            note = f"in variant {variants[0]}{more}"
            hint = f"{issue.hint}; {note}" if issue.hint else note
            issue = Issue(issue.file, issue.line, issue.field, issue.message, hint)
        out.append(issue)
    return out


def _check_unique_names(variants: list[SweepVariant], plan: _Plan) -> None:
    seen: dict[str, str] = {}
    issues = []
    for v in variants:
        if v.spec.name in seen:
            issues.append(
                plan.issue(
                    ("vary",),
                    f"variants {seen[v.spec.name]} and {v.label} get the same name {v.spec.name!r}",
                    "use labels that differ after lowercasing and replacing symbols by '-'",
                )
            )
        seen.setdefault(v.spec.name, v.label)
    if issues:
        raise SpecError(issues)


# ----------------------------------------------------------------------------- expansion


class _Plan:
    """A validated sweep section turned into axes of levels, ready to expand."""

    def __init__(self, section: SweepSection, lines: LineMap, shown: str, path: Path):
        self.section, self.lines, self.shown, self.path = section, lines, shown, path
        self.issues: list[tuple[Issue, str]] = []
        self.axes: dict[str, list[_Level]] = {
            name: self._levels(name, axis) for name, axis in section.vary.items()
        }
        self.field_paths = {
            name: self._field_path(name, axis.field)
            for name, axis in section.vary.items()
            if axis.field is not None
        }
        self._check_overrides(section.set, ("set",))
        self._combos = self._build_combos()

    # -- helpers ---------------------------------------------------------------------------

    def issue(self, loc: Loc, message: str, hint: str = "") -> Issue:
        """An issue at ``sweep.<loc>`` of the sweep file."""
        full = _SWEEP + tuple(loc)
        line = self.lines.get(full)
        if line is None:
            _, line = locate(full, {k: (self.shown, v) for k, v in self.lines.items()}, self.shown)
        return Issue(self.shown, line, format_field(full), message, hint)

    def _add(self, loc: Loc, message: str, hint: str = "") -> None:
        self.issues.append((self.issue(loc, message, hint), ""))

    def _locations_below(self, loc: Loc) -> Locations:
        """Sweep-file locations under ``sweep.<loc>``, relative to it."""
        full = _SWEEP + tuple(loc)
        n = len(full)
        return {k[n:]: (self.shown, v) for k, v in self.lines.items() if k[:n] == full and k[n:]}

    # -- axes ------------------------------------------------------------------------------

    def _levels(self, name: str, axis: Axis) -> list[_Level]:
        where = ("vary", name)
        if axis.range is not None:
            try:
                values = _range_values(axis.range)
            except ValueError as err:
                self._add((*where, "range"), str(err), "use a larger step")
                return []
            return [_Level(_show(v), v, (*where, "range")) for v in values]
        if isinstance(axis.values, list):
            return self._list_levels(where, axis.values)
        levels = [_Level(_show(label), label, (*where, "values", label)) for label in axis.values]
        if axis.field is None:
            for level in levels:
                self._check_overrides(axis.values[level.value], level.loc)
        return self._unique(where, levels)

    def _list_levels(self, where: Loc, values: list[Any]) -> list[_Level]:
        levels = []
        for i, v in enumerate(values):
            if isinstance(v, dict | list) or v is None:
                self._add(
                    (*where, "values", i),
                    f"received {'null' if v is None else 'a ' + type(v).__name__}; list values "
                    "must be numbers, text or true/false",
                    "give them labels: values: {label: value}",
                )
                continue
            levels.append(_Level(_show(v), v, (*where, "values", i)))
        return self._unique(where, levels)

    def _unique(self, where: Loc, levels: list[_Level]) -> list[_Level]:
        seen: set[str] = set()
        for level in levels:
            if level.label in seen:
                self._add(level.loc, f"label {level.label!r} appears twice on this axis")
            seen.add(level.label)
        return levels

    def _check_overrides(self, override: Any, loc: Loc) -> None:
        if override is None:
            return
        if not isinstance(override, dict):
            self._add(
                loc,
                f"received {_show(override)!r}; expected a mapping of scenario fields",
                "e.g. {drifts: [...]} or {} for no change; to set one field use field: <path>",
            )
            return
        for key in _FORBIDDEN_KEYS:
            if key in override:
                self._add(
                    (*loc, key),
                    f"{key!r} cannot be changed by a sweep",
                    "variant names come from the sweep name and labels; the base is sweep.base",
                )
        self._check_refs(override, loc)

    def _check_refs(self, value: Any, loc: Loc) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                self._check_refs(v, (*loc, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self._check_refs(v, (*loc, i))
        elif isinstance(value, str) and (m := _REF_RE.match(value)):
            if m.group(1) not in self.section.vary:
                self._add(
                    loc,
                    f"{value!r} refers to no axis",
                    did_you_mean(m.group(1), self.section.vary) or "write $$ for a literal $",
                )

    def _field_path(self, name: str, text: str) -> Loc:
        parts: list[str | int] = []
        pos = 0
        for m in _PATH_RE.finditer(text):
            sep = text[pos : m.start()]
            if sep not in ("", ".") or (sep == "." and not parts) or (m.group(2) and sep):
                break
            parts.append(m.group(1) if m.group(1) else int(m.group(2)))
            pos = m.end()
        fields = sorted(ScenarioSpec.model_fields)
        if pos != len(text) or not parts or not isinstance(parts[0], str):
            self._add(
                ("vary", name, "field"),
                f"received {text!r}; expected a field path",
                "e.g. tariffs[0].level or positioning.short_interest_bn",
            )
        elif parts[0] not in fields or parts[0] in _FORBIDDEN_KEYS:
            guess = did_you_mean(parts[0], fields)
            self._add(
                ("vary", name, "field"),
                f"{parts[0]!r} is not a scenario field a sweep can set",
                guess or "valid: " + ", ".join(f for f in fields if f not in _FORBIDDEN_KEYS),
            )
        return tuple(parts)

    # -- combinations ----------------------------------------------------------------------

    def _build_combos(self) -> list[dict[str, _Level]]:
        names = list(self.axes)
        grid = [dict(zip(names, p, strict=True)) for p in itertools.product(*self.axes.values())]
        rules = [self._rule(("exclude", i), r) for i, r in enumerate(self.section.exclude)]
        combos = [c for c in grid if not any(r and _matches(c, r) for r in rules)]
        labels = {_combo_label(c) for c in combos}
        for i, raw in enumerate(self.section.include):
            combo = self._rule(("include", i), raw)
            if not combo:
                continue
            combo = {a: combo[a] for a in names if a in combo}
            if _combo_label(combo) in labels:
                self._add(("include", i), f"{_combo_label(combo)} is already in the grid")
            labels.add(_combo_label(combo))
            combos.append(combo)
        most = limit("SIMENGINE_MAX_SWEEP_VARIANTS", MAX_VARIANTS)
        if len(combos) > most:
            self._add(
                ("vary",), f"the sweep expands to {len(combos)} variants; the limit is {most}"
            )
            return []
        return combos

    def _rule(self, loc: Loc, raw: Mapping[str, Any]) -> dict[str, _Level]:
        out: dict[str, _Level] = {}
        if not raw:
            self._add(loc, "received an empty mapping; expected axis: label pairs")
        for axis, label in raw.items():
            if axis not in self.axes:
                hint = did_you_mean(axis, self.axes) or "axes: " + ", ".join(self.axes)
                self._add((*loc, axis), f"unknown axis {axis!r}", hint)
                continue
            found = [lv for lv in self.axes[axis] if lv.label == _show(label)]
            if not found:
                labels = [lv.label for lv in self.axes[axis]]
                hint = did_you_mean(_show(label), labels) or "labels: " + ", ".join(labels)
                self._add((*loc, axis), f"axis {axis!r} has no label {_show(label)!r}", hint)
                continue
            out[axis] = found[0]
        return out if len(out) == len(raw) else {}

    def combos(self) -> list[dict[str, _Level]]:
        """The combinations to expand (grid minus ``exclude`` plus ``include``)."""
        return self._combos if not self.issues else []

    # -- building variants -----------------------------------------------------------------

    def load_base(self) -> tuple[dict[str, Any], Locations]:
        """The base scenario's merged data (paths rebased to the sweep file's folder)."""
        line = self.lines.get((*_SWEEP, "base"), 1)
        try:
            return resolve_extends(
                {"extends": self.section.base},
                {("extends",): line},
                self.shown,
                self.path.parent,
                chain=(self.path.resolve(),),
            )
        except SpecError as err:
            raise SpecError(
                [
                    Issue(i.file, i.line, "sweep.base", i.message, i.hint)
                    if i.field == "extends" and i.file == self.shown
                    else i
                    for i in err.issues
                ]
            ) from None

    def variant(
        self, combo: dict[str, _Level], base: dict[str, Any], base_locs: Locations
    ) -> SweepVariant:
        """Build and validate one variant."""
        data, locs = copy.deepcopy(base), dict(base_locs)
        values = {axis: level.value for axis, level in combo.items()}
        self._apply(data, locs, self.section.set, ("set",), values)
        for axis, level in combo.items():
            spec_axis = self.section.vary[axis]
            if spec_axis.field is not None:
                value = spec_axis.values[level.value] if _labelled(spec_axis) else level.value
                self._set_field(data, locs, self.field_paths[axis], value, level.loc, values)
            elif _labelled(spec_axis):
                override = spec_axis.values[level.value] or {}
                self._apply(data, locs, override, level.loc, values)
        label = _combo_label(combo)
        data["name"] = self._name(combo)
        head = self.section.description or f"Sweep {self.section.name}"
        data["description"] = f"{head} Variant {label}.".strip()
        locs[("name",)] = locs[("description",)] = (self.shown, self.lines.get((*_SWEEP, "name")))
        spec = ScenarioSpec.from_data(data, source=self.path, locations=locs)
        return SweepVariant(spec, values, label, self.section.name)

    def _name(self, combo: Mapping[str, _Level]) -> str:
        parts = [f"{axis}_{safe_label(level.label)}" for axis, level in combo.items()]
        name = ".".join([self.section.name, *parts])
        if len(name) > _MAX_NAME:
            digest = hashlib.sha256(name.encode()).hexdigest()[:12]
            name = f"{name[: _MAX_NAME - 13].rstrip('.-_')}-{digest}"
        return name

    def _apply(
        self,
        data: dict[str, Any],
        locs: Locations,
        override: Mapping[str, Any],
        loc: Loc,
        values: Mapping[str, Any],
    ) -> None:
        where = self._locations_below(loc)
        problems: list[Issue] = []
        override = _substitute(override, values, loc, self, problems)
        if problems:
            raise SpecError(problems)
        merge_located(data, override, locs, where)

    def _set_field(
        self,
        data: dict[str, Any],
        locs: Locations,
        path: Loc,
        value: Any,
        loc: Loc,
        values: Mapping[str, Any],
    ) -> None:
        problems: list[Issue] = []
        value = _substitute(value, values, loc, self, problems)
        target: Any = data
        for i, part in enumerate(path[:-1]):
            nxt = path[i + 1]
            target = _step_into(target, part, nxt, path[: i + 1], loc, self, problems)
            if target is None:
                break
        else:
            if isinstance(path[-1], int) and not (
                isinstance(target, list) and path[-1] < len(target)
            ):
                problems.append(self._no_item(path, loc, target))
            else:
                target[path[-1]] = copy.deepcopy(value)
        if problems:
            raise SpecError(problems)
        drop_below(locs, path)
        locs[path] = (self.shown, self.lines.get(_SWEEP + tuple(loc)))
        locs.update({(*path, *k): w for k, w in self._locations_below(loc).items()})

    def _no_item(self, path: Loc, loc: Loc, target: Any) -> Issue:
        n = len(target) if isinstance(target, list) else 0
        return self.issue(
            loc,
            f"field {format_field(path)}: the base has {n} item(s) there",
            "index list items from 0 within the base scenario's list",
        )


def _labelled(axis: Axis) -> bool:
    return isinstance(axis.values, dict)


def _matches(combo: Mapping[str, _Level], rule: Mapping[str, _Level]) -> bool:
    return all(combo.get(axis) == level for axis, level in rule.items())


def _step_into(
    target: Any, part: str | int, nxt: str | int, path: Loc, loc: Loc, plan: _Plan, problems: list
) -> Any:
    """Walk one step of a field path, creating missing mappings."""
    if isinstance(part, int):
        if isinstance(target, list) and part < len(target):
            return target[part]
        problems.append(plan._no_item(path, loc, target))
        return None
    if not isinstance(target, dict):
        problems.append(plan.issue(loc, f"field {format_field(path)} is not inside a mapping"))
        return None
    if part not in target or target[part] is None:
        if isinstance(nxt, int):
            problems.append(plan._no_item((*path, nxt), loc, None))
            return None
        target[part] = {}
    return target[part]


def _substitute(
    value: Any, values: Mapping[str, Any], loc: Loc, plan: _Plan, problems: list[Issue]
) -> Any:
    """Replace ``$axis`` texts by the variant's axis values (``$$`` -> ``$``)."""
    if isinstance(value, dict):
        return {k: _substitute(v, values, (*loc, k), plan, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, values, (*loc, i), plan, problems) for i, v in enumerate(value)]
    if isinstance(value, str):
        if value.startswith("$$"):
            return value[1:]
        m = _REF_RE.match(value)
        if m and m.group(1) in values:
            return values[m.group(1)]
        if m and m.group(1) in plan.section.vary:
            problems.append(
                plan.issue(loc, f"{value!r}: axis {m.group(1)!r} is not part of this variant")
            )
    return value
