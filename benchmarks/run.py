"""Run simengine's benchmarks and print one table of ratios against baselines from the same run.

Usage::

    python benchmarks/run.py [--quick] [--out FILE.json] [--only GROUP ...]

Groups (rows of the table):

``floor``
    The full simulation against its random-number floor: drawing the same numbers with the same
    generator and block layout (:func:`simengine.rng.draw_blocks`), monthly and weekly steps.
``scaling``
    Time and peak RSS (fresh subprocess per point) against the path count and the horizon.
``threads``
    Speed-up of one large simulation with ``threads=2`` over ``threads=1``.
``peers``
    A correlated 5-factor VAR(1): statsmodels ``simulate_var`` (the baseline), simengine's
    propagation, a hand-written numpy loop, pyesg's joint Wiener process.
``calibration``
    ``simengine calibrate`` on ../shared/data (wall), and ESS/s of the fit (PyMC's NUTS
    with ``--huge``).
``bayes``
    A Bayesian run (posterior draws) against the point-parameter run, CPU time.
``coldstart``
    ``simengine --help`` and ``simengine validate`` against a bare
    ``python -c "import numpy, typer, rich"`` (fresh processes, interleaved).
``batch``
    The cut-timing sweep (7 scenarios) at 2e5 paths: serially at the commit before issue 13
    ("today"), serially now and on a 2-worker process pool.
``cli``
    Peak RSS of ``simengine run ... --paths 10000000 --format json``.

Single-threaded rows report CPU time of the process (robust when other work shares the
machine); rows about threads, processes and samplers report wall time. The table also records
the load average at the start and the end of the run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import common

HUGE = False
"""Add the 1e8-path point to the scaling rows (``--huge``; several minutes on 2 cores)."""

GROUPS = (
    "floor",
    "scaling",
    "threads",
    "peers",
    "bayes",
    "coldstart",
    "calibration",
    "batch",
    "cli",
)
QUICK_GROUPS = tuple(g for g in GROUPS if g != "calibration")
"""``--quick`` leaves out the calibration (a fit takes minutes); every group it runs must pass."""


@dataclass
class Row:
    """One workload: its measurement, the baseline it is compared with, and the target."""

    group: str
    workload: str
    size: str
    seconds: float | None = None
    clock: str = "cpu"
    peak_mib: float | None = None
    throughput: float | None = None
    unit: str = ""
    baseline: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def cpu_time(fn: Callable[[], Any], repeat: int = 1) -> float:
    """Best CPU time (seconds) of the process over ``repeat`` calls of ``fn``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def wall_time(fn: Callable[[], Any], repeat: int = 1) -> float:
    """Best wall time (seconds) over ``repeat`` calls of ``fn``."""
    return common.best_time(fn, repeat=repeat)


def machine() -> dict[str, Any]:
    """CPU model, cores, memory, versions and load average."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numpy as np

    import simengine

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "simengine": simengine.__version__,
        "load_average_start": os.getloadavg(),
    }


def _fmt_n(n: int) -> str:
    return f"{n:.0e}".replace("e+0", "e")


# --- groups -----------------------------------------------------------------------------------


def interleaved(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, list[float]]:
    """CPU times of each workload over ``repeat`` rounds, the workloads alternating in each round.

    Interleaving spreads slow phases of a shared machine over every workload alike, so the ratio
    of two workloads measured in the same rounds is fairer than two back-to-back series.
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            times[name].append(cpu_time(fn))
    return times


