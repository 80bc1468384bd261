"""Simulation results over xarray: summaries a risk manager expects, comparisons, saving.

A result wraps an :class:`xarray.Dataset` of exact streaming statistics (see
``docs/architecture.md``, "Result dataset"), stamped with the spec hashes, seed, model and
posterior hashes and the package version. It is immutable: accessors return copies.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from simengine import statistics, xarray_dask
from simengine.exceptions import (
    NumericalError,
    ResultVerificationError,
    SimengineError,
    TimeStepError,
)
from simengine.guards import memory_limit_mb
from simengine.io import atomic_write, check_netcdf_size, dataset_hash, write_netcdf
from simengine.statistics import FORMAT, QUANTILES, Accumulators, Layout, Statistic
from simengine.statistics.factors import FactorMeans
from simengine.statistics.histograms import Quantiles

xarray_dask.install()

__all__ = [
    "DIFFERENCE_COLUMNS",
    "QUANTILES",
    "SUMMARY_COLUMNS",
    "Comparison",
    "SimulationResult",
    "build_dataset",
    "load_result",
]

#: What ``summary()`` shows by default (``summary(wide=True)``: every statistic).
SUMMARY_COLUMNS: tuple[str, ...] = ("median", "q05", "q95", "prob_loss", "mean")
#: What ``difference_summary()`` shows by default.
DIFFERENCE_COLUMNS: tuple[str, ...] = ("median", "q05", "q95", "prob_positive")


def build_dataset(
    accs: Sequence[Accumulators],
    *,
    scenario_names: Sequence[str],
    dates: np.ndarray,
    attrs: dict[str, Any],
    extra: dict[str, tuple] | None = None,
) -> xr.Dataset:
    """The result dataset of per-scenario accumulators (:func:`statistics.build_dataset`),
    stamped with its content hash.

    ``extra``: further variables ``name -> (dims, values)``, e.g. the channel attribution
    ``("scenario", "series", "channel")`` (coordinate ``channel``: :data:`simengine.
    attribution.CHANNELS`).
    """
    ds = statistics.build_dataset(accs, scenario_names=scenario_names, dates=dates, attrs=attrs)
    if extra:
        coords = {}
        if "attribution" in extra:
            from simengine.attribution import CHANNELS

            coords["channel"] = list(CHANNELS)
        ds = ds.assign(extra).assign_coords(coords)
    ds.attrs["content_hash"] = content_hash(ds)
    return ds


def content_hash(ds: xr.Dataset) -> str:
    """sha256 over every variable's values and the stamps (:func:`simengine.io.dataset_hash`)."""
    return dataset_hash(ds)


