"""Sampling the calibration model (nutpie when installed, PyMC's NUTS otherwise)."""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from simengine.bayes.diagnostics import Thresholds, check_convergence, diagnose
from simengine.bayes.priors import PriorSet, load_priors
from simengine.blas import single_threaded_blas
from simengine.exceptions import CalibrationError

__all__ = [
    "DEFAULT_SEED",
    "TUNE",
    "clear_compiled",
    "compiled_model",
    "default_tune",
    "fit",
    "refit_model",
    "resolve_sampler",
    "sample_model",
]

DEFAULT_SEED = 20250716
Sampler = Literal["auto", "nutpie", "pymc"]


def resolve_sampler(sampler: str = "auto") -> str:
    """``auto`` -> ``nutpie`` when it is installed, else ``pymc``.

    Raises
    ------
    CalibrationError
        Unknown name, or ``nutpie`` asked for but not installed.
    """
    has_nutpie = importlib.util.find_spec("nutpie") is not None
    if sampler == "auto":
        return "nutpie" if has_nutpie else "pymc"
    if sampler == "nutpie" and not has_nutpie:
        raise CalibrationError(
            "sampler 'nutpie' is not installed; pip install nutpie or use sampler='pymc'"
        )
    if sampler not in ("nutpie", "pymc"):
        raise CalibrationError(f"unknown sampler {sampler!r}; expected 'auto', 'nutpie' or 'pymc'")
    return sampler


_COMPILED: dict[str, Any] = {}
"""nutpie models compiled in this process, by key (see :func:`compiled_model`)."""


def compiled_model(model, key: str | None = None):
    """nutpie's compiled form of ``model``, compiled once per process and ``key``.

    Compiling is most of a calibration's time. With a ``key`` (a hash of everything that shapes
    the graph: model structure, data, priors) a later fit with the same key reuses the compiled
    model; refits to new observations of a model built with ``observed_as_data=True`` swap them
    in with ``with_data`` (see :func:`refit_model`). Sample it with
    ``cores=sampling_cores(compiled, cores)`` (:mod:`simengine.bayes.nutpie_pyfunc`).

    Notes
    -----
    Across processes, PyTensor's on-disk numba cache (``pytensor.config.numba__cache``, in
    ``base_compiledir/numba``) stores the per-op kernels and, once
    :func:`~simengine.bayes.numba_cache.register_cacheable_psi` has made its digamma cacheable,
    the whole compiled log-density graph. nutpie's own route (``compile_pymc_model``) then
    wraps that graph in two numba ``cfunc`` wrappers that are compiled again in every process
    (their cache key depends on run-time objects), about 6 s; the model is handed to nutpie as
    Python callables of the cached functions instead
    (:func:`simengine.bayes.nutpie_pyfunc.compile_pyfunc`: the same draws), and nutpie's route
    is the fallback for nutpie versions without the functions it uses. Neither form can be
    pickled.
    """
    if key is None:
        return _compile(model)
    if key not in _COMPILED:
        _COMPILED[key] = _compile(model)
    return _COMPILED[key]


def _compile(model):
    import nutpie

    from simengine.bayes.numba_cache import register_cacheable_psi
    from simengine.bayes.nutpie_pyfunc import compile_pyfunc

    register_cacheable_psi()
    compiled = compile_pyfunc(model)
    return compiled if compiled is not None else nutpie.compile_pymc_model(model)


def clear_compiled() -> None:
    """Forget the models compiled in this process."""
    _COMPILED.clear()


def refit_model(data, priors: PriorSet):
    """Compiled model of ``data``'s regressors, ready for refits to new observations.

    Built with ``observed_as_data=True`` and compiled once per process for the same data,
    priors and structure; refit with
    ``nutpie.sample(refit_model(data, priors).with_data(**observed_data(data, y, z)), ...)``
    (simulation-based calibration does exactly this).
    """
    from simengine.bayes.model import build_model

    key = _model_key(data, priors, observed_as_data=True)
    if key not in _COMPILED:
        _COMPILED[key] = compiled_model(build_model(data, priors, observed_as_data=True))
    return _COMPILED[key]


def _model_key(data, priors: PriorSet, *, observed_as_data: bool = False) -> str:
    """Hash of what fixes a compiled model: structure, data, priors and the data layout."""
    import hashlib

    from simengine.bayes.store import model_structure_hash

    parts = (
        model_structure_hash(data.assets, priors.innovations),
        data.table_hash,
        data.state_hash,
        priors.prior_hash,
        "observed_as_data" if observed_as_data else "constants",
    )
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


TUNE = {"nutpie": 500, "pymc": 1000}
"""Default warm-up iterations per chain. PyMC's NUTS: PyMC's own default (1000). nutpie: 500,
above nutpie's own default of 400 (its mass-matrix adaptation settles in a few hundred steps):
on ../shared/data two seeds converged with every strict check passed (R-hat 1.006 and 1.007;
ESS bulk 1009 and 1241, tail 977 and 1152, against 400; no divergences), and `simengine
calibrate` took 22 s instead of 26.5 s with 1000 (benchmarks/README.md, session 7)."""


def default_tune(sampler: str) -> int:
    """Warm-up iterations per chain for a resolved sampler name (:data:`TUNE`)."""
    return TUNE[sampler]


