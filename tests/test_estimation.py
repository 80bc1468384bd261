"""Estimation of the volatility state, the drift prior and shrinkage, credit ECM, tariff reversal.

Each estimator recovers known parameters from data simulated with them (tolerances from the
sampling error of the simulated sample) and reads no data after its cut-off.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

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
from simengine.data.fit import SAMPLE
from simengine.data.fit_distribution import MarketData, drift
from simengine.exceptions import DataError
from simengine.structure import default_model_path

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


def _beta_world(
    seed: int, n: int, beta: float, noise: float, start: str = "1930-01-31"
) -> tuple[pd.DatetimeIndex, pd.Series, pd.Series, pd.Series]:
    """Months, market returns, an asset of that beta on the market, and a flat 7.2% ERP."""
    idx = pd.date_range(start, periods=n, freq="ME")
    rng = np.random.default_rng(seed)
    market = pd.Series(0.005 + 0.04 * rng.standard_normal(n), index=idx)
    asset = beta * market + noise * rng.standard_normal(n)
    return idx, market, asset, pd.Series(0.006, index=idx)


def test_drift_prior_adds_the_beta_premium() -> None:
    idx, market, asset, excess = _beta_world(2, 1000, 1.5, 0.01)
    prior = drift_prior(asset, market, excess, idx[-1])
    assert prior["beta"] == pytest.approx(1.5, abs=0.02)
    assert prior["centre"] == pytest.approx(12 * market.mean() + 0.5 * 0.072, abs=0.002)
    early = drift_prior(asset, market, excess, idx[300])
    assert early["market_months"] == 301  # nothing after the cut-off


def test_drift_prior_needs_24_months_of_the_asset_and_120_of_the_market() -> None:
    idx, market, asset, excess = _beta_world(12, 120, 1.2, 0.02, "1990-01-31")
    asset = asset.iloc[-24:]
    prior = drift_prior(asset, market, excess, idx[-1])
    assert prior["asset_months"] == 24 and prior["market_months"] == 120
    assert prior["market_drift"] == pytest.approx(12.0 * market.mean(), rel=1e-12)
    assert prior["erp"] == pytest.approx(0.072, rel=1e-12)
    series = prior_series(asset, market, excess, idx)
    assert series.iloc[-1] == pytest.approx(prior["centre"], abs=1e-12)
    assert np.isnan(series.iloc[-2])  # 23 months of the asset: no beta yet
    with pytest.raises(DataError, match="too little history"):
        drift_prior(asset.iloc[1:], market, excess, idx[-1])
    with pytest.raises(DataError, match="too little history"):
        drift_prior(asset, market.iloc[1:], excess, idx[-1])


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


def test_yield_gap_carries_each_last_yield_on_and_is_indexed_by_the_months() -> None:
    months = pd.date_range("2000-01-31", periods=60, freq="ME")
    market = pd.Series(0.024 / 12.0, index=pd.date_range("1995-01-31", "2002-12-31", freq="ME"))
    asset = pd.Series(0.006 / 12.0, index=pd.date_range("2000-07-31", "2003-12-31", freq="ME"))
    gap = yield_gap_series(market, asset, months)
    assert gap.index.equals(months)  # not the funds' months (from 1995, to 2003)
    assert (gap.loc[:"2001-05"] == 0.0).all()  # the asset's first 11 months
    # each yield stays at its last known value after its fund's last month (2002-12, 2003-12)
    np.testing.assert_allclose(gap.loc["2001-06":], 0.018)
    no_market = yield_gap_series(None, asset, months)  # a market without an ETF: no gap
    assert no_market.index.equals(months) and no_market.eq(0.0).all()


def test_prior_series_counts_months_without_a_yield_gap_as_zero() -> None:
    idx, market, asset, excess = _beta_world(9, 600, 1.2, 0.02)
    gap = pd.Series(0.01, index=idx[400:500])  # known for some months only
    series = prior_series(asset, market, excess, idx, gap)
    assert series.index.equals(idx)
    added = (series - prior_series(asset, market, excess, idx)).iloc[100:]
    np.testing.assert_allclose(added, np.r_[np.zeros(300), np.full(100, 0.01), np.zeros(100)])
    later = idx.append(pd.date_range(idx[-1], periods=13, freq="ME")[1:])
    held = prior_series(asset, market, excess, later, gap)  # months after the data's last
    assert held.index.equals(later) and (held.iloc[-12:] == series.iloc[-1]).all()


def _drift_world(seed: int) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Monthly asset returns from 1980 (``table``), S&P 500 returns from 1928, a flat ERP."""
    rng = np.random.default_rng(seed)
    long = pd.date_range("1928-01-31", "2020-12-31", freq="ME")
    spx = pd.Series(0.005 + 0.04 * rng.standard_normal(len(long)), index=long)
    m = spx.loc["1980":]
    noise = 0.02 * rng.standard_normal((len(m), 2))
    # the large cap beats its beta by 2% a month: its past window means beat the prior
    table = pd.DataFrame(
        {"small_cap": 1.1 * m + noise[:, 0], "large_cap": 0.02 + 1.3 * m + 0.25 * noise[:, 1]}
    )
    return table, spx, pd.Series(0.006, index=long)


