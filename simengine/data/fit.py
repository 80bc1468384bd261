"""Least-squares fit of the factor model's point parameters (importable).

Used by ``scripts/fit_default_model.py`` (which writes ``simengine/models/default.yaml``) and by
the backtest (:mod:`simengine.backtest`), which refits the model on data up to each forecast
origin. Every function takes the data it fits on; none reads beyond the sample it is given, so
that a fit on rows up to a date cannot see later rows.

What is fitted:

* factor VAR(1) of ``(rates, growth, inflation, credit)`` with a policy-gap term, OLS per
  equation, Covid months excluded (:func:`fit_var`);
* asset regressions of monthly RUT / NDX log returns on the factors and the lagged policy gap
  (OLS, except the carry term: Gaussian-prior MAP, see :data:`CARRY_PRIOR`) (:func:`fit_assets`);
* tariff loadings from daily returns on 2025 tariff news days (:func:`tariff_events`);
* squeeze jumps from large positive daily RUT-minus-NDX moves (:func:`squeeze_jumps`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from simengine.data.loaders import read_index_csv
from simengine.data.series import mark_stale
from simengine.structure import ModelStructure, default_structure

__all__ = [
    "CARRY_PRIOR",
    "COVID",
    "FACTOR_DOF_FLOOR",
    "NEUTRAL",
    "SAMPLE",
    "SQUEEZE_K",
    "SURPRISE_PASS_THROUGH",
    "SURPRISE_TOTAL",
    "TARIFF_EVENTS",
    "daily_closes",
    "fit_assets",
    "fit_var",
    "map_regression",
    "ols",
    "packaged_policy",
    "point_model",
    "squeeze_jumps",
    "t_dof_multivariate",
    "t_dof_univariate",
    "tariff_events",
    "tariff_pass_through",
]

SAMPLE = ("1997-01", "2025-06")
POINT_PARTS = {"returns": "factor_loadings", "residuals": "student_t"}
"""Parts of :func:`point_model`'s model (the distribution parts are fitted by
:func:`simengine.data.fit_distribution.distribution_model`)."""
COVID = ("2020-03", "2020-06")  # dependent months excluded; the VAR also drops 2020-07 (its lag)
NEUTRAL = 3.0
SQUEEZE_K = 4.0
SQUEEZE_RANGE = ("1997-01-01", "2025-07-16")

# Carry prior (annual drift lost per pp of policy above neutral). Bottom-up: about a third of
# Russell 2000 debt floats vs under a tenth for large caps (sell-side estimates, e.g. Goldman
# Sachs 2023), small caps run higher leverage and thinner coverage; 1pp on that floating share is
# 2-3% of small-cap earnings a year, a fraction of that for the Nasdaq-100. Same centres as the
# Bayesian priors (simengine/models/priors.yaml), tighter sd because the monthly data cannot tell.
CARRY_PRIOR = {"small_cap": (0.025, 0.010), "large_cap": (0.005, 0.005)}

SURPRISE_TOTAL = {"small_cap": -0.06, "large_cap": -0.045}  # event-study total per pp of surprise
SURPRISE_PASS_THROUGH = 0.5
PRICE_LEVEL_PER_PP = 0.11  # % price level per pp of effective tariff rate (Yale Budget Lab)
OUTPUT_LEVEL_PER_PP = -0.05  # % output level per pp (Yale Budget Lab GDP estimate)

# 2025 tariff news: (return window start close, end close, statutory-series dates whose change
# is attributed to the window, what happened).
TARIFF_EVENTS = [
    ("2025-01-31", "2025-02-03", ["2025-02-04"], "China +10% announced Sat 02-01, effective 02-04"),
    (
        "2025-04-02",
        "2025-04-04",
        ["2025-04-03", "2025-04-05"],
        "Liberation Day (02 Apr after close): 10% universal baseline + reciprocal schedule; "
        "autos 25% effective 04-03",
    ),
    ("2025-04-07", "2025-04-08", ["2025-04-08"], "US raises China rate to 104% (confirmed 04-08)"),
    (
        "2025-04-08",
        "2025-04-09",
        ["2025-04-09"],
        "90-day pause of reciprocal rates (China to 125%)",
    ),
    ("2025-04-11", "2025-04-14", ["2025-04-11"], "electronics exemption announced Fri 04-11 night"),
    ("2025-05-09", "2025-05-12", ["2025-05-12"], "US-China Geneva deal: 145% -> 30%"),
    ("2025-05-30", "2025-06-02", ["2025-06-03"], "steel/aluminium 25% -> 50% announced 05-30"),
]


def ols(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OLS coefficients, their standard errors and residuals."""
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    s2 = resid @ resid / (len(y) - x.shape[1])
    se = np.sqrt(np.diag(s2 * np.linalg.inv(x.T @ x)))
    return coef, se, resid


