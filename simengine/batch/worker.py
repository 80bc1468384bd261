"""What runs on a worker: reuse a verified result file, or simulate and write one.

The worker writes the full result itself (atomically: temporary file + ``os.replace``) and
sends back only the summary rows and timings, so the client never holds full results.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simengine.batch.jobs import Job
from simengine.exceptions import SimengineError
from simengine.io import checksum_ok, safe_child, write_checksum

__all__ = ["WARM_UP_PATHS", "execute_job", "execute_jobs", "reusable_result", "warm_up"]

WARM_UP_PATHS = 2
"""Paths of the warm-up run: two, so that it takes the compiled kernels' route (one path takes
the numpy route, :func:`simengine.kernel_inputs.chunk_supported`) and the workers inherit the
loaded kernels instead of each loading them on its first scenario."""


def _matches(attrs: dict[str, Any], job: Job) -> bool:
    hashes = json.loads(attrs.get("spec_hashes", "{}"))
    return (
        hashes.get(job.name) == job.spec_hash
        and attrs.get("seed") == str(job.seed)
        and attrs.get("n_paths_requested") == str(job.n_paths)
        and attrs.get("model_hash") == job.model_hash
        and (attrs.get("posterior_hash") or "") == job.posterior_hash
        and attrs.get("simengine_version") == job.version
    )


def reusable_result(path: Path, job: Job) -> Any | None:
    """The result at ``path`` if it is complete, verified and made for ``job``; else None.

    The file must match its ``<file>.sha256`` (written after it) before it is parsed, then
    pass :func:`simengine.load_result`'s content-hash check; a truncated, corrupted or
    oversized file is recomputed. Temporary files are never looked at.
    """
    from simengine.results import load_result

    if not checksum_ok(path):  # never parse a damaged file: HDF5 can hang on bad metadata
        return None
    try:
        result = load_result(path)
    except SimengineError:
        return None
    return result if _matches(result.attrs, job) else None


def _outcome(job: Job, status: str, **extra: Any) -> dict[str, Any]:
    worker = f"{platform.node()}:{os.getpid()}"  # host and process: local pool workers differ
    return {"ident": job.ident, "status": status, "worker": worker, **extra}


def execute_job(job: Job, out_dir: str, force: bool = False, threads: int = 1) -> dict[str, Any]:
    """Run one job: reuse its verified result file, or simulate and write it.

    Parameters
    ----------
    job : Job
        A keyed job (``job.spec`` set).
    out_dir : str
        The batch folder (shared with the client).
    force : bool
        Recompute even when a verified result exists.
    threads : int
        Engine threads for the simulation (never changes the numbers).

    Returns
    -------
    dict
        ``status`` (``done``, ``skipped`` or ``failed``), ``summary`` (DataFrame, not for
        failures), ``error``, ``timings`` (seconds: ``simulate_s``, ``write_s`` and
        ``total_s`` wall, ``cpu_s`` this process's CPU time for the job) and ``worker``
        (``host:pid``).
    """
    from simengine.api import simulate

    t0, c0 = time.perf_counter(), time.process_time()
    try:
        path = safe_child(Path(out_dir) / "results", Path(job.result_file).name)
        existing = None if force else reusable_result(path, job)
        if existing is not None:
            summary = existing.summary(wide=True)
            return _outcome(job, "skipped", summary=summary, timings=_since(t0, c0))
        result = simulate(job.spec, n_paths=job.n_paths, seed=job.seed, threads=threads)
        t1 = time.perf_counter()
        summary = result.summary(wide=True)
        result.save(path, overwrite=True)
        write_checksum(path)
        timings = {"simulate_s": t1 - t0, "write_s": time.perf_counter() - t1, **_since(t0, c0)}
        return _outcome(job, "done", summary=summary, timings=timings)
    except Exception as err:
        return _outcome(job, "failed", error=f"{type(err).__name__}: {err}", timings=_since(t0, c0))


def execute_jobs(
    jobs: list[Job], out_dir: str, force: bool = False, threads: int = 1
) -> list[dict[str, Any]]:
    """Run several jobs in one task (fewer round trips); one outcome per job, in order."""
    return [execute_job(job, out_dir, force, threads) for job in jobs]


def warm_up(jobs: Sequence[Job] = ()) -> None:
    """Import the engine and the result layer, and load the jobs' model parameters, once.

    Called before a local pool forks, so every worker inherits them instead of paying for
    them on its first scenario. A two-path run (:data:`WARM_UP_PATHS`) of the first scenario
    imports and loads what the engine only loads when it runs (the policy part's scipy, the
    compiled kernels: about 1 s per process, otherwise paid again by every worker).
    """
    import simengine.resultfile
    import simengine.results  # noqa: F401
    from simengine.api import load_params_for, simulate

    seen, ran = set(), False
    for job in jobs:
        spec = job.spec
        key = (spec.model, spec.method, spec.posterior) if spec is not None else None
        if key is not None and key not in seen:
            seen.add(key)
            try:
                load_params_for(spec)
                if not ran:
                    simulate(spec, n_paths=WARM_UP_PATHS, seed=0).summary(wide=True)
                    ran = True
            except SimengineError:
                pass  # the job itself reports the problem


def _since(t0: float, c0: float) -> dict[str, float]:
    return {"total_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}
