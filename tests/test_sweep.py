"""Sweep files: expansion into named, validated variants; errors with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from simengine.exceptions import SpecError
from simengine.spec.sweep import (
    expand_sweep,
    expand_sweep_variants,
    is_sweep_file,
    safe_label,
)

ROOT = Path(__file__).resolve().parents[1]
SWEEPS = ROOT / "scenarios" / "sweeps"
BASE = ROOT / "scenarios" / "base_2025h2.yaml"
TEST_MODEL = ROOT / "tests" / "fixtures" / "models" / "test_model.yaml"


def write_sweep(tmp_path: Path, body: str, name: str = "sweep.yaml") -> Path:
    """A sweep file in ``tmp_path`` on the library base and the test model."""
    head = f"sweep:\n  name: s\n  base: {BASE}\n  set:\n    model: {TEST_MODEL}\n"
    path = tmp_path / name
    path.write_text(head + body)
    return path


def test_cut_timing_size_library_sweep() -> None:
    variants = expand_sweep_variants(SWEEPS / "cut_timing_size.yaml")
    labels = [v.label for v in variants]
    assert len(variants) == 7
    assert labels[0] == "cut=2025-09-17,size=-25"
    assert "cut=2025-10-29,size=-50" in labels
    assert labels[-1] == "cut=none"
    v = variants[labels.index("cut=2025-10-29,size=-50")]
    assert v.fields == {"cut": "2025-10-29", "size": -50}
    assert v.spec.name == "cut-timing-size.cut_2025-10-29.size_-50"
    decisions = {str(d.meeting): d.change_bp for d in v.spec.fomc}
    assert decisions == {"2025-07-30": 0, "2025-09-17": 0, "2025-10-29": -50, "2025-12-10": 0}
    for variant in variants:  # all four meetings fixed in every variant
        assert len(variant.spec.fomc) == 4
        assert all(d.change_bp is not None for d in variant.spec.fomc)
    assert len({v.spec.name for v in variants}) == 7


def test_tariff_growth_library_sweep() -> None:
    variants = expand_sweep_variants(SWEEPS / "tariff_growth.yaml")
    assert len(variants) == 9
    assert [v.fields["tariff"] for v in variants[::3]] == [15, 20, 30]
    rec = [v for v in variants if v.label == "tariff=30,growth=recession"][0]
    assert rec.spec.tariffs[0].level == 30.0
    assert [(d.factor, d.shift) for d in rec.spec.drifts][0] == ("growth", -0.4)
    assert rec.spec.positioning.short_interest_bn == 16.0  # inherited from the base
    assert expand_sweep(SWEEPS / "tariff_growth.yaml")[0] == variants[0].spec


def test_is_sweep_file(tmp_path: Path) -> None:
    assert is_sweep_file(SWEEPS / "tariff_growth.yaml")
    assert not is_sweep_file(BASE)
    assert not is_sweep_file(tmp_path / "missing.yaml")
    (tmp_path / "broken.yaml").write_text("sweep: [\n")
    assert not is_sweep_file(tmp_path / "broken.yaml")


def test_range_exclude_include_and_model_override(tmp_path: Path) -> None:
    path = write_sweep(
        tmp_path,
        """  vary:
    si:
      field: positioning.short_interest_bn
      range: {from: 8, to: 20, step: 4}
    rate:
      field: initial.policy_rate
      range: {from: 4.125, to: 4.4, step: 0.125}
  exclude:
    - {si: 20}
""",
    )
    variants = expand_sweep_variants(path)
    assert [v.label for v in variants[:2]] == ["si=8,rate=4.125", "si=8,rate=4.25"]
    assert len(variants) == 3 * 3  # si 8, 12, 16 (20 excluded) x rate 4.125, 4.25, 4.375
    assert variants[-1].spec.initial.policy_rate == 4.375
    assert variants[-1].fields == {"si": 16, "rate": 4.375}
    assert all(v.spec.resolve_path(v.spec.model) == TEST_MODEL for v in variants)


def test_bad_axis_errors_have_file_and_line(tmp_path: Path) -> None:
    path = write_sweep(
        tmp_path,
        """  vary:
    tariff:
      field: tarifs[0].level
      values: [15, 20]
    size:
      valuez: [-25]
    cut:
      values:
        sep: {fomc: [{meeting: 2025-09-17, change_bp: $sise}]}
  exclude:
    - {cut: october}
""",
    )
    with pytest.raises(SpecError) as info:  # structure first: unknown keys, wrong types
        expand_sweep_variants(path)
    assert f"{path}:11: sweep.vary.size.valuez: unknown key 'valuez'" in str(info.value)
    assert "did you mean 'values'?" in str(info.value)
    path.write_text(path.read_text().replace("valuez", "values"))
    with pytest.raises(SpecError) as info:  # then every problem of the content at once
        expand_sweep_variants(path)
    text = str(info.value)
    assert f"{path}:8: sweep.vary.tariff.field" in text
    assert "did you mean 'tariffs'?" in text
    assert (
        f"{path}:14: sweep.vary.cut.values.sep.fomc[0].change_bp: '$sise' refers to no axis" in text
    )
    assert f"{path}:16: sweep.exclude[0].cut: axis 'cut' has no label 'october'" in text
    assert len(info.value.issues) == 3


def test_variant_errors_name_the_sweep_line_and_variant(tmp_path: Path) -> None:
    path = write_sweep(
        tmp_path,
        """  vary:
    cut:
      values:
        sep: {fomc: [{meeting: 2025-09-17, change_bp: $size}]}
        oct: {fomc: [{meeting: 2025-10-29, change_bp: $size}]}
    size:
      values: [-25, -30]
  exclude:
    - {cut: nov}
""",
    )
    with pytest.raises(SpecError) as info:
        expand_sweep_variants(path)
    text = str(info.value)
    assert f"{path}:14: sweep.exclude[0].cut: axis 'cut' has no label 'nov'" in text
    path.write_text(path.read_text().replace("  exclude:\n    - {cut: nov}\n", ""))
    with pytest.raises(SpecError) as info:
        expand_sweep_variants(path)
    issues = info.value.issues
    assert len(issues) == 2  # one per variant with -30bp, each on its own line
    assert {i.line for i in issues} == {9, 10}
    assert all("multiple of 25bp" in i.message for i in issues)
    assert "in variant cut=sep,size=-30" in issues[0].hint


def test_bad_base_and_forbidden_keys(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "sweep:\n  name: s\n  base: nothere.yaml\n  set: {name: x}\n"
        "  vary:\n    a: {values: [1, 2]}\n"
    )
    with pytest.raises(SpecError) as info:
        expand_sweep_variants(path)
    fields = {i.field for i in info.value.issues}
    assert {"sweep.base", "sweep.set.name"} <= fields
    assert all(i.line for i in info.value.issues)


def test_safe_label() -> None:
    assert safe_label("Soft Landing!") == "soft-landing-"
    assert safe_label("-50") == "-50"
    assert safe_label("..") == "x"


def test_validate_command_expands_sweeps() -> None:
    from simengine.cli import app

    result = CliRunner().invoke(app, ["validate", str(SWEEPS / "cut_timing_size.yaml")])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok ") == 7
