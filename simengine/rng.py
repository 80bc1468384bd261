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
        Grid steps, stochastic factors, assets.
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
    n_meetings: int = 0
    n_tariff_events: int = 0
    n_param_draws: int = 1
    nu_f: tuple[float, ...] = (float("inf"),)
    nu_a: tuple[float, ...] = (float("inf"),)
    antithetic: bool = False

    def block_length(self, block: int) -> int:
        return min(BLOCK, self.n_paths - block * BLOCK)

    @property
    def n_blocks(self) -> int:
        return -(-self.n_paths // BLOCK)


@dataclass(frozen=True)
class Draws:
    """The random numbers of a range of paths (``m`` paths, ``T`` steps).

    ``factor`` (m, T, K) and ``asset`` (m, T, N) are unit-variance shocks: standard normals,
    multiplied by the Student-t scale ``sqrt((nu - 2) / W)``, ``W ~ chi2(nu)``, where ``nu`` is
    finite (one ``W`` per path and step, shared across the factors or across the assets, so the
    assets' shocks are jointly multivariate-t); ``jump_u`` / ``jump_z`` (m, T) drive the squeeze
    jumps; ``decision_u`` (M, m) and ``tariff_u`` (E, m) are event-major uniforms;
    ``param_draw`` (m,) indexes posterior draws.
    """

    factor: np.ndarray
    asset: np.ndarray
    jump_u: np.ndarray
    jump_z: np.ndarray
    decision_u: np.ndarray
    tariff_u: np.ndarray
    param_draw: np.ndarray


def _normals(gen: np.random.Generator, n: int, shape: tuple[int, ...], anti: bool) -> np.ndarray:
    if not anti:
        return gen.standard_normal((n, *shape))
    half = -(-n // 2)
    base = gen.standard_normal((half, *shape))
    return np.concatenate([base, -base[: n - half]])


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
    w = 2.0 * gen.standard_gamma(np.broadcast_to(shape, (half, n_steps)))
    scale = np.sqrt((shape * 2.0 - 2.0) / w)
    scale[~finite[:half]] = 1.0
    return np.concatenate([scale, scale[: n - half]]) if anti else scale


def _draw_block(root: np.random.SeedSequence, block: int, plan: DrawPlan) -> Draws:
    n = plan.block_length(block)
    anti = plan.antithetic
    half = -(-n // 2) if anti else n
    if plan.n_param_draws > 1:
        idx = _stream(root, block, Kind.PARAM_DRAW).integers(0, plan.n_param_draws, size=half)
        param_draw = np.concatenate([idx, idx[: n - half]]) if anti else idx
    else:
        param_draw = np.zeros(n, dtype=np.int64)
    factor = _normals(_stream(root, block, Kind.FACTOR), n, (plan.n_steps, plan.n_factors), anti)
    asset = _normals(_stream(root, block, Kind.ASSET), n, (plan.n_steps, plan.n_assets), anti)
    nu_f = np.asarray(plan.nu_f)[param_draw]
    nu_a = np.asarray(plan.nu_a)[param_draw]
    scale_f = _t_scale(_stream(root, block, Kind.FACTOR_CHI2), nu_f, plan.n_steps, anti)
    scale_a = _t_scale(_stream(root, block, Kind.ASSET_CHI2), nu_a, plan.n_steps, anti)
    if scale_f is not None:
        factor *= scale_f[:, :, None]
    if scale_a is not None:
        asset *= scale_a[:, :, None]
    return Draws(
        factor=factor,
        asset=asset,
        jump_u=np.ascontiguousarray(
            _uniforms(_stream(root, block, Kind.JUMP_U), n, plan.n_steps, anti).T
        ),
        jump_z=_normals(_stream(root, block, Kind.JUMP_Z), n, (plan.n_steps,), anti),
        decision_u=_uniforms(_stream(root, block, Kind.DECISION), n, plan.n_meetings, anti),
        tariff_u=_uniforms(_stream(root, block, Kind.TARIFF), n, plan.n_tariff_events, anti),
        param_draw=param_draw,
    )


def draw_blocks(
    root: np.random.SeedSequence, first_block: int, n_blocks: int, plan: DrawPlan
) -> Draws:
    """Draws for the whole blocks ``first_block .. first_block + n_blocks - 1``, concatenated."""
    parts = [_draw_block(root, b, plan) for b in range(first_block, first_block + n_blocks)]
    if len(parts) == 1:
        return parts[0]

    def cat(name: str, axis: int = 0) -> np.ndarray | None:
        arrays = [getattr(p, name) for p in parts]
        return None if arrays[0] is None else np.concatenate(arrays, axis=axis)

    return Draws(
        factor=cat("factor"),
        asset=cat("asset"),
        jump_u=cat("jump_u"),
        jump_z=cat("jump_z"),
        decision_u=cat("decision_u", axis=1),
        tariff_u=cat("tariff_u", axis=1),
        param_draw=cat("param_draw"),
    )
