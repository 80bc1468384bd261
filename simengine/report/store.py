"""The HTML report of a batch store: per sweep, heat maps, a compact table and small multiples.

A batch store (``simengine batch``) is a folder with ``manifest.json``, ``summary.parquet``
(one row per scenario x series: summary columns plus the sweep fields) and one NetCDF result
per scenario (``simengine.load_result``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from simengine.exceptions import SimengineError, StoreError
from simengine.io import check_can_write
from simengine.report.html import esc, figure, kv_table, page, table, write_html
from simengine.report.result import pct, share

__all__ = ["build_report_from_store", "write_store_report"]

MAX_CHARTS = 12
STATS = ("median", "q05", "q95", "prob_loss")
STAMPS = {
    "seed",
    "spec_hash",
    "spec_hashes",
    "model_hash",
    "posterior_hash",
    "simengine_version",
    "created",
    "n_paths",
}
SUMMARY_PREFIXES = ("mean", "median", "std", "q", "var_", "es_", "prob_", "max_drawdown", "param_")


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / "manifest.json"
    if not directory.is_dir():
        raise StoreError(f"{directory} is not a folder; give a batch store folder")
    if not path.is_file():
        raise StoreError(
            f"{directory} has no manifest.json, so it is not a simengine batch store "
            "(run `simengine batch` to write one, or give scenario files instead)"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise StoreError(f"{path} is not readable JSON: {err}") from None
    if not isinstance(manifest, dict):
        raise StoreError(f"{path} should hold a JSON object, got {type(manifest).__name__}")
    return manifest


def _read_summary(directory: Path) -> pd.DataFrame | None:
    path = directory / "summary.parquet"
    if not path.is_file():
        return None
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as err:
        raise StoreError(f"{path} is not a readable Parquet file: {err}") from None


def _result_files(directory: Path, manifest: dict[str, Any]) -> list[Path]:
    """The result files of the scenarios the manifest lists as done or skipped (its order).

    Files the manifest does not name (results of an earlier version of a sweep) are stale and
    never shown; links and missing files are left out.
    """
    entries = manifest.get("scenarios")
    files = []
    for entry in entries if isinstance(entries, list) else []:
        name = entry.get("result_file") if isinstance(entry, dict) else None
        if entry.get("status") not in ("done", "skipped") or not isinstance(name, str):
            continue
        path = directory / "results" / Path(name).name
        if path.is_file() and not path.is_symlink() and path not in files:
            files.append(path)
    return files


def _current_names(manifest: dict[str, Any]) -> set[str]:
    """Names of the scenarios the manifest lists as done or skipped: the summary table may
    still hold rows of an earlier version of a sweep, which are stale and never shown."""
    entries = manifest.get("scenarios")
    return {
        str(e.get("name"))
        for e in (entries if isinstance(entries, list) else [])
        if isinstance(e, dict) and e.get("status") in ("done", "skipped")
    }


def _load_checked(path: Path) -> Any:
    """A stored result, parsed only after it matches its ``.sha256`` (HDF5 may hang otherwise)."""
    from simengine.exceptions import ResultVerificationError
    from simengine.io import checksum_ok
    from simengine.results import load_result

    if not checksum_ok(path):
        raise ResultVerificationError(f"{path.name} does not match its .sha256 (damaged file)")
    return load_result(path)


def _is_summary_column(col: str) -> bool:
    return col in STAMPS or col.startswith(SUMMARY_PREFIXES)


def scenario_table(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per scenario: sweep fields, then median / 5% / 95% / P(loss) of each series.

    Parameters
    ----------
    summary : DataFrame
        ``summary.parquet`` of a store: one row per scenario x series.
    """
    if not {"scenario", "series"} <= set(summary.columns):
        return summary
    order = list(dict.fromkeys(summary["scenario"]))
    fields = [
        c
        for c in summary.columns
        if c not in ("scenario", "series") and not _is_summary_column(str(c))
    ]
    stats = [s for s in STATS if s in summary.columns]
    wide = summary.pivot_table(index="scenario", columns="series", values=stats, aggfunc="first")
    series = list(dict.fromkeys(summary["series"]))
    wide = wide.reindex(columns=[(st, se) for se in series for st in stats]).reindex(order)
    wide.columns = [f"{se} {st}" for st, se in wide.columns]
    if fields:
        meta = summary.groupby("scenario", sort=False)[fields].first().astype(str)
        wide = meta.join(wide)
    wide.index.name = "scenario"
    return wide


