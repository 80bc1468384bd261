"""``simengine calibrate`` and ``simengine diagnose``: fit the Bayesian model, check a posterior.

Thin commands: they parse options, call :mod:`simengine.bayes` and print. PyMC/ArviZ are
imported only when a command runs. Register them on the app with :func:`register`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["calibrate_command", "diagnose_command", "register"]

_SEED = 20250716  # simengine.bayes.fit.DEFAULT_SEED (not imported here: keeps CLI start-up light)
LOADINGS = ["mu", "kappa", "beta", "sigma", "nu_a"]


def calibrate_command(
    out: Annotated[Path, typer.Option("--out", help="Posterior file to write (NetCDF).")],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Data folder (e.g. ../shared/data) to build the table from."),
    ] = None,
    table: Annotated[
        Path | None,
        typer.Option("--table", help="Prebuilt monthly table (.parquet/.csv); overrides --data."),
    ] = None,
    priors: Annotated[
        Path | None,
        typer.Option("--priors", help="Prior file (default: the packaged priors.yaml)."),
    ] = None,
    draws: Annotated[int, typer.Option(help="Post-warmup draws per chain.")] = 1000,
    tune: Annotated[
        int | None,
        typer.Option(
            help="Warmup iterations per chain (default: 500 with nutpie, 1000 with PyMC's NUTS).",
            show_default=False,
        ),
    ] = None,
    chains: Annotated[int, typer.Option(help="Number of chains.")] = 2,
    seed: Annotated[int, typer.Option(help="Sampler seed.")] = _SEED,
    sampler: Annotated[str, typer.Option(help="auto | nutpie | pymc")] = "auto",
    strict: Annotated[bool, typer.Option("--strict", help="Fail when a diagnostic fails.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --out if it exists.")] = False,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="Model file whose point values complete the draws (default: the packaged "
            "model); the posterior is then only used with that model file.",
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show the sampler's progress bar.")] = True,
) -> None:
    """Fit factor dynamics and asset loadings to monthly data; write the posterior (NetCDF)."""
    from simengine.bayes.diagnostics import diagnose
    from simengine.bayes.fit import fit
    from simengine.bayes.store import read_table, save_posterior
    from simengine.exceptions import DataError
    from simengine.io import check_can_write

    check_can_write(out, force)
    state, mixing_sd = None, 0.0
    if table is not None:
        frame = read_table(table)
        _console().print(
            "a prebuilt table has no daily data to place the volatility state: the likelihood "
            "has constant variance (give --data DIR to fit given the state)"
        )
    elif data is not None:
        from simengine.data import build_table
        from simengine.data.fit_distribution import calibration_state

        frame = build_table(data)
        state, mixing_sd = calibration_state(data, frame.frame.index, model)
    else:
        raise DataError(
            "give --data DIR (build the monthly table) or --table FILE (a prebuilt table)"
        )
    idata = fit(
        frame, priors=priors, draws=draws, tune=tune, chains=chains, seed=seed, sampler=sampler,
        progress=progress, strict=strict, model_file=model, state=state, mixing_sd=mixing_sd,
    )  # fmt: skip
    _print_report(diagnose(idata), idata.posterior.attrs)
    save_posterior(idata, out, force=force)
    _console().print(f"wrote {out}")


def diagnose_command(
    posterior: Annotated[Path, typer.Argument(help="Posterior file written by `calibrate`.")],
) -> None:
    """Print convergence diagnostics and a summary of the loadings of a posterior file."""
    import json

    import arviz as az

    from simengine.bayes.diagnostics import diagnose
    from simengine.bayes.store import load_posterior
    from simengine.bayes.verdict import convergence_verdict

    idata = load_posterior(posterior)
    attrs = idata.posterior.attrs
    report = diagnose(idata)
    verdict = convergence_verdict(idata, report)
    style = "green" if verdict.ok else "red"
    _console().print(f"[bold {style}]{verdict.status}[/]: {verdict.text}", highlight=False)
    _print_report(report, attrs)
    if "diagnostics" in attrs:
        import pandas as pd

        at_fit = pd.DataFrame(json.loads(attrs["diagnostics"])).set_index("check")
        _console().print(_frame_table(at_fit, "Diagnostics at fit time (before any thinning)"))
    if "thinned_from" in attrs:
        _console().print(
            f"note: this file keeps a thinned subset of {attrs['thinned_from']} draws, so its own ESS "
            "is lower than at fit time; the fit-time table is the convergence verdict"
        )
    names = [v for v in LOADINGS if v in idata.posterior.data_vars]
    summary = az.summary(idata, var_names=names, round_to=4)
    _console().print(_frame_table(summary, "Posterior of the loadings (annual mu, kappa, sigma)"))


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` and ``diagnose`` to a typer app."""
    app.command("calibrate")(calibrate_command)
    app.command("diagnose")(diagnose_command)


def _console():
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=160)  # files/pipes: no wrapping


def _frame_table(frame, title: str):
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title)
    table.add_column(frame.index.name or "")
    for col in frame.columns:
        table.add_column(str(col), justify="right")
    for idx, row in frame.iterrows():
        cells = [_fmt(v) for v in row]
        table.add_row(escape(str(idx)), *cells)
    return table


def _fmt(value) -> str:
    if type(value).__name__ in ("bool", "bool_"):
        return "[green]pass[/]" if value else "[red]FAIL[/]"
    if isinstance(value, float):
        return f"{value:.4g}"
    from rich.markup import escape

    return escape(str(value))


def _print_report(report, attrs) -> None:
    console = _console()
    console.print(
        f"posterior: {attrs.get('date_start')}..{attrs.get('date_end')} ({attrs.get('n_months')} months), "
        f"assets {attrs.get('assets')}, sampler {attrs.get('sampler', '?')}, "
        f"fit {attrs.get('fit_seconds', '?')} s; table {str(attrs.get('table_hash'))[:12]}, "
        f"priors {str(attrs.get('prior_hash'))[:12]}, structure {str(attrs.get('structure_hash'))[:12]}"
    )
    if "volatility_state" in attrs:
        console.print(f"volatility state: {attrs['volatility_state']}")
    thinned = "thinned_from" in attrs
    suffix = " of the stored (thinned) draws, informational" if thinned else ""
    console.print(_frame_table(report.summary, f"Convergence diagnostics{suffix}"))
    console.print(_frame_table(report.by_variable, "By variable (worst element)"))
    if report.passed:
        console.print("[green]all checks passed[/]")
    elif thinned:
        console.print("thinned draws miss the thresholds (expected: fewer draws, lower ESS)")
    else:
        console.print("[red]diagnostics failed[/]: " + _escape("; ".join(report.failures)))


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
