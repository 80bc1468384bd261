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
    with pytest.raises(ValidationError, match="greater than 0"):
        _AssetCurve(**curve, level=0.0)


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
