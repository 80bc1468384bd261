"""Estimation of the volatility state, the drift prior and shrinkage, credit ECM, tariff reversal.

Each estimator recovers known parameters from data simulated with them (tolerances from the
sampling error of the simulated sample) and reads no data after its cut-off.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simengine.data.estimate_credit import fit_credit_ecm
from simengine.data.estimate_drift import (
    YIELD_PROXIES,
    choose_shrinkage,
    drift_prior,
    prior_series,
    yield_gap_series,
    yield_spread,
)
from simengine.data.estimate_tariff import fit_reversal
from simengine.data.estimate_volatility import (
    fit_realised_given_vix,
    fit_variance_term_structure,
    implied_realised_vol,
    monthly_realised_variance,
    trailing_variance,
    variance_ratios,
)

# ----------------------------------------------------------------------------- volatility


def _vol_world(seed: int = 0, years: int = 30) -> tuple[pd.Series, pd.Series]:
    """Daily returns whose monthly variance follows a log-AR(1) the VIX tracks."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("1990-01-31", periods=12 * years, freq="ME")
    x = np.zeros(len(months))
    for t in range(1, len(x)):
        x[t] = 0.8 * x[t - 1] + 0.35 * rng.standard_normal()
    month_var = 0.0025 * np.exp(x)  # monthly variance around 5% a month
    vix = pd.Series(100.0 * np.sqrt(12.0 * month_var) * 1.1, index=months)
    days = pd.bdate_range("1990-01-01", months[-1])
    per_day = pd.Series(month_var, index=months).reindex(days, method="bfill") / 21.0
    daily = pd.Series(rng.standard_normal(len(days)) * np.sqrt(per_day.to_numpy()), index=days)
    return daily.dropna(), vix


def test_variance_term_structure_decays_like_the_simulated_state() -> None:
    daily, vix = _vol_world()
    rv = monthly_realised_variance(daily)
    rvs = trailing_variance(daily).resample("ME").last()
    fit = fit_variance_term_structure(rv, vix, rvs, daily, months=6, realised=False)
    c = np.asarray(fit["vix"])
    # log VIX = log sqrt(var) + const, so the slope on log VIX of log var k months ahead is
    # 2 * 0.8**k (AR(1) of log variance); 360 months: s.e. of each slope about 0.1
    np.testing.assert_allclose(c, 2.0 * 0.8 ** np.arange(1, 7), atol=0.3)
    assert c[0] > c[-1]  # mean reversion: the state matters less further ahead
    v = variance_ratios(fit, float(vix.max()), 20.0, 24)
    assert v.shape == (24,) and v[0] > v[5] > 1.0 and v[-1] == v[5]  # held beyond K = 6
    assert variance_ratios(fit, float(vix.min()), 20.0, 3)[0] < 1.0


def test_variance_term_structure_uses_no_month_after_the_cut() -> None:
    daily, vix = _vol_world(1)
    rv, rvs = monthly_realised_variance(daily), trailing_variance(daily).resample("ME").last()
    cut = "2005-12"
    base = fit_variance_term_structure(rv.loc[:cut], vix.loc[:cut], rvs.loc[:cut], daily, 3)
    wild = rv.copy()
    wild.loc["2006-01":] *= 50.0
    other = fit_variance_term_structure(wild.loc[:cut], vix.loc[:cut], rvs.loc[:cut], daily, 3)
    assert base["vix"] == other["vix"] and base["intercept"] == other["intercept"]


def test_implied_realised_vol_inverts_the_fit() -> None:
    vix = pd.Series(np.linspace(12, 40, 120), index=pd.date_range("2000", periods=120, freq="ME"))
    rvs = (0.9 * vix / 100.0) ** 2 / 12.0  # realised vol = 0.9 VIX exactly
    given = fit_realised_given_vix(rvs, vix)
    assert given["slope"] == pytest.approx(2.0)
    assert implied_realised_vol(given, 30.0) == pytest.approx(27.0)


# ----------------------------------------------------------------------------- drift


