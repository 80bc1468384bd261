"""Simulation-based calibration (SBC) of the Bayesian calibration model (Talts et al. 2018).

If parameters are drawn from the prior, data from the likelihood given them, and the posterior
is computed exactly, then the rank of the true value among L independent posterior draws is
uniform on ``{0, ..., L}``. A rank histogram that is not flat means the posterior the module
computes is not the posterior of the model it claims to fit.

What is tested. The model is the module's own :func:`simengine.bayes.model.build_model` with
the packaged priors (``simengine/models/priors.yaml``, both assets) on a short table (95 usable
months of a :func:`simengine.bayes.synthetic.simulate_table` table). The parameters come from
the model's prior (``pm.sample_prior_predictive``, in the contract's units: ``mu, kappa, beta,
sigma, chol_a, nu_a, c, A, g, chol, nu_f``). The data are simulated from those parameters by
independent NumPy code written from the documented equations in natural units
(:func:`_simulate`), not by the model's own forward graph, so a likelihood that disagrees with
the documentation (a wrong Student-t scaling, ``sigma dt`` instead of ``sigma sqrt(dt)``, a
wrong sign of the carry term, a wrong back-mapping ``A = D A~ D^-1``, ``c``, ``g`` or ``chol``
from the standardised VAR) shows up as non-uniform ranks, as does a sampler or
reparametrisation (non-centred normals, LKJ, ``nu = shift + Gamma``) that does not reach the
posterior.

The model as coded conditions on its regressors: asset returns on the month's exposures ``x_t``
and the policy gap, factors on their lag ``z_{t-1}`` and the gap. SBC therefore keeps those
regressors fixed (those of the base table) and simulates the observed ``y`` and ``z`` given them:
this is exactly the model's generative process (recursive simulation would also be valid, but
draws of ``A`` with spectral radius above 1, which the prior allows, then explode over 95
months). The standardisation (sample mean and sd of ``z``, mean of the gap) is likewise frozen at
the base table's values: ``prepare_data`` would recompute it from each simulated table, making
the prior of the natural-unit VAR parameters data-dependent, so no fixed prior would be being
calibrated.

A failure means, for the parameter named: its posterior is biased (ranks piled at one end),
too narrow (both ends, U shape) or too wide (middle, hump) relative to the model's own prior and
likelihood: a bug in the likelihood, priors or reparametrisation of ``model.py`` against the
documented equations, or a sampler that does not converge on prior-typical data sets.

Efficiency. ``build_model(..., observed_as_data=True)`` holds the observed returns and
standardised factors in ``pm.Data`` containers (everything else is the module's ordinary
model); the test compiles once with nutpie and swaps the data per replication with
``CompiledModel.with_data(**observed_data(...))`` (compiling takes ~20 s, one fit ~0.5 s).

Statistics. Ranks are binned into B bins and tested with Pearson's chi-square against the exact
bin probabilities. K = 10 parameters, each tested at alpha = 5e-4 (Bonferroni): with a correct
model the test fails with probability at most K alpha = 0.5%, and since every seed is fixed the
outcome is deterministic. Posterior draws are thinned (2 chains, every other draw) to keep them
close to independent (Talts et al. Sec. 5.1: autocorrelation alone produces U-shaped ranks).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:pytensor"),
    # the likelihood given a state is a potential: the prior draws of the parameters do not need it
    pytest.mark.filterwarnings("ignore:The effect of Potentials:UserWarning"),
]

pm = pytest.importorskip("pymc")
nutpie = pytest.importorskip("nutpie")

#: Ranked parameters: name -> (posterior variable, index). One or more of every block and kind
#: (drift, carry, loading, residual scale / correlation / tails, VAR intercept, own and cross lag,
#: policy-gap response, credit error correction, innovation scale, factor tails).
PARAMETERS: dict[str, tuple[str, tuple[int, ...]]] = {
    "mu[small_cap]": ("mu", (0,)),
    "kappa[small_cap]": ("kappa", (0,)),
    "beta[small_cap, credit]": ("beta", (0, 4)),
    "sigma[large_cap]": ("sigma", (1,)),
    "chol_a[large_cap, small_cap]": ("chol_a", (1, 0)),
    "nu_a": ("nu_a", ()),
    "A[inflation, inflation]": ("A", (2, 2)),
    "A[credit, growth]": ("A", (3, 1)),
    "g[growth]": ("g", (1,)),
    "rho[credit]": ("rho", (3,)),
    "chol[credit, credit]": ("chol", (3, 3)),
}
#: Overall false-failure rate of one SBC test (Bonferroni over the parameters).
FAMILY_ALPHA = 0.005
ALPHA = FAMILY_ALPHA / len(PARAMETERS)
N_MONTHS = 96  # table rows; 95 usable months (the first has no lag)
MIXING_SD = 0.6  # the level's sd in the runs given a volatility state (the default model's 0.61)
DT = 1.0 / 12.0


@dataclass(frozen=True)
class SBCRun:
    """Ranks of the true parameters among thinned posterior draws, one row per replication.

    Attributes
    ----------
    ranks : ndarray of int, shape (R, K)
        Columns in the order of :data:`PARAMETERS`; values in ``0..n_draws``.
    n_draws : int
        L, the number of thinned posterior draws per replication.
    truths : ndarray, shape (R, K)
    draws : ndarray, shape (R, L, K)
        The thinned posterior draws (kept for the power check).
    divergences : int
        Divergent transitions over all replications.
    seconds : float
        Wall time (compilation included).
    """

    ranks: np.ndarray
    n_draws: int
    truths: np.ndarray
    draws: np.ndarray
    divergences: int
    seconds: float


def _base(seed: int = 0, given_state: bool = False):
    """Packaged priors and the base ModelData (regressors and standardisation of every
    replication); ``given_state``: with a simulated volatility state and level sd
    :data:`MIXING_SD`, which every replication's data then share."""
    from simengine.bayes.prepare import prepare_data
    from simengine.bayes.priors import load_priors
    from simengine.bayes.synthetic import example_params, simulate_state, simulate_table

    priors = load_priors()
    rng = np.random.default_rng(seed)
    table = simulate_table(example_params(priors.assets), N_MONTHS, rng)
    if not given_state:
        return priors, prepare_data(table, priors)
    state = simulate_state(N_MONTHS, rng, priors.assets)
    return priors, prepare_data(table, priors, state, MIXING_SD)


