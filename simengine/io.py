"""Safe file output and file hashing.

The output rules (documented in the README, "Output files"):

* every file is written atomically: a temporary file beside the target, then ``os.replace``;
  a reader sees the old file or the new one, never half of one;
* temporary files are named ``.simengine-tmp-<pid>@<host>@<target>-<random>.tmp``;
  simengine only ever deletes temporary files with that prefix, and only those of a process
  of this host that is gone;
* nothing that exists is replaced unless asked (``--force`` / ``overwrite=True``), and never a
  folder, a symbolic link, a FIFO or a device;
* simengine never writes through a symbolic link it did not create: a link in place of an
  output file, or of a folder simengine creates inside the output folder, is refused (the
  output folder you name yourself may be a link);
* outputs are checked before any simulation starts (:func:`check_can_write`).
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from simengine.exceptions import OutputExistsError, SimengineError, UsageError

__all__ = [
    "TMP_PREFIX",
    "atomic_write",
    "check_can_write",
    "check_output_dir",
    "checksum_ok",
    "checksum_path",
    "file_sha256",
    "is_simengine_tmp",
    "is_windows_reserved",
    "dataset_hash",
    "remove_stale_tmp",
    "safe_child",
    "safe_subdir",
    "write_checksum",
    "write_netcdf",
]

TMP_PREFIX = ".simengine-tmp-"
"""Prefix of every temporary file simengine writes (and the only ones it ever deletes)."""
_TMP_RE = re.compile(r"^\.simengine-tmp-(\d+)@([^@/]*)@.*\.tmp$")


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes (read in 1 MiB blocks).

    The one file hash of simengine: data sources in model provenance and data tables,
    posterior files (``posterior_hash`` on results).
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_WINDOWS_RESERVED = re.compile(r"(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?", re.IGNORECASE)


def is_windows_reserved(name: str) -> bool:
    """True for file names Windows reserves: con, prn, aux, nul, com0-9, lpt0-9 (any extension)."""
    return _WINDOWS_RESERVED.fullmatch(name) is not None


def _bad_name(name: object) -> bool:
    return (
        not isinstance(name, str)
        or name in ("", ".", "..")
        or "\x00" in name
        or "/" in name
        or "\\" in name
        or os.sep in name
        or (os.altsep is not None and os.altsep in name)
        or Path(name).is_absolute()
        or Path(name).name != name
    )


def safe_child(out_dir: str | os.PathLike[str], name: str) -> Path:
    """``out_dir / name``, refusing any name that would write outside ``out_dir``.

    Defence in depth: scenario names are validated by the spec, but names also come from code
    and sweeps. A name must be one plain path component: no separators, no ``..``, not
    absolute, no NUL, not empty, not a name Windows reserves (``con``, ``nul.txt``, ...), and
    ``out_dir / name`` must not be a symbolic link.

    Raises
    ------
    SimengineError
        (exit code 2) naming the rejected name and the folder.
    """
    out = Path(out_dir)
    if _bad_name(name):
        raise UsageError(
            f"refusing to write {name!r} into {out}: an output name must be a single file name "
            "(no '/', '\\', '..' or absolute path), e.g. fed-cut-september"
        )
    if is_windows_reserved(name):
        raise UsageError(
            f"refusing to write {name!r} into {out}: the name is reserved on Windows "
            "(con, prn, aux, nul, com1-9, lpt1-9); choose another name"
        )
    child = out / name
    if child.is_symlink():
        raise UsageError(
            f"refusing to write {child}: it is a symbolic link (to {os.readlink(child)}); "
            "simengine never writes through a link: remove it or choose another folder"
        )
    return child


def safe_subdir(out_dir: str | os.PathLike[str], name: str) -> Path:
    """A folder ``out_dir / name`` (created if needed) that is a real folder, not a link."""
    sub = safe_child(out_dir, name)
    if sub.exists() and not sub.is_dir():
        raise UsageError(f"{sub} exists and is not a folder; remove it or choose another --out")
    return sub


def _kind(path: Path) -> str | None:
    """What is at ``path`` when it is not something simengine may replace (None: fine)."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if not stat.S_ISREG(mode):
        return "not a regular file (a FIFO, socket or device)"
    return None