def bench_floor(quick: bool) -> list[Row]:
    """(a) Engine against its honest random-number floor, one thread.

    The floor (:func:`common.draw_floor`) draws exactly the engine's random numbers (same
    streams, same blocks) into reused buffers. From 1e6 paths the two alternate and repeat; the
    rows give the minimum and the ratio of minima, and the medians in the note.
    """
    rows = []
    sizes = (100_000, 1_000_000) if quick else (100_000, 1_000_000, 10_000_000)
    targets = {"monthly": 1.5, "weekly": 1.8}
    for frequency in ("monthly", "weekly"):
        spec = common.bench_spec(frequency)
        n_steps = _n_steps(spec)
        common.engine_run(spec, 4096)  # imports and caches outside the timing
        for n in sizes:
            if frequency == "weekly" and n >= 10_000_000:
                # ~6 CPU-minutes; the ratio does not depend on the path count beyond 1e6
                continue
            repeat = 3 if n <= 100_000 else (3 if quick or n <= 1_000_000 else 2)
            times = interleaved(
                {
                    "floor": lambda s=spec, n=n: common.draw_floor(s, n),
                    "engine": lambda s=spec, n=n: common.engine_run(s, n),
                },
                repeat,
            )
            floor, engine = min(times["floor"]), min(times["engine"])
            med_f, med_e = statistics.median(times["floor"]), statistics.median(times["engine"])
            cells = n * n_steps
            size = f"{_fmt_n(n)} x {n_steps} {frequency}"
            how = f"min of {repeat}, interleaved" if n >= 1_000_000 else f"min of {repeat}"
            rows.append(
                Row(
                    "floor",
                    "random numbers only (honest floor)",
                    size,
                    floor,
                    "cpu",
                    None,
                    cells / floor,
                    "path-steps/s",
                    note=f"{how}; median {med_f:.2f} s",
                    extra={"times": times["floor"]},
                )
            )
            ratio = engine / floor
            target = targets[frequency]
            rows.append(
                Row(
                    "floor",
                    "full simulation",
                    size,
                    engine,
                    "cpu",
                    None,
                    cells / engine,
                    "path-steps/s",
                    "honest floor",
                    ratio,
                    f"<= {target}" if n >= 1_000_000 else "",
                    ratio <= target if n >= 1_000_000 else None,
                    f"{how}; median {med_e:.2f} s, ratio of medians {med_e / med_f:.2f}",
                    {"times": times["engine"]},
                )
            )
    return rows


def _n_steps(spec: Any) -> int:
    from simengine.parts import build_scenario
    from simengine.structure import default_structure

    return build_scenario(spec, default_structure()).n_steps


def bench_scaling(quick: bool) -> list[Row]:
    """(b) Time and peak RSS against path count (threads=2) and horizon (1 thread)."""
    rows: list[Row] = []
    sizes = (100_000, 1_000_000) if quick else (100_000, 1_000_000, 10_000_000)
    if HUGE:
        sizes = (*sizes, 100_000_000)
    first = None
    for n in sizes:
        m = common.measure_subprocess(n, threads=2)
        per_path = m["seconds"] / n
        first = first or (per_path, m["peak_mib"])
        target, met = "", None
        if n >= 10_000_000:
            target, met = "peak <= 600 MiB", m["peak_mib"] <= 600
        rows.append(
            Row(
                "scaling",
                "paths (threads=2)",
                f"{_fmt_n(n)} x 6 monthly",
                m["seconds"],
                "wall",
                m["peak_mib"],
                n / m["seconds"],
                "paths/s",
                f"time per path at {_fmt_n(sizes[0])}",
                per_path / first[0],
                target,
                met,
                f"after imports {m['base_mib']:.0f} MiB",
            )
        )
    n = 100_000
    horizons = {"2025-12-31": 6, "2026-07-16": 12, "2027-07-16": 24, "2030-07-16": 60}
    base = None
    for horizon in horizons:
        m = common.measure_subprocess(n, threads=1, horizon=horizon)
        steps = horizons[horizon]
        per_step = m["seconds"] / steps
        base = base or per_step
        rows.append(
            Row(
                "scaling",
                "horizon (threads=1)",
                f"{_fmt_n(n)} x {steps} monthly",
                m["seconds"],
                "wall",
                m["peak_mib"],
                n * steps / m["seconds"],
                "path-steps/s",
                "time per step at 6 steps",
                per_step / base,
                "",
                None,
                f"after imports {m['base_mib']:.0f} MiB",
            )
        )
    return rows


