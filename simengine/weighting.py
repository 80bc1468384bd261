"""Scenario weighting: prior weights updated by observed data, and the mixture that follows.

Each scenario says what the factors should do; once some of that has been observed (the July
FOMC held, the 2-year yield fell 20bp in August, ...), scenarios that predicted it gain weight:

    w_i  proportional to  prior_i * p(observed | scenario_i)

The likelihood of each scenario comes from its own simulated factor paths (common random
numbers, same paths for every scenario): the policy rate and the tariff rate are step functions,
so their observations are matched exactly (the share of paths that agree to 0.5bp); the
continuous factors (rates, growth, inflation, credit) get a Gaussian predictive density whose
mean and covariance are those of the simulated paths that matched. The mixture distribution of
returns weights each scenario's distribution by its posterior weight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simengine import stats
from simengine.exceptions import DataError
from simengine.results import Comparison
from simengine.rng import BLOCK
from simengine.structure import default_structure

__all__ = ["ScenarioWeights", "load_observations", "scenario_loglik", "weigh_scenarios"]

MATCH_TOL = 0.005  # pp: half a basis point
RIDGE = 1e-9  # added to predictive variances (numerical floor, far below any factor's scale)


@dataclass(frozen=True)
class ScenarioWeights:
    """Prior and posterior weights, log-likelihoods and the mixture return distribution."""

    table: pd.DataFrame  # index scenario: prior, loglik, posterior, matched_share
    mixture: pd.DataFrame  # index series: mean, q05, q25, median, q75, q95, prob_loss
    comparison: Comparison


def load_observations(path: str | Path) -> pd.DataFrame:
    """Read observed factor values: CSV with ``date`` and any of the factor columns.

    Blank cells are unobserved. Columns: ``policy_rate`` (%), ``tariff`` (%), ``rates``,
    ``growth``, ``inflation``, ``credit`` (the model's units, see the README).
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"no observations file at {path}")
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise DataError(f"{path} is not a readable CSV: {err}") from None
    if "date" not in frame.columns:
        raise DataError(f"{path} needs a 'date' column; it has {list(frame.columns)}")
    factors = default_structure().factor_names
    unknown = sorted(set(frame.columns) - {"date", *factors})
    if unknown:
        raise DataError(
            f"{path}: unknown columns {unknown}; expected date and any of {list(factors)}"
        )
    try:
        frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d").dt.date
    except ValueError as err:
        raise DataError(f"{path}: dates must be YYYY-MM-DD ({err})") from None
    repeated = frame["date"][frame["date"].duplicated()].unique()
    if len(repeated):
        lines = [int(i) + 2 for i in frame.index[frame["date"] == repeated[0]]]  # + header
        raise DataError(
            f"{path}: date {repeated[0]} is listed {len(lines)} times (lines "
            f"{', '.join(map(str, lines))}); each observation date must appear once, or the "
            "same data would count several times in the likelihood: merge the rows"
        )
    return frame.set_index("date").astype(float)


def _observed_cells(result: Comparison, obs: pd.DataFrame) -> list[tuple[int, int, float]]:
    """(step, factor index, value) of every observed cell, on the result's grid."""
    dates = result.dataset["time"].values.astype("datetime64[D]")
    factors = [str(f) for f in result.dataset["factor"].values]
    cells = []
    for day, row in obs.iterrows():
        step = int(np.searchsorted(dates, np.datetime64(day, "D")))
        if step >= dates.size or dates[step] != np.datetime64(day, "D"):
            raise DataError(
                f"observation dated {day} is not a step end of the scenarios' grid "
                f"({', '.join(str(d) for d in dates[:4])}, ...); observe at step ends"
            )
        for name, value in row.items():
            if np.isfinite(value):
                cells.append((step, factors.index(str(name)), float(value)))
    if not cells:
        raise DataError("the observations file has no observed values")
    return cells


