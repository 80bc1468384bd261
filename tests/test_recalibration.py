"""Out-of-sample variance recalibration (``sigma_scale``): estimator, no look-ahead, replay."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from simengine.backtest import BacktestConfig, fit_params, forecast_origin, run_backtest
from simengine.backtest.core import with_sigma_scale
from simengine.backtest.recalibration import (
    PSEUDO_OBS,
    known_before,
    sigma_scale,
    variance_factor,
)
from simengine.exceptions import ModelFileError
from simengine.params import ModelParams
from simengine.structure import default_model_path

from .test_backtest import synthetic_table

DEFAULT = yaml.safe_load(default_model_path().read_text())


def test_variance_factor_recovers_a_known_error_variance() -> None:
    rng = np.random.default_rng(3)
    for true_var in (0.64, 1.0, 1.44):
        # outcomes N(0, true_var) scored against N(0, 1) forecasts
        pit = stats.norm.cdf(rng.normal(0.0, np.sqrt(true_var), 20_000))
        assert variance_factor(pit, pseudo_obs=0.0) == pytest.approx(true_var, rel=0.03)


def test_variance_factor_shrinks_to_one_by_the_pseudo_observations() -> None:
    u = np.array([0.3, -0.5, 1.2])
    pit = stats.norm.cdf(u)
    want = (np.sum(u**2) + PSEUDO_OBS) / (3 + PSEUDO_OBS)
    assert variance_factor(pit) == pytest.approx(want, rel=1e-9)
    assert variance_factor(np.array([])) == 1.0
    # a PIT of 0 or 1 (outcome beyond every path) stays finite
    assert np.isfinite(variance_factor(np.array([0.0, 1.0]), pseudo_obs=0.0))


def test_sigma_scale_makes_the_forecast_variance_c_times_larger() -> None:
    # V = S + R -> S + k R = c V  <=>  k = 1 + (c - 1) / rho
    S, R, c = 0.3, 0.7, 0.8
    k = sigma_scale(c, R / (S + R)) ** 2
    assert S + k * R == pytest.approx(c * (S + R), rel=1e-12)
    assert sigma_scale(0.81, 1.0) == pytest.approx(0.9)
    with pytest.raises(ValueError, match="residual share"):
        sigma_scale(0.8, 0.0)


def test_known_before_counts_only_realised_horizons() -> None:
    pos = np.array([0, 1, 2, 3, 4, 5, 7])
    assert known_before(pos, 5, 3).tolist() == [0, 1, 2]
    assert known_before(pos, 6, 3).tolist() == [0, 1, 2, 3, 4]
    assert known_before(pos, 2, 3).tolist() == []


def test_backtest_scale_uses_only_outcomes_known_at_the_origin() -> None:
    frame = synthetic_table()
    cfg = BacktestConfig(
        start="2003-01", end="2004-06", horizon=3, n_paths=256, refit_every=6, recalibrate=True
    )
    out = run_backtest(frame, cfg)
    for asset, g in out.groupby("asset"):
        g = g.reset_index(drop=True)
        share = (g.raw_resid_sd / g.raw_sd) ** 2
        for i, origin in enumerate(g.origin):
            known = g.origin + pd.offsets.MonthEnd(cfg.horizon) <= origin
            want = sigma_scale(variance_factor(g.raw_pit[known]), min(share[i], 1.0))
            assert g.sigma_scale[i] == pytest.approx(want, rel=1e-12), (asset, origin)
        assert (g.sigma_scale.iloc[:3] == 1.0).all()  # nothing realised yet
        assert not np.allclose(g.sigma_scale, 1.0)  # the test can see a scale
    # changing the outcomes after a cut changes no scale at or before the cut
    cut = pd.Timestamp("2003-09-30")
    changed = frame.copy()
    later = changed.index > cut
    changed.loc[later, ["small_cap", "large_cap"]] *= 4.0
    other = run_backtest(changed, cfg)
    by_cut = out.origin <= cut
    np.testing.assert_array_equal(out.sigma_scale[by_cut], other.sigma_scale[by_cut])


def test_sigma_scale_reaches_the_simulated_residual_exactly() -> None:
    frame = synthetic_table()
    cfg = BacktestConfig(start="2003-01", end="2003-01", horizon=3, n_paths=256)
    origin = pd.Timestamp("2003-01-31")
    params = fit_params(frame, origin, None)
    x = {
        s: forecast_origin(frame, origin, with_sigma_scale(params, [s, s]), cfg) for s in (1, 2, 3)
    }
    # common random numbers: the log return is linear in the residual volatility
    np.testing.assert_allclose(x[3] - x[1], 2.0 * (x[2] - x[1]), rtol=1e-9, atol=1e-12)
    assert np.std(x[2][:, 0] - x[1][:, 0]) > 0.01


def test_model_file_sigma_scale_is_sigma_times_scale(tmp_path: Path) -> None:
    scaled, plain = copy.deepcopy(DEFAULT), copy.deepcopy(DEFAULT)
    scaled["assets"]["large_cap"]["sigma_scale"] = 0.9
    plain["assets"]["large_cap"]["sigma"] = DEFAULT["assets"]["large_cap"]["sigma"] * 0.9
    a = ModelParams.from_mapping(scaled)["residuals"]
    b = ModelParams.from_mapping(plain)["residuals"]
    np.testing.assert_allclose(a.sigma, b.sigma, rtol=1e-15)
    assert a.sigma_scale.tolist() == [[1.0, 0.9]]


@pytest.mark.parametrize("bad", [0.0, -1.0, 11.0, "0.9", float("nan")])
def test_bad_sigma_scale_is_a_model_file_error(tmp_path: Path, bad: object) -> None:
    model = copy.deepcopy(DEFAULT)
    model["assets"]["small_cap"]["sigma_scale"] = bad
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(model, sort_keys=False))
    with pytest.raises(ModelFileError) as err:
        ModelParams.load(path)
    assert err.value.issues[0].field == "assets.small_cap.sigma_scale"
