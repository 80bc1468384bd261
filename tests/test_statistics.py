"""Statistics as accumulators: each against a path-level computation or a closed form.

Every test here names the bug it catches; each was checked to fail with that bug applied.
"""

from __future__ import annotations

import importlib
from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

import simengine
from simengine import stats
from simengine.parts import build_scenario as _build
from simengine.results import SimulationResult, build_dataset
from simengine.rng import BLOCK
from simengine.simulate import RunConfig, run_scenarios, statistics_layout
from simengine.statistics import (
    Accumulators,
    Beat,
    ChunkPaths,
    Column,
    Layout,
    Statistic,
    Variable,
    column_formats,
    default_statistics,
    summary_columns,
)
from simengine.statistics.drawdown import max_drawdown
from simengine.statistics.variance_share import param_var_share
from tests.conftest import FIXTURES, SCENARIOS, packaged_policy

TEST_MODEL = FIXTURES / "models" / "test_model.yaml"


def build_scenario(spec):
    return _build(spec, simengine.load_model(TEST_MODEL).structure)


def _spec(name: str = "fed_cut_september", **changes):
    spec = simengine.load_scenario(SCENARIOS / f"{name}.yaml")
    return spec.with_overrides(model=str(TEST_MODEL), **changes)


def _result(accs, scn) -> SimulationResult:
    ds = build_dataset(accs, scenario_names=[scn.name], dates=scn.grid.dates, attrs={})
    return SimulationResult(ds)


@pytest.fixture(scope="module")
def full_sample() -> SimulationResult:
    """One block of paths, every path kept whole (path-level reference for the statistics)."""
    return simengine.simulate(_spec(), n_paths=BLOCK, seed=5, n_sample=BLOCK)


# --- drawdown -------------------------------------------------------------------------------------


def test_drawdown_of_hand_paths_assets_as_fraction_portfolios_in_dollars():
    """Wealth 1 -> 2 -> 1 falls by half of its peak; a P&L 0 -> 1 -> 0 falls by $1.
    Catches: dropping the normalisation by the running peak (asset gives 1.0)."""
    R = np.array([[[1.0], [0.0]], [[1.0], [0.0]]])  # (S=2, T=2, m=1): cumulative returns
    dd = max_drawdown(R, np.array([False, True]))
    np.testing.assert_array_equal(dd[:, 0], [0.5, 1.0])
    # a path that never rises above the start: the peak is the start (1)
    dd = max_drawdown(np.array([[[-0.2], [-0.5], [-0.1]]]), np.array([False]))
    assert dd[0, 0] == pytest.approx(0.5)
    # assets only (the all-assets branch), with a peak above the start
    dd = max_drawdown(np.array([[[1.0], [0.0], [0.5]]]), np.array([False]))
    assert dd[0, 0] == pytest.approx(0.5)


def _path_drawdown(R: np.ndarray, portfolio: bool) -> np.ndarray:
    """Max drawdown per path from cumulative returns (m, T), by maximum.accumulate."""
    wealth = 1.0 + R
    peak = np.maximum.accumulate(np.concatenate([np.ones((R.shape[0], 1)), wealth], axis=1), 1)
    fall = peak[:, 1:] - wealth
    return (fall if portfolio else fall / peak[:, 1:]).max(axis=1)


def test_drawdown_quantiles_match_the_paths(full_sample):
    """Median and 95th percentile of the max drawdown agree with every kept path's drawdown.
    Catches: dropping the normalisation (asset quantiles move by several percent)."""
    res = full_sample
    paths = res.dataset["sample_returns"].values[0]  # (path, time, series)
    summary = res.summary(wide=True).loc[res.scenarios[0]]
    for j, name in enumerate(res.series):
        dd = _path_drawdown(paths[:, :, j], name == "pair")
        for col, q in (("max_drawdown_median", 0.5), ("max_drawdown_p95", 0.95)):
            assert summary.loc[name, col] == pytest.approx(np.quantile(dd, q), rel=2e-3), (
                name,
                col,
            )


# --- probabilities --------------------------------------------------------------------------------


def test_small_beats_large_is_the_share_of_paths_where_small_ends_higher(full_sample):
    """Exactly the share of kept paths with R_small > R_large, at the horizon and mid-way.
    Catches: inverting the comparison."""
    res = full_sample
    paths = res.dataset["sample_returns"].values[0]
    small, large = res.series.index("small_cap"), res.series.index("large_cap")
    for t in (2, paths.shape[1] - 1):
        expected = np.mean(paths[:, t, small] > paths[:, t, large])
        got = res.summary(time=t, wide=True)["prob_small_beats_large"].to_numpy()
        np.testing.assert_array_equal(got, expected)
        assert 0.05 < expected < 0.95  # a non-trivial probability: inversion would change it


