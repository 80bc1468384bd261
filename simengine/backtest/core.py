"""Rolling-origin backtest of the baseline forecast against history.

At each monthly origin ``o`` the point model is fitted by least squares
(:func:`simengine.data.fit.point_model`) on the calibration table up to month ``o`` only (refit
every ``refit_every`` origins and reused in between), the baseline is simulated ``horizon``
months forward from the state at ``o`` (no scenario overlays: the policy rate held at its origin
value with no surprises, the tariff held at its origin level), and the realised cumulative log
returns of the Russell 2000 and the Nasdaq-100 over months ``o+1 .. o+horizon`` are scored
(PIT, coverage of central intervals, CRPS) against the model and against a random-walk
benchmark: ``N(h * drift, h * s**2)`` with ``s`` the trailing ``rw_window``-month volatility
and drift 0 (or the trailing mean), and, when the VIX is given, a second and stronger benchmark,
the VIX-scaled random walk ``N(h * drift, h * (s VIX_o / mean(VIX_..o))**2)``: the same volatility
scaled by the VIX at the origin over its expanding mean of month-end closes up to the origin.

With market data (:class:`simengine.data.fit_distribution.MarketData`: daily returns, VIX,
S&P 500, Fama-French, the high-yield spread) the refit is the packaged model's, parts and all
(:func:`simengine.data.fit_distribution.distribution_model`: credit error correction, loadings
on factor news, the drift shrunk to its long-run prior with the weight chosen on forecasts
before the origin, the volatility state), cut at the origin with
:meth:`~simengine.data.fit_distribution.MarketData.cut`, and each origin's scenario starts
from the state on that day (``initial.vix``, ``realised_vol``, ``levels``). Without it, the
least-squares point model of :func:`simengine.data.fit.point_model` (the previous model).

The simulation goes through the engine: a :class:`~simengine.spec.ScenarioSpec` built with
:meth:`~simengine.spec.ScenarioSpec.from_data`, compiled by
:func:`~simengine.parts.build_scenario` and run by :func:`~simengine.simulate.run_scenarios`.

No look-ahead: everything an origin uses is cut at the origin (:func:`history`) before it is
fitted, so rows after the origin cannot change its forecast (tested). Two inputs are constants
rather than fits and so carry no data from after the origin: the literature pass-throughs and
announcement responses, and the tariff loadings (set to 0 here, as the 2025 tariff events are
after almost every origin; the tariff is held constant so the loading only affects the fit
through ``dtariff``). The table's growth column is demeaned over the full sample, which is a
constant shift: OLS with an intercept is equivariant to it, so forecasts do not depend on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from simengine.backtest.scores import (
    LEVELS,
    coverage_normal,
    coverage_samples,
    crps_normal,
    crps_samples,
    pit_normal,
    pit_samples,
)
from simengine.exceptions import DataError, NumericalError
from simengine.structure import default_structure

__all__ = ["ASSETS", "BacktestConfig", "forecast_origin", "history", "origins", "run_backtest"]

ASSETS: tuple[str, ...] = default_structure().asset_names
"""The packaged model's assets (the table's return columns)."""
FIRST_SAMPLE_MONTH = "1997-01"  # credit spreads start in 1997-01
MIN_FIT_MONTHS = 24


@dataclass(frozen=True)
class BacktestConfig:
    """What to backtest.

    Attributes
    ----------
    start, end : str
        First and last forecast origin (``YYYY-MM``); origins whose realised horizon is beyond
        the data are skipped.
    horizon : int
        Months ahead.
    n_paths : int
        Simulated paths per origin.
    seed : int
        Base seed; origin ``i`` uses ``seed + i``.
    refit_every : int
        Refit the model every this many origins (reuse it in between).
    rw_window : int
        Months of trailing returns for the random-walk volatility.
    rw_drift : {"zero", "mean"}
        Random-walk drift: 0 or the trailing mean monthly log return.
    squeeze : bool
        Fit and simulate squeeze jumps from daily returns up to each origin.
    recalibrate : bool
        Rescale the residual volatility at each origin by the ``sigma_scale`` estimated on the
        unscaled model's earlier forecasts whose outcome is known at the origin
        (:mod:`simengine.backtest.recalibration`); ``False``: the unscaled model.
    """

    start: str = "2000-01"
    end: str = "2025-06"
    horizon: int = 6
    n_paths: int = 4096
    seed: int = 20250716
    refit_every: int = 12
    rw_window: int = 60
    rw_drift: Literal["zero", "mean"] = "zero"
    squeeze: bool = True
    recalibrate: bool = False

    def __post_init__(self) -> None:
        if self.horizon < 1 or self.n_paths < 16 or self.refit_every < 1 or self.rw_window < 12:
            raise DataError(
                f"invalid backtest settings: horizon {self.horizon} (>= 1), paths "
                f"{self.n_paths} (>= 16), refit_every {self.refit_every} (>= 1), rw_window "
                f"{self.rw_window} (>= 12)"
            )
        if self.rw_drift not in ("zero", "mean"):
            raise DataError(f"rw_drift must be 'zero' or 'mean', got {self.rw_drift!r}")


def history(frame: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
    """Rows of the table up to and including the origin month (what is known at the origin)."""
    return frame.loc[:origin]


def origins(frame: pd.DataFrame, cfg: BacktestConfig) -> list[pd.Timestamp]:
    """Origins in ``[start, end]`` with the full realised horizon in the table."""
    idx = frame.index
    first = pd.Period(cfg.start, "M").end_time.normalize()
    last = pd.Period(cfg.end, "M").end_time.normalize()
    out = []
    for i, day in enumerate(idx):
        if not first <= day <= last or i + cfg.horizon >= len(idx):
            continue
        ahead = frame.iloc[i + 1 : i + 1 + cfg.horizon][list(ASSETS)]
        if ahead.notna().all().all():
            out.append(day)
    if not out:
        raise DataError(
            f"no forecast origin between {cfg.start} and {cfg.end} has {cfg.horizon} months of "
            f"realised returns in the data (table {idx[0]:%Y-%m}..{idx[-1]:%Y-%m})"
        )
    return out


def fit_params(
    frame: pd.DataFrame,
    origin: pd.Timestamp,
    daily: pd.DataFrame | None,
    market: Any = None,
) -> Any:
    """Point parameters fitted on data up to ``origin`` only (``market``: see the module notes)."""
    from simengine.data.fit import point_model
    from simengine.data.fit_distribution import distribution_model
    from simengine.params import ModelParams

    known = history(frame, origin)
    if len(known.loc[FIRST_SAMPLE_MONTH:]) < MIN_FIT_MONTHS:
        raise DataError(
            f"origin {origin:%Y-%m} has fewer than {MIN_FIT_MONTHS} months of data since "
            f"{FIRST_SAMPLE_MONTH}; start the backtest later"
        )
    sample = (FIRST_SAMPLE_MONTH, f"{origin:%Y-%m}")
    if market is not None:
        model = distribution_model(known, market.cut(origin), sample)
    else:
        known_daily = None if daily is None else daily.loc[: origin + pd.offsets.MonthEnd(0)]
        model = point_model(known, sample, daily=known_daily)
    _sanitise_dof(model)
    params = ModelParams.from_mapping(model, source="backtest refit")
    return params.select_assets(ASSETS)


def _sanitise_dof(model: dict[str, Any]) -> None:
    """Short samples can give dof estimates at the edge: keep 2.5..200 (above 200: Gaussian)."""
    for section, key in (("dynamics", "innovation_dof"), ("residuals", "dof")):
        v = model[section][key]
        model[section][key] = None if v is None or v > 200 else max(float(v), 2.5)


def _origin_spec(
    frame: pd.DataFrame,
    origin: pd.Timestamp,
    cfg: BacktestConfig,
    i: int,
    state: dict[str, Any] | None = None,
) -> Any:
    from simengine.spec import ScenarioSpec

    row = frame.loc[origin]
    stochastic = default_structure().stochastic
    factors = {f: float(row[f]) for f in stochastic if np.isfinite(row[f])}
    horizon = (origin + pd.offsets.MonthEnd(cfg.horizon)).date()
    data = {
        "name": f"backtest-{origin:%Y-%m}",
        "start": origin.date(),
        "horizon": horizon,
        "frequency": "monthly",
        "assets": list(ASSETS),
        "initial": {
            "policy_rate": float(row["policy_rate"]),
            "tariff": float(row["tariff"]),
            "factors": factors,
            **(state or {}),
        },
        "paths": cfg.n_paths,
        "seed": cfg.seed + i,
    }
    return ScenarioSpec.from_data(data, source=f"<backtest origin {origin:%Y-%m}>")


def _origin_scenario(
    frame: pd.DataFrame, origin: pd.Timestamp, params: Any, cfg: BacktestConfig, i: int, market: Any
) -> tuple[Any, Any]:
    """The origin's scenario spec and compiled scenario (state of ``origin`` only)."""
    from simengine.data.fit_distribution import start_state
    from simengine.parts import build_scenario

    state = None if market is None else start_state(market.cut(origin), origin)
    spec = _origin_spec(history(frame, origin), origin, cfg, i, state)
    return spec, build_scenario(spec, params.structure)