def _table_formats(frame: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in frame.columns:
        stat = str(col).rsplit(" ", 1)[-1]
        if stat == "prob_loss":
            out[col] = share
        elif stat in ("median", "q05", "q95"):
            out[col] = pct
    return out


def _headers(frame: pd.DataFrame) -> dict[str, str]:
    names = {"q05": "5%", "q95": "95%", "prob_loss": "P(loss)"}
    out = {}
    for col in frame.columns:
        head, _, stat = str(col).rpartition(" ")
        if head and stat in names:
            out[col] = f"{head} {names[stat]}"
    return out


def _fallback_table(files: list[Path]) -> pd.DataFrame:

    frames = []
    for path in files:
        try:
            frames.append(_load_checked(path).summary(wide=True).reset_index())
        except SimengineError:
            continue
    return scenario_table(pd.concat(frames, ignore_index=True)) if frames else pd.DataFrame()


def _scenarios_section(summary: pd.DataFrame | None, files: list[Path], manifest: dict) -> str:
    if summary is not None:
        wide = scenario_table(summary)
        source = "summary.parquet"
    else:
        wide = _fallback_table(files)
        source = "the result files (no summary.parquet)"
    if wide.empty:
        names = manifest.get("scenarios")
        if isinstance(names, list) and names:
            rows = [(str(i + 1), _name(entry)) for i, entry in enumerate(names)]
            return "<p>No results yet; scenarios in the manifest:</p>" + kv_table(rows)
        return '<p class="note">The store holds no results yet.</p>'
    intro = (
        f"<p>{len(wide)} scenario(s), from {esc(source)}. Returns are simple cumulative "
        "returns to the horizon; P(loss) is the chance of a negative return.</p>"
    )
    return intro + table(wide, _table_formats(wide), _headers(wide))


def _name(entry: Any) -> str:
    if isinstance(entry, dict):
        return str(entry.get("name") or entry.get("scenario") or entry)
    return str(entry)


def _load_results(directory: Path, files: list[Path]) -> tuple[dict[str, Any], list[str]]:
    """Results by scenario name, and a note for each file that could not be read."""
    results, failed = {}, []
    for path in files:
        try:
            result = _load_checked(path)
        except SimengineError as err:
            failed.append(f"{path.relative_to(directory)}: {err}")
            continue
        results[result.scenarios[0]] = result
    return results, failed


def _fans_html(
    names: list[str], titles: dict[str, str], results: dict[str, Any], max_charts: int, dpi: int
) -> str:
    """Small multiples of the small-cap fan for the scenarios of one sweep."""
    from simengine.plot_grid import fan_panels
    from simengine.plotting import figure_to_png

    panels = [(n, results[n]) for n in names if n in results][:max_charts]
    if not panels:
        return '<p class="note">No result files for these scenarios: no fan charts.</p>'
    series = next(s for s in panels[0][1].series if s != "pair")
    labels = [titles.get(n) or n for n, _ in panels]
    png = figure_to_png(fan_panels(panels, series, titles=labels), dpi=dpi)
    note = (
        f" The first {len(panels)} of {len(names)} variants are drawn."
        if len(names) > len(panels)
        else ""
    )
    caption = "Paths over the horizon, one panel per variant, on shared axes." + note
    return figure(png, "fan charts, one panel per variant", caption)


def _sweep_sections(
    directory: Path, summary: pd.DataFrame, files: list[Path], max_charts: int, dpi: int
) -> list[tuple[str, str, str]]:
    from simengine.report.sweeps import result_labels, sweep_groups, sweep_section

    results, failed = _load_results(directory, files)
    labels = result_labels(files)
    sections = []
    for i, (name, rows) in enumerate(sweep_groups(summary)):
        names = list(dict.fromkeys(rows["scenario"]))
        titles = {}
        if "label" in rows.columns:
            titles = dict(zip(rows["scenario"], rows["label"].fillna("").astype(str), strict=True))
        fans = _fans_html(names, titles, results, max_charts, dpi)
        body = sweep_section(name, rows, _is_summary_column, labels, fans, dpi)
        sections.append((f"sweep-{i + 1}", f"Sweep: {name}", body))
    if failed:
        note = (
            '<p class="note">Not shown (the file could not be read): '
            + "; ".join(esc(f) for f in failed)
            + "</p>"
        )
        sections[-1] = (*sections[-1][:2], sections[-1][2] + note)
    return sections


def _manifest_section(directory: Path, manifest: dict) -> str:
    rows: list[tuple[str, Any]] = [("store", str(directory))]
    for key, value in manifest.items():
        if isinstance(value, dict) and all(not isinstance(v, dict | list) for v in value.values()):
            rows.append((key, ", ".join(f"{k}={v}" for k, v in value.items())))
        elif isinstance(value, dict | list):
            rows.append((key, f"{len(value)} {'item' if len(value) == 1 else 'items'}"))
        else:
            rows.append((key, value))
    return kv_table(rows, code=True)


def build_report_from_store(
    directory: str | Path,
    *,
    title: str | None = None,
    max_charts: int = MAX_CHARTS,
    dpi: int = 100,
) -> str:
    """The HTML report of a batch store folder.

    Parameters
    ----------
    directory : path
        Folder with ``manifest.json``, ``summary.parquet`` and per-scenario NetCDF results.
    title : str, optional
    max_charts : int
        Fan-chart panels per sweep (the heat maps and the table cover every scenario).
    dpi : int

    Returns
    -------
    str
        A complete, self-contained HTML document.

    Raises
    ------
    SimengineError
        When the folder has no (readable) ``manifest.json``.
    """
    from simengine.report.html import readable_charts

    with readable_charts():
        return _build(Path(directory), title, max_charts, dpi)


def _build(directory: Path, title: str | None, max_charts: int, dpi: int) -> str:
    manifest = _read_manifest(directory)
    summary = _read_summary(directory)
    files = _result_files(directory, manifest)
    if summary is not None and "scenario" in summary.columns:
        summary = summary[summary["scenario"].isin(_current_names(manifest))]
    if summary is not None and {"scenario", "series"} <= set(summary.columns):
        sections = _sweep_sections(directory, summary, files, max_charts, dpi)
    else:
        sections = [("scenarios", "Scenarios", _scenarios_section(summary, files, manifest))]
    sections.append(("provenance", "Batch manifest", _manifest_section(directory, manifest)))
    name = manifest.get("name") or directory.name
    subtitle = f"Batch store {directory}: {len(files)} result file(s)"
    return page(title or f"simengine batch report: {name}", subtitle, sections,
                "Self-contained report, opens offline.")  # fmt: skip


def write_store_report(
    directory: str | Path,
    path: str | Path,
    *,
    overwrite: bool = False,
    title: str | None = None,
    max_charts: int = MAX_CHARTS,
    dpi: int = 100,
) -> Path:
    """Render :func:`build_report_from_store` and write it atomically to ``path``."""
    check_can_write(Path(path), overwrite)
    text = build_report_from_store(directory, title=title, max_charts=max_charts, dpi=dpi)
    return write_html(text, path, overwrite)
