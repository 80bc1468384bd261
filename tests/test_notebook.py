"""What a notebook user meets: readable reprs, HTML reprs, per-path returns, API functions."""

from __future__ import annotations

import warnings
from datetime import date

import numpy as np
import pandas as pd
import pytest

import simengine
from simengine.exceptions import LimitError, SimulationError, TimeStepError
from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def cmp():
    specs = [SCENARIOS / "fed_cut_september.yaml", SCENARIOS / "fed_cut_october.yaml"]
    return simengine.compare(specs, n_paths=5000, seed=3, keep_terminal=True)


def test_spec_repr_is_short_lines_with_the_assumptions():
    spec = simengine.load_scenario(SCENARIOS / "fed_cut_september.yaml")
    text = repr(spec)
    lines = text.splitlines()
    assert lines[0] == "<ScenarioSpec 'fed-cut-september' (" + str(spec.source) + ")>"
    assert max(map(len, lines)) <= 100
    assert "2025-09-17 -25bp" in text and "2025-08-01 17%" in text
    assert "<table>" in spec._repr_html_()


def test_result_repr_shows_the_run_and_a_compact_table(cmp):
    text = repr(cmp)
    assert text.startswith("<Comparison: fed-cut-september, fed-cut-october>")
    assert "5,000 paths per scenario, seed 3" in text
    assert "return to the horizon, %" in text and "P(loss)" in text and "P(higher)" in text
    assert "difference from fed-cut-september" in text
    assert max(map(len, text.splitlines())) <= 100


def test_summary_is_compact_and_wide_on_request(cmp):
    compact, wide = cmp.summary(), cmp.summary(wide=True)
    assert tuple(compact.columns) == simengine.results.SUMMARY_COLUMNS
    assert len(wide.columns) >= 18 and {"es_95", "param_var_share", "std"} <= set(wide.columns)
    assert "q50" not in wide.columns  # the 50% quantile is the median: one column (issue 15)
    pd.testing.assert_frame_equal(compact, wide[list(compact.columns)])
    diffs, wide_diffs = cmp.difference_summary(), cmp.difference_summary(wide=True)
    assert tuple(diffs.columns) == simengine.results.DIFFERENCE_COLUMNS
    assert "reference" in wide_diffs.columns and "reference" not in diffs.columns
    # pandas' own repr in an 80-column terminal shows every compact column, untruncated
    with pd.option_context("display.width", 80, "display.max_columns", 0):
        for frame in (compact, diffs, cmp.summary(time="2025-10-31")):
            text = repr(frame)
            assert "..." not in text and "columns]" not in text, text
            assert max(map(len, text.splitlines())) <= 80


def test_text_and_html_reprs_show_the_summary_numbers(cmp):
    text, page = repr(cmp), cmp._repr_html_()
    summary = cmp.summary()
    for name, series in [("fed-cut-september", "small_cap"), ("fed-cut-october", "pair")]:
        for col in summary.columns:
            shown = f"{100 * summary.loc[(name, series), col]:.2f}"
            assert shown in text and f"<td>{shown}</td>" in page, (name, series, col)
    diff = cmp.difference_summary().loc[("fed-cut-october", "large_cap")]
    for col in diff.index:
        shown = f"{100 * diff[col]:.2f}"
        assert shown in text and f"<td>{shown}</td>" in page, col
    headers = ["median", "5%", "95%", "P(loss)", "mean", "P(higher)"]
    assert all(f"<th>{h}</th>" in page and h in text for h in headers)
    assert "<p>Return to the horizon, % (P(loss):" in page and "(P(higher):" in page


def test_result_html_has_table_and_inline_fan(cmp):
    page = cmp._repr_html_()
    assert page.count("<table") == 2  # returns, differences
    assert '<img src="data:image/png;base64,' in page


def test_terminal_returns_are_every_path_and_agree_with_the_summary(cmp):
    paths = cmp.terminal_returns()
    assert paths.shape == (2 * 5000, 3)
    assert list(paths.columns) == ["small_cap", "large_cap", "pair"]
    summary = cmp.summary(wide=True)
    for name in cmp.scenarios:
        mean = paths.loc[name].mean()
        np.testing.assert_allclose(mean, summary.loc[name, "mean"], atol=1e-9)
    one = paths.loc["fed-cut-september"]
    np.testing.assert_allclose(one["pair"], one["large_cap"] - one["small_cap"], atol=1e-12)
    # a custom payoff: a 5% out-of-the-money call on the Russell 2000
    payoff = np.maximum(paths.loc["fed-cut-september", "small_cap"] - 0.05, 0.0).mean()
    assert 0.0 < payoff < 0.2


def test_terminal_returns_need_asking_and_have_a_limit(cmp):
    plain = simengine.simulate(SCENARIOS / "fed_no_cut.yaml", n_paths=64, seed=1)
    with pytest.raises(SimulationError, match="keep_terminal=True"):
        plain.terminal_returns()
    with pytest.raises(LimitError, match="at most 2,000,000"):
        simengine.simulate(
            SCENARIOS / "fed_no_cut.yaml", n_paths=2_000_001, seed=1, keep_terminal=True
        )


def test_same_numbers_with_and_without_keeping_paths(cmp):
    again = simengine.compare(
        [SCENARIOS / "fed_cut_september.yaml", SCENARIOS / "fed_cut_october.yaml"],
        n_paths=5000,
        seed=3,
        chunk_size=4096,
    )
    pd.testing.assert_frame_equal(again.summary(wide=True), cmp.summary(wide=True))


def test_a_date_that_is_not_a_step_end_is_an_error(cmp):
    with pytest.raises(TimeStepError, match="2025-09-30 or 2025-10-31"):
        cmp.summary(time="2025-10-15", wide=True)
    assert cmp.summary(time="2025-10-31", wide=True).shape[0] == 6
    with pytest.raises(TimeStepError, match="after the horizon"):
        cmp.summary(time="2026-01-31", wide=True)


def test_weigh_and_report_are_python_functions(tmp_path):
    obs = pd.DataFrame({"policy_rate": [4.375]}, index=pd.Index([date(2025, 7, 31)], name="date"))
    files = [SCENARIOS / "fed_no_cut.yaml", SCENARIOS / "fed_cut_september.yaml"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = simengine.weigh(files, obs, n_paths=4096, seed=1)
    assert out.table["posterior"].sum() == pytest.approx(1.0)
    csv = tmp_path / "obs.csv"
    csv.write_text("date,policy_rate\n2025-07-31,4.375\n")
    again = simengine.weigh(files, csv, n_paths=4096, seed=1)
    pd.testing.assert_frame_equal(again.table, out.table)
    html = simengine.make_report(files[:1], n_paths=4096, seed=1)
    assert html.startswith("<!DOCTYPE html>")
    written = simengine.make_report(files, tmp_path / "r.html", n_paths=4096, seed=1)
    assert written.stat().st_size > 10_000
