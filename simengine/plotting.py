"""Pictures of simulation results: fan charts, densities, differences, pair trade, tornado.

Styles, matplotlib setup and labels live in :mod:`simengine.plot_base`; charts of many
scenarios at once (median fans, small multiples) in :mod:`simengine.plot_grid`, which this
module uses for the ``--plot`` set of a comparison. matplotlib is imported inside the functions (``import simengine`` stays light); without a
display the Agg backend is used. Every function takes an optional ``ax`` and returns the
figure. Colours follow the Okabe-Ito palette (safe for colour-blind readers) and every
scenario also gets its own line style (and hatching for filled areas), so the charts read in
greyscale.

Use them through a result (``res.plot.fan()``, ``cmp.plot.difference()``) or directly
(``simengine.plotting.fan(res)``); :func:`save_plots` writes the standard set as PNG files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from simengine import stats
from simengine.exceptions import SimengineError
from simengine.io import atomic_write, check_can_write
from simengine.plot_base import (
    BANDS,
    OKABE_ITO,
    _axes,
    _check_series,
    _date_axis,
    _fan_data,
    _finish,
    _horizon,
    _select,
    _terminal,
    figure_to_png,
    series_label,
    style,
)
from simengine.plot_grid import fan_grid, median_fans

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from simengine.results import SimulationResult

__all__ = [
    "OKABE_ITO",
    "PlotAccessor",
    "density",
    "difference",
    "fan",
    "fan_grid",
    "figure_to_png",
    "median_fans",
    "pair",
    "save_plots",
    "series_label",
    "style",
    "tornado",
    "variance_split",
    "waterfall",
]

MAX_FAN_SCENARIOS = 6  # more overlaid fans than this are unreadable


def hist_density(
    counts: np.ndarray, lo: float, hi: float, n_bins: int = 120, smooth: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Probability density per unit of value from FINE histogram counts, on a uniform grid.

    Parameters
    ----------
    counts : ndarray (n_fine + 2,)
        Counts on :data:`simengine.stats.FINE` (with under/overflow bins).
    lo, hi : float
        Range of the uniform grid, in value units (returns as fractions).
    n_bins : int
        Number of uniform bins.
    smooth : float
        Standard deviation of a Gaussian kernel, in uniform bins (0 = none).

    Returns
    -------
    centers, density : ndarray (n_bins,)
        ``density`` integrates to the share of paths inside ``[lo, hi]``.

    Notes
    -----
    The empirical CDF is linear inside each fine bin (as in
    :func:`simengine.stats.quantile_from_hist`); the density is its finite difference on the
    uniform grid, ``(F(x_{k+1}) - F(x_k)) / dx``.
    """
    cum = np.cumsum(counts).astype(np.float64)
    n = cum[-1] if cum[-1] > 0 else 1.0
    cdf_at_edges = cum[:-1] / n  # F at the inner edges: underflow + bins up to edge k
    edges = np.linspace(lo, hi, n_bins + 1)
    cdf = np.interp(edges, stats.FINE.edges, cdf_at_edges)
    dens = np.diff(cdf) / np.diff(edges)
    if smooth > 0:
        half = int(np.ceil(3 * smooth))
        kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / smooth) ** 2)
        dens = np.convolve(dens, kernel / kernel.sum(), mode="same")
    return 0.5 * (edges[:-1] + edges[1:]), dens


def _range(
    counts: np.ndarray, tail: float = 0.002, min_width: float = 0.002
) -> tuple[float, float]:
    """A plotting range covering every histogram in ``counts`` (..., bin) but the far tails."""
    flat = counts.reshape(-1, counts.shape[-1])
    flat = flat[flat.sum(axis=1) > 0]
    q = stats.quantile_from_hist(flat, stats.FINE, np.array([tail, 1 - tail]))
    lo, hi = float(q[:, 0].min()), float(q[:, 1].max())
    pad = max(0.1 * (hi - lo), min_width / 2)
    return lo - pad, hi + pad


def _smooth_for(n_paths: int) -> float:
    # fewer paths, noisier histogram: widen the kernel a little (about 1 bin at 1e5 paths)
    return float(np.clip(1.0 * (1e5 / max(n_paths, 1)) ** 0.25, 0.8, 3.0))


# --------------------------------------------------------------------------- fan chart


