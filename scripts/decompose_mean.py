"""Study: the base case's mean return to the horizon, part by part (issue 11).

Simulates ``scenarios/base_2025h2.yaml`` with the packaged default model, then again with one
part's contribution switched off at a time, on common random numbers: cumulative log returns
are additive in the parts, so each difference of mean log returns is that part's contribution
(exactly, path by path, not a Monte Carlo difference). Parts: drift (``mu``), carry
(``kappa``, the policy rate above neutral), the policy part's channels (announcement,
repricing of the expected path, growth channel: :data:`simengine.policy.CHANNELS`),
factor news other than credit, credit news, tariffs (loading and reversal), squeeze jumps (off
in the base; also shown with ``positioning.squeeze: true``), and the residual. Prints a table in
percent of mean log return, and the mean simple return for reference.

Run::

    PYTHONPATH=. python scripts/decompose_mean.py [--paths 65536]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

import simengine
from simengine.parts import build_scenario
from simengine.policy import CHANNELS
from simengine.policy_model import policy_params
from simengine.simulate import RunConfig, run_scenarios

ROOT = Path(__file__).resolve().parents[1]


def log_returns(spec, params, n: int, seed: int, policy=None) -> np.ndarray:
    """Terminal cumulative log returns (n, N) of the assets (``policy``: the policy part's
    parameters, default the packaged ones)."""
    scn = build_scenario(spec, params.structure)
    policy = policy or policy_params(params)
    cfg = RunConfig(n, seed, chunk_size=4096, n_sample=n)
    accs = run_scenarios([scn], params, cfg, policy=policy)
    return np.log1p(accs[0].variable("sample_returns")[:, -1, : len(params.assets)])


def switched_off(params, role: str, **fields) -> object:
    values = dict(params.values)
    values[role] = replace(values[role], **fields)
    return replace(params, values=values)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--paths", type=int, default=1 << 16)
    ap.add_argument("--seed", type=int, default=20250716)
    args = ap.parse_args()
    spec = simengine.load_scenario(ROOT / "scenarios" / "base_2025h2.yaml")
    params = simengine.load_model("default")
    ret = params["returns"]
    exposures = params.structure.exposures
    credit = exposures.index("credit")
    tariff = exposures.index("tariff")
    factor_cols = [exposures.index(f) for f in params.structure.stochastic if f != "credit"]

    def zero_beta(cols):
        beta = ret.beta.copy()
        beta[..., cols] = 0.0
        return switched_off(params, "returns", beta=beta)

    variants = {
        "drift (mu)": switched_off(params, "returns", mu=np.zeros_like(ret.mu)),
        "carry (kappa)": switched_off(params, "returns", kappa=np.zeros_like(ret.kappa)),
        "factor news (rates, growth, inflation)": zero_beta(factor_cols),
        "credit news": zero_beta([credit]),
        "tariffs": zero_beta([tariff]),
    }
    total = log_returns(spec, params, args.paths, args.seed)
    rows = {}
    for name, p in variants.items():
        rows[name] = (total - log_returns(spec, p, args.paths, args.seed)).mean(axis=0)
    no_policy = policy_params(params).without(*CHANNELS)
    rows["policy (announcement, repricing, growth channel)"] = (
        total - log_returns(spec, params, args.paths, args.seed, no_policy)
    ).mean(axis=0)
    positioning = spec.positioning.model_dump()
    on = spec.with_overrides(positioning={**positioning, "squeeze": True})
    rows["squeeze jumps (off in the base)"] = np.zeros(len(params.assets))
    rows["  with positioning.squeeze: true"] = (
        log_returns(on, params, args.paths, args.seed) - total
    ).mean(axis=0)
    explained = sum(v for k, v in rows.items() if not k.startswith("  "))
    rows["residual and rest (volatility state, t shocks)"] = total.mean(axis=0) - explained
    names = params.assets
    print(f"base_2025h2, {args.paths} paths: mean cumulative log return to 2025-12-31, by part (%)")
    print(f"{'part':48s}" + "".join(f"{a:>12s}" for a in names))
    for name, v in rows.items():
        print(f"{name:48s}" + "".join(f"{100 * x:12.2f}" for x in v))
    print(f"{'total':48s}" + "".join(f"{100 * x:12.2f}" for x in total.mean(axis=0)))
    simple = np.expm1(total).mean(axis=0)
    print(f"{'mean simple return':48s}" + "".join(f"{100 * x:12.2f}" for x in simple))


if __name__ == "__main__":
    main()