def check_can_write(path: str | os.PathLike[str], overwrite: bool) -> None:
    """Check, before any work, that ``path`` can be written.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is false.
    SimengineError
        (exit 2) ``path`` is a folder, a link or a special file; (exit 1) its folder cannot be
        written (read-only, permission).
    """
    path = Path(path)
    kind = _kind(path)
    if kind is not None:
        raise UsageError(
            f"refusing to write {path}: it is {kind}; simengine only replaces regular files it "
            "wrote: give a file name that is free"
        )
    if path.exists() and not overwrite:
        raise OutputExistsError(
            f"{path} already exists; pass --force (or overwrite=True) to replace it"
        )
    check_output_dir(path.parent)


def check_output_dir(folder: str | os.PathLike[str]) -> None:
    """Raise (exit 1) when ``folder`` (or its first existing ancestor) cannot be written."""
    folder = Path(folder)
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise UsageError(f"cannot write into {folder}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise SimengineError(
            f"cannot write into {probe}: the folder is read-only or you lack permission; "
            "choose another output folder or fix its permissions"
        )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def is_simengine_tmp(path: Path) -> bool:
    """True for a temporary file simengine wrote (``.simengine-tmp-<pid>@<host>@...tmp``)."""
    return _TMP_RE.match(path.name) is not None and path.is_file() and not path.is_symlink()


