"""The policy part: repricing, the reaction function, conditioning in the engine, attribution."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from simengine import stats
from simengine.api import compare, load_params_for, simulate
from simengine.parts import build_scenario
from simengine.policy import PolicyParams, PolicyRun, ReactionFunction, meeting_plan
from simengine.policy_model import policy_params
from simengine.rng import draw_blocks
from simengine.simulate import RunConfig, _Engine, _PerPath
from simengine.spec import load_scenario
from tests.conftest import SCENARIOS

BASE = SCENARIOS / "base_2025h2.yaml"
INDEX = {"rates": 0, "growth": 1, "inflation": 2, "credit": 3}


def _write(tmp_path: Path, name: str, body: str) -> Path:
    """A scenario extending a copy of the base next to it (scenarios read only their tree)."""
    (tmp_path / BASE.name).write_text(BASE.read_text())
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"extends: {BASE.name}\nname: {name}\n{body}")
    return path


def _rule(slopes=(0.0, 0.0, 0.0)) -> ReactionFunction:
    return ReactionFunction(np.array(slopes), np.array([-1.86, -1.27, 1.24, 2.71]))


def _run(fixed, e0, lam: float, off=()) -> PolicyRun:
    days = (date(2025, 9, 17), date(2025, 10, 29))
    plan = meeting_plan(days, [2, 3], [2, 3], fixed, e0, days)
    par = PolicyParams(lam, _rule(), -0.05, np.zeros(2)).without(*off)
    run = PolicyRun(plan, par, 4.375, 1, 6, np.zeros((1, 4)), INDEX, None)
    z = np.zeros((1, 6, 4))
    for m in range(6):
        run.decide(m, z)
    return run


def test_next_surprise_is_measured_against_the_repriced_expectation() -> None:
    """A surprise hold at 09-17 (-15bp priced) reprices October by lambda x 15bp."""
    run = _run([0.0, -0.25], [-0.15, -0.10], lam=0.3)
    assert run.surprise[0, 0] == pytest.approx(0.15)
    assert run.expected[0, 1] == pytest.approx(-0.10 + 0.3 * 0.15)
    assert run.surprise[0, 1] == pytest.approx(-0.25 - (-0.10 + 0.045))
    # 2-year: the surprise itself plus the repricing over the part of the window after October
    w = (24.0 - (date(2025, 10, 29) - date(2025, 9, 17)).days / (365.25 / 12)) / 24.0
    assert run.dy2_reprice[0, 0] == pytest.approx(0.3 * 0.15 * w)
    # with repricing switched off the old measure comes back
    assert _run([0.0, -0.25], [-0.15, -0.10], 0.3, ("repricing",)).surprise[0, 1] == pytest.approx(
        -0.15
    )


def test_reaction_function_inverts_its_mean() -> None:
    rf = _rule()
    target = np.array([-0.3, -0.1625, 0.0, 0.2])
    for var in (0.0, 0.7):
        delta = rf.latent_for_mean(target, state_var=var)
        s = np.sqrt(1 + var)
        np.testing.assert_allclose(rf.mean_change(delta / s, rf.cuts / s), target, atol=1e-4)


def _engine_paths(path: Path, n: int = 2 * 4096):
    from simengine.policy_paths import policy_factor_paths

    spec = load_scenario(path)
    params = load_params_for(spec)
    scn = build_scenario(spec, params.structure)
    policy = policy_params(params)
    eng = _Engine([scn], params, RunConfig(n_paths=n, seed=11), policy)
    draws = draw_blocks(eng.root, 0, n // 4096, eng.plan)
    pp = params.per_path(None)
    tariff = params.parts["overlays"].tariff(scn, draws)
    return scn, policy_factor_paths(
        scn,
        pp["dynamics"],
        pp["policy"].neutral,
        eng.policy,
        tariff,
        draws,
        params.structure.stochastic,
    )


def test_random_decisions_agree_with_market_pricing_on_average() -> None:
    """Base case: every meeting is drawn from the reaction function; the mean decision at each
    meeting matches the priced expected change (4 standard errors)."""
    scn, (policy, _) = _engine_paths(BASE, 4 * 4096)
    levels = policy.level_step
    steps = [mt.step for mt in scn.meetings]
    changes = np.diff(levels[:, steps], axis=1, prepend=scn.policy0)
    priced = np.array([mt.expected_pp for mt in scn.meetings])
    se = changes.std(axis=0) / np.sqrt(changes.shape[0])
    assert np.all(np.abs(changes.mean(axis=0) - priced) < 4 * se + 1e-4)
    # at the first meeting the state is known: the market's own distribution comes back
    first = changes[:, 0]
    assert np.mean(first == -0.25) == pytest.approx(0.05, abs=0.01)


def test_random_decisions_agree_with_pricing_at_a_high_vix(tmp_path: Path) -> None:
    """At VIX 45 the factor shocks are scaled by the volatility state and credit error-corrects:
    the state variance behind the reaction function's cutpoints must include both, so that the
    mean decision at each meeting still matches the priced change (the VAR-only variance
    misses by 3-8 standard errors at the later meetings)."""
    spec = load_scenario(_write(tmp_path, "vix45", "initial:\n  vix: 45\n"))
    params = load_params_for(spec)
    scn = build_scenario(spec, params.structure)
    n = 8 * 4096
    eng = _Engine([scn], params, RunConfig(n_paths=n, seed=5), policy_params(params))
    draws = draw_blocks(eng.root, 0, n // 4096, eng.plan)
    _, level_step, *_ = eng.paths(scn, draws, _PerPath(params, None))  # as run_blocks passes
    steps = [mt.step for mt in scn.meetings]
    changes = np.diff(level_step[:, steps], axis=1, prepend=scn.policy0)
    priced = np.array([mt.expected_pp for mt in scn.meetings])
    se = changes.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(changes.mean(axis=0) - priced) < 3 * se + 1e-4), (
        changes.mean(axis=0) - priced
    ) / se


def test_reaction_slopes_move_the_september_decision() -> None:
    scn, (policy, z) = _engine_paths(BASE, 4 * 4096)
    month = scn.meetings[1].month  # September
    state = z[:, max(month - 3, 0) : month, INDEX["growth"]].mean(axis=1)
    d = policy.level_month[:, month] - policy.level_month[:, month - 1]
    strong, weak = state > np.quantile(state, 0.75), state < np.quantile(state, 0.25)
    assert d[strong].mean() > d[weak].mean() + 0.02


def test_surprise_cut_response_is_the_event_study_size(tmp_path: Path) -> None:
    """A 25bp cut nobody priced lifts small and large caps 0.5-2% in its month
    (Bernanke and Kuttner 2005: about 1% for broad US stocks)."""
    pricing = "market_pricing:\n  - fomc: 2025-09-17\n    outcomes: {0: 1.0}\n"
    fixed = "fomc:\n" + "".join(
        f"  - meeting: {d}\n    change_bp: {{bp}}\n"
        for d in ("2025-07-30", "2025-09-17", "2025-10-29", "2025-12-10")
    )
    hold = _write(tmp_path, "hold", pricing + fixed.replace("{bp}", "0"))
    cut_text = fixed.replace("{bp}", "0").replace(
        "2025-09-17\n    change_bp: 0", "2025-09-17\n    change_bp: -25"
    )
    cut = _write(tmp_path, "cut", pricing + cut_text)
    result = compare([hold, cut], n_paths=4096, seed=3, attribution=False)
    mean = result.dataset["sum"].values / float(2**stats.Q_SUM) / 4096  # (scenario, series, time)
    sept = 2  # steps: Jul (stub), Aug, Sep
    month_response = (mean[1, :, sept] - mean[1, :, sept - 1]) - (
        mean[0, :, sept] - mean[0, :, sept - 1]
    )
    for i, s in enumerate(result.series):
        if s != "pair":
            assert 0.005 < month_response[i] < 0.02, (s, month_response[i])


def test_three_cuts_instead_of_none_raise_growth() -> None:
    result = compare(
        [SCENARIOS / "fed_no_cut.yaml", SCENARIOS / "fed_three_cuts.yaml"],
        n_paths=4096,
        seed=5,
        attribution=False,
    )
    growth = result.factor_mean().sel(factor="growth").values  # (scenario, time)
    assert growth[1, -1] > growth[0, -1]
    assert growth[1].sum() > growth[0].sum()


def test_credit_shock_moves_the_same_month_as_a_conditional_forecast(tmp_path: Path) -> None:
    """+1pp credit shock in September: read as information it moves September's 2-year change
    through the innovation covariance (Waggoner-Zha: Sigma_rc / Sigma_cc = about -0.13); read
    as a structural shock September's rates are unchanged."""
    shock = "shocks:\n  - factor: credit\n    date: 2025-09-15\n    size: 1.0\n"
    means = {}
    for reading in ("conditional_forecast", "structural_shock"):
        base = _write(tmp_path, f"b-{reading[:4]}", f"reading: {reading}\n")
        shocked = _write(tmp_path, f"s-{reading[:4]}", f"reading: {reading}\n{shock}")
        res = compare([base, shocked], n_paths=8192, seed=9, attribution=False)
        fm = res.factor_mean()
        means[reading] = (fm.isel(scenario=1) - fm.isel(scenario=0)).isel(time=2)
    params = load_params_for(load_scenario(BASE))
    chol = params["dynamics"].chol[0]
    cov = chol @ chol.T
    expected = cov[0, 3] / cov[3, 3]
    cond = means["conditional_forecast"]
    assert float(cond.sel(factor="credit")) == pytest.approx(1.0, abs=0.02)
    assert float(cond.sel(factor="rates")) == pytest.approx(expected, abs=0.02)
    assert abs(float(means["structural_shock"].sel(factor="rates"))) < 1e-9


