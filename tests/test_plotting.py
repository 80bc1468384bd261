"""Plots: artists, labels and legends of every chart; the standard PNG set; lazy import."""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import simengine
from simengine import plot_posterior, plotting, stats
from simengine.exceptions import OutputExistsError, SimengineError
from simengine.results import SimulationResult

from .conftest import FIXTURES, SCENARIOS

TEST_MODEL = str(FIXTURES / "models" / "test_model.yaml")
NAMES = ("fed_cut_september", "fed_cut_october", "tariff_escalation")
N_PATHS = 4096


def _spec(name: str):
    return simengine.load_scenario(SCENARIOS / f"{name}.yaml").with_overrides(model=TEST_MODEL)


@pytest.fixture(scope="module")
def cmp():
    return simengine.compare([_spec(n) for n in NAMES], n_paths=N_PATHS, seed=1, n_sample=16)


@pytest.fixture(scope="module")
def single():
    return simengine.simulate(_spec(NAMES[0]), n_paths=N_PATHS, seed=1, n_sample=16)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _legend(ax) -> list[str]:
    # a chart alone on its figure puts its legend on the figure, below the axes
    legend = ax.get_legend() or next(iter(ax.figure.legends), None)
    return [t.get_text() for t in legend.get_texts()] if legend else []


def test_import_simengine_does_not_import_matplotlib():
    code = "import sys, simengine; assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_fan_single_scenario_has_three_bands_and_a_median(single):
    fig = single.plot.fan("small_cap")
    ax = fig.axes[0]
    assert len(ax.collections) == 3  # 95, 80, 50% bands
    assert len(ax.lines) == 2  # median + start level
    assert _legend(ax) == ["95% band", "80% band", "50% band", "median"]
    assert "index points" in ax.get_ylabel() and "Russell 2000" in ax.get_ylabel()
    assert isinstance(ax.xaxis.get_major_formatter(), matplotlib.dates.ConciseDateFormatter)
    # the path starts at the start date at the start level
    x, y = ax.lines[0].get_data()
    assert y[0] == pytest.approx(2226.99)
    assert len(x) == single.dataset.sizes["time"] + 1


def test_fan_several_scenarios_returns_in_percent(cmp):
    ax = cmp.plot.fan("large_cap", levels=False).axes[0]
    assert len(ax.collections) == 3 * len(NAMES)
    assert len(ax.lines) == 3 * len(NAMES) + 1  # median + two 95% edges each, zero line
    assert len(_legend(ax)) == len(NAMES)
    assert "(%)" in ax.get_ylabel()
    styles = {line.get_linestyle() for line in ax.lines[: 3 * len(NAMES) : 3]}
    assert len(styles) == len(NAMES)  # distinguishable without colour


def test_fan_pair_falls_back_to_returns(cmp):
    ax = cmp.plot.fan("pair", scenarios=["fed-cut-october"]).axes[0]
    assert "(%)" in ax.get_ylabel()


def test_density_overlays_every_scenario_and_integrates_to_one(cmp):
    ax = cmp.plot.density("small_cap").axes[0]
    assert len(ax.lines) == len(NAMES) + 1  # + zero line
    labels = _legend(ax)
    assert [lab.split(" ")[0] for lab in labels] == list(cmp.scenarios)
    assert "(%)" in ax.get_xlabel() and "density" in ax.get_ylabel()
    x, d = ax.lines[0].get_data()
    assert np.trapezoid(d, x / 100.0) == pytest.approx(1.0, abs=0.03)


def test_difference_against_the_reference(cmp):
    ax = cmp.plot.difference("small_cap").axes[0]
    assert len(ax.lines) == 2 + 1
    assert len(ax.collections) == 2  # filled (hatched) areas
    assert len(_legend(ax)) == 2
    assert "pp" in ax.get_xlabel() and "fed-cut-september" in ax.get_xlabel()
    ax = cmp.plot.difference("pair", scenario="tariff-escalation").axes[0]
    assert len(_legend(ax)) == 1


def test_difference_needs_a_comparison(single, cmp):
    with pytest.raises(SimengineError, match="comparison"):
        single.plot.difference()
    with pytest.raises(SimengineError, match="other than the reference"):
        cmp.plot.difference(scenario="fed-cut-september")