def _unit_t(rng: np.random.Generator, nu: float, shape: tuple[int, int]) -> np.ndarray:
    """Multivariate Student-t(nu) rows with unit marginal variances (one mixing per row)."""
    w = rng.chisquare(nu, size=(shape[0], 1)) / nu
    return rng.standard_normal(shape) / np.sqrt(w) * np.sqrt((nu - 2.0) / nu)


def _level(rng: np.random.Generator, n: int) -> np.ndarray:
    """Independent log-normal levels of mean 1 and log-sd :data:`MIXING_SD`, one per month."""
    return np.exp(MIXING_SD * rng.standard_normal(n) - MIXING_SD**2 / 2.0)


def _simulate(theta: dict[str, np.ndarray], data, rng: np.random.Generator):
    """Returns and factors given the parameters and the fixed regressors (natural units)::

    z_t = c + A z_{t-1} + g gap_t + rho R_{t-1} + u_t,  u_t = L w_t,  w_t ~ t(nu_f), unit var.
    r_t = (mu - kappa gap_t) dt + beta x_t + sigma sqrt(dt) L_a e_t,   e_t ~ t(nu_a), unit var.
    x_t = (u_rates, dtau, u_growth, u_inflation, u_credit)   (returns load on factor news)

    with ``gap_t = p_{t-1} - n`` and ``z_{t-1}``, ``R_{t-1}`` (credit level), ``dtau`` the base
    table's.
    """
    T, n_assets = data.y.shape
    u = _unit_t(rng, float(theta["nu_f"]), (T, data.z.shape[1])) @ theta["chol"].T
    if data.v is not None:  # given the state: u_t sqrt(w_t L_t), e_t sqrt(v_t L'_t)
        u = u * np.sqrt(data.w * _level(rng, T))[:, None]
    z = (
        theta["c"]
        + data.z_lag @ theta["A"].T
        + data.gap[:, None] * theta["g"]
        + data.level_lag[:, None] * theta["rho"]
        + u
    )
    x = np.column_stack([u[:, 0], data.x[:, 1], u[:, 1], u[:, 2], u[:, 3]])
    e = _unit_t(rng, float(theta["nu_a"]), (T, n_assets)) @ theta["chol_a"].T
    if data.v is not None:
        e = e * np.sqrt(data.v * _level(rng, T)[:, None])
    y = (theta["mu"] - theta["kappa"] * data.gap[:, None]) * DT + x @ theta["beta"].T
    y = y + theta["sigma"] * np.sqrt(DT) * e
    return y, z


