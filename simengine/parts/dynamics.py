"""Factor dynamics: the monthly VAR(1) of the stochastic factors (``dynamics: var1``).

The factors evolve on calendar months, the frequency their parameters were fitted at, whatever
the grid of the returns: a weekly or daily grid takes each month's factor flow in proportion to
the days of the month each step covers (:meth:`simengine.calendar.TimeGrid.month_weights`).
Shocks come in already drawn (:mod:`simengine.rng`); the step only does arithmetic, so a
simulation can be replayed exactly from fixed draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)

from simengine.guards import check_dynamics, correlation_cholesky
from simengine.parts.base import EventPaths, Part, PartParams, RunShape
from simengine.rng import Kind, Stream
from simengine.spec.validators import check_keys, correlations, finite
from simengine.structure import ModelStructure

if TYPE_CHECKING:
    from simengine.parts.overlays import ScenarioModel

LEVEL_STATE = "{factor}_level"
"""Start-date state of an error-correcting factor's level (``initial.credit_level``)."""

__all__ = [
    "LEVEL_STATE",
    "Var1",
    "Var1Params",
    "Var1Schema",
    "drift_offsets",
    "propagate",
    "unconditional_mean",
    "vector",
]


def vector(mapping: dict[str, float], names: tuple[str, ...]) -> np.ndarray:
    """Values of ``mapping`` in the order ``names`` (missing = 0)."""
    return np.array([float(mapping.get(n, 0.0)) for n in names])


def matrix(mapping: dict[str, dict[str, float]], names: tuple[str, ...]) -> np.ndarray:
    """Nested mapping as a matrix with rows and columns ``names`` (missing = 0)."""
    return np.array([[float(mapping.get(r, {}).get(c, 0.0)) for c in names] for r in names])


def corr_matrix(
    mapping: dict[str, dict[str, float]], names: tuple[str, ...], what: str
) -> np.ndarray:
    """Symmetric correlation matrix from upper and/or lower entries."""
    from simengine.exceptions import NumericalError

    n = len(names)
    corr = np.eye(n)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i != j:
                corr[i, j] = mapping.get(a, {}).get(b, mapping.get(b, {}).get(a, 0.0))
    if not np.allclose(corr, corr.T):
        raise NumericalError(f"{what} is not symmetric: entries given twice disagree")
    return corr


def _stochastic(info: ValidationInfo) -> tuple[str, ...]:
    return info.context["structure"].stochastic


def _factor_vector(value: dict[str, float], info: ValidationInfo) -> dict[str, float]:
    check_keys(value, _stochastic(info), "factor")
    return {k: finite(float(v), k) for k, v in value.items()}


