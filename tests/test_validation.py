"""Statistical validation: Monte Carlo against closed forms, convergence rate, a published number.

Gaussian linear case: with ``innovation_dof: null``, ``residuals.dof: null``, no squeeze jumps,
every FOMC decision fixed and a reaction function with zero slopes (so the market's expectation
does not depend on the state), the cumulative LOG return to the horizon is exactly normal,
``C ~ N(m, v)``. The test derives ``m`` and ``v`` by propagating the linear state space itself
(:func:`closed_form`: independent code, reading the model file's YAML, not the engine's
functions), then compares the engine's simple-return statistics through the lognormal formulas
``E[R] = exp(m + v/2) - 1``, ``sd[R] = sqrt(exp(v) - 1) exp(m + v/2)`` and quantiles
``exp(m + sqrt(v) z_p) - 1``.

Tolerances are 4.5 Monte Carlo standard errors, each ``~ 1/sqrt(n)``: mean ``sd_R / sqrt(n)``;
standard deviation ``sd_R sqrt((kurt_R - 1) / (4 n))``; quantile ``sqrt(p (1 - p) / n) /
f_R(q_p)`` plus the histogram's bin width (0.08% of the value, :mod:`simengine.stats`). With
~80 comparisons at 4.5 sigma a correct engine fails with probability below 1e-3 (and the seed
is fixed, so the outcome is reproducible).
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from scipy import stats

from simengine import api
from simengine.calendar import FOMC_DECISION_DATES
from simengine.params import default_model_path
from simengine.spec import ScenarioSpec

FACTORS = ("rates", "growth", "inflation", "credit")
ASSETS = ("small_cap", "large_cap")
N = 1 << 16
Z_TOL = 4.5
RATES_NEWS_BETA = -0.05
DEFAULT = yaml.safe_load(default_model_path().read_text())


POLICY = DEFAULT["policy"]


@pytest.fixture(scope="module")
def gaussian_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    model = copy.deepcopy(DEFAULT)
    model["dynamics"]["innovation_dof"] = None
    model["residuals"]["dof"] = None
    model["squeeze"]["base_intensity"] = 0.0
    # a larger loading on rates news than fitted (-0.017, -0.007), so that the 2-year policy
    # component (news in rates) moves the fomc_surprise case's mean by many Monte Carlo
    # standard errors: an engine that leaves it out of the news fails (checked below); the
    # announcement response psi = total - beta.rates keeps the event-study total
    for a in ASSETS:
        model["assets"][a]["beta"]["rates"] = RATES_NEWS_BETA
    # the policy part with zero reaction slopes (surprises linear in the decisions)
    model["policy"]["reaction"]["slopes"] = {k: 0.0 for k in POLICY["reaction"]["slopes"]}
    path = tmp_path_factory.mktemp("model") / "gaussian.yaml"
    path.write_text(yaml.safe_dump(model))
    return path, model


BASE: dict[str, Any] = {
    "name": "gauss",
    "start": "2025-07-31",  # a month end: five whole monthly steps
    "horizon": "2025-12-31",
    "assets": list(ASSETS),
    "initial": {
        "policy_rate": 4.375,
        "tariff": 15.3,
        "factors": {"rates": 0.05, "growth": -0.2, "inflation": 0.5, "credit": 0.1},
    },
    "fomc": [
        {"meeting": "2025-09-17", "change_bp": 0},
        {"meeting": "2025-10-29", "change_bp": 0},
        {"meeting": "2025-12-10", "change_bp": 0},
    ],
}
# Each overlay type; step t covers (end_{t-1}, end_t] with ends 08-31, 09-30, 10-31, 11-30, 12-31.
CASES: dict[str, dict[str, Any]] = {
    "gaussian": {},
    "pin": {"pins": [{"factor": "rates", "values": {"2025-09-30": 0.5}}]},
    "tariff_step": {"tariffs": [{"date": "2025-09-01", "level": 25.0}]},
    "drift": {"drifts": [{"factor": "growth", "shift": 0.5}]},
    "shock": {"shocks": [{"factor": "credit", "date": "2025-10-15", "size": 1.0}]},
    "fomc_surprise": {
        "fomc": [
            {"meeting": "2025-09-17", "change_bp": -50},
            {"meeting": "2025-10-29", "change_bp": -25},
            {"meeting": "2025-12-10", "change_bp": -25},
        ],
        "market_pricing": [{"fomc": "2025-09-17", "expected_bp": -10}],
    },
}


def _vec(d: dict[str, float] | None, names: tuple[str, ...] = FACTORS) -> np.ndarray:
    return np.array([float((d or {}).get(n, 0.0)) for n in names])


def _corr(d: dict[str, dict[str, float]], names: tuple[str, ...]) -> np.ndarray:
    r = np.eye(len(names))
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i != j:
                r[i, j] = d.get(a, {}).get(b, d.get(b, {}).get(a, 0.0))
    return r


def _inputs(case: dict[str, Any], T: int = 5) -> dict[str, np.ndarray]:
    """Deterministic paths of the case on the five steps (written out by hand per overlay)."""
    dtau, shift, shock = np.zeros(T), np.zeros((T, 4)), np.zeros((T, 4))
    pins: dict[tuple[int, int], float] = {}
    if "tariffs" in case:
        dtau[1] = 25.0 - 15.3
    if "drifts" in case:
        shift[:, 1] = 0.5
    if "shocks" in case:
        shock[2, 3] = 1.0
    if "pins" in case:
        pins[(1, 0)] = 0.5
    return {
        "dtau": dtau,
        "shift": shift,
        "shock": shock,
        "pins": pins,
    }  # type: ignore[dict-item]


MEETING_STEP = {"2025-09-17": 1, "2025-10-29": 2, "2025-12-10": 4}


def _policy_chain(case: dict[str, Any], T: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Policy component of the 2-year change per step and the decision per step (pp).

    Written out from the model's definition: meeting by meeting, surprise ``s = d - e``,
    the next meeting's expectation moves by ``lambda s``, the 2-year by
    ``s (1 + lambda w)`` with ``w`` the share of the 24-month window after the next meeting.
    """
    lam = POLICY["path_pass_through"]
    fomc = case.get("fomc", BASE["fomc"])
    priced = {p["fomc"]: p["expected_bp"] / 100 for p in case.get("market_pricing", [])}
    dy2, change = np.zeros(T), np.zeros(T)
    shift = 0.0
    for item in fomc:
        day = date.fromisoformat(item["meeting"])
        d = item["change_bp"] / 100
        s = d - (priced.get(item["meeting"], 0.0) + shift)
        nxt = min(m for m in FOMC_DECISION_DATES if m > day)
        w = (24.0 - (nxt - day).days / (365.25 / 12)) / 24.0
        t = MEETING_STEP[item["meeting"]]
        dy2[t] += s * (1 + lam * w)
        change[t] += d
        shift = lam * s
    return dy2, change


