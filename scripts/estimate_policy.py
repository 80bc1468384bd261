"""Estimate the policy part and write ``simengine/models/policy.yaml`` (or print it).

Run from the repository root::

    /work/venv/bin/python scripts/estimate_policy.py [--data ../shared/data] [--out PATH | --print]

What is estimated, and on what (all recorded in the file's ``provenance``; the methods are in
:mod:`simengine.data.estimate_policy`): the ordered-probit reaction function, the path
pass-through from FOMC decision days, and the growth channel.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simengine.data import build_table, file_sha256  # noqa: E402
from simengine.data.estimate_policy import estimate_policy  # noqa: E402

FILES = (
    "fed_policy/DFEDTARU.csv",
    "fed_policy/DFEDTARL.csv",
    "fed_policy/fomc_meeting_dates_2021_2025.csv",
    "fred/DGS2.csv",
    "fred/DGS10.csv",
    "fred/PAYEMS.csv",
    "fred/UNRATE.csv",
)

SOURCES = {
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
}


def build(data: Path) -> dict:
    table = build_table(data).frame
    est = estimate_policy(table, data)
    rf, pt, gc = est["reaction_function"], est["path_pass_through"], est["growth_channel"]
    chosen = gc["chosen"]
    if chosen is None:
        raise SystemExit("no growth measure has a significant negative response; see the output")
    return {
        "format": "simengine-policy/1",
        "path_pass_through": round(pt["value"], 4),
        "window_months": 24.0,
        "reaction": {
            "slopes": {
                k: round(rf["coefficients"][k], 4) for k in ("growth3", "inflation3", "credit1")
            },
            "cutpoints": [round(c, 4) for c in rf["cutpoints"]],
        },
        "growth_channel": {
            "measure": chosen,
            "gamma": round(gc[chosen]["gamma"], 5),
            "lags": [1, 12],
        },
        "historical_ranges": {
            k: [round(v[0], 3), round(v[1], 3)] for k, v in est["historical_ranges"].items()
        },
        "provenance": {
            "script": "scripts/estimate_policy.py",
            "fitted": dt.date.today().isoformat(),
            "data_dir": "../shared/data (as of 2025-07-16)",
            "data_files": {f: file_sha256(data / f) for f in FILES},
            "methods": SOURCES,
            "reaction_estimates": rf,
            "path_pass_through_estimates": pt,
            "growth_channel_estimates": gc,
            "historical_ranges": "monthly values of the factors (rates: 2-year change pp; growth: "
            "IP growth pp; inflation: annualised core CPI minus 2; credit: HY spread change pp), "
            "policy rate and tariff level (%), 1997-01..2025-06, for the units warning on pins",
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "simengine" / "models" / "policy.yaml")
    parser.add_argument("--print", action="store_true", help="print instead of writing")
    args = parser.parse_args()
    text = (
        "# simengine policy part. GENERATED by scripts/estimate_policy.py: do not edit by hand.\n"
        + yaml.safe_dump(build(args.data), sort_keys=False, width=100)
    )
    if args.print:
        print(text)
    else:
        args.out.write_text(text)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
