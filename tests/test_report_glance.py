"""Reports that read at a glance: sweep heat maps and tables, legends, words for convergence."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import simengine
from simengine.batch import run_batch
from simengine.report import build_report_from_store
from simengine.report.store import _is_summary_column
from simengine.report.sweeps import NOT_SET, _grid, compact_table, sweep_axes
from tests.conftest import SCENARIOS
from tests.test_cli import cli

PATHS = 4096


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("store")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_batch([SCENARIOS / "sweeps" / "cut_timing_size.yaml"], out, workers=0,
                  n_paths=PATHS, seed=1)  # fmt: skip
    return out


def test_sweep_table_is_labelled_by_the_sweep_values(store):
    summary = pd.read_parquet(store / "summary.parquet")
    axes = sweep_axes(summary, _is_summary_column)
    assert axes == ["cut", "size"]
    frame = compact_table(summary, axes, {"small_cap": "Russell 2000"})
    assert frame.index.names == ["cut", "size"]
    assert ("none", NOT_SET) in frame.index  # "no cut" has no size, and says so
    assert ("2025-09-17", "-25") in frame.index
    assert "Russell 2000 median" in frame.columns and "key" not in frame.columns
    grid = _grid(summary, axes, "small_cap", "median")
    assert grid.shape == (4, 3)  # three timings and none x two sizes and "not set"
    assert np.isnan(grid.loc["none", "-25"]) and np.isfinite(grid.loc["none", NOT_SET])
    med = summary.query("series == 'small_cap' and cut == '2025-10-29' and size == -50")
    assert grid.loc["2025-10-29", "-50"] == pytest.approx(100 * med["median"].iloc[0])


def test_batch_report_has_heat_maps_and_no_wall_of_fans(store):
    page = build_report_from_store(store)
    assert page.count('alt="heat map of') == 3
    assert page.count('alt="fan charts, one panel per variant"') == 1
    assert "does not use that axis" in page and "n/a in a heat map" in page
    assert "cut-timing-size.cut_2025-09-17.size_-25" not in page.split("Batch manifest")[0]


def test_legends_sit_below_the_axes_and_long_labels_wrap():
    from simengine.plot_grid import median_fans
    from simengine.plotting import difference

    files = [
        SCENARIOS / f"{s}.yaml" for s in ("fed_cut_september", "fed_cut_october", "fed_no_cut")
    ]
    cmp = simengine.compare(files, n_paths=PATHS, seed=1)
    fig = median_fans(cmp, "small_cap")
    fig.canvas.draw()
    (legend,) = fig.legends
    ax = fig.axes[0]
    assert legend.get_window_extent().y1 <= ax.get_window_extent().y0  # below, not on the data
    fig = difference(cmp, "pair")
    fig.canvas.draw()
    xlabel = fig.axes[0].xaxis.label
    assert "\n" in xlabel.get_text()  # the long pair label wraps instead of being clipped
    assert xlabel.get_window_extent().x1 <= fig.bbox.x1


def test_convergence_status_in_words_for_the_packaged_posterior():
    from simengine.bayes.diagnostics import diagnose
    from simengine.bayes.store import load_posterior
    from simengine.bayes.verdict import convergence_verdict

    idata = load_posterior(SCENARIOS.parent / "simengine" / "models" / "default_posterior.nc")
    report = diagnose(idata)
    assert report.passed  # the refitted posterior keeps 1,600 draws: every check passes
    verdict = convergence_verdict(idata, report)
    assert verdict.ok and verdict.status == "converged"
    assert "1,600 draws" in verdict.text
    out = cli("diagnose", "simengine/models/default_posterior.nc")
    assert out.returncode == 0 and "converged" in out.stdout


def test_bayes_gap_splits_the_difference_exactly():
    from simengine.report.bayes_gap import bayes_gap

    spec = simengine.load_scenario(SCENARIOS / "fed_cut_september.yaml")
    gap = bayes_gap([spec], n_paths=PATHS, seed=1)
    total = gap["bayesian"] - gap["point"]
    parts = gap["from posterior means"] + gap["from parameter uncertainty"]
    np.testing.assert_allclose(parts, total, atol=1e-12)
    # the refitted posterior (issue 11) is centred close to the point fit: both parts are small
    # for small caps (README: +0.13pp and -0.02pp), and the run at posterior means lies between
    row = gap.loc[("fed-cut-september", "small_cap")]
    assert (
        abs(row["from posterior means"]) < 0.005 and abs(row["from parameter uncertainty"]) < 0.005
    )
    np.testing.assert_allclose(
        row["posterior mean params"] - row["point"], row["from posterior means"], atol=1e-12
    )
    from simengine.cli.run import _bayes_note  # the line a Bayesian run's header adds

    assert "Russell 2000 drift 6.8 vs 7.4" in _bayes_note(spec)