def test_a_credit_pin_read_as_information_holds_with_error_correction(tmp_path: Path) -> None:
    """The default model's credit error-corrects on its level (rho != 0) and its shocks are
    scaled by the volatility state: the Waggoner-Zha projection propagates through both, so
    a pinned credit change holds exactly (the projection on the VAR's A alone missed it by
    about 0.01pp on average)."""
    pin = "pins:\n  - factor: credit\n    values: {2025-10-31: 0.5}\n"
    path = _write(tmp_path, "credit-pin", f"reading: conditional_forecast\n{pin}")
    assert np.any(load_params_for(load_scenario(path))["dynamics"].rho)
    credit = simulate(path, n_paths=2048, seed=3).factor_mean().sel(factor="credit").values[0]
    assert credit[3] == pytest.approx(0.5, abs=1e-9)  # end of October (Jul stub, Aug, Sep, Oct)
    assert abs(credit[2] - 0.5) > 0.1  # the other months are free


def test_sept_vs_oct_attribution_sums_to_the_mean_difference() -> None:
    result = compare(
        [SCENARIOS / "fed_cut_september.yaml", SCENARIOS / "fed_cut_october.yaml"],
        n_paths=4096,
        seed=7,
    )
    attribution = result.attribution()
    channels = [c for c in attribution.columns if c != "total"]
    assert channels[:8] == [
        "announcement",
        "repricing",
        "carry",
        "growth",
        "credit",
        "tariff",
        "volatility",
        "jumps",
    ]
    diffs = result.difference_summary(wide=True)["mean"]
    total = attribution[channels].sum(axis=1)
    np.testing.assert_allclose(total.to_numpy(), diffs.to_numpy(), atol=1e-9, rtol=0)
    small = attribution.loc[("fed-cut-october", "small_cap")]
    assert small["carry"] < 0 and small["announcement"] != 0 and small["repricing"] != 0


