"""Every numerical and resource guard, triggered on purpose, with the message it must give."""

from __future__ import annotations

import copy
import importlib
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from simengine import api
from simengine.exceptions import (
    ExplosiveDynamicsWarning,
    LimitError,
    ModelFileError,
    NumericalError,
    SimengineWarning,
    SpecError,
)
from simengine.guards import check_run_size, estimate_run_bytes, nearest_correlation
from simengine.params import ModelParams, default_model_path
from simengine.results import SimulationResult
from simengine.spec import load_scenario

from .conftest import SCENARIOS

DEFAULT = yaml.safe_load(default_model_path().read_text())


def _model(tmp_path: Path, edit: dict[str, Any] | None = None, **sections: Any) -> Path:
    """A copy of the default model file with some entries replaced (dotted keys)."""
    data = copy.deepcopy(DEFAULT)
    for dotted, value in (edit or {}).items():
        node = data
        *parents, last = dotted.split(".")
        for key in parents:
            node = node[key]
        node[last] = value
    data.update(sections)
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _params(path: Path, **kwargs: Any) -> ModelParams:
    return ModelParams.load(path, **kwargs)


# ----------------------------------------------------------------------------- correlations

BAD_CORR = {
    "rates": {"growth": 0.9, "inflation": 0.9, "credit": 0.0},
    "growth": {"inflation": -0.9, "credit": 0.0},
    "inflation": {"credit": 0.0},
}


def test_not_positive_definite_names_matrix_and_offers_repair(tmp_path: Path) -> None:
    path = _model(tmp_path, {"dynamics.innovation_corr": BAD_CORR})
    with pytest.raises(NumericalError) as err:
        _params(path)
    text = str(err.value)
    assert "dynamics.innovation_corr" in text and str(path) in text
    assert "not positive definite (smallest eigenvalue" in text
    assert "set `dynamics.repair_correlation: true`" in text
    assert "nearest valid correlation matrix (Higham 2002): rates-growth:" in text


def test_repair_is_opt_in_by_model_field_or_flag(tmp_path: Path) -> None:
    path = _model(tmp_path, {"dynamics.innovation_corr": BAD_CORR})
    with pytest.warns(SimengineWarning, match="using the nearest valid correlation matrix"):
        by_flag = _params(path, repair_correlation=True)
    path = _model(
        tmp_path, {"dynamics.innovation_corr": BAD_CORR, "dynamics.repair_correlation": True}
    )
    with pytest.warns(SimengineWarning, match="dynamics.innovation_corr"):
        by_field = _params(path)
    np.testing.assert_allclose(by_field["dynamics"].chol, by_flag["dynamics"].chol)
    sd = np.array([DEFAULT["dynamics"]["innovation_sd"][f] for f in BAD_CORR] + [0.0])[:4]
    sd[3] = DEFAULT["dynamics"]["innovation_sd"]["credit"]
    chol = by_field["dynamics"].chol[0]
    cov = chol @ chol.T
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), sd, rtol=1e-10)  # variances kept


def test_residual_corr_of_one_is_not_positive_definite(tmp_path: Path) -> None:
    path = _model(tmp_path, {"residuals.corr": {"small_cap": {"large_cap": 1.0}}})
    with pytest.raises(NumericalError, match=r"residuals\.corr .*residuals\.repair_correlation"):
        _params(path)


def test_correlation_out_of_range_is_a_model_file_error_with_line(tmp_path: Path) -> None:
    path = _model(tmp_path, {"residuals.corr": {"small_cap": {"large_cap": 1.5}}})
    with pytest.raises(ModelFileError) as err:
        _params(path)
    issue = err.value.issues[0]
    assert issue.file == str(path) and issue.line is not None
    assert "must be in [-1, 1], got 1.5" in issue.message


def test_an_old_surprise_response_is_refused_with_what_replaced_it(tmp_path: Path) -> None:
    """The field was silently overridden by the policy part; now it is an error with a line."""
    path = _model(tmp_path, {"assets.small_cap.surprise_response": -0.05})
    with pytest.raises(ModelFileError) as err:
        _params(path)
    issue = err.value.issues[0]
    assert issue.file == str(path) and issue.line is not None
    assert "surprise_response is no longer read" in issue.message
    assert "announcement_total" in issue.message