def test_drift_adds_each_assets_yield_gap_as_known_at_the_end_month() -> None:
    table, spx, excess = _drift_world(10)
    etf = pd.date_range("1993-02-28", "2020-12-31", freq="ME")
    rng = np.random.default_rng(11)
    yields = pd.DataFrame(
        {
            "market": 0.02 / 12.0 + 0.001 * rng.standard_normal(len(etf)),
            "small_cap": 0.012 / 12.0 + 0.001 * rng.standard_normal(len(etf)),
        },
        index=etf,
    )  # no large_cap column: its index has no ETF
    yields.loc[:"2000-05", "small_cap"] = np.nan  # its fund starts in 2000-06
    yields.loc["2016":] = 0.5  # after the sample's end: must not count
    empty = pd.DataFrame(index=pd.DatetimeIndex([]))
    plain = MarketData(empty, pd.Series(dtype=float), spx, excess, empty)
    mu_hat = {"small_cap": 0.05, "large_cap": 0.09}
    sample = ("1997-01", "2015-12")
    got = drift(table, replace(plain, yields=yields), mu_hat, sample)
    base = drift(table, plain, mu_hat, sample)
    known = yields.loc[:"2015-12"]
    want = 12.0 * (known["market"].mean() - known["small_cap"].mean())
    assert 0.006 < want < 0.010
    assert got["small_cap"]["yield_gap"] == pytest.approx(want, rel=1e-12)
    assert got["small_cap"]["centre"] - base["small_cap"]["centre"] == pytest.approx(
        want, abs=1e-12
    )
    assert got["large_cap"]["yield_gap"] == 0.0 == base["small_cap"]["yield_gap"]
    assert got["large_cap"]["centre"] == base["large_cap"]["centre"]
    assert got["large_cap"]["weight"] < 0.5
    for a, v in got.items():
        assert v["mu_hat"] == mu_hat[a]
        assert v["mu"] == pytest.approx(v["weight"] * v["centre"] + (1 - v["weight"]) * mu_hat[a])
    cut = drift(table.loc[:"2015-12"], replace(plain, yields=yields), mu_hat, sample)
    assert cut == got  # no row of the table after the sample's end counts


@pytest.mark.shared_data
def test_the_packaged_drift_is_what_drift_gives_on_the_data(default_fit) -> None:
    d = default_fit
    mu_hat = {a: 12.0 * d["fit"][a]["map"][0] for a in ("small_cap", "large_cap")}
    got = drift(d["table"], d["market"], mu_hat, SAMPLE)
    packaged = yaml.safe_load(default_model_path().read_text())["provenance"]["drift"]
    for a, v in got.items():
        p = packaged[a]
        assert v["yield_gap"] > 0.003  # the S&P 500 yields more than either index
        assert p["yield_gap"] == pytest.approx(v["yield_gap"], rel=1e-3)
        assert p["prior_centre"] == pytest.approx(v["centre"], rel=1e-3)
        assert p["muhat"] == pytest.approx(v["mu_hat"], rel=1e-3)
        assert p["mu"] == pytest.approx(v["mu"], rel=1e-3)
        assert p["shrinkage_weight"] == v["weight"]
        assert p["past_forecasts_scored"] == v["n_past_forecasts"]


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
