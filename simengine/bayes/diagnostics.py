"""Convergence diagnostics of a fit: R-hat, bulk/tail ESS, divergences, BFMI."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simengine.exceptions import CalibrationError, ConvergenceWarning

__all__ = ["PARAMETER_VARS", "DiagnosticsReport", "Thresholds", "check_convergence", "diagnose"]

#: Posterior variables in the contract's units (the ones the simulation core uses).
PARAMETER_VARS: tuple[str, ...] = (
    "mu",
    "kappa",
    "beta",
    "sigma",
    "chol_a",
    "nu_a",
    "c",
    "A",
    "rho",
    "g",
    "chol",
    "nu_f",
)


@dataclass(frozen=True)
class Thresholds:
    """Pass/fail thresholds (defaults: Vehtari et al. 2021 for R-hat/ESS; Betancourt 2016 for BFMI).

    Attributes
    ----------
    r_hat : float
        Every R-hat must be below this (1.01).
    ess_bulk, ess_tail : float
        Every bulk and tail ESS must exceed these (400 = 100 per chain for 4 chains).
    max_divergences : int
        Post-warmup divergent transitions allowed (0).
    bfmi : float
        Every chain's E-BFMI must exceed this (0.3).
    """

    r_hat: float = 1.01
    ess_bulk: float = 400.0
    ess_tail: float = 400.0
    max_divergences: int = 0
    bfmi: float = 0.3


@dataclass(frozen=True)
class DiagnosticsReport:
    """Result of :func:`diagnose`.

    Attributes
    ----------
    by_variable : DataFrame
        One row per variable: worst ``r_hat`` (max), ``ess_bulk`` and ``ess_tail`` (min) over its
        non-constant elements, and ``ok``.
    summary : DataFrame
        One row per check (``r_hat``, ``ess_bulk``, ``ess_tail``, ``divergences``, ``bfmi``):
        ``value`` (worst), ``threshold``, ``rule``, ``where`` (worst variable/chain), ``passed``.
    thresholds : Thresholds
    """

    by_variable: pd.DataFrame
    summary: pd.DataFrame
    thresholds: Thresholds = field(default_factory=Thresholds)

    @property
    def passed(self) -> bool:
        """Whether every check passed."""
        return bool(self.summary["passed"].all())

    @property
    def failures(self) -> list[str]:
        """One sentence per failed check."""
        rows = self.summary[~self.summary["passed"]]
        return [
            f"{name}: {row['value']:.4g} ({row['where']}) fails the rule {row['rule']} {row['threshold']:g}"
            for name, row in rows.iterrows()
        ]

    def to_json(self) -> str:
        """The summary table as JSON (stored in the posterior file's attributes)."""
        records = self.summary.reset_index(names="check").to_dict(orient="records")
        return json.dumps(records, default=_json_default)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def diagnose(
    idata, thresholds: Thresholds | None = None, var_names: list[str] | None = None
) -> DiagnosticsReport:
    """Compute R-hat, bulk/tail ESS, divergences and BFMI and compare them with thresholds.

    Parameters
    ----------
    idata : arviz.InferenceData
        With ``posterior`` and ``sample_stats`` (``diverging``, ``energy``).
    thresholds : Thresholds, optional
    var_names : list of str, optional
        Variables to check; default the model parameters in :data:`PARAMETER_VARS` that are
        present, or every posterior variable if none is (a generic model).

    Returns
    -------
    DiagnosticsReport

    Notes
    -----
    R-hat is the rank-normalised split R-hat and ESS the bulk/tail ESS of Vehtari et al. (2021);
    E-BFMI = sum_t (E_t - E_{t-1})^2 / sum_t (E_t - mean E)^2 per chain (Betancourt 2016).
    Elements that are constant across draws (the fixed zeros and ones of a Cholesky factor of a
    correlation matrix) have no R-hat and are skipped.
    """
    import arviz as az

    th = thresholds or Thresholds()
    post = idata.posterior
    names = var_names or [v for v in PARAMETER_VARS if v in post.data_vars] or list(post.data_vars)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # constant elements: 0/0, skipped below
        rhat = az.rhat(post, var_names=names)
        ess_b = az.ess(post, var_names=names, method="bulk")
        ess_t = az.ess(post, var_names=names, method="tail")
    rows = []
    for name in names:
        draws = post[name].values
        flat = draws.reshape(draws.shape[0] * draws.shape[1], -1)
        live = np.ptp(flat, axis=0) > 0
        if not live.any():
            continue
        rows.append(
            {
                "variable": name,
                "r_hat": float(np.max(np.ravel(rhat[name].values)[live])),
                "ess_bulk": float(np.min(np.ravel(ess_b[name].values)[live])),
                "ess_tail": float(np.min(np.ravel(ess_t[name].values)[live])),
            }
        )
    by_var = pd.DataFrame(rows).set_index("variable")
    by_var["ok"] = (
        (by_var["r_hat"] < th.r_hat)
        & (by_var["ess_bulk"] > th.ess_bulk)
        & (by_var["ess_tail"] > th.ess_tail)
    )
    return DiagnosticsReport(by_var, _summary(idata, by_var, th), th)


def _summary(idata, by_var: pd.DataFrame, th: Thresholds) -> pd.DataFrame:
    import arviz as az

    stats = idata.sample_stats
    divergences = int(stats["diverging"].values.sum()) if "diverging" in stats else 0
    bfmi = np.atleast_1d(az.bfmi(idata)) if "energy" in stats else np.array([np.inf])
    rows = {
        "r_hat": (by_var["r_hat"].max(), th.r_hat, "<", by_var["r_hat"].idxmax()),
        "ess_bulk": (by_var["ess_bulk"].min(), th.ess_bulk, ">", by_var["ess_bulk"].idxmin()),
        "ess_tail": (by_var["ess_tail"].min(), th.ess_tail, ">", by_var["ess_tail"].idxmin()),
        "divergences": (float(divergences), float(th.max_divergences), "<=", "all chains"),
        "bfmi": (float(bfmi.min()), th.bfmi, ">", f"chain {int(np.argmin(bfmi))}"),
    }
    table = pd.DataFrame.from_dict(
        rows, orient="index", columns=["value", "threshold", "rule", "where"]
    )
    ops = {"<": np.less, ">": np.greater, "<=": np.less_equal}
    table["passed"] = [
        bool(ops[r](v, t))
        for v, t, r in zip(table["value"], table["threshold"], table["rule"], strict=True)
    ]
    return table


def check_convergence(report: DiagnosticsReport, strict: bool = False) -> None:
    """Warn (or raise under ``strict``) when a diagnostic fails.

    Raises
    ------
    CalibrationError
        ``strict`` and a check failed.

    Warns
    -----
    ConvergenceWarning
        Not ``strict`` and a check failed.
    """
    if report.passed:
        return
    message = (
        "MCMC diagnostics failed: "
        + "; ".join(report.failures)
        + ". Run more tuning/draws (--tune/--draws) or more chains, or revisit the priors."
    )
    if strict:
        raise CalibrationError(message)
    warnings.warn(message, ConvergenceWarning, stacklevel=3)