def test_drift_prior_adds_the_beta_premium() -> None:
    idx = pd.date_range("1930-01-31", periods=1000, freq="ME")
    rng = np.random.default_rng(2)
    market = pd.Series(0.005 + 0.04 * rng.standard_normal(1000), index=idx)
    asset = 1.5 * market + 0.01 * rng.standard_normal(1000)
    excess = pd.Series(0.006, index=idx)
    prior = drift_prior(asset, market, excess, idx[-1])
    assert prior["beta"] == pytest.approx(1.5, abs=0.02)
    assert prior["centre"] == pytest.approx(12 * market.mean() + 0.5 * 0.072, abs=0.002)
    early = drift_prior(asset, market, excess, idx[300])
    assert early["market_months"] == 301  # nothing after the cut-off


def test_drift_prior_adds_the_yield_gap_and_the_series_agrees_month_by_month() -> None:
    idx = pd.date_range("1930-01-31", periods=600, freq="ME")
    rng = np.random.default_rng(7)
    market = pd.Series(0.005 + 0.04 * rng.standard_normal(600), index=idx)
    asset = 1.3 * market + 0.02 * rng.standard_normal(600)
    excess = pd.Series(0.006 + 0.001 * rng.standard_normal(600), index=idx)
    gap = pd.Series(np.linspace(0.0, 0.012, 600), index=idx)
    plain = drift_prior(asset, market, excess, idx[-1])
    with_gap = drift_prior(asset, market, excess, idx[-1], yield_gap=0.012)
    assert with_gap["centre"] - plain["centre"] == pytest.approx(0.012, abs=1e-12)
    assert with_gap["yield_gap"] == 0.012
    series = prior_series(asset, market, excess, idx, gap)
    for k in (150, 350, 599):
        one = drift_prior(asset, market, excess, idx[k], yield_gap=float(gap.iloc[k]))
        assert series.iloc[k] == pytest.approx(one["centre"], abs=1e-12)
    no_gap = prior_series(asset, market, excess, idx)
    assert series.iloc[599] - no_gap.iloc[599] == pytest.approx(0.012, abs=1e-12)


def _close_file(path: Path, closes: pd.Series) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({"Open": closes, "High": closes, "Low": closes, "Close": closes})
    frame.rename_axis("Date").to_csv(path)


def test_yield_spread_recovers_the_dividend_yield_net_of_the_expense_ratio(tmp_path: Path) -> None:
    index_file = "equity/NDX_index_daily.csv"
    etf_file, expense = YIELD_PROXIES[index_file]
    days = pd.bdate_range("2001-01-01", "2010-12-31")
    rng = np.random.default_rng(8)
    index = pd.Series(100.0 * np.exp(np.cumsum(0.01 * rng.standard_normal(len(days)))), days)
    net = (0.015 - expense) / 252.0  # a 1.5% yield paid daily, less the fund's fee
    etf = 40.0 * index / index.iloc[0] * np.exp(net * np.arange(len(days)))
    _close_file(tmp_path / index_file, index)
    _close_file(tmp_path / etf_file, etf.iloc[5:])  # the fund starts a week later
    spread = yield_spread(tmp_path, index_file)
    assert spread is not None and spread.index[0] == pd.Timestamp("2001-02-28")
    # the ETF's log return less the index's telescopes: net x the trading days between the
    # first and the last month end, plus the fee added back each month
    k = days.get_loc(pd.Timestamp("2010-12-31")) - days.get_loc(pd.Timestamp("2001-01-31"))
    n = len(spread)
    assert n == 119
    assert 12.0 * spread.mean() == pytest.approx(12.0 * (net * k / n + expense / 12.0), rel=1e-9)
    assert 12.0 * spread.mean() == pytest.approx(0.015, abs=0.0005)
    assert yield_spread(tmp_path, "equity/XYZ_index_daily.csv") is None  # no ETF: no yield


