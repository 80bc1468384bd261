"""Simulation results over xarray: summaries a risk manager expects, comparisons, saving.

A result wraps an :class:`xarray.Dataset` of exact streaming statistics (see
``docs/architecture.md``, "Result dataset"), stamped with the spec hashes, seed, model and
posterior hashes and the package version. It is immutable: accessors return copies.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from simengine import stats
from simengine.exceptions import NumericalError, ResultVerificationError
from simengine.io import atomic_write
from simengine.simulate import FACTOR_NAMES, ChunkStats

__all__ = ["QUANTILES", "Comparison", "SimulationResult", "build_dataset", "load_result"]

QUANTILES: tuple[float, ...] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
FORMAT = "simengine-result/1"


def _stack(accs: Sequence[ChunkStats], name: str) -> np.ndarray:
    return np.stack([getattr(a, name) for a in accs])


def build_dataset(
    accs: Sequence[ChunkStats],
    samples: Sequence[tuple[np.ndarray, ...]],
    *,
    scenario_names: Sequence[str],
    series: Sequence[str],
    dates: np.ndarray,
    attrs: dict[str, Any],
    extra: dict[str, tuple] | None = None,
) -> xr.Dataset:
    """Assemble the result dataset from per-scenario accumulators and kept sample paths.

    ``extra``: further variables ``name -> (dims, values)``, e.g. the channel attribution
    ``("scenario", "series", "channel")`` (coordinate ``channel``: :data:`simengine.
    attribution.CHANNELS`).
    """
    S = ("scenario", "series")
    n_sample = samples[0][0].shape[0]
    data = {
        "n_paths": (("scenario",), np.array([a.n for a in accs], np.int64)),
        "hist_count": ((*S, "time", "cbin"), _stack(accs, "hist_count")),
        "term_count": ((*S, "bin"), _stack(accs, "term_count")),
        "term_sum": ((*S, "bin"), _stack(accs, "term_sum")),
        "drawdown_count": ((*S, "bin"), _stack(accs, "dd_count")),
        "loss_count": ((*S, "time"), _stack(accs, "loss_count")),
        "sum": ((*S, "time"), _stack(accs, "sum")),
        "sum_sq": ((*S, "time"), _stack(accs, "sum_sq")),
        "small_beats_large": (("scenario", "time"), _stack(accs, "small_beats_large")),
        "squeeze_any": (("scenario",), _stack(accs, "squeeze_any")),
        "factor_sum": (("scenario", "time", "factor"), _stack(accs, "factor_sum")),
        "diff_count": ((*S, "bin"), _stack(accs, "diff_count")),
        "diff_sum": ((*S, "bin"), _stack(accs, "diff_sum")),
        "diff_pos": (S, _stack(accs, "diff_pos")),
        "diff_block_n": (("scenario", "block"), _stack(accs, "diff_block_n")),
        "diff_block_mean": (("scenario", "block", "series"), _stack(accs, "diff_block_mean")),
        "diff_block_m2": (("scenario", "block", "series"), _stack(accs, "diff_block_m2")),
        "draw_count": (("scenario", "draw"), _stack(accs, "draw_count")),
        "draw_sum": (("scenario", "draw", "series"), _stack(accs, "draw_sum")),
        "draw_sq": (("scenario", "draw", "series"), _stack(accs, "draw_sq")),
        "sample_returns": (
            ("scenario", "sample", "time", "series"),
            np.stack([s[0] for s in samples]),
        ),
        "sample_factors": (
            ("scenario", "sample", "time", "factor"),
            np.stack([s[1] for s in samples]),
        ),
        "sample_draw": (("scenario", "sample"), np.stack([s[2] for s in samples]).astype(np.int64)),
        **(extra or {}),
    }
    coords = {
        "scenario": list(scenario_names),
        "series": list(series),
        "time": dates.astype("datetime64[ns]"),
        "factor": list(FACTOR_NAMES),
        "sample": np.arange(n_sample),
        "bin_edge": stats.FINE.edges,
        "cbin_edge": stats.COARSE.edges,
    }
    if extra and "attribution" in extra:
        from simengine.attribution import CHANNELS

        coords["channel"] = list(CHANNELS)
    ds = xr.Dataset(data, coords=coords, attrs={"format": FORMAT, **attrs})
    ds.attrs["content_hash"] = content_hash(ds)
    return ds


def content_hash(ds: xr.Dataset) -> str:
    """sha256 over every variable's values and the stamps (attributes), in name order."""
    h = hashlib.sha256()
    for name in sorted(map(str, ds.variables)):
        values = ds[name].values
        h.update(name.encode())
        if values.dtype.kind in "OUS":
            h.update("\x1f".join(map(str, values.ravel().tolist())).encode())
        else:
            h.update(np.ascontiguousarray(values).tobytes())
    stamps = {k: str(v) for k, v in ds.attrs.items() if k != "content_hash"}
    h.update(json.dumps(stamps, sort_keys=True).encode())
    return h.hexdigest()


