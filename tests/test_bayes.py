"""Bayesian calibration: priors, data preparation, recovery, conjugacy, diagnostics, store, CLI.

Tolerances. Recovery checks compare the posterior mean with the true value in units of the
posterior sd: with a correct model the standardised error is roughly N(0, 1) per parameter, so
|z| < 4 fails with probability < 1e-4 per check (the fits are seeded, so the tests are also
deterministic). Conjugate checks compare with the closed form within 4 Monte Carlo standard
errors (ArviZ's MCSE of the mean and of the sd).
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from simengine.bayes.diagnostics import Thresholds, check_convergence, diagnose
from simengine.bayes.priors import load_priors
from simengine.bayes.store import (
    load_posterior,
    model_structure_hash,
    posterior_to_param_arrays,
    save_posterior,
    thin_posterior,
)
from simengine.bayes.synthetic import example_params, simulate_table
from simengine.exceptions import (
    CalibrationError,
    ConvergenceWarning,
    ModelFileError,
    OutputExistsError,
    PosteriorMismatchError,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pytensor")


def _fit_quiet(table, **kwargs):
    from simengine.bayes.fit import fit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit(table, progress=False, **kwargs)


@pytest.fixture(scope="module")
def truth():
    return example_params()


@pytest.fixture(scope="module")
def synthetic_table(truth):
    return simulate_table(truth, 300, np.random.default_rng(3))


@pytest.fixture(scope="module")
def fitted(synthetic_table):
    """A short fit (250 + 250 draws, 2 chains, 300 months) shared by the fast tests."""
    return _fit_quiet(synthetic_table, draws=250, tune=250, chains=2, seed=11)


# --- priors and data ------------------------------------------------------------------------


def test_packaged_priors_are_complete_and_justified():
    priors = load_priors()
    assert priors.assets == ("small_cap", "large_cap")
    for asset in priors.assets:
        ap = priors.asset_priors[asset]
        assert all(ap[k].why for k in ("mu", "kappa", "sigma"))
        assert all(p.why for p in ap["beta"].values())
    # Carry prior: small caps lose more drift per pp of policy above neutral.
    assert (
        priors.asset_priors["small_cap"]["kappa"]["mu"]
        > priors.asset_priors["large_cap"]["kappa"]["mu"]
    )
    assert priors.asset_priors["small_cap"]["beta"]["tariff"]["mu"] < 0
    assert priors.neutral_rate == 3.0 and len(priors.prior_hash) == 64


def test_broken_priors_report_every_problem(tmp_path):
    import yaml

    from simengine.bayes.priors import DEFAULT_PRIORS_PATH

    raw = yaml.safe_load(DEFAULT_PRIORS_PATH.read_text())
    raw["assets"]["small_cap"]["beta"].pop("tariff")
    raw["assets"]["large_cap"]["sigma"] = {"dist": "normal", "mu": 0, "sigma": 1, "why": "x"}
    raw["dynamics"]["innovations"] = "cauchy"
    with pytest.raises(ModelFileError) as err:
        load_priors(raw)
    text = str(err.value)
    assert "3 problems" in text
    assert (
        "assets.small_cap.beta.tariff" in text
        and "large_cap.sigma.dist" in text
        and "cauchy" in text
    )


def test_prepare_data_aligns_lags_and_drops_gaps(synthetic_table):
    from simengine.bayes.prepare import prepare_data

    priors = load_priors()
    table = synthetic_table.copy()
    table.iloc[10, table.columns.get_loc("credit")] = np.nan  # drops month 10 and month 11 (lag)
    data = prepare_data(table, priors)
    assert len(data.dates) == len(table) - 1 - 2
    i = list(table.index).index(pd.Timestamp(data.dates[5]))
    assert data.z_lag[5, 3] == table["credit"].iloc[i - 1]
    assert data.gap[5] == pytest.approx(table["policy_rate"].iloc[i - 1] - 3.0)
    assert data.x[5, 1] == table["dtariff"].iloc[i]
    with pytest.raises(CalibrationError, match="percent"):
        prepare_data(table.assign(small_cap=table["small_cap"] * 100), priors)
    with pytest.raises(CalibrationError, match="lacks columns"):
        prepare_data(table.drop(columns="credit"), priors)


# --- recovery and conjugacy -----------------------------------------------------------------


def test_fast_parameter_recovery(fitted, truth):
    """Loadings, residual scale/correlation and two VAR coefficients, 300 simulated months."""
    arrays = posterior_to_param_arrays(fitted)
    checks = {
        "beta credit": (arrays["beta"][:, :, 4], truth["beta"][:, 4]),
        "beta inflation": (arrays["beta"][:, :, 3], truth["beta"][:, 3]),
        "sigma": (arrays["sigma"], truth["sigma"]),
        "corr": (arrays["chol_a"][:, 1, 0], truth["chol_a"][1, 0]),
        "A inflation": (arrays["A"][:, 2, 2], truth["A"][2, 2]),
        "rho credit": (arrays["rho"][:, 3], truth["rho"][3]),
        "chol credit-growth": (arrays["chol"][:, 3, 1], truth["chol"][3, 1]),
    }
    for name, (draws, true) in checks.items():
        z = (draws.mean(0) - true) / draws.std(0)
        assert np.all(np.abs(z) < 4), f"{name}: posterior misses the truth by {z} sd"


@pytest.mark.slow
def test_thorough_parameter_recovery(truth):
    table = simulate_table(truth, 900, np.random.default_rng(7))
    idata = _fit_quiet(table, draws=1000, tune=1000, chains=2, seed=5)
    assert diagnose(idata).passed
    arrays = posterior_to_param_arrays(idata)
    for name in (
        "mu", "kappa", "beta", "sigma", "chol_a", "nu_a", "c", "A", "g", "rho", "chol", "nu_f"
    ):  # fmt: skip
        draws, true = arrays[name], np.asarray(truth[name])
        sd = draws.std(0)
        z = np.where(sd > 0, (draws.mean(0) - true) / np.where(sd > 0, sd, 1), 0.0)
        assert np.all(np.abs(z) < 4), f"{name}: standardised errors {np.round(z, 2)}"


def test_conjugate_gaussian_linear_posterior():
    """y = X beta + e, e ~ N(0, s^2) known, beta ~ N(m0, S0): posterior mean and sd in closed form."""
    import arviz as az
    import pymc as pm

    from simengine.bayes.fit import sample_model
    from simengine.bayes.model import _normal_nc

    rng = np.random.default_rng(1)
    n, s = 60, 0.5
    x = np.column_stack([np.ones(n), rng.normal(size=n), rng.normal(size=n)])
    y = x @ np.array([0.3, -1.0, 0.5]) + s * rng.normal(size=n)
    m0, sd0 = np.array([0.0, -0.5, 0.0]), np.array([1.0, 0.5, 0.2])
    prec = np.diag(sd0**-2) + x.T @ x / s**2
    cov = np.linalg.inv(prec)
    mean = cov @ (m0 / sd0**2 + x.T @ y / s**2)
    with pm.Model(coords={"k": ["a", "b", "c"]}) as model:
        beta = _normal_nc("beta", m0, sd0, "k")  # the model's own non-centred parametrisation
        pm.Normal("y", pt_dot(x, beta), s, observed=y)
    idata = sample_model(model, draws=1000, tune=500, chains=2, seed=3, progress=False)
    summ = az.summary(idata, var_names=["beta"])
    assert np.all(np.abs(summ["mean"].to_numpy() - mean) < 4 * summ["mcse_mean"].to_numpy())
    assert np.all(
        np.abs(summ["sd"].to_numpy() - np.sqrt(np.diag(cov))) < 4 * summ["mcse_sd"].to_numpy()
    )


def pt_dot(x, beta):
    import pytensor.tensor as pt

    return pt.dot(x, beta)


# --- diagnostics ----------------------------------------------------------------------------


def test_diagnostics_table_and_strict(fitted):
    report = diagnose(fitted, Thresholds(r_hat=1.5, ess_bulk=50, ess_tail=50, bfmi=0.1))
    assert list(report.summary.index) == ["r_hat", "ess_bulk", "ess_tail", "divergences", "bfmi"]
    assert {"mu", "beta", "A", "chol", "nu_f"} <= set(report.by_variable.index)
    assert report.passed, report.failures
    check_convergence(report, strict=True)  # passes silently
    failing = diagnose(fitted, Thresholds(r_hat=1.5, ess_bulk=1e9, ess_tail=50, bfmi=0.1))
    assert not failing.passed and "ess_bulk" in failing.failures[0]
    with pytest.warns(ConvergenceWarning, match="ess_bulk"):
        check_convergence(failing)
    with pytest.raises(CalibrationError, match="ess_bulk"):
        check_convergence(failing, strict=True)
    assert json.loads(fitted.posterior.attrs["diagnostics"])[0]["check"] == "r_hat"


# --- store ----------------------------------------------------------------------------------


def test_param_arrays_follow_the_contract(fitted):
    arrays = posterior_to_param_arrays(fitted)
    d = fitted.posterior.sizes["chain"] * fitted.posterior.sizes["draw"]
    shapes = {
        "c": (d, 4), "A": (d, 4, 4), "chol": (d, 4, 4), "nu_f": (d,), "g": (d, 4), "rho": (d, 4),
        "neutral": (d,), "mu": (d, 2), "kappa": (d, 2), "beta": (d, 2, 5), "sigma": (d, 2), "chol_a": (d, 2, 2), "nu_a": (d,),
    }  # fmt: skip
    assert {k: v.shape for k, v in arrays.items()} == shapes
    assert (
        np.all(arrays["neutral"] == 3.0)
        and np.all(arrays["nu_a"] > 2)
        and np.all(arrays["nu_f"] > 2)
    )
    corr = arrays["chol_a"] @ np.swapaxes(arrays["chol_a"], 1, 2)
    assert np.allclose(corr[:, [0, 1], [0, 1]], 1.0)
    assert np.allclose(np.triu(arrays["chol"], 1), 0.0)
    attrs = fitted.posterior.attrs
    assert json.loads(attrs["assets"]) == ["small_cap", "large_cap"]
    assert attrs["structure_hash"] == model_structure_hash(("small_cap", "large_cap"))


def test_store_round_trip_and_refusals(fitted, tmp_path):
    path = tmp_path / "post.nc"
    save_posterior(fitted, path)
    assert not list(tmp_path.glob(".*tmp"))  # the temp file was renamed away
    back = load_posterior(path, expect_structure_hash=fitted.posterior.attrs["structure_hash"])
    a, b = posterior_to_param_arrays(fitted), posterior_to_param_arrays(back)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert back.posterior.attrs["table_hash"] == fitted.posterior.attrs["table_hash"]
    with pytest.raises(OutputExistsError):
        save_posterior(fitted, path)
    save_posterior(fitted, path, force=True)
    with pytest.raises(PosteriorMismatchError, match="another model"):
        load_posterior(path, expect_structure_hash=model_structure_hash(("small_cap",)))
    with pytest.raises(PosteriorMismatchError, match="another data table"):
        load_posterior(path, expect_table_hash="0" * 64)
    with pytest.raises(PosteriorMismatchError, match="does not exist"):
        load_posterior(tmp_path / "nope.nc")


def test_store_refuses_incomplete_files(fitted, tmp_path):
    stripped = fitted.copy()
    del stripped.posterior.attrs["prior_hash"]
    stripped.posterior.to_netcdf(
        tmp_path / "no_attr.nc", engine="h5netcdf"
    )  # plain xarray: no groups
    with pytest.raises(PosteriorMismatchError):
        load_posterior(tmp_path / "no_attr.nc")
    stripped.to_netcdf(str(tmp_path / "no_attr2.nc"))
    with pytest.raises(PosteriorMismatchError, match="prior_hash"):
        load_posterior(tmp_path / "no_attr2.nc")
    forged = fitted.copy()
    forged.posterior.attrs["assets"] = json.dumps(["large_cap", "small_cap"])
    forged.to_netcdf(str(tmp_path / "forged.nc"))
    with pytest.raises(PosteriorMismatchError, match="does not match its structure"):
        load_posterior(tmp_path / "forged.nc")


def test_thinning_keeps_provenance(fitted):
    thin = thin_posterior(fitted, 100)
    assert thin.posterior.sizes["chain"] * thin.posterior.sizes["draw"] == 100
    assert thin.posterior.attrs["structure_hash"] == fitted.posterior.attrs["structure_hash"]
    assert posterior_to_param_arrays(thin)["beta"].shape == (100, 2, 5)


# --- CLI and import hygiene -----------------------------------------------------------------


def _cli_app():
    import typer

    from simengine.cli.calibrate import register

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # typer needs 2+ commands to keep subcommand names
    return app


def test_cli_calibrate_and_diagnose(fitted, synthetic_table, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import simengine.bayes.fit as fit_module

    table_path = tmp_path / "table.parquet"
    synthetic_table.to_parquet(table_path)
    calls = {}

    def fake_fit(table, **kwargs):  # the sampler itself is exercised by the recovery tests
        calls.update(kwargs, rows=len(table))
        return fitted

    monkeypatch.setattr(fit_module, "fit", fake_fit)
    out = tmp_path / "post.nc"
    runner = CliRunner()
    args = [
        "calibrate",
        "--table",
        str(table_path),
        "--out",
        str(out),
        "--draws",
        "50",
        "--seed",
        "4",
    ]
    result = runner.invoke(_cli_app(), args)
    assert result.exit_code == 0, result.output
    assert calls["draws"] == 50 and calls["seed"] == 4 and calls["rows"] == len(synthetic_table)
    assert "Convergence diagnostics" in result.output and out.exists()
    again = runner.invoke(_cli_app(), args)
    assert isinstance(again.exception, OutputExistsError)
    assert runner.invoke(_cli_app(), [*args, "--force"]).exit_code == 0
    shown = runner.invoke(_cli_app(), ["diagnose", str(out)])
    assert shown.exit_code == 0, shown.output
    assert "Posterior of the loadings" in shown.output and "beta[small_cap, credit]" in shown.output


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::simengine.exceptions.ConvergenceWarning")  # 200 draws: short
def test_cli_calibrate_end_to_end(synthetic_table, tmp_path):
    from typer.testing import CliRunner

    table_path = tmp_path / "table.parquet"
    synthetic_table.to_parquet(table_path)
    out = tmp_path / "post.nc"
    args = [
        "calibrate",
        "--table",
        str(table_path),
        "--out",
        str(out),
        "--draws",
        "200",
        "--tune",
        "200",
    ]
    result = CliRunner().invoke(_cli_app(), [*args, "--no-progress"])
    assert result.exit_code == 0, result.output
    assert load_posterior(out).posterior.sizes["draw"] == 200


def test_light_imports_do_not_pull_pymc():
    code = (
        "import sys, simengine.bayes, simengine.bayes.weights, simengine.bayes.store, "
        "simengine.cli.calibrate; assert 'pymc' not in sys.modules and 'arviz' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
@pytest.mark.shared_data
def test_real_data_fit_converges(shared_data):
    data = pytest.importorskip("simengine.data")
    idata = _fit_quiet(data.build_table(shared_data), draws=1000, tune=1000, chains=2)
    report = diagnose(idata)
    assert report.passed, report.failures
    beta = posterior_to_param_arrays(idata)["beta"]
    assert np.mean(beta[:, :, 4] < 0) > 0.99  # spread widening hurts both indices


def test_params_from_posterior_fills_model_params(fitted, tmp_path):
    """The posterior draws replace the sampled ModelParams fields; the rest come from the model file."""
    from simengine.api import load_model
    from simengine.bayes.store import params_from_posterior
    from simengine.io import file_sha256 as posterior_file_hash

    point = load_model("default")
    path = save_posterior(thin_posterior(fitted, 40), tmp_path / "p.nc")
    params = params_from_posterior(point, path)
    arrays = posterior_to_param_arrays(load_posterior(path))
    returns, dynamics = params["returns"], params["dynamics"]
    assert returns.mu.shape[0] == 40 and params.posterior_hash == posterior_file_hash(path)
    order = [json.loads(fitted.posterior.attrs["assets"]).index(a) for a in point.assets]
    assert np.allclose(returns.beta, arrays["beta"][:, order])
    assert np.allclose(dynamics.A, arrays["A"]) and np.allclose(params["policy"].neutral, 3.0)
    # not sampled: tiled from the model file
    assert np.allclose(dynamics.s, point["dynamics"].s[0])
    # c is shifted from the running sum of credit changes to the level's scale:
    # c_abs = c - rho (level_at_fit - level_end), for credit only
    level_end = float(load_posterior(path).posterior.attrs["level_end"])
    shift = arrays["rho"] * (point["dynamics"].level0[0] - level_end)
    assert np.allclose(dynamics.c, arrays["c"] - shift) and np.allclose(shift[:, :3], 0.0)


@pytest.mark.parametrize(("sampler", "tune"), [("nutpie", 500), ("pymc", 1000), ("pymc", 7)])
def test_the_warm_up_defaults_to_the_samplers_own(monkeypatch, sampler: str, tune: int) -> None:
    """``tune=None``: 500 warm-up steps with nutpie (above its own 400), PyMC's 1000 with PyMC's
    NUTS; an explicit value is kept."""
    import importlib

    fit_module = importlib.import_module("simengine.bayes.fit")
    seen = {}
    monkeypatch.setattr(fit_module, "resolve_sampler", lambda s: sampler)
    monkeypatch.setattr(
        fit_module, "_run_sampler", lambda name, model, draws, t, *a: seen.update(tune=t)
    )
    fit_module.sample_model(None, tune=None if tune in (500, 1000) else tune, sampler=sampler)
    assert seen["tune"] == tune