def forecast_origin(
    frame: pd.DataFrame,
    origin: pd.Timestamp,
    params: Any,
    cfg: BacktestConfig,
    i: int = 0,
    market: Any = None,
) -> np.ndarray:
    """Simulated cumulative log returns over the horizon from ``origin``, shape (n_paths, 2).

    Uses only the row of ``origin`` (the state), the market state on that day (with
    ``market``) and ``params`` (fitted up to the origin).
    """
    spec, scn = _origin_scenario(frame, origin, params, cfg, i, market)
    return _simulate_origin(spec, scn, params, cfg)


def _simulate_origin(spec: Any, scn: Any, params: Any, cfg: BacktestConfig) -> np.ndarray:
    """:func:`forecast_origin` for an origin's built scenario (:func:`_origin_scenario`)."""
    from simengine.policy_model import policy_params
    from simengine.rng import BLOCK
    from simengine.simulate import RunConfig, run_scenarios

    chunk = -(-cfg.n_paths // BLOCK) * BLOCK
    run = RunConfig(cfg.n_paths, spec.seed, chunk_size=chunk, n_sample=cfg.n_paths)
    accs = run_scenarios([scn], params, run, policy=policy_params(params))
    R = accs[0].variable("sample_returns")  # (n, T, S) cumulative returns; series 0..1: assets
    return np.log1p(R[:, -1, : len(ASSETS)])


def with_sigma_scale(params: Any, scale: np.ndarray) -> Any:
    """``params`` with the residual volatility rescaled to ``sigma / sigma_scale * scale``
    (``scale`` per asset; the parameter-level recalibration of the model file's
    ``sigma_scale``)."""
    from dataclasses import replace

    res = params["residuals"]
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), res.sigma_scale.shape)
    new = replace(res, sigma=res.sigma / res.sigma_scale * scale, sigma_scale=scale.copy())
    return replace(params, values={**params.values, "residuals": new})


