"""Safe file output: atomic writes that never clobber what a user had without being asked."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from simengine.exceptions import OutputExistsError, SimengineError

__all__ = ["atomic_write", "check_can_write", "safe_child"]


def safe_child(out_dir: str | os.PathLike[str], name: str) -> Path:
    """``out_dir / name``, refusing any name that would write outside ``out_dir``.

    Defence in depth: scenario names are validated by the spec, but names also come from code
    and sweeps. A name must be one plain path component: no separators, no ``..``, not
    absolute, no NUL, not empty, and the resolved path must stay inside ``out_dir`` (so a
    symbolic link inside the folder cannot lead out either).

    Raises
    ------
    SimengineError
        (exit code 2) naming the rejected name and the folder.
    """
    out = Path(out_dir)
    bad = (
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
    child = out / str(name)
    if not bad:
        root = out.resolve()
        bad = root != child.resolve().parent and root not in child.resolve().parents
    if bad:
        err = SimengineError(
            f"refusing to write {name!r} into {out}: an output name must be a single file name "
            "(no '/', '\\', '..' or absolute path), e.g. fed-cut-september"
        )
        err.exit_code = 2
        raise err
    return child


def check_can_write(path: Path, overwrite: bool) -> None:
    """Raise :class:`OutputExistsError` if ``path`` exists and ``overwrite`` is false."""
    if path.exists() and not overwrite:
        raise OutputExistsError(
            f"{path} already exists; pass --force (or overwrite=True) to replace it"
        )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(path: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path`` atomically.

    A reader never sees a half-written file: the temporary file carries a ``.tmp`` suffix and
    is removed if writing fails.
    """
    path = Path(path)
    check_can_write(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if not overwrite and path.exists():
            raise OutputExistsError(f"{path} appeared while writing; pass --force to replace it")
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; use the usual permissions
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
