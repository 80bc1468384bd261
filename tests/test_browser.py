"""Every kind of report in a real browser: no horizontal scroll at 1,400 px, not blank.

Renders a scenarios report, a Bayesian report and a batch report, opens each in headless
Chromium (Debian's ``chromium``; ``.ci/run`` installs it), measures the page after layout and
takes a full-page screenshot. Skips, with the reason, where Chromium is not installed.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import simengine
from simengine.batch import run_batch
from simengine.report import write_report, write_store_report
from tests.browser import find_chromium, ink_share, page_widths, screenshot
from tests.conftest import SCENARIOS

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not installed (Debian: apt-get install chromium; .ci/run does it)",
)
WIDTH = 1400
PATHS = 4096
#: Where the screenshots go (kept for a person to look at): SIMENGINE_SCREENSHOTS or tmp.
SHOTS_ENV = "SIMENGINE_SCREENSHOTS"


def _shots(tmp_path: Path) -> Path:
    import os

    folder = Path(os.environ.get(SHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    files = [
        SCENARIOS / f"{s}.yaml" for s in ("fed_cut_september", "fed_cut_october", "fed_no_cut")
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = simengine.compare(files, n_paths=PATHS, seed=1)
        bayes = simengine.compare(files[:2], n_paths=PATHS, seed=1, method="bayesian")
        store = out / "store"
        run_batch([SCENARIOS / "sweeps" / "cut_timing_size.yaml"], store, workers=0,
                  n_paths=PATHS, seed=1)  # fmt: skip
    return {
        "scenarios": write_report(cmp, out / "scenarios.html"),
        "bayesian": write_report(bayes, out / "bayesian.html"),
        "batch": write_store_report(store, out / "batch.html"),
    }


def test_the_probe_sees_a_page_that_is_too_wide(tmp_path):
    page = tmp_path / "wide.html"
    page.write_text('<html><body><div style="width:2000px">wide</div></body></html>')
    widths = page_widths(CHROMIUM, page, WIDTH)
    assert widths["scroll_width"] > widths["client_width"] == WIDTH


@pytest.mark.parametrize("kind", ["scenarios", "bayesian", "batch"])
def test_report_fits_1400px_and_is_not_blank(reports, kind, tmp_path):
    html = reports[kind]
    widths = page_widths(CHROMIUM, html, WIDTH)
    assert widths["scroll_width"] <= widths["client_width"], widths  # no horizontal scroll
    assert widths["scroll_height"] > 2000  # the sections laid out, not an empty page
    png = screenshot(CHROMIUM, html, _shots(tmp_path) / f"{kind}.png", WIDTH,
                     min(widths["scroll_height"], 16000))  # fmt: skip
    assert ink_share(png) > 0.03  # text, tables and charts: not a blank screenshot
