"""Backtest of the baseline forecast against history (PIT, coverage, CRPS vs a random walk).

>>> from simengine.backtest import BacktestConfig, run_backtest, summarise   # doctest: +SKIP
>>> forecasts = run_backtest(build_table("../shared/data").frame, BacktestConfig())  # doctest: +SKIP
>>> summarise(forecasts)                                                    # doctest: +SKIP
"""

from simengine.backtest.core import (
    ASSETS,
    BacktestConfig,
    fit_params,
    forecast_origin,
    history,
    origins,
    run_backtest,
)
from simengine.backtest.scores import LEVELS, crps_normal, crps_samples
from simengine.backtest.summary import (
    diebold_mariano,
    hac_se,
    plot_pit,
    save_backtest,
    summarise,
    summary_json,
)

__all__ = [
    "ASSETS",
    "LEVELS",
    "BacktestConfig",
    "crps_normal",
    "crps_samples",
    "diebold_mariano",
    "fit_params",
    "forecast_origin",
    "hac_se",
    "history",
    "origins",
    "plot_pit",
    "run_backtest",
    "save_backtest",
    "summarise",
    "summary_json",
]
