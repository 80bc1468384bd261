"""Exact checks of the factor loop with the policy part (simengine.policy_paths).

Written against surviving mutants: each test replays a formula from fixed inputs (the VAR
recursion with error correction, pins and 2-year level pins; the 2-year level conditions; the
decision-as-information signal against scipy's truncated normal mean) instead of statistics.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from scipy import stats

from simengine.policy import (
    DECISION_STEPS_PP,
    PolicyParams,
    PolicyRun,
    ReactionFunction,
    meeting_plan,
    state_weights,
)
from simengine.policy_paths import (
    FactorInputs,
    _loop,
    _signal,
    decision_conditions,
    yield_level_conditions,
)

INDEX = {"rates": 0, "growth": 1, "inflation": 2, "credit": 3}
DAYS = (date(2025, 9, 17), date(2025, 10, 29))
M, K = 6, 4


def _plan(fixed, conditional=None, priced=None, level_target=None):
    return meeting_plan(
        DAYS,
        np.array([2, 3]),
        np.array([2, 3]),
        np.asarray(fixed, float),
        np.array([-0.15, -0.10]),
        DAYS,
        conditional=conditional,
        priced=priced,
        level_target=level_target,
    )


def _params(gamma: float = -0.05, slopes=(0.6, 0.3, -0.4)) -> PolicyParams:
    rule = ReactionFunction(np.array(slopes), np.array([-1.86, -1.27, 1.24, 2.71]))
    return PolicyParams(0.3, rule, gamma, np.zeros(2), growth_lags=(1, 2))


def _policy_run(n: int, plan, params=None, state_var=None, z0=None) -> PolicyRun:
    z0 = np.zeros((1, K)) if z0 is None else z0
    params = _params() if params is None else params
    return PolicyRun(plan, params, 4.375, n, M, z0, INDEX, None, state_var=state_var)


def _inputs(n_draws: int, rng: np.random.Generator, **kw) -> FactorInputs:
    A = 0.3 * rng.standard_normal((n_draws, K, K))
    chol = np.tril(rng.standard_normal((n_draws, K, K)))
    args = dict(
        z0=rng.standard_normal((1, K)),
        base=rng.standard_normal((1, M, K)),
        A=A,
        chol=chol,
        gap=np.array([[0.2, 0.0, -0.1, 0.05]]),
        neutral=np.array([3.0]),
        pin_mask=np.zeros((M, K), bool),
        pin_value=np.zeros((M, K)),
        factor_index=INDEX,
    )
    args.update(kw)
    return FactorInputs(**args)


def _reference_loop(fi: FactorInputs, u: np.ndarray, run: PolicyRun) -> np.ndarray:
    """The loop's equation written out path by path (runs after ``_loop``: levels are final)."""
    n = u.shape[0]
    z = np.zeros_like(u)
    for i in range(n):
        A = fi.A[0] if fi.A.shape[0] == 1 else fi.A[i]
        prev = np.broadcast_to(fi.z0, (n, K))[i].copy()
        level = None if fi.rho is None else np.broadcast_to(fi.level0, (n, K))[i].copy()
        for m in range(M):
            p_before = run.level_month[i, m - 1] if m > 0 else run.p0
            zm = A @ prev + fi.base[0, m] + fi.gap[0] * (p_before - fi.neutral[0]) + u[i, m]
            zm[INDEX["growth"]] += np.broadcast_to(run.growth_term(m), (n,))[i]
            if level is not None:
                zm += fi.rho[0] * level
            zm[fi.pin_mask[m]] = fi.pin_value[m, fi.pin_mask[m]]
            for month, y2 in fi.yield_2y_pins:
                if month == m:
                    policy = run.dy2_by_month[i, : m + 1].sum()
                    zm[0] = y2 - fi.yield_2y0 - z[i, :m, 0].sum() - policy
            z[i, m] = zm
            prev = zm
            if level is not None:
                level = level + zm
    return z


