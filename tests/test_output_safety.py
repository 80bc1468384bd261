"""Output safety: names cannot escape the output folder, no silent overwrite, atomic writes."""

from __future__ import annotations

import errno
import sys
from pathlib import Path

import pytest

from simengine import api
from simengine.cli import main
from simengine.exceptions import OutputExistsError, SimengineError
from simengine.io import atomic_write, safe_child

from .conftest import SCENARIOS

ESCAPES = ["../evil", "/etc/passwd", "a/b", "..", ".", "", "a\\b", "x\x00y", "sub/../../x"]


@pytest.mark.parametrize("name", ESCAPES)
def test_safe_child_rejects_names_that_leave_the_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(SimengineError, match="an output name must be a single file name") as err:
        safe_child(tmp_path, name)
    assert err.value.exit_code == 2


def test_safe_child_accepts_plain_names_and_refuses_symlinks_out(tmp_path: Path) -> None:
    assert safe_child(tmp_path, "fed-cut-september.nc") == tmp_path / "fed-cut-september.nc"
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (tmp_path / "link").symlink_to(outside)
    with pytest.raises(SimengineError, match="link: it is a symbolic link"):  # never through links
        safe_child(tmp_path, "link")


def _cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["simengine", *args])
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_run_out_twice_needs_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["run", str(SCENARIOS / "fed_cut_september.yaml"), "-n", "64", "-s", "1", "-f", "json"]
    assert _cli(monkeypatch, *args, "--out", str(out)) == 0
    first = (out / "fed-cut-september.nc").stat().st_mtime_ns
    capsys.readouterr()
    assert _cli(monkeypatch, *args, "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err and "fed-cut-september.nc" in err
    assert (out / "fed-cut-september.nc").stat().st_mtime_ns == first  # untouched
    assert _cli(monkeypatch, *args, "--out", str(out), "--force") == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "fed-cut-september.nc",
        "fed-cut-september_summary.csv",
    ]


def test_failing_write_leaves_no_partial_or_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "result.csv"
    with pytest.raises(RuntimeError), atomic_write(target) as tmp:
        tmp.write_text("half a fi")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_failing_netcdf_write_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = api.simulate(SCENARIOS / "fed_cut_september.yaml", n_paths=64, seed=1)

    def broken(self: Path, data: bytes) -> None:
        with open(self, "wb") as fh:
            fh.write(b"\x89HDF partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", broken)
    with pytest.raises(OSError, match="No space left") as err:
        result.to_netcdf(tmp_path / "r.nc")
    assert err.value.filename == str(tmp_path / "r.nc")  # the target, not the temp file
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_kept_without_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "keep.csv"
    target.write_text("precious")
    with pytest.raises(OutputExistsError, match="pass --force"), atomic_write(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "precious"
    with atomic_write(target, overwrite=True) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new" and len(list(tmp_path.iterdir())) == 1


def test_spec_rejects_path_like_scenario_names(tmp_path: Path) -> None:
    from simengine.exceptions import SpecError
    from simengine.spec import load_scenario

    for name in ("../../etc/passwd", "/abs", "a/b", "A..b"):
        path = tmp_path / "s.yaml"
        path.write_text(f"extends: {SCENARIOS / 'base_2025h2.yaml'}\nname: '{name}'\n")
        with pytest.raises(SpecError) as err:
            load_scenario(path)
        assert err.value.issues[0].field == "name" and err.value.issues[0].line == 2
