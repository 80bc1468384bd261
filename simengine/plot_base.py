"""The shared base of the charts: palette and styles, matplotlib setup, labels, fan data.

:mod:`simengine.plotting` (one chart per function, the ``--plot`` set) and
:mod:`simengine.plot_grid` (median fans, small multiples, heat maps) both build on this
module, and ``plotting`` uses ``plot_grid`` for charts of several scenarios, so the
dependency runs one way: ``plotting -> plot_grid -> plot_base``. matplotlib is imported
inside the functions (``import simengine`` stays light); without a display the Agg backend
is used.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simengine.exceptions import SimengineError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from simengine.results import SimulationResult

__all__ = [
    "BANDS",
    "FAN_QUANTILES",
    "FIGSIZE",
    "OKABE_ITO",
    "Style",
    "figure_to_png",
    "series_label",
    "style",
]

#: Okabe & Ito (2008) colour-blind-safe palette, ordered for contrast on white (yellow last).
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)
LINESTYLES: tuple[Any, ...] = (
    "-",
    "--",
    "-.",
    ":",
    (0, (5, 1)),
    (0, (3, 1, 1, 1, 1, 1)),
    (0, (1, 1)),
    (0, (8, 2, 2, 2)),
)
HATCHES: tuple[str, ...] = ("", "//", "\\\\", "xx", "..", "++", "--", "oo")
#: (coverage, lower, upper) of the fan bands, widest first.
BANDS: tuple[tuple[float, float, float], ...] = (
    (0.95, 0.025, 0.975),
    (0.80, 0.10, 0.90),
    (0.50, 0.25, 0.75),
)
FAN_QUANTILES: tuple[float, ...] = (0.025, 0.10, 0.25, 0.5, 0.75, 0.90, 0.975)
FIGSIZE = (8.0, 4.5)


@dataclass(frozen=True)
class Style:
    """Colour, line style and hatch of the i-th scenario."""

    color: str
    linestyle: Any
    hatch: str


def style(i: int) -> Style:
    """The style of the ``i``-th scenario (cycles after eight)."""
    return Style(OKABE_ITO[i % 8], LINESTYLES[i % 8], HATCHES[i % 8])


# --------------------------------------------------------------------------- matplotlib setup


def _no_display() -> bool:
    if sys.platform.startswith(("win", "darwin")):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _pyplot():  # the matplotlib.pyplot module
    """Import pyplot, choosing Agg when there is no display and no backend was chosen."""
    import matplotlib

    chosen = getattr(matplotlib.rcParams, "_get_backend_or_none", lambda: "unknown")()
    if chosen is None and "MPLBACKEND" not in os.environ and _no_display():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _axes(ax: Axes | None, figsize: tuple[float, float] = FIGSIZE) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, new = _pyplot().subplots(figsize=figsize, layout="constrained")
    return fig, new


def _date_axis(ax: Axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _wrap(text: str, ax: Axes) -> str:
    """``text`` broken into lines that fit the axes' width at the current font size.

    A character of a sans-serif font is about 0.55 em wide; the axes take about 80% of the
    figure's width, so a label wider than that is wrapped instead of clipped.
    """
    import textwrap

    import matplotlib

    size = float(matplotlib.rcParams["font.size"])
    width = max(20, int(0.8 * ax.figure.get_figwidth() * 72.0 / (0.55 * size)))
    if len(text) <= width:
        return text
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False))


def _wider_than_figure(artist: Any) -> bool:
    """Whether ``artist`` (a legend) is wider than its figure, measured with the renderer."""
    fig = artist.figure
    get_renderer = getattr(fig.canvas, "get_renderer", None)
    if get_renderer is None:  # a backend without one: assume it fits
        return False
    return artist.get_window_extent(get_renderer()).width > 0.98 * fig.bbox.width


def _finish(ax: Axes, title: str, legend: bool = True) -> None:
    """Title, grid, and a legend below the plot area, so it never covers the data."""
    ax.set_title(_wrap(title, ax), loc="left", fontsize="medium")
    ax.set_xlabel(_wrap(ax.get_xlabel(), ax))
    ax.grid(True, color="0.85", linewidth=0.6)
    ax.set_axisbelow(True)
    handles, labels = ax.get_legend_handles_labels()
    if not (legend and handles):
        return
    fig = ax.figure
    if len(fig.axes) == 1 and type(fig.get_layout_engine()).__name__ == "ConstrainedLayoutEngine":
        # below the x label, outside the axes: the legend never covers a curve
        ncols = 1 if len(handles) > 3 or max(map(len, labels)) > 40 else len(handles)
        legend = fig.legend(handles, labels, loc="outside lower left", fontsize="small",
                            frameon=False, ncols=ncols)  # fmt: skip
        if ncols > 1 and _wider_than_figure(legend):  # one row would be clipped: stack them
            legend.remove()
            fig.legend(handles, labels, loc="outside lower left", fontsize="small",
                       frameon=False, ncols=1)  # fmt: skip
    else:  # the caller's own layout: let matplotlib find the emptiest corner
        ax.legend(fontsize="small", frameon=False, loc="best")


# --------------------------------------------------------------------------- result helpers


def _labels(result: SimulationResult) -> dict[str, str]:
    labels = json.loads(result.attrs.get("labels", "{}"))
    if "pair" in result.series and {"small_cap", "large_cap"} <= set(labels):
        labels["pair"] = f"long {labels['large_cap']} / short {labels['small_cap']}"
    return labels


def series_label(result: SimulationResult, series: str) -> str:
    """Human name of a series (``Russell 2000``), or the series name itself."""
    return _labels(result).get(series, series)


def _check_series(result: SimulationResult, series: str) -> None:
    if series not in result.series:
        raise SimengineError(
            f"unknown series {series!r}; this result has {', '.join(result.series)}"
        )


def _select(result: SimulationResult, scenarios: Sequence[str] | str | None) -> list[str]:
    if scenarios is None:
        return list(result.scenarios)
    names = [scenarios] if isinstance(scenarios, str) else list(scenarios)
    unknown = [n for n in names if n not in result.scenarios]
    if unknown:
        raise SimengineError(
            f"unknown scenario(s) {unknown}; this result has {', '.join(result.scenarios)}"
        )
    return names


def _start_date(result: SimulationResult) -> np.datetime64 | None:
    specs = result.specs
    start = specs.get(result.scenarios[0], {}).get("start") if specs else None
    return np.datetime64(str(start)[:10], "ns") if start else None


def _horizon(result: SimulationResult) -> str:
    return str(result.dataset["time"].values[-1])[:10]


def _terminal(result: SimulationResult, var: str) -> np.ndarray:
    """Terminal FINE histogram counts ``var`` (scenario, series, bin) as a numpy array."""
    return result.dataset[var].values


def _fan_data(
    result: SimulationResult, series: str, levels: bool
) -> tuple[np.ndarray, Any, float | None]:
    q = result.quantile_paths(FAN_QUANTILES).sel(series=series)
    start_level = json.loads(result.attrs.get("start_levels", "{}")).get(series) if levels else None
    times = q["time"].values
    start = _start_date(result)
    if start is not None and start < times[0]:
        times = np.concatenate([[start], times])
        q = q.pad(time=(1, 0), constant_values=0.0)
    return times, q, start_level


def figure_to_png(fig: Figure, dpi: int = 110, close: bool = True) -> bytes:
    """The figure as PNG bytes (no software metadata), closing it by default."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    if close:
        _pyplot().close(fig)
    return buf.getvalue()
