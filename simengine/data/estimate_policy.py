"""Estimates of the policy part: reaction function, path pass-through, growth channel (importable).

Used by ``scripts/fit_default_model.py`` (:func:`policy_section`: the model file's ``policy``
section and its provenance). Every function takes
the data it fits on (a calibration table from :func:`simengine.data.build_table` or a data folder
laid out like ``../shared/data``) and returns plain numbers with their standard errors.

What is estimated:

* **reaction function** (:func:`reaction_function`): an ordered probit of the monthly change of
  the fed funds target (in 25bp steps, -50..+50) on the state the FOMC sees before it decides:
  the 3-month average of the growth factor, of the inflation factor, last month's credit-spread
  change and last month's policy change (inertia). 1997-01..2025-06, ZLB and Covid months out.
* **path pass-through** (:func:`path_pass_through`): how much a policy surprise at one FOMC
  meeting moves the market's expectation of the next decision, in the manner of the path factor
  of Gurkaynak, Sack and Swanson (2005). Decision days 2015-12..2025-06 (target range changes
  from ``DFEDTARU``/``DFEDTARL`` and every scheduled meeting 2021-2025). The expectation before
  a meeting is the fitted value of the decision on the 2-year-minus-funds spread the day before
  and the previous decision; the surprise is the decision minus it; under rational
  expectations the coefficient of the next decision on the surprise (same controls) is the
  revision of the expected next decision per unit of surprise.
* **growth channel** (:func:`growth_channel`): the response of monthly industrial production
  growth to the policy stance (fed funds minus the 10-year yield, averaged over the past 12
  months), with HAC standard errors. The stance against the long rate removes most of the
  reverse causality that gives the policy *level* the wrong sign in the factor VAR.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from simengine.data.fit import ols
from simengine.data.loaders import read_fred_csv

__all__ = [
    "DECISION_STEPS_PP",
    "REACTION_REGRESSORS",
    "STANCE_LAGS",
    "estimate_policy",
    "growth_channel",
    "meeting_decisions",
    "ordered_probit",
    "path_pass_through",
    "policy_section",
    "reaction_data",
    "reaction_function",
]

DECISION_STEPS_PP = (-0.5, -0.25, 0.0, 0.25, 0.5)  # outcome categories of the ordered probit
REACTION_REGRESSORS = ("growth3", "inflation3", "credit1", "policy_change1")
REACTION_SAMPLE = ("1997-01", "2025-06")
ZLB_LEVEL = 0.4  # months starting with the policy rate below this are at the lower bound
COVID = ("2020-03", "2020-06")
MEETING_SAMPLE_START = "2015-12"
# Unscheduled 2020 actions: emergency cuts outside the scheduled calendar
UNSCHEDULED = ("2020-03-03", "2020-03-15")
STANCE_LAGS = (1, 12)  # stance averaged over months t-12..t-1
GROWTH_SAMPLE = ("1990-01", "2025-06")
GROWTH_EXCLUDED = ("2020-03", "2020-12")
HAC_LAGS = 12


def ordered_probit(y: np.ndarray, x: np.ndarray, n_cat: int) -> dict[str, np.ndarray]:
    """Maximum-likelihood ordered probit.

    Parameters
    ----------
    y : ndarray of int (n,)
        Categories ``0 .. n_cat - 1``.
    x : ndarray (n, p)
        Regressors (no constant: the cutpoints carry the level).
    n_cat : int
        Number of categories.

    Returns
    -------
    dict
        ``beta`` (p,), ``cuts`` (n_cat - 1,), ``beta_se``, ``loglik``.

    Notes
    -----
    ``P(y = k | x) = Phi(c_k - x'beta) - Phi(c_{k-1} - x'beta)`` with ``c_{-1} = -inf``,
    ``c_{n_cat-1} = +inf``. The cutpoints are parametrised as ``c_0`` and log increments so the
    optimiser stays in the ordered region; standard errors from the BFGS inverse Hessian.
    """
    p = x.shape[1]

    def unpack(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cuts = theta[p] + np.concatenate([[0.0], np.cumsum(np.exp(theta[p + 1 :]))])
        return theta[:p], cuts

    def negloglik(theta: np.ndarray) -> float:
        beta, cuts = unpack(theta)
        edges = np.concatenate([[-np.inf], cuts, [np.inf]])
        eta = x @ beta
        prob = stats.norm.cdf(edges[y + 1] - eta) - stats.norm.cdf(edges[y] - eta)
        return -float(np.sum(np.log(np.clip(prob, 1e-300, None))))

    start = np.concatenate([np.zeros(p), [-1.0], np.zeros(n_cat - 2)])
    fit = optimize.minimize(negloglik, start, method="BFGS", options={"gtol": 1e-7})
    beta, cuts = unpack(fit.x)
    return {
        "beta": beta,
        "cuts": cuts,
        "beta_se": np.sqrt(np.diag(fit.hess_inv)[:p]),
        "loglik": -float(fit.fun),
    }


def reaction_data(table: pd.DataFrame, sample: tuple[str, str] = REACTION_SAMPLE) -> pd.DataFrame:
    """Monthly decisions (category index) and the state before them; ZLB and Covid months out."""
    p = table["policy_rate"]
    change = p.diff()
    steps = np.array(DECISION_STEPS_PP)
    k = np.clip(np.round(change / 0.25), -2, 2) + 2
    data = pd.DataFrame(
        {
            "k": k,
            "change": change,
            "growth3": table["growth"].rolling(3).mean().shift(1),
            "inflation3": table["inflation"].rolling(3).mean().shift(1),
            "credit1": table["credit"].shift(1),
            "policy_change1": change.shift(1).clip(steps[0], steps[-1]),
            "rate_before": p.shift(1),
        }
    ).loc[sample[0] : sample[1]]
    data = data[data["rate_before"] > ZLB_LEVEL]
    data = data.drop(index=data.loc[COVID[0] : COVID[1]].index)
    return data.dropna()


def reaction_function(table: pd.DataFrame) -> dict[str, Any]:
    """Ordered probit of monthly policy decisions on the pre-decision state.

    Returns
    -------
    dict
        ``coefficients`` / ``standard_errors`` (per regressor, latent units per unit of the
        regressor), ``cutpoints`` (between the categories of :data:`DECISION_STEPS_PP`),
        ``n_obs``, ``counts`` per category, ``loglik``, ``sample``.

    Notes
    -----
    Latent ``y* = 1.16 growth3 + ...`` (see the returned numbers) plus N(0, 1); the decision is
    the category whose cutpoint interval contains ``y*``. In simulation the cutpoints are
    replaced by meeting-specific intercepts matched to market pricing (the pricing already
    carries the inertia term), and the state slopes move the probabilities path by path.
    """
    data = reaction_data(table)
    x = data[list(REACTION_REGRESSORS)].to_numpy()
    fit = ordered_probit(data["k"].to_numpy(int), x, len(DECISION_STEPS_PP))
    counts = data["k"].value_counts().sort_index()
    return {
        "coefficients": dict(zip(REACTION_REGRESSORS, map(float, fit["beta"]), strict=True)),
        "standard_errors": dict(zip(REACTION_REGRESSORS, map(float, fit["beta_se"]), strict=True)),
        "cutpoints": [float(c) for c in fit["cuts"]],
        "n_obs": len(data),
        "counts": {f"{DECISION_STEPS_PP[int(k)] * 100:+.0f}bp": int(n) for k, n in counts.items()},
        "loglik": fit["loglik"],
        "sample": [str(data.index[0].date())[:7], str(data.index[-1].date())[:7]],
    }


def _target_mid(data_dir: Path) -> pd.Series:
    upper = read_fred_csv(data_dir / "fed_policy/DFEDTARU.csv").dropna()
    lower = read_fred_csv(data_dir / "fed_policy/DFEDTARL.csv").dropna()
    return ((upper + lower) / 2.0).dropna()


def meeting_decisions(data_dir: Path) -> pd.DataFrame:
    """One row per FOMC decision day from 2015-12: decision (pp), 2-year change, spread before.

    Decision days are the scheduled meetings in ``fomc_meeting_dates_2021_2025.csv`` and, before
    2021, the announcement days of target range changes (the day before the change shows in
    ``DFEDTARU``); the unscheduled March 2020 cuts are left out. ``spread`` is the 2-year yield
    minus the target midpoint on the day before the decision (the market's information).
    """
    mid = _target_mid(data_dir)
    y2 = read_fred_csv(data_dir / "fred/DGS2.csv").dropna()
    change = mid.diff()
    moved = change.index[change.abs() > 1e-9]
    announced = {mid.index[mid.index.get_loc(day) - 1] for day in moved}
    meetings = pd.read_csv(data_dir / "fed_policy/fomc_meeting_dates_2021_2025.csv")
    scheduled = set(pd.to_datetime(meetings["decision_date"]))
    early = {d for d in announced if d < pd.Timestamp("2021-01-01")}
    days = sorted(early | scheduled)
    rows = []
    for day in days:
        if str(day.date()) in UNSCHEDULED or day < pd.Timestamp(MEETING_SAMPLE_START):
            continue
        i = y2.index.searchsorted(day)
        if i >= len(y2) or y2.index[i] != day or day > mid.index[-2]:
            continue
        before = float(mid.loc[:day].iloc[-1])
        after = float(mid.loc[day + pd.Timedelta(days=1) :].iloc[0])
        rows.append(
            {
                "day": day,
                "decision": after - before,
                "dy2": float(y2.iloc[i] - y2.iloc[i - 1]),
                "spread": float(y2.iloc[i - 1] - before),
            }
        )
    out = pd.DataFrame(rows).set_index("day")
    out["decision_prev"] = out["decision"].shift(1)
    return out.dropna()


def path_pass_through(meetings: pd.DataFrame) -> dict[str, Any]:
    """Revision of the expected next decision per unit of policy surprise.

    Notes
    -----
    Expectation before meeting ``j``: ``E_j = a + b spread_j + c d_{j-1}`` (OLS); surprise
    ``s_j = d_j - E_j``. Path pass-through ``lambda``: the coefficient of ``s_j`` in
    ``d_{j+1} = a' + b' spread_j + c' d_{j-1} + lambda s_j + e``: what a surprise at ``j`` says
    about the next decision beyond what was known before ``j``. Cross-check: the decision-day
    change of the 2-year yield on ``s_j`` (``kappa``), reported, not used (see the notes in
    the returned dict).
    """
    x = np.column_stack([np.ones(len(meetings)), meetings[["spread", "decision_prev"]]])
    coef, _, surprise = ols(meetings["decision"].to_numpy(), x)
    nxt = meetings["decision"].shift(-1).to_numpy()
    keep = ~np.isnan(nxt)
    lam, lam_se, _ = ols(nxt[keep], np.column_stack([x[keep], surprise[keep]]))
    kappa, kappa_se, _ = ols(
        meetings["dy2"].to_numpy(), np.column_stack([np.ones(len(surprise)), surprise])
    )
    return {
        "value": float(lam[-1]),
        "standard_error": float(lam_se[-1]),
        "n_meetings": int(keep.sum()),
        "sample": [str(meetings.index[0].date()), str(meetings.index[-1].date())],
        "expectation_coefficients": {
            "const": float(coef[0]),
            "spread": float(coef[1]),
            "previous_decision": float(coef[2]),
        },
        "surprise_sd_pp": float(surprise.std(ddof=3)),
        "decision_day_2y_response": {
            "value": float(kappa[1]),
            "standard_error": float(kappa_se[1]),
        },
    }


def _monthly(data_dir: Path, name: str) -> pd.Series:
    s = read_fred_csv(data_dir / f"fred/{name}.csv")
    s.index = s.index + pd.offsets.MonthEnd(0)
    return s


def _hac_ols(y: np.ndarray, x: np.ndarray, lags: int = HAC_LAGS) -> tuple[np.ndarray, np.ndarray]:
    """OLS with Newey-West (Bartlett) standard errors."""
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    e = y - x @ coef
    xe = x * e[:, None]
    s = xe.T @ xe
    for lag in range(1, lags + 1):
        w = 1.0 - lag / (lags + 1.0)
        g = xe[lag:].T @ xe[:-lag]
        s += w * (g + g.T)
    bread = np.linalg.inv(x.T @ x)
    return coef, np.sqrt(np.diag(bread @ s @ bread))


def growth_channel(table: pd.DataFrame, data_dir: Path) -> dict[str, Any]:
    """Response of monthly growth to the lagged policy stance, per candidate growth measure.

    Returns
    -------
    dict
        Per measure (``industrial_production`` = the model's growth factor, ``payrolls``,
        ``unemployment``): coefficient ``gamma`` (pp of the measure per pp of stance), its HAC
        s.e. and ``n_obs``; and ``chosen``: the first measure (in that order) with a negative,
        significant gamma.

    Notes
    -----
    ``g_t = a + gamma mean_{l=1..12}(p_{t-l} - y10_{t-l}) + rho_1 g_{t-1} + rho_2 g_{t-2} + e_t``
    with ``p`` the fed funds policy rate and ``y10`` the 10-year yield (month end). ``gamma`` is
    the impact of a sustained 1pp tighter stance on monthly growth; the long-run effect is
    ``gamma / (1 - rho_1 - rho_2)``.
    """
    y10 = read_fred_csv(data_dir / "fred/DGS10.csv").dropna().resample("ME").last()
    stance = table["policy_rate"] - y10.reindex(table.index)
    lo, hi = STANCE_LAGS
    lagged = stance.shift(lo).rolling(hi - lo + 1).mean()
    measures = {
        "industrial_production": table["growth"],
        "payrolls": 100.0 * np.log(_monthly(data_dir, "PAYEMS")).diff().reindex(table.index),
        "unemployment": -_monthly(data_dir, "UNRATE").diff().reindex(table.index),
    }
    out: dict[str, Any] = {}
    for name, g in measures.items():
        data = pd.concat(
            {"g": g, "stance": lagged, "g1": g.shift(1), "g2": g.shift(2)}, axis=1
        ).loc[GROWTH_SAMPLE[0] : GROWTH_SAMPLE[1]]
        data = data.drop(index=data.loc[GROWTH_EXCLUDED[0] : GROWTH_EXCLUDED[1]].index).dropna()
        x = np.column_stack([np.ones(len(data)), data[["stance", "g1", "g2"]]])
        coef, se = _hac_ols(data["g"].to_numpy(), x)
        out[name] = {
            "gamma": float(coef[1]),
            "standard_error": float(se[1]),
            "persistence": float(coef[2] + coef[3]),
            "n_obs": len(data),
        }
    out["chosen"] = next(
        (
            n
            for n in measures
            if out[n]["gamma"] < 0 and out[n]["gamma"] < -2 * out[n]["standard_error"]
        ),
        None,
    )
    return out


def estimate_policy(table: pd.DataFrame, data_dir: Path) -> dict[str, Any]:
    """All estimates of the policy part."""
    return {
        "reaction_function": reaction_function(table),
        "path_pass_through": path_pass_through(meeting_decisions(data_dir)),
        "growth_channel": growth_channel(table, data_dir),
    }


POLICY_FILES = (
    "fed_policy/DFEDTARU.csv",
    "fed_policy/DFEDTARL.csv",
    "fed_policy/fomc_meeting_dates_2021_2025.csv",
    "fred/DGS2.csv",
    "fred/DGS10.csv",
    "fred/PAYEMS.csv",
    "fred/UNRATE.csv",
)
"""Files the policy estimates read beyond the calibration table (hashed in the provenance)."""

METHODS = {
    "path_pass_through": "Rational-expectations revision of the next decision per pp of "
    "surprise: the surprise is the decision minus its fitted value on the 2-year-minus-funds "
    "spread the day before and the previous decision; lambda is the coefficient of the next "
    "decision on it (same controls). The decision-day 2-year response to the same surprise "
    "(decision_day_2y_response) is negative: the surprise proxy from the spread mixes "
    "information effects and guidance (the 2024-09 50bp cut and the 2024-12 'hawkish cut' "
    "raised the 2-year), so it is reported as a cross-check and not used; without fed funds "
    "futures no cleaner target surprise is available in ../shared/data.",
    "reaction": "Ordered probit, MLE (simengine.data.estimate_policy.ordered_probit), of the "
    "monthly change of the fed funds target in 25bp steps (-50..+50) on the 3-month average "
    "growth and inflation factors, last month's credit-spread change and last month's policy "
    "change; 1997-2025, months at the lower bound (rate below 0.4%) and Covid months out. The "
    "simulation uses the state slopes; the intercept at each meeting is set so the mean "
    "decision equals the market's expected change at the expected state (agreement with "
    "market pricing at the start date), and the inertia term is carried by the priced path "
    "and its repricing.",
    "growth_channel": "OLS with Newey-West (12 lags) s.e. of monthly growth on the policy stance "
    "(fed funds minus the 10-year yield) averaged over months t-12..t-1 and two own lags, "
    "1990-2025 without 2020-03..2020-12. Industrial production (the model's growth factor) "
    "has the right (negative) sign and is significant, so it is kept; payrolls and "
    "unemployment give the same sign (reported). The policy *level* in the factor VAR has the "
    "wrong sign (reverse causality: the Fed tightens into strength), so the VAR's growth "
    "policy-gap term is held at its start level (a baseline) and policy changes act through "
    "this channel. In simulation the stance moves with the "
    "policy rate's deviation from its start level (the 10-year held).",
    "window_months": "The 2-year yield averages the expected policy path over its first 24 "
    "months (a 2-year maturity).",
}
"""How each entry of the ``policy`` section is estimated (the provenance's ``methods``)."""


def policy_section(table: pd.DataFrame, data_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model file's ``policy`` section (the policy part's parameters, rounded as written)
    and its provenance (methods, the full estimates, the files read).

    Raises
    ------
    DataError
        If no growth measure has a significant negative response to the policy stance.
    """
    from simengine.data import file_sha256
    from simengine.exceptions import DataError

    est = estimate_policy(table, Path(data_dir))
    rf, pt, gc = est["reaction_function"], est["path_pass_through"], est["growth_channel"]
    chosen = gc["chosen"]
    if chosen is None:
        raise DataError("no growth measure has a significant negative response to the stance")
    section = {
        "path_pass_through": round(pt["value"], 4),
        "window_months": 24.0,
        "reaction": {
            "slopes": {k: round(rf["coefficients"][k], 4) for k in REACTION_REGRESSORS[:3]},
            "cutpoints": [round(c, 4) for c in rf["cutpoints"]],
        },
        "growth_channel": {
            "measure": chosen,
            "gamma": round(gc[chosen]["gamma"], 5),
            "lags": [1, 12],
        },
    }
    provenance = {
        "data_files": {f: file_sha256(Path(data_dir) / f) for f in POLICY_FILES},
        "methods": METHODS,
        "reaction_estimates": rf,
        "path_pass_through_estimates": pt,
        "growth_channel_estimates": gc,
    }
    return section, provenance
