"""Findings 3, 4, 7, 8, 10 and 11 of issue 14, and the smaller input findings.

Paths a scenario names stay inside its folder tree, the project and the package; only regular
files are read; numbers are plain decimal; values without meaning beyond a range are refused
with the range; per-file settings are never dropped silently.
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

import pytest

from simengine import api
from simengine.exceptions import DataError, ExtremeInputWarning, SpecError
from simengine.params import ModelParams
from simengine.spec import load_scenario

from .conftest import BASE, TEST_MODEL, N, no_traceback, scenario

SECRET = "name: SuperSecretValue123\n"


@pytest.fixture
def confined(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No explicit allowance, working directory inside the scenario folder: the defaults."""
    monkeypatch.delenv("SIMENGINE_ALLOW_PATHS", raising=False)
    work = tmp_path / "project"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def _issues(path: Path) -> str:
    with pytest.raises(SpecError) as err:
        load_scenario(path)
    return str(err.value)


# ----------------------------------------------------------------------------- finding 3


@pytest.mark.parametrize("form", ["relative", "absolute"])
def test_f3_extends_outside_the_tree_is_refused_without_reading_it(
    confined: Path, tmp_path: Path, form: str
) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text(SECRET)
    target = "../secret.yaml" if form == "relative" else str(secret)
    (confined / "s.yaml").write_text(f"extends: {target}\n")
    text = _issues(confined / "s.yaml")
    assert "outside the folders a scenario may read" in text and "SIMENGINE_ALLOW_PATHS" in text
    assert "SuperSecretValue123" not in text


def test_f3_etc_passwd_is_refused(confined: Path) -> None:
    (confined / "s.yaml").write_text("extends: ../../../../../../../etc/passwd\n")
    assert "outside the folders" in _issues(confined / "s.yaml")


def test_f3_explicit_allowance_lets_a_folder_in(
    confined: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "base.yaml").write_text(BASE.read_text().replace("model: default", "model: default"))
    (confined / "s.yaml").write_text(f"extends: {shared / 'base.yaml'}\nname: s\n")
    assert "outside" in _issues(confined / "s.yaml")
    monkeypatch.setenv("SIMENGINE_ALLOW_PATHS", str(shared))
    assert load_scenario(confined / "s.yaml").name == "s"


def test_f3_model_and_posterior_paths_are_confined(confined: Path, tmp_path: Path) -> None:
    outside = tmp_path / "model.yaml"
    outside.write_text(TEST_MODEL.read_text())
    (confined / "base.yaml").write_text(BASE.read_text())
    for key in ("model", "posterior"):
        path = confined / f"{key}.yaml"
        path.write_text(f"extends: base.yaml\nmethod: bayesian\n{key}: {outside}\n")
        spec = load_scenario(path)
        with pytest.raises(SpecError, match=f"{key}: .* is outside the folders"):
            api.load_params_for(spec)


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _finishes(fn, seconds: float = 20.0):
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as err:
            box["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "hung on a FIFO"
    return box


def test_f3_fifo_as_scenario_does_not_hang(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path / "s.yaml")
    box = _finishes(lambda: load_scenario(fifo))
    assert isinstance(box.get("error"), SpecError) and "not a regular file" in str(box["error"])


def test_f3_fifo_as_parent_or_model_does_not_hang(tmp_path: Path) -> None:
    _fifo(tmp_path / "parent.yaml")
    (tmp_path / "s.yaml").write_text("extends: parent.yaml\n")
    box = _finishes(lambda: load_scenario(tmp_path / "s.yaml"))
    assert "not a regular file" in str(box.get("error")), box
    _fifo(tmp_path / "m.yaml")
    spec = load_scenario(scenario(tmp_path, "model: m.yaml\n", "m_user.yaml"))
    box = _finishes(lambda: api.load_params_for(spec))
    assert "not a regular file" in str(box.get("error")), box


def test_f3_dev_zero_posterior_is_not_a_regular_file(tmp_path: Path) -> None:
    from simengine.bayes.store import load_posterior
    from simengine.exceptions import PosteriorMismatchError

    with pytest.raises(PosteriorMismatchError, match="not a regular file"):
        load_posterior("/dev/zero")
    spec = load_scenario(scenario(tmp_path, "method: bayesian\nposterior: /dev/zero\n"))
    with pytest.raises(SpecError, match="posterior"):  # outside, and not a regular file
        api.load_params_for(spec)


def test_f16_extends_symlink_loop_is_a_located_error(tmp_path: Path, cli) -> None:
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    path = tmp_path / "s.yaml"
    path.write_text("extends: a.yaml\nname: s\n")
    assert "symbolic-link loop" in _issues(path)
    res = cli("validate", path)
    assert res.code == 2, res
    no_traceback(res)


# ----------------------------------------------------------------------------- finding 4


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("tariffs: [{date: 2025-08-01, level: 017}]\n", "017"),
        ("positioning: {short_interest_bn: 016}\n", "016"),
        ("paths: 010000\n", "010000"),
        ("paths: 1:30\n", "1:30"),
        ("seed: 0x1F\n", "0x1F"),
    ],
)
def test_f4_yaml_11_number_forms_are_refused(tmp_path: Path, text: str, value: str) -> None:
    message = _issues(scenario(tmp_path, text))
    assert f"received {value}: an ambiguous number" in message and ":3:" in message