def run_sbc(
    n_reps: int,
    *,
    draws: int,
    thin: int,
    tune: int,
    chains: int = 2,
    seed: int = 0,
    given_state: bool = False,
) -> SBCRun:
    """Prior draws -> simulated data -> nutpie fit -> ranks, for ``n_reps`` replications.

    Parameters
    ----------
    n_reps : int
        Replications R.
    draws, thin, tune, chains : int
        Per chain: post-warmup draws and warmup; chains are pooled and every ``thin``-th draw is
        kept, so ``L = chains * draws // thin``.
    seed : int
        Seeds the prior draws, the data and the sampler (deterministic).
    given_state : bool
        Fit and simulate given a volatility state (:func:`_base`).
    """
    from simengine.bayes.diagnostics import PARAMETER_VARS
    from simengine.bayes.fit import refit_model
    from simengine.bayes.model import build_model, observed_data
    from simengine.bayes.nutpie_pyfunc import sampling_cores
    from simengine.blas import single_threaded_blas

    start = time.perf_counter()
    priors, data = _base(seed, given_state)
    model = build_model(data, priors, observed_as_data=True)
    names = list(PARAMETER_VARS)  # every parameter of the contract: all enter _simulate
    prior = pm.sample_prior_predictive(
        draws=n_reps, model=model, var_names=names, random_seed=seed
    ).prior
    compiled = refit_model(data, priors)  # compiled once per process for these regressors
    assert refit_model(data, priors) is compiled
    rng = np.random.default_rng(seed + 1)
    n_draws = chains * draws // thin
    ranks = np.zeros((n_reps, len(PARAMETERS)), dtype=int)
    truths = np.zeros((n_reps, len(PARAMETERS)))
    kept = np.zeros((n_reps, n_draws, len(PARAMETERS)))
    divergences = 0
    with single_threaded_blas():
        for i in range(n_reps):
            theta = {name: prior[name].values[0, i] for name in names}
            y, z = _simulate(theta, data, rng)
            idata = nutpie.sample(
                compiled.with_data(**observed_data(data, y, z)),
                draws=draws,
                tune=tune,
                chains=chains,
                cores=sampling_cores(compiled, chains),
                seed=seed + 1000 + i,
                progress_bar=False,
                save_warmup=False,
            )
            divergences += int(idata.sample_stats["diverging"].sum())
            post = idata.posterior
            for k, (var, index) in enumerate(PARAMETERS.values()):
                pooled = post[var].values.reshape(chains * draws, *post[var].shape[2:])
                sample = pooled[(slice(None), *index)][::thin][:n_draws]
                truths[i, k] = theta[var][index]
                kept[i, :, k] = sample
                ranks[i, k] = int(np.sum(sample < truths[i, k]))
    return SBCRun(ranks, n_draws, truths, kept, divergences, time.perf_counter() - start)


