"""One run split across a Dask cluster, and batches on a scheduler: same numbers as local runs.

The cluster is a loopback scheduler with 2 worker processes started by the test; the fast
versions use a few random-number blocks, the slow one more paths than one part holds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simengine
from simengine.cluster import MAX_BLOCKS_PER_PART, block_parts
from simengine.rng import BLOCK

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
SEPT = ROOT / "scenarios" / "fed_cut_september.yaml"
OCT = ROOT / "scenarios" / "fed_cut_october.yaml"


@pytest.fixture(scope="module")
def scheduler():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=50,
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def test_block_parts_cover_every_block_once() -> None:
    for n_blocks, slots in [(1, 2), (7, 2), (9, 1), (3 * MAX_BLOCKS_PER_PART + 5, 2)]:
        parts = block_parts(n_blocks, slots)
        flat = [b for first, n in parts for b in range(first, first + n)]
        assert flat == list(range(n_blocks))
        assert max(n for _, n in parts) <= MAX_BLOCKS_PER_PART
        assert max(n for _, n in parts) - min(n for _, n in parts) <= 1


def _same(a, b) -> None:
    assert a.dataset.drop_attrs().identical(b.dataset.drop_attrs())


def test_cluster_run_equals_local_run(scheduler: str) -> None:
    n = 5 * BLOCK + 123  # several parts on 2 workers, a short last block
    local = simengine.simulate(SEPT, n_paths=n, seed=21, n_sample=64)
    remote = simengine.simulate(SEPT, n_paths=n, seed=21, n_sample=64, scheduler=scheduler)
    _same(local, remote)
    pd.testing.assert_frame_equal(local.summary(wide=True), remote.summary(wide=True))


def test_cluster_comparison_equals_local(scheduler: str) -> None:
    n = 3 * BLOCK
    local = simengine.compare([SEPT, OCT], n_paths=n, seed=4, threads=2)
    remote = simengine.compare([SEPT, OCT], n_paths=n, seed=4, scheduler=scheduler)
    _same(local, remote)
    pd.testing.assert_frame_equal(
        local.difference_summary(wide=True), remote.difference_summary(wide=True)
    )


def test_cli_run_on_scheduler_accepts_scientific_paths(scheduler: str) -> None:
    args = [str(SEPT), "--paths", "1.2e4", "--seed", "3", "--format", "json"]
    code = "from simengine.cli import main; main()"
    out = [
        subprocess.run(
            [sys.executable, "-c", code, "run", *args, *extra],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for extra in ([], ["--scheduler", scheduler])
    ]
    local, remote = (json.loads(o) for o in out)
    local.pop("created", None), remote.pop("created", None)
    assert _strip(local) == _strip(remote)


def _strip(payload: dict) -> dict:
    """A CLI JSON result without the creation time stamp."""
    text = json.dumps(payload, sort_keys=True)
    data = json.loads(text)
    data.get("attrs", {}).pop("created", None)
    return data


def test_batch_on_scheduler_equals_serial(scheduler: str, tmp_path: Path) -> None:
    from simengine.batch import run_batch

    files = [SEPT, OCT]
    serial = run_batch(files, tmp_path / "serial", workers=0, n_paths=BLOCK, seed=3)
    remote = run_batch(files, tmp_path / "remote", scheduler=scheduler, n_paths=BLOCK, seed=3)
    assert remote.ok and len(remote.done) == 2
    pd.testing.assert_frame_equal(serial.summary, remote.summary)
    for entry in remote.entries:
        assert (
            simengine.load_result(tmp_path / "remote" / entry["result_file"]).summary(wide=True)
            is not None
        )


@pytest.mark.slow
def test_cluster_run_many_parts_equals_local(scheduler: str) -> None:
    n = 2 * MAX_BLOCKS_PER_PART * BLOCK // 8 + 7  # 257 blocks: 8 parts of ~32 blocks on 2 slots
    local = simengine.simulate(SEPT, n_paths=n, seed=8, threads=2)
    remote = simengine.simulate(SEPT, n_paths=n, seed=8, scheduler=scheduler)
    _same(local, remote)


def test_part_ships_only_its_own_blocks_and_pads_back_exactly() -> None:
    from simengine.cluster import _run_part
    from simengine.parts import build_scenario
    from simengine.simulate import RunConfig, run_block_range
    from simengine.spec import load_scenario
    from tests.conftest import packaged_policy

    params = simengine.load_model()
    models = [build_scenario(load_scenario(p), params.structure) for p in (SEPT, OCT)]
    cfg, policy = RunConfig(6 * BLOCK, 5, n_sample=0), packaged_policy(params)
    shipped = _run_part(2, 3, (models, params, cfg, policy))
    local = run_block_range(models, params, cfg, 2, 3, policy)
    for part, whole in zip(shipped, local, strict=True):
        assert part.states["differences"]["diff_block_mean"].shape == (3, len(part.layout.series))
        assert whole.states["differences"]["diff_block_mean"].shape[0] == 6
        part.pad_blocks(2, 6)
        for stat, state in whole.states.items():
            for name, value in state.items():
                assert np.array_equal(part.states[stat][name], value), (stat, name)
    assert np.any(local[1].states["differences"]["diff_block_mean"][2:5] != 0)
