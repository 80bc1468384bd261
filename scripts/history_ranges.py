"""Write ``simengine/models/history.json``: historical ranges scenario values are checked against.

Run from the repository root::

    /work/venv/bin/python scripts/history_ranges.py [--data ../shared/data] [--out PATH]

For every factor (rates, growth, inflation, credit; the units of the calibration table) it
records the range (and the 1% and 99% quantiles) of monthly values (what a one-off ``shock`` or a ``pin`` is compared with)
and the range of 12-month averages (what a sustained ``drift`` shift is compared with); for the
policy rate and the tariff rate, the range of monthly levels. ``simengine validate`` and
``simengine run`` warn, with these ranges, about scenario values outside them. ``fit_sample``:
the monthly ranges over the default model's fit sample, which the units warning on pins of a
monthly change (``rates``, ``credit``) quotes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simengine.data import build_table  # noqa: E402
from simengine.data.fit import SAMPLE  # noqa: E402

FACTORS = ("rates", "growth", "inflation", "credit")


def _span(series) -> dict[str, float | str]:
    s = series.dropna()
    return {
        "min": round(float(s.min()), 4),
        "max": round(float(s.max()), 4),
        "p01": round(float(s.quantile(0.01)), 4),
        "p99": round(float(s.quantile(0.99)), 4),
        "min_date": str(s.idxmin().date()),
        "max_date": str(s.idxmax().date()),
    }


def fit_sample_ranges(frame) -> dict:
    """(min, max) of each factor's monthly value, the policy rate and the tariff level over the
    default model's fit sample."""
    window = frame.loc[SAMPLE[0] : SAMPLE[1]]
    names = (*FACTORS, "policy_rate", "tariff")
    return {
        "sample": f"{SAMPLE[0]}..{SAMPLE[1]}",
        "monthly": {
            n: [round(float(window[n].min()), 3), round(float(window[n].max()), 3)] for n in names
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--out", default=str(ROOT / "simengine" / "models" / "history.json"))
    args = parser.parse_args()
    table = build_table(args.data)
    frame = table.frame
    doc = {
        "format": "simengine-history/1",
        "provenance": {
            "script": "scripts/history_ranges.py",
            "data_dir": "../shared/data (as of 2025-07-16)",
            "table_hash": table.data_hash,
            "sample": f"{frame.index.min().date()}..{frame.index.max().date()} monthly "
            "(credit from 1997-01; Covid months included: they are history)",
        },
        "monthly": {f: _span(frame[f]) for f in FACTORS},
        "avg_12m": {f: _span(frame[f].rolling(12).mean()) for f in FACTORS},
        "level": {f: _span(frame[f]) for f in ("policy_rate", "tariff")},
        "fit_sample": fit_sample_ranges(frame),
    }
    Path(args.out).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
