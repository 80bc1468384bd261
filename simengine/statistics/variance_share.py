"""Share of the terminal-return variance that comes from parameter uncertainty (Bayesian runs)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from simengine import stats
from simengine.statistics.base import ChunkPaths, Column, State, Statistic, Variable

__all__ = ["ParamVarShare", "param_var_share"]


def param_var_share(count: np.ndarray, total: np.ndarray, total_sq: np.ndarray) -> np.ndarray:
    """Between-draw share of the variance from per-draw path counts, sums and sums of squares.

    Parameters
    ----------
    count : ndarray (..., D, 1)
        Paths per parameter draw.
    total, total_sq : ndarray (..., D, S)
        Sums of terminal returns and of their squares per draw (plain floats).

    Returns
    -------
    ndarray (..., S)
        The share in [0, 1].

    Notes
    -----
    Law of total variance, ``Var R = E_theta Var(R | theta) + Var_theta E(R | theta)``, with
    draw weights ``w_d = n_d / n``. The spread of the per-draw sample means ``m_d`` overstates
    ``Var_theta E(R | theta)`` by their Monte Carlo noise ``E[s_d^2 / n_d]``, so
    ``between = sum_d w_d (m_d - m)^2 - sum_d w_d s_d^2 / n_d`` and
    ``share = between / (between + sum_d w_d s_d^2)``, clipped to [0, 1].
    """
    used = count > 1
    m = np.divide(total, count, out=np.zeros(total.shape), where=used)
    ex2 = np.divide(total_sq, count, out=np.zeros_like(m), where=used)
    within = np.maximum(ex2 - m**2, 0.0) * count / np.maximum(count - 1.0, 1.0)
    w = count / count.sum(axis=-2, keepdims=True)
    grand = (w * m).sum(axis=-2, keepdims=True)
    noise = (w * within / np.maximum(count, 1.0)).sum(axis=-2)
    between = (w * (m - grand) ** 2).sum(axis=-2) - noise
    var = between + (w * within).sum(axis=-2)
    return np.clip(np.divide(between, var, out=np.zeros_like(var), where=var > 0), 0.0, 1.0)


class ParamVarShare(Statistic):
    """Per parameter draw: path count and exact sums of terminal returns and squares."""

    name = "param_var_share"
    columns = (Column("param_var_share", label="variance from parameters"),)

    @property
    def variables(self) -> tuple[Variable, ...]:
        return (
            Variable("draw_count", ("draw",)),
            Variable("draw_sum", ("draw", "series")),
            Variable("draw_sq", ("draw", "series")),
        )

    def update(self, chunk: ChunkPaths) -> State:
        D, terminal = chunk.n_draws, chunk.terminal
        if D == 1:
            return {
                "draw_count": np.array([chunk.n], np.int64),
                "draw_sum": stats.quantised_sum(terminal, axis=-1, checked=True)[None],
                "draw_sq": stats.quantised_sum(terminal, axis=-1, square=True, checked=True)[None],
            }
        out = {"draw_count": np.bincount(chunk.draw, minlength=D).astype(np.int64)}
        for name, q in (
            ("draw_sum", stats.quantise(terminal)),
            ("draw_sq", stats.quantise_sq(terminal)),
        ):
            per = [
                np.bincount(chunk.draw, weights=row.astype(np.float64), minlength=D) for row in q
            ]
            out[name] = np.rint(np.stack(per, axis=1)).astype(np.int64)
        return out

    def summary(self, ds: xr.Dataset, t: int, terminal: bool) -> dict[str, np.ndarray]:
        if not terminal:
            return {}
        count = ds["draw_count"].values.astype(np.float64)[..., None]  # (scenario, D, 1)
        if count.shape[1] < 2:
            return {"param_var_share": np.zeros((count.shape[0], len(self.layout.series)))}
        share = param_var_share(
            count,
            ds["draw_sum"].values / float(2**stats.Q_SUM),
            ds["draw_sq"].values / float(2**stats.Q_SQ),
        )
        return {"param_var_share": share}
