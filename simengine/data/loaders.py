"""Readers for the raw historical files simengine calibrates on.

Every reader returns float data on a sorted, duplicate-free :class:`pandas.DatetimeIndex`
and raises :class:`~simengine.exceptions.DataError` with the file, the line and what was
expected when a file is missing or malformed. Blank cells (and FRED's ``.``) are missing
values (NaN), never zero.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simengine.exceptions import DataError
from simengine.io import file_sha256

__all__ = [
    "file_sha256",
    "infer_frequency",
    "read_annual_rate",
    "read_fama_french",
    "read_fred_csv",
    "read_index_csv",
    "read_tidy",
    "to_period_end",
]

_DATE_NAMES = ("date", "observation_date", "datetime", "time")
_MISSING = {"", ".", "na", "nan", "n/a", "null", "#n/a"}
_INDEX_COLUMNS = ("Open", "High", "Low", "Close")
_FF_RENAME = {"Mkt-RF": "MKT_RF", "Mkt_RF": "MKT_RF", "MOM": "Mom", "WML": "Mom"}


def _check_file(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise DataError(f"data file not found: {p} (check the data folder layout or the path)")
    return p


def _read_raw_csv(path: Path) -> pd.DataFrame:
    """Read a CSV as strings so that we can report exactly which cell is bad."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc})") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    return raw


def _find_column(raw: pd.DataFrame, names: tuple[str, ...], path: Path, what: str) -> str:
    lookup = {c.lower(): c for c in raw.columns}
    for name in names:
        if name.lower() in lookup:
            return lookup[name.lower()]
    raise DataError(
        f"{path}: no {what} column (expected one of {list(names)}); "
        f"the file has columns {list(raw.columns)}"
    )


def _parse_dates(values: pd.Series, path: Path, column: str) -> pd.DatetimeIndex:
    """Parse ISO dates; name the first bad row (file line) when one does not parse."""
    text = values.astype(str).str.strip()
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    bad = parsed.isna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{path}:{pos + 2}: cannot parse date {text.iloc[pos]!r} in column {column!r} "
            f"({int(bad.sum())} bad row(s); expected YYYY-MM-DD)"
        )
    return pd.DatetimeIndex(parsed.dt.normalize().to_numpy(), name="date")


def _parse_numbers(values: pd.Series, path: Path, column: str) -> np.ndarray:
    """Blank / '.' -> NaN; anything else that is not a number is an error naming the line."""
    text = values.astype("string").str.strip()
    missing = (text.isna() | text.str.lower().isin(_MISSING)).fillna(True).astype(bool)
    numbers = pd.to_numeric(text.where(~missing).astype(object), errors="coerce")
    bad = numbers.isna() & ~missing
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{path}:{pos + 2}: value {text.iloc[pos]!r} in column {column!r} is not a number "
            "(blank or '.' means missing)"
        )
    return numbers.to_numpy(dtype=float)