@pytest.mark.parametrize("n_draws", [1, 3])
def test_loop_replays_the_var_recursion_with_error_correction_and_pins(n_draws: int) -> None:
    """``z_m = A z_{m-1} + rho S_{m-1} + base_m + gap (p_{m-1} - n) + growth + u_m`` with pins
    applied before the level update; per-path ``A`` when there is one per path."""
    rng = np.random.default_rng(5)
    n = 3
    pin_mask = np.zeros((M, K), bool)
    pin_mask[1, 2] = pin_mask[4, 3] = True
    pin_value = np.where(pin_mask, 0.7, 0.0)
    fi = _inputs(
        n_draws,
        rng,
        pin_mask=pin_mask,
        pin_value=pin_value,
        rho=np.array([[0.0, 0.0, -0.05, -0.2]]),
        level0=np.array([[0.0, 0.0, 1.5, -2.0]]),
        yield_2y_pins=((3, 3.4),),
        yield_2y0=3.88,
    )
    u = rng.standard_normal((n, M, K))
    run = _policy_run(n, _plan([-0.25, -0.25]))
    z = _loop(fi, u, run)
    np.testing.assert_allclose(z, _reference_loop(fi, u, run), rtol=0, atol=1e-12)
    # the pins hold exactly, the 2-year level (policy component included) too
    assert np.all(z[:, 1, 2] == 0.7) and np.all(z[:, 4, 3] == 0.7)
    y2 = 3.88 + z[:, :4, 0].sum(axis=1) + run.dy2_by_month[:, :4].sum(axis=1)
    np.testing.assert_allclose(y2, 3.4, rtol=0, atol=1e-12)
    # the policy rate enters from the month after each decision
    assert run.level_month[0, 1] == 4.375 and run.level_month[0, 2] == 4.125


def test_loop_without_error_correction_ignores_the_start_levels() -> None:
    rng = np.random.default_rng(6)
    u = rng.standard_normal((2, M, K))
    plain = _inputs(1, rng)
    zero_rho = FactorInputs(
        **{**plain.__dict__, "rho": np.zeros((1, K)), "level0": np.ones((1, K))}
    )
    run_a, run_b = _policy_run(2, _plan([0.0, -0.25])), _policy_run(2, _plan([0.0, -0.25]))
    np.testing.assert_array_equal(_loop(plain, u, run_a), _loop(zero_rho, u, run_b))
    np.testing.assert_allclose(_loop(plain, u, run_a), _reference_loop(plain, u, run_a), atol=1e-12)


def test_yield_level_conditions_sum_the_rates_through_the_pinned_month() -> None:
    run = _policy_run(2, _plan([-0.25, -0.25]))
    for m in range(M):
        run.decide(m, np.zeros((2, M, K)))
    run.dy2_by_month[:] = np.array([[0.01, 0.02, -0.1, 0.05, 0.0, 0.3], [0.0, 0.0, 0.2, 0, 0, 0]])
    cond = yield_level_conditions(((3, 3.4), (1, 3.7)), 3.88, run, M, K, 0)
    expected_w = np.zeros((2, M, K))
    expected_w[0, :4, 0] = 1.0
    expected_w[1, :2, 0] = 1.0
    np.testing.assert_array_equal(cond.path_weights, expected_w)
    np.testing.assert_allclose(cond.path_target[:, 0], 3.4 - 3.88 - np.array([-0.02, 0.2]))
    np.testing.assert_allclose(cond.path_target[:, 1], 3.7 - 3.88 - np.array([0.03, 0.0]))
    assert cond.labels == ("2-year level in month 3", "2-year level in month 1")
    assert cond.innovation_weights.shape == (0, M, K) and cond.innovation_target.shape == (0,)
    assert cond.n == 2


def _truncated_signal(target, cuts, steps, d, v, rule) -> np.ndarray:
    """``E[xi | d]`` from scipy's truncated normal: ``v / (1 + v) (E[eta | bucket] - delta)``."""
    s = np.sqrt(1.0 + v)
    delta = rule.latent_for_mean(target, cuts, steps, v)
    k = np.array([int(np.argmin(np.abs(steps - x))) for x in d])
    edges = np.concatenate([[-np.inf], cuts, [np.inf]])
    lo, hi = (edges[k] - delta) / s, (edges[k + 1] - delta) / s
    mean = stats.truncnorm.mean(lo, hi, loc=delta, scale=s)
    return v / (1.0 + v) * (mean - delta)


def _conditional_run(n: int, state_var, priced=None) -> PolicyRun:
    plan = _plan([-0.25, 0.0], conditional=np.array([True, True]), priced=priced)
    run = _policy_run(n, plan, state_var=np.asarray(state_var, float))
    for m in range(M):
        run.decide(m, np.zeros((n, M, K)))
    return run