def test_loss_and_event_probabilities_count_paths(full_sample):
    res = full_sample
    paths = res.dataset["sample_returns"].values[0]
    summary = res.summary(time=3, wide=True)
    np.testing.assert_array_equal(summary["prob_loss"].to_numpy(), (paths[:, 3] < 0).mean(axis=0))
    squeeze = res.summary(wide=True)["prob_squeeze"].to_numpy()
    assert (squeeze == squeeze[0]).all() and 0 <= squeeze[0] <= 1


def test_comparisons_and_events_come_from_the_layout_not_asset_names():
    """A layout with other names computes the same statistics: nothing is tied to asset names."""
    rng = np.random.default_rng(3)
    R = rng.standard_normal((3, 4, 50)) * 0.1
    layout = Layout(
        series=("x", "y", "spread"),
        factors=("f",),
        portfolios={"spread": {"x": 1.0, "y": -1.0}},
        beats=(Beat("y_over_x", "y", "x"),),
        events=("storm",),
    )
    storm = rng.random(50) < 0.3
    chunk = ChunkPaths(
        returns=R,
        factors=(rng.standard_normal((50, 4, 1)),),
        events={"storm": storm},
        draw=np.zeros(50, np.int64),
        n_draws=1,
        first_block=0,
        n_blocks=1,
        block=BLOCK,
        first_path=0,
    )
    acc = Accumulators.of_chunk(default_statistics(layout, n_sample=10), chunk)
    np.testing.assert_array_equal(acc.variable("y_over_x"), (R[1] > R[0]).sum(axis=-1))
    assert int(acc.variable("storm_any")) == storm.sum()
    dd = max_drawdown(R, layout.is_portfolio)
    np.testing.assert_allclose(dd[2], _path_drawdown(R[2].T, portfolio=True))
    np.testing.assert_allclose(dd[0], _path_drawdown(R[0].T, portfolio=False))
    ds = build_dataset([acc], scenario_names=["s"], dates=np.arange(4).astype("M8[D]"), attrs={})
    res = SimulationResult(ds)
    cols = list(res.summary(wide=True).columns)
    assert "prob_y_over_x" in cols and "prob_storm" in cols
    assert "prob_small_beats_large" not in cols
    assert Layout.from_dataset(ds) == layout


# --- parameter-variance share ---------------------------------------------------------------------


def test_param_var_share_closed_form_is_unbiased_for_few_paths_per_draw():
    """Per-draw means a_d with weighted variance B plus noise of variance s2: the share is
    B / (B + s2). With 20 paths per draw the raw spread of the draw means overstates B by
    s2 / 20. Catches: removing the Monte Carlo noise correction (share 0.13 instead of 0.09)."""
    rng = np.random.default_rng(0)
    reps, D, n, B, s2 = 2000, 50, 20, 0.1, 1.0
    a = rng.standard_normal(D)
    a = (a - a.mean()) / a.std() * np.sqrt(B)  # weighted (equal n) variance exactly B
    x = a[None, :, None] + rng.standard_normal((reps, D, n)) * np.sqrt(s2)
    count = np.full((reps, D, 1), float(n))
    share = param_var_share(count, x.sum(-1, keepdims=True), (x**2).sum(-1, keepdims=True))
    assert share.shape == (reps, 1)
    assert share.mean() == pytest.approx(B / (B + s2), abs=0.005)


def test_param_var_share_is_zero_without_parameter_uncertainty():
    """40 identical parameter draws: all spread of the per-draw means is Monte Carlo noise.
    Catches: removing the noise correction (share ~ D / n = 0.0024 instead of ~0)."""
    params = simengine.load_model(TEST_MODEL)
    mu = np.repeat(params["returns"].mu, 40, axis=0)
    draws = params.with_draws({"returns": {"mu": mu}}, posterior_hash="test")
    scn = build_scenario(_spec())
    res = _result(
        run_scenarios([scn], draws, RunConfig(4 * BLOCK, 1), policy=packaged_policy(draws)), scn
    )
    share = res.summary(wide=True)["param_var_share"].to_numpy()
    assert (share < 1e-3).all() and (share >= 0).all(), share
    # per-draw sums add up exactly (integers) to the all-path sums at the horizon
    ds = res.dataset
    assert ds["draw_count"].sum() == ds["n_paths"].sum() and ds.sizes["draw"] == 40
    np.testing.assert_array_equal(ds["draw_sum"].sum("draw"), ds["sum"].isel(time=-1))
    np.testing.assert_array_equal(ds["draw_sq"].sum("draw"), ds["sum_sq"].isel(time=-1))


