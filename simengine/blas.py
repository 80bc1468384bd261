"""Keep BLAS single-threaded while simengine runs its own parallel work."""

from __future__ import annotations

from contextlib import AbstractContextManager

__all__ = ["single_threaded_blas"]


def single_threaded_blas() -> AbstractContextManager:
    """Context manager limiting BLAS to one thread.

    simengine parallelises itself (engine threads over chunks, sampler chains over cores) and
    its matrix products are tiny ((m, 4) @ (4, 4)), so BLAS threads on top only spin and
    contend: measured 2.3 s -> 5.6 s for 400k monthly paths, and MCMC sampling about 50x slower,
    on a loaded 2-core machine.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")
