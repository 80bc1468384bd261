"""``simengine data ...``: build the calibration table from a data folder.

The lead registers this group on the main app with ``app.add_typer(data_app, name="data")``.
All logic lives in :mod:`simengine.data`; this module parses arguments and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from simengine.exceptions import OutputExistsError, SimengineError

__all__ = ["data_app", "register"]

data_app = typer.Typer(
    name="data",
    help="Historical data: build the monthly / weekly calibration table.",
    no_args_is_help=True,
    add_completion=False,
)


def register(app: typer.Typer) -> None:
    """Add the ``data`` group to the main ``simengine`` app."""
    app.add_typer(data_app, name="data")


@data_app.callback()
def _group() -> None:
    """Historical data: build the monthly / weekly calibration table."""


def _print_summary(table, out: Path, console: Console) -> None:
    meta = table.metadata
    console.print(
        f"[bold]{out}[/bold]: {len(table)} rows ({meta['frequency']}), "
        f"{meta['start']} .. {meta['end']} (data as of {meta['as_of']})"
    )
    if meta.get("incomplete_last_period"):
        console.print("[yellow]the last period is incomplete (kept because --end asked for it)[/]")
    if meta.get("forward_filled"):
        console.print(f"forward-filled monthly series: {', '.join(meta['forward_filled'])}")
    grid = Table("column", "count", "missing", "first", "last")
    for name, row in table.summary().iterrows():
        first = row["first"].date() if row["first"] is not None else "-"
        last = row["last"].date() if row["last"] is not None else "-"
        grid.add_row(name, str(row["count"]), str(row["missing"]), str(first), str(last))
    console.print(grid)
    console.print(f"table_hash {table.data_hash}")


@data_app.command("build")
def build(
    data_dir: Annotated[Path, typer.Argument(help="Data folder laid out like ../shared/data.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output .parquet or .csv file.")],
    frequency: Annotated[
        str, typer.Option("--frequency", "-f", help="monthly | weekly (weeks end Friday).")
    ] = "monthly",
    end: Annotated[
        str | None,
        typer.Option("--end", help="Last period, YYYY-MM (default: last complete period)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Build the calibration table from DATA_DIR and write it to --out."""
    from simengine.data import build_table, save_table

    console = Console()
    try:
        if out.exists() and not force:
            raise OutputExistsError(f"{out} exists; pass --force to overwrite it")
        table = build_table(data_dir, frequency=frequency, end=end)
        save_table(table, out, overwrite=force)
    except SimengineError as err:
        Console(stderr=True).print(f"[red]error:[/red] {err}", highlight=False)
        raise typer.Exit(err.exit_code) from None
    _print_summary(table, out, console)
