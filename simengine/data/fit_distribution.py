"""Least-squares fit of the distribution parts (issue 11), on data up to a cut-off only.

Extends :func:`simengine.data.fit.point_model` for a model whose parts are ``dynamics: var1``
with credit error correction, ``returns: factor_news``, ``residuals: vol_state`` and
``jumps: squeeze`` (compensated):

* :func:`fit_var_ecm`: the factor VAR by OLS per equation; the credit equation error-corrects on
  the lagged high-yield spread *level* instead of the policy gap
  (:mod:`simengine.data.estimate_credit`);
* :func:`fit_news_assets`: asset returns on the VAR innovations (factor news) and the policy
  gap, carry by Gaussian-prior MAP as before;
* :func:`drift`: ``mu`` shrunk to the long-run prior with the weight chosen on past forecasts
  (:mod:`simengine.data.estimate_drift`);
* :func:`vol_state_section`: the volatility-state curves
  (:mod:`simengine.data.estimate_volatility`);
* :func:`tails_given_state`: the Student-t dof of the residuals and of the factor innovations
  given the volatility state (:mod:`simengine.data.estimate_tails`);
* :func:`residual_scale`: the residual volatility given the state, long run and its slow level
  at the end of the sample (:mod:`simengine.data.estimate_residual_level`);
* :data:`TARIFF_NEWS`: the reversal of tariff surprises (:mod:`simengine.data.estimate_tariff`).

:class:`MarketData` holds the extra series; :meth:`MarketData.cut` keeps what was known at a
date, so a backtest refit cannot see later data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simengine.data.estimate_credit import HY_FILE
from simengine.data.estimate_drift import (
    SPX_FILE,
    choose_shrinkage,
    market_excess,
    prior_series,
    spx_monthly,
    yield_gap_series,
    yield_spread,
)
from simengine.data.estimate_residual_level import residual_levels
from simengine.data.estimate_tails import conditional_dof, one_month_ratios
from simengine.data.estimate_volatility import (
    fit_realised_given_vix,
    fit_variance_term_structure,
    monthly_realised_variance,
    monthly_vix,
    read_vix,
    state_on,
    trailing_variance,
)
from simengine.data.fit import (
    COVID,
    FACTOR_DOF_FLOOR,
    NEUTRAL,
    _drop_covid,
    asset_equations,
    daily_closes,
    ols,
    packaged_policy,
    t_dof_univariate,
)
from simengine.data.loaders import read_fred_csv, read_index_csv
from simengine.data.series import mark_stale
from simengine.structure import ModelStructure, default_structure

__all__ = [
    "ECM_FACTORS",
    "calibration_state",
    "HORIZON",
    "TARIFF_NEWS",
    "PARTS",
    "MarketData",
    "distribution_model",
    "drift",
    "fit_news_assets",
    "fit_given_state",
    "fit_var_ecm",
    "given_state_ratios",
    "residual_scale",
    "start_state",
    "state_ratios",
    "states",
    "tails_given_state",
    "vol_state_section",
]

PARTS = {"returns": "factor_news", "residuals": "vol_state", "jumps": "squeeze"}
"""The parts these fits are for (the rest: as the structure lists them)."""


def states(structure: ModelStructure) -> dict[str, dict[str, str]]:
    """The ``states`` section: start-date states the parts read from a scenario's ``initial``."""
    out = {
        "vix": {
            "units": "index points",
            "description": "VIX close on the start date (volatility state; missing = long run)",
            "minimum": 5.0,
            "maximum": 150.0,
        }
    }
    for a in structure.asset_names:
        out[f"realised_vol_{a}"] = {
            "units": "% a year",
            "description": f"realised volatility of {a} over the last 63 trading days "
            "(missing = the level the VIX implies)",
            "minimum": 1.0,
            "maximum": 300.0,
        }
    for f in ECM_FACTORS:
        out[f"{f}_level"] = {
            "units": "%",
            "description": f"level of {f} on the start date (error correction; missing = "
            "dynamics.level_at_fit)",
            "minimum": 0.0,
            "maximum": 50.0,
        }
    return out


