"""Scenario semantics said out loud: list append, --explain, drawn meetings, warnings, outputs."""

from __future__ import annotations

import csv
import io
import json
import warnings

import pytest
import yaml

import simengine
from simengine.exceptions import ScenarioWarning
from simengine.spec import ScenarioSpec, load_scenario, load_scenario_text
from simengine.spec.advice import drawn_meetings, meetings_line, scenario_warnings
from simengine.spec.explain import explain, list_notes
from tests.conftest import SCENARIOS
from tests.test_cli import cli

BASE = SCENARIOS / "base_2025h2.yaml"


def _write(tmp_path, text: str, name: str = "mine.yaml"):
    path = tmp_path / name
    path.write_text(f"extends: {BASE}\nname: mine\n" + text)
    return path


def test_a_list_replaces_the_base_list_and_validate_says_so(tmp_path):
    path = _write(tmp_path, "tariffs:\n  - {date: 2025-10-01, level: 20.0}\n")
    spec = load_scenario(path)
    assert [t.level for t in spec.tariffs] == [20.0]  # the 1 August step is gone ...
    (note,) = list_notes(path)
    assert "replaces the 1 item(s)" in note and "tariffs+:" in note  # ... and validate says so
    out = cli("validate", str(path))
    assert out.returncode == 0, out.stderr
    assert "replaces the 1 item(s)" in out.stdout
    # the report wraps with its indent, no trailing blanks, dates whole
    report = out.stdout.splitlines()[1:]
    assert len(report) >= 4 and all(line.startswith("   ") for line in report), out.stdout
    assert all(line == line.rstrip() for line in report)
    assert "2025-09-17" in out.stdout and "2025-12-10" in out.stdout


def test_key_plus_appends_to_the_base_list(tmp_path):
    path = _write(tmp_path, "tariffs+:\n  - {date: 2025-10-01, level: 20.0}\n")
    spec = load_scenario(path)
    assert [(str(t.date), t.level) for t in spec.tariffs] == [
        ("2025-08-01", 17.0),
        ("2025-10-01", 20.0),
    ]
    assert "appends 1 item(s) to the 1" in list_notes(path)[0]
    # an appended item that is wrong is reported at its own line in the child file
    bad = _write(tmp_path, "tariffs+:\n  - {date: 2025-07-20, level: 20.0}\n", "bad.yaml")
    with pytest.raises(simengine.SpecError) as err:
        load_scenario(bad)
    (issue,) = err.value.issues
    assert issue.file.endswith("bad.yaml") and issue.line == 4
    assert issue.field == "tariffs[1].date"


def test_explain_prints_every_value_with_its_origin_and_loads_back():
    path = SCENARIOS / "fed_cut_september.yaml"
    text = explain(path)
    lines = text.splitlines()

    def line_of(path, text):
        return 1 + next(i for i, ln in enumerate(path.read_text().splitlines()) if text in ln)

    cut = f"fed_cut_september.yaml:{line_of(path, 'change_bp: -25')}"
    assert any("change_bp: -25" in ln and cut in ln for ln in lines)
    si = f"base_2025h2.yaml:{line_of(BASE, 'short_interest_bn')}"
    assert any("short_interest_bn: 16.0" in ln and si in ln for ln in lines)
    assert any(ln.startswith("antithetic: false") and ln.endswith("# default") for ln in lines)
    again = ScenarioSpec.from_data(yaml.safe_load(text))
    assert again.spec_hash() == load_scenario(path).spec_hash()
    out = cli("validate", "--explain", str(path))
    assert out.returncode == 0 and "base_2025h2.yaml:16" in out.stdout


def test_header_names_the_meetings_drawn_from_pricing():
    base = load_scenario(BASE)
    assert len(drawn_meetings(base)) == 4
    assert meetings_line(base).startswith("drawn from market pricing on each path: 2025-07-30")
    sept = load_scenario(SCENARIOS / "fed_cut_september.yaml")
    assert drawn_meetings(sept) == ()
    assert "2025-09-17 -25bp" in meetings_line(sept)
    out = cli("run", str(BASE), "--paths", "4096")
    assert "FOMC meetings in base-2025h2: drawn from market pricing" in out.stdout


