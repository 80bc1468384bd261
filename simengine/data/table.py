"""The calibration table: one row per period, the factor and asset columns of the model.

``build_table(data_dir)`` reads the raw files of a data folder laid out like
``../shared/data`` and returns a :class:`CalibrationTable` (a DataFrame plus metadata:
sources with sha256, date range, frequency, notes and the hash of its values).
``save_table`` / ``load_table`` round-trip it through Parquet or CSV (+ JSON sidecar).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simengine.data import series as S
from simengine.data.loaders import (
    file_sha256,
    to_period_end,
)
from simengine.exceptions import DataError, OutputExistsError
from simengine.io import atomic_write
from simengine.structure import ModelStructure, default_structure

__all__ = ["COLUMNS", "SOURCES", "CalibrationTable", "build_table", "load_table", "save_table"]

#: Factor columns of the table, after the asset columns (docs/architecture.md "Factors and units").
FACTOR_COLUMNS: tuple[str, ...] = (
    "policy_rate",
    "rates",
    "tariff",
    "dtariff",
    "growth",
    "inflation",
    "credit",
)

#: Column order of the table for the packaged model: its assets, then the factor columns.
COLUMNS: tuple[str, ...] = (*default_structure().asset_names, *FACTOR_COLUMNS)

#: Files of the factor columns (relative to the data folder), by role; the assets' files are
#: the model's ``assets.<name>.data`` entries.
FACTOR_SOURCES: dict[str, str] = {
    "target_upper": "fed_policy/DFEDTARU.csv",
    "target_lower": "fed_policy/DFEDTARL.csv",
    "effr": "fed_policy/EFFR.csv",
    "fedfunds": "fred/FEDFUNDS.csv",
    "dgs2": "fred/DGS2.csv",
    "tariff_annual": "tariffs/annual_customs_duty_rate_1929_2023.csv",
    "tariff_daily": "tariffs/import_weighted_statutory_tariff_daily.csv",
    "indpro": "fred/INDPRO.csv",
    "core_cpi": "fred/CPILFESL.csv",
    "hy_oas": "fred/BAMLH0A0HYM2.csv",
}

#: Files read from the data folder for the packaged model, by role (assets and factors).
SOURCES: dict[str, str] = {
    **{a.name: a.data for a in default_structure().assets},
    **FACTOR_SOURCES,
}

#: Daily factor files whose last date (with the assets') defines the as-of date of the data.
_DAILY_FACTOR_ROLES = ("dgs2", "hy_oas")


def asset_note(label: str) -> str:
    """Column definition of an asset's return column."""
    return (
        f"log return of the {label} close, last valid close of period to last valid close of "
        "period (stale zero-change prints blanked)"
    )


NOTES: dict[str, str] = {
    "policy_rate": "fed funds target midpoint on the last valid day of the period (from "
    "2008-12-16); before: median of the last 5 daily EFFR prints; before 2000-07: monthly "
    "average FEDFUNDS",
    "rates": "change of the 2-year Treasury yield DGS2 over the period, pp",
    "tariff": "effective tariff rate %: annual customs duties / goods imports (BEA) held through "
    "each calendar year to 2024 (2024 blank -> 2023 held), spliced at 2025-01 to the daily "
    "import-weighted statutory rate (last valid day of period)",
    "dtariff": "change of tariff over the period, pp; at the splice period the change is taken "
    "within the statutory series (period end minus its 2025-01-01 value)",
    "growth": "100 x monthly log change of INDPRO minus its mean over the table rows",
    "inflation": "1200 x monthly log change of CPILFESL minus 2 (annualised pp above target)",
    "credit": "change of the ICE BofA US high-yield OAS over the period, pp (from 1997-01)",
}


