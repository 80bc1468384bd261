"""Findings 1, 2 and 12 of issue 14, and the output rules: never trample, never through links.

Output rules: a non-empty ``--out`` that is not a simengine store is refused; simengine never
deletes or overwrites a file it did not write; temporary files carry the ``.simengine-tmp-``
prefix; nothing is written through a symbolic link; outputs are checked before simulating.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simengine import api

from .conftest import BASE, TEST_MODEL, N, no_traceback, scenario

FED = Path(BASE).parent / "fed_cut_september.yaml"


def _no_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any simulation fail loudly: the checks must come before it."""

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("simulated before checking the outputs")

    monkeypatch.setattr(api, "simulate", boom)
    monkeypatch.setattr(api, "compare", boom)


# ----------------------------------------------------------------------------- finding 1


def test_f1_batch_refuses_a_folder_that_is_not_a_store(tmp_path: Path, cli) -> None:
    out = tmp_path / "home"
    out.mkdir()
    (out / "manifest.json").write_text('{"mine": true}')
    (out / "summary.parquet").write_bytes(b"my own parquet")
    (out / ".notes.tmp").write_text("my temp file")
    res = cli("batch", scenario(tmp_path, f"model: {TEST_MODEL}\n"), "--out", out, "-w", "0",
              "-n", N)  # fmt: skip
    assert res.code == 2, res
    assert "not a simengine batch manifest" in res.err, res
    assert (out / "manifest.json").read_text() == '{"mine": true}'
    assert (out / "summary.parquet").read_bytes() == b"my own parquet"
    assert (out / ".notes.tmp").read_text() == "my temp file"
    assert sorted(p.name for p in out.iterdir()) == [
        ".notes.tmp",
        "manifest.json",
        "summary.parquet",
    ]


def test_f1_batch_refuses_a_non_empty_folder_without_manifest(tmp_path: Path, cli) -> None:
    out = tmp_path / "docs"
    out.mkdir()
    (out / "thesis.txt").write_text("do not touch")
    res = cli("batch", scenario(tmp_path, f"model: {TEST_MODEL}\n"), "--out", out, "-w", "0",
              "-n", N)  # fmt: skip
    assert res.code == 2 and "is not empty" in res.err, res
    assert sorted(p.name for p in out.iterdir()) == ["thesis.txt"]


def test_f1_store_keeps_temp_files_it_did_not_write(tmp_path: Path) -> None:
    from simengine.batch import run_batch

    out = tmp_path / "out"
    spec = scenario(tmp_path, f"model: {TEST_MODEL}\n")
    run_batch([spec], out, workers=0, n_paths=4096)
    foreign = [out / ".user.tmp", out / "results" / ".draft.nc.tmp"]
    for path in foreign:
        path.write_text("user data")
    run_batch([spec], out, workers=0, n_paths=4096, force=True)
    assert all(p.read_text() == "user data" for p in foreign)


# ----------------------------------------------------------------------------- finding 2


def test_f2_symlinked_results_folder_is_refused(tmp_path: Path, cli) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".precious.tmp").write_text("keep")
    out.mkdir()
    (out / "results").symlink_to(elsewhere)
    res = cli("batch", scenario(tmp_path, f"model: {TEST_MODEL}\n"), "--out", out, "-w", "0",
              "-n", N)  # fmt: skip
    assert res.code == 2 and "symbolic link" in res.err, res
    assert [p.name for p in elsewhere.iterdir()] == [".precious.tmp"]