def test_a_model_file_without_its_policy_section_is_refused(tmp_path: Path) -> None:
    """The policy part's parameters live in the model file (there is no second file to fall
    back on): a missing section, or a field of it, is named with the file."""
    data = yaml.safe_load(default_model_path().read_text())
    del data["policy"]
    path = tmp_path / "no_policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ModelFileError) as err:
        _params(path)
    text = str(err.value)
    assert str(path) in text and "policy" in text
    path = _model(tmp_path, {"policy.growth_channel.gamma": 0.05})
    with pytest.raises(ModelFileError, match=r"policy\.growth_channel\.gamma"):
        _params(path)


_SLOPES = {"inflation3": 0.7, "credit1": -0.9, "growth3": 0.3}  # not in the engine's order

BAD_POLICY = [
    ({"policy.reaction.slopes": {"growth3": 0.1, "inflation3": 0.2}}, r"reaction\.slopes"),
    ({"policy.reaction.slopes": {**_SLOPES, "vix": 0.1}}, r"reaction\.slopes"),
    ({"policy.reaction.cutpoints": [-1.0, -2.0, 1.0, 2.0]}, r"reaction\.cutpoints"),
    ({"policy.reaction.cutpoints": [-1.0, 1.0, 2.0]}, r"reaction\.cutpoints"),
    ({"policy.reaction.intercept": 0.3}, r"reaction\.intercept"),
    ({"policy.growth_channel.lags": [0, 12]}, r"growth_channel\.lags"),
    ({"policy.growth_channel.lags": [12, 1]}, r"growth_channel\.lags"),
    ({"policy.growth_channel.lags": [1.5, 12]}, r"growth_channel\.lags"),
    ({"policy.path_pass_through": 1.01}, r"policy\.path_pass_through"),
    ({"policy.path_pass_through": -1.01}, r"policy\.path_pass_through"),
    ({"policy.window_months": 0.0}, r"policy\.window_months"),
]


@pytest.mark.parametrize(("edit", "field"), BAD_POLICY, ids=lambda x: str(x)[:40])
def test_a_bad_policy_section_field_is_refused_by_name(
    tmp_path: Path, edit: dict[str, Any], field: str
) -> None:
    """Each rule of the policy section (FomcSchema): the slopes on exactly the reaction
    function's state, four increasing cutpoints, lags 1 <= first <= last (whole months), a
    pass-through in [-1, 1], a positive window, no unknown fields."""
    with pytest.raises(ModelFileError, match=field):
        _params(_model(tmp_path, edit))


def test_policy_section_edge_values_are_accepted(tmp_path: Path) -> None:
    """The bounds themselves are allowed: equal first and last lag, pass-through of -1 and 1,
    no growth response."""
    from simengine.policy_model import policy_params

    for lam in (-1.0, 1.0):
        edit = {"policy.growth_channel.lags": [3, 3], "policy.growth_channel.gamma": 0.0}
        pol = policy_params(_params(_model(tmp_path, {**edit, "policy.path_pass_through": lam})))
        assert (pol.growth_lags, pol.growth_gamma, pol.path_pass_through) == ((3, 3), 0.0, lam)


def test_policy_parameters_come_from_the_model_file(tmp_path: Path) -> None:
    """The reaction slopes, cutpoints, pass-through, 2-year window and growth channel the engine
    uses are the model file's (a refit model carries its own), the slopes in the reaction
    function's order whatever the file's."""
    from simengine.parts.policy import STATE_NAMES
    from simengine.policy_model import policy_params

    base = policy_params(_params(_model(tmp_path)))
    path = _model(
        tmp_path,
        {
            "policy.reaction.slopes": _SLOPES,
            "policy.reaction.cutpoints": [-2.0, -1.0, 1.0, 2.0],
            "policy.path_pass_through": 0.5,
            "policy.window_months": 12.0,
            "policy.growth_channel.gamma": -0.1,
            "policy.growth_channel.lags": [2, 6],
        },
    )
    moved = policy_params(_params(path))
    assert moved.window_months == 12.0 and base.window_months == 24.0
    assert list(moved.reaction.slopes) == [_SLOPES[k] for k in STATE_NAMES]
    assert base.reaction.slopes[2] != -0.9
    assert list(moved.reaction.cuts) == [-2.0, -1.0, 1.0, 2.0]
    assert (moved.path_pass_through, moved.growth_gamma, moved.growth_lags) == (0.5, -0.1, (2, 6))


