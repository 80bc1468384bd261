"""The scenario library that ships with the package: list it, find a name, copy files out.

The library is the folder ``scenarios/`` at the top of the repository; the package reaches it
as ``simengine/scenarios`` (a link in the source tree, real files in the wheel), so the
README's ``simengine compare scenarios/...`` and an installed wheel read the same files.

``extends: base_2025h2`` (a bare name: no folder, no ``.yaml``) resolves here when no file of
that name sits next to the scenario; :func:`library_file` is the hook the loader calls.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from simengine.exceptions import SimengineError, SpecError

__all__ = [
    "LibraryEntry",
    "copy_plan",
    "copy_scenario",
    "is_copied",
    "is_library_name",
    "library_dir",
    "library_file",
    "list_library",
]

_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class LibraryEntry:
    """One file of the library.

    Attributes
    ----------
    key : str
        What ``extends:`` and ``scenarios copy`` accept: the file name without ``.yaml``
        (sweeps: ``sweeps/<stem>``).
    name : str
        The scenario's (or sweep's) ``name:``.
    kind : str
        ``scenario`` or ``sweep``.
    description : str
        Its ``description:``, on one line.
    path : Path
        The file inside the installed package.
    """

    key: str
    name: str
    kind: str
    description: str
    path: Path


def library_dir() -> Path:
    """The folder of the packaged scenario library."""
    return Path(__file__).resolve().parents[1] / "scenarios"


def is_library_name(value: str) -> bool:
    """True for a bare library name such as ``base_2025h2`` (no folder, no file suffix)."""
    return (
        bool(value)
        and "/" not in value
        and "\\" not in value
        and not value.lower().endswith(_SUFFIXES)
        and value not in (".", "..")
    )


def list_library() -> list[LibraryEntry]:
    """Every scenario and sweep in the library, scenarios first, each sorted by key."""
    from simengine.spec.yaml_io import load_yaml_mapping

    root = library_dir()
    files = sorted(root.glob("*.yaml")) + sorted((root / "sweeps").glob("*.yaml"))
    entries = []
    for path in files:
        data, _ = load_yaml_mapping(path)
        section = data.get("sweep") if isinstance(data.get("sweep"), dict) else None
        body = section if section is not None else data
        key = path.relative_to(root).with_suffix("").as_posix()
        entries.append(
            LibraryEntry(
                key=key,
                name=str(body.get("name", key)),
                kind="sweep" if section is not None else "scenario",
                description=" ".join(str(body.get("description", "")).split()),
                path=path,
            )
        )
    return entries


def library_file(name: str) -> Path | None:
    """The library file for ``name`` (file stem, ``sweeps/<stem>`` or scenario ``name:``).

    Returns None when the library has no such entry.
    """
    wanted = name.removesuffix(".yaml").removesuffix(".yml")
    for entry in list_library():
        if wanted in (entry.key, entry.name, entry.key.removeprefix("sweeps/")):
            return entry.path
    return None


def _parents(path: Path) -> list[Path]:
    """Library files that ``path`` extends (scenarios) or builds on (sweeps), recursively."""
    from simengine.spec.yaml_io import load_yaml_mapping

    out: list[Path] = []
    current: Path | None = path
    while current is not None:
        data, _ = load_yaml_mapping(current)
        sweep = data.get("sweep") if isinstance(data.get("sweep"), dict) else {}
        target = data.get("extends") or sweep.get("base")
        current = None
        if isinstance(target, str):
            local = (out[-1] if out else path).parent / target
            found = local if local.is_file() else None
            if found is None and is_library_name(target):
                found = library_file(target)
            if found is not None and found.resolve() not in out:
                current = found.resolve()
                out.append(current)
    return out


def copy_scenario(
    name: str, dest: str | os.PathLike[str] = ".", overwrite: bool = False
) -> list[Path]:
    """Copy a library scenario and every file it extends into ``dest``, so it runs as it is.

    Files keep their place relative to each other (a sweep goes to ``dest/sweeps/`` and its
    base to ``dest``), so relative ``extends:`` and ``base:`` paths still hold.

    Parameters
    ----------
    name : str
        A library key or scenario name, e.g. ``fed_cut_september``.
    dest : path-like
        Folder to copy into (created if needed).
    overwrite : bool
        Replace files that differ; otherwise nothing is copied when a target exists with
        other content (a target identical to the library file is left as it is).

    Returns
    -------
    list of Path
        The scenario's files in ``dest``, the requested one first (copied, or left as they
        were when already identical).

    Raises
    ------
    SpecError
        For a name the library does not have (with the names it has).
    OutputExistsError
        When a target exists and ``overwrite`` is false.
    """
    from simengine.io import atomic_write, check_can_write

    pairs = copy_plan(name, dest)
    todo = [(f, t) for f, t in pairs if not is_copied(f, t)]
    for _, target in todo:
        check_can_write(target, overwrite)
    for f, target in todo:
        with atomic_write(target, overwrite=overwrite) as tmp:
            shutil.copyfile(f, tmp)
    return [t for _, t in pairs]


def copy_plan(name: str, dest: str | os.PathLike[str] = ".") -> list[tuple[Path, Path]]:
    """``(library file, target in dest)`` for a scenario and every file it extends.

    What :func:`copy_scenario` copies (a target already identical to its source is left
    alone; :func:`is_copied` tells which).
    """
    source = library_file(name)
    if source is None:
        from simengine.spec.errors import did_you_mean

        keys = [e.key for e in list_library()]
        hint = did_you_mean(name, keys) or "run `simengine scenarios list` to see the library"
        raise SpecError([_issue(f"no scenario {name!r} in the library", hint)])
    root = library_dir().resolve()
    files = [source.resolve(), *_parents(source)]
    outside = [f for f in files if root not in f.parents]
    if outside:
        raise SimengineError(f"library file {outside[0]} is outside the library folder")
    return [(f, Path(dest) / f.relative_to(root)) for f in files]


def is_copied(source: Path, target: Path) -> bool:
    """True when ``target`` already holds exactly ``source`` (copying it again is a no-op)."""
    return target.is_file() and target.read_bytes() == source.read_bytes()


def _issue(message: str, hint: str):
    from simengine.exceptions import Issue

    return Issue("<library>", None, "", message, hint)
