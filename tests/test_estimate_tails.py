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
    # Multivariate (one row per month, C = cov(z)) unless pooled; the reported log-likelihoods
    # are the mixture's at the fitted dof and at the Gaussian, and the t fits better.
    assert fit["n"] == 6000
    cov = np.cov(z.T)
    assert fit["loglik"] == pytest.approx(_mixture_loglik(z, cov, fit["mle"], 0.6), rel=1e-12)
    assert fit["loglik_gaussian"] == pytest.approx(_mixture_loglik(z, cov, np.inf, 0.6), rel=1e-12)
    assert fit["loglik"] > fit["loglik_gaussian"] + 10


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
    rows = sum(_mixture_loglik(z[i : i + 1], np.eye(1), nu, s) for i in range(len(z)))
    assert rows == pytest.approx(exact, rel=1e-9)  # one row at a time: the same sum
    no_mix = stats.t.logpdf(z[:, 0], nu, scale=np.sqrt(shape)).sum()
    assert _mixture_loglik(z, np.eye(1), nu, 0.0) == pytest.approx(no_mix, rel=1e-12)


def test_gaussian_likelihood_is_the_mixture_density() -> None:
    """The Gaussian branch (``nu = inf``) against adaptive quadrature, two correlated columns."""
    z = np.array([[-0.9, 2.4], [0.3, -0.1]])
    cov = np.array([[1.0, 0.6], [0.6, 2.0]])
    s = 0.6

    def density(x: np.ndarray) -> float:
        def integrand(n: float) -> float:
            lev = np.exp(s * n - s * s / 2.0)
            return stats.multivariate_normal.pdf(x, np.zeros(2), cov * lev) * stats.norm.pdf(n)

        return integrate.quad(integrand, -12, 12, epsabs=1e-13)[0]

    exact = sum(np.log(density(x)) for x in z)
    assert _mixture_loglik(z, cov, np.inf, s) == pytest.approx(exact, rel=1e-9)


@pytest.mark.parametrize(
    ("peak", "gaussian", "want"),
    [(50.0, 1.0, None), (50.0, -1.0, 50.0), (400.0, -10.0, None)],
    ids=["gaussian-fits-better", "interior-t", "best-at-the-bound"],
)
def test_gaussian_decision(monkeypatch, peak, gaussian, want) -> None:
    """``dof`` is None when the Gaussian fits at least as well, or when the best dof is at the
    upper bound (even if the Gaussian fits worse); otherwise the best dof."""
    import simengine.data.estimate_tails as tails

    def loglik(z, cov, nu, mixing_sd):
        return gaussian if np.isinf(nu) else -((np.log(nu) - np.log(peak)) ** 2)

    monkeypatch.setattr(tails, "_mixture_loglik", loglik)
    fit = conditional_dof(np.random.default_rng(0).standard_normal((50, 1)), 0.6)
    assert fit["loglik_gaussian"] == gaussian
    assert fit["mle"] == pytest.approx(min(peak, tails.DOF_BOUNDS[1]), rel=1e-2)
    if want is None:
        assert fit["dof"] is None
    else:
        assert fit["dof"] == pytest.approx(want, rel=1e-2)


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
    # A curve without a realised part ignores a realised state handed to it.
    ignored = one_month_ratios(market, pd.Series(np.log(vix)), pd.Series(np.log(rvs)))
    np.testing.assert_allclose(ignored, no_realised, rtol=1e-15)


def test_state_before_is_the_last_value_up_to_the_month_before() -> None:
    """Daily (trading-day) series: the last value on or before the previous month end."""
    from simengine.data.fit_distribution import _state_before

    days = pd.to_datetime(["2024-01-30", "2024-02-28", "2024-02-29", "2024-04-30", "2024-05-31"])
    series = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0], index=days)[::-1]  # order does not matter
    months = pd.DatetimeIndex(["2024-02-29", "2024-03-31", "2024-05-31", "2024-06-30"])
    got = _state_before(series, months)
    assert list(got.index) == list(months)
    np.testing.assert_array_equal(got.to_numpy(), [1.0, 3.0, 4.0, 5.0])


def test_state_ratios_are_the_simulations_start_state(shared_data) -> None:
    """Each month's ratio is the first month of the curve started from the data's state on the
    last day of the month before (what a simulation started that day draws)."""
    from simengine.data.fit_distribution import MarketData, start_state, state_ratios

    packaged = yaml.safe_load((ROOT / "simengine/models/default.yaml").read_text())
    vol = packaged["residuals"]["vol_state"]
    market = MarketData.load(shared_data)
    months = pd.DatetimeIndex(["2008-11-30", "2017-06-30", "2020-04-30"])
    got = state_ratios(market, vol, months)
    assert list(got.columns) == ["small_cap", "large_cap", "market"]
    for month in months:
        state = start_state(market, month - pd.offsets.MonthEnd(1))
        for a in ("small_cap", "large_cap"):
            want = variance_ratios(vol["per_asset"][a], state["vix"], state[f"realised_vol_{a}"], 1)
            assert got.loc[month, a] == pytest.approx(want[0], rel=1e-10), (month, a)
        want = np.exp(
            vol["market"]["intercept"][0] + vol["market"]["vix"][0] * np.log(state["vix"])
        )
        want *= vol["market"]["smearing"][0] / vol["market"]["mean_rv"]
        assert got.loc[month, "market"] == pytest.approx(want, rel=1e-10), month