def map_regression(
    y: np.ndarray, x: np.ndarray, j: int, prior_mean: float, prior_sd: float
) -> np.ndarray:
    """Gaussian-prior MAP: flat on every coefficient but ``j``, N(prior_mean, prior_sd^2) on ``j``.

    With the residual variance at its OLS value the MAP is least squares on the data plus one
    pseudo-observation ``(sigma/prior_sd) * (beta_j - prior_mean) = 0``.
    """
    _, _, resid = ols(y, x)
    sigma = resid.std(ddof=x.shape[1])
    w = sigma / prior_sd
    row = np.zeros(x.shape[1])
    row[j] = w
    coef, *_ = np.linalg.lstsq(np.vstack([x, row]), np.append(y, w * prior_mean), rcond=None)
    return coef


FACTOR_DOF_FLOOR = 5.0
"""Lowest factor-innovation dof written to a model: below 4 the kurtosis is infinite, and the
pooled MLE (about 3.4 on 1997-2025, driven by 2008 credit moves) produced one-month credit-spread
moves of 27pp and overflowing paths in the backtest."""


def t_dof_univariate(z: np.ndarray) -> float:
    """Student-t degrees of freedom of pooled standardised residuals (location fixed at 0)."""
    df, _, _ = stats.t.fit(z, floc=0.0)
    return float(df)


def t_dof_multivariate(resid: np.ndarray) -> float:
    """Profile-likelihood dof of a multivariate t with the sample covariance as its covariance."""
    cov = np.cov(resid.T)
    k = resid.shape[1]
    coarse = np.linspace(2.2, 60.0, 50)

    def loglik(nu: float) -> float:
        scale = (nu - 2.0) / nu  # shape matrix = cov * (nu-2)/nu
        return float(
            np.sum(stats.multivariate_t.logpdf(resid, loc=np.zeros(k), shape=cov * scale, df=nu))
        )

    best = coarse[int(np.argmax([loglik(nu) for nu in coarse]))]
    fine = np.linspace(max(2.2, best - 2.0), best + 2.0, 81)
    return float(fine[int(np.argmax([loglik(nu) for nu in fine]))])


def _drop_covid(data: pd.DataFrame, last: str) -> pd.DataFrame:
    covid = pd.date_range(COVID[0], last, freq="ME")
    return data.drop(index=covid.intersection(data.index))