def closed_form(
    model: dict[str, Any], case: dict[str, Any], policy_news: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean and variance of the cumulative log return of each asset (linear Gaussian).

    Every random quantity is a linear map of the unit innovations ``eps`` (factor shocks and
    asset residuals of all steps); the code carries the mean and the coefficient row of each
    state, applies pins by fixing the mean and zeroing the coefficients, and sums returns.
    The model of the default file: credit error-corrects on its level ``S``, returns load on
    factor *news* (each month's value less what the month before predicts), tariff surprises
    move prices with a share reversing (:func:`_reversal`); no VIX in the scenario, so the
    volatility state is at its long-run level (ratio 1, no mixing). ``policy_news=False``
    leaves the 2-year policy component out of rates news (a wrong model, for sensitivity).
    """
    dyn, T, K, Na, dt = model["dynamics"], 5, 4, len(ASSETS), 1.0 / 12.0
    A = np.array([_vec(dyn["ar"].get(f)) for f in FACTORS])
    L = np.diag(_vec(dyn["innovation_sd"])) @ np.linalg.cholesky(
        _corr(dyn["innovation_corr"], FACTORS)
    )
    c, g, m, rho = (
        _vec(dyn.get(k)) for k in ("const", "policy_gap", "tariff_pass_through", "error_correction")
    )
    assets = [model["assets"][a] for a in ASSETS]
    beta = np.array([_vec(a["beta"]) for a in assets])  # loadings on the factors' news
    b_tariff = np.array([a["beta"]["tariff"] for a in assets])
    La = np.linalg.cholesky(_corr(model["residuals"]["corr"], ASSETS))
    n_rate = model["neutral_rate"]
    x = _inputs(case)
    undone = _reversal(model["tariff_news"], x["dtau"], dt)
    g_growth, g[1] = g[1], 0.0  # growth: policy gap at the start level + the growth channel
    dy2, change = _policy_chain(case)
    lam, gamma = POLICY["path_pass_through"], POLICY["growth_channel"]["gamma"]
    psi = (
        np.array([model["assets"][a]["announcement_total"] / (1 + lam * 22.5 / 24) for a in ASSETS])
        - beta[:, 0]
    )
    p0 = BASE["initial"]["policy_rate"]
    levels = p0 + np.cumsum(change)
    zm = _vec(BASE["initial"]["factors"])
    level_m = _vec(dyn.get("level_at_fit"))
    n_eps = T * (K + Na)
    Z, level_c = np.zeros((K, n_eps)), np.zeros((K, n_eps))
    Cm, Cc = np.zeros(Na), np.zeros((Na, n_eps))
    p_prev = BASE["initial"]["policy_rate"]
    for t in range(T):
        gap = p_prev - n_rate
        lagged = [levels[t - lag] if t - lag >= 0 else p0 for lag in range(1, 13)]
        start_gap = np.array([0.0, g_growth * (p0 - n_rate), 0.0, 0.0])
        # known a month ahead (the tariff steps here are surprises); the VAR's state excludes
        # the 2-year policy component, which is added to rates outside the lag terms. A
        # drift's term (I - A) shift: the offsets -(A - diag A) shift that hold the other
        # factors in place are known, the drifting factor's own (1 - A_ii) shift_i is news
        held = -(A - np.diag(np.diag(A))) @ x["shift"][t]
        known_m = c + A @ zm + g * gap + start_gap + rho * level_m + held
        known_c = A @ Z + rho[:, None] * level_c
        news_drive = (
            np.array([0.0, gamma * (np.mean(lagged) - p0), 0.0, 0.0])  # growth channel
            + m * x["dtau"][t]
            + (1.0 - np.diag(A)) * x["shift"][t]
            + x["shock"][t]
        )
        zm, Z = known_m + news_drive, known_c.copy()
        Z[:, t * K : (t + 1) * K] += L
        for (tt, k), v in x["pins"].items():
            if tt == t:
                zm[k], Z[k] = v, 0.0
        news_m, news_c = zm - known_m, Z - known_c
        news_m[0] += dy2[t] * policy_news  # the policy component of the 2-year change is news
        level_m, level_c = level_m + zm, level_c + Z
        for i, a in enumerate(assets):
            Cm[i] += (
                (a["mu"] - a["kappa"] * gap) * dt
                + beta[i] @ news_m
                + b_tariff[i] * (x["dtau"][t] - undone[t])
                + psi[i] * dy2[t]
            )
            Cc[i] += beta[i] @ news_c
            Cc[i, T * K + t * Na : T * K + (t + 1) * Na] += a["sigma"] * np.sqrt(dt) * La[i]
        p_prev += change[t]
    return Cm, (Cc**2).sum(axis=1)


def _reversal(news: dict[str, float], surprise: np.ndarray, dt: float) -> np.ndarray:
    """Part of each step's tariff surprises undone in each step: a surprise at the start of step
    ``s`` has ``share (1 - exp(-rate tau))`` undone ``tau`` years later."""
    rate = np.log(2.0) / news["reversal_half_life_days"] * 252.0
    out = np.zeros_like(surprise)
    for t in range(surprise.size):
        for s_ in range(t + 1):
            lag_start, lag_end = (t - s_) * dt, (t - s_ + 1) * dt
            share = np.exp(-rate * lag_start) - np.exp(-rate * lag_end)
            out[t] += news["reversal_share"] * share * surprise[s_]
    return out


def _spec(case: dict[str, Any], model: Path) -> ScenarioSpec:
    return ScenarioSpec.from_data({**BASE, **case, "model": str(model), "name": "gauss"})


def _lognormal(m: float, v: float) -> dict[str, float]:
    mean = np.exp(m + v / 2) - 1
    sd = np.sqrt(np.expm1(v)) * np.exp(m + v / 2)
    kurt = np.exp(4 * v) + 2 * np.exp(3 * v) + 3 * np.exp(2 * v) - 3  # excess kurtosis + 3
    return {"mean": mean, "std": sd, "kurt": kurt}


@pytest.mark.parametrize("name", CASES)
def test_monte_carlo_matches_closed_form(name: str, gaussian_model: tuple[Path, dict]) -> None:
    path, model = gaussian_model
    m, v = closed_form(model, CASES[name])
    summary = (
        api.simulate(_spec(CASES[name], path), n_paths=N, seed=7).summary(wide=True).loc["gauss"]
    )
    for i, asset in enumerate(ASSETS):
        row, ln = summary.loc[asset], _lognormal(m[i], v[i])
        assert abs(row["mean"] - ln["mean"]) < Z_TOL * ln["std"] / np.sqrt(N), (name, asset)
        sd_se = ln["std"] * np.sqrt((ln["kurt"] - 1) / (4 * N))
        assert abs(row["std"] - ln["std"]) < Z_TOL * sd_se, (name, asset)
        for p, col in ((0.05, "q05"), (0.25, "q25"), (0.5, "median"), (0.75, "q75"), (0.95, "q95")):
            zp = stats.norm.ppf(p)
            q = np.exp(m[i] + np.sqrt(v[i]) * zp) - 1
            density = stats.norm.pdf(zp) / (np.sqrt(v[i]) * (1 + q))
            tol = Z_TOL * np.sqrt(p * (1 - p) / N) / density + 1e-3 * abs(q) + 1e-5
            assert abs(row[col] - q) < tol, (name, asset, col, row[col], q)


def test_overlays_move_the_closed_form_as_expected(gaussian_model: tuple[Path, dict]) -> None:
    _, model = gaussian_model
    base_m, base_v = closed_form(model, {})
    pinned = closed_form(model, CASES["pin"])
    assert not np.allclose(pinned[1], base_v)  # a pin changes the variance (either way:
    # it removes the rates shock but also its covariance with credit)
    assert (closed_form(model, CASES["tariff_step"])[0] < base_m).all()  # tariffs hurt
    assert (closed_form(model, CASES["fomc_surprise"])[0] > base_m).all()  # surprise cut helps
    # the 2-year policy component in rates news moves the fomc_surprise mean by more than 10
    # Monte Carlo tolerances, so an engine that leaves it out fails the closed-form test
    m, v = closed_form(model, CASES["fomc_surprise"])
    without = closed_form(model, CASES["fomc_surprise"], policy_news=False)[0]
    tolerance = Z_TOL * np.sqrt(v) / np.sqrt(N)  # log scale, about the simple-return one
    assert (np.abs(m - without) > 10 * tolerance).all(), (m - without) / tolerance
    np.testing.assert_allclose(closed_form(model, CASES["shock"])[1], base_v)  # mean only


def test_error_shrinks_at_the_one_over_root_n_rate(gaussian_model: tuple[Path, dict]) -> None:
    # RMSE of the mean over 32 seeds at n and 16 n: expected ratio 4. (ratio / 4)^2 follows an
    # F(32, 32) distribution, so the ratio lies in [2, 8] except with prob. about 2e-4 (with 8
    # seeds it would be about 7%).
    path, model = gaussian_model
    m, v = closed_form(model, {})
    truth = _lognormal(m[0], v[0])["mean"]
    spec = _spec({}, path)

    def rmse(n: int) -> float:
        errs = [
            api.simulate(spec, n_paths=n, seed=100 + k)
            .summary(wide=True)
            .loc[("gauss", "small_cap"), "mean"]
            - truth
            for k in range(32)
        ]
        return float(np.sqrt(np.mean(np.square(errs))))

    ratio = rmse(4096) / rmse(16 * 4096)
    assert 2.0 < ratio < 8.0, ratio


def test_policy_surprise_response_matches_event_studies() -> None:
    # Bernanke & Kuttner (2005, J. Finance 60): an unexpected 25bp cut lifts broad US stocks
    # about 1%. Their estimate has a standard error of roughly a third of the point value and
    # small / growth stocks respond more (Ehrmann & Fratzscher 2004), so we accept 0.5%-2% per
    # 25bp for each of small and large caps and for their average (a broad-market proxy).
    # The engine's total on the day: the rates loading on the 2-year policy component plus
    # the announcement response psi, times the repricing of the path (policy_params).
    from simengine.policy_model import policy_params

    params = api.load_model()
    pol = policy_params(params)
    wbar = (pol.window_months - 1.5) / pol.window_months
    b_rates = params["returns"].beta[0, :, params.structure.exposures.index("rates")]
    total = (b_rates + pol.announcement) * (1.0 + pol.path_pass_through * wbar)
    per_25bp = {a: -0.25 * float(total[i]) for i, a in enumerate(params.assets)}
    per_25bp["average"] = (per_25bp["small_cap"] + per_25bp["large_cap"]) / 2
    for name, effect in per_25bp.items():
        assert 0.005 <= effect <= 0.02, (name, effect)  # a cut (negative surprise) lifts prices
    assert per_25bp["small_cap"] > per_25bp["large_cap"]  # small firms respond more


# --- 1/sqrt(n) convergence of the standard deviation and of quantiles ------------------------

RATE_SEEDS = 32  # independent runs per sample size
RATE_N = 4096  # and 16 * RATE_N: the Monte Carlo error should shrink by sqrt(16) = 4
RATE_STATS = ("std", "q05", "median")


def _closed_form_stats(m: float, v: float, n: int) -> dict[str, tuple[float, float]]:
    """Closed-form value and asymptotic Monte Carlo standard error (n i.i.d. paths) per statistic.

    Lognormal ``R = exp(C) - 1``, ``C ~ N(m, v)``: sd of the sample sd ``sd_R sqrt((kurt_R - 1) /
    (4 n))``; sd of the sample p-quantile ``sqrt(p (1 - p) / n) / f_R(q_p)`` (Bahadur).
    """
    ln = _lognormal(m, v)
    out = {"std": (ln["std"], ln["std"] * np.sqrt((ln["kurt"] - 1) / (4 * n)))}
    for col, p in (("q05", 0.05), ("median", 0.5)):
        zp = stats.norm.ppf(p)
        q = np.exp(m + np.sqrt(v) * zp) - 1
        density = stats.norm.pdf(zp) / (np.sqrt(v) * (1 + q))
        out[col] = (q, np.sqrt(p * (1 - p) / n) / density)
    return out


def test_std_and_quantile_errors_shrink_at_the_one_over_root_n_rate(
    gaussian_model: tuple[Path, dict],
) -> None:
    """Monte Carlo error of the sd, 5% quantile and median at n = 4096 and 16 n, 32 seeds each.

    Two checks per asset and statistic (6 pairs), on i.i.d. paths (``antithetic=False``):

    * rate, free of any constant: RMSE(n) / RMSE(16 n) in [2, 8] (expected 4). With normal
      errors the squared ratio over 16 is F(32, 32): outside [1/4, 4] with probability 1.8e-4.
    * level: the sum over seeds of (error / analytic standard error)^2 below the chi-square(32)
      quantile 1 - 1e-4, at n and at 16 n. This is what pins the rate to the closed forms: at
      16 n the error must be about a quarter of the n-path standard error, so a bias that does
      not shrink with n (a quantile interpolation error, a wrong variance) fails here.

    Histogram quantiles carry an interpolation error of at most a bin (about 0.08% of the
    value, ~2e-4 at the 5% quantile), below 0.2 of the 16 n standard error (~9e-4): neglected.
    Bonferroni over the 6 rate and 12 level checks: a correct engine fails with probability
    below 0.25%; the seeds are fixed, so the outcome is deterministic.
    """
    path, model = gaussian_model
    m, v = closed_form(model, {})
    spec = _spec({}, path)

    def errors(n: int) -> tuple[np.ndarray, np.ndarray]:
        """Errors, shape (seeds, assets, stats), and their analytic standard errors."""
        raw = np.zeros((RATE_SEEDS, len(ASSETS), len(RATE_STATS)))
        scale = np.zeros((len(ASSETS), len(RATE_STATS)))
        for k in range(RATE_SEEDS):
            summary = api.simulate(spec, n_paths=n, seed=500 + k, antithetic=False).summary(
                wide=True
            )
            for i, asset in enumerate(ASSETS):
                truth = _closed_form_stats(m[i], v[i], n)
                for j, col in enumerate(RATE_STATS):
                    raw[k, i, j] = summary.loc[("gauss", asset), col] - truth[col][0]
                    scale[i, j] = truth[col][1]
        return raw, scale

    raw_n, se_n = errors(RATE_N)
    raw_16n, se_16n = errors(16 * RATE_N)
    rmse_n = np.sqrt(np.mean(raw_n**2, axis=0))
    rmse_16n = np.sqrt(np.mean(raw_16n**2, axis=0))
    ratio = rmse_n / rmse_16n
    assert np.all((ratio > 2.0) & (ratio < 8.0)), dict(zip(RATE_STATS, ratio.T, strict=True))
    limit = stats.chi2.ppf(1 - 1e-4, RATE_SEEDS)
    for raw, se, n in ((raw_n, se_n, RATE_N), (raw_16n, se_16n, 16 * RATE_N)):
        chi2 = np.sum((raw / se) ** 2, axis=0)
        assert np.all(chi2 < limit), (n, limit, dict(zip(RATE_STATS, chi2.T, strict=True)))
        print(f"n = {n}: sum of squared standardised errors {np.round(chi2, 1).tolist()}")
    print(f"RMSE ratio n / 16 n: {np.round(ratio, 2).tolist()}")
