"""scipy's Cython special functions, called from numba code through a named LLVM symbol.

A numba function that calls scipy through ``numba.extending.get_cython_function_address``
bakes the address into its machine code, so it cannot go in numba's (or PyTensor's) disk cache.
:func:`register` names the address instead (``llvmlite.binding.add_symbol``); code compiled
against :func:`float64_call` refers to the name, which the loader resolves in each process
after :func:`register` has run there. The values are scipy's own, bit for bit.
"""

from __future__ import annotations

from typing import Any

__all__ = ["float64_call", "register"]


def register(function: str, symbol: str) -> None:
    """Make ``symbol`` resolve to ``scipy.special.cython_special``'s ``function`` (e.g.
    ``"__pyx_fuse_1ndtr"``, the ``double`` variant) in this process."""
    import llvmlite.binding as llvm
    from numba.extending import get_cython_function_address

    address = get_cython_function_address("scipy.special.cython_special", function)
    llvm.add_symbol(symbol, address)


def float64_call(symbol: str, skip_dispatch: int) -> Any:
    """A numba intrinsic ``float64 -> float64`` that calls ``double f(double, int)`` at
    ``symbol`` with ``skip_dispatch`` as its second argument (Cython's fused-function flag)."""
    from llvmlite import ir
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    @intrinsic
    def call(typingctx, x):
        if x != types.float64:
            return None

        def codegen(context, builder, signature, args):
            fnty = ir.FunctionType(ir.DoubleType(), [ir.DoubleType(), ir.IntType(32)])
            fn = cgutils.get_or_insert_function(builder.module, fnty, symbol)
            return builder.call(fn, [args[0], ir.Constant(ir.IntType(32), skip_dispatch)])

        return types.float64(types.float64), codegen

    return call