def test_f2_plot_subfolder_symlink_is_refused_before_simulating(
    tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    plots, elsewhere = tmp_path / "plots", tmp_path / "elsewhere"
    plots.mkdir()
    elsewhere.mkdir()
    (plots / "fed-cut-september").symlink_to(elsewhere)
    _no_simulation(monkeypatch)
    res = cli("run", FED, BASE, "-n", N, "--plot", plots)
    assert res.code == 2 and "symbolic link" in res.err, res
    assert "single file name" not in res.err  # the right reason, not a misleading one
    assert list(elsewhere.iterdir()) == []


def test_f2_output_file_that_is_a_symlink_is_never_written_through(
    tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, target = tmp_path / "out", tmp_path / "victim.txt"
    out.mkdir()
    target.write_text("victim")
    (out / "fed-cut-september.nc").symlink_to(target)
    _no_simulation(monkeypatch)
    for extra in ([], ["--force"]):
        res = cli("run", FED, "-n", N, "--out", out, *extra)
        assert res.code == 2 and "symbolic link" in res.err, res
    assert target.read_text() == "victim" and (out / "fed-cut-september.nc").is_symlink()


def test_f2_atomic_write_refuses_a_link_target(tmp_path: Path) -> None:
    from simengine.exceptions import SimengineError
    from simengine.io import atomic_write

    target = tmp_path / "victim"
    target.write_text("victim")
    (tmp_path / "out.csv").symlink_to(target)
    with pytest.raises(SimengineError, match="symbolic link"):
        with atomic_write(tmp_path / "out.csv", overwrite=True) as tmp:
            tmp.write_text("new")
    assert target.read_text() == "victim"


# ----------------------------------------------------------------------------- outputs first


def test_outputs_are_checked_before_simulating(
    tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "fed-cut-september_summary.csv").write_text("earlier result")
    _no_simulation(monkeypatch)
    res = cli("run", FED, "-n", N, "--out", out)
    assert res.code == 2 and "already exists" in res.err, res
    res = cli("compare", FED, BASE, "-n", N, "--out", out / "comparison_differences.csv")
    assert res.code != 0  # not a folder: refused before simulating (see test_errors)


# ----------------------------------------------------------------------------- finding 12


def test_f12_full_disk_run_out_exits_1_with_the_cause(tmp_path: Path, full_disk: Path) -> None:
    code = "from simengine.cli import main; main()"
    out = full_disk / "out"
    proc = subprocess.run(
        [sys.executable, "-c", code, "run", str(FED), "-n", "20000", "-s", "1", "-f", "json",
         "--out", str(out)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "COLUMNS": "300"},
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # was a segmentation fault (139)
    assert "disk is full" in proc.stderr and "Traceback" not in proc.stderr
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temp left


def test_f12_full_disk_batch_serial_exits_1(tmp_path: Path, full_disk: Path) -> None:
    code = "from simengine.cli import main; main()"
    spec = scenario(tmp_path, f"model: {TEST_MODEL}\n")
    proc = subprocess.run(
        [sys.executable, "-c", code, "batch", str(spec), "--out", str(full_disk / "b"),
         "-w", "0", "-n", "20000"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "COLUMNS": "300"},
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "No space left" in proc.stderr + proc.stdout or "disk is full" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_f12_enospc_is_named_with_the_target(tmp_path: Path, monkeypatch, cli) -> None:
    import errno

    def full(self: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    res = cli("run", FED, "-n", N, "-s", "1", "-f", "json", "--out", tmp_path / "o")
    assert res.code == 1, res
    assert "the disk is full" in res.err and "fed-cut-september.nc" in res.err, res
    no_traceback(res)


# ----------------------------------------------------------------------------- temp files


def test_stale_temp_files_of_killed_runs_are_removed_and_only_those(tmp_path: Path) -> None:
    from simengine.io import TMP_PREFIX, _host, atomic_write

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = tmp_path / f"{TMP_PREFIX}{gone.pid}@{_host()}@r.nc-x1.tmp"
    live = tmp_path / f"{TMP_PREFIX}{os.getpid()}@{_host()}@r.nc-x2.tmp"
    other_host = tmp_path / f"{TMP_PREFIX}{gone.pid}@elsewhere@r.nc-x3.tmp"
    users = tmp_path / ".r.nc.abc.tmp"
    for p in (stale, live, other_host, users):
        p.write_text("x")
    with atomic_write(tmp_path / "r.nc") as tmp:
        assert tmp.name.startswith(f"{TMP_PREFIX}{os.getpid()}@")
        tmp.write_text("result")
    assert not stale.exists()
    assert live.exists() and other_host.exists() and users.exists()


def test_run_out_leaves_no_temp_files_after_a_kill(tmp_path: Path) -> None:
    """A run killed while writing leaves a prefixed temp file; the next run removes it."""
    from simengine.io import TMP_PREFIX

    out = tmp_path / "out"
    code = (
        "import os, signal, pathlib, simengine.io as io\n"
        "orig = pathlib.Path.write_bytes\n"
        "def die(self, data):\n"
        "    orig(self, data[:1000]); os.kill(os.getpid(), signal.SIGKILL)\n"
        "pathlib.Path.write_bytes = die\n"
        "from simengine.cli import main; main()\n"
    )
    args = ["run", str(FED), "-n", N, "-s", "1", "-f", "json", "--out", str(out)]
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, timeout=300)
    assert proc.returncode == -9
    assert [p for p in out.iterdir() if p.name.startswith(TMP_PREFIX)]  # left by the kill
    proc = subprocess.run([sys.executable, "-m", "simengine", *args], capture_output=True,
                          timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "fed-cut-september.nc",
        "fed-cut-september_summary.csv",
    ]


def test_f12_full_disk_batch_with_two_workers_ends(tmp_path: Path, full_disk: Path) -> None:
    """The workers used to die in HDF5 and the client waited for ever with zero workers."""
    code = "from simengine.cli import main; main()"
    specs = [scenario(tmp_path, f"model: {TEST_MODEL}\n", f"s{i}.yaml") for i in range(3)]
    proc = subprocess.run(
        [sys.executable, "-c", code, "batch", *map(str, specs), "--out", str(full_disk / "b"),
         "-w", "2", "-n", "20000"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "COLUMNS": "300"},
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "No space left on device" in proc.stderr and "Traceback" not in proc.stderr