class SimulationResult:
    """Distribution of scenario returns, backed by an xarray Dataset.

    Returns are simple cumulative returns from the start date (``exp(sum r) - 1``); ``pair`` is
    the P&L of $1 long ``large_cap`` and $1 short ``small_cap``.
    """

    def __init__(self, dataset: xr.Dataset) -> None:
        self._ds = dataset

    @property
    def dataset(self) -> xr.Dataset:
        """A copy of the underlying dataset."""
        return self._ds.copy(deep=True)

    @property
    def scenarios(self) -> tuple[str, ...]:
        return tuple(self._ds["scenario"].values.tolist())

    @property
    def series(self) -> tuple[str, ...]:
        return tuple(self._ds["series"].values.tolist())

    @property
    def statistics(self) -> tuple[Statistic, ...]:
        """The statistics this result holds (read back from its layout)."""
        return statistics.default_statistics(Layout.from_dataset(self._ds))

    @property
    def attrs(self) -> dict[str, Any]:
        return dict(self._ds.attrs)

    @property
    def plot(self):
        """Plots of this result (``res.plot.fan()``, ``cmp.plot.difference()``; matplotlib)."""
        from simengine.plotting import PlotAccessor

        return PlotAccessor(self)

    @property
    def specs(self) -> dict[str, dict[str, Any]]:
        """The resolved scenario specs (as plain dicts), by scenario name."""
        return json.loads(self._ds.attrs.get("specs", "{}"))

    def __repr__(self) -> str:
        from simengine.display import result_text

        return result_text(self)

    def _repr_html_(self) -> str:
        from simengine.display import result_html

        return result_html(self)

    def terminal_returns(self) -> pd.DataFrame:
        """Every path's cumulative return to the horizon, for custom payoffs.

        Kept only when the run asked for it: ``simulate(..., keep_terminal=True)`` (at most
        :data:`simengine.api.MAX_KEPT_PATHS` paths per scenario). Path ``i`` is the same draw
        of shocks (and parameters) in every scenario of a comparison.

        Returns
        -------
        DataFrame
            Index ``(scenario, path)``, one column per series (simple returns, fractions).

        Raises
        ------
        SimulationError
            When the run did not keep them.
        """
        if "terminal_returns" not in self._ds:
            from simengine.exceptions import SimulationError

            raise SimulationError(
                "this result kept no per-path returns: run simulate(..., keep_terminal=True) "
                "(or compare(...)) for up to 2,000,000 paths per scenario"
            )
        da = self._ds["terminal_returns"]
        frame = da.transpose("scenario", "path", "series").to_series().unstack("series")
        return frame[list(self.series)]

    def summary(self, time: int | str | None = None, *, wide: bool = False) -> pd.DataFrame:
        """Statistics of the cumulative return per scenario and series, at the horizon (or step ``time``).

        Parameters
        ----------
        time : int or str, optional
            A step index or a step's end date (``"2025-10-31"``); a date that is not a step end
            raises :class:`~simengine.exceptions.TimeStepError` naming the nearest ones.
        wide : bool
            False (default): the columns of :data:`SUMMARY_COLUMNS`, ``median, q05, q95,
            prob_loss, mean`` (fractions: 0.031 is +3.1%), which fit a terminal and are what
            ``repr(result)`` shows in %. True: every statistic, ``mean, median, std``, quantiles
            ``q01 .. q99`` (the 50% one is ``median``), ``var_95, var_99`` (loss at the 5% / 1% quantile, positive = loss),
            ``es_95, es_99`` (expected shortfall, positive = loss), ``prob_loss``,
            ``prob_small_beats_large``, ``prob_squeeze`` (the same in every series of a
            scenario), ``max_drawdown_median``, ``max_drawdown_p95``, ``param_var_share``
            (share of variance from parameter uncertainty, 0 for point parameters).

        Notes
        -----
        Index levels: :meth:`levels`. At another step than the horizon the quantiles come from
        the coarser per-step histograms and the tail measures are not reported.
        """
        t = self._time_index(time)
        terminal = t == self._ds.sizes["time"] - 1
        frame = self._frame(statistics.summary_columns(self.statistics, self._ds, t, terminal))
        return frame if wide else frame[[c for c in SUMMARY_COLUMNS if c in frame.columns]]

    def _frame(self, cols: dict[str, np.ndarray]) -> pd.DataFrame:
        for name, value in cols.items():
            if not np.all(np.isfinite(value)):
                raise NumericalError(
                    f"summary column {name!r} has NaN/inf: the run produced no usable paths"
                )
        idx = pd.MultiIndex.from_product(
            [self.scenarios, self.series], names=["scenario", "series"]
        )
        return pd.DataFrame(
            {k: np.asarray(v, dtype=np.float64).ravel() for k, v in cols.items()}, index=idx
        )

    def levels(self, time: int | str | None = None) -> pd.DataFrame:
        """Index levels implied by the return distribution, for assets with a starting level.

        Columns ``start_level`` (the scenario's, e.g. 2,226.99 for the Russell 2000 on
        2025-07-16), then ``mean, q05, q25, median, q75, q95`` of the level at the step.
        """
        levels = json.loads(self._ds.attrs.get("start_levels", "{}"))
        summary = self.summary(time, wide=True)
        rows = summary[summary.index.get_level_values("series").isin(list(levels))]
        start = np.array([levels[s] for s in rows.index.get_level_values("series")])
        out = pd.DataFrame({"start_level": start}, index=rows.index)
        for col in ("mean", "q05", "q25", "median", "q75", "q95"):
            out[col] = start * (1.0 + rows[col].to_numpy())
        return out

    def _time_index(self, time: int | str | None) -> int:
        T = self._ds.sizes["time"]
        if time is None:
            return T - 1
        if isinstance(time, int):
            if not -T <= time < T:
                raise TimeStepError(f"time step {time} outside 0..{T - 1}")
            return time % T
        dates = self._ds["time"].values.astype("datetime64[D]")
        day = np.datetime64(time, "D")
        idx = int(np.searchsorted(dates, day))
        if idx >= T:
            raise TimeStepError(f"{time} is after the horizon {dates[-1]}")
        if dates[idx] != day:
            before = f"{dates[idx - 1]} or " if idx > 0 else ""
            raise TimeStepError(
                f"{time} is not the end of a step; the nearest step ends are {before}"
                f"{dates[idx]} (steps end on {', '.join(map(str, dates[:4]))}"
                f"{', ...' if T > 4 else ''})"
            )
        return idx

    def quantile_paths(
        self, quantiles: Sequence[float] = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
    ) -> xr.DataArray:
        """Quantiles of cumulative returns at every step (for fan charts), dims (scenario, series, time, quantile)."""
        q = Quantiles.paths(self._ds, quantiles)
        return xr.DataArray(
            q,
            dims=("scenario", "series", "time", "quantile"),
            coords={
                "scenario": list(self.scenarios),
                "series": list(self.series),
                "time": self._ds["time"].values,
                "quantile": list(quantiles),
            },
            name="cumulative_return",
        )

    @property
    def has_jump_means(self) -> bool:
        return "jump_mean" in self._ds

    def jump_means(self) -> pd.DataFrame:
        """How much of each scenario's mean return comes from squeeze jumps (index: scenario,
        columns: series): the mean minus the mean of the same paths with the jumps off
        (:func:`simengine.attribution.jump_means`). 0 for scenarios without jumps; empty when
        no scenario of the run simulated them."""
        if not self.has_jump_means:
            return pd.DataFrame()
        da = self._ds["jump_mean"]
        return pd.DataFrame(da.values, index=list(self.scenarios), columns=list(self.series))

    def factor_mean(self) -> xr.DataArray:
        """Mean factor paths, dims (scenario, time, factor)."""
        return FactorMeans.mean(self._ds)

    def to_netcdf(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the full result to NetCDF atomically; refuses to overwrite unless asked."""
        return write_netcdf(path, {"": self._ds}, overwrite=overwrite)

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the full result atomically: compact ``.npz`` (one write) or NetCDF (``.nc``).

        See :mod:`simengine.resultfile`; :func:`load_result` reads and verifies both.
        """
        from simengine.resultfile import is_compact, write_compact

        path = Path(path)
        if not is_compact(path):
            return self.to_netcdf(path, overwrite=overwrite)
        with atomic_write(path, overwrite=overwrite) as tmp:
            write_compact(self._ds, tmp)
        return path

    def write_summary(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write :meth:`summary` as CSV or Parquet (by extension), atomically."""
        path = Path(path)
        frame = self.summary(wide=True).reset_index()
        for k in ("seed", "spec_hashes", "model_hash", "posterior_hash", "simengine_version"):
            frame[k] = str(self._ds.attrs.get(k, ""))
        with atomic_write(path, overwrite=overwrite) as tmp:
            if path.suffix == ".parquet":
                frame.to_parquet(tmp, index=False)
            else:
                frame.to_csv(tmp, index=False)
        return path


class Comparison(SimulationResult):
    """Several scenarios on common random numbers; the first is the reference."""

    @property
    def reference(self) -> str:
        return self.scenarios[0]

    def difference_summary(self, *, wide: bool = False) -> pd.DataFrame:
        """Distribution of the path-by-path terminal difference ``scenario - reference``.

        Parameters
        ----------
        wide : bool
            False (default): :data:`DIFFERENCE_COLUMNS`, ``median, q05, q95, prob_positive``
            (share of paths where the scenario ends higher than the reference on the same
            shocks). True: ``reference`` (its name), ``mean, std, q05, q25, median, q75,
            q95, prob_positive``.
        """
        ds = self._ds.isel(scenario=slice(1, None))
        cols = statistics.difference_columns(self.statistics, ds)
        idx = pd.MultiIndex.from_product(
            [list(self.scenarios[1:]), list(self.series)], names=["scenario", "series"]
        )
        frame = pd.DataFrame({k: np.asarray(v).ravel() for k, v in cols.items()}, index=idx)
        if not wide:
            return frame[[c for c in DIFFERENCE_COLUMNS if c in frame.columns]]
        frame.insert(0, "reference", self.reference)
        return frame

    @property
    def has_attribution(self) -> bool:
        return "attribution" in self._ds

    def attribution(self) -> pd.DataFrame:
        """Mean difference from the reference split into channels, per scenario and series.

        Columns: the channels of :data:`simengine.attribution.CHANNELS` (in the order they
        were switched off, then ``residual``) and ``total`` (their sum, the mean difference of
        :meth:`difference_summary`). Empty when the comparison was run without attribution.
        """
        if not self.has_attribution:
            return pd.DataFrame()
        da = self._ds["attribution"].isel(scenario=slice(1, None))
        idx = pd.MultiIndex.from_product(
            [list(self.scenarios[1:]), list(self.series)], names=["scenario", "series"]
        )
        values = da.values.reshape(-1, da.sizes["channel"])
        frame = pd.DataFrame(values, index=idx, columns=list(da["channel"].values))
        frame["total"] = values.sum(axis=1)
        return frame


def load_result(path: str | Path) -> SimulationResult:
    """Load a saved result (NetCDF or compact ``.npz``) and verify its content hash."""
    from simengine.resultfile import check_compact_size, is_compact, read_compact

    path = Path(path)
    if not path.exists():
        raise ResultVerificationError(f"no result file at {path}")
    try:
        if is_compact(path):
            check_compact_size(path, memory_limit_mb())
            ds = read_compact(path)
        else:
            check_netcdf_size(path, "result file", memory_limit_mb())
            ds = xr.load_dataset(path, engine="h5netcdf")
    except SimengineError as err:
        raise ResultVerificationError(str(err)) from None
    except Exception as err:  # corrupted header or metadata: KeyError, MemoryError, ...
        raise ResultVerificationError(
            f"{path} is not a readable simengine result ({type(err).__name__}: {err})"
        ) from None
    if ds.attrs.get("format") != FORMAT:
        raise ResultVerificationError(
            f"{path} is not a simengine result (format {ds.attrs.get('format')!r})"
        )
    expected = ds.attrs.pop("content_hash", None)
    actual = content_hash(ds)
    ds.attrs["content_hash"] = expected
    if expected != actual:
        raise ResultVerificationError(
            f"{path} failed verification: content hash {actual[:12]} != recorded {str(expected)[:12]}"
        )
    return (Comparison if ds.sizes["scenario"] > 1 else SimulationResult)(ds)


def now_iso() -> str:
    """Current UTC time, ISO format (result stamps)."""
    return datetime.now(UTC).isoformat(timespec="seconds")
