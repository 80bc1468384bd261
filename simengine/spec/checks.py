"""Cross-field checks of a scenario: meeting dates, bp sizes, windows, duplicates.

They run inside :class:`~simengine.spec.scenario.ScenarioSpec` field validators, read the
fields declared before the field being checked, and raise one pydantic error carrying every
problem found (unpacked into one issue each by :mod:`simengine.spec.errors`).
"""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from simengine.calendar import FOMC_DECISION_DATES, nearest_meetings
from simengine.spec.errors import Loc, multi_error

__all__ = [
    "RUN_SETTINGS",
    "Problem",
    "Window",
    "add_years",
    "check_dated",
    "check_meetings",
    "check_run_settings",
    "warn_extreme_positioning",
    "duplicate_names",
    "raise_problems",
]

Problem = tuple[Loc, str, str]
"""(location relative to the checked field, message, hint)."""


class Window:
    """What the field validators know about the fields declared before them."""

    def __init__(self, data: Mapping[str, Any]):
        self.start: date | None = data.get("start")
        self.horizon: date | None = data.get("horizon")
        self.assets: tuple[str, ...] | None = data.get("assets")
        # None when fomc_calendar / allow_any_bp themselves failed: skip dependent checks
        self.calendar = (
            (data["fomc_calendar"] or FOMC_DECISION_DATES) if "fomc_calendar" in data else None
        )
        self.any_bp: bool | None = data.get("allow_any_bp")

    @property
    def known(self) -> bool:
        return self.start is not None and self.horizon is not None

    def outside(self, day: date) -> bool:
        return self.known and not (self.start < day <= self.horizon)  # type: ignore[operator]

    def describe(self) -> str:
        return f"({self.start}, {self.horizon}] (after start, up to and including horizon)"


def _meeting_problems(day: date, w: Window) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if w.calendar is not None and day not in w.calendar:
        near = nearest_meetings(day, tuple(w.calendar))
        best = min(near, key=lambda m: abs((m - day).days)) if near else None
        guess = f"did you mean {best}? " if best else ""
        around = " and ".join(str(m) for m in near)
        out.append(
            (
                f"{day} is not a scheduled FOMC decision date",
                f"{guess}nearest scheduled decisions: {around}; an unscheduled meeting must be "
                "added to fomc_calendar:",
            )
        )
    if w.outside(day):
        inside = [str(m) for m in (w.calendar or ()) if not w.outside(m)]
        out.append(
            (
                f"meeting {day} is outside the scenario window {w.describe()}",
                "meetings in the window: " + (", ".join(inside) or "none"),
            )
        )
    return out


def _bp_problems(item: Any, w: Window) -> list[Problem]:
    """Changes that are not multiples of 25bp (unless ``allow_any_bp``), with their field."""
    if w.any_bp is not False:
        return []
    found: list[tuple[Loc, int]] = []
    if getattr(item, "change_bp", None) is not None:
        found.append((("change_bp",), item.change_bp))
    found += [(("outcomes", bp), bp) for bp in (item.outcomes or ())]
    hint = "set allow_any_bp: true to allow other sizes"
    return [
        (loc, f"received {bp}bp; expected a multiple of 25bp", hint) for loc, bp in found if bp % 25
    ]


def _duplicates(days: Sequence[date], what: str) -> list[Problem]:
    seen: dict[date, int] = {}
    out: list[Problem] = []
    for i, day in enumerate(days):
        if day in seen:
            out.append(
                ((i,), f"{what} {day} is listed twice", f"first listed at item [{seen[day]}]")
            )
        seen.setdefault(day, i)
    return out


def raise_problems(problems: list[Problem]) -> None:
    if problems:
        raise multi_error(problems)


def check_meetings(items: Sequence[Any], key: str, w: Window) -> None:
    problems = _duplicates([getattr(it, key) for it in items], "meeting")
    for i, it in enumerate(items):
        problems += [((i, key), m, h) for m, h in _meeting_problems(getattr(it, key), w)]
        problems += [((i, *loc), m, h) for loc, m, h in _bp_problems(it, w)]
    raise_problems(problems)


