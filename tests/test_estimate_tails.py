"""Student-t dof given the volatility state (:mod:`simengine.data.estimate_tails`).

The estimator recovers a known dof from shocks simulated as the model draws them (a per-path
log-normal level times a unit-variance t), finds no excess tail in Gaussian shocks under the same
mixing, and its likelihood is the model's density. The one-month ratio is the simulation's own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import integrate, stats

from simengine.data.estimate_tails import _mixture_loglik, conditional_dof, one_month_ratios
from simengine.data.estimate_volatility import variance_ratios
from tests.conftest import ROOT


def _mixed(rng: np.random.Generator, n: int, nu: float, s: float, k: int = 1) -> np.ndarray:
    """``sqrt(L) t_nu`` (unit variance) per row, ``L = exp(s n - s^2/2)`` shared by the row."""
    level = np.exp(s * rng.standard_normal((n, 1)) - s * s / 2.0)
    if np.isinf(nu):
        t = rng.standard_normal((n, k))
    else:
        w = rng.chisquare(nu, size=(n, 1))
        t = rng.standard_normal((n, k)) * np.sqrt((nu - 2.0) / w)
    return np.sqrt(level) * t


def test_recovers_a_known_dof_under_the_mixing() -> None:
    rng = np.random.default_rng(1)
    z = _mixed(rng, 6000, 6.0, 0.6, k=2) @ np.array([[1.0, 0.6], [0.0, 0.8]])
    fit = conditional_dof(z, 0.6)
    assert fit["dof"] is not None and 4.5 < fit["dof"] < 8.5, fit


def test_gaussian_shocks_under_the_mixing_are_gaussian() -> None:
    """The level's kurtosis is not a t's: integrated out, Gaussian shocks give no dof a t's
    tails would need (none, or far above the default's 5-8), while ignoring the level (s = 0)
    reads its kurtosis as a fat-tailed t."""
    rng = np.random.default_rng(2)
    z = _mixed(rng, 4000, np.inf, 0.6)
    fitted = conditional_dof(z, 0.6)["dof"]
    assert fitted is None or fitted > 20
    ignored = conditional_dof(z, 0.0)["dof"]
    assert ignored is not None and ignored < 15


def test_pooled_fit_matches_the_univariate_fit_of_the_stacked_columns() -> None:
    rng = np.random.default_rng(3)
    z = _mixed(rng, 1500, 7.0, 0.4, k=3) * np.array([1.0, 3.0, 0.5])
    pooled = conditional_dof(z, 0.4, pooled=True)
    stacked = (z / z.std(axis=0, ddof=1)).T.reshape(-1)
    assert pooled["mle"] == pytest.approx(conditional_dof(stacked, 0.4)["mle"], rel=1e-6)
    assert pooled["n"] == z.size


def test_likelihood_is_the_mixture_density() -> None:
    """Gauss-Hermite against adaptive quadrature over the level, and s = 0 against scipy's t."""
    z = np.array([[-3.1], [0.2], [1.7]])
    nu, s = 5.0, 0.6
    shape = (nu - 2.0) / nu

    def density(x: float) -> float:
        def integrand(n: float) -> float:
            lev = np.exp(s * n - s * s / 2.0)
            return stats.t.pdf(x, nu, scale=np.sqrt(lev * shape)) * stats.norm.pdf(n)

        return integrate.quad(integrand, -12, 12, epsabs=1e-13)[0]

    exact = sum(np.log(density(x)) for x in z[:, 0])
    assert _mixture_loglik(z, np.eye(1), nu, s) == pytest.approx(exact, rel=1e-9)
    no_mix = stats.t.logpdf(z[:, 0], nu, scale=np.sqrt(shape)).sum()
    assert _mixture_loglik(z, np.eye(1), nu, 0.0) == pytest.approx(no_mix, rel=1e-12)


def test_one_month_ratio_is_the_simulations_first_month() -> None:
    curve = {
        "intercept": [-8.1, -8.0],
        "vix": [1.2, 1.1],
        "realised": [0.3, 0.25],
        "smearing": [1.15, 1.2],
        "mean_rv": 0.0021,
    }
    vix, realised_vol = np.array([14.0, 35.0]), np.array([12.0, 40.0])
    rvs = (realised_vol / 100.0) ** 2 / 12.0
    got = one_month_ratios(curve, pd.Series(np.log(vix)), pd.Series(np.log(rvs)))
    want = [variance_ratios(curve, v, r, 1)[0] for v, r in zip(vix, realised_vol, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    market = {k: v for k, v in curve.items() if k != "realised"}
    no_realised = one_month_ratios(market, pd.Series(np.log(vix)))
    np.testing.assert_allclose(no_realised, np.exp(-8.1 + 1.2 * np.log(vix)) * 1.15 / 0.0021)


def test_the_fitted_default_counts_the_clustering_once(shared_data) -> None:
    """On the real data, given the state: factor innovations lighter than the raw fit, residuals
    Gaussian; the packaged default model carries exactly these values."""
    from simengine.data import build_table
    from simengine.data.fit import CARRY_PRIOR, SAMPLE, tariff_events
    from simengine.data.fit_distribution import (
        MarketData,
        fit_news_assets,
        fit_var_ecm,
        tails_given_state,
        vol_state_section,
    )

    table = build_table(shared_data, frequency="monthly", end=SAMPLE[1]).frame
    market = MarketData.load(shared_data).cut(pd.Period(SAMPLE[1], "M").end_time.normalize())
    var = fit_var_ecm(table, market.levels, SAMPLE)
    fit = fit_news_assets(
        table, var["innovations"], tariff_events(shared_data), CARRY_PRIOR, SAMPLE
    )
    tails = tails_given_state(fit, var, market, vol_state_section(market, SAMPLE), None)
    assert var["dof_mle"] < 4 and fit["dof"] < 6  # the raw fits
    assert tails["residuals"]["dof"] is None
    assert 6 < tails["factors"]["dof"] < 10
    packaged = yaml.safe_load((ROOT / "simengine/models/default.yaml").read_text())
    assert packaged["dynamics"]["innovation_dof"] == pytest.approx(
        tails["factors"]["dof"], abs=5e-3
    )
    assert packaged["residuals"]["dof"] is None
