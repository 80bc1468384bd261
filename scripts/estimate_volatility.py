"""Study: the volatility state on 2025-07-16 and how fast it reverts (issue 11).

Prints, from ``../shared/data`` up to 2025-06 (the model's fit sample):

* the state on 2025-07-16: VIX close and each index's realised volatility over 63 trading days;
* the direct term structure: slope of log realised variance ``k`` months ahead on log VIX (and
  on log trailing realised variance), k = 1..12, and the implied 6-month volatility ratio of a
  VIX-35 start against the July 2025 start;
* arch's GJR-GARCH(1,1)-t on daily returns (1990-2025) and on monthly returns (three samples):
  the daily fit's one-exponential reversion (monthly persistence ``p^21``) is faster than the
  direct regressions show, and the monthly fit is unstable, which is why the model uses the
  direct curves (``simengine/data/estimate_volatility.py``).

Run::

    PYTHONPATH=. python scripts/estimate_volatility.py --data ../shared/data
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

from simengine.data.estimate_volatility import (
    fit_gjr_daily,
    fit_variance_term_structure,
    monthly_realised_variance,
    monthly_vix,
    state_on,
    trailing_variance,
    variance_ratios,
)
from simengine.data.fit_distribution import MarketData

START = "2025-07-16"
END = "2025-06-30"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = ap.parse_args()
    market = MarketData.load(args.data)
    vix_me = monthly_vix(market.vix).loc[:END]
    for name in ("small_cap", "large_cap", "market"):
        daily = market.daily[name].dropna()
        vix, rvol = state_on(market.vix, daily, START)
        known = daily.loc[:END]
        rv = monthly_realised_variance(known)
        rvs = trailing_variance(known).resample("ME").last()
        both = fit_variance_term_structure(rv, vix_me, rvs, known, mean_from="1997-01")
        alone = fit_variance_term_structure(
            rv, vix_me, rvs, known, mean_from="1997-01", realised=False
        )
        v_now = variance_ratios(both, vix, rvol, 6)
        v_35 = variance_ratios(both, 35.0, rvol, 6)
        print(f"\n{name}: state on {START}: VIX {vix:.2f}, realised vol {rvol:.2f}%")
        print("  slope on log VIX, VIX alone, k = 1..12:", np.round(alone["vix"], 2).tolist())
        print("  with realised: VIX", np.round(both["vix"], 2).tolist())
        print("                 realised", np.round(both["realised"], 2).tolist())
        print(f"  R^2 month 1: {both['r2'][0]:.2f}; mixing sd {both['mixing_sd']:.2f}")
        print(
            f"  6-month variance ratio now {v_now.mean():.2f}, at VIX 35 (realised held) "
            f"{v_35.mean():.2f}: sd ratio {np.sqrt(v_35.sum() / v_now.sum()):.2f}"
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gjr = fit_gjr_daily(daily.loc["1990":END])
        print(
            f"  GJR-GARCH-t daily 1990-2025: alpha {gjr['alpha']:.3f} gamma {gjr['gamma']:.3f} "
            f"beta {gjr['beta']:.3f} dof {gjr['dof']:.1f}; monthly persistence "
            f"{gjr['monthly_persistence']:.3f} (half-life {gjr['half_life_months']:.1f} months)"
        )
        if name == "market":
            continue
        from arch import arch_model

        for first, last in (("1990", "2007"), ("1990", "2015"), ("1997", "2025-06")):
            r = np.log1p(np.expm1(known.loc[first:last]).resample("ME").apply(np.sum))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = arch_model(
                    100 * (r - r.mean()), mean="Zero", vol="GARCH", p=1, o=1, q=1, dist="t"
                ).fit(disp="off")
            p = res.params
            pers = p["alpha[1]"] + p["gamma[1]"] / 2 + p["beta[1]"]
            print(f"  GJR-GARCH-t monthly {first}..{last}: persistence {pers:.3f}")


if __name__ == "__main__":
    main()