def test_yield_gap_is_known_at_each_month_and_zero_before_a_year_of_dividends() -> None:
    months = pd.date_range("2000-01-31", periods=60, freq="ME")
    market = pd.Series(0.02 / 12.0, index=months)
    asset = pd.Series(0.005 / 12.0, index=months[6:])  # its fund starts in July
    gap = yield_gap_series(market, asset, months)
    assert (gap.iloc[:17] == 0.0).all()  # the asset's first 11 months: no yield yet
    np.testing.assert_allclose(gap.iloc[17:], 0.015)
    wild = asset.copy()
    wild.iloc[30:] = 0.5  # later dividends do not reach back
    np.testing.assert_array_equal(yield_gap_series(market, wild, months).iloc[:36], gap.iloc[:36])
    assert yield_gap_series(market, None, months).eq(0.0).all()  # an asset without an ETF


def test_shrinkage_picks_the_prior_when_window_means_are_noise() -> None:
    idx = pd.date_range("1990-01-31", periods=360, freq="ME")
    r = pd.Series(0.005 + 0.05 * np.random.default_rng(3).standard_normal(360), index=idx)
    prior = pd.Series(0.06, index=idx)  # the true drift, 6% a year
    out = choose_shrinkage(r, prior, "1990-01", idx[-1], 6)
    assert out["weight"] >= 0.8 and out["n"] > 300


def test_shrinkage_leaves_a_wrong_prior_when_the_drift_is_strong() -> None:
    idx = pd.date_range("1990-01-31", periods=360, freq="ME")
    r = pd.Series(0.03 + 0.01 * np.random.default_rng(4).standard_normal(360), index=idx)
    prior = pd.Series(0.0, index=idx)  # 0% prior, 36% a year realised
    assert choose_shrinkage(r, prior, "1990-01", idx[-1], 6)["weight"] <= 0.1


def test_shrinkage_does_not_see_returns_after_the_cut() -> None:
    idx = pd.date_range("1990-01-31", periods=240, freq="ME")
    r = pd.Series(0.01 * np.random.default_rng(5).standard_normal(240), index=idx)
    prior = pd.Series(0.05, index=idx)
    cut = idx[150]
    wild = r.copy()
    wild.iloc[151:] += 0.5
    a = choose_shrinkage(r, prior, "1990-01", cut, 6)
    b = choose_shrinkage(wild, prior, "1990-01", cut, 6)
    assert a == b


# ----------------------------------------------------------------------------- credit ECM


def test_credit_ecm_recovers_the_reversion_rate() -> None:
    rng = np.random.default_rng(6)
    idx = pd.date_range("1990-01-31", periods=600, freq="ME")
    level = np.empty(600)
    level[0] = 5.0
    for t in range(1, 600):
        level[t] = level[t - 1] - 0.06 * (level[t - 1] - 5.0) + 0.4 * rng.standard_normal()
    s = pd.Series(level, index=idx)
    table = pd.DataFrame(
        {
            "credit": s.diff(),
            "rates": rng.standard_normal(600) * 0.2,
            "growth": rng.standard_normal(600),
            "inflation": rng.standard_normal(600),
            "policy_rate": 3.0 + rng.standard_normal(600),
        },
        index=idx,
    )
    fit = fit_credit_ecm(table, s, ("1990-03", "2039-12"))
    # 600 months: s.e. of rho about sqrt(0.06 * 2 / 600) ~ 0.014
    assert fit["rho"] == pytest.approx(-0.06, abs=0.03)
    assert fit["long_run_level"] == pytest.approx(5.0, abs=0.6)
    assert abs(fit["gap_coef"]) < 3 * fit["gap_se"]  # no policy-gap effect was simulated


# ----------------------------------------------------------------------------- tariffs


def test_tariff_reversal_recovers_a_known_share() -> None:
    rng = np.random.default_rng(7)
    event = rng.normal(0.0, 0.05, 40)
    horizons = (5, 10, 21, 42)
    rows = {"event_return": event, "asset": ["a"] * 40}
    for h in horizons:
        undone = 0.4 * (1.0 - np.exp(-0.1 * h))
        rows[f"post{h}"] = -undone * event + 0.002 * rng.standard_normal(40) + 0.01
    fit = fit_reversal(pd.DataFrame(rows), horizons)
    assert fit["share"] == pytest.approx(0.4, abs=0.05)
    assert fit["rate_per_day"] == pytest.approx(0.1, rel=0.4)
