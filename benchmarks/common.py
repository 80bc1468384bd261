"""Workloads shared by the asv benchmarks (``benchmarks/bench_*.py``) and ``benchmarks/run.py``.

Every workload is a plain function, so the asv classes and the table script time exactly the
same code. Heavy optional imports (statsmodels, pyesg, pymc, dask) happen inside the functions
that need them.

The benchmark model
-------------------
The workloads run the packaged default model (``simengine/models/default.yaml``), as a user's
``simengine run`` does. Until main 141a0f5 they ran a private twin of it with lighter factor
tails (``innovation_dof: 6``), because the packaged model's Student-t tails (factor dof 3.43,
later floored at 5; residual dof 5.06) sent a few paths per ten million beyond the engine's
+-10,000% guard. With the tails fitted given the volatility state (Gaussian residuals, factor
dof 7.86) a 1e8-path run finishes, so the twin is gone. The floor is exactly the packaged
model's random numbers: Student-t factor innovations (normals and gamma mixing draws),
Gaussian residuals (normals only), jump sizes and uniforms.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "fed_cut_september.yaml"
SHARED_DATA = next(
    (
        p
        for p in (ROOT.parent / "shared" / "data", ROOT.parents[1] / "shared" / "data")
        if p.is_dir()
    ),
    ROOT.parent / "shared" / "data",
)
"""The real data folder: ``../shared/data`` beside the checkout (or beside a worktree folder)."""
__all__ = [
    "SCENARIO",
    "bench_spec",
    "best_time",
    "FloorBuffers",
    "draw_block_floor",
    "draw_floor",
    "engine_plan",
    "engine_run",
    "measure_subprocess",
    "numpy_loop_var",
    "peer_var_setup",
    "pyesg_wiener",
    "require_bench_extra",
    "simengine_var",
    "statsmodels_var",
    "vm_hwm_kib",
]


def bench_spec(frequency: str = "monthly", horizon: str | None = None) -> Any:
    """The September-cut scenario on the packaged default model, on the given grid and horizon."""
    import simengine

    changes: dict[str, Any] = {"frequency": frequency}
    if horizon is not None:
        changes["horizon"] = horizon
        changes |= _bench_calendar(date.fromisoformat(horizon))
    return simengine.load_scenario(SCENARIO).with_overrides(**changes)


def _bench_calendar(horizon: date) -> dict[str, Any]:
    """``fomc_calendar`` for a horizon past the built-in FOMC calendar (benchmark only).

    The long-horizon rows time the engine per step, which does not depend on the meeting days:
    after the built-in calendar's last year its month-days are repeated each year. These are
    not the Fed's dates; no result of these runs is read as a forecast.
    """
    from simengine.calendar import FOMC_CALENDAR_END, FOMC_DECISION_DATES

    if horizon <= FOMC_CALENDAR_END:
        return {}
    last = [d for d in FOMC_DECISION_DATES if d.year == FOMC_CALENDAR_END.year]
    later = [
        d.replace(year=y) for y in range(FOMC_CALENDAR_END.year + 1, horizon.year + 1) for d in last
    ]
    return {"fomc_calendar": (*FOMC_DECISION_DATES, *later)}


def engine_run(spec: Any, n_paths: int, threads: int = 1, seed: int = 1) -> Any:
    """The full simulation (factors, overlays, assets, compounding, statistics) and its summary."""
    import simengine

    result = simengine.simulate(spec, n_paths=n_paths, seed=seed, threads=threads)
    return result.summary(wide=True)


def engine_plan(spec: Any, n_paths: int, seed: int = 1) -> tuple[Any, np.random.SeedSequence]:
    """The engine's :class:`~simengine.rng.DrawPlan` and root seed for ``spec`` at ``n_paths``."""
    from simengine.api import load_params_for
    from simengine.parts import build_scenario
    from simengine.policy_model import policy_params
    from simengine.simulate import RunConfig, _Engine

    params = load_params_for(spec)
    model = build_scenario(spec, params.structure)
    policy = policy_params(params)
    engine = _Engine([model], params, RunConfig(n_paths, seed), policy)
    return engine.plan, engine.root