def _finish(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Sort by date, reject duplicate dates and frames without a single value."""
    frame = frame.sort_index(kind="stable")
    dup = frame.index.duplicated()
    if dup.any():
        raise DataError(f"{path}: duplicate date {frame.index[dup][0].date()} (each date once)")
    if frame.empty or not frame.notna().to_numpy().any():
        raise DataError(f"{path}: no values (the series is empty or all blank)")
    return frame


def read_fred_csv(path: str | Path) -> pd.Series:
    """Read a FRED-style two-column CSV (``date,value``).

    Parameters
    ----------
    path : str or Path
        File with a date column (``date``, ``observation_date`` or ``Date``) and one value
        column. Blank cells and ``.`` are missing values.

    Returns
    -------
    pandas.Series
        Float series on a sorted DatetimeIndex named ``date``; the series name is the file
        stem (``DGS2`` for ``fred/DGS2.csv``). Missing values stay NaN.

    Raises
    ------
    DataError
        Missing file, no date column, not exactly one value column, an unparseable date or
        number (with its line), duplicate dates or no values at all.
    """
    p = _check_file(path)
    raw = _read_raw_csv(p)
    date_col = _find_column(raw, _DATE_NAMES, p, "date")
    value_cols = [c for c in raw.columns if c != date_col]
    if len(value_cols) != 1:
        raise DataError(
            f"{p}: expected one value column next to {date_col!r}; the file has {list(raw.columns)}"
        )
    index = _parse_dates(raw[date_col], p, date_col)
    values = _parse_numbers(raw[value_cols[0]], p, value_cols[0])
    frame = _finish(pd.DataFrame({p.stem: values}, index=index), p)
    return frame[p.stem]


def read_index_csv(path: str | Path) -> pd.DataFrame:
    """Read daily index levels (``Date`` + Open/High/Low/Close[/Volume], any column order).

    Parameters
    ----------
    path : str or Path
        Yahoo-style index or ETF file.

    Returns
    -------
    pandas.DataFrame
        Columns ``Open, High, Low, Close`` (and ``Volume`` when present), float, on a sorted
        DatetimeIndex named ``date``. Rows whose Close is blank (holiday rows) are dropped.

    Raises
    ------
    DataError
        Missing file, a missing price column (the message lists the columns found), bad
        dates or numbers (with the line), duplicate dates, or no prices at all.
    """
    p = _check_file(path)
    raw = _read_raw_csv(p)
    date_col = _find_column(raw, ("Date", *_DATE_NAMES), p, "Date")
    lookup = {c.lower(): c for c in raw.columns}
    missing = [c for c in _INDEX_COLUMNS if c.lower() not in lookup]
    if missing:
        raise DataError(
            f"{p}: missing column(s) {missing}; the file has {list(raw.columns)} "
            "(expected Date, Open, High, Low, Close and optionally Volume)"
        )
    wanted = [*_INDEX_COLUMNS, *(["Volume"] if "volume" in lookup else [])]
    index = _parse_dates(raw[date_col], p, date_col)
    data = {c: _parse_numbers(raw[lookup[c.lower()]], p, lookup[c.lower()]) for c in wanted}
    frame = pd.DataFrame(data, index=index)
    frame = frame[frame["Close"].notna()]
    return _finish(frame, p)


def read_fama_french(path: str | Path) -> pd.DataFrame:
    """Read a monthly Fama-French factor file, in either layout of ``factors/``.

    Parameters
    ----------
    path : str or Path
        Either a month-end ``date`` column (``us_ff5_mom_monthly.csv``) or a ``yyyymm``
        column (``ff3_monthly_1926_2018_from_arch.csv``), then factor columns in percent.

    Returns
    -------
    pandas.DataFrame
        Factor returns in percent, indexed by month-end date (``date``). ``Mkt-RF`` is
        renamed ``MKT_RF`` so both layouts share names; ``-99.99`` / ``-999`` codes are NaN.

    Raises
    ------
    DataError
        Missing file, neither date layout, an unparseable ``yyyymm`` or date (with its line).
    """
    p = _check_file(path)
    raw = _read_raw_csv(p)
    lookup = {c.lower(): c for c in raw.columns}
    if "yyyymm" in lookup:
        col = lookup["yyyymm"]
        text = raw[col].str.strip()
        parsed = pd.to_datetime(text, format="%Y%m", errors="coerce")
        if parsed.isna().any():
            pos = int(np.flatnonzero(parsed.isna().to_numpy())[0])
            raise DataError(f"{p}:{pos + 2}: cannot parse {text.iloc[pos]!r} as yyyymm")
        index = pd.DatetimeIndex(parsed + pd.offsets.MonthEnd(0), name="date")
    else:
        col = _find_column(raw, ("date", "yyyymm"), p, "date or yyyymm")
        index = _parse_dates(raw[col], p, col) + pd.offsets.MonthEnd(0)
        index.name = "date"
    data = {_FF_RENAME.get(c, c): _parse_numbers(raw[c], p, c) for c in raw.columns if c != col}
    frame = pd.DataFrame(data, index=index).replace([-99.99, -999.0], np.nan)
    return _finish(frame, p)


def read_tidy(path: str | Path) -> pd.DataFrame:
    """Read a tidy table (CSV or Parquet) with a date column and numeric value columns.

    Parameters
    ----------
    path : str or Path
        ``.csv`` or ``.parquet`` file. The date is a column named ``date`` (any case, or
        ``observation_date``) or, for Parquet, a datetime index.

    Returns
    -------
    pandas.DataFrame
        Float columns on a sorted DatetimeIndex named ``date``.

    Raises
    ------
    DataError
        Missing file, unknown extension, no date column, unparseable dates or values.
    """
    p = _check_file(path)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        raw = _read_raw_csv(p)
    elif suffix in (".parquet", ".pq"):
        raw = pd.read_parquet(p)
        if isinstance(raw.index, pd.DatetimeIndex):
            raw = raw.reset_index(names="date")
        raw = raw.astype("string")
    else:
        raise DataError(f"{p}: unknown file type {suffix!r} (expected .csv or .parquet)")
    date_col = _find_column(raw, _DATE_NAMES, p, "date")
    index = _parse_dates(raw[date_col], p, date_col)
    data = {c: _parse_numbers(raw[c], p, c) for c in raw.columns if c != date_col}
    if not data:
        raise DataError(f"{p}: only a date column; expected value columns next to it")
    return _finish(pd.DataFrame(data, index=index), p)


def read_annual_rate(
    path: str | Path, year_column: str = "year", value_column: str = "etr_pct"
) -> pd.Series:
    """Read an annual series keyed by calendar year (e.g. the customs duty rate file).

    Parameters
    ----------
    path : str or Path
        CSV with an integer year column and a value column.
    year_column, value_column : str
        Column names.

    Returns
    -------
    pandas.Series
        Values indexed by the year's first day (``YYYY-01-01``), name ``value_column``.
        Blank years stay NaN.
    """
    p = _check_file(path)
    raw = _read_raw_csv(p)
    for col in (year_column, value_column):
        if col not in raw.columns:
            raise DataError(f"{p}: missing column {col!r}; the file has {list(raw.columns)}")
    index = _parse_dates(raw[year_column].str.strip() + "-01-01", p, year_column)
    values = _parse_numbers(raw[value_column], p, value_column)
    return _finish(pd.DataFrame({value_column: values}, index=index), p)[value_column]


def infer_frequency(index: pd.DatetimeIndex) -> str:
    """Classify the spacing of observation dates.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Observation dates (sorted).

    Returns
    -------
    str
        ``"daily"``, ``"weekly"``, ``"monthly"``, ``"quarterly"`` or ``"annual"``, from the
        median gap between consecutive dates.
    """
    if len(index) < 2:
        raise DataError("cannot infer a frequency from fewer than two dates")
    gap = float(np.median(np.diff(index.to_numpy()).astype("timedelta64[D]").astype(float)))
    for limit, name in ((4, "daily"), (10, "weekly"), (45, "monthly"), (135, "quarterly")):
        if gap <= limit:
            return name
    return "annual"


def to_period_end(series: pd.Series, frequency: str | None = None) -> pd.Series:
    """Re-date a period-stamped series (FRED dates months and quarters by their first day).

    Parameters
    ----------
    series : pandas.Series
        Monthly, quarterly or annual observations dated anywhere inside their period.
    frequency : str, optional
        ``"monthly"``, ``"quarterly"`` or ``"annual"``; inferred when omitted.

    Returns
    -------
    pandas.Series
        The same values dated at their period end (``1980-04-01`` quarterly -> ``1980-06-30``).
    """
    freq = frequency or infer_frequency(series.index)
    offsets = {
        "monthly": pd.offsets.MonthEnd(0),
        "quarterly": pd.offsets.QuarterEnd(0),
        "annual": pd.offsets.YearEnd(0),
    }
    if freq not in offsets:
        raise DataError(f"to_period_end: frequency {freq!r} is not one of {list(offsets)}")
    out = series.copy()
    out.index = pd.DatetimeIndex(series.index + offsets[freq], name="date")
    return out
