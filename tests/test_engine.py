"""The Monte Carlo engine: exact replay, reproducibility, common random numbers, results."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

import simengine
from simengine.parts import build_scenario as _build
from simengine.parts.dynamics import exogenous_terms, propagate
from simengine.rng import BLOCK, DrawPlan, Kind, Stream, draw_blocks, root_seed
from tests.conftest import FIXTURES, SCENARIOS, packaged_policy

TEST_MODEL = FIXTURES / "models" / "test_model.yaml"
PSI = np.array([-0.05, -0.03])  # an announcement response per pp of surprise (policy part's)


def build_scenario(spec):
    return _build(spec, simengine.load_model(TEST_MODEL).structure)


def _plan(
    n_paths,
    n_steps,
    n_factors,
    n_assets,
    n_meetings=0,
    *,
    nu_f=(np.inf,),
    nu_a=(np.inf,),
    n_param_draws=1,
    antithetic=False,
):
    """The draw plan of the default parts (VAR factors, Student-t residuals, jumps, FOMC)."""
    streams = (
        Stream("factor", Kind.FACTOR, "student_t", (n_steps, n_factors), Kind.FACTOR_CHI2, nu_f),
        Stream("asset", Kind.ASSET, "student_t", (n_steps, n_assets), Kind.ASSET_CHI2, nu_a),
        Stream("jump_u", Kind.JUMP_U, "uniform_steps", (n_steps,)),
        Stream("jump_z", Kind.JUMP_Z, "normal", (n_steps,)),
        Stream("decision_u", Kind.DECISION, "uniform_events", (n_meetings,)),
    )
    return DrawPlan(n_paths, streams, n_param_draws, antithetic)


def _flat(params):
    """The parameters of the default parts under one namespace (for the loop reference)."""
    dyn, ret, res = params["dynamics"], params["returns"], params["residuals"]
    return SimpleNamespace(
        A=dyn.A,
        c=dyn.c,
        chol=dyn.chol,
        g=dyn.g,
        s=dyn.s,
        m=dyn.m,
        neutral=params["policy"].neutral,
        mu=ret.mu,
        kappa=ret.kappa,
        beta=ret.beta,
        psi=PSI,
        sigma=res.sigma,
        chol_a=res.chol,
    )


def _spec(name: str = "fed_cut_september", **changes):
    spec = simengine.load_scenario(SCENARIOS / f"{name}.yaml")
    return spec.with_overrides(model=str(TEST_MODEL), **changes)


def _equal_datasets(a: xr.Dataset, b: xr.Dataset, skip: tuple[str, ...] = ()) -> None:
    for name in a.data_vars:
        if name in skip:
            continue
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


# --- exact replay from fixed draws -------------------------------------------------------------


def _loop_reference(z0, eps_f, eps_a, policy, surprise, tau, p, scn):
    """Straightforward per-path, per-step implementation of the model equations (monthly, h=1)."""
    m, T, K = eps_f.shape
    N = p.mu.shape[1]
    A, c, L, g, s, mm = p.A[0], p.c[0], p.chol[0], p.g[0], p.s[0], p.m[0]
    n = p.neutral[0]
    r = np.zeros((m, T, N))
    for i in range(m):
        z_prev = z0.copy()
        p_prev, tau_prev = scn.policy0, scn.tariff0
        for t in range(T):
            dtau = tau[0, t] - tau_prev
            z = c + A @ z_prev + g * (p_prev - n) + s * surprise[0, t] + mm * dtau + L @ eps_f[i, t]
            x = np.array([z[0], dtau, z[1], z[2], z[3]])
            for a in range(N):
                drift = (p.mu[0, a] - p.kappa[0, a] * (p_prev - n)) / 12.0
                resid = p.sigma[0, a] * np.sqrt(1 / 12.0) * (p.chol_a[0] @ eps_a[i, t])[a]
                r[i, t, a] = drift + p.beta[0, a] @ x + p.psi[a] * surprise[0, t] + resid
            z_prev, p_prev, tau_prev = z, policy[0, t], tau[0, t]
    return r


def test_exact_replay_from_fixed_draws():
    """Vectorised engine == explicit loop over paths and steps, to rounding, for fixed draws."""
    spec = _spec(start=date(2025, 6, 30), positioning=None)
    params = simengine.load_model(TEST_MODEL)
    scn = build_scenario(spec)
    np.testing.assert_array_equal(scn.grid.month_weights, np.eye(scn.n_steps))  # full months
    pp, parts, dt = params.per_path(None), params.parts, scn.grid.dt_years
    rng = np.random.default_rng(7)
    m, T = 5, scn.n_steps
    eps_f, eps_a = rng.standard_normal((m, T, 4)), rng.standard_normal((m, T, 2))
    draws = {"decision_u": np.zeros((len(scn.meetings), m)), "tariff_u": np.zeros((0, m))}
    policy = parts["policy"].simulate(scn, draws, pp["policy"])
    tariff = parts["overlays"].tariff(scn, draws)
    z0 = np.array([0.1, -0.2, 0.3, 0.05])
    exog = exogenous_terms(scn, pp["dynamics"], policy, tariff)
    z = propagate(z0[None], eps_f, exog, pp["dynamics"], scn)
    no_jump = np.zeros((m, T))
    r = parts["returns"].simulate(z, scn.grid.month_weights, dt, pp["returns"], policy, tariff, PSI)
    assert np.any(policy.surprise_step != 0.0)  # the announcement term is exercised
    parts["residuals"].add(r, {"asset": eps_a}, dt, pp["residuals"])
    shocks = {"jump_u": no_jump, "jump_z": no_jump}
    jumps = parts["jumps"].add(r, shocks, dt, pp["jumps"], scn.short_interest_bn, scn.squeeze)
    assert not scn.squeeze and not jumps.any()  # no positioning: no squeeze jumps
    expected = _loop_reference(
        z0,
        eps_f,
        eps_a,
        policy.level_step,
        policy.surprise_step,
        tariff.level_step,
        _flat(params),
        scn,
    )
    np.testing.assert_allclose(r, expected, rtol=1e-12, atol=1e-14)


def test_weekly_steps_share_the_monthly_factor_flow():
    """On a weekly grid, each month's factor flow is split over its weeks by days: the factor
    part of the cumulative return at a month end equals the monthly grid's."""
    monthly, weekly = build_scenario(_spec()), build_scenario(_spec(frequency="weekly"))
    np.testing.assert_array_equal(monthly.grid.months, weekly.grid.months)
    W = weekly.grid.month_weights
    np.testing.assert_allclose(W.sum(axis=0), monthly.grid.month_weights.sum(axis=0))
    np.testing.assert_allclose(weekly.grid.h_months.sum(), monthly.grid.h_months.sum())


