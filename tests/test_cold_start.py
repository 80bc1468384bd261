"""Cold start: ``--help``, ``validate`` and ``import simengine`` load only what they use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("scipy", "pandas", "xarray", "simengine.results", "matplotlib", "dask", "pymc")

_PROBE = """
import json, sys
sys.argv = ["simengine", *{args!r}]
from simengine.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def _last_json(code: str) -> Any:
    """Run ``code`` in a fresh interpreter; the JSON of its last output line."""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _loaded(args: list[str]) -> list[str]:
    return _last_json(_PROBE.format(args=args, heavy=HEAVY))


@pytest.mark.parametrize(
    "args", [["--help"], ["validate", "scenarios/fed_cut_september.yaml"], ["run", "--help"]]
)
def test_cli_does_not_import_heavy_modules(args: list[str]) -> None:
    assert _loaded(args) == []


def test_import_simengine_is_lazy_and_public_api_intact() -> None:
    code = (
        "import json, sys, simengine\n"
        f"before = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "from simengine.simulate import RunConfig\n"  # binds the submodule on the package
        "import simengine.simulate as sim_mod\n"
        "print(json.dumps([before, callable(simengine.simulate),\n"
        "    simengine.simulate.__module__, sorted(simengine.__all__),\n"
        "    [callable(getattr(simengine, n)) for n in ('compare', 'load_scenario',\n"
        "     'load_result', 'load_model', 'run_batch')]]))\n"
    )
    before, is_callable, module, names, public = _last_json(code)
    assert before == []
    assert is_callable and module == "simengine.api"
    assert {"simulate", "compare", "load_scenario", "load_result", "run_batch"} <= set(names)
    assert all(public)


def test_help_does_not_load_the_spec_layer() -> None:
    code = _PROBE.format(args=["--help"], heavy=("pydantic", "simengine.spec", "numpy"))
    assert _last_json(code) == []


def test_validate_of_a_plain_scenario_skips_sweep_models_and_rich_widgets() -> None:
    light = ("simengine.spec.sweep", "rich.progress", "rich.table")
    code = _PROBE.format(args=["validate", "scenarios/fed_cut_september.yaml"], heavy=light)
    assert _last_json(code) == []


def test_a_point_run_does_not_import_scipy_stats() -> None:
    code = (
        "import json, sys, simengine\n"
        "simengine.simulate('scenarios/fed_cut_september.yaml', n_paths=1, seed=0).summary()\n"
        "print(json.dumps('scipy.stats' in sys.modules))\n"
    )
    assert _last_json(code) is False  # ~0.4 s CPU per process


def test_a_run_and_its_result_do_not_import_dask_which_xarray_still_sees_later() -> None:
    """xarray asks dask about every variable it wraps (0.2-0.3 s of import per process);
    simengine.xarray_dask answers "not dask" until dask is imported, then xarray's own checks."""
    code = (
        "import json, sys, simengine\n"
        "r = simengine.simulate('scenarios/fed_cut_september.yaml', n_paths=4096, seed=0)\n"
        "r.summary(wide=True)\n"
        "before = sorted(m for m in sys.modules if m.split('.')[0] == 'dask')\n"
        "import dask.array as da, xarray as xr\n"
        "x = xr.DataArray(da.ones((4, 4), chunks=2), dims=('a', 'b'))\n"
        "ds = xr.Dataset({'x': x})\n"
        "print(json.dumps([before, type(ds.x.data).__module__, ds.chunks['a'],\n"
        "    float(ds.x.sum().compute())]))\n"
    )
    before, module, chunks, total = _last_json(code)
    assert before == []
    assert module.startswith("dask.array") and chunks == [2, 2] and total == 16.0


def test_the_command_line_freezes_its_objects_at_exit_once() -> None:
    """Shutdown skips a full collection over every object the command made (0.1-0.3 s CPU
    after a batch): ``gc.freeze`` runs at exit, registered once however often ``main`` runs."""
    code = (
        "import atexit, gc, json, sys\n"
        "atexit.register(lambda: print(json.dumps([gc.get_freeze_count() > 1000, calls])))\n"
        "calls = []\n"
        "real = atexit.register\n"
        "atexit.register = lambda f, *a: (calls.append(getattr(f, '__name__', '?')), real(f, *a))\n"
        "sys.argv = ['simengine', '--version']\n"
        "from simengine.cli import main\n"
        "for _ in range(2):\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(json.dumps([gc.get_freeze_count(), calls]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    during, at_exit = (json.loads(line) for line in out.stdout.strip().splitlines()[-2:])
    assert during == [0, ["freeze"]]  # not frozen while the process runs; registered once
    assert at_exit == [True, ["freeze"]]
