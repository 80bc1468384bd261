"""The distribution parts of the default model (issue 11): volatility state, compensated jumps,
credit error correction, loadings on factor news, tariff surprises that partly reverse.

Each test runs the packaged default model through the engine on common random numbers, so
that a difference between two runs is the effect of the one thing changed.
"""

from __future__ import annotations

import numpy as np
import pytest

import simengine
from simengine.parts import build_scenario
from simengine.parts.returns import reversal_kernel
from simengine.structure import default_structure as model_structure
from tests.conftest import SCENARIOS

N = 1 << 14


REALISED = ("realised_vol_small_cap", "realised_vol_large_cap")


def _base(drop: tuple[str, ...] = (), **initial_changes) -> simengine.ScenarioSpec:
    """``base_2025h2`` with start-date states changed (``None``) or dropped (``drop``)."""
    spec = simengine.load_scenario(SCENARIOS / "base_2025h2.yaml")
    if not initial_changes and not drop:
        return spec
    initial = spec.initial.model_dump()
    initial.update(initial_changes)
    for key in (*drop, *(k for k, v in initial_changes.items() if v is None)):
        initial.pop(key, None)
    return spec.with_overrides(initial=initial)


def _summary(spec, n: int = N, seed: int = 3):
    return simengine.simulate(spec, n_paths=n, seed=seed).summary(wide=True).loc[spec.name]


# ----------------------------------------------------------------------------- volatility


def test_vix_35_widens_the_small_cap_distribution_by_at_least_30pct() -> None:
    base = _summary(_base())
    stressed = _summary(_base(REALISED, vix=35.0))  # a VIX-35 market: realised follows
    held = _summary(_base(vix=35.0))  # only the VIX moves, realised vol held at July's
    ratio = stressed.loc["small_cap", "std"] / base.loc["small_cap", "std"]
    assert ratio >= 1.3, ratio
    # the VIX alone still widens (the factor innovations follow the market's VIX curve)
    assert held.loc["small_cap", "std"] > 1.15 * base.loc["small_cap", "std"]
    assert stressed.loc["large_cap", "std"] > base.loc["large_cap", "std"]


def test_a_low_vix_narrows_and_no_vix_is_the_long_run_level() -> None:
    calm = _summary(_base(REALISED, vix=11.0))
    base = _summary(_base())
    long_run = _summary(_base(REALISED, vix=None))
    assert calm.loc["small_cap", "std"] < base.loc["small_cap", "std"]
    # July 2025 (VIX 17, below its mean since 1997) is calmer than the long-run level
    assert base.loc["small_cap", "std"] < long_run.loc["small_cap", "std"]


def test_without_a_vix_the_residual_part_is_the_constant_volatility_one(tmp_path) -> None:
    """vol_state with no VIX in the scenario == student_t: same draws, same numbers."""
    import yaml

    from simengine.params import default_model_path

    model = yaml.safe_load(default_model_path().read_text())
    model["parts"]["residuals"] = "student_t"
    model["residuals"].pop("vol_state")
    path = tmp_path / "constant.yaml"
    path.write_text(yaml.safe_dump(model, sort_keys=False))  # keep the asset order
    spec = _base(REALISED, vix=None)
    a = simengine.simulate(spec, n_paths=4096, seed=5).summary(wide=True)
    b = simengine.simulate(spec.with_overrides(model=str(path)), n_paths=4096, seed=5).summary(
        wide=True
    )
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


# ----------------------------------------------------------------------------- jumps


def test_squeezes_are_off_by_default_and_compensated_when_on() -> None:
    base = _summary(_base())
    assert base.loc["small_cap", "prob_squeeze"] == 0.0
    squeeze = simengine.load_scenario(SCENARIOS / "short_squeeze.yaml")
    on = _summary(squeeze, n=1 << 15)
    positioning = squeeze.positioning.model_dump() | {"squeeze": False}
    off = _summary(squeeze.with_overrides(positioning=positioning), n=1 << 15)
    assert on.loc["small_cap", "prob_squeeze"] > 0.3
    # compensated: the jumps move the mean log return by 0; the simple-return mean by the
    # convexity of the added variance only, well under the jumps' uncompensated +4pp
    gap = on.loc["small_cap", "mean"] - off.loc["small_cap", "mean"]
    se = on.loc["small_cap", "std"] / np.sqrt(1 << 15)
    assert abs(gap) < 0.01 + 4 * se, gap
    assert on.loc["small_cap", "q99"] > off.loc["small_cap", "q99"]  # fatter right tail
    assert on.loc["large_cap", "mean"] == off.loc["large_cap", "mean"]  # no loading


