"""Numbers unchanged: fixed-seed outputs must match tests/golden/expected byte for byte."""

from __future__ import annotations

import pytest

from tests.golden.cases import EXPECTED, cases, render_api, render_batch, render_case

CASES = cases()


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_output_is_unchanged(name: str) -> None:
    expected = (EXPECTED / f"{name}.json").read_text()
    assert render_case(CASES[name]) == expected, (
        f"{name}: output differs from tests/golden/expected/{name}.json; if the change of "
        "numbers is deliberate, regenerate with `python -m tests.golden.make_golden`"
    )


def test_golden_batch_summary_is_unchanged() -> None:
    expected = (EXPECTED / "batch_cut_timing_size.csv").read_text()
    assert render_batch() == expected


def test_golden_library_results_are_unchanged() -> None:
    expected = (EXPECTED / "api_weekly.json").read_text()
    assert render_api() == expected
