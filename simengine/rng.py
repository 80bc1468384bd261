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

import numpy as np

__all__ = ["BLOCK", "DrawPlan", "Draws", "Kind", "draw_blocks", "root_seed"]

BLOCK = 4096
"""Paths per random-number block (part of the reproducibility contract: do not change lightly)."""


class Kind(IntEnum):
    """Independent streams, one per kind of draw."""

    FACTOR = 0
    FACTOR_CHI2 = 1
    ASSET = 2
    ASSET_CHI2 = 3
    JUMP_U = 4
    JUMP_Z = 5
    DECISION = 6
    TARIFF = 7
    PARAM_DRAW = 8


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


def _stream(root: np.random.SeedSequence, block: int, kind: Kind) -> np.random.Generator:
    ss = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, block, int(kind)))
    return np.random.Generator(np.random.PCG64(ss))


@dataclass(frozen=True)
class DrawPlan:
    """Shapes of the draws one path needs.

    Attributes
    ----------
    n_paths : int
        Paths in the whole run (fixes the length of the last block).
    n_steps, n_factors, n_assets : int
        Grid steps (asset shocks and jumps), stochastic factors, assets.
    n_months : int
        Calendar months of the factor VAR (factor shocks); 0 means ``n_steps``.
    n_meetings : int
        FOMC meetings in the window (one uniform each, used where the decision is random).
    n_tariff_events : int
        Tariff steps with a probability (one uniform each).
    n_param_draws : int
        Posterior draws to choose from (1 = point parameters, no index drawn).
    nu_f, nu_a : tuple of float
        Student-t degrees of freedom of factor and asset shocks, one per parameter draw
        (``inf`` = Gaussian, no mixing variable drawn).
    antithetic : bool
        Pair path ``i`` with path ``i + ceil(b/2)`` of its block (``b`` = block length) by
        negating normals and reflecting uniforms; the pair shares its chi-square mixing draws and
        its posterior draw.
    """

    n_paths: int
    n_steps: int
    n_factors: int
    n_assets: int
    n_months: int = 0
    n_meetings: int = 0
    n_tariff_events: int = 0
    n_param_draws: int = 1
    nu_f: tuple[float, ...] = (float("inf"),)
    nu_a: tuple[float, ...] = (float("inf"),)
    antithetic: bool = False

    @property
    def factor_steps(self) -> int:
        """Periods of the factor shocks: the months, or the steps when no months are given."""
        return self.n_months or self.n_steps

    def block_length(self, block: int) -> int:
        return min(BLOCK, self.n_paths - block * BLOCK)

    @property
    def n_blocks(self) -> int:
        return -(-self.n_paths // BLOCK)


@dataclass(frozen=True)
class Draws:
    """The random numbers of a range of paths (``m`` paths, ``T`` steps).

    ``factor`` (m, M, K) (per month) and ``asset`` (m, T, N) (per step) are unit-variance shocks: standard normals,
    multiplied by the Student-t scale ``sqrt((nu - 2) / W)``, ``W ~ chi2(nu)``, where ``nu`` is
    finite (one ``W`` per path and step, shared across the factors or across the assets, so the
    assets' shocks are jointly multivariate-t); ``jump_u`` / ``jump_z`` (m, T) drive the squeeze
    jumps (width 0 when the plan has no assets); ``decision_u`` (M, m) and ``tariff_u`` (E, m) are event-major uniforms;
    ``param_draw`` (m,) indexes posterior draws.
    """

    factor: np.ndarray
    asset: np.ndarray
    jump_u: np.ndarray
    jump_z: np.ndarray
    decision_u: np.ndarray
    tariff_u: np.ndarray
    param_draw: np.ndarray


def _uniforms(gen: np.random.Generator, n: int, lead: int | None, anti: bool) -> np.ndarray:
    """Uniforms of shape (n, lead) path-major, or (lead, n) event-major when ``lead`` is given."""
    half = -(-n // 2) if anti else n
    base = gen.random((lead, half) if lead is not None else (half,))
    if not anti:
        return base
    return np.concatenate([base, 1.0 - base[..., : n - half]], axis=-1)


def _t_scale(
    gen: np.random.Generator, nu: np.ndarray, n_steps: int, anti: bool
) -> np.ndarray | None:
    """Student-t scales ``sqrt((nu - 2) / W)``, ``W ~ chi2(nu)``, shape (n, T); shared within a pair.

    ``nu`` holds each path's degrees of freedom; ``None`` when every path is Gaussian.
    """
    finite = np.isfinite(nu)
    if not finite.any():
        return None
    n = nu.size
    half = -(-n // 2) if anti else n
    shape = np.where(finite, nu, 4.0)[:half, None] / 2.0
    if finite.all() and (nu == nu[0]).all():
        # one shape for the block: the scalar-shape sampler draws the same numbers, faster
        w = 2.0 * gen.standard_gamma(float(shape[0, 0]), size=(half, n_steps))
    else:
        w = 2.0 * gen.standard_gamma(np.broadcast_to(shape, (half, n_steps)))
    scale = np.sqrt((shape * 2.0 - 2.0) / w)
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


def _empty_draws(n: int, plan: DrawPlan) -> Draws:
    T = plan.n_steps
    return Draws(
        factor=np.empty((n, plan.factor_steps, plan.n_factors)),
        asset=np.empty((n, T, plan.n_assets)),
        jump_u=np.empty((n, T if plan.n_assets else 0)),
        jump_z=np.empty((n, T if plan.n_assets else 0)),
        decision_u=np.empty((plan.n_meetings, n)),
        tariff_u=np.empty((plan.n_tariff_events, n)),
        param_draw=np.empty(n, dtype=np.int64),
    )


def _draw_block_into(
    root: np.random.SeedSequence, block: int, plan: DrawPlan, out: Draws, lo: int
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
    factor, asset = out.factor[rows], out.asset[rows]
    _normals_into(_stream(root, block, Kind.FACTOR), factor, anti)
    _normals_into(_stream(root, block, Kind.ASSET), asset, anti)
    nu_f = np.asarray(plan.nu_f)[param_draw]
    nu_a = np.asarray(plan.nu_a)[param_draw]
    scale_f = _t_scale(_stream(root, block, Kind.FACTOR_CHI2), nu_f, plan.factor_steps, anti)
    scale_a = _t_scale(_stream(root, block, Kind.ASSET_CHI2), nu_a, plan.n_steps, anti)
    if scale_f is not None:
        factor *= scale_f[:, :, None]
    if scale_a is not None:
        asset *= scale_a[:, :, None]
    if plan.n_assets:  # squeeze jumps move assets: a factor-only plan needs none
        out.jump_u[rows] = _uniforms(_stream(root, block, Kind.JUMP_U), n, plan.n_steps, anti).T
        _normals_into(_stream(root, block, Kind.JUMP_Z), out.jump_z[rows], anti)
    out.decision_u[:, rows] = _uniforms(
        _stream(root, block, Kind.DECISION), n, plan.n_meetings, anti
    )
    out.tariff_u[:, rows] = _uniforms(
        _stream(root, block, Kind.TARIFF), n, plan.n_tariff_events, anti
    )


def draw_blocks(
    root: np.random.SeedSequence, first_block: int, n_blocks: int, plan: DrawPlan
) -> Draws:
    """Draws for the whole blocks ``first_block .. first_block + n_blocks - 1``, concatenated.

    Each block is drawn straight into its rows of the output arrays (no per-block copies).
    """
    blocks = range(first_block, first_block + n_blocks)
    out = _empty_draws(sum(plan.block_length(b) for b in blocks), plan)
    lo = 0
    for b in blocks:
        _draw_block_into(root, b, plan, out, lo)
        lo += plan.block_length(b)
    return out
