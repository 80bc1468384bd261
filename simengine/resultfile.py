"""The compact result file: one ``.npz`` archive written in one pass (batch stores use it).

NetCDF through h5py pays a fixed cost per variable (dataset creation, attributes, chunk
index): about a second for the ~30 variables of a result, more than a 1e5-path simulation
takes. The compact file holds the same dataset as one uncompressed ``.npz`` (a zip of ``.npy``
arrays, readable with ``numpy.load(..., allow_pickle=False)``): every variable and coordinate
as ``v/<name>``, and ``__meta__``, a JSON string with each variable's dimensions, the
coordinate names and the attributes (the stamps, including the content hash).
:func:`simengine.results.load_result` reads either format and verifies the content hash the
same way.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["COMPACT_SUFFIX", "check_compact_size", "is_compact", "read_compact", "write_compact"]

COMPACT_SUFFIX = ".npz"
_META = "__meta__"
_PREFIX = "v/"


def is_compact(path: str | Path) -> bool:
    """True for a compact result file (by suffix)."""
    return Path(path).suffix == COMPACT_SUFFIX


def check_compact_size(path: str | Path, limit_mb: float) -> None:
    """Refuse a compact file larger than the memory limit before reading it (uncompressed:
    the file size is what loading it takes)."""
    size = Path(path).stat().st_size
    if size > limit_mb * 2**20:
        raise ValueError(
            f"{path} holds {size / 2**20:,.0f} MiB, above the memory limit of {limit_mb:,.0f} MiB "
            "(SIMENGINE_MAX_MEMORY_MB)"
        )


def _attr(value: Any) -> Any:
    """An attribute as a JSON value (numpy scalars become Python numbers)."""
    return value.item() if isinstance(value, np.generic) else value


def write_compact(ds: Any, path: str | Path) -> None:
    """Write an ``xarray.Dataset`` to ``path`` as one ``.npz`` (no compression, no pickles).

    The caller makes the write atomic (``simengine.io.atomic_write`` hands a temporary path).
    """
    meta = {
        "dims": {str(k): list(map(str, v.dims)) for k, v in ds.variables.items()},
        "coords": [str(c) for c in ds.coords],
        "attrs": {str(k): _attr(v) for k, v in ds.attrs.items()},
    }
    arrays = {f"{_PREFIX}{k}": np.asarray(v.values) for k, v in ds.variables.items()}
    with open(path, "wb") as fh:
        np.savez(fh, **{_META: np.array(json.dumps(meta))}, **arrays)


def read_compact(path: str | Path) -> Any:
    """Read a compact result file back into an ``xarray.Dataset`` (no verification here).

    Raises
    ------
    ValueError
        The file is not a readable compact result (not a zip, no metadata, bad JSON).
    """
    import xarray as xr

    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz[_META][()]))
            values = {k[len(_PREFIX) :]: npz[k] for k in npz.files if k.startswith(_PREFIX)}
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, EOFError) as err:
        raise ValueError(f"not a compact simengine result: {err}") from None
    dims = meta["dims"]
    coords = {name: (dims[name], values[name]) for name in meta["coords"]}
    data = {name: (dims[name], arr) for name, arr in values.items() if name not in coords}
    return xr.Dataset(data, coords=coords, attrs=meta["attrs"])
