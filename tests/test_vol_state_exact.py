"""The volatility-state residual part against its formulas (simengine.parts.vol_state)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from simengine.api import load_params_for
from simengine.parts.vol_state import VolState, _realised_state, variance_ratio
from simengine.spec import load_scenario
from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def part_and_params():
    params = load_params_for(load_scenario(SCENARIOS / "base_2025h2.yaml"))
    part = params.parts["residuals"]
    assert isinstance(part, VolState)
    return part, params["residuals"]


def test_variance_ratio_is_the_fitted_curve_held_at_its_last_month() -> None:
    """``exp(a_k + b_k log VIX + c_k log RVS) smear_k / mean_rv``, ``k`` capped at the last."""
    a, b, c = np.array([[0.1, -0.2]]), np.array([[0.5, 0.3]]), np.array([[0.2, 0.4]])
    smear, mean_rv, vix, rvs = np.array([[1.1, 1.3]]), np.array([0.02]), 20.0, np.array([0.004])
    got = variance_ratio(a, b, smear, mean_rv, vix, 4, c, rvs)
    k = np.array([0, 1, 1, 1])
    want = np.exp(a[0, k] + b[0, k] * np.log(vix) + c[0, k] * np.log(rvs[0])) * smear[0, k] / 0.02
    np.testing.assert_allclose(got[0], want, rtol=1e-13)
    # the realised term needs both its coefficient and the state
    no_rv = np.exp(a[0, k] + b[0, k] * np.log(vix)) * smear[0, k] / 0.02
    np.testing.assert_allclose(variance_ratio(a, b, smear, mean_rv, vix, 4, c, None)[0], no_rv)
    np.testing.assert_allclose(variance_ratio(a, b, smear, mean_rv, vix, 4, None, rvs)[0], no_rv)


def test_the_variance_level_has_mean_one_and_scales_the_factors(part_and_params) -> None:
    """``L = exp(s z - s^2 / 2)`` (E L = 1) and the factor scale ``sqrt(w_k L)``."""
    part, p = part_and_params
    scn = SimpleNamespace(states={"vix": 25.0}, n_months=6)
    z = np.array([[-1.0], [0.0], [2.0]])
    s = float(p.mixing_sd[0])
    assert s > 0
    level = part.level(scn, {"vol_level": z}, p)
    np.testing.assert_allclose(level, np.exp(s * z - 0.5 * s * s), rtol=1e-14)
    w = variance_ratio(p.m_int, p.m_vix, p.m_smear, p.m_mean, 25.0, 6)
    scale = part.factor_scale(scn, {"vol_level": z}, p)
    np.testing.assert_allclose(scale, np.sqrt(w * level), rtol=1e-14)
    assert part.level(SimpleNamespace(states={}, n_months=6), {"vol_level": z}, p) == 1.0


def test_realised_vol_given_in_percent_is_a_monthly_variance_else_the_vix_implies_it(
    part_and_params,
) -> None:
    part, p = part_and_params
    assets = part.structure.asset_names
    given = SimpleNamespace(states={f"realised_vol_{assets[0]}": 20.0})
    rv = _realised_state(given, p, 25.0, assets)
    assert rv[0, 0] == pytest.approx(0.2**2 / 12.0, rel=1e-14)
    implied = np.exp(p.g_int + p.g_slope * np.log(25.0)) * p.g_smear
    np.testing.assert_allclose(rv[:, 1:], implied[:, 1:], rtol=1e-14)
    assert not np.isclose(implied[0, 0], rv[0, 0])


def test_per_path_correlations_mix_each_paths_shocks(part_and_params) -> None:
    """With one Cholesky factor per path (posterior draws) the residual is ``L_m e_t`` per path,
    the same as the shared factor when every path has the same one."""
    part, p = part_and_params
    rng = np.random.default_rng(3)
    n, N = 3, p.sigma.shape[1]
    scn = SimpleNamespace(
        states={}, n_months=2, grid=SimpleNamespace(step_month=np.array([0, 0, 1]))
    )
    eps = rng.standard_normal((n, 3, N))
    chol = np.tril(rng.standard_normal((n, N, N)))
    per_path = type(p)(**{**p.__dict__, "chol": chol, "sigma": np.ones((1, N))})
    r = np.zeros((n, 3, N))
    dt = np.array([0.5, 1.0, 2.0])
    part.add(r, {"asset": eps}, dt, per_path, scn)
    want = np.einsum("maj,mtj->mta", chol, eps) * np.sqrt(dt)[None, :, None]
    np.testing.assert_allclose(r, want, rtol=1e-13)
