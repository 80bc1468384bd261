"""Finding 6 of issue 14: every accepted scenario gives coherent risk numbers.

Property test over generated scenarios (hypothesis, fixed profile): asset returns never below
-100% (quantiles, VaR and ES at most a 100% loss, index levels never negative), ES >= VaR,
quantiles in order, the mean inside the range of the simulated values.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simengine import api, stats
from simengine.exceptions import LimitError, NumericalError, SpecError
from simengine.spec import load_scenario_text

from .conftest import BASE

QUANTILE_COLUMNS = ["q01", "q05", "q25", "median", "q75", "q95", "q99"]
FACTOR = st.sampled_from(["rates", "growth", "inflation", "credit"])
SIZE = st.floats(-100.0, 100.0, allow_nan=False)
MONTH_ENDS = ["2025-08-29", "2025-09-30", "2025-10-31", "2025-11-28"]
MEETINGS = ["2025-09-17", "2025-10-29", "2025-12-10"]


@st.composite
def scenarios(draw) -> str:
    """YAML of a scenario extending the base, with extreme but accepted values."""
    lines = ["allow_any_bp: true"]
    shocks = draw(st.lists(st.tuples(FACTOR, st.sampled_from(MONTH_ENDS), SIZE), max_size=3))
    if shocks:
        lines.append("shocks:")
        lines += [f"  - {{factor: {f}, date: {d}, size: {s!r}}}" for f, d, s in shocks]
    pins = draw(st.dictionaries(FACTOR, st.tuples(st.sampled_from(MONTH_ENDS), SIZE), max_size=2))
    if pins:
        lines.append("pins:")
        lines += [f"  - {{factor: {f}, values: {{{d}: {v!r}}}}}" for f, (d, v) in pins.items()]
    bp = draw(st.lists(st.tuples(st.sampled_from(MEETINGS), st.integers(-1000, 1000)),
                       max_size=3, unique_by=lambda x: x[0]))  # fmt: skip
    if bp:
        lines.append("fomc:")
        lines += [f"  - {{meeting: {m}, change_bp: {c}}}" for m, c in bp]
    si = draw(st.none() | st.floats(0.0, 1000.0, allow_nan=False))
    if si is not None:
        lines.append(f"positioning: {{short_interest_bn: {si!r}}}")
    return "\n".join(lines) + "\n"


def _check(result) -> None:
    summary, levels = result.summary(wide=True), result.levels()
    ds = result.dataset
    assets = [s for s in result.series if s != "pair"]
    q = summary[QUANTILE_COLUMNS].to_numpy()
    assert np.all(np.diff(q, axis=1) >= -1e-12), "quantiles out of order"
    assert np.all(summary["es_95"] >= summary["var_95"] - 1e-12)
    assert np.all(summary["es_99"] >= summary["var_99"] - 1e-12)
    a = (
        summary.xs(assets[0], level="series")
        if len(assets) == 1
        else summary.loc[(slice(None), assets), :]
    )
    assert np.all(a[QUANTILE_COLUMNS].to_numpy() >= -1.0), "a loss beyond 100% on a long asset"
    assert np.all(a[["var_95", "var_99", "es_95", "es_99"]].to_numpy() <= 1.0)
    assert np.all(a["mean"] >= -1.0)
    assert np.all(levels.loc[(slice(None), assets), :].drop(columns="start_level").to_numpy() >= 0)
    # the mean lies inside the range of the simulated values (the non-empty terminal bins)
    edges = np.concatenate([[-stats.FINE.limit], stats.FINE.edges, [stats.FINE.limit]])
    counts = ds["term_count"].values[0]
    for i, series in enumerate(result.series):
        nz = np.nonzero(counts[i])[0]
        low, high = edges[max(nz[0] - 1, 0)], edges[min(nz[-1], edges.size - 1)]
        mean = summary.loc[(result.scenarios[0], series), "mean"]
        assert low - 1e-9 <= mean <= high + 1e-9, (series, low, mean, high)


@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(scenarios())
def test_f6_risk_numbers_are_coherent_for_every_accepted_scenario(text: str) -> None:
    try:
        spec = load_scenario_text(
            f"extends: {BASE.name}\nname: gen\n{text}", source=str(BASE.parent / "gen.yaml")
        )
    except SpecError:
        return  # refused with a message: fine
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = api.simulate(spec, n_paths=4096, seed=3, n_sample=8)
        except (NumericalError, LimitError) as err:  # loud, never a wrong number
            assert "limit" in str(err) or "non-finite" in str(err)
            return
    _check(result)


@pytest.mark.parametrize(
    "text",
    [
        "shocks: [{factor: credit, date: 2025-08-15, size: 100}]\n",
        "pins: [{factor: credit, values: {2025-08-31: 100, 2025-09-30: -100}}]\n",
        "allow_any_bp: true\nfomc: [{meeting: 2025-09-17, change_bp: 1000}]\n",
    ],
)
def test_f6_the_reported_scenarios_are_coherent(text: str) -> None:
    spec = load_scenario_text(
        f"extends: {BASE.name}\nname: rep\n{text}", source=str(BASE.parent / "rep.yaml")
    )
    _check(api.simulate(spec, n_paths=8192, seed=1, n_sample=8))
