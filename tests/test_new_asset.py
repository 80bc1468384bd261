"""A third asset (S&P 500) added to a copy of the default model by changing only the model file
(its ``assets`` entry with the ``data`` mapping, and the residual correlations): the data layer
fits it from the file it names and the engine simulates it with no code change."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import simengine
from simengine.data import build_table
from simengine.data.fit import (
    CARRY_PRIOR,
    SAMPLE,
    tariff_events,
)
from simengine.data.fit_distribution import (
    MarketData,
    drift,
    fit_news_assets,
    fit_var_ecm,
    given_state_ratios,
    residual_scale,
    vol_state_section,
)
from simengine.data.loaders import read_index_csv
from simengine.spec.model_file import ModelFile
from simengine.structure import ModelStructure, default_model_path

from .conftest import SCENARIOS

NEW = "sp500"
# Bernanke & Kuttner (2005, J. Finance 60): an unexpected 25bp cut lifts broad US stocks
# (a value-weighted index, like the S&P 500) about 1%: -0.04 log return per pp of surprise.
SURPRISE_TOTAL_BROAD = -0.04


def _model_with_new_asset(data_dir: Path) -> dict:
    """The default model file's data with an S&P 500 entry whose numbers are fitted from the
    file the entry names (same sample and method as the packaged assets)."""
    model = copy.deepcopy(yaml.safe_load(default_model_path().read_text()))
    rel = "equity/SPX_index_daily.csv"
    model["assets"][NEW] = {
        "label": "S&P 500",
        "index": "SPX",
        "data": rel,
        "start_level": float(read_index_csv(data_dir / rel)["Close"].iloc[-1]),
    }
    structure = ModelStructure.from_model_file(ModelFile.model_validate(model))
    table = build_table(data_dir, "monthly", end=SAMPLE[1], structure=structure)
    tariff = tariff_events(data_dir, structure)
    # large-cap carry prior (S&P 500 firms' floating-debt share is like the Nasdaq-100's)
    prior = {**CARRY_PRIOR, NEW: CARRY_PRIOR["large_cap"]}
    market = MarketData.load(data_dir, structure).cut(pd.Timestamp(f"{SAMPLE[1]}-30"))
    var = fit_var_ecm(table.frame, market.levels, SAMPLE, structure)
    fit = fit_news_assets(table.frame, var["innovations"], tariff, prior, SAMPLE, structure)
    b, k = fit[NEW]["map"], len(structure.stochastic)
    mu = drift(table.frame, market, {NEW: 12.0 * b[0]}, SAMPLE, structure.select_assets([NEW]))
    new_only = structure.select_assets([NEW])
    vol = vol_state_section(market, SAMPLE, new_only)
    # sigma given the state and its slow level, as the packaged assets have them
    scale = residual_scale(fit, given_state_ratios(fit, var, market, vol, new_only), new_only)
    vol["per_asset"][NEW]["level"] = scale[NEW]["level"]
    model["residuals"]["vol_state"]["per_asset"][NEW] = vol["per_asset"][NEW]
    model["assets"][NEW].update(
        mu=mu[NEW]["mu"],
        kappa=float(-12.0 * b[1 + k]),
        beta={
            **dict(zip(structure.stochastic, map(float, b[1 : 1 + k]), strict=True)),
            "tariff": tariff[NEW][0],
        },
        sigma=scale[NEW]["sigma"],
        announcement_total=SURPRISE_TOTAL_BROAD,
    )
    names = structure.asset_names
    corr = model["residuals"]["corr"]
    for i, a in enumerate(names[:-1]):
        corr.setdefault(a, {})[NEW] = float(fit["corr"][i, names.index(NEW)])
    return model


@pytest.mark.shared_data
def test_third_asset_needs_only_the_model_file(shared_data: Path, tmp_path: Path) -> None:
    path = tmp_path / "model_with_sp500.yaml"
    path.write_text(yaml.safe_dump(_model_with_new_asset(shared_data), sort_keys=False))
    spec = simengine.load_scenario(SCENARIOS / "base_2025h2.yaml").with_overrides(
        model=str(path), assets=("small_cap", "large_cap", NEW)
    )
    res = simengine.simulate(spec, n_paths=8192, seed=5, n_sample=4096)
    assert list(res.series) == ["small_cap", "large_cap", NEW, "pair"]
    summary = res.summary(wide=True).loc["base-2025h2"]
    # the broad index is less volatile than the Nasdaq-100 and moves with it
    assert summary.loc[NEW, "std"] < summary.loc["large_cap", "std"]
    paths = res.dataset["sample_returns"].values[0, :, -1]  # (path, series) at the horizon
    assert np.corrcoef(paths[:, 1], paths[:, 2])[0, 1] > 0.6
    # the pair keeps its distribution (within Monte Carlo error: with three assets the
    # residual draws are laid out differently)
    base = simengine.simulate(spec.with_overrides(assets=("small_cap", "large_cap")), 8192, 5)
    assert summary.loc["pair", "mean"] == pytest.approx(
        base.summary(wide=True).loc[("base-2025h2", "pair"), "mean"], abs=0.02
    )
