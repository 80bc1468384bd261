"""Deep merge of YAML data that keeps every field's file and line (``extends:``, sweeps)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from simengine.spec.errors import Loc, Locations

__all__ = ["drop_below", "merge_located"]


def drop_below(locs: Locations, path: Loc) -> None:
    """Forget the locations of ``path`` and everything under it."""
    n = len(path)
    for loc in [loc for loc in locs if loc[:n] == path]:
        del locs[loc]


def merge_located(
    target: dict[str, Any],
    over: Mapping[str, Any],
    locs: Locations,
    over_locs: Locations,
    prefix: Loc = (),
) -> None:
    """Deep-merge ``over`` into ``target`` in place: mappings merge, lists and scalars replace.

    A key ending in ``+`` with a list (``tariffs+:``) appends its items to the list ``tariffs``
    of ``target`` instead of replacing it.

    ``locs`` (the locations of ``target``) is updated so that every field keeps the file and
    line it now comes from: a replaced value takes all of its locations from ``over_locs``.
    """
    for key, value in over.items():
        if _is_append(key, value, target):
            _append_located(target, key, value, locs, over_locs, prefix)
            continue
        path = (*prefix, key)
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            if path in over_locs:
                locs[path] = over_locs[path]
            merge_located(target[key], value, locs, over_locs, path)
            continue
        target[key] = copy.deepcopy(value)
        drop_below(locs, path)
        n = len(path)
        locs.update({loc: w for loc, w in over_locs.items() if loc[:n] == path})


def _is_append(key: Any, value: Any, target: Mapping[str, Any]) -> bool:
    """``tariffs+:`` with a list, where the base has a list ``tariffs`` (or none): append."""
    return (
        isinstance(key, str)
        and key.endswith("+")
        and isinstance(value, list)
        and isinstance(target.get(key[:-1], []), list)
    )


def _append_located(
    target: dict[str, Any],
    key: str,
    value: list[Any],
    locs: Locations,
    over_locs: Locations,
    prefix: Loc,
) -> None:
    """Append the child's items to the base's list; their locations follow the new indices."""
    name = key[:-1]
    items = target.setdefault(name, [])
    n = len(items)
    items.extend(copy.deepcopy(value))
    src = (*prefix, key)
    for loc, where in over_locs.items():
        if loc[: len(src)] != src:
            continue
        rest = loc[len(src) :]
        if rest:
            locs[(*prefix, name, rest[0] + n, *rest[1:])] = where
        elif (*prefix, name) not in locs:
            locs[(*prefix, name)] = where
