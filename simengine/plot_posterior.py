"""Posterior plots (ArviZ): the forest plot of the fitted loadings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from simengine.exceptions import SimengineError
from simengine.plot_base import OKABE_ITO, _axes, _wrap

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_posterior_loadings"]


def plot_posterior_loadings(
    idata: Any,
    var_names: Sequence[str] = ("beta", "kappa"),
    ax: Axes | None = None,
    hdi_prob: float = 0.94,
) -> Figure:
    """Forest plot of posterior loadings (means and HDIs) with ArviZ.

    Parameters
    ----------
    idata : arviz.InferenceData
        Any InferenceData with a ``posterior`` group.
    var_names : sequence of str
        Posterior variables to plot (those present are drawn; default ``beta`` and ``kappa``).
    ax : matplotlib Axes, optional
    hdi_prob : float
        Width of the highest-density interval.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import arviz as az

    posterior = getattr(idata, "posterior", None)
    if posterior is None:
        raise SimengineError("the InferenceData has no posterior group to plot")
    present = [v for v in var_names if v in posterior.data_vars]
    if not present:
        raise SimengineError(
            f"none of {list(var_names)} is in the posterior; it has {sorted(posterior.data_vars)}"
        )
    n_rows = int(sum(np.prod(posterior[v].shape[2:], dtype=int) for v in present))
    fig, ax = _axes(ax, (8.0, 1.5 + 0.25 * n_rows))
    az.plot_forest(idata, var_names=present, combined=True, hdi_prob=hdi_prob, ax=ax,
                   colors=OKABE_ITO[0])  # fmt: skip
    ax.axvline(0.0, color="0.4", lw=0.8, ls=":")
    ax.set_xlabel(_wrap("posterior value (return per unit of the exposure, or per pp)", ax))
    ax.set_title("")  # ArviZ writes "94.0% HDI" as the centred title: it said so over ours
    ax.set_title(f"Posterior of {', '.join(present)}: mean and {hdi_prob:.0%} HDI", loc="left",
                 fontsize="medium", pad=12)  # fmt: skip
    return fig