class Var1Schema(BaseModel):
    """VAR(1) dynamics of the stochastic factors (monthly), section ``dynamics``.

    ``z_t = const + ar z_{t-1} + policy_gap (p_{t-1} - n) + surprise_pass_through * surprise_t
    + tariff_pass_through * dtau_t + error_correction * S_{t-1} + u_t``,
    ``u_t = diag(innovation_sd) chol(innovation_corr) eps_t``; ``S`` is the level of an
    error-correcting factor (``z`` is its change), starting at the scenario's
    ``initial.<factor>_level`` (e.g. ``credit_level``) or else at ``level_at_fit``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)  # "3.0", true: not numbers

    const: dict[str, float] = Field(default_factory=dict)
    ar: dict[str, dict[str, float]] = Field(default_factory=dict)
    innovation_sd: dict[str, float]
    innovation_corr: dict[str, dict[str, float]] = Field(default_factory=dict)
    innovation_dof: float | None = None
    policy_gap: dict[str, float] = Field(default_factory=dict)
    surprise_pass_through: dict[str, float] = Field(default_factory=dict)
    tariff_pass_through: dict[str, float] = Field(default_factory=dict)
    error_correction: dict[str, float] = Field(default_factory=dict)
    """Per month, on the lagged level of the factor (< 0 pulls it back to its long-run level)."""
    level_at_fit: dict[str, float] = Field(default_factory=dict)
    """Level of each error-correcting factor at the end of the fit sample (default start)."""
    repair_correlation: Annotated[bool, Strict()] = False
    """Opt-in: if innovation_corr is not positive definite, use the nearest valid correlation
    matrix (Higham 2002) with a warning instead of failing."""

    _vectors = field_validator(
        "const",
        "innovation_sd",
        "policy_gap",
        "surprise_pass_through",
        "tariff_pass_through",
        "error_correction",
        "level_at_fit",
    )(_factor_vector)

    @field_validator("ar", "innovation_corr")
    @classmethod
    def _matrix(
        cls, value: dict[str, dict[str, float]], info: ValidationInfo
    ) -> dict[str, dict[str, float]]:
        check_keys(value, _stochastic(info), "factor")
        return {k: _factor_vector(row, info) for k, row in value.items()}

    @field_validator("innovation_corr")
    @classmethod
    def _corr_range(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return correlations(value)

    @field_validator("innovation_dof")
    @classmethod
    def _dof(cls, value: float | None) -> float | None:
        if value is not None and not (value > 2.0 and math.isfinite(value)):
            raise ValueError(
                f"innovation_dof must be > 2 for a finite variance (or null for Gaussian), got {value}"
            )
        return value

    @model_validator(mode="after")
    def _sd_complete(self, info: ValidationInfo) -> Var1Schema:
        missing = [f for f in _stochastic(info) if f not in self.innovation_sd]
        if missing:
            raise ValueError(f"innovation_sd is missing {missing}")
        if any(v <= 0 for v in self.innovation_sd.values()):
            raise ValueError("innovation_sd values must be > 0")
        bad = [f for f, v in self.error_correction.items() if not -1.0 < v <= 0.0]
        if bad:
            raise ValueError(f"error_correction must be in (-1, 0] per month; got {bad}")
        no_level = [f for f, v in self.error_correction.items() if v and f not in self.level_at_fit]
        if no_level:
            raise ValueError(f"level_at_fit is missing {no_level} (error-correcting factors)")
        return self


@dataclass(frozen=True)
class Var1Params(PartParams):
    """``K`` stochastic factors, leading draw axis ``D`` (monthly units)."""

    c: np.ndarray  # (D, K)
    A: np.ndarray  # (D, K, K)
    chol: np.ndarray  # (D, K, K) Cholesky factor of the innovation covariance
    nu: np.ndarray  # (D,) innovation dof, inf = Gaussian
    g: np.ndarray  # (D, K) response per month to (p_{t-1} - n)
    s: np.ndarray  # (D, K) response to the policy surprise (pp)
    m: np.ndarray  # (D, K) response to the tariff change (pp)
    rho: np.ndarray  # (D, K) error correction on the lagged level (0: none)
    level0: np.ndarray  # (D, K) level at the fit date (start level when the scenario has none)

    dof_fields = ("nu",)
    positive = ("chol",)
    diagonal = ("chol",)

    def check(self, what: str, role: str = "") -> None:
        super().check(what, role)
        check_dynamics(self.A, f"{'A' if self.n_draws > 1 else 'dynamics.ar'} ({what})")


def unconditional_mean(A: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``(I - A)^{-1} c`` for stacks of monthly VAR parameters (the start state when none is given)."""
    eye = np.eye(A.shape[-1])
    return np.linalg.solve(eye - A, c[..., None])[..., 0]