def test_policy_path_and_surprises():
    scn = build_scenario(_spec())
    paths = scn.policy_paths(np.zeros((len(scn.meetings), 1)))
    policy, surprise = paths.level_step, paths.surprise_step
    sept = scn.grid.step_of(date(2025, 9, 17))
    assert policy[0, sept - 1] == pytest.approx(4.375)
    assert policy[0, sept:] == pytest.approx(4.125)
    # September cut -25bp against -16.25bp priced: surprise -8.75bp; holds are hawkish surprises
    assert surprise[0, sept] == pytest.approx(-0.0875)
    assert surprise.sum() == pytest.approx(-0.25 + 0.3875)
    np.testing.assert_allclose(paths.surprise_month, surprise)  # monthly grid: months = steps


def test_tariff_steps_land_on_their_step_and_month():
    scn = build_scenario(_spec("tariff_escalation", frequency="weekly"))
    u = np.array([[0.1, 0.9]])  # the random November step happens on path 0 only
    tariff = scn.tariff_paths(u)
    assert tariff.level_step[:, 0].tolist() == [15.3, 15.3]
    assert tariff.level_step[:, -1].tolist() == [27.0, 22.0]
    aug = scn.grid.step_of(date(2025, 8, 1))
    assert tariff.change_step[0, aug] == pytest.approx(17.0 - 15.3)
    assert tariff.level_month[:, 1].tolist() == [17.0, 17.0]


