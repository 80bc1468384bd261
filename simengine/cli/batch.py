"""``simengine batch``: many scenarios and sweeps, on local workers or a Dask cluster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from simengine.cli.common import console, err_console

__all__ = ["batch", "register"]

Inputs = Annotated[
    list[Path], typer.Argument(help="Scenario or sweep files, or folders of them (*.yaml).")
]
OutOpt = Annotated[
    Path,
    typer.Option(
        "--out", "-o", help="Batch folder: results/*.npz, summary.parquet, manifest.json."
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        "-w",
        min=0,
        help="Local worker processes (default: the cores; one pool started once; 0 = serial).",
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (shared disk)."
    ),
]
PathsOpt = Annotated[
    int | None,
    typer.Option("--paths", "-n", min=1, help="Paths per scenario (default: the scenario's)."),
]
SeedOpt = Annotated[
    int | None,
    typer.Option(
        "--seed",
        "-s",
        min=0,
        help="Batch seed, >= 0; each scenario's seed derives from it and its content.",
    ),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Recompute results already in the batch folder.")
]


@contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    """A ``progress(counts)`` callback drawing a rich bar over scenarios (on stderr)."""
    from rich.progress import (  # here, not at start-up
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("scenarios"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "[green]{task.fields[done]} done[/] [cyan]{task.fields[running]} running[/] "
            "[red]{task.fields[failed]} failed[/] [dim]{task.fields[skipped]} skipped[/]"
        ),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
        disable=not enabled,
    )
    counts = {"done": 0, "running": 0, "failed": 0, "skipped": 0}
    task = bar.add_task("batch", total=None, **counts)

    def update(c: dict[str, int]) -> None:
        finished = c["done"] + c["failed"] + c["skipped"]
        fields = {k: c[k] for k in counts}
        bar.update(task, total=c["total"], completed=finished, **fields)

    with bar:
        yield update


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _print_extremes(result: Any) -> None:
    from rich.table import Table  # here, not at start-up

    table = Table(title="best and worst scenario per series (return to the horizon)")
    for col in ("series", "statistic", "best", "", "worst", " "):
        numeric = col.strip() == ""
        table.add_column(col, justify="right" if numeric else "left", overflow="fold")
    for row in result.extremes().itertuples(index=False):
        table.add_row(
            row.series,
            row.statistic,
            row.best,
            _pct(row.best_value),
            row.worst,
            _pct(row.worst_value),
        )
    console.print(table)


def _print_failures(result: Any) -> None:
    from rich.table import Table  # here, not at start-up

    table = Table(title=f"{len(result.failed)} scenario(s) failed", title_style="bold red")
    table.add_column("scenario")
    table.add_column("source")
    table.add_column("error", overflow="fold")
    for e in result.failed:
        table.add_row(e["label"] or e["name"], e["source"], str(e["error"]))
    err_console.print(table)


def batch(
    inputs: Inputs,
    out: OutOpt,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    paths: PathsOpt = None,
    seed: SeedOpt = None,
    force: ForceOpt = False,
) -> None:
    """Simulate many scenarios (sweeps expand into their variants), one task each.

    Results go to OUT and are keyed by content: run the same command again and finished
    scenarios are skipped (verified), so an interrupted batch picks up where it stopped.
    Exit status 1 when a scenario failed (the others still complete).
    """
    from simengine.batch import run_batch
    from simengine.exceptions import BatchError

    if workers is not None and scheduler:
        raise typer.BadParameter("give --workers or --scheduler, not both")
    with _progress(err_console.is_terminal) as progress:
        result = run_batch(
            inputs,
            out,
            workers=workers,
            scheduler=scheduler,
            n_paths=paths,
            seed=seed,
            force=force,
            progress=progress,
        )
    n = len(result.entries)
    console.print(
        f"{n} scenario(s): {len(result.done)} done, {len(result.skipped)} skipped (already "
        f"in {out}), {len(result.failed)} failed in {result.elapsed_s:.1f}s; "
        f"summary: {out / 'summary.parquet'}"
    )
    if not result.summary.empty:
        _print_extremes(result)
    if result.failed:
        _print_failures(result)
        raise BatchError(
            f"{len(result.failed)} of {n} scenario(s) failed (table above; details in "
            f"{out / 'manifest.json'}); run the same command again to retry only those"
        )


def register(app: typer.Typer) -> None:
    """Add ``batch`` to the main app."""
    app.command("batch")(batch)