def test_small_1e308_without_dot_is_a_number(tmp_path: Path) -> None:
    message = _issues(scenario(tmp_path, "initial: {tariff: 1e308}\n"))
    assert "1e+308" in message and "<= 100" in message  # a number out of range, not text
    assert "without quotes" not in message


# ----------------------------------------------------------------------------- findings 6, 7


def test_f6_f7_bp_changes_have_a_stated_range(tmp_path: Path) -> None:
    text = (
        "allow_any_bp: true\n"
        "fomc: [{meeting: 2025-09-17, change_bp: 100000}]\n"
        "market_pricing: [{fomc: 2025-09-17, expected_bp: 1.0e20}]\n"
    )
    message = _issues(scenario(tmp_path, text))
    assert "received 100000bp" in message and "received 1e+20bp" in message
    assert "within [-1000, 1000]bp" in message


# ----------------------------------------------------------------------------- finding 8


def test_f8_duplicate_observation_dates_are_refused(tmp_path: Path) -> None:
    from simengine.weighting import load_observations

    path = tmp_path / "obs.csv"
    path.write_text("date,rates\n2025-08-31,0.1\n2025-08-31,0.1\n")
    with pytest.raises(DataError, match=r"2025-08-31 is listed 2 times \(lines 2, 3\)"):
        load_observations(path)


# ----------------------------------------------------------------------------- finding 10


@pytest.mark.parametrize("setting", ["method: bayesian", "antithetic: true"])
def test_f10_compare_refuses_dropped_per_file_settings(tmp_path: Path, cli, setting: str) -> None:
    a = scenario(tmp_path, "", "a.yaml")
    b = scenario(tmp_path, setting + "\n", "b.yaml")
    res = cli("compare", a, b, "-n", N, "-s", "1", "-f", "json")
    assert res.code == 2, res
    key = setting.split(":")[0]
    assert f"b.yaml:3: {key}:" in res.err and "share one" in res.err, res
    flag = "--method=monte_carlo" if key == "method" else "--no-antithetic"
    assert cli("compare", a, b, "-n", N, "-s", "1", "-f", "json", flag).code == 0


# ----------------------------------------------------------------------------- finding 11


def test_f11_extreme_positioning_warns(tmp_path: Path) -> None:
    spec = load_scenario(scenario(tmp_path, "positioning: {short_interest_bn: 1000}\n"))
    with pytest.warns(ExtremeInputWarning, match=r"s.yaml:3: short_interest_bn 1000 .* squeezes"):
        api.simulate(spec, n_paths=4096, seed=1)
    normal = load_scenario(BASE)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExtremeInputWarning)
        api.simulate(normal, n_paths=4096, seed=1)


# ----------------------------------------------------------------------------- smaller


@pytest.mark.parametrize("name", ['"abc\\n"', "con", "nul.txt", "AUX", "lpt1.nc"])
def test_small_names_with_newline_or_windows_reserved_are_refused(tmp_path: Path, name) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"extends: {BASE}\nname: {name}\n")
    assert ":2: name:" in _issues(path)


def test_small_model_files_are_strict_about_numbers(tmp_path: Path) -> None:
    text = TEST_MODEL.read_text()
    for bad in ('"3.0"', "true"):
        path = tmp_path / "m.yaml"
        path.write_text(text.replace("dof: ", f"dof: {bad} #", 1))
        with pytest.raises(SpecError, match="expected a number"):
            ModelParams.load(path)


def test_f16_model_elasticity_has_a_range(tmp_path: Path, cli) -> None:
    import re

    path = tmp_path / "m.yaml"
    path.write_text(re.sub(r"elasticity: [0-9.]+", "elasticity: 1000", TEST_MODEL.read_text()))
    with pytest.raises(
        SpecError, match=r"squeeze.elasticity: received 1000; expected a value <= 10"
    ):
        ModelParams.load(path)
    res = cli("run", scenario(tmp_path, f"model: {path}\n"), "-n", N)
    assert res.code == 2, res
    no_traceback(res)


@pytest.mark.parametrize(
    "args",
    [["--seed", "-5"], ["--chunk-size", "-5"], ["--threads", "-3"], ["--paths", "0"]],
)
def test_f16_negative_run_options_exit_2(cli, args: list[str]) -> None:
    res = cli("run", BASE, *args)
    assert res.code == 2 and "Traceback" not in res.err, res


def test_f16_api_seed_and_threads_are_checked() -> None:
    from simengine.exceptions import UsageError

    with pytest.raises(UsageError, match="seed must be an integer >= 0"):
        api.simulate(BASE, n_paths=64, seed=-5)
    with pytest.raises(UsageError, match="threads"):
        api.simulate(BASE, n_paths=64, seed=1, threads=-3)


def test_small_no_raw_overflow_warning_before_the_error(tmp_path: Path) -> None:
    from simengine.exceptions import NumericalError

    model = tmp_path / "m.yaml"
    model.write_text(TEST_MODEL.read_text().replace("sigma: ", "sigma: 1000.0 #", 1))
    spec = load_scenario(scenario(tmp_path, f"model: {model}\n"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(NumericalError):
            api.simulate(spec, n_paths=4096, seed=1)
