"""``simengine backtest``: score the baseline forecast against history (thin layer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from simengine.cli.common import console, err_console, progress_bar

__all__ = ["backtest", "register"]

WHO = {"model": "model", "random_walk": "RW", "vix_random_walk": "VIX-RW"}


def _p_value(p: float) -> str:
    """A p-value in at most six characters (``<0.001`` below a thousandth), or ``n/a``."""
    if p != p:
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.2g}"


def _number(x: float, fmt: str) -> str:
    """``x`` formatted, or ``n/a`` (a standard error from too few origins)."""
    return format(x, fmt) if x == x else "n/a"


def _print(summary, failed: dict[str, str], horizon: int) -> None:
    from rich import box
    from rich.table import Table  # here, not at start-up

    table = Table(
        title=f"Backtest: {horizon}-month cumulative log returns (model vs random walks)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
    )
    for col in (
        "asset",
        "who",
        "n",
        "in 50%",
        "80%",
        "90%",
        "CRPS",
        "skill",
        "DM p",
        "PIT",
        "± se",
    ):
        table.add_column(col, justify="left" if col in ("asset", "who") else "right", no_wrap=True)
    from simengine.structure import default_structure  # pydantic + spec: only when printing

    index = {a.name: a.index or a.name for a in default_structure().assets}
    for (asset, who), row in summary.iterrows():
        table.add_row(
            index.get(asset, asset),
            WHO.get(str(who), str(who)),
            f"{int(row['n'])}",
            *(f"{100 * row[c]:.1f}%" for c in ("cover50", "cover80", "cover90")),
            f"{row['crps']:.3f}",
            f"{100 * row['crps_skill']:+.1f}%",
            "" if str(who) == "random_walk" else _p_value(row["crps_dm_p"]),
            f"{row['pit_mean']:.3f}",
            _number(row["pit_mean_se"], ".3f"),
        )
    console.print(table)
    console.print(
        "in X%: share of realised returns inside the central X% interval (target X%); RW: "
        "random walk, trailing 60-month volatility; VIX-RW: the same volatility scaled by the VIX "
        "at the origin over its expanding mean; skill: 1 - CRPS/CRPS(RW), > 0 beats the "
        "random walk; DM p: Diebold-Mariano p-value of the CRPS against the random walk; PIT: "
        "mean PIT (0.5 = unbiased) and its standard error. Standard errors and DM allow for the "
        "overlapping horizons (heteroskedasticity and autocorrelation consistent, "
        "quadratic-spectral kernel). --format json adds the PIT histogram, its chi-squared "
        "p-value (descriptive) and the standard errors of the coverages."
    )
    for origin, message in failed.items():
        err_console.print(f"[yellow]origin {origin} not scored:[/] {message}")


def backtest(
    data: Annotated[Path, typer.Option("--data", help="Data folder laid out like ../shared/data.")],
    start: Annotated[str, typer.Option("--start", help="First origin, YYYY-MM.")] = "2000-01",
    end: Annotated[str, typer.Option("--end", help="Last origin, YYYY-MM.")] = "2025-06",
    horizon: Annotated[int, typer.Option("--horizon", help="Months ahead.")] = 6,
    paths: Annotated[int, typer.Option("--paths", "-n", help="Paths per origin.")] = 4096,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Base seed.")] = 20250716,
    refit_every: Annotated[
        int, typer.Option("--refit-every", help="Refit the model every N origins.")
    ] = 12,
    rw_drift: Annotated[
        str, typer.Option("--rw-drift", help="Random-walk drift: zero or mean (trailing 60m).")
    ] = "zero",
    squeeze: Annotated[
        bool, typer.Option("--squeeze/--no-squeeze", help="Fit squeeze jumps from daily data.")
    ] = True,
    recalibrate: Annotated[
        bool,
        typer.Option(
            "--recalibrate/--no-recalibrate",
            help="Experimental: rescale residual volatility by past forecasts' PIT spread.",
        ),
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for forecasts/summary CSV + JSON.")
    ] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="PIT histogram PNG file.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Rolling-origin backtest: refit on data up to each month, simulate the baseline, score.

    At each monthly origin the point model is fitted by least squares on data up to that month
    only, the baseline (policy rate and tariff held at their origin values) is simulated
    HORIZON months ahead, and the realised RUT and NDX cumulative log returns are scored (PIT,
    50/80/90% coverage, CRPS) against the model and a random walk with trailing 60-month
    volatility, and the same random walk with its volatility scaled by the VIX at the origin.
    """
    from simengine.backtest import (
        BacktestConfig,
        plot_pit,
        run_backtest,
        save_backtest,
        summarise,
        summary_json,
    )
    from simengine.data import build_table
    from simengine.data.fit import daily_closes
    from simengine.data.fit_distribution import MarketData
    from simengine.io import check_can_write

    for path in (
        [out / n for n in ("forecasts.csv", "summary.csv", "summary.json")] if out else []
    ) + ([plot] if plot else []):
        check_can_write(path, force)  # fail before minutes of work, not after
    cfg = BacktestConfig(
        start, end, horizon, paths, seed, refit_every, 60, rw_drift, squeeze, recalibrate
    )  # type: ignore[arg-type]
    table = build_table(data)
    daily = daily_closes(Path(data)) if squeeze else None
    with progress_bar("backtest origins", fmt == "table") as bar:
        forecasts = run_backtest(
            table.frame, cfg, daily, progress=bar, market=MarketData.load(Path(data))
        )
    failed = forecasts.attrs.get("failed_origins", {})
    settings = {**cfg.__dict__, "data": str(data), "table_hash": table.data_hash, "failed": failed}
    if fmt == "json":
        typer.echo(json.dumps(summary_json(forecasts, settings), indent=2, default=str))
    else:
        _print(summarise(forecasts), failed, horizon)
    if out is not None:
        written = save_backtest(forecasts, out, settings, force)
        err_console.print("wrote " + ", ".join(map(str, written)))
    if plot is not None:
        err_console.print(f"wrote {plot_pit(forecasts, plot, force)}")


def register(app: typer.Typer) -> None:
    """Add ``backtest`` to the main app."""
    app.command("backtest")(backtest)
