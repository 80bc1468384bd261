"""``simengine validate --explain``: the merged scenario, with where every value came from.

:func:`explain` prints the scenario a file resolves to after ``extends:`` (and the defaults the
spec fills in), one value a line, each with the file and line it came from.
:func:`list_notes` says, for each list an extending file sets, whether it replaces the base's
list (``tariffs:``) or appends to it (``tariffs+:``).
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

from simengine.spec.errors import Loc, Locations
from simengine.spec.loader import load_merged_mapping, resolve_extends
from simengine.spec.yaml_io import load_yaml_mapping

__all__ = ["explain", "list_notes"]

_COMMENT_COLUMN = 44


def _parent(path: Path, data: dict[str, Any]) -> tuple[dict[str, Any], Locations] | None:
    if "extends" not in data:
        return None
    return resolve_extends({"extends": data["extends"]}, {}, str(path), path.parent)


def _where(locations: Locations, loc: Loc) -> str:
    file, line = locations.get(loc, ("", None))
    return f"{file}:{line}" if line else str(file)


def list_notes(path: str | os.PathLike[str]) -> list[str]:
    """For each list the file sets over its base: replaced or appended, and how many items.

    Returns
    -------
    list of str
        Empty for a file without ``extends:``.
    """
    path = Path(path)
    data, _ = load_yaml_mapping(path)
    parent = _parent(path, data)
    if parent is None:
        return []
    base, base_locs = parent
    notes = []
    for key, value in data.items():
        if not isinstance(key, str) or not isinstance(value, list):
            continue
        name = key.removesuffix("+")
        old = base.get(name)
        n_old = len(old) if isinstance(old, list) else 0
        where = _where(base_locs, (name,)) or "the base"
        if key.endswith("+"):
            notes.append(
                f"{name}: appends {len(value)} item(s) to the {n_old} of {where} ({key}: appends)"
            )
        elif n_old:
            notes.append(
                f"{name}: replaces the {n_old} item(s) of {where} with {len(value)} "
                f"(to keep them and add yours, write {name}+: instead of {name}:)"
            )
    return notes


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        plain = value and value.strip() == value and not set(value) & set(":#'\"{}[],&*!|>%@`")
        return value if plain else json.dumps(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _line(text: str, comment: str) -> str:
    return f"{text:<{_COMMENT_COLUMN}} # {comment}" if comment else text


def _emit(value: Any, loc: Loc, indent: str, locations: Locations, out: list[str]) -> None:
    """Append YAML-like lines for ``value`` (a mapping's items) with a location comment each."""
    for key, item in value.items():
        here = (*loc, key)
        _emit_item(f"{indent}{key}:", item, here, indent, locations, out)


def _emit_item(
    head: str, item: Any, here: Loc, indent: str, locations: Locations, out: list[str]
) -> None:
    where = _where(locations, here)
    if isinstance(item, dict) and item:
        out.append(_line(head, where))
        _emit(item, here, indent + "  ", locations, out)
    elif isinstance(item, list) and item:
        out.append(_line(head, where))
        for i, element in enumerate(item):
            _emit_list_item(element, (*here, i), indent + "  ", locations, out)
    elif isinstance(item, str) and len(item) > _COMMENT_COLUMN:
        out.append(_line(f"{head} >-", where))
        pad = indent + "  "
        out += textwrap.wrap(item, 96, initial_indent=pad, subsequent_indent=pad)
    else:
        out.append(_line(f"{head} {_scalar(item) if item != {} else '{}'}", where))


def _emit_list_item(
    element: Any, here: Loc, indent: str, locations: Locations, out: list[str]
) -> None:
    if isinstance(element, dict) and element:
        first = True
        for key, item in element.items():
            prefix = f"{indent}- " if first else f"{indent}  "
            _emit_item(f"{prefix}{key}:", item, (*here, key), indent + "  ", locations, out)
            first = False
    else:
        out.append(_line(f"{indent}- {_scalar(element)}", _where(locations, here)))


def explain(path: str | os.PathLike[str]) -> str:
    """The merged scenario of ``path`` as YAML text, every value commented with file:line.

    Keys the files do not set are shown with their default (``# default``). The text loads
    back to the same scenario (``extends:`` resolved).

    Raises
    ------
    SpecError
        When the file (or a file it extends) is invalid.
    """
    from simengine.spec.loader import load_scenario

    spec = load_scenario(path)  # validates: explain only what would run
    data, locations = load_merged_mapping(path)
    full = spec.to_data()
    out: list[str] = [f"# {path}: the scenario after extends:, with where each value came from"]
    for key in type(spec).model_fields:
        if key in data:
            _emit({key: data[key]}, (), "", locations, out)
        elif key in full:
            _emit({key: full[key]}, (), "", {(key,): ("default", None)}, out)
    return "\n".join(out) + "\n"
