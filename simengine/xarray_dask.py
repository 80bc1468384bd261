"""xarray without its dask probe: building a result no longer imports dask (0.2-0.3 s).

When dask is installed, xarray asks it, for every variable it wraps, whether the data is a
dask array: the first question imports ``dask`` and ``dask.array`` (a quarter of a second of
a batch worker's or a ``simengine run``'s start-up). Until something imports dask nothing can
be a dask array, so the answer is "no" without asking; once ``dask`` is imported the checks
are xarray's own again. :func:`install` wraps the two xarray functions that ask (private
functions of ``xarray.namedarray``; when they are not there, it does nothing).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["install"]


def _dask_array_types(module: Any) -> Any:
    """An ``xarray`` duck-array module record for dask whose types are empty until dask.array
    is imported (then the real ``dask.array.Array``)."""

    class LazyDask(module.DuckArrayModule):
        def __init__(self) -> None:  # no import here
            pass

        def _real(self) -> Any:
            real = module.DuckArrayModule("dask")
            module._cached_duck_array_modules["dask"] = real  # from now on, xarray's own
            return real

        @property
        def type(self) -> tuple:  # type: ignore[override]
            if "dask.array" not in sys.modules:
                return ()
            return self._real().type

        def __getattr__(self, name: str) -> Any:  # module, version, available: ask dask
            return getattr(self._real(), name)

    return LazyDask()


def install() -> None:
    """Make xarray's dask checks answer "not dask" without importing dask, until dask is used."""
    try:
        from xarray.namedarray import pycompat, utils
    except ImportError:
        return
    check = getattr(utils, "is_dask_collection", None)
    cache = getattr(pycompat, "_cached_duck_array_modules", None)
    if check is None or cache is None or getattr(check, "_simengine_lazy", False):
        return
    if "dask" not in sys.modules:

        def is_dask_collection(x: object) -> bool:
            return "dask" in sys.modules and check(x)

        is_dask_collection._simengine_lazy = True  # type: ignore[attr-defined]
        utils.is_dask_collection = is_dask_collection
    if "dask" not in cache and hasattr(pycompat, "DuckArrayModule"):
        cache["dask"] = _dask_array_types(pycompat)
