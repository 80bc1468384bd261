"""Waterfall chart of a comparison's channel attribution (matplotlib imported lazily)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simengine.plotting import _axes, _check_series, _finish, series_label, style

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from simengine.results import Comparison

__all__ = ["waterfall"]


def waterfall(
    result: Comparison,
    series: str = "small_cap",
    scenario: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Mean difference from the reference, built up channel by channel (percentage points).

    Each bar starts where the previous one ended (channels in the order they were switched
    off, then the residual); the last bar is the total, the mean path-by-path difference.

    Parameters
    ----------
    result : Comparison
        Run with attribution (:meth:`Comparison.attribution` not empty).
    series : str
    scenario : str, optional
        Default: the first scenario after the reference.
    ax : matplotlib Axes, optional
    """
    from simengine.exceptions import SimengineError

    _check_series(result, series)
    frame = result.attribution()
    if frame.empty:
        raise SimengineError("this comparison has no attribution; run compare with attribution")
    name = scenario or result.scenarios[1]
    row = frame.loc[(name, series)] * 100.0
    channels = [c for c in row.index if c != "total"]
    steps = row[channels].to_numpy()
    starts = np.concatenate([[0.0], np.cumsum(steps)[:-1]])
    fig, ax = _axes(ax, (8.0, 4.0))
    colors = [style(0).color if v >= 0 else style(1).color for v in steps]
    x = np.arange(len(channels) + 1)
    ax.bar(x[:-1], steps, bottom=starts, color=colors, alpha=0.85, edgecolor="0.2", lw=0.5)
    ax.bar(x[-1], row["total"], color="0.35", alpha=0.9, edgecolor="0.2", lw=0.5)
    for i, v in enumerate([*steps, row["total"]]):
        top = (starts[i] + max(v, 0.0)) if i < len(steps) else max(v, 0.0)
        ax.annotate(f"{v:+.3f}", (x[i], top), ha="center", va="bottom", fontsize="x-small")
    ax.set_xticks(x, [*channels, "total"], rotation=30, ha="right")
    ax.axhline(0.0, color="0.2", lw=0.8)
    label = series_label(result, series)
    ax.set_ylabel("pp of cumulative return")
    _finish(ax, f"{label}: {name} minus {result.reference}, by channel", legend=False)
    return fig