@dataclass(frozen=True)
class CalibrationTable:
    """A period-indexed table of model factors and asset returns, with provenance.

    Attributes
    ----------
    frame : pandas.DataFrame
        Float columns :data:`COLUMNS` indexed by period-end date (``date``).
    metadata : dict
        ``frequency``, ``start``, ``end``, ``as_of``, ``sources`` (relative path -> sha256),
        ``notes`` (column definitions), ``forward_filled``, ``growth_mean``,
        ``incomplete_last_period``, ``table_hash``.
    """

    frame: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def data_hash(self) -> str:
        """sha256 of the canonical CSV of the values (see :func:`canonical_csv`)."""
        return table_hash(self.frame)

    @property
    def frequency(self) -> str:
        """``"monthly"`` or ``"weekly"``."""
        return str(self.metadata.get("frequency", "monthly"))

    @property
    def sources(self) -> dict[str, str]:
        """Relative path of every raw file used -> its sha256."""
        return dict(self.metadata.get("sources", {}))

    def window(self, start: str | None = None, end: str | None = None) -> pd.DataFrame:
        """Rows from ``start`` to ``end`` (inclusive, ``YYYY-MM`` or dates) as a DataFrame copy."""
        return self.frame.loc[start:end].copy()

    def summary(self) -> pd.DataFrame:
        """Per column: non-missing count, missing count, first and last valid date."""
        f = self.frame
        return pd.DataFrame(
            {
                "count": f.notna().sum(),
                "missing": f.isna().sum(),
                "first": [f[c].first_valid_index() for c in f.columns],
                "last": [f[c].last_valid_index() for c in f.columns],
            }
        )

    def __post_init__(self) -> None:
        # Consumers that take a plain DataFrame (simengine.bayes) read the hash from attrs.
        self.frame.attrs["table_hash"] = self.metadata.get("table_hash", "")
        self.frame.attrs["metadata"] = self.metadata

    def __getitem__(self, key: Any) -> Any:
        return self.frame[key]

    def __getattr__(self, name: str) -> Any:
        # Delegate DataFrame attributes (index, columns, loc, copy, ...) to the frame.
        if name.startswith("__") or name == "frame":
            raise AttributeError(name)
        return getattr(self.frame, name)

    def __len__(self) -> int:
        return len(self.frame)


def canonical_csv(frame: pd.DataFrame) -> str:
    """Canonical text of the values: ISO dates, 12 significant digits, ``\\n`` line ends."""
    return frame.to_csv(
        index_label="date",
        date_format="%Y-%m-%d",
        float_format="%.12g",
        lineterminator="\n",
        na_rep="",
    )


def table_hash(frame: pd.DataFrame) -> str:
    """sha256 hex digest of :func:`canonical_csv`."""
    return hashlib.sha256(canonical_csv(frame).encode()).hexdigest()


def data_sources(structure: ModelStructure | None = None) -> dict[str, str]:
    """Role -> file of every series the table reads: each asset's index file (its ``data``),
    then :data:`FACTOR_SOURCES` (``structure``: default the packaged model's)."""
    structure = structure or default_structure()
    return {**{a.name: a.data for a in structure.assets}, **FACTOR_SOURCES}


def _load_sources(
    data_dir: Path, structure: ModelStructure
) -> tuple[dict[str, pd.Series | pd.DataFrame], dict[str, str]]:
    from simengine.data.check import read_data_folder

    sources = data_sources(structure)
    index_roles = {a.name for a in structure.assets}
    loaded = read_data_folder(data_dir, sources, index_roles)  # every bad file in one error
    hashes = {rel: file_sha256(data_dir / rel) for rel in sources.values()}
    return loaded, hashes


def _as_of(raw: dict[str, Any], assets: tuple[str, ...]) -> pd.Timestamp:
    """Date of the latest valid daily market observation across the daily files."""
    lasts = []
    for role in (*assets, *_DAILY_FACTOR_ROLES):
        obj = raw[role]
        values = obj["Close"] if isinstance(obj, pd.DataFrame) else obj
        lasts.append(values.last_valid_index())
    return max(lasts)


def _period_complete(period_end: pd.Timestamp, as_of: pd.Timestamp, frequency: str) -> bool:
    """A period is complete when the data reach its last business day."""
    start = period_end - (
        pd.offsets.MonthBegin(1) if frequency == "monthly" else pd.Timedelta(6, "D")
    )
    last_bday = pd.bdate_range(start, period_end)[-1]
    return as_of >= last_bday


def _resolve_end(
    end: str | pd.Timestamp | None, as_of: pd.Timestamp, frequency: str
) -> tuple[pd.Timestamp, bool]:
    """Last period end of the table and whether that period is incomplete."""
    rule = S.rule(frequency)
    as_of_period = pd.Series([0], index=[as_of]).resample(rule).last().index[-1]
    if end is None:
        if _period_complete(as_of_period, as_of, frequency):
            return as_of_period, False
        previous = pd.date_range(end=as_of_period, periods=2, freq=rule)[0]
        return previous, False
    text = str(end).strip()
    try:
        ts = pd.Timestamp(text)
    except ValueError as exc:
        raise DataError(f"end {text!r} is not a date (expected YYYY-MM or YYYY-MM-DD)") from exc
    if re.fullmatch(r"\d{4}-\d{2}", text):
        ts = ts + pd.offsets.MonthEnd(0)
        if frequency == "weekly":
            ts = ts - pd.offsets.Week(weekday=4) if ts.weekday() != 4 else ts
    period = pd.Series([0], index=[ts]).resample(rule).last().index[-1]
    if period > as_of_period:
        raise DataError(
            f"end {text!r} is after the data: the daily series end on {as_of.date()} "
            f"(last possible period {as_of_period.date()})"
        )
    incomplete = period == as_of_period and not _period_complete(period, as_of, frequency)
    return period, incomplete


