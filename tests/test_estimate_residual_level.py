"""The slow level of the residual variance given the state
(:mod:`simengine.data.estimate_residual_level`) and the part that applies it.

The weighted mean is the explicit recursion; the likelihood is the Gaussian density of each
month under the prediction made the month before; a level that steps is found and measured,
a constant one is not invented; the volatility-state part multiplies its ratios by the level
only when the scenario has a state; the packaged default carries the fitted levels.
"""

from __future__ import annotations

import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from simengine.data.estimate_residual_level import (
    BURN_MONTHS,
    MIN_SCORED_MONTHS,
    ew_means,
    predictive_loglik,
    residual_levels,
)
from simengine.data.fit_distribution import residual_scale
from tests.conftest import ROOT


def _loop_means(x: np.ndarray, half_life: float) -> np.ndarray:
    lam = 1.0 if math.isinf(half_life) else 0.5 ** (1.0 / half_life)
    out, num, den = [], 0.0, 0.0
    for value in x:
        num, den = lam * num + value, lam * den + 1.0
        out.append(num / den)
    return np.array(out)


@pytest.mark.parametrize("half_life", [1.0, 6.0, 18.0, math.inf])
def test_weighted_means_are_the_recursion(half_life: float) -> None:
    x = np.random.default_rng(0).gamma(2.0, size=50)
    np.testing.assert_allclose(ew_means(x, half_life), _loop_means(x, half_life), rtol=1e-12)
    if math.isinf(half_life):
        np.testing.assert_allclose(ew_means(x, half_life), np.cumsum(x) / np.arange(1, 51))


def test_likelihood_scores_each_month_on_the_month_before() -> None:
    rng = np.random.default_rng(1)
    v = rng.uniform(0.5, 2.0, 80)
    r = rng.standard_normal(80) * np.sqrt(v) * 0.05
    q = _loop_means(r**2 / v, 12.0)
    want = stats.norm.logpdf(r[36:], scale=np.sqrt(q[35:-1] * v[36:])).sum()
    assert predictive_loglik(r, v, 12.0, burn=36) == pytest.approx(want, rel=1e-12)
    with pytest.raises(ValueError, match="more than 36 months"):
        predictive_loglik(r[:36], v[:36], 12.0, burn=36)