def bench_threads(quick: bool) -> list[Row]:
    """(c) Speed-up of threads=2 over threads=1 on one large simulation."""
    n = 1_000_000 if quick else 10_000_000
    spec = common.bench_spec("monthly")
    one = wall_time(lambda: common.engine_run(spec, n, threads=1))
    two = wall_time(lambda: common.engine_run(spec, n, threads=2))
    size = f"{_fmt_n(n)} x 6 monthly"
    speedup = one / two
    return [
        Row("threads", "threads=1", size, one, "wall", None, n / one, "paths/s"),
        Row(
            "threads",
            "threads=2",
            size,
            two,
            "wall",
            None,
            n / two,
            "paths/s",
            "threads=1 (speed-up)",
            speedup,
            ">= 1.8" if n >= 10_000_000 else "(>= 1.8 at 1e7)",
            speedup >= 1.8 if n >= 10_000_000 else None,
        ),
    ]


def bench_peers(quick: bool) -> list[Row]:
    """(d) A correlated 5-factor VAR(1) in statsmodels, simengine, numpy and pyesg."""
    from threadpoolctl import threadpool_limits

    common.require_bench_extra()
    n, steps = (100_000, 12) if quick else (1_000_000, 12)
    results = common.peer_var_setup()
    size = f"{_fmt_n(n)} x {steps}, 5 factors"
    rows: list[Row] = []
    base = None
    with threadpool_limits(limits=1, user_api="blas"):
        peers = (
            ("statsmodels simulate_var", common.statsmodels_var),
            ("simengine draws + propagate", common.simengine_var),
            ("numpy per-step loop", common.numpy_loop_var),
            ("pyesg JointWienerProcess (no VAR)", common.pyesg_wiener),
        )
        for _, fn in peers:  # imports and compiled kernels outside the timing
            fn(results, 4096, steps)
        for name, fn in peers:
            seconds = cpu_time(lambda fn=fn: fn(results, n, steps), 2 if quick else 1)
            base = base or seconds
            ratio = base / seconds  # throughput relative to statsmodels
            is_se = name.startswith("simengine")
            rows.append(
                Row(
                    "peers",
                    name,
                    size,
                    seconds,
                    "cpu",
                    None,
                    n * steps / seconds,
                    "path-steps/s",
                    "" if base == seconds and not is_se else "statsmodels (throughput x)",
                    None if ratio == 1.0 and not is_se else ratio,
                    ">= 4" if is_se else "",
                    ratio >= 4 if is_se else None,
                )
            )
    return rows


def bench_bayes(quick: bool) -> list[Row]:
    """Bayesian run (each path a posterior draw) against the point-parameter run, one thread.

    The September-cut scenario with the packaged model and posterior; CPU time, the two
    alternating, min of the rounds (warm process: the posterior is read once).
    """
    import simengine

    spec = simengine.load_scenario(common.SCENARIO)
    n = 100_000 if quick else 1_000_000
    for method in ("monte_carlo", "bayesian"):  # imports, model and posterior outside timing
        simengine.simulate(spec, n_paths=4096, seed=1, method=method)
    times = interleaved(
        {
            m: lambda m=m: simengine.simulate(spec, n_paths=n, seed=1, method=m)
            for m in ("monte_carlo", "bayesian")
        },
        3,
    )
    point, bayes = times["monte_carlo"], times["bayesian"]
    ratio = min(bayes) / min(point)
    med = statistics.median(bayes) / statistics.median(point)
    size = f"{_fmt_n(n)} x 6 monthly"
    return [
        Row("bayes", "point parameters", size, min(point), "cpu", None, n / min(point), "paths/s",
            extra={"times": point}),
        Row("bayes", "Bayesian (posterior draws)", size, min(bayes), "cpu", None, n / min(bayes),
            "paths/s", "point parameters", ratio, "<= 1.3", ratio <= 1.3,
            f"min of 3, interleaved; ratio of medians {med:.2f}", {"times": bayes}),
    ]  # fmt: skip


