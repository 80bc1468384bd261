"""``simengine scenarios list`` and ``simengine scenarios copy``: the packaged library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simengine.cli.common import console, err_console

__all__ = ["register", "scenarios_app"]

scenarios_app = typer.Typer(
    name="scenarios",
    help="The scenario library that ships with simengine: list it, copy a scenario to edit.",
    no_args_is_help=True,
    add_completion=False,
)


@scenarios_app.command("list")
def list_(
    sweeps: Annotated[bool, typer.Option("--sweeps/--no-sweeps", help="Show sweeps too.")] = True,
) -> None:
    """Show each library scenario (and sweep) with its description."""
    from rich.table import Table

    from simengine.spec.library import library_dir, list_library

    table = Table("name", "kind", "description", title=f"scenario library ({library_dir()})")
    table.columns[2].overflow = "fold"
    for entry in list_library():
        if entry.kind == "sweep" and not sweeps:
            continue
        table.add_row(entry.key, entry.kind, entry.description)
    console.print(table)
    console.print(
        "Copy one to edit it: simengine scenarios copy fed_cut_september DIR. "
        "Extend one without copying: extends: base_2025h2"
    )


@scenarios_app.command("copy")
def copy(
    name: Annotated[str, typer.Argument(help="Library name, e.g. fed_cut_september.")],
    dest: Annotated[Path, typer.Argument(help="Folder to copy into.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Copy a library scenario and the files it extends into DEST, ready to run and edit."""
    from simengine.spec.library import copy_plan, copy_scenario, is_copied

    already = {target for source, target in copy_plan(name, dest) if is_copied(source, target)}
    written = copy_scenario(name, dest, overwrite=force)
    for path in written:
        status = "already there" if path in already else "wrote"
        err_console.print(f"{status} {path}", soft_wrap=True, highlight=False)  # paths whole
    if written[0].parent.name == "sweeps":  # its base is one folder up: run from DEST
        command = f"cd {dest} && simengine batch sweeps/{written[0].name} --out runs"
    else:
        command = f"simengine run {written[0]}"
    console.print(f"run it: {command}", soft_wrap=True, highlight=False)  # copy-pasteable


def register(app: typer.Typer) -> None:
    """Add the ``scenarios`` group to the main app."""
    app.add_typer(scenarios_app, name="scenarios")
