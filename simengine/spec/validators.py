"""Small validators shared by the model-file envelope and the parts' parameter schemas."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["check_keys", "correlations", "finite"]


def finite(v: float, what: str) -> float:
    """``v`` if it is a finite number, else a ``ValueError`` naming ``what``."""
    if not math.isfinite(v):
        raise ValueError(f"{what} must be a finite number, got {v}")
    return v


def check_keys(mapping: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    """Reject keys of ``mapping`` that are not in ``allowed``."""
    unknown = sorted(set(mapping) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; expected names from {list(allowed)}")


def correlations(value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Check a nested correlation mapping: unit diagonal, entries in [-1, 1]."""
    for row, cols in value.items():
        for col, v in cols.items():
            if row == col and v != 1.0:
                raise ValueError(f"correlation of {row} with itself must be 1, got {v}")
            if not -1.0 <= v <= 1.0:
                raise ValueError(f"correlation {row}-{col} must be in [-1, 1], got {v}")
    return value
