"""The calibration graph's digamma is cacheable by PyTensor's numba backend and is scipy's own."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")
pytensor = pytest.importorskip("pytensor")

import pytensor.tensor as pt  # noqa: E402
import scipy.special  # noqa: E402
from pytensor.graph.fg import FunctionGraph  # noqa: E402
from pytensor.link.numba.dispatch.basic import numba_funcify_and_cache_key  # noqa: E402

from simengine.bayes.numba_cache import register_cacheable_psi  # noqa: E402


def _graph_with_psi() -> FunctionGraph:
    x = pt.dvector("x")
    return FunctionGraph([x], [pt.psi(x) * x + 1.0], clone=True)


def test_graph_with_digamma_gets_a_cache_key() -> None:
    assert register_cacheable_psi() is True
    assert register_cacheable_psi() is True  # idempotent
    _, key = numba_funcify_and_cache_key(_graph_with_psi())
    assert key is not None  # PyTensor's own Psi gives None: the whole graph is not cached


def test_digamma_equals_scipy_bit_for_bit() -> None:
    register_cacheable_psi()
    x = pt.dvector("x")
    fn = pytensor.function([x], pt.psi(x), mode="NUMBA")
    values = np.concatenate(
        [np.linspace(-5.5, 60.0, 2001), np.geomspace(1e-8, 1e8, 201), [0.0, -2.0, np.inf]]
    )
    np.testing.assert_array_equal(fn(values), scipy.special.psi(values))
