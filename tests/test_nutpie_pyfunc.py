"""nutpie over PyTensor's numba functions draws what nutpie's own cfunc route draws."""

from __future__ import annotations

import numpy as np
import pytest

pm = pytest.importorskip("pymc")
nutpie = pytest.importorskip("nutpie")

from simengine.bayes.nutpie_pyfunc import compile_pyfunc, sampling_cores  # noqa: E402


def _model() -> pm.Model:
    rng = np.random.default_rng(0)
    with pm.Model(coords={"obs": range(60)}) as model:
        y = pm.Data("y", rng.standard_t(5, size=60) * 0.5 + 0.2, dims="obs")
        mu = pm.Normal("mu", 0.0, 1.0)
        sigma = pm.HalfNormal("sigma", 1.0)
        nu = pm.Gamma("nu", 2.0, 0.1)
        pm.Deterministic("scale2", sigma**2)
        pm.StudentT("obs_y", nu=nu, mu=mu, sigma=sigma, observed=y, dims="obs")
    return model


def _draws(compiled, cores: int, **data) -> dict:
    if data:
        compiled = compiled.with_data(**data)
    idata = nutpie.sample(
        compiled, draws=60, tune=60, chains=2, cores=cores, seed=7, progress_bar=False
    )
    post = idata.posterior
    return {k: post[k].values for k in ("mu", "sigma", "nu", "scale2")}


def test_pyfunc_model_draws_the_cfunc_routes_numbers_also_after_with_data():
    model = _model()
    ref = nutpie.compile_pymc_model(model)
    got = compile_pyfunc(model)
    assert got is not None and sampling_cores(got, 2) == 1 and sampling_cores(ref, 2) == 2
    new_y = np.linspace(-1.0, 1.5, 60)
    for data in ({}, {"y": new_y}):
        a, b = _draws(ref, 2, **data), _draws(got, sampling_cores(got, 2), **data)
        for name in a:
            assert np.array_equal(a[name], b[name]), (name, data.keys())