def test_a_decision_on_the_priced_support_signals_the_truncated_normal_mean() -> None:
    priced = ((np.array([-0.25, 0.0]), np.array([0.7, 0.3])), None)
    run = _conditional_run(2, [0.8, 0.5], priced)
    rule = run.params.reaction
    cuts, steps = run.support(0)
    got = _signal(rule, run, 0, 0.8)
    want = _truncated_signal(run.target[:, 0], cuts, steps, run.decision[:, 0], 0.8, rule)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    assert np.all(got < 0)  # a cut (the lower bucket) is news of a weaker state
    # the priced support, not the estimated one (the two give different signals)
    other = _truncated_signal(
        run.target[:, 0], rule.cuts, DECISION_STEPS_PP, run.decision[:, 0], 0.8, rule
    )
    assert not np.allclose(got, other, rtol=1e-6)


def test_a_decision_off_the_priced_support_uses_the_estimated_support_clipped() -> None:
    """Per path (a level pin): -75bp reads as the -50bp bucket, +50bp stays the top bucket, and
    one off-support path sends every path to the estimated -50..+50bp support."""
    priced = ((np.array([-0.25, 0.0]), np.array([0.7, 0.3])), None)
    run = _conditional_run(4, [0.8, 0.5], priced)
    run.decision[:, 0] = [-0.75, -0.25, 0.5, 0.0]
    rule = run.params.reaction
    clipped = np.array([-0.5, -0.25, 0.5, 0.0])
    want = _truncated_signal(run.target[:, 0], rule.cuts, DECISION_STEPS_PP, clipped, 0.8, rule)
    np.testing.assert_allclose(_signal(rule, run, 0, 0.8), want, rtol=1e-9, atol=1e-12)
    # the top bucket's edge is +inf: a +50bp decision is news of a strong state
    assert want[2] > want[3] > want[1] > want[0]


def test_decision_conditions_skip_meetings_without_state_news_and_keep_the_rest() -> None:
    """Meeting 1 has zero state variance (skipped, not the end of the loop); meeting 2's row is
    ``slopes . W`` and its target ``xi + slopes . xbar - slopes . W0 z0``."""
    n, z0 = 2, np.array([[0.1, 0.4, 2.5, 0.3]])
    plan = _plan([-0.25, 0.0], conditional=np.array([True, True]))
    run = _policy_run(n, plan, state_var=np.array([0.0, 0.6]), z0=z0)
    for m in range(M):
        run.decide(m, np.zeros((n, M, K)))
    xbar = np.array([[[0.2, 2.0, 0.1], [0.3, 2.2, -0.4]]])
    w, t, labels = decision_conditions(run, xbar, M, K)
    assert labels == ["decision at meeting 2"]
    slopes = run.params.reaction.slopes
    W, W0 = state_weights(3, M, INDEX, K)
    np.testing.assert_allclose(w, np.einsum("i,imk->mk", slopes, W)[None], atol=1e-15)
    xi = _signal(run.params.reaction, run, 1, 0.6)
    want = xi + xbar[0, 1] @ slopes - z0[0] @ (W0.T @ slopes)
    np.testing.assert_allclose(t[:, 0], want, atol=1e-12)
    assert t.shape == (n, 1)


def test_decision_conditions_are_empty_when_no_meeting_informs() -> None:
    run = _conditional_run(3, [0.0, 0.0])
    w, t, labels = decision_conditions(run, np.zeros((1, 2, 3)), M, K)
    assert w.shape == (0, M, K) and t.shape == (3, 0) and labels == []


def _captured(monkeypatch, path):
    """Run the engine's entry point on ``path`` and return the arguments it passed to
    :func:`simulate_factors` and what that returned."""
    from simengine import policy_paths
    from tests.test_policy import _engine_paths

    seen = {}
    original = policy_paths.simulate_factors

    def spy(*args, **kw):
        seen["args"], seen["out"] = args, original(*args, **kw)
        return seen["out"]

    monkeypatch.setattr(policy_paths, "simulate_factors", spy)
    seen["scn"], (seen["paths"], _) = _engine_paths(path, 4096)
    _captured.last = seen
    return original, seen["args"], seen["out"]


