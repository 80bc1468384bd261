"""The C heap keeps freed chunk memory (simengine.allocator); numbers never depend on it."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "fed_cut_september.yaml"
glibc = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's mallopt"
)

_FAULTS = """
import json, resource, sys
import numpy as np
from simengine.allocator import keep_heap_top

ok = [keep_heap_top(), keep_heap_top()] if sys.argv[1] == "1" else []
faults = []
for _ in range(4):  # a chunk: eight 2 MiB arrays allocated, written and freed
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    arrays = [np.ones(1 << 18) for _ in range(8)]
    del arrays
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(json.dumps([ok, faults]))
"""


def _run(code: str, *args: str) -> object:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@glibc
def test_later_chunks_reuse_resident_memory_only_with_the_settings() -> None:
    """glibc's default trims the heap after each chunk, so the next one faults its pages in
    (and the kernel zeroes them) again; with the settings only the first chunk does."""
    ok, tuned = _run(_FAULTS, "1")
    assert ok == [True, True]
    assert tuned[0] > 1000 and max(tuned[1:]) < tuned[0] // 20
    _, default = _run(_FAULTS, "0")
    assert min(default[1:]) > default[0] // 2


_NUMBERS = """
import hashlib, json, sys
import simengine
from simengine.allocator import keep_heap_top
if sys.argv[1] == "1":
    assert keep_heap_top()
ds = simengine.simulate(sys.argv[2], n_paths=20000, seed=11, chunk_size=4096).dataset
print(json.dumps({k: hashlib.sha256(v.values.tobytes()).hexdigest() for k, v in ds.items()}))
"""


def test_numbers_do_not_depend_on_the_allocator() -> None:
    tuned = _run(_NUMBERS, "1", str(SCENARIO))
    assert len(tuned) > 10 and tuned == _run(_NUMBERS, "0", str(SCENARIO))


@pytest.mark.parametrize("workers", [0, 2])
def test_local_batches_keep_the_heap_top(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    import simengine.batch
    from simengine.batch import run_batch

    calls: list[int] = []
    monkeypatch.setattr(simengine.batch, "keep_heap_top", lambda: calls.append(1) or True)
    res = run_batch([SCENARIO], tmp_path / "b", workers=workers, n_paths=256, seed=1)
    assert res.ok and calls == [1]  # in this process; the pool's workers inherit it
