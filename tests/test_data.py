"""Tests of simengine.data: loaders on quirky fixtures, the table builder, save/load, CLI."""

from __future__ import annotations

import importlib.util
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from simengine.data import (
    COLUMNS,
    build_table,
    infer_frequency,
    load_table,
    read_fama_french,
    read_fred_csv,
    read_index_csv,
    read_tidy,
    save_table,
    to_period_end,
)
from simengine.data.series import monthly_to_grid
from simengine.exceptions import DataError, OutputExistsError

FIX = Path(__file__).resolve().parent / "fixtures" / "data"
MINI = FIX / "mini"
ROOT = Path(__file__).resolve().parents[1]


# --- loaders ----------------------------------------------------------------------------------


def test_fred_blanks_are_nan_and_name_from_file():
    s = read_fred_csv(FIX / "fred_blanks.csv")
    assert s.name == "fred_blanks"
    assert s.dtype == float and isinstance(s.index, pd.DatetimeIndex)
    assert s.isna().sum() == 2  # blank and '.'
    assert s.loc["2025-07-07"] == 3.90


def test_fred_quarterly_start_dates_move_to_quarter_end():
    s = read_fred_csv(FIX / "fred_quarterly.csv")
    assert infer_frequency(s.index) == "quarterly"
    q = to_period_end(s)
    assert list(q.index.strftime("%Y-%m-%d")) == ["2024-09-30", "2024-12-31", "2025-03-31"]


def test_fred_bad_date_names_line():
    with pytest.raises(DataError, match=r"fred_bad_date.csv:3: cannot parse date '2025-06-31'"):
        read_fred_csv(FIX / "fred_bad_date.csv")


def test_fred_bad_value_names_line():
    with pytest.raises(DataError, match=r":3: value 'n/a\?' .* is not a number"):
        read_fred_csv(FIX / "fred_bad_value.csv")


def test_fred_all_blank_is_empty_error():
    with pytest.raises(DataError, match="no values"):
        read_fred_csv(FIX / "fred_all_blank.csv")


def test_missing_file_error():
    with pytest.raises(DataError, match="not found"):
        read_fred_csv(FIX / "nope.csv")


def test_index_odd_column_order_and_holiday_row():
    df = read_index_csv(FIX / "index_odd_order.csv")
    assert list(df.columns) == ["Open", "High", "Low", "Close", "Volume"]
    assert pd.Timestamp("2024-12-25") not in df.index  # holiday row with blank prices dropped
    assert df.loc["2024-12-27", "Close"] == 103.0 and df.loc["2024-12-27", "Open"] == 104.8


def test_index_missing_columns_lists_existing():
    with pytest.raises(DataError, match=r"missing column\(s\) \['Low'\].*'Date', 'Close'"):
        read_index_csv(FIX / "index_missing_col.csv")


def test_fama_french_both_layouts():
    a = read_fama_french(FIX / "ff_date.csv")
    b = read_fama_french(FIX / "ff_yyyymm.csv")
    assert a.index[-1] == pd.Timestamp("2025-06-30") and a.loc["2025-06-30", "MKT_RF"] == 4.86
    assert list(b.index.strftime("%Y-%m-%d")) == ["2018-10-31", "2018-11-30", "2018-12-31"]
    assert "MKT_RF" in b.columns and math.isnan(b.loc["2018-12-31", "MKT_RF"])  # -99.99 code


