"""Batches of scenarios on Dask distributed, with a content-keyed result store and resume.

::

    from simengine.batch import run_batch
    res = run_batch(["scenarios/sweeps/cut_timing_size.yaml"], "runs/cut", workers=4, seed=1)
    res.summary            # one row per scenario x series
    res.failed             # manifest entries of scenarios that failed

Each scenario is one task: the worker simulates it, writes ``results/<name>-<key12>.nc``
itself and returns the summary rows. The batch folder also holds ``summary.parquet`` and
``manifest.json``. Results are keyed by content (spec, seed, paths, model, posterior,
version): running the same batch again reuses every verified result and computes the rest,
so a batch that was interrupted loses nothing it had finished. Dask is imported only here,
when a batch runs.
"""

from __future__ import annotations

import os
import re
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simengine.batch.jobs import BatchInput, Job, collect_jobs, result_key, scenario_seed
from simengine.batch.store import Store, entry_for, summary_frame
from simengine.batch.worker import execute_job, reusable_result
from simengine.exceptions import BatchError, UsageError
from simengine.results import now_iso

__all__ = [
    "BatchInput",
    "BatchProgress",
    "BatchResult",
    "Job",
    "collect_jobs",
    "extremes",
    "result_key",
    "reusable_result",
    "run_batch",
    "scenario_seed",
]

BatchProgress = Callable[[dict[str, int]], None]
"""``progress(counts)`` with keys ``total, done, running, failed, skipped``."""