class FloorBuffers:
    """One random-number block's draws, allocated once and refilled for every block.

    The arrays hold exactly what the engine's generators produce for a block
    (:func:`simengine.rng.draw_blocks`), before any Student-t scaling, transposition or
    antithetic mirroring: per stream (by name) its normals or uniforms, and for Student-t
    streams the gamma variates of the mixing (``gamma[name]``).
    """

    def __init__(self, plan: Any) -> None:
        from simengine.rng import BLOCK

        self.half = -(-BLOCK // 2) if plan.antithetic else BLOCK
        self.values: dict[str, np.ndarray] = {}
        self.gamma: dict[str, np.ndarray] = {}
        for s in plan.streams:
            size = int(np.prod(s.shape))
            if size == 0:
                continue
            if s.dist in ("uniform_steps", "uniform_events"):
                # event-major (lead, h) arrays live in flat storage: a short block stays contiguous
                self.values[s.name] = np.empty(size * self.half)
            else:
                self.values[s.name] = np.empty((self.half, *s.shape))
            if s.dist == "student_t":
                self.gamma[s.name] = np.empty((self.half, s.shape[0]))

    def event_major(self, name: str, h: int) -> np.ndarray:
        """The first ``lead * h`` values of a flat buffer as a contiguous (lead, h) array."""
        flat = self.values[name]
        lead = flat.size // self.half
        return flat[: lead * h].reshape(lead, h)


def _gamma_into(gen: np.random.Generator, nu: np.ndarray, out: np.ndarray) -> None:
    """The engine's chi-square mixing draws (``standard_gamma(nu / 2)``) into ``out``."""
    finite = np.isfinite(nu)
    if finite.all() and (nu == nu[0]).all():
        gen.standard_gamma(float(nu[0]) / 2.0, out=out)
    else:  # one shape per path (posterior draws): the array-shape sampler, as in the engine
        shape = np.where(finite, nu, 4.0)[:, None] / 2.0
        out[...] = gen.standard_gamma(np.broadcast_to(shape, out.shape))


def draw_block_floor(
    root: np.random.SeedSequence, block: int, plan: Any, buf: FloorBuffers
) -> None:
    """Draw the random numbers of block ``block`` into ``buf``: same streams, same numbers.

    The fastest numpy route: one generator per (block, stream) exactly as the engine seeds
    them, each filling a preallocated buffer (``out=``); streams with no numbers are skipped.
    """
    from simengine.rng import Kind, _stream

    n = plan.block_length(block)
    h = -(-n // 2) if plan.antithetic else n
    if plan.n_param_draws > 1:
        param_draw = _stream(root, block, Kind.PARAM_DRAW).integers(0, plan.n_param_draws, size=h)
    else:
        param_draw = np.zeros(h, dtype=np.int64)
    for s in plan.streams:
        if s.name not in buf.values:
            continue
        gen = _stream(root, block, s.kind)
        if s.dist in ("uniform_steps", "uniform_events"):
            gen.random(out=buf.event_major(s.name, h))
            continue
        gen.standard_normal(out=buf.values[s.name][:h])
        if s.dist == "student_t":
            nu = np.asarray(s.nu)[param_draw]
            if np.isfinite(nu).any():
                _gamma_into(_stream(root, block, s.scale_kind), nu, buf.gamma[s.name][:h])


def draw_floor(spec: Any, n_paths: int, seed: int = 1) -> None:
    """The honest random-number floor of :func:`engine_run`: the engine's random numbers only.

    Every block's numbers come from the same streams as in the engine and are written into one
    set of reused buffers; no Student-t scaling, transposes, concatenation or fresh arrays.
    """
    plan, root = engine_plan(spec, n_paths, seed)
    buf = FloorBuffers(plan)
    for block in range(plan.n_blocks):
        draw_block_floor(root, block, plan, buf)


def best_time(fn: Callable[[], Any], repeat: int = 1, warmup: bool = False) -> float:
    """Best wall time of ``repeat`` calls (seconds), after an optional untimed call."""
    if warmup:
        fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


# VmHWM (this process's own high-water mark), not ru_maxrss: Linux carries ru_maxrss across
# fork + exec, so a child of a big parent would report at least the parent's RSS.
_CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from benchmarks.common import bench_spec, engine_run, vm_hwm_kib
spec = bench_spec({frequency!r}, {horizon!r})
engine_run(spec, 4096)  # imports and caches outside the measurement
base = vm_hwm_kib()
start = time.perf_counter()
engine_run(spec, {n_paths}, threads={threads})
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "peak_kib": vm_hwm_kib(), "base_kib": base}}))
"""


def vm_hwm_kib() -> int:
    """Peak resident set size of this process (``VmHWM`` in ``/proc/self/status``), KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure_subprocess(
    n_paths: int, threads: int = 1, frequency: str = "monthly", horizon: str | None = None
) -> dict[str, float]:
    """Time and peak RSS of one simulation in a fresh interpreter.

    Returns
    -------
    dict
        ``seconds`` (simulation only), ``peak_mib`` (peak RSS of the process, imports
        included) and ``base_mib`` (peak RSS after imports and a 4096-path warm-up).
    """
    code = _CHILD.format(
        root=str(ROOT), frequency=frequency, horizon=horizon, n_paths=n_paths, threads=threads
    )
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "seconds": data["seconds"],
        "peak_mib": data["peak_kib"] / 1024.0,
        "base_mib": data["base_kib"] / 1024.0,
    }


