"""Estimate the policy part (reaction function, path pass-through, growth channel) and print it.

Run from the repository root::

    /work/venv/bin/python scripts/estimate_policy.py [--data ../shared/data]

Prints YAML: the numbers ``scripts/fit_default_model.py`` writes into the model file, with
their standard errors and samples (see :mod:`simengine.data.estimate_policy`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simengine.data import build_table  # noqa: E402
from simengine.data.estimate_policy import estimate_policy  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    table = build_table(args.data).frame
    print(yaml.safe_dump(estimate_policy(table, args.data), sort_keys=False, width=100))


if __name__ == "__main__":
    main()