def uniformity_pvalues(ranks: np.ndarray, n_draws: int, n_bins: int) -> np.ndarray:
    """Pearson chi-square p-value of each column of ``ranks`` against the uniform on ``0..L``.

    Rank r goes to bin ``r * B // (L + 1)``; the expected counts use the exact number of rank
    values per bin, so ``L + 1`` need not be a multiple of B.

    Parameters
    ----------
    ranks : ndarray of int, shape (R, K)
    n_draws : int
        L.
    n_bins : int
        B.

    Returns
    -------
    ndarray, shape (K,)
    """
    bins = np.arange(n_draws + 1) * n_bins // (n_draws + 1)
    probs = np.bincount(bins, minlength=n_bins) / (n_draws + 1)
    out = []
    for column in np.atleast_2d(ranks.T):
        counts = np.bincount(column * n_bins // (n_draws + 1), minlength=n_bins)
        out.append(stats.chisquare(counts, probs * len(column)).pvalue)
    return np.array(out)


def _report(run: SBCRun, pvalues: np.ndarray, n_bins: int) -> str:
    lines = [f"SBC: {run.ranks.shape[0]} replications, L = {run.n_draws}, B = {n_bins}, "]
    lines[0] += f"{run.divergences} divergences, {run.seconds:.0f} s"
    for k, name in enumerate(PARAMETERS):
        counts = np.bincount(run.ranks[:, k] * n_bins // (run.n_draws + 1), minlength=n_bins)
        lines.append(f"  {name:30s} p = {pvalues[k]:.3g}  counts {counts.tolist()}")
    return "\n".join(lines)


def _assert_uniform(run: SBCRun, n_bins: int, power_check: bool = False) -> None:
    """Every parameter's ranks pass the chi-square at :data:`ALPHA`; with ``power_check``, ranks
    of the next replication's truth (a wrong posterior) fail for the well-identified scales."""
    pvalues = uniformity_pvalues(run.ranks, run.n_draws, n_bins)
    message = _report(run, pvalues, n_bins)
    print(message)
    assert np.all(pvalues > ALPHA), message
    if power_check:
        shifted = np.roll(run.truths, -1, axis=0)
        wrong = (run.draws < shifted[:, None, :]).sum(axis=1)
        wrong_p = uniformity_pvalues(wrong, run.n_draws, n_bins)
        for name in ("sigma[large_cap]", "chol[credit, credit]"):
            assert wrong_p[list(PARAMETERS).index(name)] < ALPHA, (name, wrong_p)


def test_rank_uniformity_statistic() -> None:
    """The chi-square helper: flat ranks pass, piled-up or U-shaped ranks fail (no sampling)."""
    rng = np.random.default_rng(0)
    flat = rng.integers(0, 100, size=(2000, 1))
    assert uniformity_pvalues(flat, 99, 10)[0] > 0.01
    biased = np.minimum(rng.integers(0, 100, size=(200, 1)), 60)  # truth above the posterior
    u_shaped = np.where(rng.random((200, 1)) < 0.5, rng.integers(0, 10, (200, 1)), 95)
    assert uniformity_pvalues(biased, 99, 10)[0] < 1e-6
    assert uniformity_pvalues(u_shaped, 99, 10)[0] < 1e-6
    odd = np.arange(101)[:, None]  # L + 1 = 101 values over 5 bins: exact expected counts
    assert uniformity_pvalues(odd, 100, 5)[0] == pytest.approx(1.0)


def test_sbc_fast() -> None:
    """SBC, fast version: R = 30 replications, L = 99 thinned draws, B = 5 bins.

    Choices: 30 fits keep the test under a minute on 2 cores (compile ~20 s, fit ~0.5 s with
    300 warmup + 2 x 99 draws). B = 5 gives 6 expected ranks per bin (Cochran's rule for the
    chi-square approximation: at least 5). Per-parameter alpha 5e-4, Bonferroni over the 10
    parameters: false-failure rate <= 0.5%. With 30 replications only gross errors are caught
    (a posterior off by about one posterior sd, or 2x too narrow/wide, in most replications);
    the slow test has the power for subtler ones.

    Power check: ranking the truth of replication i + 1 among the posterior draws of replication
    i (a wrong posterior by construction) must fail for the well-identified parameters (residual
    and innovation scales, whose posterior sd is a small fraction of the prior's): this shows
    the statistic can fail with these R, L, B. Deliberate errors in the simulated data (that is,
    a model whose likelihood disagrees with the documented equations) made this test fail when
    tried: ``A`` transposed (p = 1e-4 on ``A[credit, growth]``, 3e-6 on ``chol``), residual
    sd 25% too large (p = 5e-25 on ``sigma``), sign of the carry term flipped (p = 7e-6 on
    ``kappa``).
    """
    n_bins = 5
    run = run_sbc(30, draws=99, thin=2, tune=300, seed=20250716)
    _assert_uniform(run, n_bins, power_check=True)


@pytest.mark.slow
def test_sbc_thorough() -> None:
    """SBC, thorough version: R = 200 replications, L = 199 thinned draws, B = 10 bins.

    Choices: 200 fits (about 3 minutes on 2 cores) give 20 expected ranks per bin, enough for a
    chi-square to detect a bin-probability change of about 50% in a few bins (e.g. a posterior
    sd 20-30% off). 2 x 199 draws thinned by 2 gives L = 199 (L + 1 = 200, 20 rank values per
    bin). Same per-parameter alpha 5e-4 as the fast test: false-failure rate <= 0.5%.
    """
    n_bins = 10
    run = run_sbc(200, draws=199, thin=2, tune=400, seed=7)
    _assert_uniform(run, n_bins)


def test_sbc_fast_given_the_state() -> None:
    """SBC of the likelihood given a volatility state: the same R, L, B and alpha as
    :func:`test_sbc_fast`, on data whose shocks are scaled by a simulated state and a log-normal
    level per month (``_simulate``, written from the documented equations, not the model's
    graph). A likelihood that integrates the level wrongly biases the scale parameters: with
    the ``L^(-K/2)`` term of the mixture dropped from ``model._given_state`` this test failed
    (``sigma[large_cap]`` p = 9e-13, ``chol[credit, credit]`` p = 5e-25, all 30 ranks in the
    top bin)."""
    n_bins = 5
    run = run_sbc(30, draws=99, thin=2, tune=300, seed=20251130, given_state=True)
    _assert_uniform(run, n_bins, power_check=True)


@pytest.mark.slow
def test_sbc_thorough_given_the_state() -> None:
    """:func:`test_sbc_thorough` given a volatility state (R = 200, L = 199, B = 10)."""
    n_bins = 10
    run = run_sbc(200, draws=199, thin=2, tune=400, seed=8, given_state=True)
    _assert_uniform(run, n_bins)
