"""nutpie over PyTensor's cached numba functions, without nutpie's ``cfunc`` wrappers.

``nutpie.compile_pymc_model`` compiles the model's log density and its expansion with PyTensor's
numba backend (cached on disk, :mod:`simengine.bayes.numba_cache`), then wraps each in a numba
``cfunc`` for its Rust sampler. Those two wrappers cannot be cached (their closures hold
run-time objects): numba re-optimises and re-emits the whole linked graph in every process,
about 6 s of a 20 s calibration. :func:`compile_pyfunc` builds the same two PyTensor functions
the same way (nutpie's ``_make_functions``, ``mode="NUMBA"``, gradients by PyTensor, the same
initial points) and hands them to nutpie as Python callables (``nutpie.compiled_pyfunc``, the
route nutpie's own JAX backend takes). The sampler evaluates the same compiled code, so the
draws are the same numbers (``tests/test_nutpie_pyfunc.py``).

Each evaluation then holds the GIL, so chains run in one thread (:func:`sampling_cores`): with
two threads the chains took turns on the GIL and sampling was ten times slower; in one thread
it takes about what the ``cfunc`` route takes on two cores, and the numbers do not depend on
the thread count (each chain has its own random stream).

The functions come from nutpie's private module ``nutpie.compile_pymc``; when they are not
there (another nutpie version), :func:`compile_pyfunc` returns ``None`` and the caller uses
``nutpie.compile_pymc_model``.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

__all__ = ["compile_pyfunc", "sampling_cores"]

_NEEDED = ("mode", "compute_grad", "join_expanded", "pymc_initial_point_fn", "var_names")


def _nutpie_internals() -> tuple | None:
    """nutpie's helpers this module needs, or ``None`` when this nutpie lacks them."""
    try:
        from nutpie.compile_pymc import (
            _make_functions,
            _prepare_dims_and_coords,
            _wrap_with_lock,
        )
        from nutpie.compiled_pyfunc import PyFuncModel, from_pyfunc
    except ImportError:
        return None
    if not set(_NEEDED) <= set(inspect.signature(_make_functions).parameters):
        return None
    return _make_functions, _prepare_dims_and_coords, _wrap_with_lock, from_pyfunc, PyFuncModel


def compile_pyfunc(model: Any) -> Any | None:
    """nutpie's model of ``model`` over PyTensor's numba functions (see the module docstring).

    The same defaults as ``nutpie.compile_pymc_model(model)``: initial points at the support
    point with a U(-1, 1) jitter of every free variable, all variables in the trace.

    Returns
    -------
    nutpie.compiled_pyfunc.PyFuncModel or None
        ``None`` when this nutpie version lacks the functions used here.
    """
    internals = _nutpie_internals()
    if internals is None:
        return None
    make_functions, dims_and_coords, with_lock, from_pyfunc, _ = internals
    from pymc.initial_point import make_initial_point_fn

    initial = with_lock(  # nutpie's chains may ask for initial points from several threads
        make_initial_point_fn(
            model=model,
            overrides=None,
            default_strategy="support_point",
            jitter_rvs=set(model.free_RVs),
            return_transformed=True,
        )
    )
    n_dim, _, logp_pt, expand_pt, initial_point_fn, shape_info = make_functions(
        model,
        mode="NUMBA",
        compute_grad=True,
        join_expanded=True,
        pymc_initial_point_fn=initial,
        var_names=None,
    )
    logp_fn, expand_fn = logp_pt.vm.jit_fn, expand_pt.vm.jit_fn
    logp_names = [v.name for v in logp_pt.get_shared()]
    expand_names = [v.name for v in expand_pt.get_shared()]
    shared = {
        v.name: np.array(v.get_value(), order="C", copy=True)
        for v in (*logp_pt.get_shared(), *expand_pt.get_shared())
    }
    names, slices, shapes = shape_info
    float64 = np.dtype("float64")

    def make_logp_func():
        def logp(x, **data):
            value, grad = logp_fn(x, *[data[n] for n in logp_names])
            return float(value), np.asarray(grad, dtype=float64, order="C")

        return logp

    def make_expand_func(seed1, seed2, chain):
        def expand(x, **data):
            flat = expand_fn(x, *[data[n] for n in expand_names])
            flat = flat[0] if isinstance(flat, list | tuple) else flat
            return {
                name: np.array(flat[part], dtype=float64, order="C").reshape(shape)
                for name, part, shape in zip(names, slices, shapes, strict=True)
            }

        return expand

    dims, coords = dims_and_coords(model, shape_info)
    return from_pyfunc(
        ndim=n_dim,
        make_logp_fn=make_logp_func,
        make_expand_fn=make_expand_func,
        make_initial_point_fn=initial_point_fn,
        expanded_dtypes=[float64] * len(names),
        expanded_shapes=shapes,
        expanded_names=names,
        shared_data=shared,
        dims=dims,
        coords=coords,
    )


def sampling_cores(compiled: Any, cores: int | None) -> int | None:
    """Threads for ``nutpie.sample``: one for a Python-callable model (the GIL), else ``cores``."""
    internals = _nutpie_internals()
    if internals is not None and isinstance(compiled, internals[-1]):
        return 1
    return cores
