"""``simengine run``, ``simengine compare`` and ``simengine validate``."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from simengine.cli.common import console, err_console, progress_bar
from simengine.exceptions import SimengineError, SpecError, UsageError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["check_outputs", "register", "result_json"]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class Method(StrEnum):
    monte_carlo = "monte_carlo"
    bayesian = "bayesian"


Files = Annotated[list[Path], typer.Argument(help="Scenario YAML files.", exists=False)]


def _path_count(value: str | int | None) -> int | None:
    """``--paths``: an integer, also written ``1e9`` or ``1_000_000``."""
    if value is None or isinstance(value, int):
        return value
    text = str(value).replace("_", "").strip()
    try:
        number = float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        raise typer.BadParameter(f"expected a whole number of paths, got {value!r}") from None
    if number != int(number) or number < 1:
        raise typer.BadParameter(f"expected a whole number of paths >= 1, got {value!r}")
    return int(number)


PathsOpt = Annotated[
    int | None,
    typer.Option(
        "--paths",
        "-n",
        parser=_path_count,
        help="Number of paths (default: the scenario's); 1e9 style accepted.",
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Dask scheduler address (tcp://host:8786): split the paths across its workers; "
        "same numbers as a local run.",
    ),
]
SeedOpt = Annotated[
    int | None,
    typer.Option("--seed", "-s", min=0, help="Random seed, >= 0 (default: the scenario's)."),
]
ChunkOpt = Annotated[
    int | None,
    typer.Option(
        "--chunk-size",
        min=1,
        help="Paths per chunk (rounded up to a multiple of 4096); never changes results.",
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Folder for the full result (NetCDF) and summary CSV."),
]
FormatOpt = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table (people), json or csv (machines).")
]
MethodOpt = Annotated[
    Method | None, typer.Option("--method", "-m", help="monte_carlo or bayesian (posterior draws).")
]
AntiOpt = Annotated[
    bool | None, typer.Option("--antithetic/--no-antithetic", help="Antithetic paths.")
]
ThreadsOpt = Annotated[
    int, typer.Option("--threads", min=1, help="Worker threads (results do not depend on it).")
]
PlotOpt = Annotated[Path | None, typer.Option("--plot", help="Folder for PNG plots.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite existing output files.")]


def _finite(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        raise SimengineError(f"refusing to print a non-finite number ({x}) in the output")
    return x


def _frame_dict(frame: pd.DataFrame) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for (scenario, series), row in frame.iterrows():
        out.setdefault(scenario, {})[series] = {k: _finite(v) for k, v in row.to_dict().items()}
    return out


def result_json(result: Any) -> dict[str, Any]:
    """The machine-readable output of ``run`` / ``compare`` (keys documented in the README).

    Deterministic for a given seed: no timestamps, no chunk size.
    """
    attrs = result.attrs
    hashes = json.loads(attrs.get("spec_hashes", "{}"))
    summary = _frame_dict(result.summary(wide=True))
    doc: dict[str, Any] = {
        "simengine_version": attrs.get("simengine_version"),
        "method": attrs.get("method"),
        "seed": int(attrs["seed"]),
        "n_paths": int(result.dataset["n_paths"].values[0]),
        "antithetic": attrs.get("antithetic") == "True",
        "model_hash": attrs.get("model_hash"),
        "posterior_hash": attrs.get("posterior_hash") or None,
        "horizon": str(result.dataset["time"].values[-1])[:10],
        "scenarios": {
            name: {"spec_hash": hashes.get(name), "summary": summary[name]}
            for name in result.scenarios
        },
    }
    if result.has_jump_means:
        for name, row in result.jump_means().iterrows():
            doc["scenarios"][name]["jumps"] = {s: {"mean": _finite(v)} for s, v in row.items()}
    if hasattr(result, "difference_summary"):
        diffs = result.difference_summary(wide=True)
        doc["reference"] = result.reference
        doc["differences"] = _frame_dict(diffs.drop(columns="reference"))
        if result.has_attribution:
            doc["attribution"] = {
                scenario: {
                    series: {ch: {"mean": _finite(v)} for ch, v in row.items()}
                    for series, row in block.items()
                }
                for scenario, block in _frame_dict(result.attribution()).items()
            }
    return doc


def _header(result: Any, specs: Sequence[Any]) -> str:
    """Run settings, what the numbers are, and per scenario which meetings are drawn."""
    from simengine.spec.advice import meetings_line

    attrs = result.attrs
    n = int(result.dataset["n_paths"].values[0])
    fresh = not any(spec.seed is not None for spec in specs)
    seed = f"seed {attrs['seed']}" + (
        f" (none in the file: pass --seed {attrs['seed']} to repeat)" if fresh else ""
    )
    lines = [
        f"[bold]{n:,} paths[/], {seed}, method {attrs['method']}, horizon "
        f"{str(result.dataset['time'].values[-1])[:10]}. Returns are cumulative simple returns; "
        "pair = $1 long large_cap, $1 short small_cap.",
    ]
    lines += [f"FOMC meetings in {spec.name}: {meetings_line(spec)}" for spec in specs]
    if attrs.get("method") == "bayesian":
        lines.append(_bayes_note(specs[0]))
    return "\n".join(lines)


def _bayes_note(spec: Any) -> str:
    """Why Bayesian means differ from point-parameter ones: the drifts and carry, in figures."""
    from simengine.api import load_params_for
    from simengine.report.bayes_gap import parameter_table

    table = parameter_table(load_params_for(spec, "monte_carlo"), load_params_for(spec, "bayesian"))
    rows = [
        f"{asset} {name.split(' ')[0]} {row['posterior mean']:.1f} vs {row['point estimate']:.1f}"
        for (name, asset), row in table.iterrows()
        if name.startswith(("drift", "carry"))
    ]
    return (
        "Bayesian: each path takes a posterior draw. Means differ from a point-parameter run "
        "mostly because the posterior is centred elsewhere (posterior mean vs point estimate, "
        f"%/yr: {'; '.join(rows)}); `simengine report --method bayesian` splits the difference."
    )


def _csv_frame(result: Any) -> pd.DataFrame:
    """Summary rows (``kind=summary``) and, for a comparison, difference rows."""
    import pandas as pd

    summary = result.summary(wide=True)
    frame = summary.reset_index()
    frame.insert(0, "kind", "summary")
    if hasattr(result, "difference_summary"):
        diffs = result.difference_summary(wide=True).reset_index()
        diffs.insert(0, "kind", "difference")
        frame = pd.concat([frame, diffs], ignore_index=True)
    return frame


def _emit(results: Sequence[Any], fmt: OutputFormat, specs: Sequence[Any]) -> None:
    """Print every result at once: one JSON document, one CSV with one header, or tables."""
    if fmt is OutputFormat.json:
        docs = [result_json(r) for r in results]
        typer.echo(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2))
    elif fmt is OutputFormat.csv:
        import pandas as pd

        frame = pd.concat([_csv_frame(r) for r in results], ignore_index=True)
        typer.echo(frame.to_csv(index=False), nl=False)
    else:
        from simengine.cli.tables import print_result

        for result in results:
            mine = [s for s in specs if s.name in result.scenarios]
            print_result(console, result, _header(result, mine))
            _print_attributions(result)


def _print_attributions(result: Any) -> None:
    """Per scenario, the mean difference from the reference split by channel (policy)."""
    if not getattr(result, "has_attribution", False):
        return
    attribution = result.attribution()
    for name in result.scenarios[1:]:
        _print_attribution(
            f"{name} minus {result.reference}: mean difference by channel "
            "(switched off in this order on the same shocks; they sum to the total)",
            attribution.loc[name],
        )


def _print_attribution(title: str, frame: pd.DataFrame) -> None:
    """Channels as rows, series as columns, in % of cumulative return to 3 decimals."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("channel")
    for series in frame.index:
        table.add_column(str(series), justify="right")
    for channel in frame.columns:
        table.add_row(channel, *(_signed_pct(float(frame.loc[s, channel])) for s in frame.index))
    console.print(table)


