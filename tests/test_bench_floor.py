"""The benchmark's random-number floor draws exactly the engine's random numbers."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import common
from simengine.rng import BLOCK, draw_blocks


@pytest.mark.parametrize("frequency", ["monthly", "weekly"])
def test_floor_buffers_hold_the_engine_draws(frequency: str) -> None:
    spec = common.bench_spec(frequency)
    n = BLOCK + 100  # a whole block and a partial one
    plan, root = common.engine_plan(spec, n, seed=3)
    buf = common.FloorBuffers(plan)
    for block in range(plan.n_blocks):
        m = plan.block_length(block)
        common.draw_block_floor(root, block, plan, buf)
        ref = draw_blocks(root, block, 1, plan)
        nu_f, nu_a = plan.nu_f[0], plan.nu_a[0]
        assert np.isfinite(nu_f) and np.isfinite(nu_a)  # both Student-t: the gamma path is used
        scale_f = np.sqrt((nu_f - 2.0) / (2.0 * buf.gamma_f[:m]))
        scale_a = np.sqrt((nu_a - 2.0) / (2.0 * buf.gamma_a[:m]))
        np.testing.assert_array_equal(buf.factor[:m] * scale_f[:, :, None], ref.factor)
        np.testing.assert_array_equal(buf.asset[:m] * scale_a[:, :, None], ref.asset)
        np.testing.assert_array_equal(buf.event_major(buf.jump_u, m).T, ref.jump_u)
        np.testing.assert_array_equal(buf.jump_z[:m], ref.jump_z)
        if buf.decision is not None:
            np.testing.assert_array_equal(buf.event_major(buf.decision, m), ref.decision_u)
        if buf.tariff is not None:
            np.testing.assert_array_equal(buf.event_major(buf.tariff, m), ref.tariff_u)