ECM_FACTORS = ("credit",)
"""Factors modelled as a level with error correction (their column is the level's change)."""
HORIZON = 6
"""Months ahead of the past forecasts that choose the drift shrinkage (the backtest horizon)."""
TARIFF_NEWS = {"reversal_share": 0.30, "reversal_half_life_days": 1.0}
"""Share of a tariff surprise's price effect that reverses and its half-life (trading days):
``scripts/estimate_tariff_news.py`` on the 2025 event windows (pooled RUT and NDX, net of later
tariff news, intercept for the common drift): 30% reverses; the reversal is within the first
week (the fitted rate sits at its bound), so the half-life is set to one day."""


@dataclass(frozen=True)
class MarketData:
    """Series the distribution parts are fitted on (each indexed by date).

    ``daily``: daily log returns of the assets and ``market`` (S&P 500); ``vix``: daily VIX;
    ``spx``: monthly S&P 500 log price returns from 1928; ``excess``: Fama-French market excess
    return from 1926; ``levels``: daily levels of the error-correcting factors; ``yields``:
    monthly dividend yields (fraction per month) of ``market`` and of each asset with an ETF
    (:func:`~simengine.data.estimate_drift.yield_spread`; none: the drift prior's yield gap is 0).
    """

    daily: pd.DataFrame
    vix: pd.Series
    spx: pd.Series
    excess: pd.Series
    levels: pd.DataFrame
    yields: pd.DataFrame = field(default_factory=pd.DataFrame)

    @classmethod
    def load(
        cls, data_dir: Path, structure: ModelStructure | None = None, *, yields: bool = True
    ) -> MarketData:
        """Read everything from a data folder laid out like ``../shared/data`` (``yields``:
        also the ETF files of the dividend yields, which only the drift prior reads)."""
        data_dir = Path(data_dir)
        daily = daily_closes(data_dir, structure)
        spx = mark_stale(read_index_csv(data_dir / SPX_FILE)["Close"])
        daily = daily.join(np.log(spx).diff().rename("market"), how="outer")
        assets = (structure or default_structure()).assets
        files = {"market": SPX_FILE, **{a.name: a.data for a in assets}}
        spreads = {name: yield_spread(data_dir, f) for name, f in files.items()} if yields else {}
        found = {name: v for name, v in spreads.items() if v is not None}
        return cls(
            daily=daily,
            vix=read_vix(data_dir),
            spx=spx_monthly(data_dir),
            excess=market_excess(data_dir),
            levels=pd.concat({"credit": read_fred_csv(data_dir / HY_FILE).dropna()}, axis=1),
            yields=pd.concat(found, axis=1) if found else pd.DataFrame(),
        )

    def cut(self, day: str | pd.Timestamp) -> MarketData:
        """Only what was known on ``day`` (month-end rows up to the month of ``day``)."""
        day = pd.Timestamp(day)
        month_end = day + pd.offsets.MonthEnd(0)
        return replace(
            self,
            daily=self.daily.loc[:day],
            vix=self.vix.loc[:day],
            spx=self.spx.loc[: month_end if day == month_end else day],
            excess=self.excess.loc[: month_end if day == month_end else day],
            levels=self.levels.loc[:day],
            yields=self.yields.loc[: month_end if day == month_end else day],
        )


def _month_end(levels: pd.DataFrame) -> pd.DataFrame:
    """Level on the last day of each month with data (indexed by month end)."""
    return levels.resample("ME").last()