def test_a_refit_carries_the_packaged_policy_section() -> None:
    """Refits that do not estimate the policy part (the backtest's) carry the packaged model's
    section, a copy of their own."""
    from simengine.data.fit import packaged_policy

    section = packaged_policy()
    assert section == DEFAULT["policy"]
    section["reaction"]["slopes"]["growth3"] = 99.0
    assert packaged_policy() == DEFAULT["policy"]


def test_announcement_total_sets_the_policy_parts_response(tmp_path: Path) -> None:
    """A model file's announcement_total reaches the engine's response: psi moves one for one
    over (1 + lambda w)."""
    from simengine.policy_model import policy_params

    base = policy_params(_params(_model(tmp_path)))
    path = _model(tmp_path, {"assets.small_cap.announcement_total": -0.16})
    moved = policy_params(_params(path))
    wbar = (base.window_months - 1.5) / base.window_months
    step = -0.1 / (1.0 + base.path_pass_through * wbar)
    assert moved.announcement[0] - base.announcement[0] == pytest.approx(step, rel=1e-12)
    assert moved.announcement[1] == base.announcement[1]


def test_nearest_correlation_matches_higham_example() -> None:
    # Higham (2002), section 4: the nearest correlation matrix to this one has off-diagonals
    # 0.7607, 0.1573, 0.7607 (printed to 4 decimals there: tolerance 1e-4).
    a = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]])
    x = nearest_correlation(a)
    np.testing.assert_allclose([x[0, 1], x[0, 2], x[1, 2]], [0.7607, 0.1573, 0.7607], atol=1e-4)
    np.testing.assert_allclose(np.diag(x), 1.0)
    assert np.linalg.eigvalsh(x).min() > 0


# ----------------------------------------------------------------------------- dynamics


def test_explosive_dynamics_warn_with_spectral_radius(tmp_path: Path) -> None:
    path = _model(tmp_path, {"dynamics.ar": {"rates": {"rates": 1.05}}})
    with pytest.warns(ExplosiveDynamicsWarning, match=r"spectral radius 1\.05 >= 1"):
        _params(path)


def test_explosive_dynamics_above_bound_is_an_error(tmp_path: Path) -> None:
    path = _model(tmp_path, {"dynamics.ar": {"credit": {"credit": 1.5}}})
    with pytest.raises(NumericalError, match=r"spectral radius 1\.5 is above the limit 1\.2"):
        _params(path)


def test_default_model_passes_every_guard() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        params = _params(default_model_path())
    assert params.spectral_radius() < 1


# ----------------------------------------------------------------------------- posterior draws


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        (
            "dynamics.nu",
            np.array([5.0, 2.0, 7.0]),
            "dynamics.nu (Student-t degrees of freedom) is 2 in draw 1 of 3",
        ),
        (
            "residuals.nu",
            np.array([1.5, 5.0, 5.0]),
            "residuals.nu (Student-t degrees of freedom) is 1.5 in draw 0",
        ),
        (
            "residuals.sigma",
            np.array([[0.2, 0.2], [0.2, -0.1], [0.2, 0.2]]),
            "residuals.sigma is -0.1 in draw 1 of 3",
        ),
        (
            "returns.mu",
            np.array([[0.1, 0.1], [0.1, 0.1], [np.nan, 0.1]]),
            "returns.mu has a non-finite value in draw 2",
        ),
    ],
)
def test_posterior_draws_are_checked(field: str, value: np.ndarray, text: str) -> None:
    params = api.load_model()
    role, name = field.split(".")
    with pytest.raises(NumericalError) as err:
        params.with_draws({role: {name: value}}, posterior_hash="test")
    assert "posterior draws" in str(err.value) and text in str(err.value)


