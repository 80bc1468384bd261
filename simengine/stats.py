"""Streaming, order-independent statistics of simulated returns.

Memory must not grow with the path count, and the same seed must give the same numbers however
the paths are split into chunks or workers. Floating-point sums depend on the order of
addition, so every accumulator here is *integer*: counts, and sums of values quantised to a fixed
grid (``round(x * 2**Q)``) that are exact in int64 or in float64 below 2**53. Adding integers is
associative, so merging chunks in any order gives bit-identical totals.

Histograms use bins that are uniform in ``asinh(x / SCALE)``: about 0.5bp wide near zero and
0.1% of the value in the tails, covering +-100 (i.e. -10,000% to +10,000%) with an underflow and
an overflow bin. Quantiles interpolate linearly inside a bin; expected shortfall uses the exact
per-bin sums.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simengine.exceptions import NumericalError

__all__ = [
    "FINE",
    "COARSE",
    "BinGrid",
    "es_from_hist",
    "quantile_from_hist",
    "quantise",
    "quantise_sq",
]

# Quantisation steps, chosen so that 1e8 paths of |x| <= MAX_ABS cannot overflow the exact sums:
Q_SUM = 24  # values: 100 * 2**24 * 1e8 = 1.7e17 < 2**63
Q_SQ = 20  # squares: 100**2 * 2**20 * 1e8 = 1.0e18 < 2**63
Q_BIN = 16  # per-bin sums held in float64: 100 * 2**16 * 1e8 = 6.6e14 < 2**53
MAX_ABS = 100.0  # |cumulative return| beyond 10,000% is an overflow, not a return


@dataclass(frozen=True)
class BinGrid:
    """Histogram bins uniform in ``asinh(x / scale)`` on ``[-limit, limit]``.

    Index 0 is the underflow bin and index ``n_bins + 1`` the overflow bin.
    """

    n_bins: int
    scale: float = 0.01
    limit: float = 100.0

    @property
    def z_max(self) -> float:
        return float(np.arcsinh(self.limit / self.scale))

    @property
    def edges(self) -> np.ndarray:
        """The ``n_bins + 1`` inner bin edges in value units."""
        return self.scale * np.sinh(np.linspace(-self.z_max, self.z_max, self.n_bins + 1))

    @property
    def size(self) -> int:
        return self.n_bins + 2

    def transform(self, x: np.ndarray) -> np.ndarray:
        """``asinh(x / scale)``: the coordinate in which the bins are uniform.

        Grids with the same ``scale`` share it, so it is computed once for several histograms.
        """
        z = np.divide(x, self.scale)
        return np.arcsinh(z, out=z)

    def index(self, x: np.ndarray) -> np.ndarray:
        """Bin index of each value (0 = underflow, n_bins + 1 = overflow)."""
        return self.index_from_z(self.transform(x))

    def index_from_z(self, z: np.ndarray, offset: np.ndarray | float = 0.0) -> np.ndarray:
        """Bin index (int64) from :meth:`transform` values, plus an integer ``offset`` (broadcast).

        ``offset`` lets several histograms share one flat ``bincount`` (row ``r`` adds
        ``r * size``). Bit-identical to ``clip(floor((z + z_max) * n / (2 z_max)) + 1, 0, n + 1)``;
        the work is done in place on a float64 copy (the clip before the cast is exact).
        """
        f = np.add(z, self.z_max)
        f *= self.n_bins / (2.0 * self.z_max)
        np.floor(f, out=f)
        np.clip(f, -1.0, float(self.n_bins), out=f)
        f += np.add(offset, 1.0)
        return f.astype(np.int64)


FINE = BinGrid(n_bins=24_000)
"""Grid of terminal-return histograms (summary statistics, difference distributions)."""
COARSE = BinGrid(n_bins=3_000)
"""Grid of per-step histograms (fan charts)."""


def check_finite(x: np.ndarray, what: str) -> None:
    """Raise :class:`NumericalError` naming ``what`` if ``x`` has NaN, inf or absurd values."""
    bad = ~np.isfinite(x) | (np.abs(x) > MAX_ABS)
    if bad.any():
        n = int(bad.sum())
        raise NumericalError(
            f"{n} non-finite or overflowing value(s) in {what} (|value| > {MAX_ABS:g} or NaN/inf); "
            "the parameters or scenario make returns explode: check volatilities, jump sizes and "
            "the VAR's stability"
        )


def quantise(x: np.ndarray, q: int = Q_SUM) -> np.ndarray:
    """``round(x * 2**q)`` as int64."""
    return np.rint(x * float(2**q)).astype(np.int64)


def quantise_sq(x: np.ndarray) -> np.ndarray:
    """Quantised squares, ``round(x**2 * 2**Q_SQ)`` as int64."""
    return np.rint(np.square(x) * float(2**Q_SQ)).astype(np.int64)


SUM_SLICE = 2**19
"""Paths summed in float64 at a time by :func:`quantised_sum`: with ``|x| <= MAX_ABS`` every
partial sum of quantised values or squares stays below 2**53, so the float sums are exact integers."""


INT64_EXACT = {False: 2.0**38, True: 2.0**21}
"""Largest ``|x|`` whose quantised value (square) still fits int64 exactly: below it the
compiled sums give the int64 route's integers (int64 additions wrap alike in any order)."""