def sample_model(
    model,
    *,
    draws: int = 1000,
    tune: int | None = None,
    chains: int = 2,
    seed: int = DEFAULT_SEED,
    sampler: Sampler = "auto",
    progress: bool = True,
    cores: int | None = None,
    cache_key: str | None = None,
):
    """Run NUTS on any PyMC model, seeded; returns InferenceData (posterior + sample_stats).

    Parameters
    ----------
    model : pymc.Model
    draws, tune, chains : int
        Post-warmup draws and warmup iterations per chain; number of chains. ``tune=None``:
        the sampler's default warm-up, :func:`default_tune`.
    seed : int
        Same seed, same model, same sampler -> same draws.
    sampler : {"auto", "nutpie", "pymc"}
    progress : bool
        Show the sampler's progress bar.
    cores : int, optional
        Chains run in parallel (default ``min(chains, cpu_count)``).
    cache_key : str, optional
        With nutpie, reuse the model compiled under this key in this process
        (:func:`compiled_model`).
    """
    name = resolve_sampler(sampler)
    tune = default_tune(name) if tune is None else tune
    if draws < 1 or tune < 0 or chains < 1:
        raise CalibrationError(
            f"need draws >= 1, tune >= 0, chains >= 1; got {draws}, {tune}, {chains}"
        )
    cores = cores or max(1, min(chains, os.cpu_count() or 1))
    with single_threaded_blas():
        return _run_sampler(name, model, draws, tune, chains, cores, seed, progress, cache_key)


def _run_sampler(
    name: str,
    model,
    draws: int,
    tune: int,
    chains: int,
    cores: int,
    seed: int,
    progress: bool,
    cache_key: str | None = None,
):
    if name == "nutpie":
        import nutpie

        from simengine.bayes.nutpie_pyfunc import sampling_cores

        compiled = compiled_model(model, cache_key)
        return nutpie.sample(
            compiled,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=sampling_cores(compiled, cores),
            seed=seed,
            progress_bar=progress,
            save_warmup=False,
        )
    import pymc as pm

    with model:
        return pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=seed,
            progressbar=progress,
            compute_convergence_checks=False,
            return_inferencedata=True,
        )


def _model_file_hash(model: str | Path | None) -> str | None:
    """Hash of the point model file a posterior completes (None: the packaged default)."""
    if model is None or str(model) == "default":
        return None
    from simengine.params import ModelParams

    return ModelParams.load(model).model_hash


def fit(
    table: pd.DataFrame,
    priors: PriorSet | Mapping[str, Any] | str | Path | None = None,
    draws: int = 1000,
    tune: int | None = None,
    chains: int = 2,
    seed: int = DEFAULT_SEED,
    sampler: Sampler = "auto",
    progress: bool = True,
    *,
    strict: bool = False,
    thresholds: Thresholds | None = None,
    cores: int | None = None,
    model_file: str | Path | None = None,
    state: pd.DataFrame | None = None,
    mixing_sd: float = 0.0,
):
    """Fit the calibration model to the monthly table and check convergence.

    Parameters
    ----------
    table : DataFrame
        Monthly calibration table (``simengine.data.build_table``).
    priors : PriorSet, mapping, path or None
        Prior file; ``None`` = the packaged ``simengine/models/priors.yaml``.
    draws, tune, chains, seed, sampler, progress
        See :func:`sample_model`.
    strict : bool
        Raise :class:`CalibrationError` when a diagnostic fails (default: warn with
        :class:`ConvergenceWarning`).
    thresholds : Thresholds, optional
        Diagnostic thresholds (R-hat < 1.01, ESS > 400, no divergences, BFMI > 0.3).
    cores : int, optional
    model_file : str or Path, optional
        The point model file whose values complete the draws (stamped as
        ``model_file_hash``); default the packaged model.
    state, mixing_sd : DataFrame and float, optional
        The volatility state the likelihood conditions on (:func:`volatility_state`); None:
        constant variance (see :func:`simengine.bayes.prepare.prepare_data`).

    Returns
    -------
    arviz.InferenceData
        ``posterior`` (parameters in the contract's units plus the sampler's raw variables) and
        ``sample_stats``; ``posterior.attrs`` holds the provenance (hashes of table, priors and
        model structure, date range, version, names, sampler settings, fit time, diagnostics).

    Notes
    -----
    The model (see :func:`simengine.bayes.model.build_model`)::

        r_{a,t} = (mu_a - kappa_a (p_{t-1} - n)) dt + beta_a . x_t + sigma_a sqrt(dt) e_{a,t}
        z_t = c + A z_{t-1} + g (p_{t-1} - n) + u_t
    """
    from simengine.bayes.model import build_model
    from simengine.bayes.prepare import prepare_data
    from simengine.bayes.store import stamp_posterior

    prior_set = load_priors(priors)
    tune = default_tune(resolve_sampler(sampler)) if tune is None else tune
    data = prepare_data(table, prior_set, state, mixing_sd)
    model = build_model(data, prior_set)
    start = time.perf_counter()
    idata = sample_model(
        model,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        sampler=sampler,
        progress=progress,
        cores=cores,
        cache_key=_model_key(data, prior_set),
    )
    seconds = time.perf_counter() - start
    report = diagnose(idata, thresholds)
    stamp_posterior(
        idata,
        data,
        prior_set,
        model_file_hash=_model_file_hash(model_file),
        sampler=resolve_sampler(sampler),
        seed=int(seed),
        draws=int(draws),
        tune=int(tune),
        chains=int(chains),
        fit_seconds=round(seconds, 2),
        diagnostics=report.to_json(),
        diagnostics_passed=int(report.passed),
    )
    check_convergence(report, strict=strict)
    return idata