def _conditional_hold(tmp_path, extra: str = "") -> object:
    from tests.test_policy import _write

    body = (
        "reading: conditional_forecast\nfomc:\n  - meeting: 2025-09-17\n    change_bp: 0\n" + extra
    )
    return _write(tmp_path, "cond-hold", body)


def test_a_conditional_hold_is_news_of_strength_and_the_state_variance_defaults_to_the_var(
    monkeypatch, tmp_path
) -> None:
    """A September hold the market priced as 55% cut, read as information, lifts growth in the
    months before it (July, August); without the decision conditions it does not. The engine's
    state variance is the one :func:`simulate_factors` computes itself from the VAR."""
    original, args, out = _captured(monkeypatch, _conditional_hold(tmp_path))
    fi, eps, run_args, extra, conditional, xbar_base, draw, levels, state_var, *rest = args
    assert conditional is True
    plain = original(fi, eps, run_args, extra, False, xbar_base, draw, levels, state_var, *rest)
    g = INDEX["growth"]
    news = out.z[:, :2, g].mean() - plain.z[:, :2, g].mean()
    assert news > 0.005, news  # exactly 0 without the conditions
    default = original(fi, eps, run_args, extra, True, xbar_base, draw, levels, None, *rest)
    np.testing.assert_array_equal(default.z, out.z)


def test_a_conditional_two_year_pin_reaches_its_level_on_average(monkeypatch, tmp_path) -> None:
    """Read as information the 2-year level pin is a condition on the VAR's rates; the policy
    component is the first pass's, so the level holds on average (and exactly without it)."""
    pin = "pins:\n  - factor: yield_2y\n    values: {2025-10-31: 3.40}\n"
    original, args, out = _captured(monkeypatch, _conditional_hold(tmp_path, pin))
    levels = args[7]
    assert levels == (((3, 3.4),), 3.88)
    y2 = 3.88 + out.z[:, :4, INDEX["rates"]].sum(axis=1)
    assert abs(y2.mean() - 3.40) < 0.02, y2.mean()
    free = original(*args[:7], None, *args[8:])
    free_y2 = 3.88 + free.z[:, :4, INDEX["rates"]].sum(axis=1)
    assert abs(free_y2.mean() - 3.40) > 0.2


def test_the_markets_expected_state_ignores_shocks_and_switched_off_channels(
    monkeypatch, tmp_path
) -> None:
    """``xbar`` comes from the expected inputs (no drifts or shocks) with every policy channel
    on: a growth shock or switching the growth channel off (attribution) leaves it unchanged."""
    from tests.test_policy import _write

    base = _write(tmp_path, "plain", "reading: structural_shock\n")
    shock = "reading: structural_shock\nshocks:\n  - factor: growth\n    date: 2025-08-15\n"
    shocked = _write(tmp_path, "shocked", shock + "    size: 1.0\n")
    original, args, out = _captured(monkeypatch, base)
    _, _, out_shock = _captured(monkeypatch, shocked)
    np.testing.assert_array_equal(out.run.xbar, out_shock.run.xbar)
    run_args = args[2] | {"params": args[2]["params"].without("growth")}
    off = original(args[0], args[1], run_args, *args[3:])
    np.testing.assert_array_equal(off.run.xbar, out.run.xbar)
    assert not np.array_equal(off.z, out.z)


def test_the_engine_gets_the_policy_rate_and_the_two_year_policy_component(
    monkeypatch, tmp_path
) -> None:
    """The returned policy paths carry announcement + repricing as the 2-year surprise (per
    month and per step) and the policy rate per month; the error correction reaches the loop."""
    from tests.test_policy import _write

    path = _write(tmp_path, "plain", "reading: structural_shock\n")
    _, args, out = _captured(monkeypatch, path)
    seen = _captured.last
    paths, scn, fi = seen["paths"], seen["scn"], args[0]
    assert np.any(out.dy2_reprice != 0) and np.any(out.dy2_announce != 0)
    np.testing.assert_array_equal(paths.surprise_month, out.dy2_announce + out.dy2_reprice)
    ann, rep = out.run.dy2_step(scn.n_steps)
    np.testing.assert_array_equal(paths.surprise_step, ann + rep)
    np.testing.assert_array_equal(paths.level_month, out.run.level_month)
    assert fi.rho is not None and np.any(fi.rho)  # the credit error correction reaches the loop
