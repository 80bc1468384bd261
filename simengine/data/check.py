"""Check a data folder before building from it: every missing or malformed file at once.

:data:`LAYOUT` documents each file the calibration table reads (what it is, its columns,
where to get it); :func:`check_data_folder` reads each one with the loader the table
builder uses and reports every problem together, so a user fixes a folder in one pass.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simengine.exceptions import DataError

__all__ = [
    "LAYOUT",
    "FileCheck",
    "FileDoc",
    "check_data_folder",
    "raise_problems",
    "read_data_folder",
]


@dataclass(frozen=True)
class FileDoc:
    """What one file of a data folder holds."""

    what: str
    columns: str
    source: str


LAYOUT: dict[str, FileDoc] = {
    "equity/RUT_index_daily.csv": FileDoc(
        "Russell 2000 price index, daily",
        "Date, Open, High, Low, Close[, Volume]",
        "any Yahoo-style download of ^RUT",
    ),
    "equity/NDX_index_daily.csv": FileDoc(
        "Nasdaq-100 price index, daily",
        "Date, Open, High, Low, Close[, Volume]",
        "any Yahoo-style download of ^NDX",
    ),
    "fed_policy/DFEDTARU.csv": FileDoc(
        "fed funds target range, upper bound, daily from 2008-12-16 (%)",
        "Date (or date), one value column",
        "FRED DFEDTARU",
    ),
    "fed_policy/DFEDTARL.csv": FileDoc(
        "fed funds target range, lower bound, daily from 2008-12-16 (%)",
        "Date (or date), one value column",
        "FRED DFEDTARL",
    ),
    "fed_policy/EFFR.csv": FileDoc(
        "effective fed funds rate, daily (%)", "Date (or date), one value column", "FRED EFFR"
    ),
    "fred/FEDFUNDS.csv": FileDoc(
        "effective fed funds rate, monthly average (%)", "date, value", "FRED FEDFUNDS"
    ),
    "fred/DGS2.csv": FileDoc("2-year Treasury yield, daily (%)", "date, value", "FRED DGS2"),
    "fred/INDPRO.csv": FileDoc(
        "industrial production index, monthly, seasonally adjusted", "date, value", "FRED INDPRO"
    ),
    "fred/CPILFESL.csv": FileDoc(
        "core CPI index, monthly, seasonally adjusted", "date, value", "FRED CPILFESL"
    ),
    "fred/BAMLH0A0HYM2.csv": FileDoc(
        "ICE BofA US high-yield option-adjusted spread, daily (%)",
        "date, value",
        "FRED BAMLH0A0HYM2",
    ),
    "tariffs/annual_customs_duty_rate_1929_2023.csv": FileDoc(
        "effective tariff rate by year: customs duties / goods imports (%)",
        "year, etr_pct (other columns ignored)",
        "BEA NIPA tables 3.5 and 4.1",
    ),
    "tariffs/import_weighted_statutory_tariff_daily.csv": FileDoc(
        "statutory tariff rate weighted by 2024 imports, daily from 2025-01-01 (%)",
        "date, import_weighted_avg_tariff",
        "tradewartracker/trade-war-redux-2025",
    ),
}


@dataclass(frozen=True)
class FileCheck:
    """The outcome of reading one file: ``problem`` is empty when it is usable."""

    path: str
    problem: str = ""
    rows: int = 0
    first: str = ""
    last: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def _read_one(data_dir: Path, rel: str, role: str, assets: set[str]) -> tuple[FileCheck, Any]:
    from simengine.data.loaders import read_annual_rate, read_fred_csv, read_index_csv

    readers: dict[str, Any] = dict.fromkeys(assets, read_index_csv)
    readers["tariff_annual"] = read_annual_rate
    path = data_dir / rel
    if not path.is_file():
        return FileCheck(rel, "missing"), None
    try:
        values = readers.get(role, read_fred_csv)(path)
    except DataError as err:
        text = re.sub(rf"^{re.escape(str(path))}:(\d+):", r"line \1:", str(err))
        return FileCheck(rel, text.replace(str(path), "").lstrip(": ") or "malformed"), None
    index = values.index
    check = FileCheck(rel, "", len(values), str(index.min().date()), str(index.max().date()))
    return check, values


def _folder(data_dir: str | os.PathLike[str]) -> Path:
    folder = Path(data_dir)
    if not folder.is_dir():
        raise DataError(
            f"data folder not found: {folder} (expected a folder with equity/, fred/, "
            "fed_policy/ and tariffs/; see `simengine data check --help`)"
        )
    return folder


def _read_all(
    data_dir: str | os.PathLike[str], sources: Mapping[str, str], index_roles: Collection[str]
) -> dict[str, tuple[FileCheck, Any]]:
    folder = _folder(data_dir)
    return {role: _read_one(folder, rel, role, set(index_roles)) for role, rel in sources.items()}


def read_data_folder(
    data_dir: str | os.PathLike[str], sources: Mapping[str, str], index_roles: Collection[str]
) -> dict[str, Any]:
    """Every series the calibration table needs, by role; all problems raised at once.

    Parameters
    ----------
    data_dir : path-like
    sources : mapping role -> relative path
        The files to read (:func:`simengine.data.table.data_sources`).
    index_roles : collection of str
        Roles read as daily index files (Date, Open, High, Low, Close); the others are
        ``date, value`` series, and ``tariff_annual`` a ``year, etr_pct`` table.

    Raises
    ------
    DataError
        Naming every missing or malformed file (or a missing folder).
    """
    read = _read_all(data_dir, sources, index_roles)
    raise_problems(data_dir, [check for check, _ in read.values()])
    return {role: values for role, (_, values) in read.items()}


def check_data_folder(
    data_dir: str | os.PathLike[str], sources: Mapping[str, str], index_roles: Collection[str]
) -> list[FileCheck]:
    """Read every file the calibration table needs and report each one.

    Parameters
    ----------
    data_dir : path-like
        The data folder (layout: :data:`LAYOUT`, documented in the README).
    sources, index_roles
        As in :func:`read_data_folder`.

    Returns
    -------
    list of FileCheck
        One per file of ``sources``, in its order.

    Raises
    ------
    DataError
        When ``data_dir`` is not a folder.
    """
    return [check for check, _ in _read_all(data_dir, sources, index_roles).values()]


def raise_problems(data_dir: str | os.PathLike[str], checks: list[FileCheck]) -> None:
    """Raise one :class:`DataError` naming every file that is missing or malformed."""
    bad = [c for c in checks if not c.ok]
    if not bad:
        return
    lines = "\n".join(f"  {c.path}: {c.problem}" for c in bad)
    raise DataError(
        f"{len(bad)} of {len(checks)} data files in {data_dir} are missing or malformed:\n"
        f"{lines}\n(the layout: README 'Data folders', or `simengine data check {data_dir}`)"
    )