def _signed_pct(value: float) -> str:
    """``+0.123%``; a value that rounds to zero reads ``0.000%`` (no ``-0.000%``)."""
    text = f"{100 * value:+.3f}%"
    return "0.000%" if text in ("+0.000%", "-0.000%") else text


def _targets(out: Path, stem: str, comparison: bool) -> list[Path]:
    """The files ``--out`` receives for one result (checked before simulating)."""
    from simengine.io import safe_child

    names = [f"{stem}.nc", f"{stem}_summary.csv"]
    if comparison:
        names.append(f"{stem}_differences.csv")
    return [safe_child(out, name) for name in names]


def _plot_dir(plot: Path, name: str | None) -> Path:
    """The plot folder of one result: ``--plot`` itself, or a per-scenario subfolder."""
    from simengine.io import safe_subdir

    return plot if name is None else safe_subdir(plot, name)


def check_outputs(
    out: Path | None, plot: Path | None, stems: list[str], comparison: bool, force: bool
) -> None:
    """Refuse, before any simulation, outputs that could not be written.

    ``--out`` must be a folder (or not exist); its files must be free unless ``--force``.
    Each plot folder must be a real folder (not a link, not a file) holding no PNG file
    unless ``--force`` (the plot set depends on the result, so any PNG there could be
    replaced).
    """
    from simengine.exceptions import OutputExistsError
    from simengine.io import check_can_write, check_output_dir

    if out is not None:
        _need_folder(out, "--out")
        check_output_dir(out)
        for stem in stems:
            for path in _targets(out, stem, comparison):
                check_can_write(path, force)
    if plot is not None:
        _need_folder(plot, "--plot")
        check_output_dir(plot)
        for name in stems if len(stems) > 1 else [None]:
            folder = _plot_dir(plot, name)
            pngs = sorted(folder.glob("*.png")) if folder.is_dir() else []
            if pngs and not force:
                raise OutputExistsError(
                    f"{folder} already holds plots ({pngs[0].name}, ...); pass --force to "
                    "replace them, or choose another --plot folder"
                )