def fit_var_ecm(
    table: pd.DataFrame,
    levels: pd.DataFrame,
    sample: tuple[str, str],
    structure: ModelStructure | None = None,
) -> dict[str, Any]:
    """OLS VAR(1): policy gap in every equation but the error-correcting ones, which take the
    lagged level instead; Covid months (and the month after) excluded.

    Returns
    -------
    dict
        As :func:`simengine.data.fit.fit_var` (``const``, ``ar``, ``policy_gap``, ``sd``,
        ``corr``, ``dof``) plus ``error_correction``, ``level_at_fit``, ``ecm`` (long-run level,
        half-life, the gap coefficient's t-value when added) and ``innovations`` (DataFrame of
        the residuals on the fitted rows).
    """
    factors = (structure or default_structure()).stochastic
    k = len(factors)
    z = table[list(factors)]
    lagged = z.shift(1).add_suffix("_lag")
    gap = (table["policy_rate"].shift(1) - NEUTRAL).rename("gap")
    month_end = _month_end(levels)
    lvl = pd.concat(
        {f"{f}_level_lag": month_end[f].reindex(table.index).shift(1) for f in ECM_FACTORS},
        axis=1,
    )
    data = pd.concat([z, lagged, gap, lvl], axis=1).loc[sample[0] : sample[1]]
    data = _drop_covid(data, "2020-07").dropna()
    base = np.column_stack([np.ones(len(data)), data[lagged.columns]])
    coefs, resids, gap_coef, rho, extra = {}, {}, {}, {}, {}
    for f in factors:
        y = data[f].to_numpy()
        if f in ECM_FACTORS:
            level_lag = data[f"{f}_level_lag"].to_numpy()
            coef, se, res = ols(y, np.column_stack([base, level_lag]))
            with_gap, se_gap, _ = ols(y, np.column_stack([base, level_lag, data["gap"]]))
            rho[f], gap_coef[f] = float(coef[-1]), 0.0
            zbar = data[lagged.columns].mean().to_numpy()
            extra[f] = {
                "rho_se": float(se[-1]),
                "long_run_level": float(-(coef[0] + coef[1 : 1 + k] @ zbar) / coef[-1]),
                "half_life_months": float(np.log(0.5) / np.log1p(coef[-1])),
                "gap_coef_if_added": float(with_gap[-1]),
                "gap_t_if_added": float(with_gap[-1] / se_gap[-1]),
            }
        else:
            coef, se, res = ols(y, np.column_stack([base, data["gap"]]))
            gap_coef[f] = float(coef[-1])
        coefs[f], resids[f] = coef, res
    resid = np.column_stack([resids[f] for f in factors])
    sd = resid.std(axis=0, ddof=base.shape[1] + 1)
    a = np.array([coefs[f][1 : 1 + k] for f in factors])
    end = pd.Period(sample[1], "M").end_time.normalize()
    return {
        "rows": data.index,
        "factors": factors,
        "const": {f: float(coefs[f][0]) for f in factors},
        "ar": a,
        "policy_gap": gap_coef,
        "error_correction": rho,
        "level_at_fit": {f: float(month_end[f].loc[:end].dropna().iloc[-1]) for f in rho},
        "ecm": extra,
        "sd": dict(zip(factors, map(float, sd), strict=True)),
        "corr": np.corrcoef(resid.T),
        "dof_mle": t_dof_univariate((resid / sd).ravel()),
        "dof": max(t_dof_univariate((resid / sd).ravel()), FACTOR_DOF_FLOOR),
        "spectral_radius": float(np.max(np.abs(np.linalg.eigvals(a)))),
        "innovations": pd.DataFrame(resid, index=data.index, columns=list(factors)),
    }


def fit_news_assets(
    table: pd.DataFrame,
    innovations: pd.DataFrame,
    tariff_beta: Mapping[str, tuple[float, float]],
    carry_prior: Mapping[str, tuple[float, float]],
    sample: tuple[str, str],
    structure: ModelStructure | None = None,
) -> dict[str, Any]:
    """Asset returns on the factor news (VAR innovations) and the lagged policy gap.

    ``r_t - beta_tariff dtau_t = const + beta . u_t + gamma (p_{t-1} - n) + e_t``; the carry
    coefficient ``gamma`` by Gaussian-prior MAP (``carry_prior``: annual kappa mean, sd), the
    rest OLS. Returns per asset ``map`` (const, loadings, gap), ``ols``, ``ols_se``, ``sigma``
    (annual), and ``corr``, ``dof`` of the residuals.
    """
    structure = structure or default_structure()
    assets, factors = structure.asset_names, structure.stochastic
    gap = (table["policy_rate"].shift(1) - NEUTRAL).rename("gap")
    data = pd.concat(
        [table[[*assets, "dtariff"]], innovations.add_suffix("_news"), gap], axis=1
    ).loc[sample[0] : sample[1]]
    data = _drop_covid(data, COVID[1] + "-28")
    regressors = [*(f"{f}_news" for f in factors), "gap"]
    data = data.dropna(subset=[*regressors, *assets])
    x = np.column_stack([np.ones(len(data)), data[regressors]])
    return {"rows": data.index, **asset_equations(data, x, assets, tariff_beta, carry_prior)}


