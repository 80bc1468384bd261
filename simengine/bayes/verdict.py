"""The convergence status of a posterior file, in words a reader can act on.

A posterior file may keep a thinned subset of the sampled draws (the packaged one keeps 500 of
2,000). Diagnostics computed on the kept draws then miss the ESS thresholds by construction:
fewer draws, lower effective sample size. The verdict that matters is the one computed at fit
time on every draw, which the file records. :func:`convergence_verdict` says which applies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["Verdict", "convergence_verdict"]


@dataclass(frozen=True)
class Verdict:
    """``status`` is ``converged``, ``converged at fit time`` or ``not converged``."""

    status: str
    ok: bool
    text: str


def _fit_rows(attrs: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    raw = attrs.get("diagnostics")
    if not raw:
        return None
    try:
        return {row["check"]: row for row in json.loads(raw)}
    except (ValueError, KeyError, TypeError):
        return None


def _figures(rows: dict[str, dict[str, Any]]) -> str:
    def value(check: str, fmt: str) -> str:
        row = rows.get(check)
        return format(float(row["value"]), fmt) if row else "n/a"

    return (
        f"R-hat {value('r_hat', '.3f')} (below 1.01), bulk ESS {value('ess_bulk', ',.0f')} and "
        f"tail ESS {value('ess_tail', ',.0f')} (above 400), {value('divergences', '.0f')} "
        "divergent transitions"
    )


def convergence_verdict(idata: Any, report: Any) -> Verdict:
    """The status of ``idata`` given its :func:`~simengine.bayes.diagnostics.diagnose` report.

    Parameters
    ----------
    idata : arviz.InferenceData
        A posterior (``posterior.attrs`` may hold ``diagnostics`` and ``thinned_from``).
    report : DiagnosticsReport
        Diagnostics of the draws in the file.

    Returns
    -------
    Verdict
    """
    attrs = dict(idata.posterior.attrs)
    kept = int(idata.posterior.sizes.get("chain", 1) * idata.posterior.sizes.get("draw", 0))
    fit = _fit_rows(attrs)
    if report.passed:
        return Verdict("converged", True, "The sampler converged: every check passes on the "
                       f"{kept:,} draws in this file.")  # fmt: skip
    fit_ok = fit is not None and all(bool(r.get("passed")) for r in fit.values())
    if fit_ok and "thinned_from" in attrs:
        total = int(attrs["thinned_from"])
        failing = _failed(report) or "some checks"
        text = (
            f"The sampler converged. At fit time, on all {total:,} draws, {_figures(fit)}. "
            f"This file keeps {kept:,} of those draws, evenly thinned, to stay small. On so "
            f"few draws the effective sample size is lower by construction, so the table below "
            f"({failing}) misses the thresholds: that measures the smaller sample, not a failed "
            f"fit. {kept:,} draws are enough here: each path takes one draw, and the parameter "
            "share of the variance comes from the spread between draws."
        )
        return Verdict("converged at fit time", True, text)
    failing = _failed(report) or "a check"
    text = (
        f"The sampler did not converge ({failing} failed). Treat the parameter uncertainty as "
        "unreliable: refit with more tuning and draws (simengine calibrate --tune 2000 "
        "--draws 2000), and check the priors if divergences remain."
    )
    return Verdict("not converged", False, text)


def _failed(report: Any) -> str:
    summary = report.summary
    return ", ".join(
        f"{name} {row['value']:.4g}" for name, row in summary[~summary["passed"]].iterrows()
    )