def _random_walk(known: pd.DataFrame, asset: str, cfg: BacktestConfig) -> tuple[float, float]:
    r = known[asset].dropna().iloc[-cfg.rw_window :]
    drift = float(r.mean()) if cfg.rw_drift == "mean" else 0.0
    return cfg.horizon * drift, float(r.std(ddof=1)) * np.sqrt(cfg.horizon)


def _vix_scale(vix: pd.Series | None, origin: pd.Timestamp) -> float | None:
    """VIX at the origin over the expanding mean of month-end VIX closes up to it."""
    if vix is None:
        return None
    known = vix.loc[:origin].dropna()
    return float(known.iloc[-1] / known.mean()) if len(known) else None


def _normal_scores(prefix: str, mean: float, sd: float, y: float) -> dict[str, Any]:
    row: dict[str, Any] = {
        f"{prefix}mean": mean,
        f"{prefix}sd": sd,
        f"{prefix}pit": pit_normal(mean, sd, y),
        f"{prefix}crps": crps_normal(mean, sd, y),
    }
    for c, inside in zip(LEVELS, coverage_normal(mean, sd, y), strict=True):
        row[f"{prefix}in{int(c * 100)}"] = inside
    return row


def _score_row(
    x: np.ndarray,
    y: float,
    rw: tuple[float, float],
    origin: pd.Timestamp,
    asset: str,
    vix_scale: float | None = None,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "origin": origin,
        "asset": asset,
        "realised": y,
        "mean": float(x.mean()),
        "sd": float(x.std(ddof=1)),
        "pit": pit_samples(x, y),
        "crps": crps_samples(x, y),
    }
    for c, inside in zip(LEVELS, coverage_samples(x, y), strict=True):
        row[f"in{int(c * 100)}"] = inside
    row.update(_normal_scores("rw_", rw[0], rw[1], y))
    if vix_scale is not None:
        row.update(_normal_scores("vrw_", rw[0], rw[1] * vix_scale, y))
    return row


