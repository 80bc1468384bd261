"""Findings 5, 9, 13, 14, 15 and 16 of issue 14: posteriors, batch stores, result files, errors.

Corrupted and oversized result and posterior files, manifests that are not manifests, a batch
where nothing succeeds, a worker killed mid-batch, and the error table of finding 16.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from simengine.batch import run_batch
from simengine.exceptions import PosteriorMismatchError, SpecError

from .conftest import BASE, TEST_MODEL, N, no_traceback, scenario

FED = Path(BASE).parent / "fed_cut_september.yaml"


def _sweep(tmp_path: Path, levels: str = "15, 20") -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"sweep:\n  name: sw\n  base: {BASE}\n  set:\n    model: {TEST_MODEL}\n"
        f"  vary:\n    tariff: {{field: 'tariffs[0].level', values: [{levels}]}}\n"
    )
    return path


# ----------------------------------------------------------------------------- finding 5


def _posterior(tmp_path: Path, edit=None, rehash: bool = True) -> Path:
    """A copy of the packaged posterior, edited, with its content hash recomputed or not."""
    import arviz as az

    from simengine.bayes.store import DEFAULT_POSTERIOR_PATH, posterior_content_hash
    from simengine.io import write_netcdf

    idata = az.from_netcdf(DEFAULT_POSTERIOR_PATH)
    for group in idata.groups():
        idata[group].load()
    if edit is not None:
        edit(idata.posterior)
    if rehash:
        idata.posterior.attrs["content_hash"] = posterior_content_hash(idata.posterior)
    path = tmp_path / "p.nc"
    groups = {g: idata[g] for g in ("posterior", "sample_stats")}
    return write_netcdf(path, groups, overwrite=True)


def test_f5_custom_model_under_bayesian_is_refused(tmp_path: Path, cli) -> None:
    from simengine import api

    model = tmp_path / "m.yaml"
    text = (Path(api.__file__).parent / "models" / "default.yaml").read_text()
    model.write_text(text.replace("mu: ", "mu: -0.5 #", 1))
    spec = scenario(tmp_path, f"model: {model}\nmethod: bayesian\n")
    res = cli("run", spec, "-n", N, "-s", "1", "-f", "json")
    assert res.code == 2, res
    assert "under method bayesian the posterior draws replace" in res.err, res
    assert cli("run", spec, "-n", N, "-s", "1", "-f", "json", "-m", "monte_carlo").code == 0


def test_f5_packaged_posterior_pairs_with_the_packaged_model() -> None:
    """Fails when the default model changes without restamping the posterior (see the script)."""
    from simengine.api import load_model
    from simengine.bayes.store import params_from_posterior

    params = params_from_posterior(load_model("default"), "default")
    assert params.n_draws > 1


def test_f5_edited_posterior_is_refused(tmp_path: Path) -> None:
    from simengine.bayes.store import load_posterior

    def edit(post) -> None:
        post["mu"].values[0, 0, 0] += 0.01

    path = _posterior(tmp_path, edit, rehash=False)
    with pytest.raises(PosteriorMismatchError, match="content hash mismatch"):
        load_posterior(path)


def test_f5_posterior_relabelled_for_another_model_is_refused(tmp_path: Path) -> None:
    from simengine.api import load_model
    from simengine.bayes.store import params_from_posterior

    def edit(post) -> None:
        post.attrs["model_file_hash"] = "0" * 64

    path = _posterior(tmp_path, edit)
    with pytest.raises(PosteriorMismatchError, match="completes the model file with hash 000"):
        params_from_posterior(load_model("default"), path)


def test_f5_posterior_without_content_hash_is_refused(tmp_path: Path) -> None:
    from simengine.bayes.store import load_posterior

    path = _posterior(tmp_path, lambda post: post.attrs.pop("content_hash"), rehash=False)
    with pytest.raises(PosteriorMismatchError, match="content_hash"):
        load_posterior(path)


# ----------------------------------------------------------------------------- finding 16: posteriors


def test_f16_posterior_attribute_not_a_number(tmp_path: Path, cli) -> None:
    def edit(post) -> None:
        post.attrs["neutral_rate"] = "abc"

    path = _posterior(tmp_path, edit)
    res = cli("run", scenario(tmp_path, f"method: bayesian\nposterior: {path}\n"), "-n", N)
    assert res.code == 2 and "neutral_rate is 'abc'" in res.err, res
    no_traceback(res)


def test_f16_posterior_with_a_non_positive_definite_cholesky(tmp_path: Path, cli) -> None:
    def edit(post) -> None:
        post["chol_a"].values[0, 0, 1, 1] = -1.0

    path = _posterior(tmp_path, edit)
    res = cli("run", scenario(tmp_path, f"method: bayesian\nposterior: {path}\n"), "-n", N)
    assert res.code == 2 and "not Cholesky factors" in res.err, res
    no_traceback(res)


def _huge_variable(path: Path, group: str | None = None) -> None:
    with h5py.File(path, "a") as fh:
        where = fh[group] if group else fh
        where.create_dataset("huge", shape=(10**12,), dtype="f8", chunks=(1024,))


def test_f16_oversized_posterior_is_refused_before_reading(tmp_path: Path, cli) -> None:
    path = _posterior(tmp_path)
    _huge_variable(path, "posterior")
    assert path.stat().st_size < 5_000_000
    res = cli("run", scenario(tmp_path, f"method: bayesian\nposterior: {path}\n"), "-n", N)
    assert res.code == 2 and "more than the memory limit" in res.err, res
    res = cli("diagnose", path)
    assert res.code == 2 and "more than the memory limit" in res.err, res


def test_f16_corrupted_posterior_is_a_message(tmp_path: Path, cli) -> None:
    path = _posterior(tmp_path)
    data = bytearray(path.read_bytes())
    data[2000:6000] = os.urandom(4000)
    path.write_bytes(bytes(data))
    res = cli("diagnose", path)
    assert res.code == 2, res
    no_traceback(res)


# ----------------------------------------------------------------------------- finding 13


def _huge_member(path: Path) -> None:
    """Add a member to a compact result whose ``.npy`` header declares 8 TB of data."""
    import zipfile

    header = np.lib.format.header_data_from_array_1_0(np.zeros(1))
    header["shape"] = (10**12,)
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("v/huge.npy", buf.getvalue() + bytes(64))


def _corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[600:900] = bytes(300)  # metadata near the start: superblock / object headers
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["corrupted", "oversized"])
def test_f13_bad_result_in_a_store_is_recomputed(
    tmp_path: Path, cli, damage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simengine.resultfile as resultfile

    out = tmp_path / "out"
    first = run_batch([_sweep(tmp_path)], out, workers=0, n_paths=4096, seed=2)
    victim = sorted((out / "results").glob("*.npz"))[0]  # batch results are compact files
    _corrupt(victim) if damage == "corrupted" else _huge_member(victim)
    load = resultfile.read_compact

    def never_the_victim(path, *args, **kwargs):  # a damaged file must never be parsed
        assert Path(path) != victim, "parsed a damaged result file"
        return load(path, *args, **kwargs)

    monkeypatch.setattr(resultfile, "read_compact", never_the_victim)
    second = run_batch([_sweep(tmp_path)], out, workers=0, n_paths=4096, seed=2)
    status = {Path(e["result_file"]).name: e["status"] for e in second.entries}
    assert status[victim.name] == "done" and second.ok, second.entries
    pd.testing.assert_frame_equal(second.summary, first.summary)
    res = cli("report", out, "--out", tmp_path / "r.html")
    assert res.code == 0, res


def test_f13_report_of_a_store_with_a_corrupted_file_does_not_crash(tmp_path: Path, cli) -> None:
    out = tmp_path / "out"
    run_batch([_sweep(tmp_path)], out, workers=0, n_paths=4096, seed=2)
    for victim in (out / "results").glob("*.npz"):
        _corrupt(victim)
    res = cli("report", out, "--out", tmp_path / "r.html")
    assert res.code == 0, res
    assert "Not shown" in (tmp_path / "r.html").read_text()


# ----------------------------------------------------------------------------- finding 9


def test_f9_store_report_shows_only_current_results(tmp_path: Path, cli) -> None:
    out = tmp_path / "out"
    run_batch([_sweep(tmp_path, "15, 20, 25")], out, workers=0, n_paths=4096, seed=2)
    run_batch([_sweep(tmp_path, "30, 35")], out, workers=0, n_paths=4096, seed=2)
    assert len(list((out / "results").glob("*.npz"))) == 5  # old results stay (they are ours)
    res = cli("report", out, "--out", tmp_path / "r.html")
    assert res.code == 0, res
    page = (tmp_path / "r.html").read_text()
    assert "2 result file(s)" in page
    # the sweep table is labelled by the sweep's values: 30 and 35 are current, 15..25 stale
    rows = re.findall(r'<tr><td class="text">([^<]*)</td>', page)
    assert rows == ["30", "35"], rows
    assert "sw: 2 scenario(s)" in page and "sw.tariff_15" not in page


# ----------------------------------------------------------------------------- finding 14, 15


@pytest.mark.parametrize("case", ["invalid", "empty"])
def test_f14_batch_where_nothing_succeeds_prints_the_failures(tmp_path: Path, cli, case) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    if case == "invalid":
        (folder / "a.yaml").write_text("name: a\nstart: nope\n")
    res = cli("batch", folder, "--out", tmp_path / "out", "-w", "0", "-n", N)
    no_traceback(res)
    assert "Duplicate column names" not in res.err
    if case == "invalid":
        assert res.code == 1 and "1 scenario(s) failed" in res.err, res
    else:
        assert res.code == 2 and "no scenarios to run" in res.err, res
        assert not (tmp_path / "out").exists()  # nothing created for nothing


def test_f14_all_failing_batch_summary_is_a_table(tmp_path: Path) -> None:
    bad = scenario(
        tmp_path, f"model: {TEST_MODEL}\nfomc: [{{meeting: 2025-09-17, change_bp: -30}}]\n"
    )
    result = run_batch([bad], tmp_path / "out", workers=0, n_paths=4096)
    assert not result.ok and result.summary.empty
    assert result.summary.columns.is_unique


def test_f15_negative_workers_exit_2_at_once(tmp_path: Path, cli) -> None:
    start = time.monotonic()
    res = cli("batch", BASE, "--out", tmp_path / "out", "--workers", "-1")
    assert res.code == 2 and time.monotonic() - start < 10, res
    from simengine.exceptions import UsageError

    with pytest.raises(UsageError, match="workers must be 0"):
        run_batch([BASE], tmp_path / "out", workers=-1)


# ----------------------------------------------------------------------------- finding 16


def test_f16_run_out_onto_a_file_exits_2_before_simulating(tmp_path: Path, cli) -> None:
    target = tmp_path / "file.txt"
    target.write_text("mine")
    for option in ("--out", "--plot"):
        for extra in ([], ["--force"]):
            start = time.monotonic()
            res = cli("run", FED, "-n", "200000", option, target, *extra)
            assert res.code == 2 and "is a file" in res.err, res
            assert time.monotonic() - start < 5  # refused before simulating 200,000 paths
    assert target.read_text() == "mine"


def test_f16_report_out_onto_a_folder_exits_2(tmp_path: Path, cli) -> None:
    res = cli("report", FED, "--out", tmp_path, "--force", "-n", N)
    assert res.code == 2 and "is a folder" in res.err, res
    no_traceback(res)


@pytest.mark.parametrize("command", ["run", "batch", "report"])
def test_f16_read_only_output_folder_exits_1(read_only_dir: Path, cli, command: str) -> None:
    args = {
        "run": ["run", FED, "-n", N, "--out", read_only_dir / "o"],
        "batch": ["batch", FED, "-w", "0", "-n", N, "--out", read_only_dir / "o"],
        "report": ["report", FED, "-n", N, "--out", read_only_dir / "r.html"],
    }[command]
    res = cli(*args)
    assert res.code == 1 and "read-only" in res.err, res
    no_traceback(res)


def test_f16_scheduler_that_is_not_an_address_exits_2(tmp_path: Path, cli) -> None:
    res = cli("batch", FED, "--out", tmp_path / "o", "--scheduler", "notaurl")
    assert res.code == 2 and "not a Dask address" in res.err, res


def test_f16_unreachable_scheduler_exits_1(tmp_path: Path, cli, monkeypatch) -> None:
    monkeypatch.setenv("DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT", "1s")
    import dask

    dask.config.refresh()
    res = cli("batch", FED, "--out", tmp_path / "o", "--scheduler", "tcp://127.0.0.1:1")
    assert res.code == 1 and "cannot reach the Dask scheduler" in res.err, res
    no_traceback(res)


@pytest.mark.parametrize(
    "content", ["[]", '{"format": "simengine-batch/1", "scenarios": [1]}', "{"]
)
def test_f16_manifest_that_is_not_a_manifest_exits_2(tmp_path: Path, cli, content: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text(content)
    res = cli("batch", FED, "--out", out, "-w", "0", "-n", N)
    assert res.code == 2 and "manifest" in res.err, res
    assert (out / "manifest.json").read_text() == content
    no_traceback(res)


def test_f16_unexpected_errors_are_one_line_with_debug_hint(cli, monkeypatch) -> None:
    from simengine import api

    def bug(*args: object, **kwargs: object) -> None:
        raise TypeError("something internal")

    monkeypatch.setattr(api, "simulate", bug)
    res = cli("run", FED, "-n", N)
    assert res.code == 1 and "unexpected TypeError: something internal" in res.err, res
    assert "--debug" in res.err and "Traceback" not in res.err
    with pytest.raises(TypeError):
        cli("--debug", "run", FED, "-n", N)


def test_f16_spec_errors_still_exit_2(tmp_path: Path, cli) -> None:
    res = cli("run", scenario(tmp_path, "paths: -1\n"))
    assert res.code == 2, res
    with pytest.raises(SpecError):
        from simengine.spec import load_scenario

        load_scenario(scenario(tmp_path, "paths: -1\n"))


# ----------------------------------------------------------------------------- worker killed


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"resource_tracker" not in cmd:
            out.append(int(entry.name))
    return out


def test_worker_killed_mid_batch_does_not_hang_and_resume_completes(tmp_path: Path) -> None:
    sweep = _sweep(tmp_path, "15, 20, 25, 30")
    out = tmp_path / "out"
    code = "from simengine.cli import main; main()"
    args = [sys.executable, "-c", code, "batch", str(sweep), "--out", str(out), "-w", "2",
            "-n", "200000", "-s", "4"]  # fmt: skip
    env = {**os.environ, "COLUMNS": "300"}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    end, killed = time.monotonic() + 120, None
    while time.monotonic() < end and killed is None and proc.poll() is None:
        workers = _children(proc.pid)
        if len(workers) >= 2:
            time.sleep(0.3)  # let them start work (a warmed-up pool is quick: kill early)
            try:
                os.kill(workers[0], signal.SIGKILL)
                killed = workers[0]
            except ProcessLookupError:  # that worker already ended; try the next one
                pass
        time.sleep(0.05)
    assert killed is not None, "no worker process appeared"
    proc.communicate(timeout=300)  # no hang: ends (the killed task is retried or failed)
    assert proc.returncode in (0, 1)
    again = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    entries = json.loads((out / "manifest.json").read_text())["scenarios"]
    assert len(entries) == 4 and all(e["status"] in ("done", "skipped") for e in entries)
    assert np.isfinite(pd.read_parquet(out / "summary.parquet")["mean"]).all()