def test_random_decisions_follow_market_pricing():
    """With no decision fixed, each path draws the decision from market pricing."""
    spec = simengine.load_scenario(SCENARIOS / "base_2025h2.yaml")
    scn = build_scenario(spec)
    u = np.random.default_rng(1).random((len(scn.meetings), 200_000))
    paths = scn.policy_paths(u)
    total = paths.level_step[:, -1] - scn.policy0
    assert total.mean() == pytest.approx(-0.3875, abs=0.003)
    assert paths.surprise_step.sum(axis=1).mean() == pytest.approx(0.0, abs=0.003)


# --- reproducibility -----------------------------------------------------------------------------


def test_same_seed_same_numbers_for_any_chunk_size_and_threads():
    spec = _spec()
    n = 3 * BLOCK + 123
    base = simengine.simulate(spec, n_paths=n, seed=11, chunk_size=BLOCK).dataset
    for kwargs in (
        {"chunk_size": 2 * BLOCK},
        {"chunk_size": 10 * BLOCK},
        {"chunk_size": BLOCK, "threads": 2},
    ):
        other = simengine.simulate(spec, n_paths=n, seed=11, **kwargs).dataset
        _equal_datasets(base, other)
    different = simengine.simulate(spec, n_paths=n, seed=12).dataset
    assert not np.array_equal(base["term_count"].values, different["term_count"].values)


def test_draw_blocks_are_independent_of_how_they_are_grouped():
    plan = _plan(3 * BLOCK, 4, 4, 2, 2, nu_f=(5.0,), nu_a=(6.0,))
    root = root_seed(3)
    together = draw_blocks(root, 0, 3, plan)
    alone = draw_blocks(root, 2, 1, plan)
    np.testing.assert_array_equal(together.factor[2 * BLOCK :], alone.factor)
    np.testing.assert_array_equal(together.decision_u[:, 2 * BLOCK :], alone.decision_u)


def test_antithetic_pairs_mirror_each_other():
    plan = _plan(BLOCK, 3, 4, 2, 1, antithetic=True)
    d = draw_blocks(root_seed(1), 0, 1, plan)
    half = BLOCK // 2
    np.testing.assert_array_equal(d.factor[:half], -d.factor[half:])
    np.testing.assert_array_equal(d.decision_u[:, :half], 1.0 - d.decision_u[:, half:])


def test_seed_types():
    assert root_seed(5).entropy == 5
    ss = np.random.SeedSequence(9)
    assert root_seed(ss) is ss
    with pytest.raises(TypeError, match="non-negative int"):
        root_seed(-1)


# --- common random numbers -----------------------------------------------------------------------


def test_identical_scenarios_have_zero_difference():
    a = _spec()
    b = a.with_overrides(name="same-again")
    cmp = simengine.compare([a, b], n_paths=2 * BLOCK, seed=3)
    diff = cmp.difference_summary(wide=True)
    assert (diff[["mean", "std", "q05", "q95"]].abs().to_numpy() == 0).all()
    _equal_datasets(
        cmp.dataset.isel(scenario=[0]),
        cmp.dataset.isel(scenario=[1]),
        skip=("diff_count", "diff_sum", "diff_block_n"),
    )


def test_comparison_scenarios_match_their_single_runs():
    """CRN: a scenario inside a comparison sees exactly the draws of its own run with that seed."""
    a, b = _spec("fed_cut_september"), _spec("fed_cut_october")
    cmp = simengine.compare([a, b], n_paths=BLOCK, seed=5).dataset
    alone = simengine.simulate(b, n_paths=BLOCK, seed=5).dataset
    np.testing.assert_array_equal(cmp["term_count"].values[1], alone["term_count"].values[0])