@dataclass
class BatchResult:
    """What a batch produced: the manifest entries (input order) and the summary table."""

    out_dir: Path
    entries: list[dict[str, Any]]
    summary: pd.DataFrame
    elapsed_s: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)

    def _with(self, status: str) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["status"] == status]

    @property
    def done(self) -> list[dict[str, Any]]:
        """Scenarios simulated in this run."""
        return self._with("done")

    @property
    def skipped(self) -> list[dict[str, Any]]:
        """Scenarios whose verified result was already in the store."""
        return self._with("skipped")

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Scenarios that failed (with their ``error``)."""
        return self._with("failed")

    @property
    def ok(self) -> bool:
        """True when no scenario failed."""
        return not self.failed

    def extremes(self) -> pd.DataFrame:
        """Best and worst scenario per series by median and by 5% quantile (see :func:`extremes`)."""
        return extremes(self.summary)


def extremes(summary: pd.DataFrame, stats: Sequence[str] = ("median", "q05")) -> pd.DataFrame:
    """Best and worst scenario for each series by each statistic (higher is better).

    Returns
    -------
    DataFrame
        Columns ``series, statistic, best, best_value, worst, worst_value``.
    """
    rows = []
    if summary.empty:
        return pd.DataFrame(
            columns=["series", "statistic", "best", "best_value", "worst", "worst_value"]
        )
    for series, group in summary.groupby("series", sort=False):
        for stat in stats:
            best, worst = group.loc[group[stat].idxmax()], group.loc[group[stat].idxmin()]
            rows.append(
                {
                    "series": series,
                    "statistic": stat,
                    "best": best["scenario"],
                    "best_value": float(best[stat]),
                    "worst": worst["scenario"],
                    "worst_value": float(worst[stat]),
                }
            )
    return pd.DataFrame(rows)


class _Run:
    """Book-keeping of one batch run: entries, summaries, counts, incremental manifest."""

    def __init__(self, store: Store, jobs: list[Job], settings: dict[str, Any], progress):
        self.store, self.jobs, self.settings, self.progress = store, jobs, settings, progress
        previous = store.load_manifest()
        self.entries = {
            j.ident: entry_for(j, "failed" if j.error else "pending", **_kept(previous, j))
            for j in jobs
        }
        self.summaries: dict[str, pd.DataFrame] = {}
        self.running = 0
        self.store.write_manifest(list(self.entries.values()), settings)

    def counts(self) -> dict[str, int]:
        status = [e["status"] for e in self.entries.values()]
        out = {s: status.count(s) for s in ("done", "failed", "skipped")}
        return {"total": len(status), "running": self.running, **out}

    def tick(self) -> None:
        if self.progress is not None:
            self.progress(self.counts())

    def record(self, job: Job, outcome: dict[str, Any]) -> None:
        """Store one outcome; the manifest is rewritten (atomically) right away."""
        status = outcome["status"]
        entry = self.entries[job.ident]
        if status == "skipped" and entry.get("timings"):
            timings = entry["timings"]  # keep how long it took when it was computed
        else:
            timings = outcome.get("timings", {})
        entry.update(
            status=status,
            error=outcome.get("error"),
            timings=timings,
            worker=outcome.get("worker"),
            result_file=job.result_file if status != "failed" else None,
            finished=now_iso() if status == "done" else entry.get("finished") or now_iso(),
        )
        if "summary" in outcome:
            self.summaries[job.ident] = outcome["summary"]
        self.store.write_manifest(list(self.entries.values()), self.settings)
        self.tick()


def _kept(previous: dict[str, dict[str, Any]], job: Job) -> dict[str, Any]:
    old = previous.get(job.ident)
    if not old or old.get("status") not in ("done", "skipped"):
        return {}
    return {"timings": old.get("timings", {}), "finished": old.get("finished")}


def _run_serial(run: _Run, jobs: list[Job], force: bool) -> None:
    for job in jobs:
        run.running = 1
        run.tick()
        outcome = execute_job(job, str(run.store.root), force)
        run.running = 0
        run.record(job, outcome)


def _client(workers: int | None, scheduler: str | None, n_jobs: int) -> tuple[Any, Any]:
    import logging

    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler), None
        except (OSError, TimeoutError, ValueError) as err:
            raise BatchError(
                f"cannot reach the Dask scheduler at {scheduler} ({type(err).__name__}: {err}); "
                "check the address and that the scheduler is running"
            ) from None
    n = workers or min(os.cpu_count() or 1, max(n_jobs, 1))
    with warnings.catch_warnings():  # "port 8787 in use": only the (unused) HTTP server moves
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
            silence_logs=logging.ERROR,
        )
    return Client(cluster), cluster


def _run_dask(
    run: _Run, jobs: list[Job], force: bool, workers: int | None, scheduler: str | None
) -> None:
    from distributed import as_completed

    client, cluster = _client(workers, scheduler, len(jobs))
    try:
        slots = max(sum(client.nthreads().values()), 1)
        out = str(run.store.root.resolve())
        futures = {
            client.submit(execute_job, job, out, force, key=f"simengine-{job.key}", pure=False): job
            for job in jobs
        }
        pending = len(futures)
        run.running = min(pending, slots)
        run.tick()
        for future in as_completed(futures):
            job = futures.pop(future)
            try:
                outcome = future.result()
            except Exception as err:
                outcome = {"status": "failed", "error": f"{type(err).__name__}: {err}"}
            pending -= 1
            run.running = min(pending, slots)
            run.record(job, outcome)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


_SCHEDULER_RE = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://[^\s/]+(:\d+)?/?$")


def check_batch_options(workers: int | None, scheduler: str | None) -> None:
    """Refuse worker counts below 0 and scheduler addresses that are not URLs (exit 2)."""
    if workers is not None and (not isinstance(workers, int) or workers < 0):
        raise UsageError(f"workers must be 0 (serial) or more, got {workers!r}")
    if scheduler is not None and not _SCHEDULER_RE.match(scheduler):
        raise UsageError(
            f"scheduler address {scheduler!r} is not a Dask address; expected e.g. "
            "tcp://10.0.0.5:8786"
        )


def run_batch(
    inputs: Iterable[BatchInput],
    out_dir: str | os.PathLike[str],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    n_paths: int | None = None,
    seed: int | None = None,
    force: bool = False,
    progress: BatchProgress | None = None,
) -> BatchResult:
    """Simulate many scenarios, one task each, and keep every result in ``out_dir``.

    Parameters
    ----------
    inputs : iterable
        Scenario files, sweep files, folders of them (``*.yaml``, not recursive), loaded
        specs or sweep variants.
    out_dir : path-like
        Batch folder: ``results/``, ``summary.parquet``, ``manifest.json``.
    workers : int, optional
        Local worker processes (default: CPU count). ``0`` runs serially in this process
        (no Dask). Ignored when ``scheduler`` is given.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); its workers must see
        ``out_dir`` and the scenario files at the same paths (shared file system).
    n_paths : int, optional
        Paths per scenario (default: each scenario's ``paths``).
    seed : int, optional
        Batch seed: each scenario's seed is derived from it and the scenario's spec hash,
        so numbers do not depend on order, workers or scheduler. Default: each scenario's
        own ``seed``.
    force : bool
        Recompute results that are already in the store.
    progress : callable, optional
        ``progress(counts)`` after every change (see :data:`BatchProgress`).

    Returns
    -------
    BatchResult
        Failed scenarios are recorded (status ``failed`` with the message), never raised.

    Notes
    -----
    A result is reused when ``results/<name>-<key[:12]>.nc`` loads, passes its content-hash
    check and carries the job's spec hash, seed, path count, model and posterior hashes and
    version. The key is ``sha256(spec_hash, seed, paths, model_hash, posterior_hash,
    version)``; a scenario's seed with a batch seed ``b`` is the first 63 bits of
    ``sha256(f"{b}:{spec_hash}")``.
    """
    check_batch_options(workers, scheduler)
    t0 = time.perf_counter()
    settings = {
        "seed": seed,
        "n_paths": n_paths,
        "workers": workers,
        "scheduler": scheduler,
        "force": force,
    }
    jobs = collect_jobs(inputs, n_paths=n_paths, seed=seed)
    if not jobs:
        raise UsageError("no scenarios to run: the inputs hold no scenario or sweep files (*.yaml)")
    with Store(out_dir) as store:
        run = _Run(store, jobs, settings, progress)
        todo = [j for j in jobs if not j.error]
        run.tick()
        if todo and workers == 0 and not scheduler:
            _run_serial(run, todo, force)
        elif todo:
            _run_dask(run, todo, force, workers, scheduler)
        summary = summary_frame(jobs, run.summaries)
        store.write_summary(summary)
    entries = list(run.entries.values())
    return BatchResult(store.root, entries, summary, time.perf_counter() - t0, settings)