def quantised_sum(
    x: np.ndarray, axis: int, square: bool = False, checked: bool = False
) -> np.ndarray:
    """Exact ``quantise(x).sum(axis)`` (or ``quantise_sq``) as int64, without int64 temporaries.

    Values are quantised in float64 (``rint`` of a power-of-two multiple, so bit-identical to
    :func:`quantise` / :func:`quantise_sq`) and summed in float64 over slices of
    :data:`SUM_SLICE` along ``axis``; each slice sum is an exact integer when ``|x| <= MAX_ABS``.
    Larger values fall back to the int64 path, so the result is always exact (``checked=True``
    says the caller has already verified ``|x| <= MAX_ABS``).
    """
    n = x.shape[axis]
    if n == 0:
        return np.zeros(np.delete(x.shape, axis), np.int64)
    fast = _compiled_sum(x, axis, square, np.inf if checked else INT64_EXACT[square])
    if fast is not None:
        return fast
    if not checked and not float(np.max(np.abs(x))) <= MAX_ABS:
        q = quantise_sq(x) if square else quantise(x)
        return q.sum(axis=axis)
    total = None
    for lo in range(0, n, SUM_SLICE):
        part = np.take(x, np.arange(lo, min(n, lo + SUM_SLICE)), axis=axis) if n > SUM_SLICE else x
        if square:
            y = np.multiply(part, float(2 ** (Q_SQ // 2)))
            np.square(y, out=y)
        else:
            y = np.multiply(part, float(2**Q_SUM))
        np.rint(y, out=y)
        s = y.sum(axis=axis).astype(np.int64)
        total = s if total is None else total + s
    return total


def _compiled_sum(x: np.ndarray, axis: int, square: bool, limit: float) -> np.ndarray | None:
    """:func:`quantised_sum` of a C-contiguous array over its first or last axis, by
    :func:`simengine.kernel.quantised_sums` in one pass (the same integers, and the range check
    ``|x| <= limit`` in the same pass); ``None`` when the array does not qualify or a value is
    out of range (then the checked numpy route)."""
    axis = axis % x.ndim
    if not (x.flags.c_contiguous and x.dtype == np.float64 and axis in (0, x.ndim - 1)):
        return None
    from simengine.kernel import quantised_sums

    scale = float(2 ** (Q_SQ // 2)) if square else float(2**Q_SUM)
    over_rows = axis == 0
    rest = x.shape[1:] if over_rows else x.shape[:-1]
    rows = x.reshape(x.shape[0], -1) if over_rows else x.reshape(-1, x.shape[-1])
    sums, ok = quantised_sums(rows, scale, square, over_rows, limit)
    return sums.reshape(rest) if ok else None


def bincount_exact(index: np.ndarray, values: np.ndarray | None, size: int) -> np.ndarray:
    """Counts (int64) or exact quantised per-bin sums (float64 holding integers) over flat bins."""
    if values is None:
        return np.bincount(index.ravel(), minlength=size).astype(np.int64)
    weights = np.rint(values.ravel() * float(2**Q_BIN))
    return np.bincount(index.ravel(), weights=weights, minlength=size)


def quantile_from_hist(
    counts: np.ndarray,
    grid: BinGrid,
    q: np.ndarray,
    sums: np.ndarray | None = None,
    floor: np.ndarray | None = None,
) -> np.ndarray:
    """Quantiles from histogram counts, linear inside the bin.

    Parameters
    ----------
    counts : ndarray (..., n_bins + 2)
    grid : BinGrid
    q : ndarray (Q,)
        Probabilities in (0, 1).
    sums : ndarray (..., n_bins + 2), optional
        Exact per-bin sums (quantised, as accumulated). When given, the values in the bin are
        taken as spread uniformly over the widest interval inside the bin whose mean is the
        bin's exact mean, so a point mass gives its exact value.
    floor : ndarray (..., 1), optional
        Smallest possible value of each row (-1 for an asset's simple return: a long position
        cannot lose more than 100%). Bin intervals are cut at it, so no quantile falls below
        it while the quantiles stay in order.

    Returns
    -------
    ndarray (..., Q)
        Values; an underflow/overflow quantile returns the grid limit (with |value| = limit).
    """
    cum = np.cumsum(counts, axis=-1)
    n = cum[..., -1:]
    target = np.asarray(q, dtype=np.float64) * n  # (..., Q)
    idx = np.empty(target.shape, dtype=np.int64)
    for pos in np.ndindex(counts.shape[:-1]):
        idx[pos] = np.searchsorted(cum[pos], target[pos], side="left")
    idx = np.clip(idx, 0, grid.n_bins + 1)
    edges = np.concatenate([[-grid.limit], grid.edges, [grid.limit]])
    lo = np.where(idx == 0, -grid.limit, edges[np.clip(idx - 1, 0, None)])
    hi = np.where(idx == grid.n_bins + 1, grid.limit, edges[np.clip(idx, 0, edges.size - 1)])
    if floor is not None:  # no value lies below the floor (binning may round across an edge)
        lo, hi = np.maximum(lo, floor), np.maximum(hi, floor)
    if sums is not None:
        bin_sum = np.take_along_axis(sums, idx, axis=-1) / float(2**Q_BIN)
        bin_n = np.take_along_axis(counts, idx, axis=-1)
        mean = np.clip(np.divide(bin_sum, bin_n, out=(lo + hi) / 2, where=bin_n > 0), lo, hi)
        half = np.minimum(mean - lo, hi - mean)
        lo, hi = mean - half, mean + half
    below = np.take_along_axis(cum, np.clip(idx - 1, 0, None), axis=-1) * (idx > 0)
    inbin = np.take_along_axis(counts, idx, axis=-1)
    frac = np.divide(target - below, inbin, out=np.zeros_like(target), where=inbin > 0)
    return lo + np.clip(frac, 0.0, 1.0) * (hi - lo)


def es_from_hist(counts: np.ndarray, sums: np.ndarray, grid: BinGrid, alpha: float) -> np.ndarray:
    """Mean of the lowest ``alpha`` fraction of values (the expected value below the VaR).

    Full bins below the quantile contribute their exact sums; the bin that holds the quantile
    contributes the share of paths needed at its own mean value.
    """
    cum = np.cumsum(counts, axis=-1)
    n = cum[..., -1]
    k = alpha * n
    csum = np.cumsum(sums, axis=-1) / float(2**Q_BIN)
    idx = np.empty(n.shape, dtype=np.int64)
    for pos in np.ndindex(n.shape):
        idx[pos] = np.searchsorted(cum[pos], k[pos], side="left")
    idx = np.clip(idx, 0, counts.shape[-1] - 1)
    pick = idx[..., None]
    below_n = np.where(
        idx > 0, np.take_along_axis(cum, np.clip(pick - 1, 0, None), axis=-1)[..., 0], 0
    )
    below_s = np.where(
        idx > 0, np.take_along_axis(csum, np.clip(pick - 1, 0, None), axis=-1)[..., 0], 0.0
    )
    bin_n = np.take_along_axis(counts, pick, axis=-1)[..., 0]
    bin_s = np.take_along_axis(sums, pick, axis=-1)[..., 0] / float(2**Q_BIN)
    bin_mean = np.divide(bin_s, bin_n, out=np.zeros_like(bin_s), where=bin_n > 0)
    total = below_s + (k - below_n) * bin_mean
    return np.divide(total, k, out=np.zeros_like(total), where=k > 0)