# --- factor flow on weekly and monthly grids ------------------------------------------------------


def test_weekly_grid_has_the_monthly_factor_flow_path_by_path():
    """Without residuals, carry or jumps, a path's terminal log return is its factor flow plus
    the scenario's events: the same on weekly and monthly grids (same monthly factor shocks).
    Catches: counting each month's factor flow once per weekly step (about 4x the flow)."""
    params = simengine.load_model(TEST_MODEL)
    res, ret, jumps = params["residuals"], params["returns"], params["jumps"]
    quiet = replace(
        params,
        values={
            **params.values,
            "residuals": replace(res, sigma=np.zeros_like(res.sigma)),
            "returns": replace(ret, kappa=np.zeros_like(ret.kappa)),
            "jumps": replace(jumps, base_intensity=np.zeros_like(jumps.base_intensity)),
        },
    )
    ends = []
    for frequency in ("monthly", "weekly"):
        scn = build_scenario(_spec(frequency=frequency))
        cfg = RunConfig(BLOCK, 3, n_sample=64)
        (acc,) = run_scenarios([scn], quiet, cfg, policy=packaged_policy(quiet))
        ends.append(np.log1p(acc.variable("sample_returns")[:, -1, :2]))
    monthly, weekly = ends
    assert np.std(monthly) > 0.01  # the factors do move the assets
    np.testing.assert_allclose(weekly, monthly, rtol=1e-9, atol=1e-12)


# --- the accumulator machinery --------------------------------------------------------------------


def test_summary_columns_keep_their_order_and_formats(full_sample):
    cols = list(full_sample.summary(wide=True).columns)
    assert cols[:3] == ["mean", "median", "std"]
    assert cols[-6:] == [
        "prob_loss",
        "prob_small_beats_large",
        "prob_squeeze",
        "max_drawdown_median",
        "max_drawdown_p95",
        "param_var_share",
    ]
    mid = list(full_sample.summary(time=2, wide=True).columns)
    assert "var_95" not in mid and "max_drawdown_p95" not in mid and mid[:3] == cols[:3]
    formats = column_formats(full_sample.statistics)
    assert formats["prob_loss"] == "percent" and set(formats.values()) <= {"percent", "number"}


def test_states_merge_exactly_in_any_grouping():
    """Three chunks merged as (a + b) + c and a + (b + c) give identical states."""
    scn = build_scenario(_spec())
    params = simengine.load_model(TEST_MODEL)
    whole = run_scenarios(
        [scn], params, RunConfig(3 * BLOCK, 9, chunk_size=3 * BLOCK), policy=packaged_policy(params)
    )[0]
    parts = run_scenarios(
        [scn], params, RunConfig(3 * BLOCK, 9, chunk_size=BLOCK), policy=packaged_policy(params)
    )[0]
    for stat in whole.statistics:
        for v in stat.variables:
            np.testing.assert_array_equal(
                whole.variable(v.name), parts.variable(v.name), err_msg=v.name
            )


def test_old_results_without_a_layout_stamp_still_summarise(full_sample):
    ds = full_sample.dataset
    before = full_sample.summary(wide=True)
    del ds.attrs["layout"]
    after = SimulationResult(ds).summary(wide=True)
    assert after.equals(before)
    assert Layout.from_dataset(ds) == statistics_layout(simengine.load_model())


def test_dataset_schema(full_sample):
    """Variable names, dims and coordinates of a saved result (``load_result`` relies on them)."""
    ds = full_sample.dataset
    assert set(ds.coords) == {
        "scenario",
        "series",
        "time",
        "factor",
        "sample",
        "bin_edge",
        "cbin_edge",
    }
    assert ds["time"].dtype == np.dtype("datetime64[ns]") and ds["n_paths"].dtype == np.int64
    assert ds.sizes["sample"] == BLOCK and ds.sizes["factor"] == 6
    np.testing.assert_array_equal(ds["draw_sum"].isel(draw=0), ds["sum"].isel(time=-1))
    np.testing.assert_array_equal(ds["draw_sq"].isel(draw=0), ds["sum_sq"].isel(time=-1))
    assert ds["small_beats_large"].dims == ("scenario", "time")
    assert ds["squeeze_any"].dims == ("scenario",)
    assert ds["hist_count"].dims == ("scenario", "series", "time", "cbin")
    assert ds["draw_sum"].dims == ("scenario", "draw", "series")
    assert ds["sample_factors"].dims == ("scenario", "sample", "time", "factor")
    empty = simengine.simulate(_spec(), n_paths=64, seed=1, n_sample=0).dataset
    assert empty.sizes["sample"] == 0


