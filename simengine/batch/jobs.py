"""Batch inputs -> jobs: load scenarios and sweeps, key each result by its content.

A job is one scenario to simulate. Its *key* is the sha256 of everything that determines the
numbers (spec hash, seed, path count, model hash, posterior hash, package version), so a
result file found under that key can be reused instead of recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from simengine.exceptions import SimengineError
from simengine.spec import ScenarioSpec, load_scenario
from simengine.spec.sweep import SweepVariant, expand_sweep_variants, is_sweep_file, safe_label
from simengine.version import __version__

__all__ = ["BatchInput", "Job", "collect_jobs", "result_key", "scenario_seed"]

BatchInput = str | os.PathLike[str] | ScenarioSpec | SweepVariant
"""A scenario or sweep file, a folder of them, a loaded spec, or a sweep variant."""

SEED_BITS = 63
RESULT_SUFFIX = ".npz"
"""Batch results are compact files (:mod:`simengine.resultfile`): one write per result."""


@dataclass(frozen=True)
class Job:
    """One scenario of a batch (or an input that failed to load: ``error`` is set)."""

    name: str
    source: str
    label: str = ""
    sweep: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    spec: ScenarioSpec | None = None
    error: str | None = None
    spec_hash: str = ""
    seed: int | None = None
    n_paths: int = 0
    model_hash: str = ""
    posterior_hash: str = ""
    version: str = __version__
    key: str = ""

    @property
    def ident(self) -> str:
        """Manifest id: the key, or ``invalid:<source>:<name>`` for inputs that did not load."""
        return self.key or f"invalid:{self.source}:{self.name}"

    @property
    def result_file(self) -> str:
        """Result path relative to the batch folder (empty for invalid inputs)."""
        return f"results/{self.name}-{self.key[:12]}{RESULT_SUFFIX}" if self.key else ""


def scenario_seed(batch_seed: int, spec_hash: str) -> int:
    """Seed of one scenario in a batch: from the batch seed and the scenario's identity.

    ``int(sha256(f"{batch_seed}:{spec_hash}")[:63 bits])``: independent of the order in which
    scenarios are listed or complete, so serial and distributed runs give the same numbers.
    """
    digest = hashlib.sha256(f"{batch_seed}:{spec_hash}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - SEED_BITS)


def result_key(
    spec_hash: str, seed: int, n_paths: int, model_hash: str, posterior_hash: str, version: str
) -> str:
    """sha256 of what determines a result: spec, seed, paths, model, posterior, version."""
    payload = json.dumps(
        [spec_hash, str(seed), int(n_paths), model_hash, posterior_hash or "", version]
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def _load_path(path: Path) -> list[Job]:
    """Jobs of one file (a scenario or a sweep); a file that fails becomes one failed job."""
    try:
        if is_sweep_file(path):
            return [_variant_job(v) for v in expand_sweep_variants(path)]
        spec = load_scenario(path)
    except SimengineError as err:
        return [Job(name=safe_label(path.stem), source=str(path), label=path.stem, error=str(err))]
    return [Job(name=spec.name, source=str(path), label=spec.name, spec=spec)]


def _variant_job(v: SweepVariant) -> Job:
    source = str(v.spec.source) if v.spec.source else "<sweep>"
    return Job(
        name=v.spec.name, source=source, label=v.label, sweep=v.sweep, fields=v.fields, spec=v.spec
    )


def _expand_inputs(inputs: Iterable[BatchInput]) -> list[Job]:
    jobs: list[Job] = []
    for item in inputs:
        if isinstance(item, SweepVariant):
            jobs.append(_variant_job(item))
        elif isinstance(item, ScenarioSpec):
            source = str(item.source) if item.source else "<spec>"
            jobs.append(Job(name=item.name, source=source, label=item.name, spec=item))
        else:
            path = Path(item)
            if not path.exists():
                jobs.append(Job(safe_label(path.stem), str(path), path.stem, error="not found"))
                continue
            for f in _files(path):
                jobs.extend(_load_path(f))
    return jobs


class _Hashes:
    """Model / posterior hashes per (model, posterior, method), loaded once."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, str], tuple[str, str]] = {}

    def __call__(self, spec: ScenarioSpec) -> tuple[str, str]:
        from simengine.api import load_params_for

        model = str(spec.resolve_path(spec.model) or "default")
        posterior = str(spec.resolve_path(spec.posterior) or "default")
        what = (model, posterior if spec.method == "bayesian" else "", spec.method)
        if what not in self._cache:
            params = load_params_for(spec)
            self._cache[what] = (params.model_hash, params.posterior_hash or "")
        else:  # assets still have to be checked against the (cached) model
            load_params_for(spec)
        return self._cache[what]


def _keyed(job: Job, n_paths: int | None, batch_seed: int | None, hashes: _Hashes) -> Job:
    spec = job.spec
    assert spec is not None
    try:
        model_hash, posterior_hash = hashes(spec)
    except SimengineError as err:
        return replace(job, error=str(err), spec=None)
    spec_hash = spec.spec_hash()
    if batch_seed is not None:
        seed = scenario_seed(batch_seed, spec_hash)
    else:  # the scenario's own seed; a scenario without one gets a seed from its identity
        seed = spec.seed if spec.seed is not None else scenario_seed(0, spec_hash)
    n = int(n_paths if n_paths is not None else spec.paths)
    key = result_key(spec_hash, seed, n, model_hash, posterior_hash, __version__)
    return replace(
        job,
        spec_hash=spec_hash,
        seed=seed,
        n_paths=n,
        model_hash=model_hash,
        posterior_hash=posterior_hash,
        key=key,
    )


def _dedupe(jobs: Sequence[Job]) -> list[Job]:
    """Drop exact repeats; fail a scenario whose name another, different scenario uses."""
    out: list[Job] = []
    by_name: dict[str, Job] = {}
    seen: set[str] = set()
    for job in jobs:
        if job.ident in seen:
            continue
        first = by_name.get(job.name)
        if first is not None and job.key and first.key:
            message = (
                f"scenario name {job.name!r} is also used by a different scenario in "
                f"{first.source}; names must be unique in a batch"
            )
            job = replace(job, error=message, spec=None, key="")
        by_name.setdefault(job.name, job)
        seen.add(job.ident)
        out.append(job)
    return out


def collect_jobs(
    inputs: Iterable[BatchInput], *, n_paths: int | None = None, seed: int | None = None
) -> list[Job]:
    """Expand inputs into keyed jobs, in input order.

    Parameters
    ----------
    inputs : iterable
        Scenario or sweep files, folders (their ``*.yaml`` files, not recursive), specs or
        sweep variants.
    n_paths : int, optional
        Paths per scenario (default: each scenario's ``paths``).
    seed : int, optional
        Batch seed; each scenario gets :func:`scenario_seed` of it (default: each
        scenario's own ``seed``).

    Returns
    -------
    list of Job
        Inputs that fail to load or to match their model come back with ``error`` set.
    """
    hashes = _Hashes()
    jobs = [
        j if j.error or j.spec is None else _keyed(j, n_paths, seed, hashes)
        for j in _expand_inputs(inputs)
    ]
    return _dedupe(jobs)