def test_explosive_posterior_draw_is_rejected() -> None:
    params = api.load_model()
    A = np.repeat(params["dynamics"].A, 3, axis=0)
    A[2] = np.eye(4) * 1.3
    with pytest.raises(NumericalError, match=r"spectral radius 1\.3 \(draw 2 of 3\)"):
        params.with_draws({"dynamics": {"A": A}}, posterior_hash="test")


# ----------------------------------------------------------------------------- overflow and NaN


def test_compounding_overflow_raises_numerical_error(tmp_path: Path) -> None:
    path = _model(tmp_path, {"assets.small_cap.sigma": 60.0})
    spec = load_scenario(SCENARIOS / "fed_cut_september.yaml").with_overrides(model=str(path))
    with pytest.raises(NumericalError, match=r"non-finite or overflowing value\(s\) in cumulative"):
        api.simulate(spec, n_paths=4096, seed=1)


def test_no_nan_reaches_a_summary() -> None:
    result = api.simulate(SCENARIOS / "fed_cut_september.yaml", n_paths=64, seed=1)
    ds = result.dataset
    ds["n_paths"].values[:] = 0  # every mean/probability becomes 0/0
    with (
        np.errstate(divide="ignore", invalid="ignore"),
        pytest.raises(NumericalError, match="summary column 'mean' has NaN/inf"),
    ):
        SimulationResult(ds).summary(wide=True)


def test_absurd_shock_is_rejected_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(
        f"extends: {SCENARIOS / 'base_2025h2.yaml'}\nname: huge\nshocks:\n"
        "  - factor: credit\n    date: 2025-09-01\n    size: 1.0e+6\n"
    )
    with pytest.raises(SpecError) as err:
        api.simulate(path, n_paths=64, seed=1)
    issue = err.value.issues[0]
    assert (issue.file, issue.line, issue.field) == (str(path), 6, "shocks[0].size")
    assert "expected a value within +-100" in issue.message
    assert "SIMENGINE_MAX_FACTOR_VALUE" in issue.hint


# ----------------------------------------------------------------------------- limits


def test_path_override_beyond_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMENGINE_MAX_PATHS", "200000")
    with pytest.raises(
        LimitError, match=r"200_001 paths requested; expected 1 to 200_000.*SIMENGINE_MAX_PATHS"
    ):
        api.simulate(SCENARIOS / "fed_cut_september.yaml", n_paths=200_001, seed=1)
    with pytest.raises(LimitError, match="0 paths requested"):
        api.simulate(SCENARIOS / "fed_cut_september.yaml", n_paths=0, seed=1)


def test_memory_limit_checked_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMENGINE_MAX_MEMORY_MB", "8")

    def boom(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("simulation started before the memory check")

    engine = importlib.import_module("simengine.simulate")  # api imports it when a run starts
    monkeypatch.setattr(engine, "run_scenarios", boom)
    with pytest.raises(LimitError) as err:
        api.simulate(SCENARIOS / "fed_cut_september.yaml", n_paths=100_000, seed=1, threads=4)
    text = str(err.value)
    assert "above the limit of 8 MiB" in text and "SIMENGINE_MAX_MEMORY_MB=<MiB>" in text
    assert "--chunk-size" in text


def test_memory_estimate_grows_with_threads_and_steps() -> None:
    one = estimate_run_bytes(8192, 6, 3, 1, threads=1)
    assert estimate_run_bytes(8192, 6, 3, 1, threads=4) > 3 * one
    assert estimate_run_bytes(8192, 120, 3, 1) > 15 * one
    check_run_size(100_000, 8192, 6, 3, 1)  # an ordinary run passes


def test_horizon_limit_message(tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text(f"extends: {SCENARIOS / 'base_2025h2.yaml'}\nname: long\nhorizon: 2045-12-31\n")
    with pytest.raises(SpecError) as err:
        load_scenario(path)
    assert "SIMENGINE_MAX_HORIZON_YEARS" in str(err.value) and err.value.issues[0].line == 3