def test_pair_plot(cmp):
    ax = cmp.plot.pair().axes[0]
    assert len(ax.lines) == len(NAMES) + 1
    assert len(_legend(ax)) == len(NAMES)
    assert "per $1 a side" in ax.get_xlabel()


def test_tornado_moves_versus_reference(cmp, single):
    ax = cmp.plot.tornado("small_cap").axes[0]
    assert len(ax.patches) == 2 * (len(NAMES) - 1)
    assert _legend(ax) == ["median", "5% quantile (downside)"]
    assert "pp" in ax.get_xlabel()
    assert {t.get_text() for t in ax.get_yticklabels()} == set(cmp.scenarios[1:])
    ax = single.plot.tornado("large_cap").axes[0]
    assert len(ax.patches) == 2 and "(%)" in ax.get_xlabel()


def test_variance_split_stacks_parameter_and_shock_shares(cmp):
    ax = cmp.plot.variance_split().axes[0]
    n = len(NAMES) * len(cmp.series)
    assert len(ax.patches) == 2 * n
    assert _legend(ax) == ["parameter uncertainty", "shocks (given parameters)"]
    assert "%" in ax.get_xlabel()
    widths = [p.get_width() for p in ax.patches]
    assert widths[:n] == pytest.approx([0.0] * n)  # point parameters


def test_plots_draw_on_a_given_axes(cmp):
    fig, axes = plt.subplots(1, 2)
    assert cmp.plot.fan(ax=axes[0]) is fig
    assert cmp.plot.density("pair", ax=axes[1]) is fig
    assert len(fig.axes) == 2


def test_unknown_series_lists_the_choices(cmp):
    with pytest.raises(SimengineError, match="small_cap, large_cap, pair"):
        cmp.plot.fan("midcap")
    with pytest.raises(SimengineError, match="unknown scenario"):
        cmp.plot.fan(scenarios="nope")


def test_posterior_loadings_forest_plot():
    az = pytest.importorskip("arviz")
    rng = np.random.default_rng(0)
    idata = az.from_dict(
        posterior={"beta": rng.normal(size=(2, 50, 2, 5)), "kappa": rng.normal(size=(2, 50, 2))},
        dims={"beta": ["asset", "exposure"], "kappa": ["asset"]},
    )
    fig = plot_posterior.plot_posterior_loadings(idata)
    ax = fig.axes[0]
    labels = " ".join(t.get_text() for t in ax.get_yticklabels())
    assert "beta" in labels and "kappa" in labels
    assert "posterior" in ax.get_xlabel()
    with pytest.raises(SimengineError, match="none of"):
        plot_posterior.plot_posterior_loadings(idata, var_names=["sigma"])


def test_save_plots_writes_the_standard_set(cmp, tmp_path):
    written = plotting.save_plots(cmp, tmp_path, dpi=40)
    names = {p.name for p in written}
    assert {
        "fan_small_cap.png",
        "density_pair.png",
        "difference_large_cap.png",
        "pair.png",
    } <= names
    assert "variance_split.png" not in names  # point parameters
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written)
    with pytest.raises(OutputExistsError):
        plotting.save_plots(cmp, tmp_path)


def test_png_set_of_a_comparison_has_medians_with_one_band_and_small_multiples(cmp, single):
    plots = dict(plotting.standard_plots(cmp))
    assert {"fan_small_cap", "fan_grid_small_cap", "fan_large_cap", "fan_grid_large_cap"} <= set(
        plots
    )
    ax = plots["fan_small_cap"]().axes[0]
    # no overlaid 50/80/95% fans: only the reference's band is shaded, one median per scenario
    assert len(ax.collections) == 1
    medians = [t for t in _legend(ax) if t.startswith("median: ")]
    assert medians == [f"median: {name}" for name in cmp.scenarios]
    assert any("thin lines" in t for t in _legend(ax))
    two = plotting.median_fans(cmp, "small_cap", scenarios=list(cmp.scenarios[:2])).axes[0]
    assert len(two.collections) == 1  # two shaded bands overlap murky too: the reference's only
    grid = plots["fan_grid_small_cap"]()
    panels = [a for a in grid.axes if a.get_visible()]
    assert [a.get_title(loc="left") for a in panels] == list(cmp.scenarios)
    # two columns: the top-right panel has nothing below it, so it shows its own dates
    two = [a for a in plotting.fan_grid(cmp, "small_cap", ncols=2).axes if a.get_visible()]
    two[0].figure.canvas.draw()
    dated = [any(t.get_text() for t in a.get_xticklabels()) for a in two]
    assert dated == [False, True, True]
    # a single scenario keeps its full fan (three bands)
    single_plots = dict(plotting.standard_plots(single))
    assert "fan_grid_small_cap" not in single_plots
    assert len(single_plots["fan_small_cap"]().axes[0].collections) == 3


