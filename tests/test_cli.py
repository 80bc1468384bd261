"""The command line as a user meets it: exit codes, messages, machine output, files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT, SCENARIOS

BROKEN = FIXTURES / "broken"


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "simengine", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_compare_json_is_identical_for_any_chunk_size():
    args = [
        "compare",
        "scenarios/fed_cut_september.yaml",
        "scenarios/fed_cut_october.yaml",
        "--paths",
        "20000",
    ]
    a = cli(*args, "--format", "json", "--chunk-size", "4096")
    b = cli(*args, "--format", "json", "--chunk-size", "12288")
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    doc = json.loads(a.stdout)
    assert set(doc["scenarios"]) == {"fed-cut-september", "fed-cut-october"}
    assert doc["reference"] == "fed-cut-september"
    stats = doc["scenarios"]["fed-cut-october"]["summary"]["small_cap"]
    for key in (
        "mean",
        "median",
        "std",
        "q01",
        "q99",
        "var_95",
        "es_99",
        "prob_loss",
        "prob_squeeze",
    ):
        assert key in stats
    assert set(doc["differences"]["fed-cut-october"]) == {"small_cap", "large_cap", "pair"}


def test_compare_table_shows_every_section():
    out = cli(
        "compare",
        "scenarios/fed_cut_september.yaml",
        "scenarios/fed_cut_october.yaml",
        "--paths",
        "8192",
    )
    assert out.returncode == 0, out.stderr
    for text in (
        "Return to the horizon",
        "Index level at the horizon",
        "Difference from fed-cut-september, path by path",
        "es_95",
        "pair",
        "FOMC meetings in fed-cut-october: set by the scenario",
    ):
        assert text in out.stdout
    # q50 repeats the median; the cross-asset probabilities appear once per scenario
    assert "q50" not in out.stdout
    assert out.stdout.count("prob_small_beats_large") == 0
    assert out.stdout.count("P(Russell 2000 beats Nasdaq-100)") == 2
    assert max(map(len, out.stdout.splitlines())) <= 80  # the non-terminal default width


def test_run_csv_and_out_folder_refuses_to_overwrite(tmp_path):
    args = [
        "run",
        "scenarios/fed_no_cut.yaml",
        "--paths",
        "4096",
        "--format",
        "csv",
        "--out",
        str(tmp_path),
    ]
    first = cli(*args)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("kind,scenario,series,mean")
    assert (tmp_path / "fed-no-cut.nc").exists() and (tmp_path / "fed-no-cut_summary.csv").exists()
    again = cli(*args)
    assert again.returncode == 2 and "already exists" in again.stderr and "--force" in again.stderr
    assert cli(*args, "--force").returncode == 0


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("unknown_key.yaml", "did you mean 'description'"),
        ("bad_date.yaml", "expected an ISO date"),
        ("wrong_type.yaml", "expected a whole number"),
        ("python_tag.yaml", "is not allowed"),
        ("alias_bomb.yaml", "alias"),
        ("meeting_between.yaml", "did you mean 2025-09-17"),
    ],
)
def test_broken_files_exit_2_with_file_and_line(fixture, expected):
    out = cli("run", str(BROKEN / fixture), "--paths", "64")
    assert out.returncode == 2
    assert f"{fixture}:" in out.stderr and expected in out.stderr
    assert "Traceback" not in out.stderr + out.stdout


def test_unknown_asset_exits_2(tmp_path):
    bad = tmp_path / "bad_asset.yaml"
    bad.write_text(
        f"extends: {SCENARIOS / 'fed_cut_september.yaml'}\nname: x\nassets: [small_cap, large_cap, smal_cap]\n"
    )
    out = cli("run", str(bad), "--paths", "64")
    assert out.returncode == 2 and "bad_asset.yaml:3" in out.stderr and "small_cap" in out.stderr
    assert "Traceback" not in out.stderr


def test_validate_reports_ok_and_problems():
    ok = cli("validate", "scenarios/base_2025h2.yaml", "scenarios/short_squeeze.yaml")
    assert ok.returncode == 0 and ok.stdout.count("ok") == 2
    bad = cli("validate", "scenarios/base_2025h2.yaml", str(BROKEN / "multiple_problems.yaml"))
    assert bad.returncode == 2 and "problems found" in bad.stderr


def test_missing_file_is_a_clear_error():
    out = cli("run", "no/such/file.yaml")
    assert out.returncode == 2 and "file.yaml" in out.stderr and "Traceback" not in out.stderr


def test_version_prints_the_package_version():
    from simengine.version import __version__

    out = cli("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"simengine {__version__}"


def test_a_reader_that_goes_away_ends_the_run_quietly_with_141():
    """``simengine ... | head``: stdout's reader closes before the output is written; the run
    ends with 141 (128 + SIGPIPE) and no error text, not 1 with a BrokenPipeError."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "simengine", "scenarios", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    proc.stdout.close()  # the reader is gone before the interpreter has even started
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 141, err
    assert err == b""


def test_attribution_cells_that_round_to_zero_read_zero():
    """The compare table's channel split: ``+0.137%`` / ``-0.038%``, and a channel that is off
    (or rounds to zero) reads ``0.000%``, never ``-0.000%``."""
    from simengine.cli.run import _signed_pct

    assert _signed_pct(0.00137) == "+0.137%" and _signed_pct(-0.00038) == "-0.038%"
    assert _signed_pct(-1e-9) == _signed_pct(1e-9) == _signed_pct(0.0) == "0.000%"


def test_help_paragraphs_wrap_to_the_terminal_not_to_the_docstring():
    from simengine.cli.common import reflow_paragraphs

    doc = """First line
        goes on.

        A paragraph that
        continues here.
        - a list item
          indented continuation
        2. a numbered item
        \f
        hidden
        """
    assert reflow_paragraphs(doc) == (
        "First line goes on.\n\nA paragraph that continues here.\n- a list item\n"
        "  indented continuation\n2. a numbered item"
    )
    env = {**__import__("os").environ, "COLUMNS": "80"}
    out = subprocess.run(
        [sys.executable, "-m", "simengine", "backtest", "--help"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    ).stdout  # fmt: skip
    # rich keeps a docstring's own breaks: the 88-column source lines used to leave a stub
    # line ("only, the baseline ...") under each full one at 80 columns
    assert "to that month only, the baseline (policy rate and tariff held at their origin" in out
