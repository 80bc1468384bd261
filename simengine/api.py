"""The Python API: load a scenario, simulate it, compare scenarios on common random numbers."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simengine.exceptions import ComparisonError, LimitError, SimulationError, SpecError
from simengine.guards import check_run_size
from simengine.params import ModelParams, default_model_path
from simengine.parts import build_scenario
from simengine.rng import BLOCK
from simengine.spec import ScenarioSpec, check_against_model, check_comparison, load_scenario
from simengine.spec.advice import fit_sample_ranges, warn_scenario
from simengine.spec.checks import check_run_settings, warn_extreme_positioning
from simengine.spec.model_checks import check_pin_units
from simengine.version import __version__

if TYPE_CHECKING:  # the engine and results (xarray) load when a run starts, not for validate
    from simengine.results import Comparison, SimulationResult
    from simengine.simulate import RunConfig

__all__ = ["compare", "load_model", "load_params_for", "load_scenario", "simulate"]

Progress = Callable[[int, int], None]
MAX_KEPT_PATHS = 2_000_000
"""Most paths whose terminal returns ``keep_terminal=True`` keeps (8 bytes x series x scenarios
each: 48 MB for one scenario of three series)."""
FRESH_SEED_MODULUS = 10**9
"""A run without a seed draws one below 10**9: short enough to read back and type."""


@lru_cache(maxsize=16)
def _load_model_cached(path: str) -> ModelParams:
    return ModelParams.load(path)


def load_model(model: str | Path = "default") -> ModelParams:
    """Point parameters from a model file (``"default"`` = the packaged default model)."""
    path = default_model_path() if str(model) == "default" else Path(model)
    return _load_model_cached(str(path.resolve()))


def load_params_for(spec: ScenarioSpec, method: str | None = None) -> ModelParams:
    """The parameters a spec asks for: its model file, with posterior draws for ``bayesian``."""
    model_path = spec.resolve_path(spec.model)
    params = load_model(model_path or "default")
    if (method or spec.method) == "bayesian":
        from simengine.bayes.store import params_from_posterior

        posterior_path = spec.resolve_path(spec.posterior) if spec.posterior else None
        params = params_from_posterior(params, posterior_path)
    check_against_model(spec, params.structure)
    return params.select_assets(spec.assets)


def _resolve_run(
    specs: Sequence[ScenarioSpec],
    n_paths: int | None,
    seed: int | None,
    method: str | None,
    antithetic: bool | None,
) -> tuple[ModelParams, int, int, bool, str]:
    """Parameters, path count, seed, antithetic flag and method of a run (overrides win)."""
    check_comparison(specs)
    first = specs[0]
    _check_same_grid(specs)
    method = method or first.method
    params = load_params_for(first, method)
    for spec in specs[1:]:
        other = load_params_for(spec, method)
        if (other.model_hash, other.posterior_hash, other.assets) != (
            params.model_hash,
            params.posterior_hash,
            params.assets,
        ):
            raise ComparisonError(
                f"scenarios {first.name!r} and {spec.name!r} use different models, posteriors or assets; "
                "common random numbers need the same parameters: set the same `model:` and `assets:`"
            )
    n = int(n_paths if n_paths is not None else first.paths)
    s = seed if seed is not None else first.seed
    if s is None:  # no seed anywhere: fresh entropy, recorded on the result so it can be replayed
        s = int(np.random.SeedSequence().entropy) % FRESH_SEED_MODULUS
    anti = bool(first.antithetic if antithetic is None else antithetic)
    return params, n, s, anti, method


def _check_same_grid(specs: Sequence[ScenarioSpec]) -> None:
    """Scenarios of one run share start, horizon and frequency (common random numbers)."""
    first = specs[0]
    issues = [
        spec.issue(
            (key,),
            f"{getattr(spec, key)} differs from {getattr(first, key)} in {first.name!r}",
            f"a comparison needs the same start, horizon and frequency; set {key}: "
            f"{getattr(first, key)}",
        )
        for spec in specs[1:]
        for key in ("start", "horizon", "frequency")
        if getattr(spec, key) != getattr(first, key)
    ]
    if issues:
        raise SpecError(issues)


def _start_levels(spec: ScenarioSpec, params: ModelParams) -> dict[str, float]:
    levels = dict(zip(params.assets, params.start_levels, strict=True))
    levels.update(dict(spec.initial.index_levels or {}))
    return {k: float(v) for k, v in levels.items() if k in params.assets}


def _check_size(
    cfg: RunConfig, n_steps: int, n_series: int, n_scenarios: int, max_paths: int | None = None
) -> None:
    """Path-count and memory limits, before any work (:func:`simengine.guards.check_run_size`)."""
    from simengine.simulate import default_chunk_size

    chunk = cfg.chunk_size or default_chunk_size(n_steps)
    chunk = min(-(-max(chunk, 1) // BLOCK) * BLOCK, -(-cfg.n_paths // BLOCK) * BLOCK)
    threads = max(1, min(cfg.threads, -(-cfg.n_paths // max(chunk, 1))))
    check_run_size(
        cfg.n_paths, chunk, n_steps, n_series, n_scenarios, threads, cfg.n_sample, max_paths
    )


def _run(
    specs: Sequence[ScenarioSpec],
    n_paths: int | None,
    seed: int | None,
    chunk_size: int | None,
    method: str | None,
    antithetic: bool | None,
    n_sample: int,
    threads: int,
    progress: Progress | None,
    attribution: bool = False,
    scheduler: str | None = None,
    keep_terminal: bool = False,
    params_override: ModelParams | None = None,
) -> SimulationResult:
    """Simulate ``specs``; ``params_override`` replaces the parameters they name (diagnostics)."""
    if not specs:
        raise SimulationError("no scenario to simulate")
    settings = {"n_paths": n_paths, "seed": seed, "chunk_size": chunk_size, "threads": threads}
    check_run_settings(specs, {**settings, "method": method, "antithetic": antithetic})
    params, n, s, anti, method = _resolve_run(specs, n_paths, seed, method, antithetic)
    from simengine.policy_model import policy_params
    from simengine.simulate import RunConfig, run_scenarios

    params = params_override if params_override is not None else params
    ranges = fit_sample_ranges()
    for spec in specs:
        warn_scenario(spec)
        check_pin_units(spec, ranges)
        squeeze = params.values.get("jumps")
        if squeeze is not None:
            values = (squeeze.base_intensity, squeeze.normal_si, squeeze.elasticity)
            warn_extreme_positioning(spec, *(float(np.median(v)) for v in values))
    models = [build_scenario(spec, params.structure) for spec in specs]
    if keep_terminal and n > MAX_KEPT_PATHS:
        raise LimitError(
            f"keep_terminal keeps at most {MAX_KEPT_PATHS:,} paths per scenario, asked for {n:,}: "
            "run fewer paths, or use the summary statistics (exact for any path count)"
        )
    cfg = RunConfig(n, s, chunk_size, anti, min(n_sample, n, BLOCK), threads, keep_terminal)
    n_series = len(params.structure.series)
    policy = policy_params(params)
    runner = run_scenarios  # the re-runs of attribution and jump means go where the run went
    if scheduler:
        from functools import partial

        from simengine.cluster import cluster_path_limit, run_on_cluster

        cfg = RunConfig(n, s, chunk_size, anti, cfg.n_sample, 1, keep_terminal)  # 1 thread/task
        _check_size(cfg, models[0].n_steps, n_series, len(models), cluster_path_limit())
        runner = partial(run_on_cluster, scheduler=scheduler)
        accs = runner(models, params, cfg, progress=progress, policy=policy)
    else:
        _check_size(cfg, models[0].n_steps, n_series, len(models))
        accs = run_scenarios(models, params, cfg, progress, policy=policy)
    extra = {}
    if attribution and len(models) > 1:
        from simengine.attribution import attribute

        contributions, _ = attribute(models, params, cfg, policy, full=accs, runner=runner)
        first = np.zeros((1, *contributions.shape[1:]))  # the reference: no difference
        extra["attribution"] = (
            ("scenario", "series", "channel"),
            np.concatenate([first, contributions]),
        )
    if any(m.squeeze for m in models):
        from simengine.attribution import jump_means

        jumps = jump_means(models, params, cfg, policy, accs, runner)
        extra["jump_mean"] = (("scenario", "series"), jumps)
    from simengine.results import Comparison, SimulationResult, build_dataset, now_iso

    attrs = {
        "seed": str(s),
        "n_paths_requested": str(n),
        "method": method,
        "antithetic": str(anti),
        "model_hash": params.model_hash,
        "posterior_hash": params.posterior_hash,
        "simengine_version": __version__,
        "created": now_iso(),
        "spec_hashes": json.dumps({spec.name: spec.spec_hash() for spec in specs}),
        "specs": json.dumps({spec.name: spec.model_dump(mode="json") for spec in specs}),
        "start_levels": json.dumps(_start_levels(specs[0], params)),
        "labels": json.dumps(dict(zip(params.assets, params.labels, strict=True))),
    }
    ds = build_dataset(
        accs,
        scenario_names=[spec.name for spec in specs],
        dates=models[0].grid.dates,
        attrs=attrs,
        extra=extra,
    )
    return (Comparison if len(specs) > 1 else SimulationResult)(ds)


def simulate(
    spec: ScenarioSpec | str | Path,
    n_paths: int | None = None,
    seed: int | None = None,
    *,
    chunk_size: int | None = None,
    method: str | None = None,
    antithetic: bool | None = None,
    n_sample: int = 200,
    threads: int = 1,
    progress: Progress | None = None,
    scheduler: str | None = None,
    keep_terminal: bool = False,
) -> SimulationResult:
    """Simulate one scenario.

    Parameters
    ----------
    spec : ScenarioSpec or path
        A loaded spec, or the path of a scenario file.
    n_paths, seed : int, optional
        Override the spec's ``paths`` and ``seed``.
    chunk_size : int, optional
        Paths per chunk (rounded up to a multiple of :data:`simengine.rng.BLOCK`); changes
        memory and speed, never the numbers.
    method : {"monte_carlo", "bayesian"}, optional
        Override the spec's method; ``bayesian`` gives each path a posterior draw.
    antithetic : bool, optional
        Antithetic pairs of paths (override the spec).
    n_sample : int
        Paths kept whole in the result (for plots), at most 4096.
    threads : int
        Worker threads over chunks (numbers do not depend on it).
    progress : callable, optional
        ``progress(done, total)`` after each chunk.
    scheduler : str, optional
        Address of a Dask scheduler: the paths are split into whole random-number blocks
        across its workers (:mod:`simengine.cluster`); the numbers equal a local run's.
    keep_terminal : bool
        Keep every path's terminal return for :meth:`SimulationResult.terminal_returns`
        (custom payoffs); at most :data:`MAX_KEPT_PATHS` paths.

    Returns
    -------
    SimulationResult
    """
    if not isinstance(spec, ScenarioSpec):
        spec = load_scenario(spec)
    return _run(
        [spec], n_paths, seed, chunk_size, method, antithetic, n_sample, threads, progress,
        False, scheduler, keep_terminal=keep_terminal,
    )  # fmt: skip


def compare(
    specs: Sequence[ScenarioSpec | str | Path],
    n_paths: int | None = None,
    seed: int | None = None,
    *,
    chunk_size: int | None = None,
    method: str | None = None,
    antithetic: bool | None = None,
    n_sample: int = 200,
    threads: int = 1,
    progress: Progress | None = None,
    attribution: bool = True,
    scheduler: str | None = None,
    keep_terminal: bool = False,
) -> Comparison:
    """Simulate several scenarios on common random numbers (same shocks, same parameter draws).

    The first scenario is the reference: :meth:`Comparison.difference_summary` describes the
    path-by-path difference of each other scenario from it. Path count and seed default to the
    first scenario's. With ``attribution`` (the default) the mean differences are split into
    the model's channels on the same random numbers (:mod:`simengine.attribution`; about
    nine more simulations): :meth:`Comparison.attribution`. Other arguments as in
    :func:`simulate`.
    """
    loaded = [s if isinstance(s, ScenarioSpec) else load_scenario(s) for s in specs]
    if len(loaded) < 2:
        raise SimulationError(f"compare needs at least two scenarios, got {len(loaded)}")
    result = _run(
        loaded, n_paths, seed, chunk_size, method, antithetic, n_sample, threads, progress,
        attribution, scheduler, keep_terminal=keep_terminal,
    )  # fmt: skip
    from simengine.results import Comparison

    assert isinstance(result, Comparison)
    return result