def wall_runs(
    cmds: dict[str, list[str]], repeat: int, env: dict[str, str] | None = None
) -> dict[str, list[float]]:
    """Wall times of each command over ``repeat`` interleaved rounds (fresh processes).

    By default the commands import simengine from this checkout (``PYTHONPATH``).
    """
    env = env or {**os.environ, "PYTHONPATH": str(common.ROOT)}
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(repeat):
        for name, cmd in cmds.items():
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=common.ROOT)
            times[name].append(time.perf_counter() - start)
    return times


def _ratio_row(
    group, workload, size, times, base_name, base, target, limit, higher=False,
    extra_note="", extra=None,
):  # fmt: skip
    """A wall-time row: min of the rounds, ratio of minima to ``base``, medians in the note."""
    t, b = min(times), min(base)
    ratio = b / t if higher else t / b
    med = statistics.median(times) / statistics.median(base)
    med = 1.0 / med if higher else med
    met = None if limit is None else (ratio >= limit if higher else ratio <= limit)
    note = f"min of {len(times)}, interleaved; ratio of medians {med:.2f}"
    return Row(
        group, workload, size, t, "wall", None, None, "", base_name, ratio, target, met,
        f"{note}; {extra_note}" if extra_note else note, {"times": times, **(extra or {})},
    )  # fmt: skip


def bench_coldstart(quick: bool) -> list[Row]:
    """Start-up of ``--help`` and ``validate`` against a bare ``import numpy, typer, rich``.

    All three with bytecode caches (a warm-up round first), as after ``pip install``.
    """
    exe = str(Path(sys.executable).with_name("simengine"))
    cmds = {
        "bare": [sys.executable, "-c", "import numpy, typer, rich"],
        "help": [exe, "--help"],
        "validate": [exe, "validate", str(common.SCENARIO)],
    }
    with tempfile.TemporaryDirectory() as cache:
        # Bytecode as an installed package has it: PYTHONDONTWRITEBYTECODE (set on some dev
        # machines) would make every run compile simengine's sources; the cache goes to a temp
        # folder, not into the checkout. One warm-up round writes it.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env |= {"PYTHONPATH": str(common.ROOT), "PYTHONPYCACHEPREFIX": cache}
        wall_runs(cmds, 1, env)
        times = wall_runs(cmds, 5 if quick else 10, env)
    base = times["bare"]
    rows = [
        Row(
            "coldstart", 'python -c "import numpy, typer, rich"', "", min(base), "wall",
            note=f"min of {len(base)}; median {statistics.median(base):.2f} s",
            extra={"times": base},
        )
    ]  # fmt: skip
    for name in ("help", "validate"):
        rows.append(
            _ratio_row(
                "coldstart", f"simengine {name}", "", times[name], "bare import", base,
                "<= 3", 3.0,
            )
        )  # fmt: skip
    return rows