def drift(
    table: pd.DataFrame,
    market: MarketData,
    mu_hat: Mapping[str, float],
    sample: tuple[str, str],
    structure: ModelStructure | None = None,
    horizon: int = HORIZON,
) -> dict[str, dict[str, Any]]:
    """``mu = w m + (1 - w) muhat`` per asset: prior centre ``m`` (with the market's dividend
    yield minus the asset's) and weight ``w`` from data up to the end of ``sample`` only
    (:mod:`simengine.data.estimate_drift`)."""
    structure = structure or default_structure()
    end = pd.Period(sample[1], "M").end_time.normalize()
    months = table.loc[:end].index
    out = {}
    for a in structure.asset_names:
        gap = yield_gap_series(_yield(market, "market"), _yield(market, a), months)
        prior = prior_series(table[a].loc[:end], market.spx, market.excess, months, gap)
        choice = choose_shrinkage(table[a], prior, sample[0], end, horizon)
        centre, w = float(prior.loc[end]), float(choice["weight"])
        out[a] = {
            "centre": centre,
            "yield_gap": float(gap.loc[end]),
            "weight": w,
            "mu_hat": float(mu_hat[a]),
            "mu": w * centre + (1.0 - w) * float(mu_hat[a]),
            "n_past_forecasts": choice["n"],
        }
    return out


def _yield(market: MarketData, name: str) -> pd.Series | None:
    return market.yields[name] if name in market.yields.columns else None


def _curve(fit: dict[str, Any], realised: bool) -> dict[str, Any]:
    out = {k: [float(v) for v in fit[k]] for k in ("intercept", "vix", "smearing")}
    if realised:
        out["realised"] = [float(v) for v in fit["realised"]]
    out["mean_rv"] = float(fit["mean_rv"])
    return out


def vol_state_section(
    market: MarketData, sample: tuple[str, str], structure: ModelStructure | None = None
) -> dict[str, Any]:
    """``residuals.vol_state``: curves per asset (VIX and realised state) and for the market
    (VIX only: the VIX is the S&P 500's own implied volatility), and the mixing sd, fitted on
    data up to the end of ``sample``; ratio 1 is the mean realised variance since its start."""
    structure = structure or default_structure()
    end = pd.Period(sample[1], "M").end_time.normalize()
    vix_me = monthly_vix(market.vix).loc[:end]
    per_asset, fits = {}, {}
    for name in (*structure.asset_names, "market"):
        d = market.daily[name].dropna().loc[:end]
        rv = monthly_realised_variance(d).loc[:end]
        rvs = trailing_variance(d).resample("ME").last().loc[:end]
        realised = name != "market"
        fit = fit_variance_term_structure(
            rv, vix_me, rvs, d, mean_from=sample[0], realised=realised
        )
        fits[name] = fit
        if realised:
            per_asset[name] = {
                **_curve(fit, True),
                "realised_given_vix": fit_realised_given_vix(rvs, vix_me),
            }
    return {
        "mixing_sd": float(fits["market"]["mixing_sd"]),
        "market": _curve(fits["market"], False),
        "per_asset": per_asset,
        "diagnostics": {
            n: {"r2_month1": f["r2"][0], "n": f["n"], "mixing_sd": f["mixing_sd"]}
            for n, f in fits.items()
        },
    }


def _state_before(series: pd.Series, months: pd.DatetimeIndex) -> pd.Series:
    """``series`` at the end of the month before each of ``months`` (month-end index)."""
    before = months - pd.offsets.MonthEnd(1)
    return series.sort_index().reindex(before, method="ffill").set_axis(months)


def state_ratios(
    market: MarketData,
    vol: Mapping[str, Any],
    months: pd.DatetimeIndex,
    structure: ModelStructure | None = None,
) -> pd.DataFrame:
    """The volatility state's one-month variance ratio for each of ``months``.

    The state (VIX, and each asset's trailing realised variance) at the end of the month before,
    through the curves of ``vol`` (a model file's ``residuals.vol_state``):
    :func:`simengine.data.estimate_tails.one_month_ratios`.

    Returns
    -------
    DataFrame
        Indexed by ``months``: one column per asset (``v_{a,t}``, its residual's ratio) and
        ``market`` (``w_t``, the factor innovations' ratio); NaN where the state is unknown.
    """
    structure = structure or default_structure()
    lvix = _state_before(np.log(monthly_vix(market.vix)), months)
    out = {}
    for a in structure.asset_names:
        rvs = trailing_variance(market.daily[a].dropna()).resample("ME").last()
        lrvs = _state_before(np.log(rvs), months)
        out[a] = one_month_ratios(vol["per_asset"][a], lvix, lrvs)
    out["market"] = one_month_ratios(vol["market"], lvix)
    return pd.DataFrame(out, index=months)


