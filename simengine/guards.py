"""Numerical and resource guards, checked before any simulation work is done.

Users bet money on these numbers, so a parameter set or a request that would give a silently
wrong answer (a correlation matrix that cannot exist, dynamics that explode, a variance that is
infinite) or exhaust the machine stops here with a message that names the problem, echoes the
value received and says what to do instead.

* :func:`correlation_cholesky` - Cholesky factor of a correlation matrix; not positive definite
  -> :class:`NumericalError` naming the matrix and showing the nearest valid one
  (:func:`nearest_correlation`, Higham 2002), which is used instead only when asked
  (``repair=True``; model file: ``dynamics.repair_correlation`` / ``residuals.repair_correlation``).
* :func:`check_dynamics` - VAR spectral radius >= 1 -> :class:`ExplosiveDynamicsWarning`;
  above :data:`MAX_SPECTRAL_RADIUS` -> :class:`NumericalError`.
* :meth:`simengine.parts.base.PartParams.check` (each part's parameters: finite, dof > 2,
  volatilities > 0) uses these guards' messages.
* :func:`check_run_size` - paths and estimated memory against limits -> :class:`LimitError`.

Scenario values (absurd shocks, drifts, pins) are checked in the spec layer
(:func:`simengine.spec.check_against_model`).
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from simengine.exceptions import (
    ExplosiveDynamicsWarning,
    LimitError,
    NumericalError,
    SimengineWarning,
)
from simengine.spec.fields import MAX_PATHS, limit

__all__ = [
    "MAX_MEMORY_MB",
    "MAX_SPECTRAL_RADIUS",
    "check_dynamics",
    "check_run_size",
    "correlation_cholesky",
    "estimate_run_bytes",
    "memory_limit_mb",
    "nearest_correlation",
]

MAX_SPECTRAL_RADIUS = 1.2
"""Largest VAR spectral radius accepted (with a warning from 1.0). At 1.2 a shock grows about
9x within a year (1.2**12 = 8.9): no macro factor does that, so the parameters are wrong.
Override with ``SIMENGINE_MAX_SPECTRAL_RADIUS``."""
MAX_MEMORY_MB = 16384
"""Upper end of the default memory limit (MiB). The default limit is half the machine's
physical memory, at most this; override with ``SIMENGINE_MAX_MEMORY_MB``."""
# Working bytes per path and step of one running chunk: BASE + PER_SCENARIO x scenarios.
# Measured with tracemalloc on the default model (two assets + pair): about 320 bytes for one
# scenario and 350 for two (draws, factor paths, returns, histogram indices); rounded up.
BYTES_PER_CELL_BASE = 256
BYTES_PER_CELL_SCENARIO = 128
# Bytes per scenario, series and step of the per-step histogram accumulators of one chunk.
BYTES_PER_HIST_ROW = 8 * 3002


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


# ----------------------------------------------------------------------------- correlations


def nearest_correlation(
    corr: np.ndarray, tol: float = 1e-10, max_iter: int = 500, eig_floor: float = 1e-8
) -> np.ndarray:
    """Nearest correlation matrix in the Frobenius norm (Higham 2002).

    Parameters
    ----------
    corr : ndarray (n, n)
        Symmetric matrix with unit diagonal (not necessarily positive semi-definite).
    tol : float
        Stop when successive iterates differ by less than this (max norm).
    max_iter : int
        Iteration cap of the alternating projections.
    eig_floor : float
        Smallest eigenvalue of the result, so that it has a Cholesky factor.

    Returns
    -------
    ndarray (n, n)
        Positive definite, unit diagonal, symmetric.

    Notes
    -----
    Alternating projections with Dykstra's correction between the positive semi-definite cone
    ``S`` and the unit-diagonal matrices ``U`` (N. J. Higham, "Computing the nearest correlation
    matrix - a problem from finance", IMA J. Numer. Anal. 22, 2002, algorithm 3.3); a final
    eigenvalue floor makes it strictly positive definite.
    """
    y = np.array(corr, dtype=np.float64)
    y = (y + y.T) / 2.0
    ds = np.zeros_like(y)
    x = y
    for _ in range(max_iter):
        r = y - ds
        w, v = np.linalg.eigh(r)
        x = (v * np.maximum(w, 0.0)) @ v.T
        ds = x - r
        y_new = x.copy()
        np.fill_diagonal(y_new, 1.0)
        done = np.max(np.abs(y_new - y)) < tol
        y = y_new
        if done:
            break
    w, v = np.linalg.eigh((y + y.T) / 2.0)
    y = (v * np.maximum(w, eig_floor)) @ v.T
    d = np.sqrt(np.diag(y))
    return y / np.outer(d, d)


def _format_matrix(m: np.ndarray, names: tuple[str, ...]) -> str:
    pairs = [
        f"{names[i]}-{names[j]}: {m[i, j]:.4f}"
        for i in range(len(names))
        for j in range(i + 1, len(names))
    ]
    return ", ".join(pairs)


def correlation_cholesky(
    corr: np.ndarray,
    what: str,
    names: tuple[str, ...],
    *,
    repair: bool = False,
    repair_field: str = "",
) -> np.ndarray:
    """Cholesky factor of a correlation matrix, repairing it only when asked.

    Parameters
    ----------
    corr : ndarray (n, n)
        Symmetric, unit diagonal.
    what : str
        Name of the matrix in messages (e.g. ``dynamics.innovation_corr in model.yaml``).
    names : tuple of str
        Row/column names, to show the nearest valid matrix.
    repair : bool
        Use the nearest valid correlation matrix instead of failing (with a warning).
    repair_field : str
        The setting that turns ``repair`` on, named in the error.

    Raises
    ------
    NumericalError
        The matrix is not positive definite and ``repair`` is false.
    """
    if not np.all(np.isfinite(corr)) or np.any(np.abs(corr) > 1.0 + 1e-12):
        raise NumericalError(f"{what} has entries outside [-1, 1] or not finite: {corr.tolist()}")
    try:
        return np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:
        pass
    smallest = float(np.linalg.eigvalsh(corr).min())
    fixed = nearest_correlation(corr)
    shown = _format_matrix(fixed, names)
    if not repair:
        how = f"set `{repair_field}: true`" if repair_field else "pass repair_correlation=True"
        raise NumericalError(
            f"{what} is not positive definite (smallest eigenvalue {smallest:.4g}): these "
            "correlations cannot all hold at once. Fix them, or "
            f"{how} to use the nearest valid correlation matrix (Higham 2002): {shown}"
        )
    warnings.warn(
        f"{what} is not positive definite (smallest eigenvalue {smallest:.4g}); using the "
        f"nearest valid correlation matrix (Higham 2002) as asked: {shown}",
        SimengineWarning,
        stacklevel=3,
    )
    return np.linalg.cholesky(fixed)


# ----------------------------------------------------------------------------- parameters


def check_dynamics(A: np.ndarray, what: str = "dynamics.ar") -> float:
    """Warn about (or reject) explosive VAR dynamics; returns the largest spectral radius.

    Parameters
    ----------
    A : ndarray (D, K, K)
        Monthly VAR matrices, one per draw.
    what : str
        Where the matrices come from, for the message.

    Raises
    ------
    NumericalError
        Some draw has spectral radius above :data:`MAX_SPECTRAL_RADIUS`.

    Warns
    -----
    ExplosiveDynamicsWarning
        Some draw has spectral radius >= 1 (shocks never die out; paths may explode).
    """
    radius = np.abs(np.linalg.eigvals(A)).max(axis=-1)
    worst = int(np.argmax(radius))
    rho = float(radius[worst])
    bound = _env_float("SIMENGINE_MAX_SPECTRAL_RADIUS", MAX_SPECTRAL_RADIUS)
    draw = f" (draw {worst} of {len(radius)})" if len(radius) > 1 else ""
    if rho > bound:
        raise NumericalError(
            f"{what} is explosive: spectral radius {rho:.4g}{draw} is above the limit {bound:g} "
            f"(a shock would grow {rho**12:.3g}x within a year); fit or write a stationary VAR "
            "(all eigenvalues of ar inside the unit circle), or raise the limit with "
            "SIMENGINE_MAX_SPECTRAL_RADIUS=<value>"
        )
    if rho >= 1.0:
        n_bad = int((radius >= 1.0).sum())
        warnings.warn(
            f"{what} has spectral radius {rho:.4g} >= 1{draw}; {n_bad} draw(s) are not "
            "stationary: shocks never die out and long-horizon paths may explode",
            ExplosiveDynamicsWarning,
            stacklevel=3,
        )
    return rho


# ----------------------------------------------------------------------------- run size


def estimate_run_bytes(
    chunk_paths: int,
    n_steps: int,
    n_series: int,
    n_scenarios: int,
    threads: int = 1,
    n_sample: int = 0,
) -> int:
    """Estimated peak memory of a run in bytes.

    ``threads`` chunks run at once, each holding its working arrays (``BYTES_PER_CELL_*`` per
    path and step); up to ``2 * threads`` finished chunks wait to be merged
    (:func:`simengine.simulate._map_bounded`), each holding per-step histograms
    (``n_series * n_steps`` rows of 3,002 int64 bins per scenario); the merged totals and the
    kept sample paths come on top.
    """
    threads = max(threads, 1)
    hist = n_scenarios * n_series * n_steps * BYTES_PER_HIST_ROW
    per_cell = BYTES_PER_CELL_BASE + BYTES_PER_CELL_SCENARIO * n_scenarios
    work = threads * chunk_paths * n_steps * per_cell
    waiting = (2 * threads if threads > 1 else 1) * hist
    sample = n_scenarios * n_sample * n_steps * (n_series + 6) * 8
    return int(work + waiting + hist + sample)


def memory_limit_mb() -> float:
    """The memory limit in MiB: ``SIMENGINE_MAX_MEMORY_MB``, else half the physical memory
    (at most :data:`MAX_MEMORY_MB`)."""
    if "SIMENGINE_MAX_MEMORY_MB" in os.environ:
        return _env_float("SIMENGINE_MAX_MEMORY_MB", MAX_MEMORY_MB)
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    except (ValueError, OSError, AttributeError):
        return float(MAX_MEMORY_MB)
    return float(min(MAX_MEMORY_MB, physical / 2))


def check_run_size(
    n_paths: int,
    chunk_paths: int,
    n_steps: int,
    n_series: int,
    n_scenarios: int,
    threads: int = 1,
    n_sample: int = 0,
    max_paths: int | None = None,
) -> None:
    """Check the path count and the estimated memory of a run against their limits.

    ``max_paths`` replaces the path limit (a cluster run has its own,
    :func:`simengine.cluster.cluster_path_limit`); memory is per process either way.

    Raises
    ------
    LimitError
        Saying the limit, the value received and how to change it.
    """
    most = limit("SIMENGINE_MAX_PATHS", MAX_PATHS) if max_paths is None else max_paths
    if not 1 <= n_paths <= most:
        env = "SIMENGINE_MAX_PATHS" if max_paths is None else "SIMENGINE_MAX_CLUSTER_PATHS"
        raise LimitError(
            f"{n_paths:_} paths requested; expected 1 to {most:_} (a safety limit): run several "
            f"batches with different seeds, or raise the limit with {env}=<n>"
        )
    need = estimate_run_bytes(chunk_paths, n_steps, n_series, n_scenarios, threads, n_sample)
    cap = memory_limit_mb()
    if need > cap * 2**20:
        raise LimitError(
            f"the run would need about {need / 2**20:,.0f} MiB ({chunk_paths:_} paths per chunk x "
            f"{n_steps} steps x {n_scenarios} scenario(s) x {threads} thread(s)), above the "
            f"limit of {cap:,.0f} MiB (a safety limit): use a smaller --chunk-size, fewer "
            "threads, a coarser frequency or a shorter horizon, or raise the limit with "
            "SIMENGINE_MAX_MEMORY_MB=<MiB>"
        )
