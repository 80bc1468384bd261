"""How results, comparisons and scenarios show themselves in a terminal and in a notebook.

``repr(result)`` is a few readable lines with a compact table (median, 5%, 95%, P(loss) per
scenario and series); ``result._repr_html_()`` is the same table as HTML with a small inline
fan chart (median and 50% / 90% bands of each scenario). ``repr(spec)`` lists what a scenario
assumes, one item a line, instead of one long line of fields. The classes call these
functions from thin methods, so this module holds the formatting alone.
"""

from __future__ import annotations

import html
import textwrap
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

    from simengine.results import SimulationResult
    from simengine.spec import ScenarioSpec

__all__ = ["compact_table", "result_html", "result_text", "spec_html", "spec_text"]

COMPACT = ("median", "q05", "q95", "prob_loss")
HEADERS = {"median": "median", "q05": "5%", "q95": "95%", "prob_loss": "P(loss)"}
WIDTH = 96


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


def _spec_items(spec: ScenarioSpec) -> list[tuple[str, str]]:
    from simengine.spec.advice import meetings_line

    def listing(items: Any, fmt: Any) -> str:
        return "; ".join(fmt(x) for x in items) or "none"

    init = spec.initial
    return [
        ("window", f"{spec.start} to {spec.horizon}, {spec.frequency}"),
        ("assets", ", ".join(spec.assets)),
        ("start", f"policy rate {init.policy_rate:g}%, tariff {init.tariff:g}%"),
        ("FOMC", meetings_line(spec)),
        ("tariffs", listing(spec.tariffs, lambda t: f"{t.date} {t.level:g}%")),
        ("drifts", listing(spec.drifts, lambda d: f"{d.factor} {d.shift:+g}")),
        ("shocks", listing(spec.shocks, lambda s: f"{s.factor} {s.size:+g} on {s.date}")),
        ("pins", listing(spec.pins, lambda p: f"{p.factor} ({len(p.values)} values)")),
        (
            "short interest",
            f"${spec.positioning.short_interest_bn:g}bn" if spec.positioning else "model default",
        ),
        ("run", f"{spec.paths:,} paths, seed {spec.seed}, {spec.method}, model {spec.model}"),
    ]


def spec_text(spec: ScenarioSpec) -> str:
    """A readable multi-line repr of a scenario: one assumption a line, wrapped."""
    source = f" ({spec.source})" if spec.source is not None else ""
    lines = [f"<ScenarioSpec {spec.name!r}{source}>"]
    if spec.description:
        lines += textwrap.wrap(spec.description, WIDTH, initial_indent="  ", subsequent_indent="  ")
    for key, value in _spec_items(spec):
        lines += textwrap.wrap(
            value, WIDTH, initial_indent=f"  {key + ':':<15} ", subsequent_indent=" " * 18
        )
    return "\n".join(lines)


def spec_html(spec: ScenarioSpec) -> str:
    """HTML for notebooks: name, description and a two-column table of assumptions."""
    rows = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
        f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
        for k, v in _spec_items(spec)
    )
    return (
        f"<div><strong>ScenarioSpec {html.escape(spec.name)}</strong>"
        f"<p>{html.escape(spec.description)}</p><table>{rows}</table></div>"
    )
