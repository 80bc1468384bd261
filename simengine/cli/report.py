"""``simengine report``: a self-contained HTML report of scenario files or of a batch store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from simengine.cli.common import err_console, progress_bar
from simengine.cli.run import ForceOpt, MethodOpt, PathsOpt, SeedOpt, ThreadsOpt

__all__ = ["register", "report"]

Inputs = Annotated[
    list[Path],
    typer.Argument(
        help="Scenario YAML files (the first is the reference), or one batch store folder."
    ),
]
ReportOut = Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")]
TitleOpt = Annotated[str | None, typer.Option("--title", help="Report title.")]
ChartsOpt = Annotated[
    int, typer.Option("--max-charts", help="Batch store: fan charts for at most this many results.")
]


def report(
    inputs: Inputs,
    out: ReportOut = Path("report.html"),
    paths: PathsOpt = None,
    seed: SeedOpt = None,
    method: MethodOpt = None,
    threads: ThreadsOpt = 1,
    title: TitleOpt = None,
    max_charts: ChartsOpt = 12,
    force: ForceOpt = False,
) -> None:
    """Write one HTML file (charts inline, opens offline) comparing the scenarios.

    With several files the scenarios are simulated on common random numbers and the first is
    the reference; with a batch store folder every stored scenario is listed.
    """
    from simengine.io import check_can_write

    check_can_write(out, force)
    if len(inputs) == 1 and inputs[0].is_dir():
        from simengine.report import write_store_report

        written = write_store_report(
            inputs[0], out, overwrite=force, title=title, max_charts=max_charts
        )
    else:
        written = _report_files(inputs, out, paths, seed, method, threads, title, force)
    size = written.stat().st_size / 1e6
    err_console.print(f"wrote {written} ({size:.1f} MB)")


def _report_files(
    inputs: list[Path],
    out: Path,
    paths: int | None,
    seed: int | None,
    method: Any,
    threads: int,
    title: str | None,
    force: bool,
) -> Path:
    """Simulate the files (a comparison when several) and write their report."""
    from simengine.api import compare, simulate
    from simengine.cli.run import load_all
    from simengine.report import write_report

    specs = load_all(inputs)
    kwargs = {
        "n_paths": paths,
        "seed": seed,
        "method": method.value if method else None,
        "threads": threads,
    }
    label = f"simulating {len(specs)} scenario(s)"
    with progress_bar(label) as bar:
        if len(specs) == 1:
            result = simulate(specs[0], progress=bar, **kwargs)
        else:
            result = compare(specs, progress=bar, **kwargs)
    return write_report(result, out, overwrite=force, title=title)


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to the main app."""
    app.command("report")(report)
