"""Scenario weighting: observed data update prior weights; the mixture follows."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

import simengine
from simengine.exceptions import DataError
from simengine.weighting import load_observations, scenario_loglik, weigh_scenarios
from tests.conftest import FIXTURES, SCENARIOS

MODEL = str(FIXTURES / "models" / "test_model.yaml")


def _spec(stem: str, **changes):
    return simengine.load_scenario(SCENARIOS / f"{stem}.yaml").with_overrides(
        model=MODEL, **changes
    )


def _obs(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns, index=pd.Index([date(2025, 7, 31)], name="date"))


def test_observed_decision_rules_out_a_scenario():
    hold = _spec("fed_no_cut")
    july_cut = _spec(
        "fed_no_cut", name="july-cut", fomc=({"meeting": date(2025, 7, 30), "change_bp": -25},)
    )
    out = weigh_scenarios(
        [hold, july_cut],
        _obs(policy_rate=[4.375]),
        {"fed-no-cut": 0.2, "july-cut": 0.8},
        n_paths=4096,
        seed=1,
    )
    assert out.table.loc["fed-no-cut", "posterior"] == pytest.approx(1.0)
    assert out.table.loc["july-cut", "posterior"] == 0.0
    assert out.table.loc["july-cut", "loglik"] == -np.inf
    # the mixture is then the surviving scenario's distribution
    med = out.comparison.summary(wide=True).loc[("fed-no-cut", "small_cap"), "median"]
    assert out.mixture.loc["small_cap", "median"] == pytest.approx(med, abs=1e-9)


def test_two_scenario_gaussian_case_matches_hand_computation():
    """A +0.5pp rates shock in July: observing the shocked scenario's mean favours it by
    exp((mu_b - mu_a)^2 / (2 sigma^2)) times the prior odds (equal variances)."""
    a = _spec("fed_no_cut", name="calm")
    b = _spec(
        "fed_no_cut",
        name="shock",
        shocks=({"factor": "rates", "date": date(2025, 7, 20), "size": 0.5},),
    )
    first = weigh_scenarios([a, b], _obs(rates=[0.0]), n_paths=4096, seed=2)
    paths = (
        first.comparison.dataset["sample_factors"].sel(factor="rates").values[:, :, 0]
    )  # (scenario, path)
    mu_a, mu_b = paths.mean(axis=1)
    assert mu_b - mu_a == pytest.approx(0.5, abs=1e-9)  # common random numbers: same shocks
    out = weigh_scenarios(
        [a, b], _obs(rates=[mu_b]), {"calm": 0.5, "shock": 0.5}, n_paths=4096, seed=2
    )
    var = paths[0].var(ddof=1)
    odds = np.exp((mu_b - mu_a) ** 2 / (2 * var))
    assert out.table.loc["shock", "posterior"] == pytest.approx(odds / (1 + odds), rel=1e-6)


def test_scenario_loglik_discrete_and_continuous_parts():
    rng = np.random.default_rng(0)
    paths = np.zeros((1000, 2, 6))
    paths[:500, 0, 0] = 4.375  # half the paths hold ...
    paths[500:, 0, 0] = 4.125  # ... half cut
    paths[:, 0, 2] = rng.normal(0.0, 0.2, 1000)  # rates
    ll, share = scenario_loglik(paths, [(0, 0, 4.375), (0, 2, 0.1)])
    x = paths[:500, 0, 2]
    expected = (
        np.log(0.5)
        - 0.5 * np.log(2 * np.pi * x.var(ddof=1))
        - (0.1 - x.mean()) ** 2 / (2 * x.var(ddof=1))
    )
    assert share == 0.5 and ll == pytest.approx(expected, rel=1e-6)


def test_observations_file_errors(tmp_path):
    bad = tmp_path / "obs.csv"
    bad.write_text("when,rates\n2025-07-31,0.1\n")
    with pytest.raises(DataError, match="'date' column"):
        load_observations(bad)
    bad.write_text("date,ratez\n2025-07-31,0.1\n")
    with pytest.raises(DataError, match="unknown columns"):
        load_observations(bad)
    off_grid = _obs(rates=[0.1]).rename(index={date(2025, 7, 31): date(2025, 8, 15)})
    with pytest.raises(DataError, match="not a step end"):
        weigh_scenarios(
            [_spec("fed_no_cut"), _spec("fed_cut_september")], off_grid, n_paths=4096, seed=1
        )