def _host() -> str:
    return re.sub(r"[@/\\]", "_", platform.node())[:64]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_tmp(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete simengine's own temporary files in ``folder`` left by processes that are gone.

    Only files named ``.simengine-tmp-<pid>@<host>@...tmp`` written on this host by a
    process that no longer runs are removed; nothing else is ever touched. Returns the files
    removed.
    """
    removed = []
    folder = Path(folder)
    if not folder.is_dir() or folder.is_symlink():
        return removed
    for path in folder.glob(f"{TMP_PREFIX}*.tmp"):
        match = _TMP_RE.match(path.name)
        mine = match is not None and match.group(2) == _host()  # pids of other hosts: unknown
        if mine and is_simengine_tmp(path) and not _alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


@contextmanager
def atomic_write(path: str | os.PathLike[str], overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path`` atomically.

    The one atomic write of simengine (results, summaries, manifests, reports, plots, data
    tables, posteriors). The temporary file is ``.simengine-tmp-<pid>@<host>@<name>-<random>.tmp``
    in the target's folder and is removed if writing fails; stale ones of killed processes
    are removed first (:func:`remove_stale_tmp`). The target must not be a link, a folder or
    a special file (:func:`check_can_write`).
    """
    path = Path(path)
    check_can_write(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(path.parent)
    prefix = f"{TMP_PREFIX}{os.getpid()}@{_host()}@{path.name[:100]}-"
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        try:
            yield tmp
        except OSError as err:  # name the target, not the temporary file
            if err.errno is None or err.filename not in (None, str(tmp)):
                raise
            raise OSError(err.errno, err.strerror, str(path)) from err
        kind = _kind(path)
        if kind is not None:
            raise UsageError(f"refusing to replace {path}: it became {kind} while writing")
        if not overwrite and path.exists():
            raise OutputExistsError(f"{path} appeared while writing; pass --force to replace it")
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; use the usual permissions
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def netcdf_declared_bytes(path: str | os.PathLike[str]) -> int:
    """Bytes the variables of a NetCDF-4 file would take in memory, from its header only.

    Reads shapes and dtypes of every variable in every group without loading data, so a
    (corrupted or hostile) file declaring a huge variable is caught before it is read.

    Raises
    ------
    OSError, ValueError, KeyError
        When the file is not a readable HDF5/NetCDF-4 file.
    """
    import h5py

    total = 0

    def visit(_name: str, obj: object) -> None:
        nonlocal total
        if isinstance(obj, h5py.Dataset):
            n = 1
            for dim in obj.shape or ():
                n *= int(dim)
            total += n * int(obj.dtype.itemsize)

    with h5py.File(path, "r") as fh:
        fh.visititems(visit)
    return total


def check_netcdf_size(path: str | os.PathLike[str], what: str, limit_mb: float) -> None:
    """Refuse a NetCDF file whose variables would not fit in ``limit_mb`` MiB of memory.

    Raises
    ------
    SimengineError
        (exit 2) naming the file, the declared size and the limit (callers pass
        :func:`simengine.guards.memory_limit_mb`, ``SIMENGINE_MAX_MEMORY_MB``).
    """
    declared = netcdf_declared_bytes(path)
    limit = limit_mb * 2**20
    if declared > limit:
        raise UsageError(
            f"{what} {path} declares {declared / 2**20:,.0f} MiB of data, more than the memory "
            f"limit of {limit / 2**20:,.0f} MiB; the file is corrupted or not a simengine file "
            "(raise the limit with SIMENGINE_MAX_MEMORY_MB if it is genuine)"
        )


def dataset_hash(ds: Any) -> str:
    """sha256 over every variable's values and the stamps (attributes), in name order.

    ``content_hash`` of results and posteriors (the ``content_hash`` attribute is left out).
    """
    import json

    import numpy as np

    h = hashlib.sha256()
    for name in sorted(map(str, ds.variables)):
        values = ds[name].values
        h.update(name.encode())
        if values.dtype.kind in "OUS":
            h.update("\x1f".join(map(str, values.ravel().tolist())).encode())
        else:
            h.update(np.ascontiguousarray(values).tobytes())
    stamps = {k: str(v) for k, v in ds.attrs.items() if k != "content_hash"}
    h.update(json.dumps(stamps, sort_keys=True).encode())
    return h.hexdigest()


def netcdf_bytes(groups: dict[str, Any], compress: bool = False) -> bytes:
    """NetCDF-4 file contents of one or more datasets, built in memory.

    ``groups`` maps a group name (``""`` for the root) to an ``xarray.Dataset``. Building the
    file in memory and writing the bytes with plain Python I/O means a full disk or a
    read-only folder raises a normal :class:`OSError` (ENOSPC, EROFS) instead of crashing the
    HDF5 library while it closes a half-written file.
    """
    import io as _io

    import dask

    buf = _io.BytesIO()
    with dask.config.set(scheduler="sync"):  # in a Dask worker: no distributed write lock
        _write_groups(buf, groups, compress)
    return buf.getvalue()


def _write_groups(buf: Any, groups: dict[str, Any], compress: bool) -> None:
    for i, (group, ds) in enumerate(groups.items()):
        encoding = (
            {name: {"zlib": True} for name, var in ds.data_vars.items() if var.dtype.kind in "biuf"}
            if compress
            else None
        )
        ds.to_netcdf(
            buf,
            engine="h5netcdf",
            group=group or None,
            mode="w" if i == 0 else "a",
            encoding=encoding,
        )


def write_netcdf(
    path: str | os.PathLike[str], groups: dict[str, Any], overwrite: bool = False, compress=False
) -> Path:
    """Write :func:`netcdf_bytes` atomically to ``path`` (see :func:`atomic_write`)."""
    data = netcdf_bytes(groups, compress=compress)
    with atomic_write(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def checksum_path(path: str | os.PathLike[str]) -> Path:
    """``<file>.sha256`` beside ``path`` (``sha256sum`` format)."""
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def write_checksum(path: str | os.PathLike[str]) -> Path:
    """Write ``<file>.sha256`` (``sha256sum -c`` can check it) atomically; return its path."""
    path = Path(path)
    target = checksum_path(path)
    with atomic_write(target, overwrite=True) as tmp:
        tmp.write_text(f"{file_sha256(path)}  {path.name}\n")
    return target


def checksum_ok(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a regular file matching its ``<file>.sha256``.

    Checked before a stored NetCDF file is parsed at all: the HDF5 library can crash or loop
    for ever on corrupted metadata, so a file that fails its checksum is never opened.
    """
    path, target = Path(path), checksum_path(path)
    if path.is_symlink() or target.is_symlink() or not path.is_file() or not target.is_file():
        return False
    try:
        recorded = target.read_text(encoding="ascii").split()[0]
        return recorded == file_sha256(path)
    except (OSError, ValueError, IndexError):
        return False
