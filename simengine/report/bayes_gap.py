"""Why a Bayesian run's numbers differ from a point-parameter run's, in figures.

A Bayesian run gives each path one posterior draw of the parameters; a Monte Carlo run uses
the point estimates of the model file. Their mean returns differ for two reasons, which
:func:`bayes_gap` separates with a third run on the same seed (common random numbers):

* **posterior means vs point estimates**: the posterior is centred elsewhere than the point
  fit (priors, a different estimator), so a run with every parameter at its posterior mean
  already moves;
* **parameter uncertainty**: averaging over draws instead of using their mean. Returns are
  convex in the drift and volatility (``exp`` of a sum), so spreading the parameters raises
  the mean simple return even when their mean is unchanged.

``point -> posterior mean -> Bayesian``: the first step is the first reason, the second step
the second. :func:`parameter_table` lists the loadings that move.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover - typing only
    from simengine.params import ModelParams
    from simengine.spec import ScenarioSpec

__all__ = ["bayes_gap", "parameter_table", "posterior_mean_params"]

#: Parameters shown in the table: (field, label, scale to display units).
SHOWN: tuple[tuple[str, str, float], ...] = (
    ("mu", "drift mu (%/yr, at the neutral rate)", 100.0),
    ("kappa", "carry kappa (%/yr per pp of policy gap)", 100.0),
    ("sigma", "residual volatility sigma (%/yr)", 100.0),
)


def posterior_mean_params(params: ModelParams) -> ModelParams:
    """One draw: every sampled parameter of every part at its posterior mean.

    Notes
    -----
    ``theta_bar = (1/D) sum_d theta_d`` element-wise for float fields; Cholesky factors are
    averaged too, which keeps them lower triangular with a positive diagonal.
    """

    def mean(a: np.ndarray) -> np.ndarray:
        return a.mean(axis=0, keepdims=True) if np.issubdtype(a.dtype, np.floating) else a[:1]

    values = {
        role: None if v is None else replace(v, **{k: mean(a) for k, a in v.arrays().items()})
        for role, v in params.values.items()
    }
    return replace(params, values=values, posterior_hash=params.posterior_hash + ":mean")


def _field(params: ModelParams, name: str) -> np.ndarray:
    """The array of parameter ``name`` in whichever part holds it."""
    for value in params.values.values():
        if value is not None and name in value.arrays():
            return value.arrays()[name]
    raise KeyError(f"no part of the model has a parameter {name!r}")


def parameter_table(point: ModelParams, draws: ModelParams) -> pd.DataFrame:
    """Point estimate, posterior mean and posterior sd of the drift, carry and volatility."""
    rows = []
    for field, label, scale in SHOWN:
        p, d = _field(point, field), _field(draws, field)
        for i, asset in enumerate(draws.assets):
            j = point.assets.index(asset)
            rows.append(
                {
                    "parameter": label,
                    "asset": draws.labels[i] if draws.labels else asset,
                    "point estimate": scale * float(p[0, j]),
                    "posterior mean": scale * float(d[:, i].mean()),
                    "posterior sd": scale * float(d[:, i].std()),
                }
            )
    return pd.DataFrame(rows).set_index(["parameter", "asset"])


def bayes_gap(specs: Sequence[ScenarioSpec], n_paths: int = 20_000, seed: int = 1) -> pd.DataFrame:
    """Mean return to the horizon under point parameters, posterior means and the posterior.

    Parameters
    ----------
    specs : sequence of ScenarioSpec
        Scenarios of one run (same grid and model).
    n_paths, seed : int
        The three runs share them (common random numbers), so the steps are not noise.

    Returns
    -------
    DataFrame
        Index ``(scenario, series)``; columns ``point``, ``posterior mean params``,
        ``bayesian`` (mean simple returns), ``from posterior means`` (second minus first) and
        ``from parameter uncertainty`` (third minus second).
    """
    from simengine.api import _run, load_params_for

    draws = load_params_for(specs[0], "bayesian")
    args = (n_paths, seed, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        point = _run(specs, *args, "monte_carlo", False, 1, 1, None)
        middle = _run(
            specs, *args, "monte_carlo", False, 1, 1, None,
            params_override=posterior_mean_params(draws),
        )  # fmt: skip
        bayes = _run(specs, *args, "bayesian", False, 1, 1, None)
    frame = pd.DataFrame(
        {
            "point": point.summary()["mean"],
            "posterior mean params": middle.summary()["mean"],
            "bayesian": bayes.summary()["mean"],
        }
    )
    frame["from posterior means"] = frame["posterior mean params"] - frame["point"]
    frame["from parameter uncertainty"] = frame["bayesian"] - frame["posterior mean params"]
    assert np.all(np.isfinite(frame.to_numpy()))
    return frame