def _columns(
    raw: dict[str, Any], grid: pd.DatetimeIndex, frequency: str, assets: tuple[str, ...]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Compute every table column on the grid (growth not yet demeaned)."""
    out: dict[str, pd.Series] = {}
    for col in assets:
        close = S.mark_stale(raw[col]["Close"])
        out[col] = S.log_return(S.period_last(close, grid, frequency))
    fedfunds = to_period_end(raw["fedfunds"], "monthly")
    out["policy_rate"], target_start = S.policy_rate(
        raw["target_upper"], raw["target_lower"], raw["effr"], fedfunds, grid, frequency
    )
    out["rates"] = S.period_change(S.period_last(raw["dgs2"], grid, frequency))
    out["tariff"], out["dtariff"] = S.tariff_level(
        raw["tariff_annual"], raw["tariff_daily"], grid, frequency
    )
    indpro = to_period_end(raw["indpro"], "monthly")
    cpi = to_period_end(raw["core_cpi"], "monthly")
    growth = _monthly_log_change(indpro, 100.0)
    out["growth"] = S.monthly_to_grid(growth, grid, frequency)
    inflation = _monthly_log_change(cpi, 1200.0) - 2.0
    out["inflation"] = S.monthly_to_grid(inflation, grid, frequency)
    out["credit"] = S.period_change(S.period_last(raw["hy_oas"], grid, frequency))
    frame = pd.DataFrame(out, index=grid)[[*assets, *FACTOR_COLUMNS]].astype(float)
    info = {"target_range_start": str(target_start.date()), "monthly_growth": growth}
    return frame, info


def _monthly_log_change(level: pd.Series, scale: float) -> pd.Series:
    """Scaled log change month on month; a month without a print is NaN (not zero)."""
    full = pd.date_range(level.index.min(), level.index.max(), freq="ME")
    level = level.reindex(full)
    return scale * np.log(level).diff()


def build_table(
    data_dir: str | Path,
    frequency: str = "monthly",
    end: str | pd.Timestamp | None = None,
    structure: ModelStructure | None = None,
) -> CalibrationTable:
    """Build the calibration table from a data folder laid out like ``../shared/data``.

    Parameters
    ----------
    data_dir : str or Path
        Folder with ``equity/``, ``fred/``, ``fed_policy/`` and ``tariffs/`` (see :data:`SOURCES`).
    frequency : {"monthly", "weekly"}
        Period grid: month ends, or weeks ending Friday (``W-FRI``).
    end : str or Timestamp, optional
        Last period to include (``YYYY-MM`` or a date). By default the last *complete* period:
        a period whose last business day is after the latest daily observation is dropped
        (data cut on 2025-07-16 -> the table ends 2025-06). An explicit ``end`` inside that
        period keeps it and flags ``incomplete_last_period`` in the metadata.
    structure : ModelStructure, optional
        The model whose assets (and their ``data`` files) give the return columns; default:
        the packaged model.

    Returns
    -------
    CalibrationTable

    Notes
    -----
    Column definitions are in :data:`NOTES` (also stored in the metadata). On a weekly grid the
    monthly series (growth, inflation; policy rate before 2000-07) carry the value of the
    latest month end (listed in ``metadata["forward_filled"]``). Rows begin at the first period
    where both ``rates`` and ``growth`` exist.
    """
    S.rule(frequency)
    structure = structure or default_structure()
    assets = structure.asset_names
    raw, hashes = _load_sources(Path(data_dir), structure)
    as_of = _as_of(raw, assets)
    last, incomplete = _resolve_end(end, as_of, frequency)
    first = min(raw["dgs2"].first_valid_index(), raw["indpro"].first_valid_index())
    grid = pd.date_range(first, last, freq=S.rule(frequency), name="date")
    frame, info = _columns(raw, grid, frequency, assets)  # info: splice dates, monthly growth
    begin = frame[["rates", "growth"]].dropna().index
    if begin.empty:
        raise DataError(f"{data_dir}: no period has both the 2-year yield change and IP growth")
    frame = frame.loc[begin[0] :]
    # mean of the monthly IP changes of the months the table covers (same on both grids)
    monthly_growth = info.pop("monthly_growth")
    covered = monthly_growth.loc[frame.index[0] - pd.offsets.MonthEnd(1) : frame.index[-1]]
    if frequency == "monthly":
        covered = covered.loc[frame.index[0] :]
    growth_mean = float(covered.mean())
    frame["growth"] = frame["growth"] - growth_mean
    filled = ["growth", "inflation"] if frequency == "weekly" else []
    metadata = {
        "frequency": frequency,
        "start": str(frame.index[0].date()),
        "end": str(frame.index[-1].date()),
        "as_of": str(as_of.date()),
        "incomplete_last_period": bool(incomplete),
        "growth_mean": growth_mean,
        "forward_filled": filled + (["policy_rate (before 2000-07)"] if filled else []),
        "sources": dict(sorted(hashes.items())),
        "notes": {**{a.name: asset_note(a.label) for a in structure.assets}, **NOTES},
        **info,
        "table_hash": table_hash(frame),
    }
    return CalibrationTable(frame=frame, metadata=metadata)


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through :func:`simengine.io.atomic_write` (the caller checked for overwrite)."""
    with atomic_write(path, overwrite=True) as tmp:
        write(tmp)


def save_table(table: CalibrationTable, path: str | Path, overwrite: bool = False) -> Path:
    """Save a table to Parquet (metadata in the schema) or CSV (metadata in ``<file>.json``).

    Parameters
    ----------
    table : CalibrationTable
    path : str or Path
        ``.parquet`` or ``.csv``.
    overwrite : bool
        Replace an existing file; otherwise :class:`OutputExistsError`.

    Returns
    -------
    Path
        The written file.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise DataError(f"{p}: unknown table format {suffix!r} (use .parquet or .csv)")
    if p.exists() and not overwrite:
        raise OutputExistsError(f"{p} exists; pass overwrite=True (--force) to replace it")
    if not p.parent.is_dir():
        raise DataError(f"{p}: the folder {p.parent} does not exist")
    meta = {**table.metadata, "table_hash": table.data_hash}
    meta_json = json.dumps(meta, indent=2, sort_keys=True)
    if suffix == ".csv":
        _atomic_write(p, lambda t: t.write_text(canonical_csv(table.frame)))
        _atomic_write(_sidecar(p), lambda t: t.write_text(meta_json + "\n"))
    else:
        _atomic_write(p, lambda t: _write_parquet(table.frame, meta_json, t))
    return p


def _write_parquet(frame: pd.DataFrame, meta_json: str, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = pa.Table.from_pandas(frame.reset_index(), preserve_index=False)
    schema_meta = dict(arrow.schema.metadata or {})
    schema_meta[b"simengine.table"] = meta_json.encode()
    pq.write_table(arrow.replace_schema_metadata(schema_meta), path)


def load_table(path: str | Path, verify: bool = True) -> CalibrationTable:
    """Load a table written by :func:`save_table`, checking its hash.

    Parameters
    ----------
    path : str or Path
        ``.parquet`` or ``.csv`` (with its ``.json`` sidecar).
    verify : bool
        Recompute the values' hash and raise :class:`DataError` if it differs from the stored one.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"table file not found: {p}")
    if p.suffix.lower() == ".csv":
        side = _sidecar(p)
        if not side.is_file():
            raise DataError(f"{p}: metadata sidecar {side.name} is missing")
        meta = json.loads(side.read_text())
        frame = pd.read_csv(p, index_col="date", parse_dates=["date"]).astype(float)
    else:
        import pyarrow.parquet as pq

        arrow = pq.read_table(p)
        raw_meta = (arrow.schema.metadata or {}).get(b"simengine.table")
        if raw_meta is None:
            raise DataError(f"{p}: not a simengine calibration table (no metadata)")
        meta = json.loads(raw_meta)
        frame = arrow.to_pandas().set_index("date").astype(float)
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    table = CalibrationTable(frame=frame, metadata=meta)
    if verify and table.data_hash != meta.get("table_hash"):
        raise DataError(
            f"{p}: values do not match the stored table_hash "
            f"({table.data_hash[:12]} != {str(meta.get('table_hash'))[:12]}); rebuild the table"
        )
    return table
