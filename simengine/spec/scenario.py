"""Pydantic models of a scenario file (``ScenarioSpec`` and its parts).

Every model is frozen and rejects unknown keys. Field-level rules (types, ranges, choices)
live on the fields (:mod:`simengine.spec.fields`); rules that relate fields (meeting dates
against the calendar and the scenario window, bp sizes against ``allow_any_bp``) run in field
validators that read the fields declared before them (:mod:`simengine.spec.checks`), so a
scenario reports as many problems as possible at once.

The YAML side (line numbers, ``extends:``) is in :mod:`simengine.spec.loader`.
"""

import hashlib
import json
import math
import os
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from simengine.calendar import FOMC_DECISION_DATES, calendar_end_problem
from simengine.exceptions import Issue, SpecError
from simengine.io import is_windows_reserved
from simengine.spec.checks import (
    Window,
    add_years,
    check_dated,
    check_meetings,
    duplicate_names,
    raise_problems,
)
from simengine.spec.errors import (
    Loc,
    Locations,
    custom_error,
    did_you_mean,
    format_field,
    issues_from_validation_error,
    locate,
    multi_error,
)
from simengine.spec.fields import (
    LEVEL_PINS,
    MAX_HORIZON_YEARS,
    MAX_PATHS,
    AssetName,
    Bp,
    BpFloat,
    Factor,
    IsoDate,
    Num,
    Outcomes,
    PinTarget,
    Positive,
    TariffLevel,
    limit,
)
from simengine.spec.paths import allowed_roots, confinement_problem

__all__ = [
    "MAX_HORIZON_YEARS",
    "MAX_PATHS",
    "Drift",
    "Factor",
    "FomcDecision",
    "InitialState",
    "MarketPricing",
    "Pin",
    "Positioning",
    "ScenarioSpec",
    "Shock",
    "TariffStep",
]

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


# ----------------------------------------------------------------------------- parts


class InitialState(_Part):
    """State on the start date. Besides the fields below, the start-date states the model's
    parts declare (the model file's ``states``, e.g. ``vix``) are given here as numbers."""

    model_config = ConfigDict(frozen=True, extra="allow", allow_inf_nan=False)

    policy_rate: Annotated[float, Strict(), Field(ge=-5.0, le=30.0)] = Field(
        description="fed funds target midpoint on the start date, % (e.g. 4.375)"
    )
    tariff: TariffLevel = Field(
        description="effective tariff rate on the start date, % (e.g. 15.3)"
    )
    factors: dict[Factor, Num] = Field(
        default_factory=dict, description="VAR state z_0 by factor (missing = 0)"
    )
    index_levels: dict[AssetName, Positive] = Field(
        default_factory=dict, description="index level per asset on the start date"
    )
    yield_2y: Annotated[float, Strict(), Field(ge=-5.0, le=30.0)] | None = Field(
        None, description="2-year Treasury yield on the start date, % (needed by yield_2y pins)"
    )

    @model_validator(mode="after")
    def _model_states(self, info: ValidationInfo) -> "InitialState":
        states = (info.context or {}).get("states", ())
        valid = [*type(self).model_fields, *states]
        problems = []
        for key, value in (self.model_extra or {}).items():
            if key not in states:
                guess = did_you_mean(key, valid)
                hint = "keys: " + ", ".join(valid)
                problems.append(((key,), f"unknown key {key!r}", f"{guess} {hint}".strip()))
            elif isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(((key,), f"received {value!r}; expected a number", ""))
            elif not _finite(value):
                problems.append(((key,), f"received {value}; expected a finite number", ""))
            elif message := _outside(value, *_bounds(states, key)):
                problems.append(((key,), message, ""))
        if problems:
            raise multi_error(problems)
        return self

    @property
    def states(self) -> dict[str, float]:
        """The start-date states of the model's parts (``vix: 16.5``)."""
        return {k: float(v) for k, v in (self.model_extra or {}).items()}


