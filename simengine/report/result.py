"""The HTML report of one simulation or comparison.

Sections: scenarios and assumptions, summary tables, fan charts, densities, differences
from the reference, the pair trade, Bayesian diagnostics (Bayesian runs) and provenance.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simengine.io import check_can_write
from simengine.report.assumptions import assumptions_table
from simengine.report.html import esc, figure, kv_table, page, table, write_html

if TYPE_CHECKING:  # pragma: no cover - typing only
    from simengine.results import SimulationResult

__all__ = ["find_posterior", "render_report", "write_report"]

MAX_SINGLE_FANS = 12  # panels of the scenario-by-scenario fan charts

DIST_COLUMNS = ("mean", "median", "std", "q05", "q25", "q75", "q95")
RISK_COLUMNS = (
    "var_95",
    "es_95",
    "var_99",
    "es_99",
    "prob_loss",
    "max_drawdown_median",
    "max_drawdown_p95",
)
CROSS_COLUMNS = ("prob_small_beats_large", "prob_squeeze")  # one value per scenario
DIFF_COLUMNS = ("mean", "std", "q05", "median", "q95", "prob_positive")
HEADERS = {
    "std": "volatility",
    "q05": "5%",
    "q25": "25%",
    "q75": "75%",
    "q95": "95%",
    "var_95": "VaR 95%",
    "es_95": "ES 95%",
    "var_99": "VaR 99%",
    "es_99": "ES 99%",
    "prob_loss": "P(loss)",
    "max_drawdown_median": "max drawdown (median)",
    "max_drawdown_p95": "max drawdown (95%)",
    "prob_small_beats_large": "P(small beats large)",
    "prob_squeeze": "P(squeeze)",
    "param_var_share": "variance from parameters",
    "prob_positive": "P(higher than reference)",
    "start_level": "start",
}


def pct(x: float) -> str:
    return f"{100 * x:+.2f}%"


def share(x: float) -> str:
    return f"{100 * x:.1f}%"


def pp(x: float) -> str:
    text = f"{100 * x:+.2f}pp"
    return "0.00pp" if text in ("+0.00pp", "-0.00pp") else text  # a channel that is off


def points(x: float) -> str:
    return f"{x:,.0f}"


def _formats(columns: tuple[str, ...] | list[str]) -> dict[str, Callable[[Any], str]]:
    out: dict[str, Callable[[Any], str]] = {}
    for c in columns:
        if c.startswith(("prob_", "var_", "es_", "max_drawdown")) or c in (
            "std",
            "param_var_share",
        ):
            out[c] = share
        else:
            out[c] = pct
    return out


def _png(fig: Any, dpi: int) -> bytes:
    from simengine.plotting import figure_to_png

    return figure_to_png(fig, dpi=dpi)


# --------------------------------------------------------------------------- sections


def _scenarios_section(result: SimulationResult) -> str:
    specs = result.specs
    names = list(result.scenarios)
    intro = (
        f"<p>{len(names)} scenario(s); <strong>{esc(names[0])}</strong> is the reference. "
        "Cells in bold with a bar differ from the reference.</p>"
        if len(names) > 1
        else ""
    )
    if not specs:
        return intro + '<p class="note">The result does not carry its scenario specs.</p>'
    method = result.attrs.get("method")  # the run's method (--method) overrides the file's
    shown = {k: {**v, "method": method or v.get("method")} for k, v in specs.items()}
    return intro + assumptions_table(shown, names)


def _jump_means(result: SimulationResult) -> list[str]:
    """How much of each mean comes from squeeze jumps (the scenarios that simulate them)."""
    if not result.has_jump_means:
        return []
    frame = result.jump_means()
    frame = frame[frame.abs().max(axis=1) > 0]
    if frame.empty:
        return []
    frame.index.name = "scenario"
    return [
        "<h3>Mean from squeeze jumps</h3><p>How much of each mean return above comes from the "
        "short-squeeze jumps: the mean minus the mean of the same paths with the jumps off. "
        "The jumps are compensated (their expected log return is taken out of the drift), so "
        "they add right tail, and to the mean of simple returns only what that tail adds "
        "through compounding.</p>",
        table(frame, dict.fromkeys(frame.columns, pp)),
    ]


def _summary_section(result: SimulationResult) -> str:
    summary = result.summary(wide=True)
    bayes = result.attrs.get("method") == "bayesian"
    risk = [*RISK_COLUMNS, "param_var_share"] if bayes else list(RISK_COLUMNS)
    risk = [c for c in risk if c in summary.columns]  # comparisons exist only for their assets
    horizon = str(result.dataset["time"].values[-1])[:10]
    parts = [
        f"<p>Simple cumulative returns from the start date to {esc(horizon)}; <em>pair</em> is "
        "$1 long large caps and $1 short small caps (P&amp;L per $1 a side). VaR and ES are "
        "losses (positive = loss).</p>",
        "<h3>Return distribution</h3>",
        table(summary[list(DIST_COLUMNS)], _formats(DIST_COLUMNS), HEADERS),
        "<h3>Risk</h3>",
        table(summary[risk], _formats(risk), HEADERS),
    ]
    cross = [c for c in CROSS_COLUMNS if c in summary.columns]
    if cross:
        per_scenario = summary[cross].groupby(level="scenario", sort=False).first()
        parts += [
            "<h3>Across the two indices</h3><p>One number per scenario: the chance that the "
            "Russell 2000 ends ahead of the Nasdaq-100, and the chance of at least one short "
            "squeeze in small caps before the horizon.</p>",
            table(per_scenario, _formats(cross), HEADERS),
        ]
    parts += _jump_means(result)
    levels = result.levels()
    if len(levels):
        cols = list(levels.columns)
        parts += [
            f"<h3>Index levels on {esc(horizon)} (index points)</h3>",
            table(levels, dict.fromkeys(cols, points), HEADERS),
        ]
    return "".join(parts)


def _fans_section(result: SimulationResult, dpi: int) -> str:
    from simengine.plot_grid import fan_grid, median_fans
    from simengine.plotting import fan, series_label

    assets = [s for s in result.series if s != "pair"]
    if len(result.scenarios) == 1:
        parts = ["<p>Median path with 50%, 80% and 95% bands of the index level.</p>"]
        parts.append('<div class="grid">')
        for s in assets:
            png = _png(fan(result, s, levels=True), dpi)
            parts.append(figure(png, f"fan chart of {s}", series_label(result, s)))
        return "".join([*parts, "</div>"])
    others = (
        " The reference's band is shaded; the other scenarios' bands are thin lines in their "
        "colour."
    )
    parts = [
        "<p>Each scenario's median index level with its 50% band (half of the paths are "
        f"inside it at each date).{others}</p>",
        '<div class="grid">',
    ]
    for s in assets:
        png = _png(median_fans(result, s), dpi)
        parts.append(figure(png, f"median paths of {s}", f"{series_label(result, s)}, medians"))
    parts.append("</div><h3>Scenario by scenario</h3>")
    parts.append(
        "<p>One panel per scenario on shared axes: median, 50% and 80% bands; the dashed grey "
        f"line is the reference, {esc(result.scenarios[0])}.</p>"
    )
    for s in assets:
        png = _png(fan_grid(result, s), dpi)
        parts.append(figure(png, f"fan charts of {s}, one panel per scenario"))
    if len(result.scenarios) > MAX_SINGLE_FANS:
        parts.append(
            f'<p class="note">Panels are drawn for the first {MAX_SINGLE_FANS} scenarios; the '
            "tables cover all of them.</p>"
        )
    return "".join(parts)


def _densities_section(result: SimulationResult, dpi: int) -> str:
    from simengine.plotting import density

    figs = [figure(_png(density(result, s), dpi), f"density of {s}") for s in result.series]
    return (
        "<p>Densities of the return to the horizon (lightly smoothed histograms).</p>"
        f'<div class="grid">{"".join(figs)}</div>'
    )


def _differences_section(result: Any, dpi: int) -> str:
    from simengine.plotting import difference, tornado

    diffs = result.difference_summary(wide=True)
    parts = [
        f"<p>Path by path, on the same shocks and parameter draws: return under each scenario "
        f"minus the return under <strong>{esc(result.reference)}</strong>, in percentage points. "
        "This isolates the effect of the scenario from Monte Carlo noise.</p>",
        table(diffs[list(DIFF_COLUMNS)], {**_formats(DIFF_COLUMNS), **_pp(DIFF_COLUMNS)}, HEADERS),
        '<div class="grid">',
    ]
    for s in result.series:
        parts.append(figure(_png(difference(result, s), dpi), f"difference distribution of {s}"))
    parts.append("</div><h3>How the median and the downside move</h3>")
    for s in (s for s in result.series if s != "pair"):
        parts.append(figure(_png(tornado(result, s), dpi), f"tornado chart of {s}"))
    return "".join(parts)


def _attribution_section(result: Any, dpi: int) -> str:
    from simengine.attribution import CHANNEL_DOC
    from simengine.plotting import waterfall

    frame = result.attribution()
    cols = list(frame.columns)
    parts = [
        "<p>The mean difference from the reference, split into the model's channels on the "
        "same shocks: each channel is switched off in turn (in the order of the columns) and "
        "the change in the mean difference is its contribution; the residual is what remains "
        "with every channel off. The contributions add up to the total.</p>",
        table(frame, {c: pp for c in cols}, {}),
        kv_table([(c, CHANNEL_DOC[c]) for c in cols if c in CHANNEL_DOC]),
        '<div class="grid">',
    ]
    for name in result.scenarios[1:]:
        for s in result.series:
            parts.append(
                figure(_png(waterfall(result, s, name), dpi), f"attribution of {name}, {s}")
            )
    parts.append("</div>")
    return "".join(parts)


def _pp(columns: tuple[str, ...]) -> dict[str, Callable[[Any], str]]:
    return {c: pp for c in columns if c != "prob_positive"}


def _pair_section(result: SimulationResult, dpi: int) -> str:
    from simengine.plotting import pair, series_label

    rows = result.summary(wide=True).xs("pair", level="series")
    cols = ["mean", "median", "q05", "q95", "prob_loss", "es_95"]
    text = (
        f"<p>{esc(series_label(result, 'pair'))}: the crowded hedge-fund trade. "
        "P(loss) is the chance the pair loses money by the horizon.</p>"
    )
    return (
        text
        + table(rows[cols], _formats(cols), HEADERS)
        + figure(_png(pair(result), dpi), "pair trade distribution")
    )


def _bayes_section(result: SimulationResult, idata: Any, dpi: int) -> str:
    from simengine.plot_posterior import plot_posterior_loadings
    from simengine.plotting import variance_split

    parts = [
        "<p>Each path uses one posterior draw of the parameters, so the spread includes "
        "parameter uncertainty. The chart splits the variance of the return to the horizon "
        "into the part due to not knowing the parameters and the part due to shocks.</p>",
        figure(_png(variance_split(result), dpi), "variance split"),
        _gap_html(result),
    ]
    if idata is None:
        parts.append('<p class="note">Posterior file not available: no convergence table.</p>')
        return "".join(parts)
    parts.append(_diagnostics_html(idata))
    try:
        parts.append(figure(_png(plot_posterior_loadings(idata), dpi), "posterior loadings"))
    except Exception as err:  # a report must not fail on an odd posterior
        parts.append(f'<p class="note">Posterior loadings not plotted: {esc(err)}</p>')
    return "".join(parts)


def _gap_html(result: SimulationResult) -> str:
    """Why the Bayesian means differ from point-parameter means, with the figures."""
    try:
        from simengine.api import load_params_for
        from simengine.report.bayes_gap import bayes_gap, parameter_table
        from simengine.spec import ScenarioSpec

        specs = [ScenarioSpec.from_data(_numeric_keys(result.specs[n])) for n in result.scenarios]
        n = min(int(result.dataset["n_paths"].values.min()), 20_000)
        gap = bayes_gap(specs, n_paths=n, seed=int(result.attrs.get("seed", 1)))
        params = parameter_table(
            load_params_for(specs[0], "monte_carlo"), load_params_for(specs[0], "bayesian")
        )
    except Exception as err:  # informative section: never fail the report
        return f'<p class="note">Bayesian vs point comparison not available: {esc(err)}</p>'
    largest = (gap["bayesian"] - gap["point"]).abs().idxmax()  # the example: the largest gap
    first = gap.loc[largest]
    cols = list(gap.columns)
    text = (
        "<h3>Why the Bayesian numbers differ from point-parameter runs</h3><p>A Monte Carlo run "
        "uses the point estimates of the model file; a Bayesian run gives each path a posterior "
        f"draw. Three runs on the same {n:,} paths separate the two reasons. For "
        f"{esc(largest[0])}, {esc(largest[1])} (the largest difference): the mean return is "
        f"{100 * first['point']:+.2f}% with point parameters, {100 * first.iloc[1]:+.2f}% with "
        f"every parameter at its posterior mean ({100 * first.iloc[3]:+.2f}pp: posterior means "
        f"instead of point estimates, see the drift and carry below), and "
        f"{100 * first['bayesian']:+.2f}% averaging over the draws ({100 * first.iloc[4]:+.2f}pp: "
        "parameter uncertainty).</p>"
    )
    return (
        text
        + table(
            gap,
            {**dict.fromkeys(cols[:3], pct), **dict.fromkeys(cols[3:], pp)},
            {"point": "point parameters"},
        )  # fmt: skip
        + "<p>The parameters behind the first step (annual units):</p>"
        + table(params, dict.fromkeys(params.columns, lambda v: f"{v:.2f}"))
    )


def _numeric_keys(value: Any, key: str = "") -> Any:
    """A spec stored as JSON back to data: ``outcomes`` keys are bp numbers again."""
    if isinstance(value, dict):
        if key == "outcomes":
            return {float(k) if "." in k else int(k): v for k, v in value.items()}
        return {k: _numeric_keys(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_numeric_keys(v) for v in value]
    return value


def _diagnostics_html(idata: Any) -> str:
    try:
        from simengine.bayes.diagnostics import diagnose
        from simengine.bayes.verdict import convergence_verdict

        report = diagnose(idata)
        verdict = convergence_verdict(idata, report)
    except Exception as err:  # diagnostics are informative here
        return f'<p class="note">Convergence diagnostics unavailable: {esc(err)}</p>'
    summary = report.summary.copy()
    summary["passed"] = summary["passed"].map({True: "pass", False: "below threshold"})
    summary.index.name = "check"
    css = "ok" if verdict.ok else "fail"
    return (
        f'<h3>Convergence: <span class="{css}">{esc(verdict.status)}</span></h3>'
        f"<p>{esc(verdict.text)}</p>"
        + table(
            summary[["value", "rule", "threshold", "where", "passed"]],
            {"value": lambda v: f"{v:.4g}", "threshold": lambda v: f"{v:g}"},
            caption="Checks on the draws stored in the posterior file",
        )
    )


def _provenance_section(result: SimulationResult) -> str:
    attrs = result.attrs
    ds = result.dataset
    rows = [
        ("simengine version", attrs.get("simengine_version", "")),
        ("method", attrs.get("method", "")),
        ("paths per scenario", f"{int(ds['n_paths'].values.min()):,}"),
        ("seed", attrs.get("seed", "")),
        ("antithetic", attrs.get("antithetic", "")),
        ("model hash", attrs.get("model_hash", "")),
        ("posterior hash", attrs.get("posterior_hash") or "none (point parameters)"),
        ("result content hash", attrs.get("content_hash", "")),
        ("simulated", attrs.get("created", "")),
        ("report written", datetime.now(UTC).isoformat(timespec="seconds")),
    ]
    hashes = json.loads(attrs.get("spec_hashes", "{}"))
    spec_rows = [(f"spec hash: {name}", h) for name, h in hashes.items()]
    return (
        "<p>Re-running the same scenario files with the same seed, path count and model "
        "reproduces these numbers exactly.</p>" + kv_table(rows + spec_rows, code=True)
    )


# --------------------------------------------------------------------------- public API


def find_posterior(result: SimulationResult) -> Path | None:
    """The posterior file a Bayesian result used, when it can be found (else None).

    ``posterior: default`` is the packaged ``simengine/models/default_posterior.nc``; other
    values are paths as stored in the spec.
    """
    specs = result.specs
    value = specs.get(result.scenarios[0], {}).get("posterior") if specs else None
    if not value:
        return None
    if value == "default":
        path = Path(__file__).resolve().parents[1] / "models" / "default_posterior.nc"
    else:
        path = Path(value)
    return path if path.is_file() else None


def _load_idata(result: SimulationResult) -> Any:
    path = find_posterior(result)
    if path is None:
        return None
    try:
        import arviz as az

        return az.from_netcdf(path)
    except Exception:  # unreadable posterior: the report says so instead
        return None


def render_report(
    result: SimulationResult,
    *,
    title: str | None = None,
    idata: Any = None,
    dpi: int = 100,
) -> str:
    """The self-contained HTML report of a result (images inline, no external resources).

    Parameters
    ----------
    result : SimulationResult or Comparison
        A comparison's first scenario is the reference.
    title : str, optional
        Default: the scenario names.
    idata : arviz.InferenceData, optional
        Posterior for the diagnostics of a Bayesian run; default: loaded from the posterior
        file the scenario names, when it can be found.
    dpi : int
        Resolution of the charts.

    Returns
    -------
    str
        A complete HTML document.
    """
    from simengine.report.html import readable_charts

    with readable_charts():
        return _render(result, title, idata, dpi)


def _render(result: SimulationResult, title: str | None, idata: Any, dpi: int) -> str:
    names = list(result.scenarios)
    bayes = result.attrs.get("method") == "bayesian"
    if bayes and idata is None:
        idata = _load_idata(result)
    sections = [
        ("scenarios", "Scenarios and assumptions", _scenarios_section(result)),
        ("summary", "Summary at the horizon", _summary_section(result)),
        ("fans", "Fan charts", _fans_section(result, dpi)),
        ("densities", "Distributions at the horizon", _densities_section(result, dpi)),
    ]
    if len(names) > 1 and hasattr(result, "difference_summary"):
        sections.append(
            ("differences", "Differences from the reference", _differences_section(result, dpi))
        )
        if getattr(result, "has_attribution", False):
            sections.append(
                (
                    "attribution",
                    "Where the difference comes from",
                    _attribution_section(result, dpi),
                )
            )
    if "pair" in result.series:
        sections.append(("pair", "Long large caps / short small caps", _pair_section(result, dpi)))
    if bayes:
        sections.append(("bayesian", "Parameter uncertainty", _bayes_section(result, idata, dpi)))
    sections.append(("provenance", "Provenance", _provenance_section(result)))
    attrs = result.attrs
    n = int(result.dataset["n_paths"].values.min())
    subtitle = (
        f"{n:,} paths per scenario, seed {attrs.get('seed')}, method {attrs.get('method')}; "
        f"horizon {str(result.dataset['time'].values[-1])[:10]}"
    )
    title = title or "simengine report: " + (
        ", ".join(names) if len(names) <= 4 else f"{len(names)} scenarios"
    )
    footer = (
        f"simengine {attrs.get('simengine_version', '')}; self-contained report, opens offline."
    )
    return page(title, subtitle, sections, footer)


def write_report(
    result: SimulationResult,
    path: str | Path,
    *,
    overwrite: bool = False,
    title: str | None = None,
    idata: Any = None,
    dpi: int = 100,
) -> Path:
    """Render :func:`render_report` and write it atomically to ``path``.

    Raises
    ------
    OutputExistsError
        When ``path`` exists and ``overwrite`` is false.
    LimitError
        When the report would exceed 10 MB.
    """
    check_can_write(Path(path), overwrite)  # before the slow part
    return write_html(render_report(result, title=title, idata=idata, dpi=dpi), path, overwrite)
