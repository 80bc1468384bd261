"""The packaged scenario library: list, copy, ``extends:`` by library name, data checks."""

from __future__ import annotations

import pytest

from simengine.data.check import LAYOUT, check_data_folder, read_data_folder
from simengine.data.table import SOURCES
from simengine.exceptions import DataError, OutputExistsError, SpecError
from simengine.spec import load_scenario, load_scenario_text
from simengine.spec.library import copy_scenario, library_dir, library_file, list_library
from tests.conftest import ROOT, SCENARIOS
from tests.test_cli import cli

INDEX_ROLES = {"small_cap", "large_cap"}


def test_library_is_the_top_level_scenarios_folder():
    assert library_dir().resolve() == SCENARIOS.resolve()
    keys = {e.key for e in list_library()}
    on_disk = {p.stem for p in SCENARIOS.glob("*.yaml")}
    on_disk |= {f"sweeps/{p.stem}" for p in (SCENARIOS / "sweeps").glob("*.yaml")}
    assert keys == on_disk
    assert all(e.description for e in list_library())


def test_library_name_finds_file_stem_and_scenario_name():
    assert library_file("fed_cut_september") == library_file("fed-cut-september")
    assert library_file("fed_cut_september").name == "fed_cut_september.yaml"
    assert library_file("no_such_scenario") is None


def test_extends_a_library_name_from_anywhere(tmp_path):
    spec = load_scenario_text(
        "extends: base_2025h2\nname: mine\n", source=str(tmp_path / "mine.yaml")
    )
    base = load_scenario(SCENARIOS / "base_2025h2.yaml")
    assert spec.market_pricing == base.market_pricing
    assert spec.tariffs == base.tariffs


def test_a_local_file_wins_over_the_library(tmp_path):
    text = (SCENARIOS / "base_2025h2.yaml").read_text().replace("seed: 20250716", "seed: 7")
    (tmp_path / "base_2025h2").write_text(text)
    spec = load_scenario_text("extends: base_2025h2\nname: mine\n", base_dir=tmp_path)
    assert spec.seed == 7


def test_unknown_library_name_says_where_it_looked(tmp_path):
    with pytest.raises(SpecError) as err:
        load_scenario_text("extends: base_2099\nname: mine\n", base_dir=tmp_path)
    assert "scenarios list" in str(err.value)


def test_copy_gives_files_that_run_as_they_are(tmp_path, monkeypatch):
    written = copy_scenario("fed_cut_september", tmp_path)
    assert [p.name for p in written] == ["fed_cut_september.yaml", "base_2025h2.yaml"]
    copied = load_scenario(written[0])
    original = load_scenario(SCENARIOS / "fed_cut_september.yaml")
    assert copied.spec_hash() == original.spec_hash()
    # a sweep lands in sweeps/ with its base one level up, as in the library
    sweep = copy_scenario("sweeps/tariff_growth", tmp_path)
    assert sweep[0] == tmp_path / "sweeps" / "tariff_growth.yaml"
    from simengine.spec.sweep import expand_sweep

    monkeypatch.chdir(tmp_path)  # run from the copy's folder: ../base_2025h2.yaml is inside it
    assert len(list(expand_sweep(sweep[0]))) == 9


def test_copy_refuses_to_overwrite_an_edited_file(tmp_path):
    copy_scenario("fed_no_cut", tmp_path)
    (tmp_path / "base_2025h2.yaml").write_text("name: edited\n")
    with pytest.raises(OutputExistsError):
        copy_scenario("fed_cut_october", tmp_path)
    assert not (tmp_path / "fed_cut_october.yaml").exists()  # nothing half-copied
    copy_scenario("fed_cut_october", tmp_path, overwrite=True)
    assert load_scenario(tmp_path / "fed_cut_october.yaml").name == "fed-cut-october"


def test_copy_unknown_name_suggests_one(tmp_path):
    with pytest.raises(SpecError, match="fed_cut_september"):
        copy_scenario("fed_cut_septmber", tmp_path)


def test_cli_scenarios_list_and_copy(tmp_path):
    listed = cli("scenarios", "list")
    assert listed.returncode == 0, listed.stderr
    for entry in list_library():
        assert entry.key in listed.stdout
    copied = cli("scenarios", "copy", "fed_cut_september", str(tmp_path))
    assert copied.returncode == 0, copied.stderr
    ran = cli("run", "fed_cut_september.yaml", "--paths", "4096", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    # a second scenario shares the base: the identical copy is left alone and said so
    again = cli("scenarios", "copy", "fed_cut_october", str(tmp_path))
    assert again.returncode == 0, again.stderr
    assert f"wrote {tmp_path / 'fed_cut_october.yaml'}" in again.stderr
    assert f"already there {tmp_path / 'base_2025h2.yaml'}" in again.stderr


# --------------------------------------------------------------------------- data folders


def test_layout_documents_every_file_the_table_reads():
    assert set(LAYOUT) == set(SOURCES.values())
    readme = (ROOT / "README.md").read_text()
    for rel, doc in LAYOUT.items():
        assert rel in readme, rel
        assert doc.columns.split(" (")[0] in readme, doc.columns


def test_data_check_reports_every_problem_at_once(tmp_path):
    (tmp_path / "fred").mkdir()
    (tmp_path / "fred" / "INDPRO.csv").write_text("date,value\n2020-01-01,abc\n")
    checks = check_data_folder(tmp_path, SOURCES, INDEX_ROLES)
    assert len(checks) == len(SOURCES)
    problems = {c.path: c.problem for c in checks if not c.ok}
    assert len(problems) == len(SOURCES)
    assert "line 2" in problems["fred/INDPRO.csv"]
    with pytest.raises(DataError) as err:
        read_data_folder(tmp_path, SOURCES, INDEX_ROLES)
    text = str(err.value)
    assert all(rel in text for rel in SOURCES.values())


def test_data_commands_exit_2_on_bad_input(tmp_path):
    missing = tmp_path / "missing"
    partial = tmp_path / "partial"
    (partial / "fred").mkdir(parents=True)
    for args in (
        ("data", "build", str(missing), "--out", str(tmp_path / "t.parquet")),
        ("data", "build", str(partial), "--out", str(tmp_path / "t.parquet")),
        ("data", "check", str(partial)),
        ("calibrate", "--data", str(partial), "--out", str(tmp_path / "p.nc")),
        ("backtest", "--data", str(partial), "--start", "2000-01", "--end", "2001-01"),
    ):
        out = cli(*args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert "missing" in out.stderr or "not found" in out.stderr
    assert not (tmp_path / "t.parquet").exists()


def test_data_check_passes_on_the_real_folder(shared_data):
    assert all(c.ok for c in check_data_folder(shared_data, SOURCES, INDEX_ROLES))
