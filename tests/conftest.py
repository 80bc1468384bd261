"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SCENARIOS = ROOT / "scenarios"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Scenario files written to tmp_path extend the library in ROOT/scenarios and use the test
# model in tests/fixtures: allow the project explicitly (tests of the confinement unset it).
os.environ.setdefault("SIMENGINE_ALLOW_PATHS", str(ROOT))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data folder ``../shared/data``; skips the test when it is absent."""
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(
            f"real data not available: {SHARED_DATA} does not exist (tests on fixtures still run)"
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def default_fit(shared_data: Path) -> dict:
    """The default model's least-squares inputs on the real data, fitted as
    ``scripts/fit_default_model.py`` fits them: ``market``, ``var``, ``fit``, ``vol`` (and the
    monthly ``table`` they were fitted on)."""
    import pandas as pd

    from simengine.data import build_table
    from simengine.data.fit import CARRY_PRIOR, SAMPLE, tariff_events
    from simengine.data.fit_distribution import (
        MarketData,
        fit_news_assets,
        fit_var_ecm,
        vol_state_section,
    )

    table = build_table(shared_data, frequency="monthly", end=SAMPLE[1]).frame
    market = MarketData.load(shared_data).cut(pd.Period(SAMPLE[1], "M").end_time.normalize())
    var = fit_var_ecm(table, market.levels, SAMPLE)
    fit = fit_news_assets(
        table, var["innovations"], tariff_events(shared_data), CARRY_PRIOR, SAMPLE
    )
    vol = vol_state_section(market, SAMPLE)
    return {"market": market, "var": var, "fit": fit, "vol": vol, "table": table}


def packaged_policy(params):
    """The packaged policy part's parameters for ``params`` (what ``simengine.simulate`` uses)."""
    from simengine.policy_model import policy_params

    return policy_params(params)