def scenario_loglik(
    paths: np.ndarray,
    cells: Sequence[tuple[int, int, float]],
    step_factors: Sequence[int] | None = None,
) -> tuple[float, float]:
    """Log-likelihood of the observed cells under one scenario's simulated factor paths.

    Parameters
    ----------
    paths : ndarray (n, T, F)
        Simulated factor paths (the order of the model's ``factors``).
    cells : sequence of (step, factor, value)
    step_factors : sequence of int, optional
        Factors matched exactly (step functions: the non-stochastic factors, policy rate and
        tariff); default: those of the packaged model.

    Returns
    -------
    loglik : float
        ``log P(step factors match) + log N(continuous | mean, cov of the matching paths)``;
        ``-inf`` when no path matches.
    matched_share : float
        Share of paths whose step-function factors match the observations.
    """
    if step_factors is None:
        step_factors = [i for i, f in enumerate(default_structure().factors) if not f.stochastic]
    step_idx = list(step_factors)
    exact = [c for c in cells if c[1] in step_idx]
    smooth = [c for c in cells if c[1] not in step_idx]
    match = np.ones(paths.shape[0], dtype=bool)
    for t, k, v in exact:
        match &= np.abs(paths[:, t, k] - v) <= MATCH_TOL
    share = float(match.mean())
    if share == 0.0:
        return -np.inf, 0.0
    ll = np.log(share)
    if smooth:
        x = np.stack([paths[match, t, k] for t, k, _ in smooth], axis=1)  # (n_match, C)
        if x.shape[0] < 2 * x.shape[1] + 2:
            raise DataError(
                f"only {x.shape[0]} simulated paths match the observed policy and tariff path: too few "
                "to estimate the predictive distribution; use more paths"
            )
        obs = np.array([v for *_, v in smooth])
        cov = np.atleast_2d(np.cov(x, rowvar=False)) + RIDGE * np.eye(x.shape[1])
        from simengine.bayes.weights import gaussian_path_loglik

        ll += gaussian_path_loglik(obs[None, :], x.mean(axis=0)[None, :], cov)
    return float(ll), share


def _mixture(result: Comparison, weights: Mapping[str, float]) -> pd.DataFrame:
    ds = result.dataset
    w = np.array([weights[s] for s in result.scenarios])[:, None, None]
    counts = ds["term_count"].values.astype(np.float64)
    prob = (w * counts / counts.sum(axis=-1, keepdims=True)).sum(axis=0)  # (series, bins)
    qs = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    q = stats.quantile_from_hist(prob, stats.FINE, qs)
    summary = result.summary(wide=True)
    wv = w[:, 0, 0]
    frame = pd.DataFrame(
        {f"q{int(p * 100):02d}": q[:, i] for i, p in enumerate(qs)}, index=list(result.series)
    ).rename(columns={"q50": "median"})
    for col in [c for c in ("mean", "prob_loss", "prob_small_beats_large") if c in summary]:
        per = summary[col].to_numpy().reshape(len(result.scenarios), len(result.series))
        frame[col] = (wv[:, None] * per).sum(axis=0)
    frame.index.name = "series"
    return frame


def _check_prior_names(prior: Mapping[str, float], names: Sequence[str]) -> None:
    """Every scenario needs a prior weight, and every weight a scenario (with did-you-mean)."""
    from simengine.spec.errors import did_you_mean

    unknown = [n for n in prior if n not in names]
    missing = [n for n in names if n not in prior]
    if not unknown and not missing:
        return
    parts = [
        f"--prior {n!r} is not one of the scenarios {list(names)}" + _guess(did_you_mean(n, names))
        for n in unknown
    ]
    if missing:
        parts.append(f"no prior weight for {missing} (give one NAME=WEIGHT per scenario)")
    raise DataError("; ".join(parts))


def _guess(text: str) -> str:
    return f" ({text})" if text else ""


def weigh_scenarios(
    specs: Sequence,
    observations: pd.DataFrame,
    prior: Mapping[str, float] | None = None,
    *,
    n_paths: int | None = None,
    seed: int | None = None,
    progress=None,
) -> ScenarioWeights:
    """Posterior weights of scenarios given observed factor values, and their mixture.

    Parameters
    ----------
    specs : sequence of ScenarioSpec or paths
        The scenarios (same grid, same model), simulated on common random numbers.
    observations : DataFrame
        From :func:`load_observations`: index dates (step ends), factor columns, NaN = unobserved.
    prior : mapping name -> weight, optional
        Prior weights (normalised); equal weights by default.
    n_paths, seed : int, optional
        Simulation settings; at least 4096 paths are kept whole to estimate the likelihoods.

    Returns
    -------
    ScenarioWeights
    """
    from simengine.api import compare
    from simengine.bayes.weights import posterior_weights

    result = compare(
        specs, n_paths=n_paths, seed=seed, n_sample=BLOCK, progress=progress, attribution=False
    )
    names = list(result.scenarios)
    prior = dict(prior) if prior else dict.fromkeys(names, 1.0)
    _check_prior_names(prior, names)
    cells = _observed_cells(result, observations)
    sample = result.dataset["sample_factors"].values  # (scenario, path, time, factor)
    lls, shares = zip(*(scenario_loglik(sample[i], cells) for i in range(len(names))), strict=True)
    post = posterior_weights(prior, dict(zip(names, lls, strict=True)))
    total = sum(prior.values())
    table = pd.DataFrame(
        {
            "prior": [prior[n] / total for n in names],
            "loglik": lls,
            "matched_share": shares,
            "posterior": [post[n] for n in names],
        },
        index=pd.Index(names, name="scenario"),
    )
    return ScenarioWeights(table=table, mixture=_mixture(result, post), comparison=result)
