"""Attribution switches and the reuse of a full run (simengine.attribution), exact checks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simengine.api import load_params_for
from simengine.attribution import CHANNEL_ORDER, attribute, mean_differences, switch_off
from simengine.parts import build_scenario
from simengine.simulate import RunConfig, run_scenarios
from simengine.spec import load_scenario
from tests.conftest import SCENARIOS, packaged_policy

PAIR = (SCENARIOS / "fed_cut_september.yaml", SCENARIOS / "fed_cut_october.yaml")
STRONG = "fed_cut_september_strong_data.yaml"


@pytest.fixture(scope="module")
def model():
    specs = [load_scenario(p) for p in PAIR]
    params = load_params_for(specs[0])
    return [build_scenario(s, params.structure) for s in specs], params, packaged_policy(params)


def _changed(before, after) -> dict[str, list[str]]:
    """Which fields of which parts differ between two ModelParams."""
    out = {}
    for role, value in before.values.items():
        other = after.values[role]
        if value is None:
            continue
        fields = [
            f.name
            for f in dataclasses.fields(value)
            if isinstance(getattr(value, f.name), np.ndarray)
            and not np.array_equal(getattr(value, f.name), getattr(other, f.name))
        ]
        if fields:
            out[role] = fields
    return out


def test_each_switch_zeroes_exactly_its_own_parameters(model) -> None:
    _, params, policy = model
    structure = params.structure.exposures
    expected = {
        "announcement": {},
        "repricing": {},
        "growth": {"returns": ["beta"]},
        "carry": {"returns": ["kappa"]},
        "credit": {"returns": ["beta"]},
        "tariff": {"returns": ["beta"], "dynamics": ["m"]},
        "volatility": {"residuals": ["sigma"]},
        "jumps": {"jumps": ["base_intensity"]},
    }
    for channel in CHANNEL_ORDER:
        p, pol = switch_off(channel, params, policy)
        assert _changed(params, p) == expected[channel], channel
        for role, fields in expected[channel].items():
            for f in fields:
                new = getattr(p[role], f)
                if f == "beta":  # only the channel's exposure column goes to zero
                    k = structure.index(channel)
                    assert np.all(new[..., k] == 0.0)
                    keep = np.delete(new, k, axis=-1)
                    np.testing.assert_array_equal(keep, np.delete(params[role].beta, k, axis=-1))
                else:
                    assert np.all(new == 0.0) and new.shape == getattr(params[role], f).shape
        off = {"announcement", "repricing", "growth"} & {channel}
        assert pol.off == frozenset(off), channel


def test_an_unknown_channel_names_the_known_ones(model) -> None:
    _, params, policy = model
    with pytest.raises(ValueError, match=r"unknown channel 'rates'; expected one of \('annou"):
        switch_off("rates", params, policy)


def test_a_given_full_run_is_reused_and_the_total_is_its_mean_difference(model) -> None:
    scns, params, policy = model
    cfg = RunConfig(n_paths=4096, seed=13, n_sample=0)
    full = run_scenarios(scns, params, cfg, policy=policy)
    contrib, total = attribute(scns, params, cfg, policy, full=full)
    np.testing.assert_array_equal(total, mean_differences(full))
    np.testing.assert_allclose(contrib.sum(axis=-1), total, rtol=0, atol=1e-12)
    # a different full run (another seed) is what the split starts from: D_0 moves with it
    other = run_scenarios(scns, params, RunConfig(4096, seed=14, n_sample=0), policy=policy)
    contrib_o, total_o = attribute(scns, params, cfg, policy, full=other)
    np.testing.assert_array_equal(total_o, mean_differences(other))
    np.testing.assert_array_equal(contrib_o[..., 1:], contrib[..., 1:])
    assert not np.array_equal(contrib_o[..., 0], contrib[..., 0])
    # without one it simulates the same run itself
    contrib_s, total_s = attribute(scns, params, cfg, policy)
    np.testing.assert_array_equal(total_s, total)
    np.testing.assert_array_equal(contrib_s, contrib)


def test_a_growth_drift_reaches_the_assets_through_growth_not_credit() -> None:
    """A drift holds the factors it does not name where they are (the offsets ``-(A - diag A)
    shift`` are known, not news): strong data against the plain September cut move the assets
    through growth, and not at all through credit. Counting the offsets as news put -0.67pp
    on small caps through credit."""
    specs = [load_scenario(SCENARIOS / f) for f in (PAIR[0].name, STRONG)]
    params = load_params_for(specs[0])
    scns = [build_scenario(s, params.structure) for s in specs]
    cfg = RunConfig(n_paths=4096, seed=13, n_sample=0)
    contrib, total = attribute(scns, params, cfg, packaged_policy(params))
    credit, growth = CHANNEL_ORDER.index("credit"), CHANNEL_ORDER.index("growth")
    np.testing.assert_allclose(contrib[0, :, credit], 0.0, rtol=0, atol=1e-12)
    assert np.all(np.abs(contrib[0, :2, growth]) > 5e-4)  # the drift's own news, both assets