class _PastErrors:
    """The unscaled model's forecasts (mean, variance, residual variance) and their PITs."""

    def __init__(self, frame: pd.DataFrame, days: list[pd.Timestamp], horizon: int) -> None:
        self.positions = np.array([frame.index.get_loc(d) for d in days])
        self.horizon = horizon
        n = (len(days), len(ASSETS))
        self.mean, self.var, self.resid = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        self.pit = np.full(n, np.nan)
        self.x: np.ndarray | None = None

    def forecast(self, i: int, x: np.ndarray, resid: np.ndarray) -> None:
        """Record origin ``i``'s unscaled forecast sample ``x`` (n, 2) and residual variance."""
        self.mean[i], self.var[i], self.resid[i], self.x = x.mean(0), x.var(0, ddof=1), resid, x

    def row(self, i: int, a: int) -> dict[str, float]:
        """The unscaled forecast of origin ``i``, asset ``a`` (``raw_*`` columns)."""
        return {
            "raw_mean": float(self.mean[i, a]),
            "raw_sd": float(np.sqrt(self.var[i, a])),
            "raw_resid_sd": float(np.sqrt(self.resid[i, a])),
            "raw_pit": float(self.pit[i, a]),
        }

    def add(self, i: int, realised: np.ndarray) -> None:
        """Record origin ``i``'s outcome: the unscaled forecast's PITs (read by later origins
        only once the outcome is known, :meth:`scale`)."""
        if self.x is not None:
            self.pit[i] = [pit_samples(self.x[:, a], realised[a]) for a in range(len(ASSETS))]
        self.x = None

    def scale(self, i: int) -> np.ndarray:
        """``sigma_scale`` per asset at origin ``i`` from the outcomes known at ``i`` only."""
        from simengine.backtest.recalibration import known_before, sigma_scale, variance_factor

        j = known_before(self.positions, i, self.horizon)
        j = j[np.isfinite(self.pit[j, 0])]  # origins that failed have no forecast
        share = self.resid[i] / self.var[i]
        return np.array(
            [
                sigma_scale(variance_factor(self.pit[j, a]), min(share[a], 1.0))
                for a in range(len(ASSETS))
            ]
        )