def test_warnings_for_missing_pricing_and_values_outside_history(tmp_path):
    with pytest.raises(simengine.SpecError, match="past the end of the built-in FOMC calendar"):
        load_scenario_text(  # a horizon beyond the calendar is an error (policy, issue 12)
            "name: late\nstart: 2025-07-16\nhorizon: 2027-03-31\nassets: [small_cap]\n"
            "initial: {policy_rate: 4.375, tariff: 15.3}\n"
        )
    spec = load_scenario_text(
        """
name: bare
start: 2025-07-16
horizon: 2026-06-30
assets: [small_cap, large_cap]
initial: {policy_rate: 4.375, tariff: 15.3}
drifts:
  - {factor: growth, shift: -1.5}
  - {factor: growth, shift: 0.05}
"""
    )
    found = {w.field: w.message for w in scenario_warnings(spec)}
    assert "every cut or hike is a full surprise" in found["market_pricing"]
    assert "-1.5 is outside the usual range" in found["drifts[0].shift"]
    assert "-1.71" in found["drifts[0].shift"]  # the historical range is quoted
    assert "drifts[1].shift" not in found  # a small drift passes quietly
    with pytest.warns(ScenarioWarning, match="drifts\\[0\\].shift"):
        simengine.simulate(spec, n_paths=64, seed=1)


def test_library_scenarios_raise_no_warning_but_tariff_escalation():
    for path in SCENARIOS.glob("*.yaml"):
        found = scenario_warnings(load_scenario(path))
        expected = ["tariffs[2].level"] if path.stem == "tariff_escalation" else []
        assert [w.field for w in found] == expected, path


def test_a_run_without_seed_records_a_short_seed():
    spec = load_scenario(SCENARIOS / "fed_cut_september.yaml").with_overrides(seed=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seeds = {int(simengine.simulate(spec, n_paths=64).attrs["seed"]) for _ in range(3)}
    assert all(0 <= s < 10**9 for s in seeds) and len(seeds) > 1


def test_run_of_several_files_gives_one_csv_and_one_json():
    files = [str(SCENARIOS / "fed_cut_september.yaml"), str(SCENARIOS / "fed_no_cut.yaml")]
    out = cli("run", *files, "--paths", "4096", "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout)))
    header = rows[0]
    assert sum(r == header for r in rows) == 1  # one header
    assert "q50" not in header and "median" in header
    assert {r[1] for r in rows[1:]} == {"fed-cut-september", "fed-no-cut"}
    doc = json.loads(cli("run", *files, "--paths", "4096", "--format", "json").stdout)
    assert [d["scenarios"].keys() for d in doc] == [{"fed-cut-september"}, {"fed-no-cut"}]


def test_prior_typo_names_the_scenario(tmp_path):
    from simengine.weighting import _check_prior_names

    with pytest.raises(simengine.SimengineError) as err:
        _check_prior_names(
            {"fed-cut-septmber": 1.0, "fed-cut-october": 1.0},
            ["fed-cut-september", "fed-cut-october"],
        )
    text = str(err.value)
    assert "'fed-cut-septmber' is not one of the scenarios" in text
    assert "did you mean 'fed-cut-september'?" in text
    assert err.value.exit_code == 2


def test_tables_sit_side_by_side_when_wide_and_stack_when_narrow():
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    args = [sys.executable, "-m", "simengine", "compare", "scenarios/fed_cut_september.yaml",
            "scenarios/fed_cut_october.yaml", "--paths", "4096"]  # fmt: skip

    def lines(width: int) -> list[str]:
        env = {**os.environ, "COLUMNS": str(width)}
        out = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, check=True)
        return out.stdout.splitlines()

    def side_by_side(out: list[str]) -> int:  # a line with both tables' titles on it
        return sum(ln.startswith("fed-cut-september") and "fed-cut-october" in ln for ln in out)

    wide, narrow = lines(160), lines(70)
    assert side_by_side(wide) >= 2  # returns and index levels
    assert side_by_side(narrow) == 0 and max(map(len, narrow)) <= 70