def test_timing_of_a_cut_changes_where_the_year_ends():
    """September vs October (same size): carry and growth channels make September better for
    small caps, by more than for large caps (default model)."""
    a = simengine.load_scenario(SCENARIOS / "fed_cut_september.yaml")
    b = simengine.load_scenario(SCENARIOS / "fed_cut_october.yaml")
    cmp = simengine.compare([a, b], n_paths=2 * BLOCK, seed=1)
    summary = cmp.summary(wide=True)
    assert (
        summary.loc[(a.name, "small_cap"), "median"] >= summary.loc[(b.name, "small_cap"), "median"]
    )
    diff = cmp.difference_summary(wide=True).loc[b.name]
    assert diff.loc["small_cap", "median"] < 0
    assert abs(diff.loc["small_cap", "median"]) > abs(diff.loc["large_cap", "median"])


# --- the scenario library and results ------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_scenario_file_runs(path):
    res = simengine.simulate(path, n_paths=BLOCK, seed=1)
    summary = res.summary(wide=True)
    assert np.isfinite(summary.to_numpy()).all()
    assert set(summary.index.get_level_values("series")) == {"small_cap", "large_cap", "pair"}
    assert (summary["q05"] <= summary["median"]).all() and (
        summary["median"] <= summary["q95"]
    ).all()
    assert (summary["es_95"] >= summary["var_95"]).all()


def test_summary_statistics_are_consistent_with_sample_paths():
    res = simengine.simulate(_spec(), n_paths=BLOCK, seed=2, n_sample=BLOCK)
    terminal = res.dataset["sample_returns"].values[0, :, -1, :]  # every path kept
    summary = res.summary(wide=True).loc[res.scenarios[0]]
    np.testing.assert_allclose(summary["mean"], terminal.mean(axis=0), atol=1e-7)
    np.testing.assert_allclose(summary["std"], terminal.std(axis=0, ddof=1), rtol=1e-5)
    np.testing.assert_allclose(summary["median"], np.median(terminal, axis=0), atol=5e-4)
    np.testing.assert_allclose(summary["prob_loss"], (terminal < 0).mean(axis=0))
    tail = np.sort(terminal, axis=0)[: int(0.05 * BLOCK)]
    np.testing.assert_allclose(summary["es_95"], -tail.mean(axis=0), atol=5e-4)


def test_save_load_round_trip_and_tamper_detection(tmp_path):
    res = simengine.compare([_spec(), _spec("fed_cut_october")], n_paths=BLOCK, seed=4)
    path = res.to_netcdf(tmp_path / "cmp.nc")
    back = simengine.load_result(path)
    assert isinstance(back, simengine.Comparison)
    assert back.summary(wide=True).equals(res.summary(wide=True))
    assert back.attrs["spec_hashes"] == res.attrs["spec_hashes"]
    with pytest.raises(simengine.SimengineError, match="already exists"):
        res.to_netcdf(path)
    ds = back.dataset
    ds["term_count"].values[0, 0, 100] += 1
    ds.to_netcdf(tmp_path / "tampered.nc", engine="h5netcdf")
    with pytest.raises(simengine.SimengineError, match="failed verification"):
        simengine.load_result(tmp_path / "tampered.nc")


def test_summary_writes_csv_and_parquet(tmp_path):
    res = simengine.simulate(_spec(), n_paths=BLOCK, seed=4)
    import pandas as pd

    for name in ("s.csv", "s.parquet"):
        path = res.write_summary(tmp_path / name)
        frame = pd.read_csv(path) if name.endswith("csv") else pd.read_parquet(path)
        assert len(frame) == 3 and {"scenario", "series", "median", "es_99", "seed"} <= set(
            frame.columns
        )