def calibration_state(
    data_dir: Path, months: pd.DatetimeIndex, model: str | Path | None = None
) -> tuple[pd.DataFrame | None, float]:
    """The volatility state for a Bayesian calibration on ``data_dir``: the model file's curves
    (plug-in) applied to the data's VIX and realised variances (:func:`state_ratios`).

    Returns
    -------
    tuple
        The ratios by month (None if the model file has no ``residuals.vol_state``) and its
        ``mixing_sd``.
    """
    from simengine.spec.model_file import load_model_file
    from simengine.structure import model_path

    path = model_path(model)
    vol = load_model_file(path)[1].get("residuals", {}).get("vol_state")
    if vol is None:
        return None, 0.0
    structure = default_structure(path)
    market = MarketData.load(data_dir, structure, yields=False)
    return state_ratios(market, vol, pd.DatetimeIndex(months), structure), float(vol["mixing_sd"])


def tails_given_state(
    fit: Mapping[str, Any],
    var: Mapping[str, Any],
    market: MarketData,
    vol: Mapping[str, Any],
    structure: ModelStructure | None = None,
    ratios: pd.DataFrame | None = None,
) -> dict[str, dict[str, Any]]:
    """Student-t dof of the asset residuals and of the factor innovations given the state.

    Each month's shock is divided by ``sqrt(v_t)``, the volatility state's one-month ratio at the
    end of the month before (:func:`state_ratios`: the asset's curve for its residual, the
    market curve for the factor innovations), and the dof is fitted with the per-path level
    integrated out (:func:`simengine.data.estimate_tails.conditional_dof`): multivariate for the
    residuals, pooled univariate for the factor innovations (as the unconditional fits), the
    factor dof floored at :data:`~simengine.data.fit.FACTOR_DOF_FLOOR`. ``ratios``:
    :func:`given_state_ratios` when the caller has them already.

    Returns
    -------
    dict
        ``residuals`` and ``factors``: ``dof`` (None: Gaussian), ``mle``, log-likelihoods, ``n``.
    """
    structure = structure or default_structure()
    resid, innov = fit["resid"], var["innovations"]
    if ratios is None:
        ratios = given_state_ratios(fit, var, market, vol, structure)
    v = ratios.loc[resid.index, list(structure.asset_names)]
    w = ratios.loc[innov.index, "market"]
    s = float(vol["mixing_sd"])
    residuals = conditional_dof(resid.to_numpy() / np.sqrt(v.to_numpy()), s)
    factors = conditional_dof(innov.to_numpy() / np.sqrt(w.to_numpy())[:, None], s, pooled=True)
    if factors["dof"] is not None:
        factors["dof"] = max(factors["dof"], FACTOR_DOF_FLOOR)
    return {"residuals": residuals, "factors": factors}


def given_state_ratios(
    fit: Mapping[str, Any],
    var: Mapping[str, Any],
    market: MarketData,
    vol: Mapping[str, Any],
    structure: ModelStructure | None = None,
) -> pd.DataFrame:
    """:func:`state_ratios` for the months of the asset residuals and the factor innovations."""
    months = fit["resid"].index.union(var["innovations"].index)
    return state_ratios(market, vol, months, structure)


def residual_scale(
    fit: dict[str, Any], ratios: pd.DataFrame, structure: ModelStructure | None = None
) -> dict[str, dict[str, Any]]:
    """Long-run residual volatility given the state, and its slow level at the end of the sample
    (:func:`simengine.data.estimate_residual_level.residual_levels`).

    Sets each asset's ``fit[a]["sigma"]`` to the long-run ``sigma`` (the raw residual sd stays
    in ``fit[a]["sigma_raw"]``) and returns the per-asset results, whose ``level`` goes into
    ``residuals.vol_state.per_asset``.
    """
    structure = structure or default_structure()
    assets = list(structure.asset_names)
    resid = fit["resid"]
    n_params = len(fit[assets[0]]["map"])
    levels = residual_levels(resid[assets], ratios.loc[resid.index, assets], n_params)
    for a in assets:
        fit[a]["sigma_raw"] = fit[a].get("sigma_raw", fit[a]["sigma"])
        fit[a]["sigma"] = levels[a]["sigma"]
    return levels