def test_the_mean_from_jumps_is_the_run_minus_the_same_paths_without_them() -> None:
    squeeze = simengine.load_scenario(SCENARIOS / "short_squeeze.yaml")
    positioning = squeeze.positioning.model_dump() | {"squeeze": False}
    off = squeeze.with_overrides(positioning=positioning, name="no-jumps")
    n = 1 << 18
    res = simengine.compare([off, squeeze], n_paths=n, seed=4, attribution=False)
    jumps = res.jump_means()
    means = res.summary(wide=True)["mean"]
    # exact: the same random numbers with the jumps off (one fixed-point rounding per sum)
    for series in ("small_cap", "large_cap", "pair"):
        own = means.loc[("short-squeeze", series)] - means.loc[("no-jumps", series)]
        assert jumps.loc["short-squeeze", series] == pytest.approx(own, abs=1e-12)
        assert jumps.loc["no-jumps", series] == 0.0  # a scenario without jumps
    assert jumps.loc["short-squeeze", "large_cap"] == 0.0  # no loading on large caps
    # analytic: compound Poisson N(m, s^2) jumps compensated by lambda m dt multiply
    # E[1 + R] by exp(lambda T (exp(m + s^2/2) - 1 - m))
    model = simengine.load_model("default")["jumps"]
    lam = float(model.base_intensity[0]) * squeeze.positioning.short_interest_bn / 8.0
    m, s = float(model.jump_mean[0]), float(model.jump_sd[0])
    years = float(np.sum(build_scenario(squeeze, model_structure()).grid.dt_years))
    factor = np.expm1(lam * years * (np.exp(m + s * s / 2.0) - 1.0 - m))
    expected = (1.0 + means.loc[("no-jumps", "small_cap")]) * factor
    se = 1.05 * np.sqrt(lam * years * (m * m + s * s)) / np.sqrt(n)  # sd of the per-path gap
    assert jumps.loc["short-squeeze", "small_cap"] == pytest.approx(expected, abs=4 * se)
    assert expected > 6 * se  # the test can tell the convexity from 0


def test_a_run_without_jumps_reports_none() -> None:
    res = simengine.simulate(_base(), n_paths=1024, seed=1)
    assert not res.has_jump_means and res.jump_means().empty


# ----------------------------------------------------------------------------- news


def test_an_announced_tariff_step_moves_no_price() -> None:
    base = _base()
    no_step = base.with_overrides(tariffs=[])
    a, b = _summary(base), _summary(no_step)
    for series in ("small_cap", "large_cap"):
        assert a.loc[series, "mean"] == pytest.approx(b.loc[series, "mean"], abs=1e-12)
        assert a.loc[series, "std"] == pytest.approx(b.loc[series, "std"], abs=1e-12)


def test_a_tariff_surprise_moves_prices_and_partly_reverses() -> None:
    base = _base()
    surprise = base.with_overrides(tariffs=[{"date": "2025-08-01", "level": 17.0}])
    a, b = _summary(base), _summary(surprise)
    model = simengine.load_model("default")
    p, m = model["returns"], model["dynamics"].m[0]
    exposures = model.structure.exposures
    dtau = 17.0 - 15.3
    for j, series in enumerate(("small_cap", "large_cap")):
        beta = p.beta[0, j]
        on_day = beta[exposures.index("tariff")] * dtau * (1.0 - float(p.reversal_share[0]))
        # the surprise's pass-through to inflation and growth is news too
        pass_through = sum(
            beta[exposures.index(f)] * m[k] * dtau for k, f in enumerate(model.structure.stochastic)
        )
        # the same shift on every path (common random numbers): the median moves by it exactly
        log_gap = np.log1p(b.loc[series, "median"]) - np.log1p(a.loc[series, "median"])
        assert log_gap == pytest.approx(on_day + pass_through, abs=2e-4), series
        assert log_gap < 0  # tariffs hurt


def test_reversal_kernel_adds_up_to_the_share_undone() -> None:
    dt = np.full(12, 1.0 / 12.0)
    k = reversal_kernel(dt, rate=2.0)  # half-life ~4 months
    assert np.allclose(np.triu(k, 1), 0.0)  # nothing reverses before the surprise
    undone = k[:, 0].cumsum()
    np.testing.assert_allclose(undone, 1.0 - np.exp(-2.0 * np.arange(1, 13) / 12.0))


def test_credit_level_changes_factor_paths_but_not_prices() -> None:
    """The error correction is known a month ahead: it moves the spread, not the indices."""
    low = simengine.simulate(_base(credit_level=3.0), n_paths=4096, seed=2)
    high = simengine.simulate(_base(credit_level=9.0), n_paths=4096, seed=2)
    credit_low = low.factor_mean().sel(factor="credit").values
    credit_high = high.factor_mean().sel(factor="credit").values
    assert (credit_low > 0).all() and (credit_high < 0).all()  # back towards ~5.2%
    np.testing.assert_allclose(
        low.summary(wide=True)["mean"].to_numpy(),
        high.summary(wide=True)["mean"].to_numpy(),
        atol=1e-12,
    )


def test_a_vix_outside_the_models_range_is_a_spec_error_at_its_line() -> None:
    from simengine.spec.loader import load_scenario_text

    text = (SCENARIOS / "base_2025h2.yaml").read_text().replace("vix: 17.16", "vix: 500")
    with pytest.raises(simengine.SpecError, match=r"initial.vix: received 500.*\[5.0, 150.0\]"):
        load_scenario_text(text)
    huge = (SCENARIOS / "base_2025h2.yaml").read_text().replace("vix: 17.16", "vix: " + "9" * 400)
    with pytest.raises(simengine.SpecError, match="expected a finite number"):
        load_scenario_text(huge)