def test_levels_start_from_the_scenario_levels():
    res = simengine.simulate(_spec(), n_paths=BLOCK, seed=4)
    levels = res.levels().loc[res.scenarios[0]]
    assert levels.loc["small_cap", "start_level"] == pytest.approx(2226.99)
    assert levels.loc["large_cap", "start_level"] == pytest.approx(22907.97)
    assert list(levels.index) == ["small_cap", "large_cap"]


def test_quantile_paths_are_ordered():
    res = simengine.simulate(_spec(), n_paths=BLOCK, seed=4)
    q = res.quantile_paths().values
    assert (np.diff(q, axis=-1) >= 0).all()


def test_different_grids_cannot_be_compared():
    with pytest.raises(simengine.SpecError, match="frequency: weekly differs from monthly") as err:
        simengine.compare(
            [_spec(), _spec("fed_cut_october", frequency="weekly")], n_paths=64, seed=1
        )
    assert err.value.exit_code == 2  # bad input, as documented


def test_unknown_asset_is_reported_with_location():
    spec = _spec(assets=("small_cap", "large_cap", "mid_cap"))
    with pytest.raises(simengine.SpecError, match="mid_cap"):
        simengine.simulate(spec, n_paths=64, seed=1)


def test_weekly_grid_runs_and_keeps_dates():
    res = simengine.simulate(_spec(frequency="weekly"), n_paths=BLOCK, seed=1)
    dates = res.dataset["time"].values.astype("datetime64[D]")
    assert dates[-1] == np.datetime64("2025-12-31") and len(dates) == 25


def test_posterior_draw_index_is_shared_by_antithetic_pairs():
    inf = (float("inf"),) * 50
    plan = _plan(BLOCK, 2, 4, 2, n_param_draws=50, nu_f=inf, nu_a=inf, antithetic=True)
    d = draw_blocks(root_seed(2), 0, 1, plan)
    np.testing.assert_array_equal(d.param_draw[: BLOCK // 2], d.param_draw[BLOCK // 2 :])
    assert d.param_draw.max() < 50


def test_parameter_draws_give_a_variance_share():
    """With several parameter draws the law-of-total-variance split is reported and in [0, 1]."""
    params = simengine.load_model(TEST_MODEL)
    mu = params["returns"].mu[0] + np.linspace(-0.3, 0.3, 40)[:, None] * np.array(
        [1.0, 0.0]
    )  # small caps only
    draws = params.with_draws({"returns": {"mu": mu}}, posterior_hash="test")
    from simengine.results import SimulationResult, build_dataset
    from simengine.simulate import RunConfig, run_scenarios

    scn = build_scenario(_spec())
    accs = run_scenarios([scn], draws, RunConfig(4 * BLOCK, 1), policy=packaged_policy(draws))
    ds = build_dataset(
        accs,
        scenario_names=[scn.name],
        dates=scn.grid.dates,
        attrs={},
    )
    share = SimulationResult(ds).summary(wide=True)["param_var_share"]
    assert share.loc[(scn.name, "large_cap")] < 0.01
    assert (
        0.05 < share.loc[(scn.name, "small_cap")] < 1 and 0.05 < share.loc[(scn.name, "pair")] < 1
    )
    assert replace(params).n_draws == 1


def test_per_step_quantiles_match_the_paths():
    """Fan-chart quantiles at every step agree with the same quantiles of all kept paths."""
    res = simengine.simulate(_spec(), n_paths=BLOCK, seed=8, n_sample=BLOCK)
    paths = res.dataset["sample_returns"].values[0]  # (path, time, series)
    q = res.quantile_paths((0.1, 0.5, 0.9)).values[0]  # (series, time, quantile)
    direct = np.quantile(paths, [0.1, 0.5, 0.9], axis=0)  # (quantile, time, series)
    np.testing.assert_allclose(q, np.transpose(direct, (2, 1, 0)), atol=2e-3)