class _Range(Statistic):
    """The worked example of docs/architecture.md: the largest terminal return per series."""

    name = "range"
    columns = (Column("best", label="best path"),)

    @property
    def variables(self) -> tuple[Variable, ...]:
        return (Variable("best_q", ("series",)),)

    def update(self, chunk: ChunkPaths) -> dict[str, np.ndarray]:
        return {"best_q": stats.quantise(chunk.terminal.max(axis=1))}

    def merge(self, a, b):
        return {"best_q": np.maximum(a["best_q"], b["best_q"])}

    def summary(self, ds: xr.Dataset, t: int, terminal: bool) -> dict[str, np.ndarray]:
        return {"best": ds["best_q"].values / float(2**stats.Q_SUM)} if terminal else {}


def test_a_new_statistic_plugs_in_with_one_class(monkeypatch):
    """Registering one class adds a variable and a summary column (no engine change)."""
    from simengine import statistics

    original = statistics.default_statistics
    monkeypatch.setattr(
        statistics,
        "default_statistics",
        lambda layout, n_sample=0: (*original(layout, n_sample), _Range(layout)),
    )
    engine = importlib.import_module("simengine.simulate")
    monkeypatch.setattr(engine, "default_statistics", statistics.default_statistics)
    res = simengine.simulate(_spec(), n_paths=2 * BLOCK, seed=1, chunk_size=BLOCK, n_sample=0)
    full = simengine.simulate(_spec(), n_paths=2 * BLOCK, seed=1, n_sample=2 * BLOCK)
    best = res.summary(wide=True)["best"].to_numpy()
    direct = full.dataset["sample_returns"].values[0, :, -1, :].max(axis=0)
    np.testing.assert_allclose(best, direct, atol=2**-24)
    assert list(summary_columns(res.statistics, res.dataset, 0, False)) == list(
        res.summary(time=0, wide=True).columns
    )


def test_layout_of_todays_assets():
    params = simengine.load_model()
    lay = statistics_layout(params)
    assert lay.series == ("small_cap", "large_cap", "pair")
    assert lay.beats == (Beat("small_beats_large", "small_cap", "large_cap"),)
    assert lay.events == ("squeeze",) and lay.factors[:2] == ("policy_rate", "tariff")
    one = statistics_layout(params.select_assets(("large_cap",)))
    assert one.series == ("large_cap",) and one.beats == () and not one.portfolios


# --- differences, factor means, kept sample -------------------------------------------------------