def check_dated(items: Sequence[Any], key: str, w: Window, what: str) -> list[Problem]:
    problems = []
    for i, it in enumerate(items):
        day = getattr(it, key)
        if w.outside(day):
            problems.append(
                ((i, key), f"{what} {day} is outside the scenario window {w.describe()}", "")
            )
    return problems


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def duplicate_names(names: Sequence[str]) -> list[Problem]:
    seen: set[str] = set()
    out: list[Problem] = []
    for i, name in enumerate(names):
        if name in seen:
            out.append(((i,), f"asset {name!r} is listed twice", "list each asset once"))
        seen.add(name)
    return out


MAX_SQUEEZES_PER_YEAR = 12.0
"""Squeeze intensity (jumps a year) above which a scenario's positioning is flagged: the squeeze
is a rare-jump model (about one a year at the normal short interest); at more than one a
month the compounded jumps, not the macro scenario, make the result (short_interest_bn 1000
gave a small-cap mean of +1,053%)."""

RUN_SETTINGS = ("method", "antithetic")
"""Per-file settings every scenario of one run must share (unless overridden)."""


def _check_argument(name: str, value: Any, low: int, high: int | None = None) -> None:
    from simengine.exceptions import UsageError

    ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
    if ok and high is not None:
        ok = value < high
    if not ok:
        upper = f" and below 2**{high.bit_length() - 1}" if high is not None else ""
        raise UsageError(f"{name} must be an integer >= {low}{upper}, got {value!r}")


def check_run_settings(specs: Sequence[Any], overrides: Mapping[str, Any]) -> None:
    """Check the arguments of one run and that its scenarios agree on per-file settings.

    Parameters
    ----------
    specs : sequence of ScenarioSpec
        The scenarios run together (a comparison shares its random numbers).
    overrides : mapping
        Arguments given to the run: ``seed, chunk_size, threads, method, antithetic``
        (None: not given).

    Raises
    ------
    UsageError
        A negative seed, fewer than one thread or path per chunk (the path count is checked
        with its limit by :func:`simengine.guards.check_run_size`).
    SpecError
        A scenario whose ``method`` or ``antithetic`` differs from the first one's while the
        run does not override it: it would silently be run the first one's way.
    """
    from simengine.exceptions import SpecError

    bounds = {
        "seed": (0, 2**128),
        "chunk_size": (1, None),
        "threads": (1, None),
    }
    for name, (low, high) in bounds.items():
        if overrides.get(name) is not None:
            _check_argument(name, overrides[name], low, high)
    first, issues = specs[0], []
    for key in RUN_SETTINGS:
        if overrides.get(key) is not None:
            continue
        for spec in specs[1:]:
            if getattr(spec, key) != getattr(first, key):
                issues.append(
                    spec.issue(
                        (key,),
                        f"{key} is {getattr(spec, key)!r} here but {getattr(first, key)!r} in the "
                        f"first scenario {first.name!r}; scenarios run together share one {key}",
                        f"set the same {key} in every file, or give it for the whole run "
                        f"(--{key.replace('_', '-')} on the command line)",
                    )
                )
    if issues:
        raise SpecError(issues)


def warn_extreme_positioning(
    spec: Any, base_intensity: float, normal_si: float, elasticity: float
) -> float | None:
    """Warn when ``positioning.short_interest_bn`` implies more than one squeeze a month.

    Returns the squeeze intensity (jumps a year), or None without positioning.

    Notes
    -----
    ``lambda = base_intensity * (short_interest_bn / normal_short_interest_bn) ** elasticity``
    (the model file's squeeze section), compared with :data:`MAX_SQUEEZES_PER_YEAR`.
    """
    import warnings

    from simengine.exceptions import ExtremeInputWarning

    if spec.positioning is None:
        return None
    si = spec.positioning.short_interest_bn
    try:
        intensity = base_intensity * (si / normal_si) ** elasticity
    except OverflowError:
        intensity = float("inf")
    if not intensity <= MAX_SQUEEZES_PER_YEAR:
        where = spec.issue(("positioning", "short_interest_bn"), "")
        warnings.warn(
            f"{where.file}:{where.line}: short_interest_bn {si:g} is {si / normal_si:.3g} times "
            f"the model's normal {normal_si:g}bn: {intensity:.3g} squeezes a year expected "
            f"(more than {MAX_SQUEEZES_PER_YEAR:g}); the jumps, not the scenario, will drive the "
            "returns: check the value ($bn of Russell 2000 futures short)",
            ExtremeInputWarning,
            stacklevel=3,
        )
    return float(intensity)
