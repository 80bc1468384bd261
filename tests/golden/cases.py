"""The golden cases: fixed-seed CLI outputs that a refactor must leave byte-identical.

Each case is a CLI invocation whose standard output (JSON) or batch summary (CSV) is stored
under ``tests/golden/expected/``. Regenerate them only for a deliberate change of numbers:

    python -m tests.golden.make_golden

and say in the commit message which numbers moved and why.

Masked stamps: ``model_hash``, ``posterior_hash``, ``spec_hash`` and batch ``key`` identify
inputs by hashing file text and schema; a change to how the model file is written (not to
its numbers) changes them, so they are compared for presence only. Everything else,
every number and every key, must match byte for byte.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent
EXPECTED = GOLDEN / "expected"
INPUTS = GOLDEN / "inputs"
MASKED = ("model_hash", "posterior_hash", "spec_hash", "key")
PATHS = "20000"
SEED = "7"

LIBRARY = sorted(p for p in (ROOT / "scenarios").glob("*.yaml"))
SEPT = "scenarios/fed_cut_september.yaml"
OCT = "scenarios/fed_cut_october.yaml"


def cases() -> dict[str, list[str]]:
    """Case name -> CLI arguments (run from the repository root; JSON on standard output)."""
    out: dict[str, list[str]] = {}
    for path in LIBRARY:
        rel = str(path.relative_to(ROOT))
        out[f"run_{path.stem}"] = ["run", rel, "--paths", PATHS, "--seed", SEED]
    out["compare_sept_oct"] = ["compare", SEPT, OCT, "--paths", PATHS, "--seed", SEED]
    out["compare_sept_oct_bayesian"] = [
        *("compare", SEPT, OCT, "--paths", "8192", "--seed", SEED),
        *("--method", "bayesian"),
    ]
    weekly = str((INPUTS / "weekly.yaml").relative_to(ROOT))
    out["run_weekly"] = ["run", weekly, "--paths", "8192", "--seed", SEED]
    return {name: [*args, "--format", "json"] for name, args in out.items()}


BATCH_ARGS = [
    *("batch", "scenarios/sweeps/cut_timing_size.yaml", "--workers", "0"),
    *("--paths", "4096", "--seed", "3"),
]


def _mask(value):
    if isinstance(value, dict):
        return {k: ("<stamp>" if k in MASKED else _mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def _cli(args: list[str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "simengine", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"simengine {' '.join(args)} failed:\n{proc.stderr}")
    return proc.stdout


def render_case(args: list[str]) -> str:
    """Run one case and return its masked JSON text (sorted keys, full float precision)."""
    return json.dumps(_mask(json.loads(_cli(args))), indent=1, sort_keys=True) + "\n"


def render_api() -> str:
    """Library results beyond the CLI JSON: factor means, levels and quantile paths (weekly)."""
    import simengine

    spec = simengine.load_scenario(INPUTS / "weekly.yaml")
    res = simengine.simulate(spec, n_paths=8192, seed=int(SEED))
    doc = {
        "factor_mean": res.factor_mean().values.tolist(),
        "factors": [str(f) for f in res.factor_mean().coords["factor"].values],
        "levels": res.levels().to_dict(orient="split"),
        "quantile_paths": res.quantile_paths().values.tolist(),
        "summary_mid": res.summary(time=5, wide=True).to_dict(orient="split"),
    }
    return json.dumps(doc, indent=1, sort_keys=True, default=str) + "\n"


def render_batch() -> str:
    """Run the batch case and return its summary table as CSV (masked, sorted, repr floats)."""
    with tempfile.TemporaryDirectory() as tmp:
        _cli([*BATCH_ARGS, "--out", str(Path(tmp) / "batch")])
        table = pd.read_parquet(Path(tmp) / "batch" / "summary.parquet")
    table = table.drop(columns=[c for c in MASKED if c in table.columns])
    table = table.sort_values(["scenario", "series"]).reset_index(drop=True)
    return table.to_csv(index=False, float_format=repr)