def test_difference_summary_matches_the_path_by_path_differences():
    """Mean, std, quantiles and P(higher) of ``R_scenario - R_reference`` on the same paths."""
    cmp = simengine.compare(
        [_spec(), _spec("fed_no_cut")], n_paths=BLOCK + 100, seed=4, n_sample=BLOCK
    )
    kept = cmp.dataset["sample_returns"].values[:, :, -1, :]  # (scenario, path, series)
    diff = kept[1] - kept[0]
    frame = cmp.difference_summary(wide=True).xs(cmp.scenarios[1], level="scenario")
    full = (
        simengine.compare([_spec(), _spec("fed_no_cut")], n_paths=BLOCK, seed=4, n_sample=BLOCK)
        .difference_summary(wide=True)
        .xs(cmp.scenarios[1], level="scenario")
    )
    assert (frame["reference"] == cmp.reference).all()
    np.testing.assert_allclose(full["mean"], diff.mean(axis=0), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(full["std"], diff.std(axis=0, ddof=1), rtol=1e-9)
    for col, q in (("q05", 0.05), ("q25", 0.25), ("median", 0.5), ("q75", 0.75), ("q95", 0.95)):
        np.testing.assert_allclose(full[col], np.quantile(diff, q, axis=0), atol=2e-4)
    np.testing.assert_array_equal(full["prob_positive"], (diff > 0).mean(axis=0))
    assert not np.allclose(frame["mean"], full["mean"])  # the extra partial block counts


def test_factor_means_are_the_means_of_the_factor_paths(full_sample):
    kept = full_sample.dataset["sample_factors"].values[0]  # (path, time, factor)
    mean = full_sample.factor_mean().values[0]
    np.testing.assert_allclose(mean, kept.mean(axis=0), atol=1e-7)
    assert list(full_sample.factor_mean()["factor"].values[:2]) == ["policy_rate", "tariff"]
    assert full_sample.factor_mean().name == "factor_mean"


def test_kept_sample_is_the_first_paths_for_any_chunking():
    scn = build_scenario(_spec())
    params = simengine.load_model(TEST_MODEL)
    n = 3 * BLOCK
    keep = 2 * BLOCK + 5
    one = run_scenarios(
        [scn], params, RunConfig(n, 2, chunk_size=n, n_sample=keep), policy=packaged_policy(params)
    )[0]
    many = run_scenarios(
        [scn],
        params,
        RunConfig(n, 2, chunk_size=BLOCK, n_sample=keep),
        policy=packaged_policy(params),
    )[0]
    for name in ("sample_returns", "sample_factors", "sample_draw"):
        np.testing.assert_array_equal(one.variable(name), many.variable(name), err_msg=name)
    assert one.variable("sample_returns").shape[0] == keep
    sample = next(s for s in one.statistics if s.name == "sample")
    rng = np.random.default_rng(1)
    a = {"sample_returns": rng.random((3, 2, 1)), "sample_first": np.array(0)}
    b = {"sample_returns": rng.random((2, 2, 1)), "sample_first": np.array(3)}
    for k in ("sample_factors", "sample_draw"):
        a[k], b[k] = np.arange(3), np.arange(3, 5)
    for x, y in ((a, b), (b, a)):  # merge order does not matter
        merged = sample.merge(x, y)
        np.testing.assert_array_equal(merged["sample_draw"], np.arange(5))
        np.testing.assert_array_equal(merged["sample_returns"][3:], b["sample_returns"])


def test_block_moments_pool_to_the_moments_of_all_paths():
    """Per-block means and centred squares, pooled across uneven blocks (Chan et al.), equal
    the mean and sample std of all values; blocks land in their own slots."""
    from simengine.statistics.differences import block_moments, pooled_moments

    rng = np.random.default_rng(2)
    diff = rng.standard_normal((2, 250)) * [[1.0], [3.0]] + [[0.5], [-2.0]]
    count, mean, m2 = block_moments(diff, block=100, first_block=1, n_blocks=5)
    np.testing.assert_array_equal(count, [0, 100, 100, 50, 0])
    assert count.dtype == np.int64
    pooled, std = pooled_moments(count[None], mean[None], m2[None], np.array([[250.0]]))
    np.testing.assert_allclose(pooled[0], diff.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(std[0], diff.std(axis=1, ddof=1), rtol=1e-12)


def test_count_variables_are_integers(full_sample):
    ds = full_sample.dataset
    for name in ds.data_vars:
        if name.endswith(("count", "_n", "_pos", "_any", "sum", "sum_sq", "_sq")) and name not in (
            "term_sum",
            "diff_sum",
        ):
            assert ds[name].dtype == np.int64, name


def test_a_single_asset_run_has_no_pair_and_no_comparison():
    params = simengine.load_model(TEST_MODEL).select_assets(("large_cap",))
    scn = build_scenario(_spec())
    res = _result(
        run_scenarios([scn], params, RunConfig(BLOCK, 1), policy=packaged_policy(params)), scn
    )
    summary = res.summary(wide=True)
    assert res.series == ("large_cap",)
    assert "prob_small_beats_large" not in summary and "prob_squeeze" in summary


def test_value_at_risk_and_expected_shortfall_match_the_paths(full_sample):
    """VaR = minus the 5% / 1% quantile, ES = minus the mean of the worst 5% / 1% of paths."""
    res = full_sample
    terminal = res.dataset["sample_returns"].values[0, :, -1, :]
    summary = res.summary(wide=True).loc[res.scenarios[0]]
    worst = np.sort(terminal, axis=0)
    for level, alpha in ((95, 0.05), (99, 0.01)):
        var = -np.quantile(terminal, alpha, axis=0, method="inverted_cdf")
        np.testing.assert_allclose(summary[f"var_{level}"], var, atol=1e-3)
        es = -worst[: int(alpha * BLOCK)].mean(axis=0)
        np.testing.assert_allclose(summary[f"es_{level}"], es, atol=2e-3)
    assert (summary["es_99"] > summary["var_99"]).all() and (
        summary["es_95"] > summary["var_95"]
    ).all()
    assert (summary["var_99"] > summary["var_95"]).all()
    np.testing.assert_allclose(summary["q05"], -summary["var_95"])