def _finite(value: float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer too large for a float
        return False


def _bounds(states: Any, key: str) -> tuple[float | None, float | None]:
    bounds = states.get(key) if isinstance(states, Mapping) else None
    return bounds if bounds is not None else (None, None)


def _outside(value: float, low: float | None, high: float | None) -> str:
    """The problem with ``value`` against the state's declared range ('' when inside)."""
    if (low is not None and value < low) or (high is not None and value > high):
        return f"received {value}; expected a value in [{low}, {high}] (the model's range)"
    return ""


def _exactly_one(obj: BaseModel, a: str, b: str) -> None:
    given = [k for k in (a, b) if getattr(obj, k) is not None]
    if len(given) != 1:
        what = "both" if given else "neither"
        raise custom_error(
            f"{what} of {a!r} and {b!r} given; expected exactly one", f"give {a} or {b}"
        )


class MarketPricing(_Part):
    """What futures price for one FOMC meeting."""

    fomc: IsoDate = Field(description="FOMC decision date, e.g. 2025-09-17")
    outcomes: Outcomes | None = Field(
        None, description="bp change -> probability, e.g. {0: 0.4, -25: 0.6}"
    )
    expected_bp: BpFloat | None = Field(None, description="expected change in bp, e.g. -15")

    @model_validator(mode="after")
    def _one_form(self) -> "MarketPricing":
        _exactly_one(self, "outcomes", "expected_bp")
        return self


class FomcDecision(_Part):
    """The scenario's decision at one FOMC meeting: fixed or random."""

    meeting: IsoDate = Field(description="FOMC decision date, e.g. 2025-09-17")
    change_bp: Bp | None = Field(None, description="fixed change in bp, e.g. -25")
    outcomes: Outcomes | None = Field(None, description="bp change -> probability")

    @model_validator(mode="after")
    def _one_form(self) -> "FomcDecision":
        _exactly_one(self, "change_bp", "outcomes")
        return self


class TariffStep(_Part):
    """A dated tariff level (step function), optionally random."""

    date: IsoDate = Field(description="date the level takes effect, e.g. 2025-08-01")
    level: TariffLevel = Field(description="effective tariff rate, % in [0, 100]")
    probability: Annotated[float, Strict(), Field(gt=0.0, le=1.0)] | None = Field(
        None, description="probability the step happens (else the previous level stays)"
    )
    announced: Annotated[bool, Strict()] = Field(
        False,
        description="known before the start date and priced: no return effect on the day "
        "(default false: a surprise)",
    )

    @model_validator(mode="after")
    def _announced_is_certain(self) -> "TariffStep":
        if self.announced and self.probability is not None:
            raise custom_error(
                f"an announced tariff step is known, so it cannot have probability "
                f"{self.probability}",
                "drop probability (a certain, priced step) or announced (a random surprise)",
            )
        return self


class Drift(_Part):
    """A mean shift of a stochastic factor over a date range."""

    factor: Factor = Field(
        description="a stochastic factor of the model (default: rates, growth, inflation, credit)"
    )
    shift: Num = Field(description="mean shift in the factor's units")
    start: IsoDate | None = Field(None, description="first date (default: scenario start)")
    end: IsoDate | None = Field(None, description="last date (default: horizon)")

    @model_validator(mode="after")
    def _ordered(self) -> "Drift":
        if self.start is not None and self.end is not None and self.end < self.start:
            raise custom_error(f"end {self.end} is before start {self.start}")
        return self


class Shock(_Part):
    """A one-off additive shock to a factor in the step containing ``date``."""

    factor: Factor = Field(
        description="a stochastic factor of the model (default: rates, growth, inflation, credit)"
    )
    date: IsoDate = Field(description="date of the shock")
    size: Num = Field(description="size in the factor's units")


class Pin(_Part):
    """Force a factor to given values (date -> value; the month containing the date).

    ``factor`` is a stochastic factor of the model (monthly; changes for rates and credit),
    or a level in %: ``yield_2y`` (the 2-year yield at the end of the month), ``policy_rate``
    (after the last meeting on or before the date), ``tariff`` (from the date on).
    """

    factor: PinTarget = Field(
        description="a stochastic factor of the model, or yield_2y, policy_rate, tariff (levels, %)"
    )
    values: dict[IsoDate, Num] = Field(description="date -> value, e.g. {2025-08-31: 1.0}")

    @field_validator("values")
    @classmethod
    def _not_empty(cls, value: dict[date, float]) -> dict[date, float]:
        if not value:
            raise custom_error("received an empty mapping; expected date -> value")
        return value


class Positioning(_Part):
    """Market positioning that drives the squeeze intensity."""

    short_interest_bn: Annotated[float, Strict(), Field(ge=0.0, le=1000.0)] = Field(
        description="$bn short Russell 2000 futures, e.g. 16.0"
    )
    squeeze: Annotated[bool, Strict()] = Field(
        False, description="simulate short-squeeze jumps (compensated: tail, not drift)"
    )


_LEVEL_RANGE = {"yield_2y": (-5.0, 30.0), "policy_rate": (-5.0, 30.0), "tariff": (0.0, 100.0)}


def _level_pin_problems(i: int, pin: Pin, w: Window, initial: Any) -> list[tuple[Loc, str, str]]:
    """Level pins: a start level for yield_2y, a meeting before a policy_rate date, ranges."""
    if pin.factor not in LEVEL_PINS:
        return []
    out: list[tuple[Loc, str, str]] = []
    if pin.factor == "yield_2y" and initial is not None and initial.yield_2y is None:
        out.append(
            (
                (i, "factor"),
                "a yield_2y pin needs the 2-year yield on the start date",
                "add initial: {yield_2y: <level, %>} (3.88 on 2025-07-16)",
            )
        )
    lo, hi = _LEVEL_RANGE[pin.factor]
    for day, v in pin.values.items():
        if not lo <= v <= hi:
            out.append(
                (
                    (i, "values", day.isoformat()),
                    f"received {v:g}; expected a {pin.factor} level in [{lo:g}, {hi:g}] (%)",
                    "",
                )
            )
        if pin.factor == "policy_rate" and w.known and w.calendar is not None:
            if not any(w.start < m <= day for m in w.calendar):
                out.append(
                    (
                        (i, "values", day.isoformat()),
                        f"no FOMC meeting between the start {w.start} and {day}: the policy rate "
                        "only changes at meetings",
                        "pin a date on or after the first meeting in the window",
                    )
                )
    return out


# ----------------------------------------------------------------------------- the spec


class ScenarioSpec(_Part):
    """A validated scenario (see the "Scenario file" section of docs/architecture.md).

    Build it with :func:`simengine.spec.load_scenario` (file:line errors, ``extends:``) or
    :meth:`from_data`. ``source`` (the file it came from) is not a field: it is excluded from
    dumps, hashing and equality.
    """

    name: str = Field(description="scenario name, [a-z0-9][a-z0-9._-]* (used as a file name)")
    description: Annotated[str, Strict()] = Field("", description="what the scenario assumes")
    start: IsoDate = Field(description="as-of date, e.g. 2025-07-16")
    horizon: IsoDate = Field(description="last simulated date, e.g. 2025-12-31")
    frequency: Literal["monthly", "weekly", "daily"] = Field("monthly", description="step length")
    allow_any_bp: Annotated[bool, Strict()] = Field(False, description="allow non-25bp moves")
    fomc_calendar: tuple[IsoDate, ...] | None = Field(
        None,
        description="override of the built-in FOMC decision dates (needed past its end)",
        validate_default=True,
    )
    assets: tuple[AssetName, ...] = Field(description="asset names from the model file")
    initial: InitialState = Field(description="policy_rate, tariff, factors, index_levels")
    market_pricing: tuple[MarketPricing, ...] = Field((), description="priced outcome per meeting")
    fomc: tuple[FomcDecision, ...] = Field((), description="scenario decisions per meeting")
    tariffs: tuple[TariffStep, ...] = Field((), description="dated tariff levels")
    drifts: tuple[Drift, ...] = Field((), description="factor mean shifts")
    shocks: tuple[Shock, ...] = Field((), description="one-off factor shocks")
    pins: tuple[Pin, ...] = Field((), description="factors forced to a path")
    reading: Literal["structural_shock", "conditional_forecast"] = Field(
        "structural_shock",
        description="fixed decisions, pins and shocks: pure surprises (structural_shock) or "
        "information about the economy (conditional_forecast)",
    )
    positioning: Positioning | None = Field(None, description="short_interest_bn")
    model: Annotated[str, Strict(), Field(min_length=1)] = Field(
        "default", description="'default' or a model file path (relative to the scenario file)"
    )
    method: Literal["monte_carlo", "bayesian"] = Field("monte_carlo", description="engine")
    posterior: Annotated[str, Strict(), Field(min_length=1)] = Field(
        "default", description="for method bayesian: 'default' or a .nc path"
    )
    paths: Annotated[int, Strict()] = Field(100_000, description="number of Monte Carlo paths")
    seed: Annotated[int, Strict(), Field(ge=0, lt=2**128)] | None = Field(
        None, description="non-negative integer seed (null: fresh entropy)"
    )
    antithetic: Annotated[bool, Strict()] = Field(False, description="antithetic variates")

    _source: Path | None = PrivateAttr(None)
    _locations: Locations = PrivateAttr(default_factory=dict)

    # -- single fields -------------------------------------------------------------------

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not isinstance(value, str) or not _NAME_RE.fullmatch(value) or ".." in value:
            shown = repr(value) if isinstance(value, str) else str(value)
            raise custom_error(
                f"received {shown}; expected lowercase letters, digits, '.', '_', '-' "
                "(starting with a letter or digit, at most 80 characters, no '..')",
                "the name becomes a file name, e.g. fed-cut-september",
            )
        if is_windows_reserved(value):
            raise custom_error(
                f"received {value!r}, a file name Windows reserves (con, prn, aux, nul, "
                "com1-9, lpt1-9, with any extension)",
                "the name becomes a file name: choose another, e.g. fed-cut-september",
            )
        return value

    @field_validator("horizon")
    @classmethod
    def _horizon(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start")
        if start is None:
            return value
        if value <= start:
            raise custom_error(f"horizon {value} is not after start {start}")
        years = limit("SIMENGINE_MAX_HORIZON_YEARS", MAX_HORIZON_YEARS)
        if value > add_years(start, years):
            raise custom_error(
                f"horizon {value} is more than {years} years after start {start} (a safety limit)",
                "shorten the horizon, or raise the limit with SIMENGINE_MAX_HORIZON_YEARS=<years>",
            )
        return value

    @field_validator("fomc_calendar")
    @classmethod
    def _calendar(
        cls, value: tuple[date, ...] | None, info: ValidationInfo
    ) -> tuple[date, ...] | None:
        if value is not None and (not value or list(value) != sorted(set(value))):
            raise custom_error("expected a non-empty list of distinct dates in increasing order")
        horizon = info.data.get("horizon")
        if value is None and horizon is not None:
            problem = calendar_end_problem(horizon)
            if problem is not None:  # reported at the horizon: that is the line to change
                raise custom_error(*problem, sibling="horizon")
        return value

    @field_validator("assets")
    @classmethod
    def _assets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise custom_error(
                "received an empty list; expected at least one asset", "e.g. [small_cap, large_cap]"
            )
        raise_problems(duplicate_names(value))
        return value

    @field_validator("paths")
    @classmethod
    def _paths(cls, value: int) -> int:
        most = limit("SIMENGINE_MAX_PATHS", MAX_PATHS)
        if value < 1:
            raise custom_error(f"received {value}; expected at least 1 path")
        if value > most:
            raise custom_error(
                f"received {value:_} paths; the limit is {most:_} (a safety limit)",
                "run several batches with different seeds, or raise the limit with "
                "SIMENGINE_MAX_PATHS=<n>",
            )
        return value

    # -- fields that depend on earlier ones ----------------------------------------------

    @field_validator("initial")
    @classmethod
    def _initial(cls, value: InitialState, info: ValidationInfo) -> InitialState:
        assets = info.data.get("assets")
        if assets is not None:
            problems = [
                (("index_levels", k), f"{k!r} is not in assets", did_you_mean(k, assets))
                for k in value.index_levels
                if k not in assets
            ]
            raise_problems(problems)
        return value

    @field_validator("market_pricing")
    @classmethod
    def _pricing(
        cls, value: tuple[MarketPricing, ...], info: ValidationInfo
    ) -> tuple[MarketPricing, ...]:
        check_meetings(value, "fomc", Window(info.data))
        return value

    @field_validator("fomc")
    @classmethod
    def _fomc(
        cls, value: tuple[FomcDecision, ...], info: ValidationInfo
    ) -> tuple[FomcDecision, ...]:
        check_meetings(value, "meeting", Window(info.data))
        return value

    @field_validator("tariffs")
    @classmethod
    def _tariffs(
        cls, value: tuple[TariffStep, ...], info: ValidationInfo
    ) -> tuple[TariffStep, ...]:
        problems = check_dated(value, "date", Window(info.data), "tariff date")
        for i in range(1, len(value)):
            if value[i].date <= value[i - 1].date:
                problems.append(
                    (
                        (i, "date"),
                        f"{value[i].date} is not after the previous step's {value[i - 1].date}",
                        "list tariff steps in increasing date order, one per date",
                    )
                )
        raise_problems(problems)
        return value

    @field_validator("drifts")
    @classmethod
    def _drifts(cls, value: tuple[Drift, ...], info: ValidationInfo) -> tuple[Drift, ...]:
        w = Window(info.data)
        problems = []
        for i, d in enumerate(value):
            for key in ("start", "end"):
                day = getattr(d, key)
                if day is not None and w.known and not (w.start <= day <= w.horizon):
                    problems.append(
                        (
                            (i, key),
                            f"{key} {day} is outside the scenario [{w.start}, {w.horizon}]",
                            "",
                        )
                    )
        raise_problems(problems)
        return value

    @field_validator("shocks")
    @classmethod
    def _shocks(cls, value: tuple[Shock, ...], info: ValidationInfo) -> tuple[Shock, ...]:
        raise_problems(check_dated(value, "date", Window(info.data), "shock date"))
        return value

    @field_validator("pins")
    @classmethod
    def _pins(cls, value: tuple[Pin, ...], info: ValidationInfo) -> tuple[Pin, ...]:
        w = Window(info.data)
        problems: list[tuple[Loc, str, str]] = []
        seen: dict[str, int] = {}
        for i, pin in enumerate(value):
            if pin.factor in seen:
                problems.append(
                    (
                        (i, "factor"),
                        f"factor {pin.factor!r} is pinned twice",
                        f"merge its values into item [{seen[pin.factor]}]",
                    )
                )
            seen.setdefault(pin.factor, i)
            problems += [
                (
                    (i, "values", day.isoformat()),
                    f"pin date {day} is outside the scenario window {w.describe()}",
                    "",
                )
                for day in pin.values
                if w.outside(day)
            ]
            problems += _level_pin_problems(i, pin, w, info.data.get("initial"))
        raise_problems(problems)
        return value

    # -- behaviour -----------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        """Equal when every field is equal (``source`` and line locations are ignored)."""
        if not isinstance(other, ScenarioSpec):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # dict-valued fields: not hashable

    def __repr__(self) -> str:
        """What the scenario assumes, one item a line (:func:`simengine.spec.show.spec_text`)."""
        from simengine.spec.show import spec_text

        return spec_text(self)

    def _repr_html_(self) -> str:
        from simengine.spec.show import spec_html

        return spec_html(self)

    @property
    def source(self) -> Path | None:
        """The file this spec was loaded from (None when built in code)."""
        return self._source

    @property
    def calendar(self) -> tuple[date, ...]:
        """FOMC decision dates in force: ``fomc_calendar`` or the built-in calendar."""
        return self.fomc_calendar or FOMC_DECISION_DATES

    @classmethod
    def from_data(
        cls,
        data: Mapping[str, Any],
        *,
        source: str | os.PathLike[str] | None = None,
        locations: Locations | None = None,
    ) -> "ScenarioSpec":
        """Validate a mapping (as read from YAML) into a spec, raising :class:`SpecError`.

        Parameters
        ----------
        data : mapping
            The scenario's keys (``extends:`` already resolved).
        source : path-like, optional
            File the data came from; kept as :attr:`source`.
        locations : mapping, optional
            Field path -> (file, line), used to place every issue.

        Returns
        -------
        ScenarioSpec

        Raises
        ------
        SpecError
            With one :class:`Issue` per problem found.
        """
        locations = dict(locations or {})
        shown = str(source) if source is not None else "<scenario>"
        if not isinstance(data, Mapping):
            raise SpecError([Issue(shown, None, "", "expected a mapping of scenario keys")])
        try:
            factors, states = _vocabulary_for(data, source)
            context = {"factors": factors, "states": states}
            spec = cls.model_validate(dict(data), context=context)
        except ValidationError as err:
            issues = issues_from_validation_error(err, cls, locations, shown)
            raise SpecError(sorted(issues, key=_issue_order)) from None
        spec._source = (
            Path(source) if source is not None and not str(source).startswith("<") else None
        )
        spec._locations = locations
        return spec

    def to_data(self) -> dict[str, Any]:
        """Plain data (dicts, lists, dates, numbers) that :meth:`from_data` accepts back."""
        return _plain(self.model_dump(mode="python", exclude_none=True))

    def to_yaml(self) -> str:
        """The spec as a YAML document that loads back to an equal spec."""
        return yaml.dump(self.to_data(), Dumper=_Dumper, sort_keys=False, allow_unicode=True)

    def canonical_json(self) -> str:
        """Canonical JSON of the resolved spec (sorted keys, no whitespace, no ``source``)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def spec_hash(self) -> str:
        """SHA-256 hex digest of :meth:`canonical_json`."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    def with_overrides(self, **changes: Any) -> "ScenarioSpec":
        """A re-validated copy with top-level fields replaced (``paths=10_000, seed=1``).

        Raises
        ------
        SpecError
            When the changed spec is invalid (unknown field, bad value).
        """
        data = self.model_dump(mode="python")
        data.update(changes)
        shown = str(self._source) if self._source is not None else "<scenario>"
        kept = {loc: at for loc, at in self._locations.items() if not loc or loc[0] not in changes}
        kept.update({(key,): (shown, None) for key in changes})  # set in code: no line
        return type(self).from_data(data, source=self._source, locations=kept)

    def issue(self, loc: Loc, message: str, hint: str = "") -> Issue:
        """An :class:`Issue` placed at the file and line of field ``loc`` (for later checks)."""
        default = str(self._source) if self._source is not None else "<scenario>"
        file, line = locate(tuple(loc), self._locations, default)
        return Issue(file, line, format_field(tuple(loc)), message, hint)

    def resolve_path(self, value: str, field: str | None = None) -> Path | None:
        """Resolve a ``model`` / ``posterior`` value: None for 'default', else a path.

        Relative paths are relative to the scenario file (the loader already rebased paths
        inherited through ``extends:``). A path read from a file (not one set in code with
        :meth:`with_overrides`) must stay in the folders a scenario may read (:mod:`simengine.spec.paths`) and be a regular file
        (a missing file is reported by its loader).

        Raises
        ------
        SpecError
            At the line of the field, for a path outside, a link loop, a FIFO or a folder.
        """
        if value == "default":
            return None
        path = Path(value).expanduser()
        if not path.is_absolute() and self._source is not None:
            path = self._source.parent / path
        name = field or ("model" if value == self.model else "posterior")
        from_file = self._locations.get((name,), ("", 0))[1] is not None  # None: set in code
        if self._source is not None and from_file:
            problem = confinement_problem(path, allowed_roots(self._source))
            if problem is not None and not problem[0].startswith("file not found"):
                raise SpecError([self.issue((name,), *problem)])
        return path


def _vocabulary_for(
    data: Mapping[str, Any], source: Any
) -> tuple[tuple[str, ...], dict[str, tuple[float | None, float | None]]]:
    """Stochastic factors and start-date states of the model the scenario names (``model:``)."""
    from simengine.spec.model_file import model_factors, model_states

    model = data.get("model", "default")
    path = None
    if isinstance(model, str) and model != "default":
        path = Path(model).expanduser()
        if not path.is_absolute() and source is not None and not str(source).startswith("<"):
            path = Path(source).parent / path
    return model_factors(path), model_states(path)


class _Dumper(yaml.SafeDumper):
    """SafeDumper that double-quotes text holding Unicode line breaks (NEL, LS, PS): PyYAML
    folds them to spaces in single-quoted and plain scalars, so they would not load back."""


_NUMBER_LIKE = re.compile(r"[-+.]?[0-9]")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # quote text that starts like a number ("08", "0E0", "1:30"): the strict loader reads such
    # plain scalars as numbers or rejects them, so they would not load back as text
    if any(c in value for c in "\x85\u2028\u2029"):
        style = '"'
    elif _NUMBER_LIKE.match(value):
        style = "'"
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _issue_order(issue: Issue) -> tuple[str, int]:
    return issue.file, issue.line if issue.line is not None else 1 << 30


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