def fan(
    result: SimulationResult,
    series: str = "small_cap",
    levels: bool = True,
    scenarios: Sequence[str] | str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Fan chart: 50/80/95% bands and the median path over the horizon.

    Parameters
    ----------
    result : SimulationResult
    series : str
        ``small_cap``, ``large_cap`` or ``pair``.
    levels : bool
        Index levels (index points) from the scenario's start level; when the series has no
        start level (``pair``), or ``levels=False``, cumulative returns in %.
    scenarios : str or list of str, optional
        Scenarios to overlay (default all; at most six are drawn). For several scenarios,
        :func:`simengine.plot_grid.median_fans` (medians with one band each) and
        :func:`simengine.plot_grid.fan_grid` (small multiples) read better.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Bands come from the per-step histograms (``result.quantile_paths()``); a level is
    ``L_0 (1 + R_t)`` with ``R_t`` the simple cumulative return to step ``t``.
    """
    _check_series(result, series)
    names = _select(result, scenarios)[:MAX_FAN_SCENARIOS]
    times, q, start_level = _fan_data(result, series, levels)
    use_levels = start_level is not None

    def y(name: str, p: float) -> np.ndarray:
        r = q.sel(scenario=name, quantile=p).values
        return start_level * (1.0 + r) if use_levels else 100.0 * r

    fig, ax = _axes(ax)
    single = len(names) == 1
    for i, name in enumerate(names):
        st = style(i)
        for cover, lo, hi in BANDS:
            alpha = {0.95: 0.15, 0.80: 0.22, 0.50: 0.32}[cover] * (1.0 if single else 0.6)
            label = f"{cover:.0%} band" if single else None
            ax.fill_between(
                times, y(name, lo), y(name, hi), color=st.color, alpha=alpha, lw=0, label=label
            )
        median_label = "median" if single else f"{name} (median; thin: 95% band)"
        ax.plot(times, y(name, 0.5), color=st.color, ls=st.linestyle, lw=2.0, label=median_label)
        if not single:
            for p in (0.025, 0.975):
                ax.plot(times, y(name, p), color=st.color, ls=st.linestyle, lw=0.8)
    ax.axhline(start_level if use_levels else 0.0, color="0.4", lw=0.8, ls=":")
    _date_axis(ax)
    label = series_label(result, series)
    ax.set_ylabel(f"{label} (index points)" if use_levels else f"{label}: cumulative return (%)")
    ax.set_xlabel("date")
    what = "index level" if use_levels else "cumulative return"
    title = f"{label}: {what}, median and 50/80/95% bands"
    _finish(ax, title + (f" ({names[0]})" if single else ""))
    return fig


# --------------------------------------------------------------------------- densities


def _density_lines(
    ax: Axes, counts: np.ndarray, labels: list[str], n_paths: int, fill: bool = False
) -> None:
    lo, hi = _range(counts)
    smooth = _smooth_for(n_paths)
    for i, (c, label) in enumerate(zip(counts, labels, strict=True)):
        st = style(i)
        x, d = hist_density(c, lo, hi, smooth=smooth)
        ax.plot(100 * x, d, color=st.color, ls=st.linestyle, lw=1.8, label=label)
        if fill:
            ax.fill_between(100 * x, d, color=st.color, alpha=0.12, hatch=st.hatch, lw=0)
    ax.axvline(0.0, color="0.4", lw=0.8, ls=":")
    ax.set_ylim(bottom=0)
    ax.set_ylabel("probability density (per unit return)")


def _n_paths(result: SimulationResult) -> int:
    return int(result.dataset["n_paths"].values.min())


def density(
    result: SimulationResult,
    series: str = "small_cap",
    scenarios: Sequence[str] | str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Densities of the cumulative return to the horizon, one line per scenario.

    Parameters
    ----------
    result : SimulationResult
    series : str
    scenarios : str or list of str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    From the fine terminal histograms (``term_count``), re-binned on a uniform grid and lightly
    smoothed with a Gaussian kernel (about one bin at 100,000 paths, wider with fewer paths).
    """
    _check_series(result, series)
    names = _select(result, scenarios)
    idx = [result.scenarios.index(n) for n in names]
    s = result.series.index(series)
    counts = _terminal(result, "term_count")[idx, s]
    med = result.summary().xs(series, level="series")["median"]
    labels = [f"{n} (median {100 * med[n]:+.1f}%)" for n in names]
    fig, ax = _axes(ax)
    _density_lines(ax, counts, labels, _n_paths(result))
    label = series_label(result, series)
    ax.set_xlabel(f"{label}: cumulative return to {_horizon(result)} (%)")
    _finish(ax, f"{label}: distribution of the return to the horizon")
    return fig


def difference(
    result: SimulationResult,
    series: str = "small_cap",
    scenario: Sequence[str] | str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Distribution of the path-by-path difference ``scenario - reference`` at the horizon.

    Parameters
    ----------
    result : Comparison
        Several scenarios on common random numbers; the first is the reference.
    series : str
    scenario : str or list of str, optional
        Scenarios to compare with the reference (default: every other scenario).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Differences are of simple cumulative returns on the same shocks (and parameter draws),
    in percentage points, from the ``diff_count`` histograms.
    """
    _check_series(result, series)
    if len(result.scenarios) < 2 or not hasattr(result, "difference_summary"):
        raise SimengineError("a difference plot needs a comparison of two or more scenarios")
    ref = result.scenarios[0]
    names = [n for n in _select(result, scenario) if n != ref]
    if not names:
        raise SimengineError(f"choose a scenario other than the reference {ref!r}")
    idx = [result.scenarios.index(n) for n in names]
    counts = _terminal(result, "diff_count")[idx, result.series.index(series)]
    diffs = result.difference_summary().xs(series, level="series")
    labels = [
        f"{n} (median {100 * diffs.loc[n, 'median']:+.2f}pp; higher on "
        f"{diffs.loc[n, 'prob_positive']:.0%} of paths)"
        for n in names
    ]
    fig, ax = _axes(ax)
    _density_lines(ax, counts, labels, _n_paths(result), fill=True)
    label = series_label(result, series)
    ax.set_xlabel(f"{label}: return minus the return under {ref}, same shocks (pp)")
    _finish(ax, f"{label}: path-by-path difference from {ref} at {_horizon(result)}")
    return fig


def pair(
    result: SimulationResult,
    scenarios: Sequence[str] | str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Distribution of the long-large / short-small pair P&L at the horizon, per scenario.

    Parameters
    ----------
    result : SimulationResult
    scenarios : str or list of str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    ``pair = R_large - R_small``: the P&L of $1 long ``large_cap`` and $1 short ``small_cap``,
    in % of the notional of one side.
    """
    _check_series(result, "pair")
    names = _select(result, scenarios)
    idx = [result.scenarios.index(n) for n in names]
    counts = _terminal(result, "term_count")[idx, result.series.index("pair")]
    summ = result.summary().xs("pair", level="series")
    labels = [
        f"{n} (median {100 * summ.loc[n, 'median']:+.1f}%, "
        f"gain on {1 - summ.loc[n, 'prob_loss']:.0%} of paths)"
        for n in names
    ]
    fig, ax = _axes(ax)
    _density_lines(ax, counts, labels, _n_paths(result), fill=len(names) == 1)
    ax.set_xlabel(f"pair P&L to {_horizon(result)}, per $1 a side (% of notional)")
    _finish(ax, f"Pair trade: {series_label(result, 'pair')}")
    return fig


# --------------------------------------------------------------------------- bar charts


def _bar_pairs(
    ax: Axes, names: list[str], first: np.ndarray, second: np.ndarray, labels: tuple[str, str]
) -> None:
    y = np.arange(len(names))
    h = 0.38
    for k, (vals, lab, off) in enumerate(((first, labels[0], -h / 2), (second, labels[1], h / 2))):
        st = style(k)
        bars = ax.barh(
            y + off, vals, height=h, color=st.color, alpha=0.85, hatch=("", "//")[k],
            edgecolor="white" if k == 0 else "0.15", lw=0.5, label=lab,
        )  # fmt: skip
        ax.bar_label(bars, fmt="%+.1f", fontsize="x-small", padding=2)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.axvline(0.0, color="0.2", lw=0.8)
    ax.margins(x=0.15)


def tornado(result: SimulationResult, series: str = "small_cap", ax: Axes | None = None) -> Figure:
    """How the median and the 5% quantile of the return move across scenarios.

    For a comparison, bars show each scenario's change from the reference (percentage points),
    largest move on top; for a single scenario, the median and 5% quantile themselves.

    Parameters
    ----------
    result : SimulationResult
    series : str
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_series(result, series)
    summ = result.summary().xs(series, level="series")[["median", "q05"]] * 100.0
    ref = result.scenarios[0]
    label = series_label(result, series)
    fig, ax = _axes(ax, (8.0, 1.2 + 0.6 * max(len(summ) - 1, 1)))
    if len(summ) > 1:
        moves = (summ - summ.loc[ref]).drop(index=ref)
        order = moves.abs().max(axis=1).sort_values(ascending=False).index
        moves = moves.loc[order]
        _bar_pairs(ax, list(moves.index), moves["median"].to_numpy(), moves["q05"].to_numpy(),
                   ("median", "5% quantile (downside)"))  # fmt: skip
        ax.set_xlabel(f"{label}: change in cumulative return vs {ref} (pp)")
        title = f"{label}: median and 5% quantile, change vs {ref}"
    else:
        _bar_pairs(ax, list(summ.index), summ["median"].to_numpy(), summ["q05"].to_numpy(),
                   ("median", "5% quantile (downside)"))  # fmt: skip
        ax.set_xlabel(f"{label}: cumulative return to {_horizon(result)} (%)")
        title = f"{label}: median and 5% quantile"
    ax.set_ylabel("scenario")
    _finish(ax, title)
    return fig


def variance_split(result: SimulationResult, ax: Axes | None = None) -> Figure:
    """Split of the terminal-return variance between parameter uncertainty and shocks.

    Parameters
    ----------
    result : SimulationResult
        Meaningful for Bayesian runs (``method == "bayesian"``); with point parameters all of
        the variance comes from shocks.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    ``Var R = E_theta Var(R | theta) + Var_theta E(R | theta)``; the parameter share is the
    second term over the total (``summary(wide=True)["param_var_share"]``).
    """
    share = result.summary(wide=True)["param_var_share"] * 100.0
    single = len(result.scenarios) == 1
    names = [se if single else f"{sc} · {se}" for sc, se in share.index]
    fig, ax = _axes(ax, (8.0, 1.5 + 0.35 * len(names)))
    y = np.arange(len(names))
    params = share.to_numpy()
    p_st, s_st = style(0), style(1)
    ax.barh(y, params, color=p_st.color, hatch="//", edgecolor="white", lw=0.5,
            label="parameter uncertainty")  # fmt: skip
    ax.barh(y, 100.0 - params, left=params, color=s_st.color, alpha=0.7, edgecolor="white",
            lw=0.5, label="shocks (given parameters)")  # fmt: skip
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of the variance of the return to the horizon (%)")
    method = result.attrs.get("method", "")
    note = "" if method == "bayesian" else " (point parameters)"
    _finish(ax, "Where the spread comes from" + note)
    return fig


# --------------------------------------------------------------------------- accessor, files


def waterfall(
    result: SimulationResult,
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
        text = f"{v:+.3f}" if abs(v) >= 5e-4 else "0"  # no "-0.000" on a channel that is off
        ax.annotate(text, (x[i], top), ha="center", va="bottom", fontsize="x-small")
    ax.set_xticks(x, [*channels, "total"], rotation=30, ha="right")
    ax.axhline(0.0, color="0.2", lw=0.8)
    ends = np.concatenate([[0.0, row["total"]], starts, starts + steps])
    pad = 0.12 * max(float(np.ptp(ends)), 1e-6)  # room for the labels (bars' edges are sticky)
    ax.set_ylim(float(ends.min()) - pad, float(ends.max()) + pad)
    label = series_label(result, series)
    ax.set_ylabel("pp of cumulative return")
    _finish(ax, f"{label}: {name} minus {result.reference}, by channel", legend=False)
    return fig


class PlotAccessor:
    """Plots of one result: ``res.plot.fan()``, ``cmp.plot.difference("large_cap")``.

    Parameters
    ----------
    result : SimulationResult
    """

    def __init__(self, result: SimulationResult) -> None:
        self._result = result

    def fan(
        self,
        series: str = "small_cap",
        levels: bool = True,
        scenarios: Sequence[str] | str | None = None,
        ax: Axes | None = None,
    ) -> Figure:
        """Fan chart; see :func:`simengine.plotting.fan`."""
        return fan(self._result, series, levels, scenarios, ax)

    def median_fans(
        self, series: str = "small_cap", scenarios: Sequence[str] | str | None = None
    ) -> Figure:
        """Each scenario's median with its 50% band; see :func:`simengine.plot_grid.median_fans`."""
        return median_fans(self._result, series, scenarios=scenarios)

    def fan_grid(
        self, series: str = "small_cap", scenarios: Sequence[str] | str | None = None
    ) -> Figure:
        """One fan per scenario on shared axes; see :func:`simengine.plot_grid.fan_grid`."""
        return fan_grid(self._result, series, scenarios)

    def density(self, series: str = "small_cap", ax: Axes | None = None) -> Figure:
        """Terminal densities; see :func:`simengine.plotting.density`."""
        return density(self._result, series, ax=ax)

    def difference(
        self, series: str = "small_cap", scenario: str | None = None, ax: Axes | None = None
    ) -> Figure:
        """Difference distribution; see :func:`simengine.plotting.difference`."""
        return difference(self._result, series, scenario, ax)

    def pair(self, ax: Axes | None = None) -> Figure:
        """Pair-trade P&L; see :func:`simengine.plotting.pair`."""
        return pair(self._result, ax=ax)

    def tornado(self, series: str = "small_cap", ax: Axes | None = None) -> Figure:
        """Median / 5% quantile moves; see :func:`simengine.plotting.tornado`."""
        return tornado(self._result, series, ax)

    def variance_split(self, ax: Axes | None = None) -> Figure:
        """Parameter vs shock variance; see :func:`simengine.plotting.variance_split`."""
        return variance_split(self._result, ax)

    def waterfall(
        self, series: str = "small_cap", scenario: str | None = None, ax: Axes | None = None
    ) -> Figure:
        """Channel attribution; see :func:`simengine.plotting.waterfall`."""
        return waterfall(self._result, series, scenario, ax)


def standard_plots(result: SimulationResult) -> list[tuple[str, Any]]:
    """The standard set as ``(stem, make_figure)`` pairs (figures are made lazily)."""
    assets = [s for s in result.series if s != "pair"]
    plots: list[tuple[str, Any]] = []
    for s in assets:
        if len(result.scenarios) == 1:
            plots.append((f"fan_{s}", lambda s=s: fan(result, s, levels=True)))
        else:  # overlaid fans turn murky: medians with one band each, then small multiples
            plots.append((f"fan_{s}", lambda s=s: median_fans(result, s)))
            plots.append((f"fan_grid_{s}", lambda s=s: fan_grid(result, s)))
    for s in result.series:
        plots.append((f"density_{s}", lambda s=s: density(result, s)))
    if len(result.scenarios) > 1 and hasattr(result, "difference_summary"):
        for s in result.series:
            plots.append((f"difference_{s}", lambda s=s: difference(result, s)))
    if "pair" in result.series:
        plots.append(("pair", lambda: pair(result)))
    for s in assets:
        plots.append((f"tornado_{s}", lambda s=s: tornado(result, s)))
    if getattr(result, "has_attribution", False):
        for name in result.scenarios[1:]:
            for s in result.series:
                plots.append((f"waterfall_{name}_{s}", lambda n=name, s=s: waterfall(result, s, n)))
    if result.attrs.get("method") == "bayesian":
        plots.append(("variance_split", lambda: variance_split(result)))
    return plots


def save_plots(
    result: SimulationResult, out_dir: str | Path, overwrite: bool = False, dpi: int = 120
) -> list[Path]:
    """Write the standard plots of a result as PNG files.

    Parameters
    ----------
    result : SimulationResult
    out_dir : path
        Folder (created if needed).
    overwrite : bool
        Replace existing files; otherwise nothing is written when any target exists.
    dpi : int

    Returns
    -------
    list of Path
        The files written: fan charts of index levels (one scenario: median with 50/80/95%
        bands; several: ``fan_*`` each scenario's median with its 50% band, ``fan_grid_*``
        one panel per scenario on shared axes), terminal densities, differences from the
        reference (comparisons), the pair trade, tornado charts and, for Bayesian runs, the
        variance split.

    Raises
    ------
    OutputExistsError
        When a file exists and ``overwrite`` is false (checked before anything is written).
    """
    out = Path(out_dir)
    plots = standard_plots(result)
    targets = [out / f"{stem}.png" for stem, _ in plots]
    for path in targets:
        check_can_write(path, overwrite)
    for path, (_, make) in zip(targets, plots, strict=True):
        png = figure_to_png(make(), dpi=dpi)
        with atomic_write(path, overwrite=overwrite) as tmp:
            tmp.write_bytes(png)
    return targets
