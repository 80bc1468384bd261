"""The batch folder: ``results/*.nc``, ``manifest.json``, ``summary.parquet``.

Every file is written atomically (temporary file + ``os.replace``): a reader sees the old
version or the new one, never half of one. The manifest records a scenario as ``done`` only
after its result file is in place.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import pandas as pd

from simengine.batch.jobs import Job
from simengine.exceptions import BatchError
from simengine.io import atomic_write
from simengine.results import now_iso
from simengine.version import __version__

__all__ = ["MANIFEST_FORMAT", "Store", "entry_for", "summary_frame"]

MANIFEST_FORMAT = "simengine-batch/1"
RESERVED = {"scenario", "series", "label", "sweep", "spec_hash", "seed", "n_paths", "key"}


class Store:
    """A batch output folder, locked against a second batch writing to it at the same time."""

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.root = Path(out_dir)
        self.results = self.root / "results"
        self.manifest_path = self.root / "manifest.json"
        self.summary_path = self.root / "summary.parquet"
        self._lock = self.root / ".lock"

    def __enter__(self) -> Store:
        self.results.mkdir(parents=True, exist_ok=True)
        self._acquire()
        for tmp in [*self.results.glob(".*.tmp"), *self.root.glob(".*.tmp")]:
            tmp.unlink(missing_ok=True)  # left by a run that was killed while writing
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.unlink(missing_ok=True)

    def _acquire(self) -> None:
        me = f"{platform.node()} {os.getpid()}"
        for _ in range(2):
            try:
                fd = os.open(self._lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if _alive(self._lock.read_text(errors="replace")):
                    raise BatchError(
                        f"another batch (host and pid: {self._lock.read_text().strip()}) is "
                        f"writing to {self.root}; wait for it, or delete {self._lock} if it died"
                    ) from None
                self._lock.unlink(missing_ok=True)  # stale: its process is gone
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(me)
            return
        raise BatchError(f"could not lock {self.root}")

    def load_manifest(self) -> dict[str, dict[str, Any]]:
        """Entries of a previous run by id (empty when there is none or it is unreadable)."""
        try:
            doc = json.loads(self.manifest_path.read_text())
        except (OSError, ValueError):
            return {}
        if doc.get("format") != MANIFEST_FORMAT:
            return {}
        return {e["id"]: e for e in doc.get("scenarios", []) if isinstance(e, dict) and "id" in e}

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


def _alive(owner: str) -> bool:
    host, _, pid = owner.strip().rpartition(" ")
    if host != platform.node() or not pid.isdigit():
        return True  # another host: cannot tell, assume it is running
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
        return pd.DataFrame(columns=["scenario", "series", *columns.values(), *sorted(RESERVED)])
    out = pd.concat(frames, ignore_index=True)
    for col in columns.values():
        out[col] = _typed(out[col].tolist())
    lead = ["scenario", "series", *columns.values()]
    return out[lead + [c for c in out.columns if c not in lead]]
