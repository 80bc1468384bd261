"""How a scenario shows itself: a readable multi-line repr and an HTML table for notebooks.

``repr(spec)`` lists what a scenario assumes, one item a line (window, starting point, FOMC
meetings set or drawn from pricing, tariffs, drifts, shocks, pins, positioning, run settings)
instead of one long line of fields. :class:`~simengine.spec.scenario.ScenarioSpec` calls these
functions from thin methods.
"""

from __future__ import annotations

import html
import textwrap
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    from simengine.spec.scenario import ScenarioSpec

__all__ = ["spec_html", "spec_text"]

WIDTH = 96


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
