"""The model as parts: the vocabulary drives the engine, each part owns its schema and streams."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

import simengine
from simengine.exceptions import ModelFileError
from simengine.params import ModelParams
from simengine.parts import build_scenario
from simengine.rng import DrawPlan, Kind, Stream
from simengine.spec import load_scenario_text
from simengine.structure import default_model_path

from .conftest import SCENARIOS

DEFAULT = yaml.safe_load(default_model_path().read_text())


def _write(tmp_path: Path, model: dict) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(model, sort_keys=False))
    return path


def test_default_vocabulary_is_todays_model() -> None:
    s = simengine.load_model().structure
    assert s.stochastic == ("rates", "growth", "inflation", "credit")
    assert s.factor_names == ("policy_rate", "tariff", *s.stochastic)
    assert s.series == ("small_cap", "large_cap", "pair")
    assert s.portfolios[0].weights == (("large_cap", 1.0), ("small_cap", -1.0))
    assert (s.comparisons[0].asset, s.comparisons[0].beats) == ("small_cap", "large_cap")
    assert dict(s.parts)["residuals"] == "vol_state"  # issue 11: the volatility state
    assert dict(s.parts)["returns"] == "factor_news"
    assert "vix" in s.states and "credit_level" in s.states


def test_a_portfolio_is_its_weighted_sum_of_asset_returns(tmp_path: Path) -> None:
    """Portfolios come from the model file: a new one needs no code."""
    model = copy.deepcopy(DEFAULT)
    model["portfolios"]["tilt"] = {"small_cap": 0.25, "large_cap": 0.75}
    spec = simengine.load_scenario(SCENARIOS / "base_2025h2.yaml").with_overrides(
        model=str(_write(tmp_path, model))
    )
    res = simengine.simulate(spec, n_paths=4096, seed=2, n_sample=64)
    assert list(res.series) == ["small_cap", "large_cap", "pair", "tilt"]
    R = res.dataset["sample_returns"].values[0]  # (path, time, series)
    np.testing.assert_allclose(R[..., 3], 0.25 * R[..., 0] + 0.75 * R[..., 1], rtol=1e-12)
    np.testing.assert_array_equal(R[..., 2], R[..., 1] - R[..., 0])


def test_unknown_part_kind_and_unread_key_are_model_file_errors(tmp_path: Path) -> None:
    model = copy.deepcopy(DEFAULT)
    model["parts"]["residuals"] = "garch"
    with pytest.raises(ModelFileError, match="unknown residuals part 'garch'"):
        ModelParams.load(_write(tmp_path, model))
    model = copy.deepcopy(DEFAULT)
    model["assets"]["small_cap"]["sigmaa"] = 0.2
    with pytest.raises(ModelFileError) as err:
        ModelParams.load(_write(tmp_path, model))
    issue = err.value.issues[0]
    assert issue.field == "assets.small_cap.sigmaa" and issue.line is not None


def test_part_errors_point_at_the_model_file_line(tmp_path: Path) -> None:
    model = copy.deepcopy(DEFAULT)
    model["squeeze"]["jump_sd"] = -1.0
    path = _write(tmp_path, model)
    with pytest.raises(ModelFileError) as err:
        ModelParams.load(path)
    issue = err.value.issues[0]
    lines = path.read_text().splitlines()
    line = next(i for i, t in enumerate(lines, 1) if t.strip() == "jump_sd: -1.0")
    assert (issue.field, issue.line) == ("squeeze.jump_sd", line)


def test_stream_kinds_must_be_distinct() -> None:
    a = Stream("a", Kind.FACTOR, "normal", (2,))
    with pytest.raises(ValueError, match="distinct"):
        DrawPlan(10, (a, Stream("b", Kind.FACTOR, "normal", (2,))))
    with pytest.raises(ValueError, match="distinct"):
        DrawPlan(10, (Stream("c", Kind.PARAM_DRAW, "normal", (2,)),))


def test_start_date_states_declared_by_the_model_reach_the_scenario(tmp_path: Path) -> None:
    """A part's start-date state (``initial.vix`` of the volatility residual) needs only the
    model file's ``states`` entry; other models reject the key at its line."""
    text = (SCENARIOS / "base_2025h2.yaml").read_text().replace("initial:", "initial:\n  vvix: 90")
    with pytest.raises(simengine.SpecError, match="unknown key 'vvix'"):
        load_scenario_text(text)
    model = copy.deepcopy(DEFAULT)
    model["states"]["vvix"] = {"units": "VVIX index level"}
    path = _write(tmp_path, model)
    spec = load_scenario_text(text.replace("model: default", f"model: {path}"))
    assert spec.initial.states["vvix"] == 90.0 and spec.initial.states["vix"] == 17.16
    scn = build_scenario(spec, ModelParams.load(path).structure)
    assert scn.states == spec.initial.states


