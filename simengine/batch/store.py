"""The batch folder: ``results/*.nc``, ``manifest.json``, ``summary.parquet``.

Every file is written atomically (temporary file + ``os.replace``): a reader sees the old
version or the new one, never half of one. The manifest records a scenario as ``done`` only
after its result file is in place.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock, Timeout

from simengine.batch.jobs import Job
from simengine.exceptions import BatchError, StoreError
from simengine.io import (
    atomic_write,
    check_output_dir,
    is_simengine_tmp,
    remove_stale_tmp,
)
from simengine.results import now_iso
from simengine.version import __version__

__all__ = [
    "MANIFEST_FORMAT",
    "Store",
    "check_store_folder",
    "entry_for",
    "read_manifest",
    "summary_frame",
]

MANIFEST_FORMAT = "simengine-batch/1"
LOCK_NAME = ".simengine.lock"
MARKER_NAME = ".simengine-store"
"""Written when simengine creates a batch folder: marks it as a store even without a manifest."""
RESERVED = {"scenario", "series", "label", "sweep", "spec_hash", "seed", "n_paths", "key"}


class Store:
    """A batch output folder, locked against a second batch writing to it at the same time.

    Output rules (see :mod:`simengine.io`): the folder must be new, empty, or a simengine
    batch store (a valid ``manifest.json``, or the ``.simengine-store`` marker written when
    simengine created the folder); ``results/``, ``manifest.json`` and
    ``summary.parquet`` must not be symbolic links; only simengine's own temporary files
    (``.simengine-tmp-*``) of processes that are gone are ever deleted. The lock is a
    :class:`filelock.FileLock` on ``.simengine.lock`` (released by the operating system when
    the process dies).
    """

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.root = Path(out_dir)
        self.results = self.root / "results"
        self.manifest_path = self.root / "manifest.json"
        self.summary_path = self.root / "summary.parquet"
        self._lock_path = self.root / LOCK_NAME
        self._lock: FileLock | None = None

    def __enter__(self) -> Store:
        check_store_folder(self.root)
        check_output_dir(self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._acquire()
        try:
            check_store_folder(self.root)  # again under the lock
            marker = self.root / MARKER_NAME
            if not marker.is_file():
                with atomic_write(marker, overwrite=True) as tmp:
                    tmp.write_text(MANIFEST_FORMAT + "\n")
            self.results.mkdir(exist_ok=True)
            for folder in (self.root, self.results):
                remove_stale_tmp(folder)  # left by a run that was killed while writing
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _acquire(self) -> None:
        lock = FileLock(self._lock_path, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise BatchError(
                f"another batch is writing to {self.root}; wait for it to finish, or use "
                "another --out folder"
            ) from None
        self._lock = lock

    def load_manifest(self) -> dict[str, dict[str, Any]]:
        """Entries of a previous run by id (empty when there is none).

        Raises
        ------
        StoreError
            The manifest exists but is not a simengine batch manifest.
        """
        doc = read_manifest(self.manifest_path)
        if doc is None:
            return {}
        return {e["id"]: e for e in doc["scenarios"]}

    def write_manifest(self, entries: list[dict[str, Any]], settings: dict[str, Any]) -> None:
        """Write the manifest atomically (called after every scenario that completes)."""
        doc = {
            "format": MANIFEST_FORMAT,
            "simengine_version": __version__,
            "updated": now_iso(),
            "settings": settings,
            "counts": _counts(entries),
            "scenarios": entries,
        }
        with atomic_write(self.manifest_path, overwrite=True) as tmp:
            tmp.write_text(json.dumps(doc, indent=1, default=str))

    def write_summary(self, frame: pd.DataFrame) -> None:
        """Write ``summary.parquet`` atomically."""
        with atomic_write(self.summary_path, overwrite=True) as tmp:
            frame.to_parquet(tmp, index=False)


def read_manifest(path: Path) -> dict[str, Any] | None:
    """A batch manifest, checked: None when absent, :class:`StoreError` when not valid."""
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_symlink() or not path.is_file():
        raise StoreError(f"{path} is not a regular file (a link, folder or FIFO); remove it")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise StoreError(
            f"{path} is not readable JSON ({err}); it is not a simengine batch manifest: "
            "choose another --out folder, or delete it to start the batch afresh"
        ) from None
    scenarios = doc.get("scenarios") if isinstance(doc, dict) else None
    valid = (
        isinstance(doc, dict)
        and doc.get("format") == MANIFEST_FORMAT
        and isinstance(scenarios, list)
        and all(isinstance(e, dict) and isinstance(e.get("id"), str) for e in scenarios)
    )
    if not valid:
        raise StoreError(
            f"{path} is not a simengine batch manifest (expected a JSON object with format "
            f"{MANIFEST_FORMAT!r} and a list of scenarios); choose another --out folder, or "
            "delete the file to start the batch afresh"
        )
    return doc


def _is_marker(path: Path) -> bool:
    try:
        return path.is_file() and path.read_text(errors="replace").strip() == MANIFEST_FORMAT
    except OSError:
        return False


def check_store_folder(root: Path) -> None:
    """Refuse a batch folder that is not new, empty or a simengine batch store.

    Raises
    ------
    StoreError
        (exit 2) naming what is wrong and what to do.
    """
    if not root.exists():
        return
    if not root.is_dir():
        raise StoreError(f"--out {root} is a file; give a folder for the batch")
    for name in ("results", "manifest.json", "summary.parquet", LOCK_NAME, MARKER_NAME):
        if (root / name).is_symlink():
            raise StoreError(
                f"{root / name} is a symbolic link; simengine never writes through a link: "
                "remove it or choose another --out folder"
            )
    if (root / "results").exists() and not (root / "results").is_dir():
        raise StoreError(f"{root / 'results'} is not a folder; choose another --out folder")
    if read_manifest(root / "manifest.json") is not None or _is_marker(root / MARKER_NAME):
        return
    foreign = sorted(
        p.name
        for p in root.iterdir()
        if p.name not in (LOCK_NAME, MARKER_NAME)
        and not is_simengine_tmp(p)
        and not (p.name == "results" and not any(p.iterdir()))
    )
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise StoreError(
            f"--out {root} is not empty ({shown}) and is not a simengine batch store (no "
            "manifest.json); give a new or empty folder, so nothing of yours is overwritten"
        )


def _counts(entries: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in entries:
        out[e["status"]] = out.get(e["status"], 0) + 1
    return out


def entry_for(job: Job, status: str, **extra: Any) -> dict[str, Any]:
    """A manifest entry for ``job`` with ``status`` (pending, done, skipped, failed)."""
    entry: dict[str, Any] = {
        "id": job.ident,
        "name": job.name,
        "label": job.label,
        "source": job.source,
        "sweep": job.sweep,
        "fields": job.fields,
        "status": status,
        "error": job.error,
        "key": job.key or None,
        "spec_hash": job.spec_hash or None,
        "seed": str(job.seed) if job.seed is not None else None,
        "paths": job.n_paths or None,
        "model_hash": job.model_hash or None,
        "posterior_hash": job.posterior_hash or None,
        "simengine_version": job.version,
        "result_file": None,
        "timings": {},
        "worker": None,
        "finished": None,
    }
    entry.update(extra)
    return entry


def _field_columns(jobs: list[Job]) -> dict[str, str]:
    """Sweep axis -> column name (prefixed ``sweep_`` when it would clash)."""
    names: dict[str, str] = {}
    for job in jobs:
        for axis in job.fields:
            names.setdefault(axis, f"sweep_{axis}" if axis in RESERVED else axis)
    return names


def _typed(values: list[Any]) -> list[Any]:
    """Numbers stay numbers when a whole column is numeric; otherwise text."""
    present = [v for v in values if v is not None]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
    return values if numeric else [None if v is None else str(v) for v in values]


def summary_frame(jobs: list[Job], summaries: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per scenario x series (jobs in input order) with the sweep fields and stamps."""
    frames, done = [], [j for j in jobs if j.ident in summaries]
    columns = _field_columns(done)
    for job in done:
        frame = summaries[job.ident].reset_index()
        for axis, col in columns.items():
            frame[col] = [job.fields.get(axis)] * len(frame)
        frame["label"], frame["sweep"] = job.label, job.sweep
        frame["spec_hash"], frame["seed"], frame["n_paths"] = (
            job.spec_hash,
            str(job.seed),
            job.n_paths,
        )
        frame["key"] = job.key
        frames.append(frame)
    if not frames:
        names = ["scenario", "series", *columns.values(), *sorted(RESERVED)]
        return pd.DataFrame(columns=list(dict.fromkeys(names)))
    out = pd.concat(frames, ignore_index=True)
    for col in columns.values():
        out[col] = _typed(out[col].tolist())
    lead = ["scenario", "series", *columns.values()]
    return out[lead + [c for c in out.columns if c not in lead]]
