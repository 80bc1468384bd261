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
    "FOMC_DECISION_DATES",
    "FREQUENCIES",
    "Frequency",
    "TimeGrid",
    "nearest_meetings",
]

Frequency = Literal["monthly", "weekly", "daily"]
FREQUENCIES: tuple[str, ...] = ("monthly", "weekly", "daily")

# Scheduled FOMC decision dates (second day of each meeting). 2021-2025 from the Federal
# Reserve's published calendars (the same dates as ../shared/data/fed_policy/
# fomc_meeting_dates_2021_2025.csv); 2026 from the schedule the Fed published for that year.
_FOMC = """
2021-01-27 2021-03-17 2021-04-28 2021-06-16 2021-07-28 2021-09-22 2021-11-03 2021-12-15
2022-01-26 2022-03-16 2022-05-04 2022-06-15 2022-07-27 2022-09-21 2022-11-02 2022-12-14
2023-02-01 2023-03-22 2023-05-03 2023-06-14 2023-07-26 2023-09-20 2023-11-01 2023-12-13
2024-01-31 2024-03-20 2024-05-01 2024-06-12 2024-07-31 2024-09-18 2024-11-07 2024-12-18
2025-01-29 2025-03-19 2025-05-07 2025-06-18 2025-07-30 2025-09-17 2025-10-29 2025-12-10
2026-01-28 2026-03-18 2026-04-29 2026-06-17 2026-07-29 2026-09-16 2026-10-28 2026-12-09
"""
FOMC_DECISION_DATES: tuple[date, ...] = tuple(date.fromisoformat(d) for d in _FOMC.split())


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