def _recalibrated_forecast(
    frame: pd.DataFrame,
    origin: pd.Timestamp,
    params: Any,
    cfg: BacktestConfig,
    i: int,
    market: Any,
    past: _PastErrors,
) -> tuple[np.ndarray, np.ndarray]:
    """The forecast sample at origin ``i`` and the ``sigma_scale`` it used (1 unrecalibrated).

    The unscaled forecast is recorded in ``past`` first (later origins estimate their scale on
    it); the scale of origin ``i`` reads only the errors known at ``i``.
    """
    spec, scn = _origin_scenario(frame, origin, params, cfg, i, market)  # once per origin
    x = _simulate_origin(spec, scn, params, cfg)
    ones = np.ones(len(ASSETS))
    if not cfg.recalibrate:
        return x, ones
    residual = params.parts["residuals"].residual_variance(scn, params["residuals"])[0]
    past.forecast(i, x, residual)
    scale = past.scale(i)
    if np.allclose(scale, 1.0):
        return x, ones
    return _simulate_origin(spec, scn, with_sigma_scale(params, scale), cfg), scale


def run_backtest(
    frame: pd.DataFrame,
    cfg: BacktestConfig,
    daily: pd.DataFrame | None = None,
    progress: Callable[[int, int], None] | None = None,
    vix: pd.Series | None = None,
    market: Any = None,
) -> pd.DataFrame:
    """Score rolling-origin forecasts; one row per origin and asset.

    Parameters
    ----------
    frame : DataFrame
        Monthly calibration table (:func:`simengine.data.build_table` ``.frame``).
    cfg : BacktestConfig
    daily : DataFrame, optional
        Daily log returns (:func:`simengine.data.fit.daily_closes`) for the squeeze jumps.
    progress : callable, optional
        ``progress(done, total)`` after each origin.
    vix : Series, optional
        Month-end VIX closes (:func:`simengine.data.estimate_volatility.monthly_vix`) for the
        VIX-scaled random walk (``vrw_*`` columns); without it (and without ``market``) that
        benchmark is left out.
    market : MarketData, optional
        Fit and start the packaged model's parts (see the module notes); its VIX also feeds
        the VIX-scaled random walk.

    Returns
    -------
    DataFrame
        Columns ``origin, asset, realised, mean, sd, pit, crps, in50, in80, in90`` and the same
        for the random walk (``rw_*``) and the VIX-scaled random walk (``vrw_*``).
        ``attrs["failed_origins"]`` maps origins whose
        simulation tripped a numerical guard (:class:`NumericalError`, e.g. a path beyond
        +10,000% from an extreme Student-t draw) to the message; they are not scored.
    """
    from simengine.data.estimate_volatility import monthly_vix

    frame = frame.sort_index()
    days = origins(frame, cfg)
    if vix is None and market is not None:
        vix = monthly_vix(market.vix)
    rows, params, failed = [], None, {}
    past = _PastErrors(frame, days, cfg.horizon)
    for i, origin in enumerate(days):
        if params is None or i % cfg.refit_every == 0:
            params = fit_params(frame, origin, daily if cfg.squeeze else None, market)
        pos = frame.index.get_loc(origin)
        realised = frame.iloc[pos + 1 : pos + 1 + cfg.horizon][list(ASSETS)].sum()
        try:
            x, scale = _recalibrated_forecast(frame, origin, params, cfg, i, market, past)
        except NumericalError as err:  # recorded, not hidden: see the module notes
            failed[f"{origin:%Y-%m}"] = str(err)
            continue
        past.add(i, realised.to_numpy(dtype=np.float64))
        known = history(frame, origin)
        vscale = _vix_scale(vix, origin)
        for j, asset in enumerate(ASSETS):
            rw = _random_walk(known, asset, cfg)
            row = _score_row(x[:, j], float(realised[asset]), rw, origin, asset, vscale)
            row.update(past.row(i, j), sigma_scale=float(scale[j]))
            rows.append(row)
        if progress is not None:
            progress(i + 1, len(days))
    out = pd.DataFrame(rows)
    out.attrs["failed_origins"] = failed
    return out
