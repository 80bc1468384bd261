"""Scenario assumptions in words: FOMC decisions, market pricing, tariffs, drifts, positioning.

Works on the plain spec dicts stored in a result (``result.specs``), so a report can be
rebuilt from a saved result without the original YAML files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from simengine.report.html import esc

__all__ = ["ASSUMPTION_ROWS", "assumption_lines", "assumptions_table"]


def _bp(value: Any) -> str:
    v = float(value)
    return f"{v:+g}bp" if v else "hold"


def _outcomes(outcomes: Mapping[str, Any]) -> str:
    return ", ".join(f"{_bp(k)} {float(p):.0%}" for k, p in outcomes.items())


def _expected(outcomes: Mapping[str, Any]) -> float:
    return sum(float(k) * float(p) for k, p in outcomes.items())


def fomc_lines(spec: Mapping[str, Any]) -> list[str]:
    """One line per FOMC decision the scenario fixes or randomises."""
    lines = []
    for d in spec.get("fomc") or []:
        when = str(d.get("meeting", "?"))
        if d.get("change_bp") is not None:
            lines.append(f"{when}: {_bp(d['change_bp'])}")
        elif d.get("outcomes"):
            lines.append(f"{when}: random ({_outcomes(d['outcomes'])})")
    if not lines:
        return ["every meeting drawn from market pricing"]
    return lines + ["meetings not listed: drawn from market pricing"]


def pricing_lines(spec: Mapping[str, Any]) -> list[str]:
    """What futures price per meeting (expected change, and the outcomes when given)."""
    lines = []
    for m in spec.get("market_pricing") or []:
        when = str(m.get("fomc", "?"))
        if m.get("outcomes"):
            exp = _expected(m["outcomes"])
            lines.append(f"{when}: {exp:+.2f}bp expected ({_outcomes(m['outcomes'])})")
        elif m.get("expected_bp") is not None:
            lines.append(f"{when}: {float(m['expected_bp']):+.2f}bp expected")
    return lines or ["no cut or hike priced"]


def tariff_lines(spec: Mapping[str, Any]) -> list[str]:
    """Initial tariff rate and dated steps (with their probability when random)."""
    initial = (spec.get("initial") or {}).get("tariff")
    lines = [f"start: {float(initial):g}%"] if initial is not None else []
    for t in spec.get("tariffs") or []:
        p = t.get("probability")
        chance = f" (probability {float(p):.0%})" if p is not None and float(p) < 1 else ""
        lines.append(f"{float(t['level']):g}% from {t['date']}{chance}")
    return lines


def drift_lines(spec: Mapping[str, Any]) -> list[str]:
    """Mean shifts, one-off shocks and pinned factors."""
    lines = []
    for d in spec.get("drifts") or []:
        span = f"{d.get('start') or 'start'} to {d.get('end') or 'horizon'}"
        lines.append(f"{d['factor']} drift {float(d['shift']):+g} ({span})")
    for s in spec.get("shocks") or []:
        lines.append(f"{s['factor']} shock {float(s['size']):+g} on {s['date']}")
    for p in spec.get("pins") or []:
        values = p.get("values") or {}
        lines.append(f"{p['factor']} pinned on {len(values)} date(s)")
    return lines or ["none"]


def _initial(spec: Mapping[str, Any]) -> list[str]:
    init = spec.get("initial") or {}
    lines = []
    if init.get("policy_rate") is not None:
        lines.append(f"policy rate {float(init['policy_rate']):g}%")
    for name, level in (init.get("index_levels") or {}).items():
        lines.append(f"{name} {float(level):,.2f}")
    return lines


def _positioning(spec: Mapping[str, Any]) -> list[str]:
    pos = spec.get("positioning") or {}
    si = pos.get("short_interest_bn")
    return [f"${float(si):g}bn short Russell 2000 futures"] if si is not None else ["default"]


#: (row label, function spec -> lines) in display order.
ASSUMPTION_ROWS: tuple[tuple[str, Any], ...] = (
    ("description", lambda s: [s.get("description") or ""]),
    ("horizon", lambda s: [f"{s.get('start')} to {s.get('horizon')} ({s.get('frequency')})"]),
    ("starting point", _initial),
    ("FOMC decisions", fomc_lines),
    ("market pricing", pricing_lines),
    ("tariffs", tariff_lines),
    ("drifts, shocks, pins", drift_lines),
    ("positioning", _positioning),
    ("assets", lambda s: [", ".join(s.get("assets") or [])]),
    ("model / method", lambda s: [f"{s.get('model')} / {s.get('method')}"]),
)


def assumption_lines(spec: Mapping[str, Any]) -> dict[str, list[str]]:
    """The assumptions of one scenario as ``{row label: lines}``."""
    return {label: [str(x) for x in fn(spec)] for label, fn in ASSUMPTION_ROWS}


def assumptions_table(specs: Mapping[str, Mapping[str, Any]], names: Sequence[str]) -> str:
    """Side-by-side assumptions (rows) of the scenarios (columns), first = reference.

    Cells that differ from the reference are set in bold with a bar (readable in greyscale).
    """
    lines = {n: assumption_lines(specs.get(n, {})) for n in names}
    head = "<th>assumption</th>" + "".join(f"<th>{esc(n)}</th>" for n in names)
    rows = []
    for label, _ in ASSUMPTION_ROWS:
        ref = lines[names[0]][label]
        cells = []
        for i, n in enumerate(names):
            value = lines[n][label]
            css = ' class="changed"' if i and value != ref else ""
            cells.append(f"<td{css}>{'<br>'.join(esc(v) for v in value)}</td>")
        rows.append(f"<tr><th>{esc(label)}</th>{''.join(cells)}</tr>")
    return f'<table class="assume"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