def _need_folder(path: Path, option: str) -> None:
    if path.exists() and not path.is_dir():
        raise UsageError(
            f"{option} {path} is a file; {option} takes a folder (it is created if needed)"
        )


def _save(result: Any, out: Path | None, stem: str, force: bool, plot: Path | None) -> None:
    if out is not None:
        comparison = hasattr(result, "difference_summary")
        paths = _targets(out, stem, comparison)
        result.to_netcdf(paths[0], overwrite=force)
        result.write_summary(paths[1], overwrite=force)
        if comparison:
            from simengine.io import atomic_write

            with atomic_write(paths[2], overwrite=force) as tmp:
                result.difference_summary(wide=True).reset_index().to_csv(tmp, index=False)
        err_console.print("wrote " + ", ".join(map(str, paths)))
    if plot is not None:
        from simengine.plotting import save_plots

        paths = save_plots(result, plot, overwrite=force)
        err_console.print(f"wrote {len(paths)} plot(s) to {plot}")


def _simulate_kwargs(
    paths, seed, chunk_size, method, antithetic, threads, scheduler=None
) -> dict[str, Any]:
    return {
        "scheduler": scheduler,
        "n_paths": paths,
        "seed": seed,
        "chunk_size": chunk_size,
        "method": method.value if method else None,
        "antithetic": antithetic,
        "threads": threads,
    }


def run(
    files: Files,
    paths: PathsOpt = None,
    seed: SeedOpt = None,
    chunk_size: ChunkOpt = None,
    out: OutOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    method: MethodOpt = None,
    antithetic: AntiOpt = None,
    threads: ThreadsOpt = 1,
    plot: PlotOpt = None,
    force: ForceOpt = False,
    scheduler: SchedulerOpt = None,
) -> None:
    """Simulate each scenario file and print the distribution of returns to the horizon."""
    from simengine.api import simulate

    specs = load_all(files)
    stems = [spec.name for spec in specs]
    check_outputs(out, plot, stems, False, force)
    kwargs = _simulate_kwargs(paths, seed, chunk_size, method, antithetic, threads, scheduler)
    results = []
    for spec in specs:
        with progress_bar(f"simulating {spec.name}", fmt is OutputFormat.table) as bar:
            result = simulate(spec, progress=bar, **kwargs)
        results.append(result)
        folder = None if plot is None else _plot_dir(plot, spec.name if len(specs) > 1 else None)
        _save(result, out, spec.name, force, folder)
    _emit(results, fmt, specs)


