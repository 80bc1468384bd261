"""Estimators of the policy part: parameter recovery on data simulated from known values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simengine.data.estimate_policy import ordered_probit, path_pass_through
from tests.conftest import SHARED_DATA


def test_ordered_probit_recovers_known_slopes_and_cutpoints() -> None:
    rng = np.random.default_rng(0)
    n, beta, cuts = 4000, np.array([1.2, -0.4]), np.array([-1.5, -0.5, 0.8, 2.0])
    x = rng.standard_normal((n, 2))
    latent = x @ beta + rng.standard_normal(n)
    y = np.searchsorted(cuts, latent)
    fit = ordered_probit(y, x, 5)
    assert np.all(np.abs(fit["beta"] - beta) < 4 * fit["beta_se"])
    np.testing.assert_allclose(fit["cuts"], cuts, atol=0.15)


def test_path_pass_through_recovers_momentum() -> None:
    """Decisions whose surprises carry a known share into the next decision."""
    rng = np.random.default_rng(1)
    n, lam = 3000, 0.4
    spread = rng.standard_normal(n)
    surprise = 0.1 * rng.standard_normal(n)
    decision = np.zeros(n)
    for j in range(n):
        carry = lam * surprise[j - 1] if j else 0.0
        decision[j] = 0.05 * spread[j] + carry + surprise[j]
    frame = pd.DataFrame(
        {
            "decision": decision,
            "spread": spread,
            "decision_prev": np.roll(decision, 1),
            "dy2": surprise + 0.01 * rng.standard_normal(n),
        },
        index=pd.date_range("2000-01-01", periods=n, freq="D"),
    ).iloc[1:]
    est = path_pass_through(frame)
    assert est["value"] == pytest.approx(lam, abs=4 * est["standard_error"] + 0.05)


@pytest.mark.shared_data
def test_estimates_on_the_real_data_have_the_documented_signs() -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA} does not exist")
    from simengine.data import build_table
    from simengine.data.estimate_policy import estimate_policy

    est = estimate_policy(build_table(SHARED_DATA).frame, SHARED_DATA)
    slopes = est["reaction_function"]["coefficients"]
    assert slopes["growth3"] > 0 and slopes["inflation3"] > 0 and slopes["credit1"] < 0
    assert est["growth_channel"]["chosen"] == "industrial_production"
    assert est["growth_channel"]["industrial_production"]["gamma"] < 0
    assert 0.0 < est["path_pass_through"]["value"] < 1.0
