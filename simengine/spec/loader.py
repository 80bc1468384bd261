"""Load scenario files: safe YAML, ``extends:`` inheritance, file:line errors.

``extends: base.yaml`` names a parent file relative to the child; a bare name such as
``extends: base_2025h2`` names a scenario of the packaged library (:mod:`simengine.spec.library`). The child overrides the
parent key by key: mappings merge recursively, lists and scalars replace. ``key+:`` (for
example ``tariffs+:``) appends the child's items to the parent's list instead. ``model`` and
``posterior`` paths written in a parent stay relative to the parent's folder. Every problem
in the resolved scenario is reported at once, each with the file and line it came from.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from simengine.exceptions import Issue, SpecError
from simengine.spec.errors import Locations
from simengine.spec.merge import merge_located
from simengine.spec.paths import allowed_roots, confinement_problem
from simengine.spec.scenario import ScenarioSpec
from simengine.spec.yaml_io import LineMap, load_yaml_mapping, load_yaml_mapping_text

__all__ = [
    "MAX_EXTENDS_DEPTH",
    "is_sweep_file",
    "load_merged_mapping",
    "load_scenario",
    "load_scenario_text",
    "load_yaml_mapping",
    "resolve_extends",
]

MAX_EXTENDS_DEPTH = 16
_PATH_KEYS = ("model", "posterior")


def is_sweep_file(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a readable YAML mapping whose top-level keys include ``sweep``.

    Here rather than in :mod:`simengine.spec.sweep` so that checking a plain scenario does not
    import the sweep models (``validate`` start-up).
    """
    try:
        data, _ = load_yaml_mapping(path)
    except SpecError:
        return False
    return "sweep" in data


def load_scenario(path: str | os.PathLike[str]) -> ScenarioSpec:
    """Load, resolve and validate a scenario file.

    Parameters
    ----------
    path : path-like
        The scenario YAML file.

    Returns
    -------
    ScenarioSpec
        With ``source`` set to ``path``.

    Raises
    ------
    SpecError
        With every problem found (file, line, field, message, hint).
    """
    data, locations = load_merged_mapping(path)
    return ScenarioSpec.from_data(data, source=Path(path), locations=locations)


def load_scenario_text(
    text: str, source: str = "<string>", base_dir: str | os.PathLike[str] | None = None
) -> ScenarioSpec:
    """Load a scenario from YAML text.

    Parameters
    ----------
    text : str
        The scenario document.
    source : str, optional
        How to name it in errors; if it is a file path it also becomes ``spec.source``.
    base_dir : path-like, optional
        Folder ``extends:`` and model paths are relative to (default: the folder of
        ``source`` when it is a path, else the current directory).

    Returns
    -------
    ScenarioSpec

    Raises
    ------
    SpecError
        With every problem found.
    """
    data, lines = load_yaml_mapping_text(text, source)
    if base_dir is None:
        base_dir = Path(source).parent if not source.startswith("<") else Path.cwd()
    data, locations = resolve_extends(data, lines, source, Path(base_dir))
    return ScenarioSpec.from_data(data, source=source, locations=locations)


def load_merged_mapping(path: str | os.PathLike[str]) -> tuple[dict[str, Any], Locations]:
    """Read a YAML mapping and resolve its ``extends:`` chain (no validation).

    Useful to sweep loaders that edit the data before validating it with
    :meth:`ScenarioSpec.from_data`.

    Returns
    -------
    data : dict
        The merged mapping, ``extends`` removed.
    locations : dict
        Field path -> (file, line), each from the file that supplied the value.
    """
    shown = str(path)
    data, lines = load_yaml_mapping(path, shown)
    return resolve_extends(data, lines, shown, Path(path).parent, chain=(Path(path).resolve(),))


