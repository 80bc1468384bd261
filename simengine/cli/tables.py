"""Terminal tables of results that fit the terminal: side by side when wide, stacked when narrow.

One table per scenario (statistics down, series across), laid out with :class:`rich.columns.
Columns`, so tables sit side by side when the terminal is wide enough and stack otherwise.
The cross-asset probabilities (``prob_small_beats_large``, ``prob_squeeze``), which are the
same for every series, are printed once per scenario under its table; ``param_var_share`` only for Bayesian runs (it is 0
with point parameters).
"""

from __future__ import annotations

from typing import Any

from rich.columns import Columns
from rich.console import Console
from rich.table import Table

__all__ = [
    "CROSS_ASSET",
    "fmt_value",
    "jump_text",
    "print_frames",
    "print_result",
    "split_cross",
]

#: Statistics of the scenario, not of a series: shown once per scenario.
CROSS_ASSET = {
    "prob_small_beats_large": "P(Russell 2000 beats Nasdaq-100)",
    "prob_squeeze": "P(at least one short squeeze)",
}
PERCENT_COLUMNS = {"param_var_share", "prob_positive", "prob_loss", *CROSS_ASSET}


def fmt_value(col: str, value: float, percent: bool = True) -> str:
    """A statistic as text: returns and probabilities in %, levels with thousands separators."""
    if not percent:
        return f"{value:,.2f}"
    if col in PERCENT_COLUMNS or col.startswith("prob_"):
        return f"{100 * value:.1f}%"
    return f"{100 * value:.2f}%"


def _formats(result: Any) -> dict[str, str]:
    """Each column's declared format (``percent`` or ``number``) from the result's statistics."""
    from simengine.statistics import column_formats

    return column_formats(result.statistics)


def _table(title: str, frame: Any, percent: Any, caption: str | None = None) -> Table:
    """``percent``: True / False for every column, or a column -> ``percent|number`` mapping."""
    table = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        caption=caption,
        caption_justify="left",
        expand=False,
    )
    table.add_column("statistic", no_wrap=True)
    for series in frame.index:
        table.add_column(str(series), justify="right", no_wrap=True)
    for col in frame.columns:
        pct = percent if isinstance(percent, bool) else percent.get(col, "percent") == "percent"
        table.add_row(col, *(fmt_value(col, float(frame.loc[s, col]), pct) for s in frame.index))
    return table


def print_frames(
    console: Console,
    heading: str,
    frames: dict[str, Any],
    percent: Any = True,
    footers: dict[str, str] | None = None,
) -> None:
    """Print one table per frame (index: series, columns: statistics) under a heading.

    Tables sit side by side when the console is wide enough and stack otherwise; a footer
    line per table (cross-asset probabilities) follows it.
    """
    console.print(f"[bold underline]{heading}[/]", highlight=False)
    footers = footers or {}
    blocks = [_table(name, frame, percent, footers.get(name)) for name, frame in frames.items()]
    console.print(Columns(blocks, padding=(0, 2)))


def _split(summary: Any, name: str) -> tuple[Any, str]:
    """The per-series statistics of a scenario, and its cross-asset probabilities as text."""
    return split_cross(summary.loc[name])


def split_cross(rows: Any) -> tuple[Any, str]:
    """A frame (index: series) without duplicate and cross-asset columns, and those as text."""
    cross = [c for c in CROSS_ASSET if c in rows.columns]
    text = ", ".join(f"{CROSS_ASSET[c]} {100 * float(rows[c].iloc[0]):.1f}%" for c in cross)
    keep = [c for c in rows.columns if c not in CROSS_ASSET]
    if "param_var_share" in keep and not float(rows["param_var_share"].abs().max()) > 0:
        keep.remove("param_var_share")  # point parameters: always 0, said in the header
    return rows[keep], text


def jump_text(result: Any, name: str) -> str:
    """How much of scenario ``name``'s mean return comes from squeeze jumps, as text ("" when
    it simulated none)."""
    if not getattr(result, "has_jump_means", False):
        return ""
    row = result.jump_means().loc[name]
    if not row.abs().max() > 0:
        return ""
    parts = ", ".join(f"{series} {100 * value:+.2f}pp" for series, value in row.items())
    return f"mean from squeeze jumps (compensated): {parts}"


def print_result(console: Console, result: Any, header: str) -> None:
    """Every table of a run or comparison: returns, index levels, differences."""
    console.print(header, highlight=False)
    summary = result.summary(wide=True)
    split = {}
    for name in result.scenarios:
        frame, text = _split(summary, name)
        split[name] = (frame, "; ".join(t for t in (text, jump_text(result, name)) if t))
    formats = _formats(result)
    print_frames(
        console,
        "Return to the horizon (cumulative simple return)",
        {name: frame for name, (frame, _) in split.items()},
        formats,
        footers={name: text for name, (_, text) in split.items()},
    )
    levels = result.levels()
    if len(levels):
        print_frames(
            console,
            "Index level at the horizon (index points)",
            {name: levels.loc[name] for name in result.scenarios},
            percent=False,
        )
    if hasattr(result, "difference_summary"):
        diffs = result.difference_summary(wide=True).drop(columns="reference")
        print_frames(
            console,
            f"Difference from {result.reference}, path by path (same shocks)",
            {f"{name} minus {result.reference}": diffs.loc[name] for name in result.scenarios[1:]},
            formats,
        )