def test_policy_params_match_the_event_study_total() -> None:
    params = load_params_for(load_scenario(BASE))
    pol = policy_params(params)
    wbar = (24 - 1.5) / 24
    b_rates = params["returns"].beta[0, :, 0]
    total = (b_rates + pol.announcement) * (1 + pol.path_pass_through * wbar)
    np.testing.assert_allclose(total, params["returns"].announcement_total[0])
    np.testing.assert_allclose(total, [-0.06, -0.045])  # the event studies (model file)


def test_simulation_with_policy_is_chunk_invariant() -> None:
    a = simulate(BASE, n_paths=8192, seed=2, chunk_size=4096)
    b = simulate(BASE, n_paths=8192, seed=2, chunk_size=8192)
    np.testing.assert_array_equal(a.dataset["sum"].values, b.dataset["sum"].values)


def _levels(tmp_path: Path, reading: str) -> Path:
    body = (
        f"reading: {reading}\n"
        "pins:\n"
        "  - factor: yield_2y\n    values: {2025-10-31: 3.40}\n"
        "  - factor: policy_rate\n    values: {2025-12-31: 3.875}\n"
        "  - factor: tariff\n    values: {2025-09-01: 25.0}\n"
    )
    return _write(tmp_path, f"levels-{reading[:4]}", body)


