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


def test_a_flat_state_is_the_constant_variance_model(base, priors) -> None:
    t = len(base.dates)
    flat = replace(base, v=np.ones((t, 2)), w=np.ones(t), mixing_sd=0.0)
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
    with pytest.raises(CalibrationError, match=r"lacks columns \['market'\]"):
        prepare_data(table, priors, state.drop(columns="market"), MIXING)
    with pytest.raises(CalibrationError, match="must be positive"):
        prepare_data(table, priors, state.assign(market=-1.0), MIXING)
    # The state covers the first 40 months: the table's first month has no lag, so 38 remain.
    short = prepare_data(table, priors, state.iloc[:40], MIXING)
    assert len(short.dates) == 38 and short.v.shape == (38, 2) and short.w.shape == (38,)
    assert str(short.dates[-1])[:7] == str(state.index[39])[:7]


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
