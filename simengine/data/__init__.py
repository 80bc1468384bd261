"""Historical data: file loaders and the calibration-table builder.

>>> from simengine.data import build_table
>>> table = build_table("../shared/data")          # doctest: +SKIP
>>> table.frame.loc["2025-06"]                      # doctest: +SKIP
"""

from simengine.data.loaders import (
    file_sha256,
    infer_frequency,
    read_annual_rate,
    read_fama_french,
    read_fred_csv,
    read_index_csv,
    read_tidy,
    to_period_end,
)
from simengine.data.table import (
    COLUMNS,
    SOURCES,
    CalibrationTable,
    build_table,
    load_table,
    save_table,
)

__all__ = [
    "COLUMNS",
    "SOURCES",
    "CalibrationTable",
    "build_table",
    "file_sha256",
    "infer_frequency",
    "load_table",
    "read_annual_rate",
    "read_fama_french",
    "read_fred_csv",
    "read_index_csv",
    "read_tidy",
    "save_table",
    "to_period_end",
]