def fit_given_state(
    fit: dict[str, Any],
    var: Mapping[str, Any],
    market: MarketData,
    vol: dict[str, Any],
    structure: ModelStructure | None = None,
) -> dict[str, dict[str, Any]]:
    """Everything fitted given the volatility state, on one set of state ratios.

    :func:`tails_given_state` (``residuals``, ``factors``) and :func:`residual_scale`
    (``levels``), which sets each asset's ``fit[a]["sigma"]`` to the long-run scale; each
    asset's slow level goes into ``vol["per_asset"][a]["level"]``.
    """
    ratios = given_state_ratios(fit, var, market, vol, structure)
    tails = tails_given_state(fit, var, market, vol, structure, ratios)
    levels = residual_scale(fit, ratios, structure)
    for a, lev in levels.items():
        vol["per_asset"][a]["level"] = lev["level"]
    return {**tails, "levels": levels}


def start_state(
    market: MarketData, day: str | pd.Timestamp, structure: ModelStructure | None = None
) -> dict[str, float]:
    """The start-date states on ``day`` from the data (the keys of :func:`states`)."""
    structure = structure or default_structure()
    out: dict[str, float] = {}
    for a in structure.asset_names:
        out["vix"], out[f"realised_vol_{a}"] = state_on(market.vix, market.daily[a].dropna(), day)
    for f in ECM_FACTORS:
        out[f"{f}_level"] = float(market.levels[f].loc[:day].dropna().iloc[-1])
    return out


def distribution_model(
    table: pd.DataFrame,
    market: MarketData,
    sample: tuple[str, str],
    *,
    tariff_beta: Mapping[str, tuple[float, float]] | None = None,
    structure: ModelStructure | None = None,
    squeeze: Mapping[str, float] | None = None,
    horizon: int = HORIZON,
) -> dict[str, Any]:
    """A complete model-file mapping with the distribution parts, fitted on ``sample`` only.

    Unrounded, without provenance (the backtest refits; the packaged file adds provenance in
    ``scripts/fit_default_model.py``). ``market`` must hold nothing after the end of
    ``sample`` that matters (use :meth:`MarketData.cut`). Without tariff news before the end of
    the sample (``tariff_beta`` 0) the reversal share is 0.
    """
    from simengine.data.fit import CARRY_PRIOR, _asset, vocabulary

    structure = structure or default_structure()
    assets = structure.asset_names
    tariff_beta = tariff_beta or {a: (0.0, 0.0) for a in assets}
    var = fit_var_ecm(table, market.levels, sample, structure)
    fit = fit_news_assets(table, var["innovations"], tariff_beta, CARRY_PRIOR, sample, structure)
    mu = drift(
        table, market, {a: 12.0 * fit[a]["map"][0] for a in assets}, sample, structure, horizon
    )
    vol = vol_state_section(market, sample, structure)
    vol.pop("diagnostics")
    tails = fit_given_state(fit, var, market, vol, structure)
    var = {**var, "dof": tails["factors"]["dof"]}
    corr = fit["corr"]
    news = dict(TARIFF_NEWS)
    if not any(b for b, _ in tariff_beta.values()):
        news["reversal_share"] = 0.0
    dynamics = _dynamics_ecm(var)
    envelope = vocabulary(structure)
    envelope["parts"] = {**envelope["parts"], **PARTS}
    envelope["states"] = states(structure)
    return {
        "format": "simengine-model/1",
        "name": f"refit-{sample[1]}",
        **envelope,
        "neutral_rate": NEUTRAL,
        "policy": packaged_policy(),
        "dynamics": dynamics,
        "assets": {
            a: {**_asset(fit, tariff_beta, structure, a), "mu": mu[a]["mu"]} for a in assets
        },
        "tariff_news": news,
        "residuals": {
            "corr": {
                a: {b: float(corr[i, j]) for j, b in enumerate(assets) if j > i}
                for i, a in enumerate(assets[:-1])
            },
            "dof": tails["residuals"]["dof"],
            "vol_state": vol,
        },
        "squeeze": {
            "normal_short_interest_bn": 8.0,
            "elasticity": 1.0,
            "base_intensity": 0.0,
            "jump_mean": 0.0,
            "jump_sd": 0.0,
            "compensated": True,
            **(squeeze or {}),
        },
    }


def _dynamics_ecm(var: dict[str, Any]) -> dict[str, Any]:
    from simengine.data.fit import _dynamics

    out = _dynamics(var)
    out["error_correction"] = {f: float(v) for f, v in var["error_correction"].items()}
    out["level_at_fit"] = dict(var["level_at_fit"])
    return out
