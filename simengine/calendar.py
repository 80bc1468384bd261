"""Time grid and the FOMC calendar.

The simulation runs on a calendar grid from a start date to a horizon date. Step ``t`` covers
the interval ``(end_{t-1}, end_t]`` with ``end_{-1}`` = the start date, so an event dated on a
real calendar date lands in the step that contains it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np

__all__ = [
    "FOMC_CALENDAR_END",
    "FOMC_CALENDAR_SOURCE",
    "FOMC_DECISION_DATES",
    "FREQUENCIES",
    "Frequency",
    "TimeGrid",
    "calendar_end_problem",
    "nearest_meetings",
]

Frequency = Literal["monthly", "weekly", "daily"]
FREQUENCIES: tuple[str, ...] = ("monthly", "weekly", "daily")

# Scheduled FOMC decision dates (second day of each meeting), one line per year, with the
# Federal Reserve release each year comes from. 2021-2025 are also in
# ../shared/data/fed_policy/fomc_meeting_dates_2021_2025.csv.
_FOMC_BY_YEAR: dict[int, tuple[str, str]] = {
    2021: ("01-27 03-17 04-28 06-16 07-28 09-22 11-03 12-15", "fomccalendars.htm, 2021 meetings"),
    2022: ("01-26 03-16 05-04 06-15 07-27 09-21 11-02 12-14", "fomccalendars.htm, 2022 meetings"),
    2023: ("02-01 03-22 05-03 06-14 07-26 09-20 11-01 12-13", "fomccalendars.htm, 2023 meetings"),
    2024: ("01-31 03-20 05-01 06-12 07-31 09-18 11-07 12-18", "fomccalendars.htm, 2024 meetings"),
    2025: (
        "01-29 03-19 05-07 06-18 07-30 09-17 10-29 12-10",
        "FOMC press release 'Federal Open Market Committee announces its tentative meeting "
        "schedule for 2025 and 2026' (2024)",
    ),
    2026: (
        "01-28 03-18 04-29 06-17 07-29 09-16 10-28 12-09",
        "same release (2024): published before the as-of date 2025-07-16",
    ),
}
FOMC_CALENDAR_SOURCE = (
    "Board of Governors of the Federal Reserve System, Meeting calendars "
    "(https://www.federalreserve.gov/monetarypolicy/fomccalendars.htm); per year: "
    + "; ".join(f"{y}: {src}" for y, (_, src) in _FOMC_BY_YEAR.items())
)
FOMC_DECISION_DATES: tuple[date, ...] = tuple(
    date.fromisoformat(f"{y}-{md}") for y, (days, _) in _FOMC_BY_YEAR.items() for md in days.split()
)
FOMC_CALENDAR_END = date(max(_FOMC_BY_YEAR), 12, 31)
"""Last day the built-in calendar covers: a horizon after it needs ``fomc_calendar:``."""


def calendar_end_problem(horizon: date) -> tuple[str, str] | None:
    """(message, hint) when ``horizon`` is past the built-in FOMC calendar, else None."""
    if horizon <= FOMC_CALENDAR_END:
        return None
    return (
        f"horizon {horizon} is past the end of the built-in FOMC calendar, which covers "
        f"scheduled decisions to {FOMC_CALENDAR_END} (last: {FOMC_DECISION_DATES[-1]}); meetings "
        "after it would silently be missing",
        f"end the horizon on or before {FOMC_CALENDAR_END}, or list every decision date of "
        "the window in fomc_calendar: (the Fed publishes them at "
        "https://www.federalreserve.gov/monetarypolicy/fomccalendars.htm)",
    )


def nearest_meetings(day: date, calendar: tuple[date, ...] = FOMC_DECISION_DATES) -> list[date]:
    """Return the scheduled meetings just before and just after ``day`` (for "did you mean")."""
    before = [m for m in calendar if m < day]
    after = [m for m in calendar if m > day]
    return ([before[-1]] if before else []) + ([after[0]] if after else [])


def _step_ends(start: np.datetime64, horizon: np.datetime64, frequency: str) -> np.ndarray:
    if frequency == "monthly":
        months = np.arange(
            start.astype("datetime64[M]"),
            horizon.astype("datetime64[M]") + 1,
            dtype="datetime64[M]",
        )
        ends = (months + 1).astype("datetime64[D]") - 1
    elif frequency == "weekly":
        first = np.busday_offset(start + 1, 0, roll="forward", weekmask="Fri")
        ends = np.arange(first, horizon + 1, 7, dtype="datetime64[D]")
    elif frequency == "daily":
        days = np.arange(start + 1, horizon + 1, dtype="datetime64[D]")
        ends = days[np.is_busday(days)]
    else:
        raise ValueError(f"frequency must be one of {FREQUENCIES}, got {frequency!r}")
    ends = ends[(ends > start) & (ends < horizon)]
    return np.append(ends, horizon).astype("datetime64[D]")


@dataclass(frozen=True)
class TimeGrid:
    """Calendar grid of simulation steps.

    Parameters
    ----------
    start : datetime.date
        The as-of date: the state is known at its close; step 0 starts after it.
    horizon : datetime.date
        The last date simulated; the last step ends on it.
    frequency : {"monthly", "weekly", "daily"}
        Step ends at month ends, Fridays or business days. The first step may be a stub (from
        the start date to the first step end) and so may the last (ending on the horizon).

    Attributes
    ----------
    dates : numpy.ndarray of datetime64[D]
        End date of each step.
    months : numpy.ndarray of datetime64[M]
        The calendar months the window touches: the factors evolve month by month.
    month_weights : numpy.ndarray
        Share of each month covered by each step, (n_steps, n_months).
    h_months : numpy.ndarray
        Length of each step in months; the model's parameters are monthly.
    dt_years : numpy.ndarray
        Length of each step in years (``h_months / 12``).
    """

    start: date
    horizon: date
    frequency: str = "monthly"
    dates: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.horizon <= self.start:
            raise ValueError(f"horizon {self.horizon} must be after start {self.start}")
        ends = _step_ends(
            np.datetime64(self.start, "D"), np.datetime64(self.horizon, "D"), self.frequency
        )
        object.__setattr__(self, "dates", ends)

    @property
    def n_steps(self) -> int:
        return int(self.dates.size)

    @property
    def months(self) -> np.ndarray:
        """Calendar months the window touches, ``datetime64[M]`` (the factor grid)."""
        first = (np.datetime64(self.start, "D") + 1).astype("datetime64[M]")
        return np.arange(first, self.dates[-1].astype("datetime64[M]") + 1, dtype="datetime64[M]")

    @property
    def month_weights(self) -> np.ndarray:
        """Share of each month that each step covers, shape (n_steps, n_months).

        ``W[t, m]`` = days of month ``m`` inside step ``t`` / days in month ``m``. A full month
        split into weeks has weights summing to 1; the month of the start date sums to the part
        of it after the start.
        """
        edges = np.concatenate([[np.datetime64(self.start, "D")], self.dates])
        first_day = edges[:-1, None] + 1  # (T, 1): steps cover first_day .. last_day
        last_day = edges[1:, None]
        m_start = self.months.astype("datetime64[D]")[None, :]
        m_end = (self.months + 1).astype("datetime64[D]")[None, :] - 1
        overlap = (np.minimum(last_day, m_end) - np.maximum(first_day, m_start)).astype(
            np.float64
        ) + 1
        days = (m_end - m_start).astype(np.float64) + 1
        return np.clip(overlap, 0.0, None) / days

    @property
    def step_month(self) -> np.ndarray:
        """Index (into :attr:`months`) of the month that contains each step's end date."""
        return np.searchsorted(self.months, self.dates.astype("datetime64[M]")).astype(np.intp)

    def month_of(self, day: date) -> int:
        """Index of the month containing ``day`` (which must be inside the window)."""
        self.step_of(day)  # validates the window
        return int(np.searchsorted(self.months, np.datetime64(day, "M")))

    @property
    def h_months(self) -> np.ndarray:
        """Length of each step in months (the unit of the model's parameters).

        A full calendar month is exactly 1; other steps count the share of each month they
        cover (``month_weights.sum(axis=1)``), so a week is about 0.23.
        """
        return self.month_weights.sum(axis=1)

    @property
    def dt_years(self) -> np.ndarray:
        """Length of each step in years (``h_months / 12``)."""
        return self.h_months / 12.0

    def step_of(self, day: date) -> int:
        """Index of the step whose interval ``(end_{t-1}, end_t]`` contains ``day``.

        Raises
        ------
        ValueError
            If ``day`` is on or before the start date, or after the horizon.
        """
        d = np.datetime64(day, "D")
        if d <= np.datetime64(self.start, "D") or d > self.dates[-1]:
            raise ValueError(
                f"{day} is outside the simulated window ({self.start}, {self.horizon}]"
            )
        return int(np.searchsorted(self.dates, d, side="left"))

    def meetings(self, calendar: tuple[date, ...] = FOMC_DECISION_DATES) -> tuple[date, ...]:
        """Scheduled FOMC decisions inside the window ``(start, horizon]``."""
        return tuple(m for m in calendar if self.start < m <= self.horizon)