def fit_var(
    table: pd.DataFrame, sample: tuple[str, str] = SAMPLE, structure: ModelStructure | None = None
) -> dict[str, Any]:
    """OLS VAR(1) with a policy-gap term; Covid months (and the month after) excluded.

    Parameters
    ----------
    table : DataFrame
        Monthly calibration table (``policy_rate`` and the factor columns).
    sample : (str, str)
        First and last month of the dependent variable (``YYYY-MM``).

    Returns
    -------
    dict
        ``const``, ``ar`` (K, K), ``policy_gap``, ``sd``, ``corr``, ``dof``, standard errors,
        ``rows`` and ``spectral_radius``.
    """
    factors = (structure or default_structure()).stochastic
    k = len(factors)
    z = table[list(factors)]
    lagged = z.shift(1).add_suffix("_lag")
    gap = (table["policy_rate"].shift(1) - NEUTRAL).rename("gap")
    data = pd.concat([z, lagged, gap], axis=1).loc[sample[0] : sample[1]]
    data = _drop_covid(data, "2020-07").dropna()
    x = np.column_stack([np.ones(len(data)), data[lagged.columns], data["gap"]])
    coefs, ses, resids = {}, {}, {}
    for f in factors:
        coefs[f], ses[f], resids[f] = ols(data[f].to_numpy(), x)
    resid = np.column_stack([resids[f] for f in factors])
    sd = resid.std(axis=0, ddof=x.shape[1])
    a = np.array([coefs[f][1 : 1 + k] for f in factors])
    return {
        "rows": data.index,
        "factors": factors,
        "const": {f: coefs[f][0] for f in factors},
        "ar": a,
        "ar_se": np.array([ses[f][1 : 1 + k] for f in factors]),
        "policy_gap": {f: coefs[f][1 + k] for f in factors},
        "policy_gap_se": {f: ses[f][1 + k] for f in factors},
        "sd": dict(zip(factors, sd, strict=True)),
        "corr": np.corrcoef(resid.T),
        "dof_mle": t_dof_univariate((resid / sd).ravel()),
        "dof": max(t_dof_univariate((resid / sd).ravel()), FACTOR_DOF_FLOOR),
        "spectral_radius": float(np.max(np.abs(np.linalg.eigvals(a)))),
    }


def tariff_events(data_dir: Path, structure: ModelStructure | None = None) -> dict[str, Any]:
    """Event-day tariff loadings: log return over each news window on attributed tariff change
    (for each asset of ``structure``, default: the packaged model's)."""
    level = pd.read_csv(data_dir / "tariffs/import_weighted_statutory_tariff_daily.csv")
    level = level.set_index(pd.to_datetime(level["date"]))["import_weighted_avg_tariff"]
    change = level.diff()
    closes = {
        a.name: read_index_csv(data_dir / a.data)["Close"]
        for a in (structure or default_structure()).assets
    }
    rows = []
    for start, end, dates, label in TARIFF_EVENTS:
        dtau = float(sum(change.loc[pd.Timestamp(d)] for d in dates))
        row = {"window": f"{start}..{end}", "dtariff_pp": dtau, "what": label}
        for a, close in closes.items():
            row[a] = float(np.log(close.loc[end] / close.loc[start]))
        rows.append(row)
    events = pd.DataFrame(rows)
    x = events["dtariff_pp"].to_numpy()
    out: dict[str, Any] = {"events": events}
    for a in closes:
        y = events[a].to_numpy()
        beta = float(x @ y / (x @ x))  # through the origin: the window return is tariff news
        resid = y - beta * x
        se = float(np.sqrt(resid @ resid / (len(x) - 1) / (x @ x)))
        out[a] = (beta, se)
    return out


def fit_assets(
    table: pd.DataFrame,
    tariff_beta: Mapping[str, tuple[float, float]],
    sample: tuple[str, str] = SAMPLE,
    structure: ModelStructure | None = None,
    carry_prior: Mapping[str, tuple[float, float]] = CARRY_PRIOR,
) -> dict[str, Any]:
    """Asset regressions (OLS; carry term also by Gaussian-prior MAP).

    Parameters
    ----------
    table : DataFrame
        Monthly calibration table.
    tariff_beta : mapping
        Asset -> (tariff loading, its s.e.); the loading is held fixed (the pre-2025 tariff
        rate barely moves, so monthly data cannot estimate it).
    sample : (str, str)
        First and last month (``YYYY-MM``).
    structure : ModelStructure, optional
        Assets and factors (default: the packaged model's).
    carry_prior : mapping
        Asset -> (prior mean, prior sd) of the annual carry ``kappa``.

    Returns
    -------
    dict
        Per asset: ``ols``, ``ols_se``, ``map`` (const, factor loadings, gap), ``sigma``;
        ``corr`` (N, N) and ``dof`` of the residuals; ``rows``.
    """
    structure = structure or default_structure()
    assets = structure.asset_names
    gap = (table["policy_rate"].shift(1) - NEUTRAL).rename("gap")
    data = pd.concat([table, gap], axis=1).loc[sample[0] : sample[1]]
    data = _drop_covid(data, COVID[1] + "-28")
    regressors = [*structure.stochastic, "gap"]
    data = data.dropna(subset=[*regressors, *assets])
    x = np.column_stack([np.ones(len(data)), data[regressors]])
    return {"rows": data.index, **asset_equations(data, x, assets, tariff_beta, carry_prior)}


