"""From the monthly calibration table to the arrays the PyMC model needs.

The table (``simengine.data.build_table``) has one row per month and the columns of the
contract (docs/architecture.md): the asset returns (``small_cap``, ``large_cap``: monthly log
returns), ``policy_rate`` (%), ``rates``, ``tariff``, ``dtariff``, ``growth``, ``inflation``,
``credit``. Rows need the previous month for the lags; months with a missing value and months
whose predecessor is missing are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simengine.bayes.priors import EXPOSURES, VAR_FACTORS, PriorSet
from simengine.exceptions import CalibrationError

ECM_FACTOR = "credit"
"""The factor whose level error-corrects (as ``simengine.data.fit_distribution.ECM_FACTORS``)."""

__all__ = ["ModelData", "prepare_data", "stamped_table_hash"]

#: Table column of each exposure (the tariff loading acts on the monthly change).
#: Exposure -> table column: a stochastic factor's own column; a level factor (``tariff``)
#: acts through its change over the period (``dtariff``).
EXPOSURE_COLUMNS: dict[str, str] = {e: e if e in VAR_FACTORS else f"d{e}" for e in EXPOSURES}
MIN_ROWS = 24


@dataclass(frozen=True)
class ModelData:
    """Arrays of the calibration, aligned on the T usable months.

    Attributes
    ----------
    dates : ndarray of datetime64[D], shape (T,)
    y : ndarray, shape (T, N)
        Asset monthly log returns.
    x : ndarray, shape (T, 5)
        Exposures ``rates, tariff (dtariff), growth, inflation, credit`` in month t.
    z, z_lag : ndarray, shape (T, 4)
        VAR factors ``rates, growth, inflation, credit`` in month t and t-1.
    gap : ndarray, shape (T,)
        Policy gap ``p_{t-1} - n`` (pp).
    level_lag : ndarray, shape (T,)
        Level of the error-correcting factor (credit) at ``t-1``, relative to its level before
        the table's first value: the running sum of its changes (``R_{t-1}``).
    level_end : float
        ``R`` at the last month used: the true level is ``S_t = S_end - level_end + R_t``.
    z_mean, z_sd : ndarray, shape (4,)
        Standardisation of the VAR factors (sample mean and sd of ``z``).
    assets : tuple of str
    table_hash : str
    neutral_rate : float
    v : ndarray, shape (T, N), optional
        The volatility state's variance ratio of each asset's residual in month t (plug-in,
        :func:`simengine.data.fit_distribution.state_ratios`); None: constant variance.
    w : ndarray, shape (T,), optional
        The same for the factor innovations (the market curve).
    mixing_sd : float
        ``s`` of the log-normal level ``L`` that multiplies both variances (0: none).
    """

    dates: np.ndarray
    y: np.ndarray
    x: np.ndarray
    z: np.ndarray
    z_lag: np.ndarray
    gap: np.ndarray
    level_lag: np.ndarray
    level_end: float
    z_mean: np.ndarray
    z_sd: np.ndarray
    assets: tuple[str, ...]
    table_hash: str
    neutral_rate: float
    v: np.ndarray | None = None
    w: np.ndarray | None = None
    mixing_sd: float = 0.0

    @property
    def state_hash(self) -> str:
        """Hash of the volatility state the likelihood conditions on (``none`` without one)."""
        if self.v is None:
            return "none"
        import hashlib

        digest = hashlib.sha256(np.ascontiguousarray(self.v, dtype=np.float64).tobytes())
        digest.update(np.ascontiguousarray(self.w, dtype=np.float64).tobytes())
        digest.update(repr(float(self.mixing_sd)).encode())
        return digest.hexdigest()

    @property
    def date_range(self) -> tuple[str, str]:
        """First and last month used, as ``YYYY-MM``."""
        return (str(self.dates[0])[:7], str(self.dates[-1])[:7])


def stamped_table_hash(table: pd.DataFrame) -> str:
    """The calibration table's hash: its stamp, else computed the same way.

    Uses ``table.attrs["table_hash"]`` (set by ``simengine.data.build_table``) or
    ``table.attrs["metadata"]["table_hash"]`` when present, else
    :func:`simengine.data.table.table_hash` (sha256 of the canonical CSV): one algorithm.
    """
    from simengine.data.table import table_hash

    table = getattr(table, "frame", table)
    attrs = getattr(table, "attrs", {}) or {}
    for holder in (attrs, attrs.get("metadata") if isinstance(attrs.get("metadata"), dict) else {}):
        if holder and holder.get("table_hash"):
            return str(holder["table_hash"])
    return table_hash(table)


def prepare_data(
    table: pd.DataFrame,
    priors: PriorSet,
    state: pd.DataFrame | None = None,
    mixing_sd: float = 0.0,
) -> ModelData:
    """Align the table into model arrays (lags, policy gap, standardisation).

    Parameters
    ----------
    table : DataFrame
        Monthly calibration table, indexed by month (DatetimeIndex or PeriodIndex) or with a
        ``date`` column.
    priors : PriorSet
        Gives the assets (columns) and the neutral rate n.
    state : DataFrame, optional
        The volatility state's one-month variance ratios by month end: one column per asset and
        ``market`` (:func:`simengine.data.fit_distribution.state_ratios`). Months without a
        state are dropped. None: the likelihood has constant variance.
    mixing_sd : float
        The model file's ``residuals.vol_state.mixing_sd`` (used only with ``state``).

    Returns
    -------
    ModelData

    Raises
    ------
    CalibrationError
        A column is missing, returns look like percent, or fewer than 24 usable months.

    Notes
    -----
    For month t the model uses ``y_t``, ``x_t``, ``z_t``, ``z_{t-1}`` and ``p_{t-1} - n``.
    """
    table = _unwrap(table)
    frame = _monthly_frame(table)
    needed = [
        *priors.assets,
        "policy_rate",
        *dict.fromkeys([*EXPOSURE_COLUMNS.values(), *VAR_FACTORS]),
    ]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise CalibrationError(
            f"calibration table lacks columns {missing}; it has {list(frame.columns)}. "
            "Build it with simengine.data.build_table or rename the columns."
        )
    frame = frame[needed].apply(pd.to_numeric, errors="coerce").astype(float)
    lagged = frame[["policy_rate", *VAR_FACTORS]].shift(1)
    running = frame[ECM_FACTOR].cumsum()  # the level less its value before the first change
    lagged["level"] = running.shift(1)
    consecutive = _consecutive(frame.index)
    ok = frame.notna().all(axis=1) & lagged.notna().all(axis=1) & consecutive
    ratios = None if state is None else _state_rows(state, frame.index, priors.assets)
    if ratios is not None:
        ok &= ratios.notna().all(axis=1)
    frame, lagged, running = frame[ok], lagged[ok], running[ok]
    if len(frame) < MIN_ROWS:
        raise CalibrationError(
            f"only {len(frame)} usable months in the calibration table (need >= {MIN_ROWS} with "
            "every column present for the month and the month before)"
        )
    y = frame[list(priors.assets)].to_numpy()
    _check_return_units(y, priors.assets)
    z = frame[list(VAR_FACTORS)].to_numpy()
    sd = z.std(axis=0, ddof=1)
    if np.any(sd <= 0):
        raise CalibrationError(
            f"a VAR factor is constant in the sample: sd = {dict(zip(VAR_FACTORS, sd, strict=True))}"
        )
    return ModelData(
        dates=frame.index.to_numpy().astype("datetime64[D]"),
        y=y,
        x=frame[[EXPOSURE_COLUMNS[e] for e in EXPOSURES]].to_numpy(),
        z=z,
        z_lag=lagged[list(VAR_FACTORS)].to_numpy(),
        gap=lagged["policy_rate"].to_numpy() - priors.neutral_rate,
        level_lag=lagged["level"].to_numpy(),
        level_end=float(running.iloc[-1]),
        z_mean=z.mean(axis=0),
        z_sd=sd,
        assets=priors.assets,
        table_hash=stamped_table_hash(table),
        neutral_rate=priors.neutral_rate,
        v=None if ratios is None else ratios.loc[ok, list(priors.assets)].to_numpy(),
        w=None if ratios is None else ratios.loc[ok, "market"].to_numpy(),
        mixing_sd=0.0 if ratios is None else float(mixing_sd),
    )


def _state_rows(
    state: pd.DataFrame, months: pd.DatetimeIndex, assets: tuple[str, ...]
) -> pd.DataFrame:
    """The state's ratios on the table's months (NaN where it has none), checked positive."""
    needed = [*assets, "market"]
    missing = [c for c in needed if c not in state.columns]
    if missing:
        raise CalibrationError(
            f"the volatility state lacks columns {missing}; it needs one per asset and 'market' "
            "(simengine.data.fit_distribution.state_ratios)"
        )
    index = pd.DatetimeIndex(state.index).normalize()
    rows = state[needed].set_axis(index).reindex(months).astype(float)
    known = rows.to_numpy()[np.isfinite(rows.to_numpy())]
    if np.any(known <= 0):
        raise CalibrationError("volatility-state variance ratios must be positive")
    return rows


def _unwrap(table) -> pd.DataFrame:
    """Accept a ``simengine.data.CalibrationTable`` (frame + metadata) or a DataFrame."""
    frame = getattr(table, "frame", table)
    if not isinstance(frame, pd.DataFrame):
        raise CalibrationError(
            f"expected a DataFrame or CalibrationTable, got {type(table).__name__}"
        )
    meta = frame.attrs.get("metadata") or getattr(table, "metadata", None) or {}
    frequency = meta.get("frequency", "monthly") if isinstance(meta, dict) else "monthly"
    if frequency != "monthly":
        raise CalibrationError(
            f"the Bayesian model is monthly; got a {frequency} table. Build it with "
            "build_table(data_dir, frequency='monthly')"
        )
    return frame


def _monthly_frame(table: pd.DataFrame) -> pd.DataFrame:
    frame = table.copy()
    if not isinstance(frame.index, pd.DatetimeIndex | pd.PeriodIndex):
        for col in ("date", "month"):
            if col in frame.columns:
                frame = frame.set_index(col)
                break
    if isinstance(frame.index, pd.PeriodIndex):
        frame.index = frame.index.to_timestamp(how="end")
    try:
        frame.index = pd.DatetimeIndex(frame.index).normalize()
    except (TypeError, ValueError) as err:
        raise CalibrationError(
            f"calibration table needs a monthly date index (or a 'date' column); got index of type "
            f"{type(table.index).__name__}"
        ) from err
    return frame.sort_index()


def _consecutive(index: pd.DatetimeIndex) -> np.ndarray:
    months = index.year * 12 + index.month
    diff = np.diff(np.asarray(months), prepend=-10)
    return diff == 1


def _check_return_units(y: np.ndarray, assets: tuple[str, ...]) -> None:
    sd = y.std(axis=0)
    if np.any(sd > 0.5):
        raise CalibrationError(
            f"asset returns {list(assets)} have monthly sd {np.round(sd, 3).tolist()}: they look like "
            "percent; the table must hold monthly log returns as decimals (0.01 = 1%)"
        )
