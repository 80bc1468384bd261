"""``simengine data ...``: build the calibration table from a data folder.

The lead registers this group on the main app with ``app.add_typer(data_app, name="data")``.
All logic lives in :mod:`simengine.data`; this module parses arguments and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

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
    from rich.table import Table  # here, not at start-up

    grid = Table("column", "count", "missing", "first", "last")
    for name, row in table.summary().iterrows():
        first = row["first"].date() if row["first"] is not None else "-"
        last = row["last"].date() if row["last"] is not None else "-"
        grid.add_row(name, str(row["count"]), str(row["missing"]), str(first), str(last))
    console.print(grid)
    console.print(f"table_hash {table.data_hash}")


@data_app.command("build")
def build(
    data_dir: Annotated[
        Path,
        typer.Argument(help="Data folder (layout: README 'Data folders'; `simengine data check`)."),
    ],
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
    console = console if console.is_terminal else Console(width=160)  # files/pipes: no wrapping
    try:
        if out.exists() and not force:
            raise OutputExistsError(f"{out} exists; pass --force to overwrite it")
        table = build_table(data_dir, frequency=frequency, end=end)
        save_table(table, out, overwrite=force)
    except SimengineError as err:
        Console(stderr=True).print(f"[red]error:[/red] {err}", highlight=False)
        raise typer.Exit(err.exit_code) from None
    _print_summary(table, out, console)


@data_app.command("check")
def check(
    data_dir: Annotated[Path, typer.Argument(help="Data folder to check.")],
) -> None:
    """Check every file a data folder needs; list what is missing or malformed, all at once.

    The folder holds equity/RUT_index_daily.csv, equity/NDX_index_daily.csv (Date, Open,
    High, Low, Close), fed_policy/DFEDTARU.csv, DFEDTARL.csv, EFFR.csv, fred/FEDFUNDS.csv,
    DGS2.csv, INDPRO.csv, CPILFESL.csv, BAMLH0A0HYM2.csv (date, value) and
    tariffs/annual_customs_duty_rate_1929_2023.csv (year, etr_pct),
    tariffs/import_weighted_statutory_tariff_daily.csv (date, import_weighted_avg_tariff).
    Exits 2 when any file has a problem.
    """
    from simengine.data.check import LAYOUT, check_data_folder, raise_problems
    from simengine.data.table import data_sources
    from simengine.structure import default_structure

    index_roles = {a.name for a in default_structure().assets}
    checks = check_data_folder(data_dir, data_sources(), index_roles)
    from rich.table import Table

    grid = Table("file", "status", "rows", "first", "last", "expected columns")
    for c in checks:
        status = "[green]ok[/]" if c.ok else f"[red]{c.problem}[/]"
        doc = LAYOUT.get(c.path)
        cols = doc.columns if doc else ""
        grid.add_row(c.path, status, str(c.rows or ""), c.first, c.last, cols)
    Console().print(grid)
    raise_problems(data_dir, checks)