def _moments(ds: xr.Dataset, t: int) -> tuple[np.ndarray, np.ndarray]:
    n = ds["n_paths"].values[:, None].astype(np.float64)
    mean = ds["sum"].values[..., t] / float(2**stats.Q_SUM) / n
    ex2 = ds["sum_sq"].values[..., t] / float(2**stats.Q_SQ) / n
    var = np.maximum(ex2 - mean**2, 0.0) * n / np.maximum(n - 1.0, 1.0)
    return mean, np.sqrt(var)


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
        n = int(self._ds["n_paths"].values[0])
        return f"<{type(self).__name__} scenarios={list(self.scenarios)} paths={n} seed={self._ds.attrs.get('seed')}>"

    def summary(self, time: int | str | None = None) -> pd.DataFrame:
        """Statistics per scenario and series at the horizon (or at step ``time``).

        Columns: ``mean, median, std``, quantiles ``q01 .. q99``, ``var_95, var_99`` (loss at the
        5% / 1% quantile, positive = loss), ``es_95, es_99`` (expected shortfall, positive = loss),
        ``prob_loss``, ``prob_small_beats_large``, ``prob_squeeze``, ``max_drawdown_median``,
        ``max_drawdown_p95``, ``param_var_share`` (share of variance from parameter uncertainty,
        0 for point parameters). Index levels: :meth:`levels`. At another step than the horizon the quantiles come from the
        coarser per-step histograms and the tail measures are not reported.
        """
        t = self._time_index(time)
        terminal = t == self._ds.sizes["time"] - 1
        ds = self._ds
        n = ds["n_paths"].values.astype(np.float64)
        mean, std = _moments(ds, t)
        if terminal:
            q = stats.quantile_from_hist(
                ds["term_count"].values, stats.FINE, np.array(QUANTILES), ds["term_sum"].values
            )
        else:
            q = stats.quantile_from_hist(
                ds["hist_count"].values[:, :, t], stats.COARSE, np.array(QUANTILES)
            )
        cols: dict[str, np.ndarray] = {"mean": mean, "median": q[..., 3], "std": std}
        cols |= {f"q{int(round(p * 100)):02d}": q[..., i] for i, p in enumerate(QUANTILES)}
        if terminal:
            cols |= self._tails()
        cols["prob_loss"] = ds["loss_count"].values[..., t] / n[:, None]
        beats = ds["small_beats_large"].values[:, t] / n
        cols["prob_small_beats_large"] = np.repeat(beats[:, None], len(self.series), axis=1)
        cols["prob_squeeze"] = np.repeat(
            (ds["squeeze_any"].values / n)[:, None], len(self.series), axis=1
        )
        if terminal:
            dd = stats.quantile_from_hist(
                ds["drawdown_count"].values, stats.FINE, np.array([0.5, 0.95])
            )
            cols["max_drawdown_median"], cols["max_drawdown_p95"] = dd[..., 0], dd[..., 1]
            cols["param_var_share"] = self._param_share()
        return self._frame(cols)

    def _tails(self) -> dict[str, np.ndarray]:
        counts, sums = self._ds["term_count"].values, self._ds["term_sum"].values
        q = stats.quantile_from_hist(counts, stats.FINE, np.array([0.05, 0.01]), sums)
        return {
            "var_95": -q[..., 0],
            "var_99": -q[..., 1],
            "es_95": -stats.es_from_hist(counts, sums, stats.FINE, 0.05),
            "es_99": -stats.es_from_hist(counts, sums, stats.FINE, 0.01),
        }

    def _param_share(self) -> np.ndarray:
        """Share of terminal-return variance due to parameter uncertainty (law of total variance).

        ``Var R = E_theta Var(R | theta) + Var_theta E(R | theta)``; the between-draw term is
        estimated from per-draw means and corrected for their Monte Carlo noise.
        """
        ds = self._ds
        cnt = ds["draw_count"].values.astype(np.float64)[..., None]  # (sc, D, 1)
        if cnt.shape[1] < 2:
            return np.zeros((len(self.scenarios), len(self.series)))
        used = cnt > 1
        m = np.divide(
            ds["draw_sum"].values / float(2**stats.Q_SUM),
            cnt,
            out=np.zeros(cnt.shape[:2] + (len(self.series),)),
            where=used,
        )
        ex2 = np.divide(
            ds["draw_sq"].values / float(2**stats.Q_SQ), cnt, out=np.zeros_like(m), where=used
        )
        within = np.maximum(ex2 - m**2, 0.0) * cnt / np.maximum(cnt - 1.0, 1.0)
        w = cnt / cnt.sum(axis=1, keepdims=True)
        grand = (w * m).sum(axis=1, keepdims=True)
        between = (w * (m - grand) ** 2).sum(axis=1) - (w * within / np.maximum(cnt, 1.0)).sum(
            axis=1
        )
        total = between + (w * within).sum(axis=1)
        return np.clip(
            np.divide(between, total, out=np.zeros_like(total), where=total > 0), 0.0, 1.0
        )

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
        summary = self.summary(time)
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
                raise IndexError(f"time step {time} outside 0..{T - 1}")
            return time % T
        dates = self._ds["time"].values.astype("datetime64[D]")
        idx = int(np.searchsorted(dates, np.datetime64(time, "D")))
        if idx >= T:
            raise IndexError(f"{time} is after the horizon {dates[-1]}")
        return idx

    def quantile_paths(
        self, quantiles: Sequence[float] = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
    ) -> xr.DataArray:
        """Quantiles of cumulative returns at every step (for fan charts), dims (scenario, series, time, quantile)."""
        q = stats.quantile_from_hist(
            self._ds["hist_count"].values, stats.COARSE, np.asarray(quantiles)
        )
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

    def factor_mean(self) -> xr.DataArray:
        """Mean factor paths, dims (scenario, time, factor)."""
        n = self._ds["n_paths"].values.astype(np.float64)[:, None, None]
        return (self._ds["factor_sum"] / float(2**stats.Q_SUM) / n).rename("factor_mean")

    def to_netcdf(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the full result to NetCDF atomically; refuses to overwrite unless asked."""
        path = Path(path)
        with atomic_write(path, overwrite=overwrite) as tmp:
            self._ds.to_netcdf(tmp, engine="h5netcdf")
        return path

    def write_summary(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write :meth:`summary` as CSV or Parquet (by extension), atomically."""
        path = Path(path)
        frame = self.summary().reset_index()
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

    def difference_summary(self) -> pd.DataFrame:
        """Distribution of the path-by-path terminal difference ``scenario - reference``.

        Columns: ``mean, std, q05, q25, median, q75, q95, prob_positive`` (share of paths where the
        scenario ends higher than the reference on the same shocks).
        """
        ds = self._ds.isel(scenario=slice(1, None))
        n = ds["n_paths"].values.astype(np.float64)[:, None]
        bn = ds["diff_block_n"].values.astype(np.float64)[..., None]  # (sc, B, 1)
        bmean, bm2 = ds["diff_block_mean"].values, ds["diff_block_m2"].values
        mean = (bn * bmean).sum(axis=1) / n
        m2 = (bm2 + bn * (bmean - mean[:, None, :]) ** 2).sum(axis=1)
        std = np.sqrt(m2 / np.maximum(n - 1.0, 1.0))
        q = stats.quantile_from_hist(
            ds["diff_count"].values,
            stats.FINE,
            np.array([0.05, 0.25, 0.5, 0.75, 0.95]),
            ds["diff_sum"].values,
        )
        cols = {"mean": mean, "std": std, "q05": q[..., 0], "q25": q[..., 1], "median": q[..., 2]}
        cols |= {"q75": q[..., 3], "q95": q[..., 4], "prob_positive": ds["diff_pos"].values / n}
        idx = pd.MultiIndex.from_product(
            [list(self.scenarios[1:]), list(self.series)], names=["scenario", "series"]
        )
        frame = pd.DataFrame({k: np.asarray(v).ravel() for k, v in cols.items()}, index=idx)
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
    """Load a saved result and verify its content hash."""
    path = Path(path)
    if not path.exists():
        raise ResultVerificationError(f"no result file at {path}")
    try:
        ds = xr.load_dataset(path, engine="h5netcdf")
    except (OSError, ValueError) as err:
        raise ResultVerificationError(f"{path} is not a readable simengine result: {err}") from None
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
