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
    kinds = {s.dist for s in plan.streams if s.name in buf.values}
    assert {"student_t", "uniform_steps"} <= kinds  # the model draws both
    for block in range(plan.n_blocks):
        m = plan.block_length(block)
        common.draw_block_floor(root, block, plan, buf)
        ref = draw_blocks(root, block, 1, plan)
        for s in plan.streams:
            if s.name not in buf.values:
                assert ref[s.name].size == 0
                continue
            if s.dist == "uniform_events":
                got = buf.event_major(s.name, m)
            elif s.dist == "uniform_steps":
                got = buf.event_major(s.name, m).T
            else:
                got = buf.values[s.name][:m]
                if s.dist == "student_t" and np.isfinite(s.nu[0]):
                    scale = np.sqrt((s.nu[0] - 2.0) / (2.0 * buf.gamma[s.name][:m]))
                    got = got * scale.reshape(scale.shape + (1,) * (got.ndim - 2))
            np.testing.assert_array_equal(got, ref[s.name], err_msg=s.name)