def drift_offsets(A: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """The part of each factor's drift term that holds it in place against the other factors'
    drifts: ``-(A - diag(A)) shift_m`` for every month (D, M, K).

    Parameters
    ----------
    A : ndarray (D, K, K)
        VAR coefficients (one row per posterior draw, per path, or shared).
    shift : ndarray (M, K)
        The scenario's drifts (:attr:`simengine.parts.overlays.ScenarioModel.shift`).

    Notes
    -----
    The drift term ``(I - A) shift_m`` of :func:`exogenous_terms` is the drift itself
    ``(1 - A_ii) shift_i`` on each drifting factor and ``-sum_{j != i} A_ij shift_j`` on every
    factor: the offset that undoes what the VAR would carry from the drifting factors into
    factor ``i``. That offset is the scenario's statement that factor ``i`` stays where it is,
    so :meth:`Var1.news` counts it as known. Computed element by element, one factor ``j`` at a
    time, so each row's numbers do not depend on how many rows ``A`` has (the numpy route's
    per-path rows equal the kernels' per-draw rows).
    """
    K = A.shape[-1]
    held = np.zeros((A.shape[0], shift.shape[0], K))
    for j in range(K):
        column = A[:, :, j].copy()
        column[:, j] = 0.0
        held = held - column[:, None, :] * shift[None, :, j, None]
    return held


def exogenous_terms(
    scn: ScenarioModel, p: Var1Params, policy: EventPaths, tariff: EventPaths
) -> np.ndarray:
    """Deterministic and scenario inputs to the factor equations, ``b_m`` of :func:`propagate`.

    Notes
    -----
    ``b_m = c + g (p_{m-1} - n) + s surprise_m + m dtau_m + (I - A) shift_m + shock_m`` for each
    month ``m``, with ``p_{m-1}`` the policy rate at the end of the previous month. The shift
    term moves the factor's stationary mean by ``shift`` and leaves the others alone.

    Returns
    -------
    ndarray (m or 1, M, K)
    """
    gap = policy.gap_month
    eye = np.eye(p.A.shape[-1])
    shift = np.einsum("dij,tj->dti", eye - p.A, scn.shift)  # (D|m, M, K)
    return (
        p.c[:, None, :]
        + p.g[:, None, :] * gap[..., None]
        + p.s[:, None, :] * policy.surprise_month[..., None]
        + p.m[:, None, :] * tariff.change_month[..., None]
        + shift
        + scn.shock[None]
    )


def propagate(
    z0: np.ndarray,
    shocks: np.ndarray,
    exog: np.ndarray,
    p: Var1Params,
    scn: ScenarioModel,
    level0: np.ndarray | None = None,
    kernel: bool = False,
) -> np.ndarray:
    """Run the monthly VAR(1) forward (``kernel``: by :func:`simengine.kernel.var_propagate`,
    the same numbers; chunks with one path or one month, and per-path parameters with a factor
    count outside :data:`simengine.kernel.LANE_LENGTHS`, stay numpy).

    Parameters
    ----------
    z0 : ndarray (m or 1, K)
        State before the first month (the last observed month's values).
    shocks : ndarray (m, M, K)
        Unit-variance innovations (normal or Student-t).
    exog : ndarray (m or 1, M, K)
        :func:`exogenous_terms`.
    p : Var1Params
        Parameters (monthly), shared (leading axis 1) or per path.
    scn : ScenarioModel
        For pins.
    level0 : ndarray (m or 1, K), optional
        Start levels of the error-correcting factors (``p.rho != 0``).

    Returns
    -------
    ndarray (m, M, K)
        Factor values ``z_m`` of each month.

    Notes
    -----
    ``z_m = A z_{m-1} + rho S_{m-1} + b_m + chol eps_m``, ``S_m = S_{m-1} + z_m``; where a pin
    is set, ``z_m[k]`` is replaced by the pinned value (and the pinned value feeds month
    ``m + 1``).
    """
    m, M, K = shocks.shape
    ecm = level0 is not None and bool(np.any(p.rho))
    level = np.broadcast_to(level0, (m, K)).copy() if ecm else None
    if kernel and m > 1 and M > 1 and _kernel_orders(p, K):
        return _kernel_propagate(z0, shocks, exog, p, scn, level)
    if p.chol.shape[0] == 1:
        u = shocks @ p.chol[0].T
    else:
        u = np.einsum("mtj,mij->mti", shocks, p.chol)
    u += exog  # the drive b_m + chol eps_m, in place
    z = np.empty((m, M, K))
    prev = np.broadcast_to(z0, (m, K))
    for t in range(M):
        step = prev @ p.A[0].T if p.A.shape[0] == 1 else np.einsum("mij,mj->mi", p.A, prev)
        if level is not None:
            step += p.rho * level
        np.add(step, u[:, t], out=z[:, t])
        if scn.pin_mask[t].any():
            k = scn.pin_mask[t]
            z[:, t, k] = scn.pin_value[t, k]
        prev = z[:, t]
        if level is not None:
            level += prev
    return z


def _kernel_orders(p: Var1Params, K: int) -> bool:
    """Whether the kernel copies numpy's sum orders (per-path einsum: K in LANE_LENGTHS)."""
    from simengine.kernel import LANE_LENGTHS

    return (p.A.shape[0] == 1 and p.chol.shape[0] == 1) or K in LANE_LENGTHS


def _kernel_propagate(z0, shocks, exog, p, scn, level) -> np.ndarray:
    from simengine.kernel import var_propagate

    def arr(x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x, dtype=float)

    K = shocks.shape[2]
    return var_propagate(
        arr(np.atleast_2d(z0)),
        arr(shocks),
        arr(exog),
        arr(p.A),
        arr(p.chol),
        arr(p.rho) if level is not None else np.zeros((1, K)),
        level if level is not None else np.zeros((0, K)),
        np.ascontiguousarray(scn.pin_mask, dtype=np.bool_),
        arr(scn.pin_value),
        np.empty(shocks.shape),
    )


class Var1(Part):
    """Monthly VAR(1) of the stochastic factors with Student-t (or normal) innovations.

    Notes
    -----
    ``z_m = c + A z_{m-1} + g (p_{m-1} - n) + s surprise_m + m dtau_m + chol eps_m``, with
    ``eps_m`` unit-variance multivariate Student-t (one chi-square mixing variable per month).
    """

    role = "dynamics"
    kind = "var1"
    section = "dynamics"
    Schema = Var1Schema

    def __init__(self, structure: ModelStructure) -> None:
        self.structure = structure

    def build(
        self, schema: Var1Schema, structure: ModelStructure, where: str, repair: bool | None = None
    ) -> Var1Params:
        names = structure.stochastic
        sd = vector(schema.innovation_sd, names)
        corr = corr_matrix(schema.innovation_corr, names, "dynamics.innovation_corr")
        chol = np.diag(sd) @ correlation_cholesky(
            corr,
            f"dynamics.innovation_corr{where}",
            names,
            repair=schema.repair_correlation if repair is None else repair,
            repair_field="dynamics.repair_correlation",
        )
        dof = schema.innovation_dof
        return Var1Params(
            c=vector(schema.const, names)[None],
            A=matrix(schema.ar, names)[None],
            chol=chol[None],
            nu=np.array([np.inf if dof is None else float(dof)]),
            g=vector(schema.policy_gap, names)[None],
            s=vector(schema.surprise_pass_through, names)[None],
            m=vector(schema.tariff_pass_through, names)[None],
            rho=vector(schema.error_correction, names)[None],
            level0=vector(schema.level_at_fit, names)[None],
        )

    def streams(self, shape: RunShape, params: Var1Params) -> tuple[Stream, ...]:
        return (
            Stream(
                "factor",
                Kind.FACTOR,
                "student_t",
                (shape.n_months, shape.n_factors),
                Kind.FACTOR_CHI2,
                tuple(params.nu.tolist()),
            ),
        )

    def start(self, scn: ScenarioModel, p: Var1Params) -> np.ndarray:
        """The state before the first month: the scenario's, else the unconditional mean."""
        return scn.z0[None] if scn.z0 is not None else unconditional_mean(p.A, p.c)

    def simulate(
        self,
        scn: ScenarioModel,
        draws: Any,
        p: Var1Params,
        policy: EventPaths,
        tariff: EventPaths,
    ) -> np.ndarray:
        """Monthly factor paths ``z`` (m, M, K) (``p``: per-path parameters)."""
        exog = exogenous_terms(scn, p, policy, tariff)
        return propagate(self.start(scn, p), draws["factor"], exog, p, scn, self.levels(scn, p))

    def levels(self, scn: ScenarioModel, p: Var1Params) -> np.ndarray:
        """Start levels (D|m, K): the scenario's ``initial.<factor>_level``, else ``level_at_fit``."""
        given = np.array(
            [
                scn.states.get(LEVEL_STATE.format(factor=f), np.nan)
                for f in self.structure.stochastic
            ]
        )
        return np.where(np.isfinite(given)[None, :], np.nan_to_num(given)[None, :], p.level0)

    def news(
        self,
        z: np.ndarray,
        scn: ScenarioModel,
        p: Var1Params,
        policy: EventPaths,
        tariff: EventPaths,
    ) -> np.ndarray:
        """Factor news (m, M, K): each month's value less what was known the month before.

        Notes
        -----
        ``news_m = z_m - E_{m-1}[z_m]`` with ``E_{m-1}[z_m] = c + A z_{m-1} + g (p_{m-1} - n)
        + m (dtau_m - dtau^s_m) + h_m + rho S_{m-1}``: the VAR's own dynamics, the policy gap
        (growth's at its start level ``p_0 - n``, as in
        :func:`simengine.policy_paths.policy_factor_paths`), the pass-through of announced
        (priced) tariff changes, the drift offsets ``h_m`` (:func:`drift_offsets`) and the error
        correction are known a month ahead, so they are not news. The VAR's lagged state leaves
        out the 2-year policy component (``surprise``, added to rates outside the lag terms);
        that component, the policy part's growth channel, the innovations, policy and tariff
        surprises (``dtau^s``), and the scenario's drifts, shocks and pins are news.

        Of a drift's term ``(I - A) shift``, only the drifting factor's own
        ``(1 - A_ii) shift_i`` is news. The offsets ``h_m = -(A - diag(A)) shift_m`` hold the
        other factors where they are: they cancel what ``A z_{m-1}`` carries over from the
        drift, so a factor that does not move brings no news.
        """
        m_paths = z.shape[0]
        start = np.broadcast_to(self.start(scn, p), (m_paths, z.shape[2]))
        lagged = np.concatenate([start[:, None, :], z[:, :-1]], axis=1)
        if policy.surprise_month is not None and "rates" in self.structure.stochastic:
            # the 2-year policy component is added to rates outside the VAR's lag terms
            # (simengine.policy_paths): the VAR's state is the rest
            lagged = lagged.copy()
            k = self.structure.stochastic.index("rates")
            before = np.broadcast_to(policy.surprise_month, z.shape[:2])
            lagged[:, 1:, k] -= before[:, :-1]
        if p.A.shape[0] == 1:
            known = lagged @ p.A[0].T
        else:
            known = np.einsum("mij,mtj->mti", p.A, lagged)
        gap = np.broadcast_to(policy.gap_month[..., None], (*policy.gap_month.shape, z.shape[2]))
        if "growth" in self.structure.stochastic:  # growth keeps its gap at the start level
            k = self.structure.stochastic.index("growth")
            gap = gap.copy()
            gap[..., k] = gap[:, :1, k]
        known += p.c[:, None, :] + p.g[:, None, :] * gap
        priced = tariff.change_month
        if tariff.surprise_month is not None:
            priced = priced - tariff.surprise_month
        known += p.m[:, None, :] * priced[..., None]
        if np.any(scn.shift):  # the offsets that hold the other factors against a drift
            known += drift_offsets(p.A, scn.shift)
        if np.any(p.rho):
            level = self.levels(scn, p)[:, None, :] + np.cumsum(lagged, axis=1) - start[:, None, :]
            known += p.rho[:, None, :] * level
        return z - known
