"""All randomness of simengine is drawn here.

Reproducibility contract
------------------------
Paths are split into fixed *blocks* of :data:`BLOCK` paths. Every block and every kind of draw
(factor shocks, asset shocks, jumps, FOMC outcomes, tariff events, posterior draw index) has its
own stream, ``SeedSequence(seed, spawn_key=(block, kind))``. A chunk of the simulation is a
whole number of blocks, so the numbers a path sees depend only on the seed, its index and the
run's shape — never on the chunk size, the number of workers or the order chunks complete.
Two scenarios simulated with the same seed and grid see the same draws (common random numbers),
also when one has random tariff events and the other not, because each kind has its own stream
and per-event draws are laid out event-major.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property

import numpy as np

__all__ = ["BLOCK", "DrawPlan", "Draws", "Kind", "Stream", "draw_blocks", "root_seed"]

BLOCK = 4096
"""Paths per random-number block (part of the reproducibility contract: do not change lightly)."""


class Kind(IntEnum):
    """Stream numbers in use, one per kind of draw (the part that draws it in brackets).

    A new part declares its streams (:class:`Stream`) with new numbers; numbers are never
    reused, so adding a part leaves every other part's draws unchanged.
    """

    FACTOR = 0  # (dynamics) factor shocks
    FACTOR_CHI2 = 1  # (dynamics) their Student-t mixing
    ASSET = 2  # (residuals) asset shocks
    ASSET_CHI2 = 3  # (residuals) their Student-t mixing
    JUMP_U = 4  # (jumps) jump counts
    JUMP_Z = 5  # (jumps) jump sizes
    DECISION = 6  # (policy) random FOMC decisions
    TARIFF = 7  # (overlays) random tariff events
    PARAM_DRAW = 8  # (engine) posterior draw of each path
    VOL_LEVEL = 9  # (residuals: vol_state) each path's variance level


def root_seed(seed: int | np.random.SeedSequence | np.random.Generator) -> np.random.SeedSequence:
    """Turn a seed into the root :class:`numpy.random.SeedSequence`.

    An ``int`` or ``SeedSequence`` is used as is; a ``Generator`` contributes 128 bits of entropy
    drawn from it (so it advances).
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(
            int(seed.integers(0, 2**63)) << 64 | int(seed.integers(0, 2**63))
        )
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.SeedSequence(int(seed))
    raise TypeError(f"seed must be a non-negative int, a SeedSequence or a Generator, got {seed!r}")


def _stream(root: np.random.SeedSequence, block: int, kind: int) -> np.random.Generator:
    ss = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, block, int(kind)))
    return np.random.Generator(np.random.PCG64(ss))


@dataclass(frozen=True)
class Stream:
    """One kind of draw a part needs, with its own random stream.

    Attributes
    ----------
    name : str
        Key of the array in :class:`Draws`.
    kind : int
        Stream number (part of the reproducibility contract): the stream of block ``b`` is
        ``SeedSequence(seed, spawn_key=(b, kind))``. :class:`Kind` lists the numbers in use;
        a new part takes a new number.
    dist : {"normal", "student_t", "uniform_steps", "uniform_events"}
        ``normal``: standard normals, per path shape ``shape``. ``student_t``: the same normals
        times ``sqrt((nu - 2) / W)``, ``W ~ chi2(nu)`` drawn from stream ``scale_kind``, one
        ``W`` per path and ``shape[0]`` period, shared across the last axis (unit variance).
        ``uniform_steps``: uniforms per path and period ``shape = (T,)``, drawn period-major.
        ``uniform_events``: one uniform per event and path, stored event-major ``(E, n)``.
    shape : tuple of int
        Per-path shape (``(E,)`` for events).
    scale_kind : int, optional
        Stream of the chi-square mixing variable (``student_t`` only).
    nu : tuple of float
        Degrees of freedom per parameter draw (``student_t``; ``inf`` = Gaussian, no mixing).
    """

    name: str
    kind: int
    dist: str
    shape: tuple[int, ...]
    scale_kind: int | None = None
    nu: tuple[float, ...] = (float("inf"),)

    @cached_property
    def nu_array(self) -> np.ndarray:
        """``nu`` as an array, built once per stream (not per block: a tuple of 1,600
        posterior draws takes tens of microseconds to convert)."""
        return np.asarray(self.nu, dtype=float)


