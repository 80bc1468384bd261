"""Let PyTensor's numba backend cache the calibration model's compiled graph on disk.

PyTensor (2.38) caches a compiled graph across processes only when every op in it can be
cached. Its digamma (``Psi``, in the gradient of the Student-t log density with respect to the
degrees of freedom) calls scipy's Cython ``psi`` through a function pointer baked into the
machine code, so neither it nor the whole log-density graph around it can be cached: every
``simengine calibrate`` recompiled that graph, about half of nutpie's compile.

:func:`register_cacheable_psi` gives ``Psi`` an implementation that calls the *same* scipy
function through a named symbol (``llvmlite.binding.add_symbol``), which the cached machine
code resolves when it is loaded, in the process that loads it. The values are scipy's own,
bit for bit; the graph is then cached in PyTensor's numba cache like any other.
"""

from __future__ import annotations

from simengine import scipy_symbols

__all__ = ["PSI_SYMBOL", "register_cacheable_psi"]

PSI_SYMBOL = "simengine_scipy_special_psi_f64"
"""Name under which scipy's ``double psi(double, int)`` is registered with LLVM."""

_CACHE_VERSION = "simengine-psi-symbol-1"
_registered = False


def register_cacheable_psi() -> bool:
    """Register a cacheable numba implementation of PyTensor's ``Psi`` op (once per process).

    Returns
    -------
    bool
        True when registered (now or before); False when this PyTensor, numba or scipy lacks
        what it needs, in which case PyTensor's own, uncached implementation stays in use.
    """
    global _registered
    if _registered:
        return True
    try:
        hooks = _hooks()
    except (ImportError, AttributeError, ValueError):
        return False
    _register(*hooks)
    _registered = True
    return True


def _hooks():
    """PyTensor's dispatch hooks, numba's pieces and scipy's ``psi`` address (may raise)."""
    from pytensor.link.numba.dispatch.basic import numba_njit, register_funcify_and_cache_key
    from pytensor.link.numba.dispatch.scalar import numba_funcify_ScalarOp, scalar_op_cache_key
    from pytensor.scalar.math import Psi

    scipy_symbols.register("__pyx_fuse_1psi", PSI_SYMBOL)
    return (
        Psi,
        register_funcify_and_cache_key,
        numba_njit,
        numba_funcify_ScalarOp,
        scalar_op_cache_key,
    )


def _register(psi_op, register, numba_njit, fallback, cache_key) -> None:
    scipy_psi = scipy_symbols.float64_call(PSI_SYMBOL, 1)  # skip_dispatch, as PyTensor

    @numba_njit
    def psi(x):
        return scipy_psi(x)

    @register(psi_op)
    def numba_funcify_psi(op, node, **kwargs):
        dtypes = {v.type.dtype for v in (*node.inputs, *node.outputs)}
        if dtypes != {"float64"}:
            return fallback(op, node, **kwargs)  # PyTensor's own (uncached) implementation
        return psi, cache_key(op, cache_version=_CACHE_VERSION)