def test_tidy_csv_and_parquet(tmp_path):
    df = read_tidy(FIX / "tidy.csv")
    assert list(df.columns) == ["value_b", "value_a"] and math.isnan(df.iloc[1, 0])
    df.to_parquet(tmp_path / "t.parquet")
    back = read_tidy(tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(back, df, check_freq=False)


# --- builder on the synthetic mini folder --------------------------------------------------------


def test_mini_table_hand_computed_values():
    t = build_table(MINI)
    f = t.frame
    assert list(f.columns) == list(COLUMNS)
    assert list(f.index.strftime("%Y-%m")) == ["2024-11", "2024-12", "2025-01"]  # Feb incomplete
    nov, dec, jan = (pd.Timestamp(d) for d in ("2024-11-30", "2024-12-31", "2025-01-31"))
    # stale 2024-12-02 print (= previous close) and the blank holiday row are ignored
    assert f.loc[dec, "small_cap"] == pytest.approx(math.log(99 / 110))
    assert f.loc[nov, "small_cap"] == pytest.approx(math.log(110 / 100))
    assert f.loc[jan, "large_cap"] == pytest.approx(math.log(220 / 205))
    # blank DGS2 on 11-29: last valid in November is 11-15
    assert f["rates"].tolist() == pytest.approx([0.10, 0.15, -0.05])
    # EFFR median of the last five prints before the target range; midpoint after 2024-12-16
    assert f["policy_rate"].tolist() == pytest.approx([4.58, 4.375, 4.375])
    # 2024 blank -> 2023 held; January 2025 change taken within the daily series (5.0 - 2.3)
    assert f["tariff"].tolist() == pytest.approx([2.64, 2.64, 5.0])
    assert f["dtariff"].tolist() == pytest.approx([0.0, 0.0, 2.7])
    raw = [100 * math.log(100 / 101), 100 * math.log(102 / 100), 0.0]
    assert f["growth"].tolist() == pytest.approx([g - np.mean(raw) for g in raw])
    # November CPI has no print: Nov and Dec inflation NaN, never zero
    assert f["inflation"].isna().tolist() == [True, True, False]
    assert f.loc[jan, "inflation"] == pytest.approx(1200 * math.log(304 / 303) - 2)
    # credit: the Saturday 11-30 print is the last valid one of November
    assert f["credit"].tolist() == pytest.approx([-0.15, 0.10, -0.20])


def test_mini_metadata_and_hash():
    t = build_table(MINI)
    m = t.metadata
    assert m["as_of"] == "2025-02-12" and m["end"] == "2025-01-31"
    assert m["incomplete_last_period"] is False
    assert set(m["sources"]) >= {"fred/DGS2.csv", "equity/RUT_index_daily.csv"}
    assert all(len(h) == 64 for h in m["sources"].values())
    assert t.data_hash == m["table_hash"] == t.attrs["table_hash"]


def test_mini_explicit_end_keeps_incomplete_period():
    t = build_table(MINI, end="2025-02")
    assert t.frame.index[-1] == pd.Timestamp("2025-02-28")
    assert t.metadata["incomplete_last_period"] is True
    assert t.frame["small_cap"].iloc[-1] == pytest.approx(math.log(105 / 104.5))


def test_end_after_data_and_bad_frequency():
    with pytest.raises(DataError, match="after the data"):
        build_table(MINI, end="2025-05")
    with pytest.raises(DataError, match="frequency 'daily' is not supported"):
        build_table(MINI, frequency="daily")


def test_missing_source_file(tmp_path):
    shutil.copytree(MINI, tmp_path / "d")
    (tmp_path / "d" / "fred" / "INDPRO.csv").unlink()
    with pytest.raises(DataError, match="INDPRO.csv"):
        build_table(tmp_path / "d")


def test_monthly_to_weekly_forward_fill_keeps_missing_month():
    monthly = pd.Series([1.0, np.nan, 3.0], index=pd.date_range("2025-01-31", periods=3, freq="ME"))
    grid = pd.date_range("2025-01-31", "2025-04-11", freq="W-FRI")
    w = monthly_to_grid(monthly, grid, "weekly")
    assert w.loc["2025-02-07"] == 1.0 and w.loc["2025-03-07"] != w.loc["2025-03-07"]
    assert w.loc["2025-04-04"] == 3.0


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_save_load_roundtrip(tmp_path, suffix):
    t = build_table(MINI)
    path = save_table(t, tmp_path / f"table{suffix}")
    back = load_table(path)
    pd.testing.assert_frame_equal(back.frame, t.frame, check_freq=False)
    assert back.metadata["sources"] == t.metadata["sources"]
    assert back.data_hash == t.data_hash
    with pytest.raises(OutputExistsError):
        save_table(t, path)
    save_table(t, path, overwrite=True)
    assert not list(tmp_path.glob("*.tmp"))


def test_load_detects_tampering(tmp_path):
    path = save_table(build_table(MINI), tmp_path / "table.csv")
    path.write_text(path.read_text().replace("0.1,", "0.2,", 1))
    with pytest.raises(DataError, match="table_hash"):
        load_table(path)


def test_cli_build_and_refuse_overwrite(tmp_path):
    from typer.testing import CliRunner

    # load the module file directly: the cli package __init__ registers every command group
    spec = importlib.util.spec_from_file_location("_cli_data", ROOT / "simengine/cli/data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data_app = module.data_app

    out = tmp_path / "t.parquet"
    runner = CliRunner()
    res = runner.invoke(data_app, ["build", str(MINI), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "3 rows" in res.output and "policy_rate" in res.output
    res = runner.invoke(data_app, ["build", str(MINI), "--out", str(out)])
    assert res.exit_code == 2
    res = runner.invoke(data_app, ["build", str(MINI), "--out", str(out), "--force"])
    assert res.exit_code == 0


# --- real data ------------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_real_table_june_2025(shared_data):
    t = build_table(shared_data)
    f = t.frame
    assert f.index[-1] == pd.Timestamp("2025-06-30")  # July (data to the 16th) dropped
    jun = f.loc["2025-06-30"]
    # RUT closes 2066.29 (2025-05-30) and 2175.04 (2025-06-30); DGS2 3.89 -> 3.72
    assert jun["small_cap"] == pytest.approx(math.log(2175.0400390625 / 2066.2900390625))
    assert jun["large_cap"] == pytest.approx(math.log(22679.009765625 / 21340.990234375))
    assert jun["rates"] == pytest.approx(-0.17)
    assert jun["policy_rate"] == pytest.approx(4.375)
    assert jun["inflation"] == pytest.approx(1200 * math.log(327.6 / 326.854) - 2)
    # HY OAS: the Saturday 2025-05-31 print 3.32 is May's last value; June ends at 2.96
    assert jun["credit"] == pytest.approx(-0.36)
    assert jun["tariff"] == pytest.approx(15.288391550141931)
    window = f.loc["1997-01":"2025-06"]
    assert not window.isna().any().any()


@pytest.mark.shared_data
def test_real_table_weekly(shared_data):
    t = build_table(shared_data, frequency="weekly")
    assert t.frame.index[-1] == pd.Timestamp("2025-07-11")  # week of 07-16 incomplete
    assert (t.frame.index.day_of_week == 4).all()
    assert "growth" in t.metadata["forward_filled"]
    assert not t.frame.loc["1997-01-10":"2025-06"].isna().any().any()


def test_default_model_file_has_contract_keys():
    path = ROOT / "simengine" / "models" / "default.yaml"
    d = yaml.safe_load(path.read_text())
    assert d["format"] == "simengine-model/1"
    for key in ("name", "provenance", "neutral_rate", "dynamics", "assets", "residuals", "squeeze"):
        assert key in d
    dyn = d["dynamics"]
    factors = ("rates", "growth", "inflation", "credit")
    for key in ("const", "innovation_sd", "policy_gap", "surprise_pass_through"):
        assert set(dyn[key]) == set(factors)
    assert set(dyn["tariff_pass_through"]) == set(factors)
    a = np.array([[dyn["ar"][r].get(c, 0.0) for c in factors] for r in factors])
    assert np.max(np.abs(np.linalg.eigvals(a))) < 1
    assert dyn["innovation_dof"] > 2
    for name, level in (("small_cap", 2226.99), ("large_cap", 22907.97)):
        asset = d["assets"][name]
        assert asset["start_level"] == level and asset["label"] and asset["index"]
        assert set(asset["beta"]) == {"rates", "tariff", "growth", "inflation", "credit"}
        assert asset["sigma"] > 0
    assert d["assets"]["small_cap"]["kappa"] > d["assets"]["large_cap"]["kappa"] > 0
    assert set(d["squeeze"]) == {
        "base_intensity",
        "normal_short_interest_bn",
        "elasticity",
        "jump_mean",
        "jump_sd",
        "compensated",
    }
    assert d["squeeze"]["compensated"] is True  # squeezes add tail, not drift
    assert dyn["error_correction"]["credit"] < 0 and dyn["policy_gap"]["credit"] == 0.0
    assert 0 < d["residuals"]["vol_state"]["mixing_sd"] < 1
    assert set(d["residuals"]["vol_state"]["per_asset"]) == {"small_cap", "large_cap"}
    prov = d["provenance"]
    for a in ("small_cap", "large_cap"):  # mu is the shrunk drift, with its prior documented
        drift = prov["drift"][a]
        w = drift["shrinkage_weight"]
        expected = w * drift["prior_centre"] + (1 - w) * drift["muhat"]
        assert abs(d["assets"][a]["mu"] - expected) < 1e-3
    assert "Goyal & Welch" in prov["drift"]["source"]
    assert prov["script"] == "scripts/fit_default_model.py" and prov["data_files"]
