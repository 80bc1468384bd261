"""The Bayesian likelihood given the volatility state (``prepare_data(..., state, mixing_sd)``).

The month's shocks are scaled by the plug-in state's variance ratio and a log-normal level that
the likelihood integrates out. Checked here: the likelihood is exactly the documented density
(against adaptive quadrature, and equal to the constant-variance model when the state is flat),
a state whose columns or values are wrong is refused, and a fit recovers known parameters from
data simulated with a state, including the tails (a dof fitted without the state would absorb
the state's kurtosis). Simulation-based calibration with the state is in ``test_sbc.py``.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest
from scipy import integrate, stats

from simengine.bayes.priors import load_priors
from simengine.bayes.synthetic import example_params, simulate_state, simulate_table
from simengine.exceptions import CalibrationError, ConvergenceWarning

pm = pytest.importorskip("pymc")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pytensor")

MIXING = 0.6


@pytest.fixture(scope="module")
def priors():
    return load_priors()


@pytest.fixture(scope="module")
def base(priors):
    from simengine.bayes.prepare import prepare_data

    table = simulate_table(example_params(priors.assets), 60, np.random.default_rng(0))
    return prepare_data(table, priors)


def _logp(data, priors, point=None):
    from simengine.bayes.model import build_model

    model = build_model(data, priors)
    return model.compile_logp()(point or model.initial_point()), model


@pytest.mark.parametrize("innovations", ["student_t", "gaussian"])
def test_a_flat_state_is_the_constant_variance_model(base, priors, innovations) -> None:
    t = len(base.dates)
    flat = replace(base, v=np.ones((t, 2)), w=np.ones(t), mixing_sd=0.0)
    priors = replace(priors, innovations=innovations)
    want, model = _logp(base, priors)
    got, _ = _logp(flat, priors, model.initial_point())
    assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("nu", [5.0, None])
def test_likelihood_given_the_state_is_the_mixture_density(nu) -> None:
    """The potential against adaptive quadrature over the level, Student-t and Gaussian."""
    import pytensor.tensor as pt

    from simengine.bayes.model import _given_state

    rng = np.random.default_rng(1)
    y = rng.standard_normal((7, 2)) * 0.05
    mean = np.full((7, 2), 0.004)
    ratio = np.exp(rng.normal(0, 0.5, (7, 2)))
    chol = np.linalg.cholesky(np.array([[0.0025, 0.0012], [0.0012, 0.0016]]))
    shape_chol = chol if nu is None else chol * np.sqrt((nu - 2.0) / nu)  # as the model passes it
    with pm.Model() as model:
        _given_state("x", pt.as_tensor(y), pt.as_tensor(mean), pt.as_tensor(shape_chol),
                     None if nu is None else pt.as_tensor(nu), ratio, MIXING)  # fmt: skip
    got = float(model.potentials[0].eval())
    cov = chol @ chol.T
    exact = sum(
        _mixture_logpdf(e / np.sqrt(r), cov, nu) - 0.5 * np.log(r).sum()
        for e, r in zip(y - mean, ratio, strict=True)
    )
    assert got == pytest.approx(exact, rel=1e-7)  # 20 Gauss-Hermite nodes against quad


@pytest.mark.parametrize("innovations", ["student_t", "gaussian"])
def test_blocks_hand_the_state_their_unit_variance_scale(base, priors, monkeypatch, innovations):
    """Each block passes its own data, the unit-variance scale ``chol sqrt((nu - 2)/nu)`` (the
    plain Cholesky factor for Gaussian innovations), its dof and its state's ratios (the market
    ratio repeated for every factor) to the likelihood given the state."""
    import pytensor

    import simengine.bayes.model as model_module

    calls = {}
    real = model_module._given_state

    def spy(name, observed, mean, chol, nu, ratio, mixing_sd):
        calls[name] = (observed, chol, nu, ratio, mixing_sd)
        real(name, observed, mean, chol, nu, ratio, mixing_sd)

    monkeypatch.setattr(model_module, "_given_state", spy)
    rng = np.random.default_rng(3)
    t = len(base.dates)
    v, w = np.exp(rng.normal(0, 0.3, (t, 2))), np.exp(rng.normal(0, 0.3, t))
    data = replace(base, v=v, w=w, mixing_sd=0.4)
    model = model_module.build_model(data, replace(priors, innovations=innovations))
    assert set(calls) == {"returns", "factors"}
    y, chol_r, nu_r, ratio_r, s_r = calls["returns"]
    zs, chol_f, nu_f, ratio_f, s_f = calls["factors"]
    np.testing.assert_array_equal(ratio_r, v)
    np.testing.assert_array_equal(ratio_f, np.repeat(w[:, None], base.z.shape[1], axis=1))
    assert s_r == s_f == 0.4
    tensors = {"y": y, "chol_r": chol_r, "nu_r": nu_r, "zs": zs, "chol_f": chol_f}
    tensors.update({n: model[n] for n in ("sigma", "chol_a", "nu_a", "chol")})
    if innovations == "gaussian":
        assert nu_f is None and "nu_f" not in model.named_vars
    else:
        tensors.update(nu_f_passed=nu_f, nu_f=model["nu_f"])
    fn = pytensor.function(model.value_vars, list(tensors.values()), on_unused_input="ignore")
    point = model.initial_point()
    got = dict(zip(tensors, fn(*[point[x.name] for x in model.value_vars]), strict=True))

    np.testing.assert_array_equal(got["y"], base.y)
    nu = float(got["nu_a"])
    stds = got["sigma"] * np.sqrt(model_module.DT)
    want = stds[:, None] * got["chol_a"] * np.sqrt((nu - 2.0) / nu)
    np.testing.assert_allclose(got["chol_r"], want, rtol=1e-10)
    assert float(got["nu_r"]) == nu
    np.testing.assert_allclose(got["zs"], (base.z - base.z_mean) / base.z_sd, rtol=1e-12)
    chol_std = got["chol"] / base.z_sd[:, None]
    if innovations == "gaussian":
        np.testing.assert_allclose(got["chol_f"], chol_std, rtol=1e-10)
    else:
        nu = float(got["nu_f"])
        assert float(got["nu_f_passed"]) == nu
        np.testing.assert_allclose(got["chol_f"], chol_std * np.sqrt((nu - 2) / nu), rtol=1e-10)


def _mixture_logpdf(z: np.ndarray, cov: np.ndarray, nu: float | None) -> float:
    """``log int f(z; 0, cov L) dLogN(L)`` with ``f`` the unit-variance t (``nu``) or Gaussian."""

    def density(level: float) -> float:
        if nu is None:
            return stats.multivariate_normal.pdf(z, np.zeros(len(z)), cov * level)
        return stats.multivariate_t.pdf(z, np.zeros(len(z)), cov * level * (nu - 2) / nu, df=nu)

    def integrand(n: float) -> float:
        return density(np.exp(MIXING * n - MIXING**2 / 2.0)) * stats.norm.pdf(n)

    return float(np.log(integrate.quad(integrand, -12, 12, epsabs=1e-300, epsrel=1e-12)[0]))


def test_a_wrong_state_is_refused(priors) -> None:
    from simengine.bayes.prepare import prepare_data

    table = simulate_table(example_params(priors.assets), 60, np.random.default_rng(0))
    state = simulate_state(60, np.random.default_rng(1), priors.assets)
    with pytest.raises(CalibrationError, match=r"lacks columns \['market'\].*\.state_ratios\)"):
        prepare_data(table, priors, state.drop(columns="market"), MIXING)
    for bad in (-1.0, 0.0):
        with pytest.raises(CalibrationError, match="^volatility-state variance ratios must be pos"):
            prepare_data(table, priors, state.assign(market=bad), MIXING)
    # The state covers the first 40 months: the table's first month has no lag, so 38 remain.
    short = prepare_data(table, priors, state.iloc[:40], MIXING)
    assert len(short.dates) == 38 and short.v.shape == (38, 2) and short.w.shape == (38,)
    assert short.mixing_sd == MIXING
    assert prepare_data(table, priors, state).mixing_sd == 0.0  # the default: no level
    unconditional = prepare_data(table, priors, None, MIXING)  # no state: no level either
    assert unconditional.v is None and unconditional.w is None and unconditional.mixing_sd == 0.0
    assert str(short.dates[-1])[:7] == str(state.index[39])[:7]


def test_simulated_state_follows_its_law(priors) -> None:
    """``log w_t = 0.85 log w_{t-1} + 0.25 n_t`` with mean ratio 1, ``v_a = w exp(0.1 n_a)``,
    one row per table month plus the first (the table's lag)."""
    n = 20_000
    state = simulate_state(n, np.random.default_rng(9), priors.assets)
    table = simulate_table(example_params(priors.assets), 30, np.random.default_rng(0))
    short = simulate_state(30, np.random.default_rng(9), priors.assets)
    assert list(short.columns) == [*priors.assets, "market"]
    assert len(short) == 31 and list(short.index[1:]) == list(table.index)
    x = np.log(state["market"].to_numpy())
    slope, intercept = np.polyfit(x[:-1], x[1:], 1)
    assert slope == pytest.approx(0.85, abs=0.01)
    assert np.std(x[1:] - slope * x[:-1] - intercept) == pytest.approx(0.25, abs=0.005)
    assert state["market"].mean() == pytest.approx(1.0, abs=0.025)
    log_v = np.log(state[list(priors.assets)].to_numpy()) - x[:, None]
    np.testing.assert_allclose(log_v.mean(0), 0.0, atol=0.004)
    np.testing.assert_allclose(log_v.std(0), 0.1, rtol=0.03)


def test_simulated_shocks_are_scaled_by_the_state_and_the_level(priors) -> None:
    """With the dynamics switched off the table's factors are ``c + u_t`` and its returns
    ``sigma sqrt(dt) e_t``: against a flat state drawn from the same seed, the month's factor
    innovations are scaled by ``sqrt(w_t)``, its residuals by ``sqrt(v_{a,t})``, and with
    ``mixing_sd`` by ``sqrt(L_t)``: one level per month and block, ``log L ~ N(-s^2/2, s^2)``."""
    assets = priors.assets
    zeros = {k: np.zeros_like(v) for k, v in example_params(assets).items()
             if k in ("A", "g", "rho", "beta", "mu", "kappa")}  # fmt: skip
    params = {**example_params(assets), **zeros}
    n = 1500
    state = simulate_state(n, np.random.default_rng(7), assets)
    flat = state * 0.0 + 1.0

    def shocks(st, mixing_sd=None):
        extra = {} if mixing_sd is None else {"mixing_sd": mixing_sd}
        t = simulate_table(params, n, np.random.default_rng(8), assets, state=st, **extra)
        u = t[["rates", "growth", "inflation", "credit"]].to_numpy() - params["c"]
        return u, t[list(assets)].to_numpy()

    u1, e1 = shocks(flat, 0.0)
    uw, ew = shocks(state)  # mixing_sd defaults to 0
    np.testing.assert_allclose(uw / u1, np.sqrt(state[["market"] * 4].to_numpy()[1:]), rtol=1e-6)
    np.testing.assert_allclose(ew / e1, np.sqrt(state[list(assets)].to_numpy()[1:]), rtol=1e-9)
    us, es = shocks(flat, MIXING)
    levels = []
    for ratio in ((us / u1) ** 2, (es / e1) ** 2):
        np.testing.assert_allclose(ratio, ratio[:, :1] * np.ones_like(ratio), rtol=1e-6)
        log_level = np.log(ratio[:, 0])
        assert log_level.mean() == pytest.approx(-(MIXING**2) / 2, abs=0.06)
        assert log_level.std() == pytest.approx(MIXING, abs=0.05)
        levels.append(log_level)
    assert abs(np.corrcoef(*levels)[0, 1]) < 0.1  # independent levels for the two blocks


def test_fit_given_the_state_recovers_the_parameters(priors) -> None:
    """300 months simulated with a persistent state and the level (s = 0.6), residual dof 6."""
    from simengine.bayes.fit import fit
    from simengine.bayes.store import posterior_to_param_arrays

    truth = example_params(priors.assets)
    rng = np.random.default_rng(5)
    state = simulate_state(300, rng, priors.assets)
    table = simulate_table(truth, 300, rng, priors.assets, state=state, mixing_sd=MIXING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        idata = fit(
            table, draws=250, tune=250, chains=2, seed=11, progress=False, state=state,
            mixing_sd=MIXING,
        )  # fmt: skip
    assert idata.posterior.attrs["state_hash"] != "none"
    arrays = posterior_to_param_arrays(idata)
    for name in ("sigma", "chol_a", "beta", "A", "chol", "rho"):
        draws, true = arrays[name], np.asarray(truth[name])
        sd = draws.std(0)
        z = np.where(sd > 0, (draws.mean(0) - true) / np.where(sd > 0, sd, 1), 0.0)
        assert np.all(np.abs(z) < 4), f"{name}: standardised errors {np.round(z, 2)}"
    nu_a = arrays["nu_a"]
    lo, hi = np.quantile(nu_a, [0.005, 0.995])
    assert lo < truth["nu_a"] < hi, (lo, hi)


class _Stop(Exception):
    """Raised by the stand-in sampler once the CLI has passed its arguments."""


def test_calibrate_fits_given_the_model_files_state(shared_data, tmp_path, monkeypatch) -> None:
    """``calibrate --data`` hands the sampler the state of the packaged curves and mixing sd."""
    import yaml
    from typer.testing import CliRunner

    import simengine.bayes.fit as fit_module
    from simengine.cli import app
    from tests.conftest import ROOT

    calls: dict = {}

    def fake_fit(table, **kwargs):
        calls.update(kwargs, months=table.frame.index)
        raise _Stop

    monkeypatch.setattr(fit_module, "fit", fake_fit)
    result = CliRunner().invoke(
        app, ["calibrate", "--data", str(shared_data), "--out", str(tmp_path / "p.nc")]
    )
    assert isinstance(result.exception, _Stop), result.output
    packaged = yaml.safe_load((ROOT / "simengine/models/default.yaml").read_text())
    assert calls["mixing_sd"] == packaged["residuals"]["vol_state"]["mixing_sd"]
    state = calls["state"]
    assert list(state.columns) == ["small_cap", "large_cap", "market"]
    known = state.loc["1997":]
    assert known.notna().all().all() and (known > 0).all().all()
    assert 0.5 < known["market"].mean() < 2.0  # ratio 1 = the mean realised variance
    assert known["market"].loc["2008-11"].iloc[0] > 3  # the month after VIX 60