def asset_equations(
    data: pd.DataFrame,
    x: np.ndarray,
    assets: tuple[str, ...] | list[str],
    tariff_beta: Mapping[str, tuple[float, float]],
    carry_prior: Mapping[str, tuple[float, float]],
) -> dict[str, Any]:
    """Per-asset monthly return equations with the carry coefficient (last column of ``x``)
    by Gaussian-prior MAP and the rest flat (OLS).

    ``r_t - beta_tariff dtau_t = x_t . b + e_t``; the prior on the last coefficient is
    ``N(-kappa0 / 12, (kappa_sd / 12)^2)`` from ``carry_prior`` (annual kappa mean, sd).

    Returns
    -------
    dict
        Per asset ``ols``, ``ols_se``, ``map``, ``sigma`` (annual); ``corr`` and ``dof`` of the
        residuals (multivariate Student-t); ``resid`` (DataFrame, one column per asset).
    """
    out: dict[str, Any] = {}
    resid_all = []
    j_gap = x.shape[1] - 1
    for a in assets:
        y = (data[a] - tariff_beta[a][0] * data["dtariff"]).to_numpy()
        b_ols, se, _ = ols(y, x)
        prior_kappa, prior_sd = carry_prior[a]
        b_map = map_regression(y, x, j_gap, -prior_kappa / 12.0, prior_sd / 12.0)
        resid = y - x @ b_map
        resid_all.append(resid)
        out[a] = {
            "ols": b_ols,
            "ols_se": se,
            "map": b_map,
            "sigma": float(resid.std(ddof=x.shape[1]) * np.sqrt(12.0)),
        }
    resid = np.column_stack(resid_all)
    out["corr"] = np.corrcoef(resid.T)
    out["dof"] = t_dof_multivariate(resid)
    out["resid"] = pd.DataFrame(resid, index=data.index, columns=list(assets))
    return out


def daily_closes(data_dir: Path, structure: ModelStructure | None = None) -> pd.DataFrame:
    """Daily log returns of the assets (stale prints blanked), one column per asset."""
    rets = {
        a.name: np.log(mark_stale(read_index_csv(data_dir / a.data)["Close"])).diff()
        for a in (structure or default_structure()).assets
    }
    return pd.concat(rets, axis=1, sort=True).dropna()


