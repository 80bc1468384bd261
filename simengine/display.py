"""How results and comparisons show themselves in a terminal and in a notebook.

``repr(result)`` is a few readable lines with the compact summary (``result.summary()``:
median, 5%, 95%, P(loss), mean per scenario and series, shown in %) and, for a comparison,
the compact difference table (``difference_summary()``, in pp); ``result._repr_html_()`` is
the same tables as HTML with a small inline fan chart (each scenario's median and 50% band).
Scenarios: :mod:`simengine.spec.show`. The classes call these functions from thin methods,
so this module holds the formatting alone.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

    from simengine.results import SimulationResult

__all__ = ["compact_differences", "compact_table", "result_html", "result_text"]

HEADERS = {
    "median": "median",
    "q05": "5%",
    "q95": "95%",
    "prob_loss": "P(loss)",
    "prob_positive": "P(higher)",
    "mean": "mean",
}


SUMMARY_CAPTION = "return to the horizon, % (P(loss): % of paths losing)"
DIFFERENCE_CAPTION = "difference from {ref}, path by path, pp (P(higher): % of paths higher)"


#: Size (inches) of the inline fan chart: room for the y label above a legend of 8 lines.
FAN_FIGSIZE = (6.4, 3.8)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (fractions) in % (returns) or pp (differences), short headers."""
    return (frame * 100.0).rename(columns=HEADERS).round(2)


def compact_table(result: SimulationResult) -> pd.DataFrame:
    """``result.summary()`` (median, 5%, 95%, P(loss), mean) in %, per scenario and series."""
    return _shown(result.summary())


def compact_differences(result: SimulationResult) -> pd.DataFrame:
    """``result.difference_summary()`` in pp (P(higher): share of paths ending higher, %)."""
    return _shown(result.difference_summary())


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
    lines = [f"<{kind}: {names}>", _run_line(result), "", SUMMARY_CAPTION + ":"]
    lines.append(compact_table(result).to_string())
    if hasattr(result, "difference_summary"):
        lines += ["", DIFFERENCE_CAPTION.format(ref=result.reference) + ":"]
        lines.append(compact_differences(result).to_string())
    lines += [
        "",
        "summary(wide=True): every statistic; levels(), quantile_paths(), plot.median_fans()",
    ]
    return "\n".join(lines)


def _fan_png(result: SimulationResult) -> bytes | None:
    """A small fan chart of the first asset: each scenario's median with its 50% band."""
    try:
        from simengine.plot_base import figure_to_png
        from simengine.plot_grid import median_fans

        series = next(s for s in result.series if s != "pair")
        fig = median_fans(result, series, figsize=FAN_FIGSIZE)
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
        f"<p>{html.escape(_sentence(SUMMARY_CAPTION))}</p>",
        compact_table(result).to_html(border=0),
    ]
    if hasattr(result, "difference_summary"):
        caption = _sentence(DIFFERENCE_CAPTION.format(ref=result.reference))
        parts.append(
            f"<p>{html.escape(caption)}</p>" + compact_differences(result).to_html(border=0)
        )
    png = _fan_png(result)
    if png is not None:
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<img src="data:image/png;base64,{data}" alt="fan chart">')
    return "".join(parts) + "</div>"
