"""Bayesian runs read parameters per posterior draw, not per path: the same numbers (issue 13).

The kernel route computes what depends only on a path's draw once per draw and gathers it
(the drive of the factor loop, the drift, the expected state, the state variance), contracts
the innovations with each draw's Cholesky factor, and gathers a part's per-path fields only
when they are read. Every test compares with the per-path formulation exactly.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import simengine
from simengine.kernel import LANE_LENGTHS
from tests.conftest import SCENARIOS


def _params():
    from simengine.api import load_params_for

    spec = simengine.load_scenario(SCENARIOS / "fed_cut_september.yaml")
    return load_params_for(spec, "bayesian")


def test_take_gathers_each_field_on_first_read_with_the_eager_values():
    params = _params()
    draw = np.random.default_rng(1).integers(0, params.n_draws, 500)
    for role, values in params.values.items():
        if values is None:
            continue
        lazy = values.take(draw)
        assert type(lazy) is type(values)
        assert not any(name in lazy.__dict__ for name in values.arrays()), role  # nothing yet
        for name, full in values.arrays().items():
            assert np.array_equal(getattr(lazy, name), full[draw]), (role, name)
        assert getattr(lazy, "not_a_field", None) is None
    dyn = params.values["dynamics"].take(draw)
    moved = replace(dyn, c=np.zeros_like(dyn.c))  # a plain instance with the other fields
    assert np.array_equal(moved.A, params.values["dynamics"].A[draw])
    assert params.values["dynamics"].take(None) is params.values["dynamics"]


@pytest.mark.parametrize("K", LANE_LENGTHS)
def test_innovations_per_draw_equal_the_per_path_einsum(K):
    from simengine.kernel import innovations

    rng = np.random.default_rng(K)
    n, M, D = 3000, 7, 40
    eps, chol = rng.standard_normal((n, M, K)), np.tril(rng.standard_normal((D, K, K)))
    draw = rng.integers(0, D, n)
    got = innovations(eps, chol, draw, np.empty((n, M, K)))
    assert np.array_equal(got, np.einsum("nmj,nij->nmi", eps, chol[draw]))


def test_var_month_rows_per_draw_equal_rows_per_path():
    from simengine.kernel import var_month

    rng = np.random.default_rng(2)
    n, M, K, D = 2000, 6, 4, 30
    draw = rng.integers(0, D, n)
    A = 0.3 * rng.standard_normal((D, K, K))
    base, gap = rng.standard_normal((D, M, K)), rng.standard_normal((D, K))
    neutral, rho = rng.standard_normal(D), 0.01 * rng.standard_normal((D, K))
    u, z0 = rng.standard_normal((n, M, K)), rng.standard_normal((1, K))
    p_before, growth, level = (
        rng.standard_normal(n),
        rng.standard_normal(n),
        rng.standard_normal((n, K)),
    )
    out = []
    for rows, index in (
        ((A, base, gap, neutral, rho), draw),
        ((A[draw], base[draw], gap[draw], neutral[draw], rho[draw]), np.zeros(0, np.int64)),
    ):
        z = np.zeros((n, M, K))
        a, b, g, nt, r = rows
        for m in range(M):
            var_month(z, m, z0, u, b, g, p_before, nt, 1, growth, r, level, a, index)
        out.append(z)
    assert np.array_equal(out[0], out[1])


@pytest.mark.parametrize("name", ["fed_cut_september_strong_data", "tariff_escalation"])
def test_bayesian_run_over_many_chunks_equals_the_numpy_route(monkeypatch, name):
    """Per-draw inputs kept across chunks and threads: the reference route's numbers."""
    spec = simengine.load_scenario(SCENARIOS / f"{name}.yaml")
    out = []
    for flag, kw in (("0", {}), ("1", {"chunk_size": 4096, "threads": 2})):
        monkeypatch.setenv("SIMENGINE_KERNEL", flag)
        run = simengine.simulate(spec, n_paths=3 * 4096 + 100, seed=5, method="bayesian", **kw)
        out.append(run.summary(wide=True))
    assert out[1].equals(out[0])


def test_factor_variance_per_draw_gathered_is_the_per_path_one():
    """The engine gathers the residual part's factor variance from its per-draw values
    (``_PerPath.gather``): the part computes it row by row, so this is the per-path result."""
    from simengine.api import load_params_for
    from simengine.parts import build_scenario
    from simengine.simulate import _PerPath

    spec = simengine.load_scenario(SCENARIOS / "fed_cut_september.yaml")
    params = load_params_for(spec, "bayesian")
    scn = build_scenario(spec, params.structure)
    part, values = params.parts["residuals"], params.values["residuals"]
    draw = np.random.default_rng(4).integers(0, params.n_draws, 700)
    pp = _PerPath(params, draw)
    per_draw = part.factor_variance(scn, values)
    assert per_draw is not None and per_draw.shape[0] == params.n_draws
    assert np.array_equal(pp.gather(per_draw), part.factor_variance(scn, pp["residuals"]))
    assert _PerPath(params, None).gather(per_draw) is per_draw
