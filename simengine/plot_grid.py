"""Overview charts that stay readable with many scenarios: median fans, small multiples, heat maps.

:func:`median_fans` draws each scenario's median with one band (the 50% band by default), the
legend below the chart; :func:`fan_grid` draws one small panel per scenario on shared axes,
with the reference scenario's median in grey in every panel; :func:`heatmap` shows one
statistic over two sweep axes (a batch report's cut timing x size, tariff x growth).
matplotlib is imported inside the functions. Built on :mod:`simengine.plot_base` only;
:mod:`simengine.plotting` uses these charts for the ``--plot`` set of a comparison.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from simengine.plot_base import (
    _axes,
    _check_series,
    _date_axis,
    _fan_data,
    _finish,
    _pyplot,
    _select,
    series_label,
    style,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from simengine.results import SimulationResult

__all__ = ["fan_grid", "fan_panels", "heatmap", "median_fans"]

MAX_PANELS = 12


def _curve(q: Any, name: str, p: float, start_level: float | None) -> np.ndarray:
    r = q.sel(scenario=name, quantile=p).values
    return start_level * (1.0 + r) if start_level is not None else 100.0 * r


def _ylabel(result: SimulationResult, series: str, start_level: float | None) -> str:
    label = series_label(result, series)
    return f"{label} (index points)" if start_level is not None else f"{label}: return (%)"


def median_fans(
    result: SimulationResult,
    series: str = "small_cap",
    band: tuple[float, float] = (0.25, 0.75),
    scenarios: Sequence[str] | str | None = None,
    ax: Axes | None = None,
    figsize: tuple[float, float] = (6.4, 4.4),
) -> Figure:
    """Each scenario's median path with one band, on one chart (legend below the axes).

    Only the first scenario (the reference) has a shaded band; the others' bands are thin
    lines in their colour and style, so overlapping bands never turn murky.

    Parameters
    ----------
    result : SimulationResult
    series : str
    band : (float, float)
        Lower and upper quantile of the band (one of 0.025, 0.1, 0.25, 0.75, 0.9, 0.975).
    scenarios : str or list of str, optional
    ax : matplotlib Axes, optional
    figsize : (float, float)

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_series(result, series)
    names = _select(result, scenarios)
    times, q, start_level = _fan_data(result, series, levels=True)
    fig, ax = _axes(ax, figsize)
    cover = f"{band[1] - band[0]:.0%}"
    for i, name in enumerate(names):
        st = style(i)
        lo, hi = (_curve(q, name, p, start_level) for p in band)
        if i == 0:  # overlapping shaded bands turn murky: only the reference's is shaded
            ax.fill_between(times, lo, hi, color=st.color, alpha=0.15, lw=0,
                            label=f"{cover} band: {name}")  # fmt: skip
        else:
            for edge in (lo, hi):
                ax.plot(times, edge, color=st.color, ls=st.linestyle, lw=0.7, alpha=0.8)
            if i == 1:  # one legend entry explains every thin line
                whose = f"{name}'s" if len(names) == 2 else "the others'"
                ax.plot([], [], color="0.35", lw=0.7, label=f"thin lines: {whose} {cover} band")
        ax.plot(times, _curve(q, name, 0.5, start_level), color=st.color, ls=st.linestyle,
                lw=2.0, label=f"median: {name}")  # fmt: skip
    ax.axhline(start_level if start_level is not None else 0.0, color="0.4", lw=0.8, ls=":")
    _date_axis(ax)
    ax.set_ylabel(_ylabel(result, series, start_level))
    _finish(ax, f"{series_label(result, series)}: median paths and {cover} bands")
    return fig


