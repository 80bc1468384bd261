"""Study: tariffs as news, from the 2025 event days and the weeks after (issue 11).

Prints the event windows, the net returns 5..63 trading days after each (later tariff news
removed at the event-day loading), the share of the event move undone at each horizon and the
exponential curve through them (``simengine.data.estimate_tariff.fit_reversal``), and the fit
of event-window returns on the statutory vs the Budget Lab effective rate.

Run::

    PYTHONPATH=. python scripts/estimate_tariff_news.py --data ../shared/data
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from simengine.data.estimate_tariff import compare_rates, event_table, fit_reversal
from simengine.data.fit import TARIFF_EVENTS, tariff_events


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = ap.parse_args()
    loadings = tariff_events(args.data)
    beta = {a: loadings[a][0] for a in ("small_cap", "large_cap")}
    print("event-day loadings (log return per pp of statutory rate):", beta)
    table = event_table(args.data, TARIFF_EVENTS, beta)
    with pd.option_context("display.width", 200):
        print(table.drop(columns="what").round(4).to_string())
    fit = fit_reversal(table)
    for h, (share, se) in fit["share_by_horizon"].items():
        print(f"  share undone after {h:2d} trading days: {share:+.2f} (s.e. {se:.2f})")
    print(
        f"curve: share {fit['share']:.2f}, half-life {fit['half_life_days']:.2f} trading days "
        f"(rate at its bound of 2/day means: within the first week)"
    )
    for rate, r2 in compare_rates(args.data, TARIFF_EVENTS).items():
        print(f"{rate:10s} R^2 RUT {r2['small_cap']:.2f}, NDX {r2['large_cap']:.2f}")


if __name__ == "__main__":
    main()
