"""Study: which change to the return distribution buys how much out-of-sample skill (issue 11).

Rolling origins 2000-01..2025-06, 6-month horizon, refit every 12 origins on data up to the
origin only (as ``simengine backtest``). At each origin the baseline forecast is simulated from
its pieces, so that each piece can be switched on alone:

* ``news``: asset returns load on factor news (the VAR innovations) instead of factor changes,
  so predictable factor moves (the credit ECM, the VAR's own dynamics) carry no drift;
* ``drift``: mu shrunk to the long-run prior (:mod:`simengine.data.estimate_drift`) with the
  weight chosen out of sample;
* ``vol``: VIX-anchored variance term structure (:mod:`simengine.data.estimate_volatility`):
  ``vix`` (VIX only) or ``vix+rv`` (VIX and trailing realised variance);
* ``mix``: a per-path log-normal variance level with the estimated ``mixing_sd``.

Scores: CRPS (``scoringrules``) skill against the random walk with trailing 60-month volatility
and against the VIX-scaled random walk, 50/80/90% coverage, mean PIT. Prints one line per
variant. Run::

    PYTHONPATH=. python scripts/study_distributions.py --data ../shared/data --paths 2048
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simengine.backtest.core import ASSETS, BacktestConfig, fit_params, history, origins
from simengine.backtest.scores import crps_normal, crps_samples
from simengine.data import build_table
from simengine.data.estimate_drift import choose_shrinkage, drift_prior, market_excess, spx_monthly
from simengine.data.estimate_volatility import (
    fit_realised_given_vix,
    fit_variance_term_structure,
    implied_realised_vol,
    monthly_realised_variance,
    monthly_vix,
    read_vix,
    state_on,
    trailing_variance,
    variance_ratios,
)
from simengine.data.fit import daily_closes
from simengine.data.loaders import read_index_csv
from simengine.data.series import mark_stale
from simengine.spec.model_file import ASSET_EXPOSURES, STOCHASTIC_FACTORS

FACTOR_COLS = [ASSET_EXPOSURES.index(f) for f in STOCHASTIC_FACTORS]
FIT_START = "1997-01"


@dataclass
class Inputs:
    frame: pd.DataFrame
    daily: pd.DataFrame  # small_cap, large_cap, market daily log returns
    vix: pd.Series
    vix_me: pd.Series
    spx: pd.Series
    excess: pd.Series
    priors: dict[str, pd.Series] = field(default_factory=dict)


def load(data: Path) -> Inputs:
    frame = build_table(data).frame.sort_index()
    daily = daily_closes(data)
    spx_close = mark_stale(read_index_csv(data / "equity/SPX_index_daily.csv")["Close"])
    daily = daily.join(np.log(spx_close).diff().rename("market"), how="outer")
    vix = read_vix(data)
    inp = Inputs(frame, daily, vix, monthly_vix(vix), spx_monthly(data), market_excess(data))
    months = frame.loc["1992-01":].index
    for a in ASSETS:
        inp.priors[a] = pd.Series(
            {m: drift_prior(frame[a], inp.spx, inp.excess, m)["centre"] for m in months}
        )
    return inp


def news_fit(frame: pd.DataFrame, params: Any, origin: pd.Timestamp) -> dict[str, np.ndarray]:
    """Asset regressions on the VAR innovations (news) and the policy gap, data up to origin."""
    z = frame[list(STOCHASTIC_FACTORS)]
    gap = frame["policy_rate"].shift(1) - float(params.neutral[0])
    pred = (
        params.c[0] + z.shift(1).to_numpy() @ params.A[0].T + gap.to_numpy()[:, None] * params.g[0]
    )
    u = pd.DataFrame(z.to_numpy() - pred, index=frame.index, columns=list(STOCHASTIC_FACTORS))
    data = pd.concat([frame[list(ASSETS)], u, gap.rename("gap")], axis=1).loc[FIT_START:origin]
    data = data.drop(index=pd.date_range("2020-03", "2020-07", freq="ME").intersection(data.index))
    data = data.dropna()
    x = np.column_stack([np.ones(len(data)), data[list(STOCHASTIC_FACTORS)], data["gap"]])
    beta, sigma, mu = [], [], []
    for a in ASSETS:
        coef, *_ = np.linalg.lstsq(x, data[a].to_numpy(), rcond=None)
        resid = data[a].to_numpy() - x @ coef
        beta.append(coef[1:5])
        sigma.append(resid.std(ddof=x.shape[1]) * np.sqrt(12.0))
        mu.append(12.0 * float(data[a].mean()))  # E[u] = 0: the drift is the mean return
    return {"beta": np.array(beta), "sigma": np.array(sigma), "mu_hat": np.array(mu)}


def vol_fit(inp: Inputs, origin: pd.Timestamp, realised: bool) -> dict[str, dict[str, Any]]:
    out = {}
    for a in (*ASSETS, "market"):
        d = inp.daily[a].dropna().loc[: origin + pd.offsets.MonthEnd(0)]
        rv = monthly_realised_variance(d).loc[:origin]
        rvs = trailing_variance(d).resample("ME").last().loc[:origin]
        use_rv = realised and a != "market"  # the VIX is the S&P 500's own state
        coefs = fit_variance_term_structure(
            rv, inp.vix_me.loc[:origin], rvs, d, mean_from=FIT_START, realised=use_rv
        )
        given = fit_realised_given_vix(rvs, inp.vix_me.loc[:origin])
        vix, rvol = state_on(inp.vix, d, origin)
        out[a] = {"coefs": coefs, "state": (vix, rvol)}
        out[a + ":implied"] = {"coefs": coefs, "state": (vix, implied_realised_vol(given, vix))}
    return out


def simulate(
    rng: np.random.Generator,
    n: int,
    h: int,
    p: Any,
    nf: dict,
    mu: np.ndarray,
    gap: float,
    v_asset: np.ndarray,
    v_market: np.ndarray,
    mix_sd: float,
    news: bool,
    xf: np.ndarray | None,
) -> np.ndarray:
    """(n, 2) cumulative log returns over ``h`` months."""
    level = np.exp(mix_sd * rng.standard_normal((n, 1, 1)) - 0.5 * mix_sd**2) if mix_sd else 1.0
    nu_f, nu_a = float(p.nu_f[0]), float(p.nu_a[0])
    e = _t(rng, (n, h, len(STOCHASTIC_FACTORS)), nu_f) * np.sqrt(v_market[None, :, None] * level)
    u = e @ p.chol[0].T
    if news:
        factor_part = (u @ nf["beta"].T).sum(axis=1)
        sigma = nf["sigma"]
    else:
        factor_part = xf
        sigma = p.sigma[0]
    eps = _t(rng, (n, h, len(ASSETS)), nu_a) @ p.chol_a[0].T
    resid = eps * np.sqrt(v_asset[None] * level) * sigma / np.sqrt(12.0)
    carry = p.kappa[0] * gap
    return factor_part + h / 12.0 * (mu - carry) + resid.sum(axis=1)


def _t(rng: np.random.Generator, shape: tuple[int, ...], nu: float) -> np.ndarray:
    z = rng.standard_normal(shape)
    if np.isfinite(nu):
        w = rng.chisquare(nu, shape[:-1] + (1,)) / nu
        z *= np.sqrt((nu - 2.0) / nu / w)
    return z


VARIANTS = {
    "now (engine pieces, no squeeze)": dict(news=False, drift=False, vol=None, mix=False),
    "+news": dict(news=True, drift=False, vol=None, mix=False),
    "+news+drift": dict(news=True, drift=True, vol=None, mix=False),
    "+news+drift+vol(vix)": dict(news=True, drift=True, vol="vix", mix=False),
    "+news+drift+vol(vix+rv)": dict(news=True, drift=True, vol="vix+rv", mix=False),
    "+news+drift+vol(vix+rv)+mix": dict(news=True, drift=True, vol="vix+rv", mix=True),
    "+news+drift+vol(vix)+mix": dict(news=True, drift=True, vol="vix", mix=True),
    "+news+drift+vol(vix+rv implied)+mix": dict(
        news=True, drift=True, vol="vix+rv", mix=True, implied=True
    ),
    "+news+drift+vol(vix+rv)+mix, factors unscaled": dict(
        news=True, drift=True, vol="vix+rv", mix=True, factors=False
    ),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--paths", type=int, default=2048)
    ap.add_argument("--horizon", type=int, default=6)
    args = ap.parse_args()
    inp = load(args.data)
    cfg = BacktestConfig(horizon=args.horizon, n_paths=args.paths, squeeze=False)
    days = origins(inp.frame, cfg)
    rows: dict[str, list[dict[str, float]]] = {k: [] for k in VARIANTS}
    fits: dict[str, Any] = {}
    for i, origin in enumerate(days):
        if i % cfg.refit_every == 0:
            p = fit_params(inp.frame, origin, None)
            nf = news_fit(inp.frame, p, origin)
            vols = {"vix": vol_fit(inp, origin, False), "vix+rv": vol_fit(inp, origin, True)}
            weights = {
                a: choose_shrinkage(inp.frame[a], inp.priors[a], FIT_START, origin, args.horizon)
                for a in ASSETS
            }
            fits = {"p": p, "nf": nf, "vols": vols, "weights": weights}
        p, nf = fits["p"], fits["nf"]
        gap = float(inp.frame.loc[origin, "policy_rate"] - p.neutral[0])
        pos = inp.frame.index.get_loc(origin)
        realised = inp.frame.iloc[pos + 1 : pos + 1 + args.horizon][list(ASSETS)].sum().to_numpy()
        known = history(inp.frame, origin)
        rw_sd = known[list(ASSETS)].iloc[-60:].std().to_numpy() * np.sqrt(args.horizon)
        vme = inp.vix_me.loc[:origin]
        vscale = float(vme.iloc[-1] / vme.mean())
        prior = np.array([inp.priors[a].loc[origin] for a in ASSETS])
        w = np.array([fits["weights"][a]["weight"] for a in ASSETS])
        xf = None
        for name, v in VARIANTS.items():
            rng = np.random.default_rng([cfg.seed, i])
            vol = fits["vols"].get(v["vol"]) if v["vol"] else None
            h = args.horizon
            if vol is None:
                va, vm, mix = np.ones((h, 2)), np.ones(h), 0.0
            else:
                key = ":implied" if v.get("implied") else ""
                va = np.stack(
                    [
                        variance_ratios(vol[a + key]["coefs"], *vol[a + key]["state"], h)
                        for a in ASSETS
                    ],
                    -1,
                )
                vm = variance_ratios(vol["market"]["coefs"], *vol["market"]["state"], h)
                mix = vol["market"]["coefs"]["mixing_sd"] if v["mix"] else 0.0
                if not v.get("factors", True):
                    vm = np.ones(h)
            if v["news"]:
                mu = w * prior + (1 - w) * nf["mu_hat"] if v["drift"] else nf["mu_hat"]
            else:
                mu = p.mu[0]
                if xf is None:
                    xf = _raw_factor_part(rng, args.paths, h, p)
            x = simulate(rng, args.paths, h, p, nf, mu, gap, va, vm, mix, v["news"], xf)
            for j, a in enumerate(ASSETS):
                rows[name].append(_scores(x[:, j], realised[j], rw_sd[j], vscale, a))
    for name, r in rows.items():
        print(f"{name:34s} " + " | ".join(_line(pd.DataFrame(r), a) for a in ASSETS))


def _raw_factor_part(rng: np.random.Generator, n: int, h: int, p: Any) -> np.ndarray:
    """Sum over the horizon of beta . z_t with z the VAR's own path (from the unconditional mean)."""
    nu_f = float(p.nu_f[0])
    z = np.linalg.solve(np.eye(p.A.shape[-1]) - p.A[0], p.c[0])  # start at the mean
    z = np.broadcast_to(z, (n, z.size)).copy()
    total = np.zeros((n, len(ASSETS)))
    beta = p.beta[0][:, FACTOR_COLS]
    for _ in range(h):
        z = p.c[0] + z @ p.A[0].T + _t(rng, (n, z.shape[1]), nu_f) @ p.chol[0].T
        total += z @ beta.T
    return total


def _scores(x: np.ndarray, y: float, rw_sd: float, vscale: float, asset: str) -> dict[str, float]:
    q = np.quantile(x, [0.25, 0.75, 0.1, 0.9, 0.05, 0.95])
    return {
        "asset": asset,
        "crps": crps_samples(x, y),
        "rw": crps_normal(0.0, rw_sd, y),
        "vrw": crps_normal(0.0, rw_sd * vscale, y),
        "pit": float(np.mean(x < y)),
        "c50": float(q[0] <= y <= q[1]),
        "c80": float(q[2] <= y <= q[3]),
        "c90": float(q[4] <= y <= q[5]),
    }


def _line(df: pd.DataFrame, asset: str) -> str:
    g = df[df["asset"] == asset]
    rw, vrw, crps = g["rw"].mean(), g["vrw"].mean(), g["crps"].mean()
    return (
        f"{asset[:5]} skill {1 - crps / rw:+.3f} (vix-rw {1 - vrw / rw:+.3f}) c50 {g['c50'].mean():.2f} "
        f"c80 {g['c80'].mean():.2f} c90 {g['c90'].mean():.2f} pit {g['pit'].mean():.3f}"
    )


if __name__ == "__main__":
    main()
