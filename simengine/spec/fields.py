"""Field types shared by the scenario models: ISO dates, strict numbers, bp outcomes.

Numbers are strict (``"100"`` in quotes is text, not a number; ``true`` is not 1) and never
NaN or infinite; dates are ``datetime.date`` or ISO ``YYYY-MM-DD`` text only.
"""

import math
import os
import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, Strict, ValidationInfo

from simengine.spec.errors import custom_error, did_you_mean

__all__ = [
    "MAX_HORIZON_YEARS",
    "MAX_PATHS",
    "PROB_TOLERANCE",
    "MAX_BP_CHANGE",
    "AssetName",
    "Bp",
    "BpFloat",
    "Factor",
    "IsoDate",
    "LEVEL_PINS",
    "PinTarget",
    "Num",
    "Outcomes",
    "Positive",
    "Prob",
    "TariffLevel",
    "limit",
]

LEVEL_PINS: tuple[str, ...] = ("yield_2y", "policy_rate", "tariff")
"""Series a pin can fix in levels (%), in the units a strategist quotes (not model factors)."""

MAX_PATHS = 100_000_000
"""Default limit on ``paths``; raise it with the environment variable ``SIMENGINE_MAX_PATHS``."""
MAX_HORIZON_YEARS = 10
"""Default limit on horizon - start; raise it with ``SIMENGINE_MAX_HORIZON_YEARS``."""

MAX_BP_CHANGE = 1000
"""Largest |change| at one FOMC meeting, in bp (fixed, an outcome or the expected change):
10pp, several times the largest moves on record (the 1980 target swings of 4-5pp); beyond it
the rate paths leave the range the model means anything in (and 1e20bp overflowed a cast)."""

PROB_TOLERANCE = 1e-6
_ASSET_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def limit(env: str, default: int) -> int:
    """A safety limit, overridable through an environment variable."""
    try:
        return int(os.environ.get(env, default))
    except ValueError:
        return default


# ----------------------------------------------------------------------------- field types


def _iso_date(value: Any) -> date:
    """Accept a ``datetime.date`` or an ISO ``YYYY-MM-DD`` string, nothing else."""
    if isinstance(value, datetime):
        raise custom_error(f"received the date-time {value}; expected a date YYYY-MM-DD")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE_RE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise custom_error(f"received {value!r}, which is not a calendar date") from None
    shown = repr(value) if isinstance(value, str) else str(value)
    raise custom_error(
        f"received {shown}; expected an ISO date YYYY-MM-DD",
        "write year-month-day, e.g. 2025-09-17",
    )


def _check_outcomes(value: dict[int, float]) -> dict[int, float]:
    if not value:
        raise custom_error("received an empty mapping; expected bp change -> probability")
    total = math.fsum(value.values())
    if abs(total - 1.0) > PROB_TOLERANCE:
        raise custom_error(
            f"probabilities sum to {total:.6g}; expected 1 (within {PROB_TOLERANCE:g})",
            "e.g. {0: 0.4, -25: 0.6}",
        )
    return value


def _check_asset_name(value: str) -> str:
    if not _ASSET_RE.match(value):
        raise custom_error(
            f"received {value!r}; expected an identifier (letters, digits, '_')", "e.g. small_cap"
        )
    return value


def _check_bp(value: float) -> float:
    if not -MAX_BP_CHANGE <= value <= MAX_BP_CHANGE:
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        shown = shown if len(shown) <= 24 else f"{shown[:12]}...({len(shown)} digits)"
        raise custom_error(
            f"received {shown}bp; a change at one meeting must be within "
            f"[-{MAX_BP_CHANGE}, {MAX_BP_CHANGE}]bp",
            "the largest FOMC moves on record are a few hundred bp; write the change in bp, "
            "e.g. -25",
        )
    return value


def _check_factor(value: str, info: ValidationInfo) -> str:
    """A stochastic factor of the scenario's model (``context["factors"]``, else the default)."""
    from simengine.spec.model_file import model_factors

    factors = (info.context or {}).get("factors") or model_factors(None)
    if value not in factors:
        guess = did_you_mean(value, factors)
        valid = "valid: " + ", ".join(factors)
        raise custom_error(
            f"received {value!r}; expected one of {', '.join(factors)}",
            f"{guess} {valid}" if guess else valid,
        )
    return value


Factor = Annotated[str, Strict(), AfterValidator(_check_factor)]
"""A stochastic factor of the model (its ``factors`` with ``stochastic: true``)."""


def _check_pin_target(value: str, info: ValidationInfo) -> str:
    """A stochastic factor of the model, or a level series of :data:`LEVEL_PINS`."""
    return value if value in LEVEL_PINS else _check_factor(value, info)


PinTarget = Annotated[str, Strict(), AfterValidator(_check_pin_target)]
"""What a pin fixes: a stochastic factor, or ``yield_2y`` / ``policy_rate`` / ``tariff`` (%)."""
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Num = Annotated[float, Strict()]
Bp = Annotated[int, Strict(), AfterValidator(_check_bp)]
BpFloat = Annotated[float, Strict(), AfterValidator(_check_bp)]
Prob = Annotated[float, Strict(), Field(ge=0.0, le=1.0)]
Outcomes = Annotated[dict[Bp, Prob], AfterValidator(_check_outcomes)]
AssetName = Annotated[str, Strict(), AfterValidator(_check_asset_name)]
TariffLevel = Annotated[float, Strict(), Field(ge=0.0, le=100.0)]
Positive = Annotated[float, Strict(), Field(gt=0.0)]