def squeeze_jumps(
    data_dir: Path | None,
    k_sd: float = 4.0,
    cluster_days: int = 5,
    *,
    returns: pd.DataFrame | None = None,
    date_range: tuple[str, str] = SQUEEZE_RANGE,
    legs: tuple[str, str] = ("small_cap", "large_cap"),
) -> dict[str, Any]:
    """Large positive daily moves of one asset against another (RUT minus NDX, RUT up),
    clustered into episodes.

    Parameters
    ----------
    data_dir : Path or None
        Data folder (read when ``returns`` is not given).
    k_sd : float
        Threshold in robust (MAD) standard deviations of the daily relative return.
    cluster_days : int
        Hits within this many trading days form one episode (sizes summed).
    returns : DataFrame, optional
        Daily log returns from :func:`daily_closes` (saves re-reading the files).
    date_range : (str, str)
        First and last day used.
    legs : (str, str)
        The squeezed asset and the one it is measured against (the default model's comparison
        ``small_beats_large``; the squeeze part loads on the first).
    """
    d = returns if returns is not None else daily_closes(Path(str(data_dir)))
    d = d.loc[date_range[0] : date_range[1]]
    squeezed, against = legs
    rel = d[squeezed] - d[against]
    robust_sd = 1.4826 * float((rel - rel.median()).abs().median())
    hit = (rel > k_sd * robust_sd) & (d[squeezed] > 0)
    pos = np.flatnonzero(hit.to_numpy())
    episodes: list[list[int]] = []
    for p in pos:
        if episodes and p - episodes[-1][-1] <= cluster_days:
            episodes[-1].append(p)
        else:
            episodes.append([p])
    sizes = np.array([rel.iloc[e].sum() for e in episodes])
    years = (d.index[-1] - d.index[0]).days / 365.25
    return {
        "robust_sd": robust_sd,
        "n_days": int(hit.sum()),
        "n_episodes": len(episodes),
        "years": years,
        "intensity": len(episodes) / years,
        "mean": float(sizes.mean()) if sizes.size else 0.0,
        "sd": float(sizes.std(ddof=1)) if sizes.size > 1 else 0.0,
        "dates": [str(rel.index[e[0]].date()) for e in episodes],
        "range": [str(d.index[0].date()), str(d.index[-1].date())],
    }


def tariff_pass_through(a: np.ndarray, factors: tuple[str, ...]) -> dict[str, float]:
    """Impact coefficients giving the Budget Lab level effects through the fitted VAR
    (growth and inflation; 0 for the other factors)."""
    cum = np.linalg.inv(np.eye(len(factors)) - a)
    g, i = factors.index("growth"), factors.index("inflation")
    out = dict.fromkeys(factors, 0.0)
    out["growth"] = OUTPUT_LEVEL_PER_PP / cum[g, g]
    out["inflation"] = 12.0 * PRICE_LEVEL_PER_PP / cum[i, i]
    return out


def point_model(
    table: pd.DataFrame,
    sample: tuple[str, str],
    *,
    daily: pd.DataFrame | None = None,
    tariff_beta: Mapping[str, tuple[float, float]] | None = None,
    structure: ModelStructure | None = None,
) -> dict[str, Any]:
    """A complete model-file mapping (``simengine-model/1``) fitted on ``sample`` only.

    Unrounded, without provenance: for refits (the backtest), not for the packaged file. The
    vocabulary (factors, assets, portfolios, comparisons, parts) is the packaged model's, or
    ``structure``'s.

    Parameters
    ----------
    table : DataFrame
        Monthly calibration table.
    sample : (str, str)
        First and last month used by the regressions.
    daily : DataFrame, optional
        Daily log returns (:func:`daily_closes`) for the squeeze jumps, used up to the end of
        ``sample``; without it there are no squeeze jumps (their days are already in the
        monthly residual volatility).
    tariff_beta : mapping, optional
        Asset -> (loading, s.e.); default 0 (no tariff news before the end of the sample).
    structure : ModelStructure, optional
        Vocabulary (default: the packaged model's).
    """
    structure = structure or default_structure()
    assets = structure.asset_names
    tariff_beta = tariff_beta or {a: (0.0, 0.0) for a in assets}
    var = fit_var(table, sample, structure)
    fit = fit_assets(table, tariff_beta, sample, structure)
    squeeze = {"base_intensity": 0.0, "jump_mean": 0.0, "jump_sd": 0.0}
    if daily is not None:
        last = (pd.Period(sample[1], "M").end_time).strftime("%Y-%m-%d")
        jumps = squeeze_jumps(None, SQUEEZE_K, returns=daily, date_range=(SQUEEZE_RANGE[0], last))
        if jumps["n_episodes"] >= 2:
            squeeze = {
                k: jumps[v]
                for k, v in (
                    ("base_intensity", "intensity"),
                    ("jump_mean", "mean"),
                    ("jump_sd", "sd"),
                )
            }
    corr = fit["corr"]
    envelope = vocabulary(structure)  # the parts these fits are for (constant volatility etc.)
    envelope["parts"] = {**envelope["parts"], **POINT_PARTS}
    return {
        "format": "simengine-model/1",
        "name": f"refit-{sample[1]}",
        **envelope,
        "neutral_rate": NEUTRAL,
        "policy": packaged_policy(),
        "dynamics": _dynamics(var),
        "assets": {a: _asset(fit, tariff_beta, structure, a) for a in assets},
        "residuals": {
            "corr": {
                a: {b: float(corr[i, j]) for j, b in enumerate(assets) if j > i}
                for i, a in enumerate(assets[:-1])
            },
            "dof": fit["dof"],
        },
        "squeeze": {"normal_short_interest_bn": 8.0, "elasticity": 1.0, **squeeze},
    }