def compare(
    files: Files,
    paths: PathsOpt = None,
    seed: SeedOpt = None,
    chunk_size: ChunkOpt = None,
    out: OutOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    method: MethodOpt = None,
    antithetic: AntiOpt = None,
    threads: ThreadsOpt = 1,
    plot: PlotOpt = None,
    force: ForceOpt = False,
    scheduler: SchedulerOpt = None,
    attribution: Annotated[
        bool,
        typer.Option(
            "--attribution/--no-attribution",
            help="Split each mean difference into channels (about nine more simulations).",
        ),
    ] = True,
) -> None:
    """Simulate scenarios on common random numbers and print each one and their differences.

    The first file is the reference; differences are path by path (same shocks, same
    parameter draws), so they show the effect of the scenario, not Monte Carlo noise.
    """
    from simengine.api import compare as compare_api

    specs = load_all(files)
    check_outputs(out, plot, ["comparison"], True, force)
    kwargs = _simulate_kwargs(paths, seed, chunk_size, method, antithetic, threads, scheduler)
    with progress_bar(f"simulating {len(specs)} scenarios", fmt is OutputFormat.table) as bar:
        result = compare_api(specs, progress=bar, attribution=attribution, **kwargs)
    _emit([result], fmt, specs)
    _save(result, out, "comparison", force, plot)


def load_all(files: list[Path]) -> list[Any]:
    """Load every file, collecting all problems of all files before failing."""
    from simengine.spec import load_scenario

    specs, issues = [], []
    for f in files:
        try:
            specs.append(load_scenario(f))
        except SpecError as err:
            issues.extend(err.issues)
    if issues:
        raise SpecError(issues)
    return specs


ExplainOpt = Annotated[
    bool,
    typer.Option(
        "--explain",
        help="Print each merged scenario with the file and line every value came from.",
    ),
]


def _print_indented(text: str) -> None:
    """One line of ``validate``'s report, indented by 3 also where it wraps (no markup)."""
    import textwrap

    width = max(40, console.width)
    lines = textwrap.wrap(text, width, initial_indent="   ", subsequent_indent="   ",
                          break_on_hyphens=False, break_long_words=False)  # fmt: skip
    for line in lines:  # dates and file paths stay whole
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def validate(files: Files, explain: ExplainOpt = False) -> None:
    """Check scenario (and sweep) files: schema, dates, meetings, and assets against the model.

    Also says which meetings each scenario leaves to market pricing, whether the lists of an
    extending file replace or append to its base's, and warns (with the historical range)
    about values far outside history. Warnings do not fail validation.
    """
    from simengine.api import load_params_for
    from simengine.calendar import TimeGrid
    from simengine.spec.advice import meetings_line, scenario_warnings
    from simengine.spec.explain import explain as explain_file
    from simengine.spec.explain import list_notes

    issues = []
    for f in files:
        try:
            specs = _expand(f)
            for spec in specs:
                load_params_for(spec)
                grid = TimeGrid(spec.start, spec.horizon, spec.frequency)
                console.print(
                    f"[green]ok[/] {f}: {spec.name} ({grid.n_steps} {spec.frequency} steps "
                    f"{spec.start}..{spec.horizon})",
                    highlight=False,
                    soft_wrap=True,  # the path stays whole
                )
                _print_indented(f"FOMC meetings: {meetings_line(spec)}")
                for warning in scenario_warnings(spec):
                    err_console.print(f"[yellow]warning:[/] {warning.format()}", highlight=False)
            if len(specs) == 1 and specs[0].source is not None:
                for note in list_notes(f):
                    _print_indented(f"note: {note}")
                if explain:
                    typer.echo(explain_file(f))
        except SpecError as err:
            issues.extend(err.issues)
    if issues:
        raise SpecError(issues)


def _expand(path: Path) -> list[Any]:
    from simengine.spec.loader import is_sweep_file, load_scenario

    if not is_sweep_file(path):
        return [load_scenario(path)]  # without importing the sweep models (start-up time)
    from simengine.spec.sweep import expand_sweep

    return list(expand_sweep(path))


def register(app: typer.Typer) -> None:
    """Add run, compare and validate to the main app."""
    app.command("run")(run)
    app.command("compare")(compare)
    app.command("validate")(validate)
