"""Where a scenario may read other files from: ``extends:``, sweep ``base:``, ``model:``,
``posterior:``.

A scenario file is data that may come from someone else, so the files it names are confined
(documented in the README, "Files a scenario may read"):

* the folder tree of the scenario file you named (the top of an ``extends:`` chain);
* the current working directory's tree, when the scenario file lies inside it (so a sweep in
  ``scenarios/sweeps/`` may use ``base: ../base_2025h2.yaml`` when run from the project), unless
  the working directory is the file-system root or your home directory;
* the simengine package (the packaged models and scenario library);
* any folder listed in the environment variable ``SIMENGINE_ALLOW_PATHS`` (separated by
  ``os.pathsep``): the explicit way to allow more.

Only regular files are read (no folders, FIFOs, sockets or devices), and symbolic links are
followed only when their target is inside an allowed folder. A file outside is refused
before it is opened, so nothing of it can show up in an error message.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["ALLOW_ENV", "allowed_roots", "confinement_problem"]

ALLOW_ENV = "SIMENGINE_ALLOW_PATHS"
_PACKAGE = Path(__file__).resolve().parents[1]


def _resolve(path: Path) -> Path | None:
    """``path.resolve(strict=False)``; None on a symbolic-link loop."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return None


def allowed_roots(
    top_file: str | os.PathLike[str] | None, base_dir: Path | None = None
) -> list[Path]:
    """The folders a scenario whose top file is ``top_file`` may read from (see module doc)."""
    roots: list[Path] = [_PACKAGE]
    folder = Path(top_file).parent if top_file is not None else base_dir
    top = _resolve(folder) if folder is not None else None
    if top is not None:
        roots.append(top)
        cwd = Path.cwd().resolve()
        home = Path.home().resolve() if "HOME" in os.environ else None
        if cwd not in (Path(cwd.anchor), home) and (top == cwd or cwd in top.parents):
            roots.append(cwd)
    for entry in os.environ.get(ALLOW_ENV, "").split(os.pathsep):
        resolved = _resolve(Path(entry).expanduser()) if entry.strip() else None
        if resolved is not None:
            roots.append(resolved)
    return roots


def confinement_problem(path: Path, roots: list[Path]) -> tuple[str, str] | None:
    """(message, hint) when ``path`` may not be read, else None.

    Checks, without opening the file: symbolic-link loops, folders outside ``roots``,
    existence, and that it is a regular file.
    """
    resolved = _resolve(path)
    if resolved is None:
        return f"{path} is a symbolic-link loop", "point it at a real file"
    if not any(resolved == r or r in resolved.parents for r in roots):
        return (
            f"{path} is outside the folders a scenario may read from",
            "keep the file inside the scenario's folder tree (or the project you run from), "
            f"or allow its folder explicitly with {ALLOW_ENV}=<folder>",
        )
    try:
        mode = resolved.stat().st_mode
    except FileNotFoundError:
        return f"file not found: {path}", ""
    except OSError as err:
        return f"cannot read {path}: {err.strerror}", ""
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a FIFO, socket or device)"
        return f"{path} is {kind}", "give the path of a regular file"
    return None
