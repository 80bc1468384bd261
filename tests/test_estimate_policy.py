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


def test_the_policy_section_needs_a_growth_measure_that_responds(monkeypatch, tmp_path) -> None:
    """Without a growth measure with a significant negative response to the stance there is no
    growth channel to write: refused, not written as zero."""
    from simengine.data import estimate_policy as ep
    from simengine.exceptions import DataError

    est = {"reaction_function": {}, "path_pass_through": {}, "growth_channel": {"chosen": None}}
    monkeypatch.setattr(ep, "estimate_policy", lambda table, data_dir: est)
    with pytest.raises(DataError, match="no growth measure has a significant negative response"):
        ep.policy_section(pd.DataFrame(), tmp_path)


@pytest.mark.shared_data
def test_estimates_on_the_real_data_have_the_documented_signs() -> None:
    """The estimates' signs, and the packaged model file's policy section and its provenance are
    what :func:`policy_section` gives on the data (the section is reproducible)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA} does not exist")
    import yaml

    from simengine.data import build_table
    from simengine.data.estimate_policy import METHODS, POLICY_FILES, policy_section
    from simengine.params import default_model_path

    section, prov = policy_section(build_table(SHARED_DATA).frame, SHARED_DATA)
    slopes = prov["reaction_estimates"]["coefficients"]
    assert slopes["growth3"] > 0 and slopes["inflation3"] > 0 and slopes["credit1"] < 0
    growth = prov["growth_channel_estimates"]
    assert growth["chosen"] == "industrial_production"
    assert growth["industrial_production"]["gamma"] < 0
    assert 0.0 < prov["path_pass_through_estimates"]["value"] < 1.0
    packaged = yaml.safe_load(default_model_path().read_text())
    assert section == packaged["policy"]
    assert section["growth_channel"]["gamma"] == round(growth["industrial_production"]["gamma"], 5)
    assert set(prov["data_files"]) == set(POLICY_FILES) and prov["methods"] == METHODS
    assert prov["data_files"] == packaged["provenance"]["policy"]["data_files"]