def test_a_new_residual_part_plugs_in_without_engine_changes(tmp_path: Path, monkeypatch) -> None:
    """The worked example of docs/architecture.md: a Gaussian residual with its own stream
    kind. Registered and named in the model file, it runs; the other parts' draws (here the
    factor paths) are unchanged, because every part draws from its own streams."""
    from simengine import parts
    from simengine.parts.residuals import StudentT

    class Gaussian(StudentT):
        kind = "gaussian"

        def streams(self, shape, params):
            return (Stream("asset", 40, "normal", (shape.n_steps, shape.n_assets)),)

    monkeypatch.setitem(parts.KINDS, ("residuals", "gaussian"), Gaussian)
    model = copy.deepcopy(DEFAULT)
    model["residuals"].pop("vol_state")  # the constant-volatility residual of the example
    model["parts"]["residuals"] = "student_t"
    constant = _write(tmp_path, model)
    model["parts"]["residuals"] = "gaussian"
    (tmp_path / "gaussian").mkdir()
    gaussian = _write(tmp_path / "gaussian", model)
    base = simengine.load_scenario(SCENARIOS / "base_2025h2.yaml")
    new = simengine.simulate(base.with_overrides(model=str(gaussian)), n_paths=4096, seed=3)
    old = simengine.simulate(base.with_overrides(model=str(constant)), n_paths=4096, seed=3)
    ds_new, ds_old = new.dataset, old.dataset
    np.testing.assert_array_equal(ds_new["sample_factors"].values, ds_old["sample_factors"].values)
    assert not np.array_equal(ds_new["sample_returns"].values, ds_old["sample_returns"].values)
    std_new = new.summary(wide=True)["std"].to_numpy()
    np.testing.assert_allclose(std_new, old.summary(wide=True)["std"].to_numpy(), rtol=0.1)


def test_a_new_factor_needs_only_the_model_file(tmp_path: Path) -> None:
    """A stochastic factor declared in the model file (with its dynamics and a loading) is
    simulated, can be shocked by scenarios, and moves the asset that loads on it."""
    model = copy.deepcopy(DEFAULT)
    model["factors"]["dollar"] = {"units": "pp, monthly % change of the dollar", "stochastic": True}
    model["exposures"].append("dollar")
    dyn = model["dynamics"]
    dyn["ar"]["dollar"], dyn["innovation_sd"]["dollar"] = {"dollar": 0.3}, 1.5
    model["assets"]["large_cap"]["beta"]["dollar"] = -0.01
    path = _write(tmp_path, model)
    text = (SCENARIOS / "base_2025h2.yaml").read_text().replace("model: default", f"model: {path}")
    shocked = text + "shocks: [{factor: dollar, date: 2025-09-15, size: 5.0}]\n"
    res = simengine.simulate(load_scenario_text(shocked), n_paths=8192, seed=1)
    calm = simengine.simulate(load_scenario_text(text), n_paths=8192, seed=1)
    dollar = res.factor_mean().sel(factor="dollar").values.ravel()
    np.testing.assert_allclose(dollar[2:4], [5.0, 1.5], atol=0.1)  # shock, then 0.3 x shock
    # same draws, the shock alone: large caps lose beta x cumulative shock, small caps nothing
    diff = res.summary(wide=True)["mean"].to_numpy() - calm.summary(wide=True)["mean"].to_numpy()
    assert diff[0] == pytest.approx(0.0, abs=1e-12)
    assert -0.09 < diff[1] < -0.05  # about exp(-0.01 x 7.1) - 1 on the mean return


def test_drift_offsets_are_the_off_diagonal_part_of_the_drift_term() -> None:
    """``(I - A) shift`` = the drifting factors' own ``(1 - A_ii) shift_i`` + the offsets; each
    row's offsets are the same numbers whether ``A`` has one row or many."""
    from simengine.parts.dynamics import drift_offsets

    rng = np.random.default_rng(3)
    A = 0.3 * rng.standard_normal((5, 4, 4))
    shift = np.zeros((7, 4))
    shift[2:5, 1], shift[3:, 3] = 0.3, -0.1
    held = drift_offsets(A, shift)
    term = np.einsum("dij,tj->dti", np.eye(4) - A, shift)
    own = (1.0 - np.einsum("dii->di", A))[:, None, :] * shift[None]
    np.testing.assert_allclose(held, term - own, rtol=0, atol=1e-15)
    assert np.all(held[:, :2] == 0.0) and np.all(held[:, 2:5, 0] != 0.0)
    for d in range(5):
        assert np.array_equal(drift_offsets(A[d : d + 1], shift)[0], held[d])
