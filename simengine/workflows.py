"""The ``weigh`` and ``report`` commands as Python functions: ``simengine.weigh``,
``simengine.make_report`` (``simengine.report`` is the report package).

Both take what the command line takes (scenario files or loaded specs) and return what it
prints or writes, so a notebook can do what a terminal does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

    from simengine.results import SimulationResult
    from simengine.spec import ScenarioSpec
    from simengine.weighting import ScenarioWeights

__all__ = ["make_report", "weigh"]


def _load(specs: Sequence[Any]) -> list[Any]:
    from simengine.spec import ScenarioSpec, load_scenario

    return [s if isinstance(s, ScenarioSpec) else load_scenario(s) for s in specs]


def weigh(
    scenarios: Sequence[ScenarioSpec | str | os.PathLike[str]],
    observed: pd.DataFrame | str | os.PathLike[str],
    prior: Mapping[str, float] | None = None,
    *,
    n_paths: int | None = None,
    seed: int | None = None,
) -> ScenarioWeights:
    """Posterior weights of scenarios given observed factor values, and their mixture.

    Parameters
    ----------
    scenarios : sequence of ScenarioSpec or paths
        Same grid and model; simulated on common random numbers.
    observed : DataFrame or path
        A CSV path (``date`` at step ends, then any of ``policy_rate, tariff, rates, growth,
        inflation, credit``) or the frame :func:`simengine.weighting.load_observations` returns.
    prior : mapping name -> weight, optional
        Prior weights (normalised); equal by default.
    n_paths, seed : int, optional

    Returns
    -------
    ScenarioWeights
        ``.table`` (prior, loglik, matched_share, posterior per scenario), ``.mixture``
        (return distribution of the weighted mixture), ``.comparison``.

    Notes
    -----
    ``posterior_i = prior_i L_i / sum_j prior_j L_j``, with ``L_i`` the likelihood of the
    observations under scenario ``i`` (exact match of policy and tariff paths, Gaussian
    predictive density for the other factors); see :mod:`simengine.weighting`.
    """
    import pandas as pd

    from simengine.weighting import load_observations, weigh_scenarios

    obs = observed if isinstance(observed, pd.DataFrame) else load_observations(observed)
    return weigh_scenarios(_load(scenarios), obs, prior, n_paths=n_paths, seed=seed)


def make_report(
    source: SimulationResult | Sequence[ScenarioSpec | str | os.PathLike[str]] | str | Path,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
    overwrite: bool = False,
    n_paths: int | None = None,
    seed: int | None = None,
    method: str | None = None,
) -> str | Path:
    """The self-contained HTML report of a result, of scenario files, or of a batch store.

    Parameters
    ----------
    source : SimulationResult, sequence of scenarios, or a batch store folder
        Scenarios are simulated (compared on common random numbers when several).
    path : path-like, optional
        Where to write the report; without it the HTML text is returned.
    title : str, optional
    overwrite : bool
        Replace an existing file at ``path``.
    n_paths, seed, method : optional
        Simulation settings when ``source`` is scenarios.

    Returns
    -------
    str or Path
        The HTML text, or the path written.
    """
    from simengine.report import build_report_from_store, render_report, write_report
    from simengine.report import write_store_report as write_store
    from simengine.results import SimulationResult

    if isinstance(source, str | os.PathLike) and Path(source).is_dir():
        if path is None:
            return build_report_from_store(source, title=title)
        return write_store(source, path, overwrite=overwrite, title=title)
    if not isinstance(source, SimulationResult):
        from simengine.api import compare, simulate

        specs = _load([source] if isinstance(source, str | os.PathLike) else source)
        kwargs = {"n_paths": n_paths, "seed": seed, "method": method}
        source = simulate(specs[0], **kwargs) if len(specs) == 1 else compare(specs, **kwargs)
    if path is None:
        return render_report(source, title=title)
    return write_report(source, path, overwrite=overwrite, title=title)