def packaged_policy() -> dict[str, Any]:
    """The packaged default model's ``policy`` section, for refits that do not estimate the
    policy part.

    Its estimates need the FOMC decision days and the meeting files besides the calibration
    table (:func:`simengine.data.estimate_policy.policy_section`); the backtest's baseline holds
    the policy rate at its origin value with no meetings, so it never reads them, and the refit
    stays a complete model file.
    """
    import copy

    from simengine.spec.model_file import load_model_file
    from simengine.structure import default_model_path

    return copy.deepcopy(load_model_file(default_model_path())[1]["policy"])


def vocabulary(structure: ModelStructure) -> dict[str, Any]:
    """The vocabulary sections of a model file (``factors`` .. ``parts``) for ``structure``."""
    return {
        "factors": {
            f.name: {"units": f.units, "stochastic": f.stochastic} for f in structure.factors
        },
        "exposures": list(structure.exposures),
        "portfolios": {p.name: dict(p.weights) for p in structure.portfolios},
        "comparisons": {
            c.name: {"asset": c.asset, "beats": c.beats} for c in structure.comparisons
        },
        "parts": dict(structure.parts),
    }


def _dynamics(var: dict[str, Any]) -> dict[str, Any]:
    corr, factors = var["corr"], var["factors"]
    return {
        "const": {f: float(v) for f, v in var["const"].items()},
        "ar": {
            f: {g: float(var["ar"][i, j]) for j, g in enumerate(factors)}
            for i, f in enumerate(factors)
        },
        "innovation_sd": {f: float(v) for f, v in var["sd"].items()},
        "innovation_corr": {
            f: {g: float(corr[i, j]) for j, g in enumerate(factors) if j > i}
            for i, f in enumerate(factors[:-1])
        },
        "innovation_dof": None if var["dof"] is None else float(var["dof"]),
        "policy_gap": {f: float(v) for f, v in var["policy_gap"].items()},
        "surprise_pass_through": {"rates": SURPRISE_PASS_THROUGH},
        "tariff_pass_through": tariff_pass_through(var["ar"], factors),
    }


def _asset(
    fit: dict[str, Any],
    tariff_beta: Mapping[str, tuple[float, float]],
    structure: ModelStructure,
    a: str,
) -> dict[str, Any]:
    asset = structure.asset(a)
    k = len(structure.stochastic)
    b = fit[a]["map"]
    beta = dict(zip(structure.stochastic, map(float, b[1 : 1 + k]), strict=True))
    squeezed = structure.comparisons[0].asset if structure.comparisons else None
    return {
        "label": asset.label,
        "index": asset.index,
        "data": asset.data,
        "start_level": asset.start_level,
        "mu": float(12.0 * b[0]),
        "kappa": float(-12.0 * b[1 + k]),
        "beta": {**beta, "tariff": float(tariff_beta[a][0])},
        "sigma": float(fit[a]["sigma"]),
        "announcement_total": float(SURPRISE_TOTAL[a]),
        "squeeze_loading": 1.0 if a == squeezed else 0.0,
    }