def resolve_extends(
    data: dict[str, Any],
    lines: LineMap,
    shown: str,
    base_dir: Path,
    chain: tuple[Path, ...] = (),
    roots: list[Path] | None = None,
) -> tuple[dict[str, Any], Locations]:
    """Merge ``data`` over the file its ``extends:`` key names, recursively.

    Parameters
    ----------
    data, lines : dict
        The child mapping and its line map (from :func:`load_yaml_mapping`).
    shown : str
        The child's name in issues.
    base_dir : Path
        Folder the child's relative paths are relative to.
    chain : tuple of Path
        Resolved files already being loaded (cycle detection); the first is the top file.
    roots : list of Path, optional
        Folders parents may be read from (default: :func:`simengine.spec.paths.allowed_roots`
        of the top file, or of ``base_dir`` for text).

    Returns
    -------
    data : dict
    locations : dict
        Field path -> (file, line).
    """
    locations: Locations = {loc: (shown, line) for loc, line in lines.items()}
    if "extends" not in data:
        return data, locations
    data = dict(data)
    target = data.pop("extends")
    where = (shown, lines.get(("extends",), 1))
    for loc in [loc for loc in locations if loc[:1] == ("extends",)]:
        del locations[loc]
    if roots is None:
        roots = allowed_roots(chain[0] if chain else None, base_dir)
    parent_path, parent_shown = _parent_file(target, base_dir, shown, where, chain, roots)
    p_data, p_lines = load_yaml_mapping(parent_path, parent_shown)
    p_data, p_locations = resolve_extends(
        p_data, p_lines, parent_shown, parent_path.parent, (*chain, parent_path.resolve()), roots
    )
    _rebase_paths(p_data, parent_path.parent, base_dir)
    return _overlay(p_data, p_locations, data, locations)


def _fail(where: tuple[str, int], message: str, hint: str = "") -> SpecError:
    return SpecError([Issue(where[0], where[1], "extends", message, hint)])


def _parent_file(
    target: Any,
    base_dir: Path,
    shown: str,
    where: tuple[str, int],
    chain: tuple[Path, ...],
    roots: list[Path],
) -> tuple[Path, str]:
    """Check an ``extends:`` value and return (path, name shown in issues)."""
    if not isinstance(target, str) or not target.strip():
        raise _fail(
            where,
            f"received {target!r}; expected the path of a scenario file",
            "e.g. base_2025h2.yaml",
        )
    path = base_dir / target
    parent_shown = os.path.normpath(os.path.join(os.path.dirname(shown), target))
    if shown.startswith("<"):
        parent_shown = str(path)
    library = _library_file(target, path)
    if library is not None:  # packaged scenario: outside the user's folders by design
        path, parent_shown = library, f"<library>/{library.name}"
    else:
        problem = confinement_problem(path, roots)
        if problem is not None and not problem[0].startswith("file not found"):
            raise _fail(where, *problem)
    resolved = path.resolve()
    if resolved in chain:
        names = " -> ".join([*(p.name for p in chain), resolved.name])
        raise _fail(
            where, f"extends cycle: {names}", "a scenario cannot extend itself, directly or not"
        )
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise _fail(where, f"extends chain deeper than {MAX_EXTENDS_DEPTH} files")
    if not path.is_file():
        raise _fail(
            where,
            f"file not found: {parent_shown}",
            f"paths are relative to the folder of {shown} ({base_dir}); a bare name such as "
            "base_2025h2 names a library scenario (`simengine scenarios list`)",
        )
    return path, parent_shown


def _library_file(target: str, local: Path) -> Path | None:
    """``extends: base_2025h2`` (a bare name) with no such local file: the packaged library."""
    from simengine.spec.library import is_library_name, library_file

    return library_file(target) if is_library_name(target) and not local.is_file() else None


def _rebase_paths(data: dict[str, Any], from_dir: Path, to_dir: Path) -> None:
    """Rewrite relative model/posterior paths of a parent so they hold from the child's folder."""
    for key in _PATH_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value != "default" and not Path(value).is_absolute():
            data[key] = os.path.relpath(from_dir.resolve() / value, to_dir.resolve())


def _overlay(
    base: dict[str, Any], base_locations: Locations, over: dict[str, Any], over_locations: Locations
) -> tuple[dict[str, Any], Locations]:
    """Deep-merge ``over`` onto ``base`` (mappings merge; everything else replaces)."""
    merged = copy.deepcopy(base)
    locations = dict(base_locations)
    merge_located(merged, over, locations, over_locations)
    locations[()] = over_locations.get((), locations.get((), ("<scenario>", 1)))
    return merged, locations
