"""Batches of scenarios on Dask distributed, with a content-keyed result store and resume.

::

    from simengine.batch import run_batch
    res = run_batch(["scenarios/sweeps/cut_timing_size.yaml"], "runs/cut", workers=4, seed=1)
    res.summary            # one row per scenario x series
    res.failed             # manifest entries of scenarios that failed

Scenarios go out in tasks of several each, to a local process pool (default, sized to the
cores and started once) or to a Dask cluster (``scheduler=``): the worker simulates each
scenario, writes ``results/<name>-<key12>.npz`` (one compact file, :mod:`simengine.resultfile`)
itself and returns the summary rows. The batch folder also holds ``summary.parquet`` and
``manifest.json``. Results are keyed by content (spec, seed, paths, model, posterior,
version): running the same batch again reuses every verified result and computes the rest,
so a batch that was interrupted loses nothing it had finished. Dask is imported only for
``scheduler=``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simengine.allocator import keep_heap_top
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
    "default_workers",
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
    keep_heap_top()  # chunks reuse resident memory (this process; the numbers do not change)
    for job in jobs:
        run.running = 1
        run.tick()
        outcome = execute_job(job, str(run.store.root), force)
        run.running = 0
        run.record(job, outcome)


TASKS_PER_SLOT = 4
"""Tasks per worker slot: enough to balance uneven scenarios, few enough to amortise a task."""


def _connect(scheduler: str) -> Any:
    """A Dask client of a running scheduler, or a :class:`BatchError` saying why not."""
    from distributed import Client

    try:
        return Client(scheduler)
    except (OSError, TimeoutError, ValueError) as err:
        raise BatchError(
            f"cannot reach the Dask scheduler at {scheduler} ({type(err).__name__}: {err}); "
            "check the address and that the scheduler is running"
        ) from None


def _tasks(jobs: list[Job], slots: int) -> list[list[Job]]:
    """Consecutive groups of jobs, about :data:`TASKS_PER_SLOT` tasks per worker slot."""
    size = max(1, -(-len(jobs) // (max(slots, 1) * TASKS_PER_SLOT)))
    return [jobs[i : i + size] for i in range(0, len(jobs), size)]


def _failed(task: list[Job], err: BaseException) -> list[dict[str, Any]]:
    """Outcomes of a task whose worker raised or died: every job in it failed."""
    message = f"{type(err).__name__}: {err}"
    return [{"ident": j.ident, "status": "failed", "error": message} for j in task]


def _drain(run: _Run, pending: dict[Any, list[Job]], slots: int, completed: Iterable) -> None:
    """Record the outcomes of finished tasks as they complete (``completed`` yields futures)."""
    left = sum(map(len, pending.values()))
    run.running = min(left, slots)
    run.tick()
    for future in completed:
        task = pending.pop(future)
        try:
            outcomes = future.result()
        except Exception as err:  # a crashed worker or a lost task
            outcomes = _failed(task, err)
        for job, outcome in zip(task, outcomes, strict=True):
            left -= 1
            run.running = min(left, slots)
            run.record(job, outcome)


def default_workers() -> int:
    """Worker processes of a local batch: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _pool_context() -> Any:
    """Start method of the local pool: ``fork`` where it exists (workers inherit the imported
    engine and start at once), else ``spawn`` (workers import it in :func:`warm_up`)."""
    import multiprocessing as mp

    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def _run_pool(run: _Run, jobs: list[Job], force: bool, workers: int | None) -> None:
    """Local batch: one process pool sized to the cores, started once for the whole batch.

    The pool forks from this process after the engine is imported (:func:`warm_up`), so a
    worker starts in milliseconds instead of re-importing numpy, xarray and simengine.
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from simengine.batch.worker import execute_jobs, warm_up

    n = max(1, min(workers or default_workers(), len(jobs)))
    keep_heap_top()  # before the fork: the workers inherit it (see simengine.allocator)
    tasks = _tasks(jobs, n)
    threads = _tail_threads(len(tasks), n)
    warm_up(jobs)  # before the fork: the workers inherit the modules and parameters
    out = str(run.store.root.resolve())
    with ProcessPoolExecutor(max_workers=n, mp_context=_pool_context()) as pool:
        pending = {
            pool.submit(execute_jobs, task, out, force, t): task
            for task, t in zip(tasks, threads, strict=True)
        }
        _drain(run, pending, n, as_completed(list(pending)))


def _tail_threads(n_tasks: int, workers: int) -> list[int]:
    """Engine threads per task: 1, except the last round when it has fewer tasks than workers.

    Tasks start in order, so the last ``n_tasks % workers`` run together at the end; they
    share the idle workers' cores (``workers // tail`` threads each) instead of leaving
    them idle. Threads never change the numbers.
    """
    tail = n_tasks % workers
    threads = [1] * n_tasks
    for i in range(n_tasks - tail, n_tasks):
        threads[i] = workers // tail
    return threads


def _run_dask(run: _Run, jobs: list[Job], force: bool, scheduler: str) -> None:
    """Batch on a running Dask cluster: several scenarios per task, results on shared disk."""
    from distributed import as_completed

    from simengine.batch.worker import execute_jobs

    client = _connect(scheduler)
    try:
        slots = max(sum(client.nthreads().values()), 1)
        out = str(run.store.root.resolve())
        pending = {
            client.submit(
                execute_jobs, task, out, force, key=f"simengine-{task[0].key}", pure=False
            ): task
            for task in _tasks(jobs, slots)
        }
        _drain(run, pending, slots, as_completed(list(pending)))
    finally:
        client.close()


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
        Local worker processes (default: the cores available), one process pool started once
        for the batch. ``0`` runs serially in this process. Ignored when ``scheduler`` is given.
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
    A result is reused when ``results/<name>-<key[:12]>.npz`` loads, passes its content-hash
    check and carries the job's spec hash, seed, path count, model and posterior hashes and
    version. The key is ``sha256(spec_hash, seed, paths, model_hash, posterior_hash,
    version)``; a scenario's seed with a batch seed ``b`` is the first 63 bits of
    ``sha256(f"{b}:{spec_hash}")``.

    Scheduling: jobs go out in tasks of several consecutive scenarios (about
    :data:`TASKS_PER_SLOT` tasks per worker), which amortises the per-task cost and still
    balances uneven scenarios. Each result is one compact file (:mod:`simengine.resultfile`).
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
        if todo and scheduler:
            _run_dask(run, todo, force, scheduler)
        elif todo and workers == 0:
            _run_serial(run, todo, force)
        elif todo:
            _run_pool(run, todo, force, workers)
        summary = summary_frame(jobs, run.summaries)
        store.write_summary(summary)
    entries = list(run.entries.values())
    return BatchResult(store.root, entries, summary, time.perf_counter() - t0, settings)