def bench_calibration(quick: bool) -> list[Row]:
    """(e) ``simengine calibrate`` on ../shared/data (wall), and the fit's ESS/s per sampler.

    The command is the target (<= 25 s wall: imports, table, compile, sampling, diagnostics,
    writing). PyMC's own NUTS (minutes) is added with ``--huge``.
    """
    import importlib.util

    import arviz as az

    from simengine.bayes.fit import fit
    from simengine.data import build_table

    if not common.SHARED_DATA.is_dir():
        raise FileNotFoundError(f"calibration data missing: {common.SHARED_DATA}")
    if importlib.util.find_spec("nutpie") is None:
        raise ImportError("nutpie is not installed: pip install -e '.[fast]'")
    exe = str(Path(sys.executable).with_name("simengine"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "posterior.nc")
        cmd = [exe, "calibrate", "--data", str(common.SHARED_DATA), "--out", out]
        cmd += ["--force", "--no-progress"]
        if not quick:  # the first run on a machine: PyTensor's numba cache is empty
            flags = os.environ.get("PYTENSOR_FLAGS", "")
            cold_env = {**os.environ, "PYTHONPATH": str(common.ROOT)}
            cold_env["PYTENSOR_FLAGS"] = f"{flags},base_compiledir={tmp}/pytensor".lstrip(",")
            cold = wall_runs({"calibrate": cmd}, 1, cold_env)["calibrate"][0]
        times = wall_runs({"calibrate": cmd}, 1 if quick else 2)
    seconds = min(times["calibrate"])
    rows.append(
        Row(
            "calibration", "simengine calibrate --data ../shared/data", "2 chains x 1000 draws",
            seconds, "wall", target="<= 25 s", met=seconds <= 25,
            note=f"runs {', '.join(f'{t:.1f}' for t in times['calibrate'])} s (compile cache "
            "of earlier runs on this machine)",
        )
    )  # fmt: skip
    if not quick:
        rows.append(
            Row(
                "calibration", "simengine calibrate, empty compile cache", "2 chains x 1000 draws",
                cold, "wall", note="first run on a machine (PyTensor base_compiledir empty)",
            )
        )  # fmt: skip
    table = build_table(common.SHARED_DATA)
    nutpie_rate = None
    for sampler in ("nutpie", "pymc") if HUGE else ("nutpie",):
        start = time.perf_counter()
        idata = fit(table, sampler=sampler, progress=False)
        seconds = time.perf_counter() - start
        ess = az.ess(idata.posterior, method="bulk")
        min_ess = min(float(ess[v].min()) for v in ess.data_vars)
        rate = min_ess / seconds
        nutpie_rate = nutpie_rate or (rate if sampler == "nutpie" else None)
        is_nutpie = sampler == "nutpie"
        rows.append(
            Row(
                "calibration",
                f"fit() in one process ({sampler})",
                f"{table.shape[0]} months, 2 chains x 1000 draws",
                seconds,
                "wall",
                None,
                rate,
                "min bulk ESS/s",
                "" if is_nutpie else "nutpie (ESS/s ratio)",
                None if is_nutpie or not nutpie_rate else rate / nutpie_rate,
                note=f"min bulk ESS {min_ess:.0f}",
            )
        )
    return rows


CUT_SWEEP = common.ROOT / "scenarios" / "sweeps" / "cut_timing_size.yaml"
BASELINE = "e77d9b7"
"""The commit before issue 13's batch work: the "today" of the serial-batch target."""


def _baseline_tree(rev: str, into: Path) -> Path:
    """Export ``rev`` of this repository (``git archive``) into ``into``; returns the tree."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(common.ROOT), "archive", rev], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _timed_batch(cmd: list[str], env: dict[str, str], out: Path) -> dict[str, Any]:
    """One ``simengine batch`` run: wall, CPU of the process tree, CPU of each worker's tasks.

    The CPU figures come from ``RUSAGE_CHILDREN`` (the command and its pool workers, which it
    waits for) and from the manifest's per-scenario ``cpu_s`` grouped by ``worker``
    (``host:pid``; older packages record neither, then the per-worker figure is missing).
    """
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = wall_runs({"batch": cmd}, 1, env)["batch"][0]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    per_worker: dict[str, float] = {}
    for entry in json.loads((out / "manifest.json").read_text()).get("scenarios", []):
        if "cpu_s" in entry.get("timings", {}):
            key = entry.get("worker") or "?"
            per_worker[key] = per_worker.get(key, 0.0) + entry["timings"]["cpu_s"]
    return {"wall": wall, "cpu": cpu, "per_worker": per_worker}


def bench_batch(quick: bool) -> list[Row]:
    """(f) The cut-timing sweep (7 scenarios) at 2e5 paths: serial today, serial now, 2 workers.

    Each is ``simengine batch ... --force`` in a fresh process (imports and pool start-up
    included), rounds interleaved. "Today" is the package at :data:`BASELINE`. Besides wall
    time the rows give the CPU time of the whole process tree and the tasks' CPU time per
    worker: on a machine whose cores other sessions keep busy, the kernel's fair share per
    session (autogroup) hides a pool's wall-time gain, and the CPU figures show whether the
    pool does the same work as the serial run split over its workers.
    """
    exe = str(Path(sys.executable).with_name("simengine"))
    n = "50000" if quick else "200000"
    runs: dict[str, list[dict[str, Any]]] = {"today": [], "serial": [], "two": []}
    with tempfile.TemporaryDirectory() as tmp:
        base_tree = _baseline_tree(BASELINE, Path(tmp) / "baseline")
        out = Path(tmp)
        workers = {"today": "0", "serial": "0", "two": "2"}
        env_now = {**os.environ, "PYTHONPATH": str(common.ROOT)}
        env_base = {**os.environ, "PYTHONPATH": str(base_tree)}
        for _ in range(1 if quick else 2):
            for name, w in workers.items():
                # today runs its own copy of the sweep (the scenario files it extends have
                # changed since; the current ones no longer load in the old package)
                sweep = (
                    base_tree / CUT_SWEEP.relative_to(common.ROOT) if name == "today" else CUT_SWEEP
                )
                args = ["batch", str(sweep), "--out", str(out / name), "--force"]
                cmd = [exe, *args, "--paths", n, "--seed", "1", "--workers", w]
                env = env_base if name == "today" else env_now
                runs[name].append(_timed_batch(cmd, env, out / name))
    times = {k: [r["wall"] for r in v] for k, v in runs.items()}
    cpu = {k: min(r["cpu"] for r in v) for k, v in runs.items()}
    size = f"7 scenarios x {n} paths"
    # CPU on the critical path of the pool: the parent's own work (process-tree CPU minus the
    # workers' tasks) plus the busiest worker's tasks; on idle cores the wall time follows it
    critical = min(
        r["cpu"] - sum(r["per_worker"].values()) + max(r["per_worker"].values(), default=0.0)
        for r in runs["two"]
    )
    tasks = {k: min(sum(r["per_worker"].values()) for r in runs[k]) for k in ("serial", "two")}
    cpu_note = (
        f"CPU of the process tree {cpu['two']:.1f} s (serial {cpu['serial']:.1f} s); scenario "
        f"tasks {tasks['two']:.1f} s CPU (serial {tasks['serial']:.1f} s); critical path "
        f"{critical:.1f} s CPU: CPU-bound speed-up {cpu['serial'] / critical:.2f}x"
    )
    return [
        Row("batch", f"serial at {BASELINE} (today)", size, min(times["today"]), "wall",
            note=f"runs {', '.join(f'{t:.1f}' for t in times['today'])} s; "
            f"CPU {cpu['today']:.1f} s", extra={"runs": runs["today"]}),
        _ratio_row("batch", "serial (--workers 0)", size, times["serial"], "today (speed-up)",
                   times["today"], ">= 1.5", 1.5, higher=True,
                   extra_note=f"CPU {cpu['serial']:.1f} s vs today {cpu['today']:.1f} s "
                   f"({cpu['today'] / cpu['serial']:.2f}x)", extra={"runs": runs["serial"]}),
        _ratio_row("batch", "process pool, 2 workers", size, times["two"],
                   "serial now (speed-up)", times["serial"], ">= 1.6", 1.6, higher=True,
                   extra_note=cpu_note, extra={"runs": runs["two"]}),
    ]  # fmt: skip


_CLI_WRAPPER = """
import json, resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
err = proc.stderr.strip().splitlines()[-1] if proc.returncode and proc.stderr.strip() else ""
print(json.dumps({"code": proc.returncode, "peak_kib": peak, "error": err}))
"""


def bench_cli(quick: bool) -> list[Row]:
    """Peak RSS of the command line at 1e7 paths (the issue's bar: well under 1 GiB).

    A small wrapper interpreter starts the command and reads ``RUSAGE_CHILDREN``: the wrapper
    is tiny at fork time, so the figure is the command's own peak.
    """
    n = 1_000_000 if quick else 10_000_000
    exe = Path(sys.executable).with_name("simengine")
    rows = []
    cmd = [str(exe), "run", str(common.SCENARIO), "--paths", str(n), "--format", "json"]
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _CLI_WRAPPER, *cmd], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    data = json.loads(out.stdout.strip().splitlines()[-1])
    code, err = data["code"], data["error"]
    if code != 0:  # a failed command is a failed row, not a row that "misses" its target
        raise RuntimeError(f"simengine run exited with {code}: {err}")
    peak = data["peak_kib"] / 1024.0
    rows.append(
        Row(
            "cli",
            "simengine run --format json",
            f"{_fmt_n(n)} x 6 monthly",
            seconds,
            "wall",
            peak,
            n / seconds,
            "paths/s",
            "",
            None,
            "peak < 1024 MiB",
            peak < 1024,
            "ok",
        )
    )
    return rows


BENCHES: dict[str, Callable[[bool], list[Row]]] = {
    "floor": bench_floor,
    "scaling": bench_scaling,
    "threads": bench_threads,
    "peers": bench_peers,
    "bayes": bench_bayes,
    "coldstart": bench_coldstart,
    "calibration": bench_calibration,
    "batch": bench_batch,
    "cli": bench_cli,
}


# --- output -----------------------------------------------------------------------------------


def render(rows: list[Row], info: dict[str, Any]) -> None:
    """Print the rows as one rich table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"simengine benchmarks — {info['cpu']}, {info['cores']} cores, "
        f"{info['memory_gib']} GiB, load {info['load_average_start'][0]:.1f}",
        show_lines=False,
    )
    for col in (
        "group",
        "workload",
        "size",
        "time",
        "peak MiB",
        "throughput",
        "vs",
        "ratio",
        "target",
    ):
        table.add_column(col, justify="right" if col in ("time", "peak MiB", "ratio") else "left")
    for r in rows:
        mark = {True: "[green]met[/]", False: "[red]missed[/]", None: ""}[r.met]
        table.add_row(
            r.group,
            r.workload,
            r.size,
            f"{r.seconds:.2f} s {r.clock}" if r.seconds is not None else "",
            f"{r.peak_mib:.0f}" if r.peak_mib is not None else "",
            f"{r.throughput:.3g} {r.unit}" if r.throughput is not None else r.note,
            r.baseline,
            f"{r.ratio:.2f}" if r.ratio is not None else "",
            f"{r.target} {mark}".strip(),
        )
    Console(width=200).print(table)
    notes = [f"{r.group}/{r.workload}: {r.note}" for r in rows if r.note and r.throughput]
    for n in notes:
        print("  note:", n)


def main(argv: list[str] | None = None) -> int:
    """Run the selected groups, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (< 3 minutes)")
    parser.add_argument("--out", type=Path, help="write the rows and machine info as JSON")
    parser.add_argument("--only", nargs="+", choices=GROUPS, help="run only these groups")
    parser.add_argument(
        "--huge", action="store_true", help="add the 1e8-path scaling point and PyMC's NUTS"
    )
    args = parser.parse_args(argv)
    global HUGE
    HUGE = args.huge
    info = machine()
    rows: list[Row] = []
    started = time.perf_counter()
    failed: list[str] = []
    groups = args.only or (QUICK_GROUPS if args.quick else GROUPS)
    info["groups"] = list(groups)
    for group in groups:
        t0 = time.perf_counter()
        try:
            rows.extend(BENCHES[group](args.quick))
        except Exception as err:  # a broken peer must not hide the other rows
            traceback.print_exc()
            rows.append(Row(group, "(failed)", "", note=f"error: {type(err).__name__}: {err}"))
            failed.append(group)
        print(f"[{group}] {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    info["load_average_end"] = os.getloadavg()
    info["total_seconds"] = round(time.perf_counter() - started, 1)
    info["quick"] = args.quick
    render(rows, info)
    print(f"total {info['total_seconds']:.0f} s")
    if args.out:
        payload = {"machine": info, "rows": [asdict(r) for r in rows]}
        args.out.write_text(json.dumps(payload, indent=2, default=float) + "\n")
        print(f"wrote {args.out}")
    if failed:  # every row runs or the run fails
        print(f"FAILED groups: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
