"""Batches: result store, resume after a kill, determinism across workers, failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from simengine.batch import collect_jobs, run_batch, scenario_seed
from simengine.io import TMP_PREFIX, _host
from simengine.spec import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "base_2025h2.yaml"
TEST_MODEL = ROOT / "tests" / "fixtures" / "models" / "test_model.yaml"
PATHS = 4096


def _sweep(tmp_path: Path, n_levels: int = 2, name: str = "sw.yaml") -> Path:
    levels = ", ".join(str(15 + 5 * i) for i in range(n_levels))
    path = tmp_path / name
    path.write_text(
        f"""sweep:
  name: tg
  base: {BASE}
  set:
    model: {TEST_MODEL}
  vary:
    tariff: {{field: "tariffs[0].level", values: [{levels}]}}
    growth:
      values:
        soft: {{drifts: [{{factor: growth, shift: 0.05}}]}}
        recession: {{drifts: [{{factor: growth, shift: -0.4}}]}}
"""
    )
    return path


def _bad_scenario(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(
        f"extends: {BASE}\nname: bad\nmodel: {TEST_MODEL}\n"
        "fomc:\n  - meeting: 2025-09-17\n    change_bp: -30\n"
    )
    return path


def _cli(*args: str, **kwargs) -> subprocess.Popen:
    code = "from simengine.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "batch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
        **kwargs,
    )


def _summary(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "summary.parquet")


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def test_serial_batch_store_and_summary(tmp_path: Path) -> None:
    res = run_batch([_sweep(tmp_path)], tmp_path / "out", workers=0, n_paths=PATHS, seed=7)
    assert res.ok and len(res.done) == 4
    summary = _summary(tmp_path / "out")
    pd.testing.assert_frame_equal(summary, res.summary)
    assert len(summary) == 4 * 3  # scenarios x (small_cap, large_cap, pair)
    assert list(summary.columns[:4]) == ["scenario", "series", "tariff", "growth"]
    for col in ("median", "q05", "es_95", "prob_squeeze", "spec_hash", "seed", "key"):
        assert col in summary.columns
    assert summary["tariff"].dtype.kind == "i"
    entry = _manifest(tmp_path / "out")["scenarios"][0]
    assert entry["status"] == "done" and entry["label"] == "tariff=15,growth=soft"
    assert entry["paths"] == PATHS and entry["model_hash"] and entry["simengine_version"]
    assert (tmp_path / "out" / entry["result_file"]).is_file()
    assert entry["result_file"] == f"results/{entry['name']}-{entry['key'][:12]}.npz"
    assert set(entry["timings"]) >= {"simulate_s", "write_s", "total_s"}
    # a second run reuses everything and gives the same table
    again = run_batch([_sweep(tmp_path)], tmp_path / "out", workers=0, n_paths=PATHS, seed=7)
    assert [e["status"] for e in again.entries] == ["skipped"] * 4
    pd.testing.assert_frame_equal(again.summary, res.summary)
    assert len(res.extremes()) == 3 * 2


def test_store_never_takes_incomplete_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run_batch([_sweep(tmp_path)], out, workers=0, n_paths=PATHS, seed=7)
    files = sorted((out / "results").glob("*.npz"))
    truncated = files[1]
    truncated.write_bytes(truncated.read_bytes()[:100_000])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process id that no longer runs: its temporary file is stale
    leftover = out / "results" / f"{TMP_PREFIX}{gone.pid}@{_host()}@{files[2].name}-abc123.tmp"
    leftover.write_bytes(b"partial")
    foreign = out / "results" / f".{files[2].name}.abc123.tmp"  # not simengine's: kept
    foreign.write_bytes(b"user file")
    files[3].unlink()
    (out / "manifest.json").unlink()  # the result files alone are enough to resume
    second = run_batch([_sweep(tmp_path)], out, workers=0, n_paths=PATHS, seed=7)
    status = {e["result_file"]: e["status"] for e in second.entries}
    assert status[f"results/{truncated.name}"] == "done"  # recomputed, not trusted
    assert status[f"results/{files[3].name}"] == "done"
    assert status[f"results/{files[0].name}"] == "skipped"
    assert not leftover.exists() and foreign.read_bytes() == b"user file"
    pd.testing.assert_frame_equal(second.summary, first.summary)


def test_failing_scenario_does_not_stop_the_batch(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _cli(
        str(_sweep(tmp_path)), str(_bad_scenario(tmp_path)), "--out", str(out),
        "--workers", "0", "--paths", str(PATHS), "--seed", "7",
    )  # fmt: skip
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stderr
    assert "failed" in stderr and "multiple of 25bp" in stderr
    statuses = [e["status"] for e in _manifest(out)["scenarios"]]
    assert sorted(statuses) == ["done"] * 4 + ["failed"]
    bad = [e for e in _manifest(out)["scenarios"] if e["status"] == "failed"][0]
    assert bad["name"] == "bad" and "change_bp" in bad["error"]
    assert len(_summary(out)) == 4 * 3


def test_simulation_error_is_recorded(tmp_path: Path) -> None:
    spec = load_scenario(BASE).with_overrides(model=str(TEST_MODEL), name="ok")
    broken = spec.with_overrides(name="broken", seed=None)
    res = run_batch([spec, broken], tmp_path / "out", workers=0, n_paths=PATHS, seed=None)
    assert [e["status"] for e in res.entries] == ["done", "done"]
    # without a batch seed: the scenario's own seed; a scenario without one: from its hash
    seeds = {e["name"]: e["seed"] for e in res.entries}
    assert seeds["ok"] == str(spec.seed)
    assert seeds["broken"] == str(scenario_seed(0, broken.spec_hash()))


def test_seeds_follow_identity_not_order(tmp_path: Path) -> None:
    sweep = _sweep(tmp_path)
    jobs = collect_jobs([sweep], n_paths=PATHS, seed=11)
    reversed_jobs = collect_jobs(list(reversed([j.spec for j in jobs])), n_paths=PATHS, seed=11)
    assert {j.name: j.seed for j in jobs} == {j.name: j.seed for j in reversed_jobs}
    assert {j.name: j.key for j in jobs} == {j.name: j.key for j in reversed_jobs}
    assert len({j.seed for j in jobs}) == len(jobs)


def test_duplicate_names_fail_only_the_repeat(tmp_path: Path) -> None:
    a = load_scenario(BASE).with_overrides(model=str(TEST_MODEL), name="same")
    b = a.with_overrides(paths=5000)
    res = run_batch([a, a, b], tmp_path / "out", workers=0, n_paths=PATHS)
    assert [e["status"] for e in res.entries] == ["done", "failed"]
    assert "unique" in res.entries[1]["error"]


def _wait_for_first_result(out: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if list((out / "results").glob("*.npz.sha256")):  # a result is reusable once checksummed
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    raise AssertionError("no result appeared")


def _kill_and_resume(tmp_path: Path, workers: str) -> None:
    sweep = _sweep(tmp_path, n_levels=4)
    args = ["--paths", "20000", "--seed", "5", "--workers", workers]
    reference = run_batch([sweep], tmp_path / "ref", workers=0, n_paths=20000, seed=5)
    out = tmp_path / "out"
    proc = _cli(str(sweep), "--out", str(out), *args, start_new_session=True)
    _wait_for_first_result(out, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    finished = [e for e in _manifest(out)["scenarios"] if e["status"] == "done"]
    assert len(finished) < 8, "the batch was not interrupted"
    kept = {
        p.name: p.stat().st_mtime_ns
        for p in (out / "results").glob("*.npz")
        if p.with_name(p.name + ".sha256").exists()
    }
    proc = _cli(str(sweep), "--out", str(out), *args)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    entries = _manifest(out)["scenarios"]
    assert all(e["status"] in ("done", "skipped") for e in entries)
    skipped = {Path(e["result_file"]).name for e in entries if e["status"] == "skipped"}
    assert skipped and skipped <= set(kept)  # finished work was not redone
    for name in skipped:
        assert (out / "results" / name).stat().st_mtime_ns == kept[name]
    pd.testing.assert_frame_equal(_summary(out), reference.summary)


def test_resume_after_sigkill_serial(tmp_path: Path) -> None:
    _kill_and_resume(tmp_path, "0")


@pytest.mark.slow
def test_resume_after_sigkill_local_cluster(tmp_path: Path) -> None:
    _kill_and_resume(tmp_path, "2")


def test_serial_and_two_workers_agree(tmp_path: Path) -> None:
    sweep = _sweep(tmp_path)
    serial = run_batch([sweep], tmp_path / "serial", workers=0, n_paths=PATHS, seed=3)
    local = run_batch([sweep], tmp_path / "local", workers=2, n_paths=PATHS, seed=3)
    assert local.ok and len(local.done) == 4
    pd.testing.assert_frame_equal(serial.summary, local.summary)


def test_importing_simengine_does_not_import_dask() -> None:
    code = "import sys, simengine, simengine.batch; print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_last_round_shares_idle_cores() -> None:
    from simengine.batch import _tail_threads

    assert _tail_threads(7, 2) == [1] * 6 + [2]
    assert _tail_threads(8, 2) == [1] * 8
    assert _tail_threads(5, 4) == [1] * 4 + [4]
    assert _tail_threads(6, 4) == [1] * 4 + [2, 2]