def test_calibration_state_reads_the_model_file(shared_data, tmp_path) -> None:
    """``default`` and None are the packaged file; a file without ``vol_state`` gives no state
    (and mixing sd 0); a given file's curves and mixing sd are used."""
    from simengine.data.fit_distribution import calibration_state

    months = pd.DatetimeIndex(["2008-11-30", "2020-04-30"])
    state, mixing_sd = calibration_state(shared_data, months)
    named, named_sd = calibration_state(shared_data, months, "default")
    pd.testing.assert_frame_equal(named, state)
    assert named_sd == mixing_sd
    packaged = yaml.safe_load((ROOT / "simengine/models/default.yaml").read_text())
    assert mixing_sd == packaged["residuals"]["vol_state"]["mixing_sd"]
    changed = yaml.safe_load((ROOT / "simengine/models/default.yaml").read_text())
    changed["residuals"]["vol_state"]["mixing_sd"] = 0.25
    changed["residuals"]["vol_state"]["market"]["intercept"][0] += float(np.log(2.0))
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(changed))
    other, other_sd = calibration_state(shared_data, months, path)
    assert other_sd == 0.25
    np.testing.assert_allclose(other["market"], 2.0 * state["market"], rtol=1e-12)
    np.testing.assert_allclose(other["small_cap"], state["small_cap"], rtol=1e-12)
    # The file's structure: its asset order is the columns' order.
    changed["assets"] = {a: changed["assets"][a] for a in ("large_cap", "small_cap")}
    path.write_text(yaml.safe_dump(changed, sort_keys=False))
    reordered, _ = calibration_state(shared_data, months, path)
    assert list(reordered.columns) == ["large_cap", "small_cap", "market"]
    pd.testing.assert_frame_equal(reordered[list(other.columns)], other)
    del changed["residuals"]["vol_state"]
    path.write_text(yaml.safe_dump(changed))
    assert calibration_state(shared_data, months, str(path)) == (None, 0.0)
    del changed["residuals"]
    path.write_text(yaml.safe_dump(changed))
    assert calibration_state(shared_data, months, path) == (None, 0.0)


def test_factor_dof_is_floored(monkeypatch) -> None:
    """A factor dof fitted below the floor is raised to it; the residuals' is left alone."""
    import simengine.data.fit_distribution as fd
    from simengine.data.fit import FACTOR_DOF_FLOOR

    rng = np.random.default_rng(4)
    months = pd.date_range("1990-01-31", periods=600, freq="ME")
    flat = pd.DataFrame(1.0, index=months, columns=["small_cap", "large_cap", "market"])
    monkeypatch.setattr(fd, "state_ratios", lambda market, vol, idx, structure=None: flat.loc[idx])
    resid = pd.DataFrame(_mixed(rng, 600, 4.0, 0.0, k=2), index=months,
                         columns=["small_cap", "large_cap"])  # fmt: skip
    innov = pd.DataFrame(_mixed(rng, 600, 3.0, 0.0, k=2), index=months)
    got = fd.tails_given_state({"resid": resid}, {"innovations": innov}, None, {"mixing_sd": 0.0})
    assert got["factors"]["mle"] < FACTOR_DOF_FLOOR - 1
    assert got["factors"]["dof"] == FACTOR_DOF_FLOOR
    assert got["residuals"]["dof"] == got["residuals"]["mle"] < 7


def test_the_fitted_default_counts_the_clustering_once(default_fit) -> None:
    """On the real data, given the state: factor innovations lighter than the raw fit, residuals
    Gaussian; the packaged default model carries exactly these values."""
    from simengine.data.fit_distribution import tails_given_state

    var, fit = default_fit["var"], default_fit["fit"]
    tails = tails_given_state(fit, var, default_fit["market"], default_fit["vol"], None)
    assert var["dof_mle"] < 4 and fit["dof"] < 6  # the raw fits
    assert tails["residuals"]["dof"] is None
    assert 6 < tails["factors"]["dof"] < 10
    packaged = yaml.safe_load((ROOT / "simengine/models/default.yaml").read_text())
    assert packaged["dynamics"]["innovation_dof"] == pytest.approx(
        tails["factors"]["dof"], abs=5e-3
    )
    assert packaged["residuals"]["dof"] is None
