"""Batch report sections that read at a glance: heat maps over sweep axes, a compact table.

A batch store's ``summary.parquet`` has one row per scenario x series with the sweep fields
as columns (``cut``, ``size``; ``tariff``, ``growth``). For each sweep this module draws heat
maps of the median small-cap return, the median pair P&L and the small-cap P(loss) over its
two axes, and a compact table with one row per variant, labelled by its sweep values, with
every blank cell explained.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simengine.report.html import esc, figure, table

__all__ = ["NOT_SET", "compact_table", "sweep_axes", "sweep_groups", "sweep_section"]

NOT_SET = "—"
"""Label of a sweep axis a variant does not use (e.g. the size of "no cut")."""
OTHER = "(scenario files)"
META = {"scenario", "series", "label", "sweep", "key", "spec_hash", "seed", "n_paths"}
HEATMAPS: tuple[tuple[str, str, str, bool], ...] = (
    ("small_cap", "median", "median return (%)", True),
    ("pair", "median", "median pair P&L (%)", True),
    ("small_cap", "prob_loss", "P(loss) (%)", False),
)
TABLE_STATS: tuple[tuple[str, str], ...] = (
    ("median", "median"),
    ("q05", "5%"),
    ("prob_loss", "P(loss)"),
)


def _label(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return NOT_SET
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def sweep_groups(summary: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The store's rows split by sweep (scenario files run directly come last)."""
    if "sweep" not in summary.columns:
        return [(OTHER, summary)]
    key = summary["sweep"].fillna(OTHER).astype(str)
    return [(name, summary[key == name]) for name in dict.fromkeys(key)]


def sweep_axes(rows: pd.DataFrame, is_stat: Callable[[str], bool]) -> list[str]:
    """Sweep fields that vary within ``rows`` (in the sweep's order)."""
    fields = [c for c in rows.columns if c not in META and not is_stat(str(c))]
    return [c for c in fields if rows[c].map(_label).nunique() > 1]


def compact_table(rows: pd.DataFrame, axes: Sequence[str], labels: dict[str, str]) -> pd.DataFrame:
    """One row per variant, indexed by its sweep labels (and its name when not from a sweep);
    median, 5% and P(loss) per series."""
    order = list(dict.fromkeys(rows["scenario"]))
    first = rows.groupby("scenario", sort=False).first().reindex(order)
    keys = first[list(axes)].map(_label)
    if not axes or rows.get("sweep", pd.Series(dtype=object)).isna().all():
        keys.insert(0, "scenario", first.index)  # not a sweep: the names are the labels
    out = pd.DataFrame(index=pd.MultiIndex.from_frame(keys.reset_index(drop=True)))
    for series in dict.fromkeys(rows["series"]):
        part = rows[rows["series"] == series].set_index("scenario").reindex(order)
        name = labels.get(series, series)
        for stat, head in TABLE_STATS:
            if stat in part.columns:
                out[f"{name} {head}"] = part[stat].to_numpy()
    return out


def _grid(rows: pd.DataFrame, axes: Sequence[str], series: str, stat: str) -> pd.DataFrame:
    part = rows[rows["series"] == series]
    a, b = axes
    frame = pd.DataFrame({a: part[a].map(_label), b: part[b].map(_label), "v": part[stat]})
    grid = frame.pivot_table(index=a, columns=b, values="v", aggfunc="first", dropna=False)
    rows_order = list(dict.fromkeys(frame[a]))
    cols_order = list(dict.fromkeys(frame[b]))
    return grid.reindex(index=rows_order, columns=cols_order) * 100.0


def _heatmaps(rows: pd.DataFrame, axes: Sequence[str], labels: dict[str, str], dpi: int) -> str:
    from simengine.plot_grid import heatmap
    from simengine.plotting import figure_to_png

    parts = ['<div class="grid">']
    for series, stat, what, diverging in HEATMAPS:
        if series not in set(rows["series"]) or stat not in rows.columns:
            continue
        grid = _grid(rows, axes, series, stat)
        name = labels.get(series, series)
        title = f"{name}: {what}"
        fmt = "{:+.1f}" if diverging else "{:.0f}"
        fig = heatmap(grid, title, what, fmt=fmt, diverging=diverging)
        parts.append(figure(figure_to_png(fig, dpi=dpi), f"heat map of {title}"))
    parts.append("</div>")
    return "".join(parts)


def _missing_notes(table_frame: pd.DataFrame, axes: Sequence[str]) -> str:
    notes = []
    if any(NOT_SET in table_frame.index.get_level_values(a) for a in axes):
        notes.append(
            f"{NOT_SET} in a label column: the variant does not use that axis (for example, "
            "“no cut” has no cut size)."
        )
    if table_frame.isna().any().any():
        notes.append("n/a: the statistic is missing because that scenario has not run yet "
                     "or failed (see the batch manifest).")  # fmt: skip
    if len(axes) == 2:
        notes.append("n/a in a heat map: that combination of the two axes is not in the sweep.")
    return "".join(f'<p class="note">{esc(n)}</p>' for n in notes)


def _formats(frame: pd.DataFrame) -> dict[str, Callable[[Any], str]]:
    def pct(v: Any) -> str:
        return "n/a" if pd.isna(v) else f"{100 * v:+.1f}%"

    def share(v: Any) -> str:
        return "n/a" if pd.isna(v) else f"{100 * v:.0f}%"

    return {c: share if c.endswith("P(loss)") else pct for c in frame.columns}


def sweep_section(
    name: str,
    rows: pd.DataFrame,
    is_stat: Callable[[str], bool],
    labels: dict[str, str],
    fans: str,
    dpi: int,
) -> str:
    """Heat maps (two axes), the compact table with notes, then the fan small multiples."""
    axes = sweep_axes(rows, is_stat)
    n = rows["scenario"].nunique()
    described = " x ".join(axes) if axes else "no sweep axis"
    parts = [f"<h3>{esc(name)}: {n} scenario(s), {esc(described)}</h3>"]
    if len(axes) == 2:
        parts.append(
            "<p>Each cell is one variant: the median 2025 return of small caps, the median "
            "P&amp;L of long large caps / short small caps, and the chance that small caps "
            "lose money by the horizon.</p>"
        )
        parts.append(_heatmaps(rows, axes, labels, dpi))
    elif len(axes) > 2:
        parts.append('<p class="note">More than two axes: see the table (no heat map).</p>')
    frame = compact_table(rows, axes, labels)
    parts.append(table(frame, _formats(frame)))
    parts.append(_missing_notes(frame, axes))
    parts.append(fans)
    return "".join(parts)


def result_labels(files: Sequence[Path]) -> dict[str, str]:
    """Series display names (``Russell 2000``) from the first readable result file."""
    import json

    from simengine.exceptions import SimengineError
    from simengine.results import load_result

    for path in files:
        try:
            labels = json.loads(load_result(path).attrs.get("labels", "{}"))
        except (SimengineError, ValueError):
            continue
        if {"small_cap", "large_cap"} <= set(labels):
            labels["pair"] = "pair"
        return labels
    return {}
