"""How results and comparisons show themselves in a terminal and in a notebook.

``repr(result)`` is a few readable lines with a compact table (median, 5%, 95%, P(loss) per
scenario and series); ``result._repr_html_()`` is the same table as HTML with a small inline
fan chart (each scenario's median and 50% band). Scenarios: :mod:`simengine.spec.show`. The
classes call these functions from thin methods, so this module holds the formatting alone.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

    from simengine.results import SimulationResult

__all__ = ["compact_table", "result_html", "result_text"]

COMPACT = ("median", "q05", "q95", "prob_loss")
HEADERS = {"median": "median", "q05": "5%", "q95": "95%", "prob_loss": "P(loss)"}


def compact_table(result: SimulationResult) -> pd.DataFrame:
    """Median, 5%, 95% and P(loss) of the return to the horizon, in %, per scenario and series."""
    frame = result.summary()[list(COMPACT)] * 100.0
    return frame.rename(columns={k: f"{v} (%)" for k, v in HEADERS.items()}).round(2)


def _run_line(result: SimulationResult) -> str:
    attrs = result.attrs
    ds = result._ds  # read-only use; avoids the copy that ``dataset`` makes
    times = ds["time"].values
    n = int(ds["n_paths"].values.min())
    return (
        f"{n:,} paths per scenario, seed {attrs.get('seed')}, {attrs.get('method')}, "
        f"{len(times)} steps to {str(times[-1])[:10]}"
    )


def result_text(result: SimulationResult) -> str:
    """A readable multi-line repr: what was run, then the compact table (and differences)."""
    kind = type(result).__name__
    names = ", ".join(result.scenarios)
    lines = [f"<{kind}: {names}>", _run_line(result), ""]
    lines.append(compact_table(result).to_string())
    if hasattr(result, "difference_summary"):
        diffs = result.difference_summary()[["median", "q05", "q95", "prob_positive"]] * 100.0
        lines += ["", f"difference from {result.reference}, path by path (pp):"]
        lines.append(diffs.round(2).to_string())
    lines += ["", "summary(), levels(), quantile_paths(), plot.fan() for more"]
    return "\n".join(lines)


def _fan_png(result: SimulationResult) -> bytes | None:
    """A small fan chart of the first asset: each scenario's median with its 50% band."""
    try:
        from simengine.plot_grid import median_fans
        from simengine.plotting import figure_to_png

        series = next(s for s in result.series if s != "pair")
        fig = median_fans(result, series, figsize=(6.0, 2.8))
        return figure_to_png(fig, dpi=72)
    except Exception:  # a notebook display must never fail on a chart
        return None


def result_html(result: SimulationResult) -> str:
    """HTML for notebooks: title, run line, compact table(s) and a small inline fan chart."""
    import base64

    parts = [
        f"<div><strong>{html.escape(type(result).__name__)}</strong>: "
        f"{html.escape(', '.join(result.scenarios))}<br><small>{html.escape(_run_line(result))}"
        "</small>",
        compact_table(result).to_html(border=0),
    ]
    if hasattr(result, "difference_summary"):
        diffs = result.difference_summary()[["median", "q05", "q95", "prob_positive"]] * 100.0
        parts.append(
            f"<p>Difference from <strong>{html.escape(result.reference)}</strong>, path by "
            "path (pp)</p>" + diffs.round(2).to_html(border=0)
        )
    png = _fan_png(result)
    if png is not None:
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<img src="data:image/png;base64,{data}" alt="fan chart">')
    return "".join(parts) + "</div>"