# --- peers: a correlated 5-factor VAR(1) -----------------------------------------------------


def require_bench_extra() -> None:
    """Fail with the install command unless the peers of the ``bench`` extra are importable."""
    import importlib.util

    missing = [m for m in ("statsmodels", "pyesg") if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(f"peer benchmarks need {', '.join(missing)}: pip install -e '.[bench]'")


PEER_FACTORS = 5


def peer_var_setup(seed: int = 0) -> Any:
    """A statsmodels VAR(1) with intercept, fitted to 400 observations of a random 5-factor VAR."""
    from statsmodels.tsa.api import VAR

    rng = np.random.default_rng(seed)
    K = PEER_FACTORS
    A = 0.5 * np.eye(K) + 0.05 * rng.standard_normal((K, K))
    L = np.linalg.cholesky(0.5 * np.eye(K) + 0.5 * np.ones((K, K)))
    y = np.zeros((400, K))
    for t in range(1, 400):
        y[t] = 0.1 + A @ y[t - 1] + L @ rng.standard_normal(K)
    return VAR(y).fit(1)


def statsmodels_var(results: Any, n_paths: int, n_steps: int, seed: int = 1) -> np.ndarray:
    """``VARResults.simulate_var(steps, nsimulations=n_paths)`` (statsmodels >= 0.14)."""
    # steps counts the initial observation, so ask for one more to get n_steps new ones
    return results.simulate_var(
        steps=n_steps + 1, nsimulations=n_paths, rng=np.random.default_rng(seed)
    )


def simengine_var(results: Any, n_paths: int, n_steps: int, seed: int = 1) -> np.ndarray:
    """The same VAR on simengine: shocks from :func:`simengine.rng.draw_blocks`, then
    :func:`simengine.parts.dynamics.propagate` on the fused kernel (chunked like the engine)."""
    from types import SimpleNamespace

    from simengine.blas import single_threaded_blas
    from simengine.parts.dynamics import propagate
    from simengine.rng import BLOCK, DrawPlan, Kind, Stream, draw_blocks, root_seed
    from simengine.simulate import default_chunk_size

    K = PEER_FACTORS
    A = results.coefs[0][None]  # (D=1, K, K)
    chol = np.linalg.cholesky(results.sigma_u)[None]
    c = np.asarray(results.intercept)
    pp = SimpleNamespace(A=A, chol=chol)
    scn = SimpleNamespace(pin_mask=np.zeros((n_steps, K), bool), pin_value=np.zeros((n_steps, K)))
    plan = DrawPlan(n_paths, (Stream("factor", Kind.FACTOR, "normal", (n_steps, K)),))
    root = root_seed(seed)
    exog = np.broadcast_to(c, (1, n_steps, K))
    z0 = np.zeros((1, K))
    per_chunk = default_chunk_size(n_steps) // BLOCK
    last = None
    with single_threaded_blas():  # as inside the engine
        for b0 in range(0, plan.n_blocks, per_chunk):
            draws = draw_blocks(root, b0, min(per_chunk, plan.n_blocks - b0), plan)
            last = propagate(z0, draws.factor, exog, pp, scn, kernel=True)
    return last


def numpy_loop_var(results: Any, n_paths: int, n_steps: int, seed: int = 1) -> np.ndarray:
    """What one writes by hand: a per-step loop over all paths, multivariate normal per step."""
    rng = np.random.default_rng(seed)
    A = results.coefs[0]
    c = np.asarray(results.intercept)
    sigma = np.asarray(results.sigma_u)
    z = np.zeros((n_paths, n_steps + 1, PEER_FACTORS))
    for t in range(1, n_steps + 1):
        eps = rng.multivariate_normal(np.zeros(PEER_FACTORS), sigma, size=n_paths)
        z[:, t] = c + z[:, t - 1] @ A.T + eps
    return z


def pyesg_wiener(results: Any, n_paths: int, n_steps: int, seed: int = 1) -> np.ndarray:
    """pyesg's ``JointWienerProcess`` (correlated Brownian motions, no VAR) with the same
    covariance: the closest thing pyesg offers."""
    from pyesg import JointWienerProcess

    sigma = np.asarray(results.sigma_u)
    sd = np.sqrt(np.diag(sigma))
    process = JointWienerProcess(
        mu=np.zeros(PEER_FACTORS), sigma=sd, correlation=sigma / np.outer(sd, sd)
    )
    return process.scenarios(
        np.zeros(PEER_FACTORS), dt=1.0, n_scenarios=n_paths, n_steps=n_steps, random_state=seed
    )