def fan_grid(
    result: SimulationResult,
    series: str = "small_cap",
    scenarios: Sequence[str] | str | None = None,
    ncols: int = 3,
) -> Figure:
    """Small multiples: one fan (median, 50% and 80% bands) per scenario, shared axes.

    The first scenario (the reference of a comparison) is drawn as a grey dashed median in
    every other panel, so each panel reads against it. At most :data:`MAX_PANELS` panels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_series(result, series)
    names = _select(result, scenarios)[:MAX_PANELS]
    return fan_panels([(name, result) for name in names], series, ncols)


def fan_panels(
    panels: Sequence[tuple[str, SimulationResult]],
    series: str = "small_cap",
    ncols: int = 3,
    titles: Sequence[str] | None = None,
) -> Figure:
    """Small multiples from ``(scenario name, result holding it)`` pairs (batch stores).

    ``titles`` replaces the panel titles (default: the scenario names), e.g. sweep labels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    panels = list(panels)[:MAX_PANELS]
    data = [(name, *_fan_data(res, series, levels=True)) for name, res in panels]
    ncols = max(1, min(ncols, len(data)))
    nrows = math.ceil(len(data) / ncols)
    fig, axes = _pyplot().subplots(
        nrows, ncols, figsize=(3.6 * ncols, 2.4 * nrows + 0.7), sharex=True, sharey=True,
        layout="constrained", squeeze=False,
    )  # fmt: skip
    ref_name, ref_times, ref_q, ref_level = data[0]
    ref_median = _curve(ref_q, ref_name, 0.5, ref_level)
    color = style(0).color
    for k, ax in enumerate(axes.ravel()):
        if k >= len(data):
            ax.set_visible(False)
            continue
        name, times, q, level = data[k]
        for lo, hi, alpha in ((0.10, 0.90, 0.15), (0.25, 0.75, 0.30)):
            ax.fill_between(times, _curve(q, name, lo, level), _curve(q, name, hi, level),
                            color=color, alpha=alpha, lw=0)  # fmt: skip
        if k > 0:
            ax.plot(ref_times, ref_median, color="0.45", lw=1.0, ls="--")
        ax.plot(times, _curve(q, name, 0.5, level), color=color, lw=1.6)
        ax.set_title(_short(titles[k] if titles else name), loc="left", fontsize="small")
        ax.grid(True, color="0.88", linewidth=0.5)
        _date_axis(ax)
        ax.tick_params(labelsize="x-small")
        if k + ncols >= len(data):  # nothing drawn below: this panel shows the dates
            ax.xaxis.set_tick_params(labelbottom=True)
    res = panels[0][1]
    fig.supylabel(_ylabel(res, series, ref_level), fontsize="small")
    ref_title = titles[0] if titles else ref_name
    note = f" (dashed grey: {_short(ref_title)})" if len(data) > 1 else ""
    fig.suptitle(f"{series_label(res, series)}: median, 50% and 80% bands{note}",
                 x=0.01, ha="left", fontsize="medium")  # fmt: skip
    return fig


def _short(name: str, width: int = 34) -> str:
    """A panel title that fits a small panel (sweep names repeat the sweep's name)."""
    return name if len(name) <= width else "…" + name[-(width - 1) :]


def heatmap(
    frame: pd.DataFrame,
    title: str,
    value_label: str,
    fmt: str = "{:+.1f}",
    diverging: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """A statistic over two sweep axes: rows x columns of ``frame``, each cell labelled.

    Parameters
    ----------
    frame : DataFrame
        Index: the first axis' labels, columns: the second's; NaN cells are drawn hatched
        and labelled "n/a" (the combination was not run).
    title, value_label : str
        Chart title and colour-bar label.
    fmt : str
        Format of the cell labels.
    diverging : bool
        Colour map centred on zero (returns); otherwise sequential (probabilities).

    Returns
    -------
    matplotlib.figure.Figure
    """
    values = frame.to_numpy(dtype=float)
    fig, ax = _axes(ax, (1.6 + 1.15 * values.shape[1], 1.5 + 0.55 * values.shape[0]))
    finite = values[np.isfinite(values)]
    if diverging:
        lim = float(np.abs(finite).max()) if finite.size else 1.0
        vmin, vmax, cmap = -lim, lim, "RdBu"
    else:
        vmin = float(finite.min()) if finite.size else 0.0
        vmax = float(finite.max()) if finite.size else 1.0
        cmap = "Blues"
    masked = np.ma.masked_invalid(values)
    image = ax.imshow(masked, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_facecolor("0.92")
    norm = image.norm
    for (i, j), v in np.ndenumerate(values):
        dark = np.isfinite(v) and abs(norm(v) - 0.5) > 0.3 if diverging else norm(v) > 0.6
        text = fmt.format(v) if np.isfinite(v) else "n/a"
        ax.text(j, i, text, ha="center", va="center", fontsize="small",
                color="white" if dark else "0.1")  # fmt: skip
    ax.set_xticks(range(values.shape[1]), [str(c) for c in frame.columns])
    ax.set_yticks(range(values.shape[0]), [str(r) for r in frame.index])
    ax.set_xlabel(str(frame.columns.name or ""))
    ax.set_ylabel(str(frame.index.name or ""))
    fig.colorbar(image, ax=ax, label=value_label, shrink=0.9)
    ax.set_title(title, loc="left", fontsize="medium")
    return fig