@dataclass(frozen=True)
class DrawPlan:
    """The draws one path needs: the streams of the model's parts.

    Attributes
    ----------
    n_paths : int
        Paths in the whole run (fixes the length of the last block).
    streams : tuple of Stream
        One per kind of draw; kinds must be distinct.
    n_param_draws : int
        Posterior draws to choose from (1 = point parameters, no index drawn).
    antithetic : bool
        Pair path ``i`` with path ``i + ceil(b/2)`` of its block (``b`` = block length) by
        negating normals and reflecting uniforms; the pair shares its chi-square mixing draws and
        its posterior draw.
    """

    n_paths: int
    streams: tuple[Stream, ...] = ()
    n_param_draws: int = 1
    antithetic: bool = False

    def __post_init__(self) -> None:
        kinds = [s.kind for s in self.streams] + [
            s.scale_kind for s in self.streams if s.scale_kind is not None
        ]
        if int(Kind.PARAM_DRAW) in kinds or len(set(kinds)) != len(kinds):
            raise ValueError(f"stream kinds must be distinct (and not PARAM_DRAW): {kinds}")

    def block_length(self, block: int) -> int:
        return min(BLOCK, self.n_paths - block * BLOCK)

    @property
    def n_blocks(self) -> int:
        return -(-self.n_paths // BLOCK)


@dataclass(frozen=True)
class Draws:
    """The random numbers of a range of paths (``m`` paths): one array per stream, by name
    (``draws["factor"]`` or ``draws.factor``), and ``param_draw`` (m,), the posterior draw of
    each path. ``uniform_events`` arrays are event-major ``(E, m)``; the others path-major.
    """

    param_draw: np.ndarray
    values: dict[str, np.ndarray]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("__") or name in ("values", "param_draw"):
            raise AttributeError(name)
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def _uniforms(gen: np.random.Generator, n: int, lead: int | None, anti: bool) -> np.ndarray:
    """Uniforms of shape (n, lead) path-major, or (lead, n) event-major when ``lead`` is given."""
    half = -(-n // 2) if anti else n
    base = gen.random((lead, half) if lead is not None else (half,))
    if not anti:
        return base
    return np.concatenate([base, 1.0 - base[..., : n - half]], axis=-1)


def _t_gamma(
    gen: np.random.Generator, nu: np.ndarray, n_steps: int, anti: bool, doubled: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``W ~ chi2(nu)`` (half, T), the numerators ``nu - 2`` (half, 1) and the finite-``nu``
    mask (n,) of :func:`_t_scale`; ``None`` when every path is Gaussian. ``doubled=False``:
    the gamma variates ``W / 2`` as drawn (the kernel doubles them in its pass, exactly)."""
    finite = np.isfinite(nu)
    if not finite.any():
        return None
    n = nu.size
    half = -(-n // 2) if anti else n
    shape = np.where(finite, nu, 4.0)[:half, None] / 2.0
    if finite.all() and (nu == nu[0]).all():
        # one shape for the block: the scalar-shape sampler draws the same numbers, faster
        w = gen.standard_gamma(float(shape[0, 0]), size=(half, n_steps))
    else:
        # a contiguous array of shapes: numpy walks it faster than a stride-0 broadcast (the
        # same numbers: one variate per element in C order either way)
        w = gen.standard_gamma(np.repeat(shape, n_steps, axis=1))
    if doubled:
        w *= 2.0
    return w, shape * 2.0 - 2.0, finite


def _t_scale(
    gen: np.random.Generator, nu: np.ndarray, n_steps: int, anti: bool
) -> np.ndarray | None:
    """Student-t scales ``sqrt((nu - 2) / W)``, ``W ~ chi2(nu)``, shape (n, T); shared within a pair.

    ``nu`` holds each path's degrees of freedom; ``None`` when every path is Gaussian.
    """
    drawn = _t_gamma(gen, nu, n_steps, anti)
    if drawn is None:
        return None
    w, numerator, finite = drawn
    n, half = nu.size, w.shape[0]
    scale = np.sqrt(numerator / w)
    scale[~finite[:half]] = 1.0
    return np.concatenate([scale, scale[: n - half]]) if anti else scale


def _normals_into(gen: np.random.Generator, out: np.ndarray, anti: bool) -> None:
    """Fill ``out`` (n, ...) with standard normals; the same numbers as :func:`_normals`."""
    if not anti:
        gen.standard_normal(out=out)
        return
    n = out.shape[0]
    half = -(-n // 2)
    gen.standard_normal(out=out[:half])
    np.negative(out[: n - half], out=out[half:])


def _empty(n: int, stream: Stream) -> np.ndarray:
    if stream.dist == "uniform_events":
        return np.empty((*stream.shape, n))
    return np.empty((n, *stream.shape))


def _fill(
    root: np.random.SeedSequence,
    block: int,
    stream: Stream,
    out: np.ndarray,
    rows: slice,
    param_draw: np.ndarray,
    anti: bool,
    kernel: bool = False,
) -> None:
    """Draw one stream of one block into ``out`` (rows ``rows``; ``kernel``: Student-t scaling
    by :func:`simengine.kernel.t_scale_into`, the same numbers)."""
    n = rows.stop - rows.start
    gen = _stream(root, block, stream.kind)
    if stream.dist == "uniform_events":
        out[:, rows] = _uniforms(gen, n, stream.shape[0], anti)
    elif stream.dist == "uniform_steps":
        out[rows] = _uniforms(gen, n, stream.shape[0], anti).T
    else:
        view = out[rows]
        _normals_into(gen, view, anti)
        if stream.dist == "student_t":
            assert stream.scale_kind is not None
            nu = np.take(stream.nu_array, param_draw)
            gen = _stream(root, block, stream.scale_kind)
            if kernel:  # the same scales and products in one compiled pass
                from simengine.kernel import t_scale_into

                drawn = _t_gamma(gen, nu, stream.shape[0], anti, doubled=False)
                if drawn is not None:
                    t_scale_into(view.reshape(n, stream.shape[0], -1), *drawn)
                return
            scale = _t_scale(gen, nu, stream.shape[0], anti)
            if scale is not None:
                view *= scale.reshape(scale.shape + (1,) * (view.ndim - 2))


def _draw_block_into(
    root: np.random.SeedSequence,
    block: int,
    plan: DrawPlan,
    out: Draws,
    lo: int,
    kernel: bool = False,
) -> None:
    """Draw block ``block`` into rows ``lo : lo + block_length`` of ``out`` (no concatenation)."""
    n = plan.block_length(block)
    rows = slice(lo, lo + n)
    anti = plan.antithetic
    half = -(-n // 2) if anti else n
    if plan.n_param_draws > 1:
        idx = _stream(root, block, Kind.PARAM_DRAW).integers(0, plan.n_param_draws, size=half)
        param_draw = np.concatenate([idx, idx[: n - half]]) if anti else idx
    else:
        param_draw = np.zeros(n, dtype=np.int64)
    out.param_draw[rows] = param_draw
    for stream in plan.streams:
        _fill(root, block, stream, out.values[stream.name], rows, param_draw, anti, kernel)


def draw_blocks(
    root: np.random.SeedSequence,
    first_block: int,
    n_blocks: int,
    plan: DrawPlan,
    kernel: bool = False,
) -> Draws:
    """Draws for the whole blocks ``first_block .. first_block + n_blocks - 1``, concatenated.

    ``kernel``: the Student-t scaling in the compiled kernel (the same numbers as numpy's).

    Each block is drawn straight into its rows of the output arrays (no per-block copies).
    """
    blocks = range(first_block, first_block + n_blocks)
    n = sum(plan.block_length(b) for b in blocks)
    out = Draws(np.empty(n, dtype=np.int64), {s.name: _empty(n, s) for s in plan.streams})
    lo = 0
    for b in blocks:
        _draw_block_into(root, b, plan, out, lo, kernel)
        lo += plan.block_length(b)
    return out