def _residuals(level: np.ndarray, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monthly residuals ``sqrt(0.002 level_t v_t) e_t`` with a varying state ``v``."""
    rng = np.random.default_rng(seed)
    n = len(level)
    months = pd.date_range("1990-01-31", periods=n, freq="ME")
    v = np.exp(0.5 * rng.standard_normal(n) - 0.125)
    r = np.sqrt(0.002 * level * v) * rng.standard_normal(n)
    return (
        pd.DataFrame({"a": r}, index=months),
        pd.DataFrame({"a": v}, index=months),
    )


def test_a_level_that_steps_is_found_and_measured() -> None:
    """The level doubles for the last 8 years of 40: a finite half-life wins, and the level at
    the end is about twice the long-run mean of the normalised squares (which mixes both)."""
    level = np.r_[np.ones(384), 2.0 * np.ones(96)]
    resid, ratios = _residuals(level, 2)
    got = residual_levels(resid, ratios, n_params=1)["a"]
    assert math.isfinite(got["half_life_months"])
    assert got["loglik"][got["half_life_months"]] > got["loglik"][math.inf] + 5.0
    long_run = np.mean(level)  # 1.2
    assert got["level"] == pytest.approx(2.0 / long_run, rel=0.3)
    assert got["sigma"] == pytest.approx(math.sqrt(12 * 0.002 * long_run), rel=0.1)


def test_a_constant_level_is_not_invented() -> None:
    resid, ratios = _residuals(np.ones(480), 3)
    got = residual_levels(resid, ratios, n_params=1)["a"]
    assert got["half_life_months"] >= 96
    assert got["level"] == pytest.approx(1.0, abs=0.25)


def test_sigma_is_the_long_run_given_the_state_and_nan_months_drop() -> None:
    resid, ratios = _residuals(np.ones(200), 4)
    ratios.iloc[5] = np.nan
    got = residual_levels(resid, ratios, n_params=3)["a"]
    keep = ratios["a"].notna()
    z2 = resid["a"][keep] ** 2 / ratios["a"][keep]
    assert got["n"] == 199
    assert got["sigma"] == pytest.approx(math.sqrt(12 * z2.sum() / (199 - 3)), rel=1e-12)
    h = got["half_life_months"]
    q = _loop_means(z2.to_numpy(), h)
    assert got["level"] == pytest.approx(q[-1] / z2.mean(), rel=1e-12)


def test_too_short_a_sample_keeps_the_level_constant() -> None:
    resid, ratios = _residuals(np.r_[np.ones(30), 3.0 * np.ones(29)], 5)
    assert len(resid) - BURN_MONTHS < MIN_SCORED_MONTHS
    got = residual_levels(resid, ratios, n_params=1)["a"]
    assert got["half_life_months"] == math.inf and got["level"] == 1.0 and got["loglik"] == {}


def test_the_part_multiplies_its_ratios_by_the_level_only_with_a_state() -> None:
    """``v_{a,k} = q_a x curve ratio`` with a VIX; 1 without one (the long run)."""
    from simengine.api import load_params_for
    from simengine.parts.vol_state import VolState
    from simengine.spec import load_scenario
    from tests.conftest import SCENARIOS

    params = load_params_for(load_scenario(SCENARIOS / "base_2025h2.yaml"))
    part, p = params.parts["residuals"], params["residuals"]
    assert isinstance(part, VolState)
    assert np.all(p.a_level != 1.0)  # the packaged levels
    unit = replace(p, a_level=np.ones_like(p.a_level))
    q = np.array([[2.5, 0.4]])
    scaled = replace(p, a_level=q)
    grid = SimpleNamespace(step_month=np.array([0, 0, 1, 2]), dt_years=np.full(4, 0.1))
    scn = SimpleNamespace(states={"vix": 30.0}, n_months=3, grid=grid)
    np.testing.assert_allclose(
        part.asset_ratios(scn, scaled), q[:, None, :] * part.asset_ratios(scn, unit), rtol=1e-15
    )
    np.testing.assert_allclose(
        part.residual_variance(scn, scaled), q * part.residual_variance(scn, unit), rtol=1e-14
    )
    calm = SimpleNamespace(states={}, n_months=3, grid=grid)
    np.testing.assert_array_equal(part.asset_ratios(calm, scaled), 1.0)


def test_a_model_file_level_must_be_positive() -> None:
    from pydantic import ValidationError

    from simengine.parts.vol_state import _AssetCurve

    curve = {
        "intercept": [0.0],
        "vix": [0.0],
        "smearing": [1.0],
        "mean_rv": 1.0,
        "realised_given_vix": {"intercept": 0.0, "slope": 1.0, "smearing": 1.0},
    }
    assert _AssetCurve(**curve).level == 1.0
    assert _AssetCurve(**curve, level=20.0).level == 20.0
    with pytest.raises(ValidationError, match="greater than 0"):
        _AssetCurve(**curve, level=0.0)
    with pytest.raises(ValidationError, match="less than or equal to 20"):
        _AssetCurve(**curve, level=20.5)


def test_the_level_follows_its_asset_and_is_checked_positive() -> None:
    """Selecting or reordering assets takes each asset's level along; a non-positive level in
    the parameters (e.g. from draws) is a numerical error naming the field."""
    from simengine.api import load_params_for
    from simengine.exceptions import NumericalError
    from simengine.spec import load_scenario
    from tests.conftest import SCENARIOS

    params = load_params_for(load_scenario(SCENARIOS / "base_2025h2.yaml"))
    p = params["residuals"]
    swapped = params.select_assets(list(reversed(params.assets)))["residuals"]
    np.testing.assert_array_equal(swapped.a_level, p.a_level[:, ::-1])
    one = params.select_assets([params.assets[1]])
    np.testing.assert_array_equal(one["residuals"].a_level, p.a_level[:, [1]])
    grid = SimpleNamespace(step_month=np.array([0, 1]), dt_years=np.full(2, 0.1))
    scn = SimpleNamespace(states={"vix": 30.0}, n_months=2, grid=grid)
    both = params.parts["residuals"].asset_ratios(scn, p)
    np.testing.assert_allclose(
        one.parts["residuals"].asset_ratios(scn, one["residuals"]), both[..., [1]], rtol=1e-15
    )
    with pytest.raises(NumericalError, match=r"residuals\.a_level is -0\.5"):
        replace(p, a_level=np.array([[1.0, -0.5]])).check("test", "residuals")


def test_the_packaged_default_carries_the_fitted_levels(default_fit) -> None:
    from simengine.data.fit_distribution import given_state_ratios, residual_scale

    d = default_fit
    fit = {**d["fit"], **{a: dict(d["fit"][a]) for a in ("small_cap", "large_cap")}}
    levels = residual_scale(fit, given_state_ratios(fit, d["var"], d["market"], d["vol"]), None)
    packaged = yaml.safe_load((ROOT / "simengine/models/default.yaml").read_text())
    for a, lev in levels.items():
        assert math.isfinite(lev["half_life_months"])
        curve = packaged["residuals"]["vol_state"]["per_asset"][a]
        assert curve["level"] == pytest.approx(lev["level"], rel=1e-3)
        assert packaged["assets"][a]["sigma"] == pytest.approx(lev["sigma"], rel=1e-3)
        assert fit[a]["sigma"] == lev["sigma"] and fit[a]["sigma_raw"] != lev["sigma"]


def test_exactly_the_minimum_of_scored_months_chooses_a_half_life() -> None:
    """``MIN_SCORED_MONTHS`` months after the burn-in are enough to score (one fewer is not)."""
    level = np.r_[np.ones(BURN_MONTHS), 4.0 * np.ones(MIN_SCORED_MONTHS)]
    resid, ratios = _residuals(level, 6)
    got = residual_levels(resid, ratios, n_params=1)["a"]
    assert len(got["loglik"]) == 13 and got["n"] == BURN_MONTHS + MIN_SCORED_MONTHS
    assert got["half_life_months"] == max(got["loglik"], key=got["loglik"].get)
    short = residual_levels(resid.iloc[1:], ratios.iloc[1:], n_params=1)["a"]
    assert short["loglik"] == {} and short["level"] == 1.0


def test_the_grid_and_the_burn_in_are_the_callers() -> None:
    resid, ratios = _residuals(np.r_[np.ones(100), 3.0 * np.ones(60)], 7)
    got = residual_levels(resid, ratios, n_params=1, grid=(12.0, math.inf), burn=40)["a"]
    r, v = resid["a"].to_numpy(), ratios["a"].to_numpy()
    want = {h: predictive_loglik(r, v, h, burn=40) for h in (12.0, math.inf)}
    assert got["loglik"] == pytest.approx(want, rel=1e-12)
    assert predictive_loglik(r, v, 12.0) == predictive_loglik(r, v, 12.0, burn=BURN_MONTHS)


def _two_asset_fit(seed: int) -> tuple[dict, pd.DataFrame]:
    """A least-squares fit of the default structure's two assets (3 coefficients each) and the
    state ratios on more months than the residuals (as ``given_state_ratios`` gives them)."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("1995-01-31", periods=150, freq="ME")
    ratio_months = pd.date_range("1994-01-31", periods=170, freq="ME")
    ratios = pd.DataFrame(
        np.exp(0.4 * rng.standard_normal((170, 3))),
        index=ratio_months,
        columns=["market", "large_cap", "small_cap"],  # not the structure's order
    )
    scale = np.sqrt(0.003 * ratios.loc[months, ["small_cap", "large_cap"]].to_numpy())
    resid = pd.DataFrame(
        scale * rng.standard_normal((150, 2)), index=months, columns=["small_cap", "large_cap"]
    )
    fit = {"resid": resid}
    for a, raw in (("small_cap", 0.31), ("large_cap", 0.22)):
        fit[a] = {"map": np.zeros(3), "sigma": raw}
    return fit, ratios


def test_residual_scale_sets_the_long_run_sigma_and_keeps_the_raw_one() -> None:
    fit, ratios = _two_asset_fit(8)
    levels = residual_scale(fit, ratios)
    for a, raw in (("small_cap", 0.31), ("large_cap", 0.22)):
        z2 = fit["resid"][a] ** 2 / ratios.loc[fit["resid"].index, a]
        assert levels[a]["n"] == 150
        assert levels[a]["sigma"] == pytest.approx(math.sqrt(12 * z2.sum() / (150 - 3)), rel=1e-12)
        assert fit[a]["sigma"] == levels[a]["sigma"] and fit[a]["sigma_raw"] == raw
    residual_scale(fit, ratios)  # a second call keeps the raw sd, not the first call's sigma
    assert fit["small_cap"]["sigma_raw"] == 0.31 and fit["large_cap"]["sigma_raw"] == 0.22


@pytest.mark.shared_data
def test_the_refit_carries_the_levels_and_sigmas_of_the_fit(default_fit, shared_data) -> None:
    """``distribution_model`` (what the backtest refits) puts each asset's level into
    ``residuals.vol_state`` and the long-run sigma into ``assets`` (as the packaged default)."""
    from simengine.data.fit import SAMPLE, tariff_events
    from simengine.data.fit_distribution import (
        distribution_model,
        given_state_ratios,
        tails_given_state,
    )

    d = default_fit
    fit = {**d["fit"], **{a: dict(d["fit"][a]) for a in ("small_cap", "large_cap")}}
    ratios = given_state_ratios(fit, d["var"], d["market"], d["vol"])
    levels = residual_scale(fit, ratios)
    tariff = tariff_events(shared_data)
    beta = {a: tariff[a] for a in ("small_cap", "large_cap")}
    model = distribution_model(d["table"], d["market"], SAMPLE, tariff_beta=beta)
    tails = tails_given_state(fit, d["var"], d["market"], d["vol"], None, ratios)
    assert model["residuals"]["dof"] == tails["residuals"]["dof"]
    for a, lev in levels.items():
        assert model["residuals"]["vol_state"]["per_asset"][a]["level"] == lev["level"] != 1.0
        assert model["assets"][a]["sigma"] == lev["sigma"]


@pytest.mark.shared_data
def test_a_refit_of_another_structure_scales_its_own_assets(shared_data) -> None:
    """The refit passes its structure to the state ratios, the tails and the scale: a model of
    the Nasdaq-100 alone gets the level and sigma of its own fit (the default structure's assets
    would not be found)."""
    from simengine.data import build_table
    from simengine.data.fit import CARRY_PRIOR, SAMPLE
    from simengine.data.fit_distribution import (
        MarketData,
        distribution_model,
        fit_news_assets,
        fit_var_ecm,
        given_state_ratios,
        tails_given_state,
        vol_state_section,
    )
    from simengine.structure import default_structure

    one = default_structure().select_assets(["large_cap"])
    table = build_table(shared_data, "monthly", end=SAMPLE[1], structure=one).frame
    market = MarketData.load(shared_data, one).cut(pd.Period(SAMPLE[1], "M").end_time.normalize())
    model = distribution_model(table, market, SAMPLE, structure=one)
    var = fit_var_ecm(table, market.levels, SAMPLE, one)
    zero = {"large_cap": (0.0, 0.0)}
    fit = fit_news_assets(table, var["innovations"], zero, CARRY_PRIOR, SAMPLE, one)
    vol = vol_state_section(market, SAMPLE, one)
    ratios = given_state_ratios(fit, var, market, vol, one)
    assert set(ratios.columns) == {"market", "large_cap"}
    tails = tails_given_state(fit, var, market, vol, one)  # computes the ratios itself
    assert tails == tails_given_state(fit, var, market, vol, one, ratios)
    assert model["residuals"]["dof"] == tails["residuals"]["dof"]
    assert model["dynamics"]["innovation_dof"] == tails["factors"]["dof"]
    want = residual_scale(fit, ratios, one)["large_cap"]
    assert list(model["residuals"]["vol_state"]["per_asset"]) == ["large_cap"]
    assert model["residuals"]["vol_state"]["per_asset"]["large_cap"]["level"] == want["level"]
    assert model["assets"]["large_cap"]["sigma"] == want["sigma"]
