"""Helpers of the adversarial tests: the CLI in-process, scenario files, small file systems."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import ROOT, SCENARIOS

BASE = SCENARIOS / "base_2025h2.yaml"
TEST_MODEL = ROOT / "tests" / "fixtures" / "models" / "test_model.yaml"
N = "4096"


class Outcome:
    """Exit code and captured output of one in-process CLI call."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"exit {self.code}\nstdout: {self.out[-2000:]}\nstderr: {self.err[-2000:]}"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """``cli(*args)`` runs ``simengine ARGS`` in this process and returns an :class:`Outcome`."""
    from simengine.cli import main

    def run(*args: object) -> Outcome:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["simengine", *map(str, args)])
        monkeypatch.setenv("COLUMNS", "400")
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


def scenario(folder: Path, text: str, name: str = "s.yaml") -> Path:
    """Write a scenario file extending the library base (the test model unless given)."""
    path = folder / name
    head = f"extends: {BASE}\nname: {Path(name).stem.replace('_', '-')}\n"
    path.write_text(head + text)
    return path


def no_traceback(outcome: Outcome) -> None:
    """One clean message: no traceback, no raw exception dump."""
    assert "Traceback" not in outcome.err + outcome.out, outcome
    assert "error" in outcome.err.lower(), outcome


def _mount(size: str, options: str = "") -> Iterator[Path]:
    point = Path("/tmp") / f"simengine-adv-{uuid.uuid4().hex[:8]}"
    point.mkdir()
    opts = f"size={size}" + (f",{options}" if options else "")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(point)], check=False,
                          capture_output=True)  # fmt: skip
    if done.returncode != 0:
        point.rmdir()
        pytest.skip("needs root to mount a small tmpfs")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)
        point.rmdir()


@pytest.fixture
def full_disk() -> Iterator[Path]:
    """A 1 MiB tmpfs, almost full (a few KiB left)."""
    for point in _mount("1m"):
        (point / "filler").write_bytes(b"\0" * ((1 << 20) - 48 * 1024))  # 48 KiB left
        yield point


@pytest.fixture
def read_only_dir() -> Iterator[Path]:
    """A read-only file system (even root cannot write into it)."""
    yield from _mount("1m", "ro")