def test_pins_in_levels_reach_their_levels(tmp_path: Path) -> None:
    """2-year yield, policy rate and tariff pinned in %, as a strategist quotes them."""
    res = simulate(_levels(tmp_path, "structural_shock"), n_paths=4096, seed=1)
    fm = res.factor_mean()
    y2 = 3.88 + np.cumsum(fm.sel(factor="rates").values[0])
    assert y2[3] == pytest.approx(3.40, abs=1e-9)  # end of October (steps: Jul stub, Aug, ...)
    assert fm.sel(factor="policy_rate").values[0, -1] == pytest.approx(3.875, abs=1e-9)
    assert fm.sel(factor="tariff").values[0, 2] == pytest.approx(25.0)


def test_a_level_pin_read_as_information_moves_the_economy(tmp_path: Path) -> None:
    structural = simulate(_levels(tmp_path, "structural_shock"), n_paths=4096, seed=1)
    conditional = simulate(_levels(tmp_path, "conditional_forecast"), n_paths=4096, seed=1)
    g_s = structural.factor_mean().sel(factor="growth").values[0, 1:5]
    g_c = conditional.factor_mean().sel(factor="growth").values[0, 1:5]
    # a 2-year yield falling 48bp by October is news of weaker growth before it
    assert g_c.mean() < g_s.mean()


def test_a_change_pin_that_looks_like_a_level_warns_with_the_range(tmp_path: Path) -> None:
    from simengine.exceptions import UnitsWarning

    path = _write(tmp_path, "units", "pins:\n  - factor: rates\n    values: {2025-12-31: 3.5}\n")
    with pytest.warns(UnitsWarning, match=r"historical range of rates \(-0\.90 to \+0\.84"):
        simulate(path, n_paths=4096, seed=1)


def test_a_yield_pin_without_a_start_yield_is_an_error(tmp_path: Path) -> None:
    from simengine.exceptions import SpecError

    path = tmp_path / "noy.yaml"
    text = (SCENARIOS / "base_2025h2.yaml").read_text().replace("  yield_2y: 3.88", "  ")
    path.write_text(text + "\npins:\n  - factor: yield_2y\n    values: {2025-10-31: 3.4}\n")
    with pytest.raises(SpecError, match="needs the 2-year yield on the start date"):
        load_scenario(path)


def test_bayesian_policy_runs_are_chunk_invariant() -> None:
    """Per-path posterior draws: the reaction function's state variance comes from the model's
    draws, not the chunk's paths, so the numbers do not depend on the chunk size."""
    path = SCENARIOS / "fed_cut_september_weak_data.yaml"
    kw = {"n_paths": 8192, "seed": 4, "method": "bayesian"}
    a = simulate(path, chunk_size=4096, **kw)
    b = simulate(path, chunk_size=8192, **kw)
    np.testing.assert_array_equal(a.dataset["sum"].values, b.dataset["sum"].values)
