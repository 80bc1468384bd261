"""HTML reports: parse, tables, inline images, nothing external; batch store; the CLI command."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import simengine
from simengine.exceptions import OutputExistsError, SimengineError
from simengine.io import write_checksum
from simengine.report import (
    build_report_from_store,
    render_report,
    write_report,
    write_store_report,
)

from .conftest import FIXTURES, SCENARIOS

TEST_MODEL = str(FIXTURES / "models" / "test_model.yaml")
NAMES = ("fed_cut_september", "tariff_escalation")
N_PATHS = 4096
EXTERNAL = ("http://", "https://", "//cdn", 'src="http', "url(", "@import")


class Page(HTMLParser):
    """Collects what the tests look at: tags, image sources, table count, section ids."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.images: list[str] = []
        self.sections: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src") or "")
        if tag == "section":
            self.sections.append(a.get("id") or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


def _spec(name: str):
    return simengine.load_scenario(SCENARIOS / f"{name}.yaml").with_overrides(model=TEST_MODEL)


@pytest.fixture(scope="module")
def cmp():
    return simengine.compare([_spec(n) for n in NAMES], n_paths=N_PATHS, seed=1, n_sample=16)


@pytest.fixture(scope="module")
def html_text(cmp) -> str:
    return render_report(cmp, dpi=40)


def assert_self_contained(text: str) -> None:
    for pattern in EXTERNAL:
        assert pattern not in text, f"external reference {pattern!r} in the report"
    assert len(text.encode()) < 10 * 1024 * 1024


def test_report_parses_with_tables_and_inline_images(html_text):
    page = parse(html_text)
    assert page.tags[0] == "html"
    assert page.tags.count("table") >= 5  # assumptions, distribution, risk, levels, differences
    assert len(page.images) >= 8
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    assert page.sections == [
        "scenarios",
        "summary",
        "fans",
        "densities",
        "differences",
        "attribution",
        "pair",
        "provenance",
    ]
    assert "@media print" in html_text
    assert_self_contained(html_text)


def test_report_shows_assumptions_and_provenance(cmp, html_text):
    text = " ".join(parse(html_text).text)
    for name in cmp.scenarios:
        assert name in text
    assert "2025-09-17: -25bp" in text  # FOMC decision of the reference
    assert "22% from 2025-10-01" in text  # tariff step of the escalation scenario
    assert "$16bn short Russell 2000 futures" in text
    assert "-16.25bp expected" in text  # market pricing of September
    hashes = json.loads(cmp.attrs["spec_hashes"])
    for h in hashes.values():
        assert h in text
    assert cmp.attrs["model_hash"] in text and "seed" in text


def test_write_report_refuses_to_overwrite(cmp, tmp_path):
    path = tmp_path / "report.html"
    path.write_text("mine")
    with pytest.raises(OutputExistsError):
        write_report(cmp, path)
    assert path.read_text() == "mine"


@pytest.fixture(scope="module")
def single():
    return simengine.simulate(_spec(NAMES[0]), n_paths=N_PATHS, seed=2, n_sample=16)


def test_single_scenario_report_has_no_differences(single):
    page = parse(render_report(single, dpi=30))
    assert "differences" not in page.sections and "pair" in page.sections


def test_bayesian_report_shows_the_variance_split(single):
    az = pytest.importorskip("arviz")
    ds = single.dataset
    ds.attrs["method"] = "bayesian"
    rng = np.random.default_rng(0)
    idata = az.from_dict(
        posterior={"beta": rng.normal(size=(2, 30, 2, 5)), "kappa": rng.normal(size=(2, 30, 2))},
        dims={"beta": ["asset", "exposure"], "kappa": ["asset"]},
    )
    text = render_report(type(single)(ds), idata=idata, dpi=30)
    page = parse(text)
    assert "bayesian" in page.sections
    joined = " ".join(page.text)
    assert "variance from parameters" in joined
    assert_self_contained(text)
    # the assumptions name the method the run used, not the scenario file's default
    assert "/ bayesian" in joined and "/ monte_carlo" not in joined


# --------------------------------------------------------------------------- batch store


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("store")
    frames = []
    for i, name in enumerate(NAMES):
        res = simengine.simulate(_spec(name), n_paths=N_PATHS, seed=3, n_sample=8)
        write_checksum(res.to_netcdf(root / "results" / f"{res.scenarios[0]}.nc"))
        frame = res.summary(wide=True).reset_index()
        frame["cut_month"] = ["sep", "oct"][i]
        frames.append(frame)
    pd.concat(frames, ignore_index=True).to_parquet(root / "summary.parquet", index=False)
    entries = [
        {"id": name, "name": name, "status": "done", "result_file": f"results/{name}.nc"}
        for name in ("fed-cut-september", "tariff-escalation")
    ]
    settings = {"n_paths": N_PATHS, "seed": 3}
    manifest = {"name": "test-batch", "n_scenarios": 2, "settings": settings, "scenarios": entries}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def test_store_report_lists_every_scenario(store):
    text = build_report_from_store(store, dpi=30)
    page = parse(text)
    joined = " ".join(page.text)
    for name in ("fed-cut-september", "tariff-escalation"):
        assert name in joined
    assert "cut_month" in joined and "oct" in joined  # sweep field
    assert "Russell 2000 median" in joined
    assert len(page.images) == 1  # the results' fans as small multiples in one figure
    assert "test-batch" in joined
    assert f"n_paths={N_PATHS}, seed=3" in joined and "2 items" in joined  # manifest, readable
    assert_self_contained(text)


def test_a_difference_that_rounds_to_zero_shows_no_sign():
    from simengine.report.result import pp

    assert pp(-1e-7) == pp(1e-7) == "0.00pp"
    assert pp(-0.0021) == "-0.21pp" and pp(0.0021) == "+0.21pp"


def test_store_report_limits_the_number_of_charts(store):
    page = parse(build_report_from_store(store, max_charts=1, dpi=30))
    assert len(page.images) == 1
    assert "first 1 of 2" in " ".join(page.text)


def test_store_without_manifest_is_a_clear_error(tmp_path):
    with pytest.raises(SimengineError, match="no manifest.json"):
        build_report_from_store(tmp_path)
    with pytest.raises(SimengineError, match="not a folder"):
        build_report_from_store(tmp_path / "missing")


def test_store_report_is_written_once(store, tmp_path):
    out = write_store_report(store, tmp_path / "batch.html", max_charts=0)
    assert out.read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(OutputExistsError):
        write_store_report(store, out)


# --------------------------------------------------------------------------- command line


def _scenario_file(tmp_path: Path, name: str) -> Path:
    """A scenario extending a library file, pointed at the test model."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"extends: {SCENARIOS / (name + '.yaml')}\nmodel: {TEST_MODEL}\n")
    return path


def test_cli_report_writes_html_and_needs_force(tmp_path):
    from typer.testing import CliRunner

    from simengine.cli import app

    files = [str(_scenario_file(tmp_path, n)) for n in NAMES]
    out = tmp_path / "r.html"
    args = ["report", *files, "--out", str(out), "--paths", "4096", "--seed", "5"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert_self_contained(out.read_text())
    again = CliRunner().invoke(app, args)  # refused before simulating
    assert isinstance(again.exception, OutputExistsError)
