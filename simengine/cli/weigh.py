"""``simengine weigh``: posterior scenario weights from observed data, and the mixture."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from simengine.cli.common import console, progress_bar
from simengine.cli.run import FormatOpt, OutputFormat, PathsOpt, SeedOpt, load_all
from simengine.exceptions import SimengineError

__all__ = ["register", "weigh"]


def _parse_prior(items: list[str]) -> dict[str, float] | None:
    if not items:
        return None
    prior = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            prior[name] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise SimengineError(
                f"--prior takes NAME=WEIGHT (e.g. fed-cut-september=0.4), got {item!r}"
            )
    return prior


def weigh(
    files: Annotated[list[Path], typer.Argument(help="Scenario files (same grid and model).")],
    observed: Annotated[
        Path, typer.Option("--observed", help="CSV: date + observed factor columns.")
    ],
    prior: Annotated[
        list[str] | None, typer.Option("--prior", help="NAME=WEIGHT, repeatable (default: equal).")
    ] = None,
    paths: PathsOpt = None,
    seed: SeedOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Update prior scenario weights with observed factor values; print weights and the mixture."""
    from simengine.weighting import load_observations, weigh_scenarios

    specs = load_all(files)
    obs = load_observations(observed)
    with progress_bar("simulating scenarios", fmt is OutputFormat.table) as bar:
        out = weigh_scenarios(
            specs, obs, _parse_prior(prior or []), n_paths=paths, seed=seed, progress=bar
        )
    if fmt is OutputFormat.json:
        doc = {
            "weights": out.table.to_dict(orient="index"),
            "mixture": out.mixture.to_dict(orient="index"),
        }
        typer.echo(json.dumps(doc, indent=2, default=lambda x: None if x == float("-inf") else x))
        return
    if fmt is OutputFormat.csv:
        typer.echo(out.table.to_csv(), nl=False)
        return
    from rich.table import Table  # here, not at start-up

    table = Table(
        "scenario",
        "prior",
        "log-likelihood",
        "paths matching",
        "posterior",
        title="scenario weights",
    )
    for name, row in out.table.iterrows():
        table.add_row(
            str(name),
            f"{row.prior:.1%}",
            f"{row.loglik:.2f}",
            f"{row.matched_share:.1%}",
            f"{row.posterior:.1%}",
        )
    console.print(table)
    from simengine.cli.tables import print_frames, split_cross

    frame, cross = split_cross(out.mixture)
    title = "return to the horizon"
    print_frames(console, "Mixture of the scenarios (posterior weights)", {title: frame},
                 footers={title: cross})  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``weigh`` to the main app."""
    app.command("weigh")(weigh)