def _outside(fig) -> list[str]:
    """Text and legends of ``fig`` that stick out of the figure (clipped in the PNG)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    artists = [*fig.legends, *fig.texts]
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        # an axis' tight box: its drawn tick labels and its label
        artists += [ax.title, ax._left_title, ax.xaxis, ax.yaxis, *ax.texts]
        if ax.get_legend():
            artists.append(ax.get_legend())
    bad = []
    for artist in artists:
        if hasattr(artist, "get_text") and not artist.get_text():
            continue
        is_axis = isinstance(artist, matplotlib.axis.Axis)
        box = artist.get_tightbbox(renderer) if is_axis else artist.get_window_extent(renderer)
        if box is None:
            continue
        if box.x0 < -1 or box.y0 < -1 or box.x1 > width + 1 or box.y1 > height + 1:
            bad.append(getattr(artist, "get_text", lambda a=artist: type(a).__name__)())
    return bad


@pytest.mark.parametrize("font_size", [10.0, 12.5])  # matplotlib's default; the report's
def test_no_chart_of_the_png_set_clips_a_label_or_a_legend(cmp, single, font_size):
    with matplotlib.rc_context({"font.size": font_size}):
        extra = [("variance_split", lambda: plotting.variance_split(cmp))]  # Bayesian runs
        charts = [*plotting.standard_plots(cmp), *plotting.standard_plots(single), *extra]
        for stem, make in charts:
            fig = make()
            assert _outside(fig) == [], stem
            plt.close(fig)


def test_the_notebook_fan_chart_clips_nothing(cmp):
    from simengine.display import FAN_FIGSIZE

    assert _outside(plotting.median_fans(cmp, "small_cap", figsize=FAN_FIGSIZE)) == []


def test_save_plots_overwrites_only_when_asked(cmp, tmp_path, monkeypatch):
    one = [("pair", lambda: plotting.pair(cmp))]
    monkeypatch.setattr(plotting, "standard_plots", lambda result: one)
    (tmp_path / "pair.png").write_bytes(b"old")
    with pytest.raises(OutputExistsError, match="--force"):
        plotting.save_plots(cmp, tmp_path)
    assert (tmp_path / "pair.png").read_bytes() == b"old"
    [path] = plotting.save_plots(cmp, tmp_path, overwrite=True, dpi=40)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_save_plots_adds_the_variance_split_for_bayesian_runs(single, tmp_path):
    ds = single.dataset
    ds.attrs["method"] = "bayesian"
    written = plotting.save_plots(SimulationResult(ds), tmp_path, dpi=30)
    assert "variance_split.png" in {p.name for p in written}
    assert not any(p.name.startswith("difference") for p in written)


def test_hist_density_matches_a_known_distribution():
    x = np.random.default_rng(1).normal(0.05, 0.1, 100_000)
    counts = np.bincount(stats.FINE.index(x), minlength=stats.FINE.size)
    centers, dens = plotting.hist_density(counts, -0.4, 0.5, n_bins=90, smooth=1.0)
    expected = np.exp(-0.5 * ((centers - 0.05) / 0.1) ** 2) / (0.1 * np.sqrt(2 * np.pi))
    assert np.max(np.abs(dens - expected)) < 0.15 * expected.max()
    assert np.trapezoid(dens, centers) == pytest.approx(1.0, abs=0.01)
