"""The libyaml fast path of ``spec.yaml_io`` reads exactly what the pure-Python loader reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from simengine.exceptions import SpecError
from simengine.spec import yaml_io
from simengine.spec.yaml_io import load_yaml_mapping_text

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted(
    p for pattern in ("scenarios/**/*.yaml", "simengine/**/*.yaml") for p in ROOT.glob(pattern)
)

needs_libyaml = pytest.mark.skipif(yaml_io._FAST_LOADER is None, reason="PyYAML without libyaml")


@needs_libyaml
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_fast_and_pure_python_loaders_agree(path: Path) -> None:
    text = path.read_text()
    fast = yaml_io._parse(text, str(path), yaml_io._FAST_LOADER)
    slow = yaml_io._parse(text, str(path), yaml_io._Loader)
    assert fast == slow  # the data and the line of every field


@needs_libyaml
def test_fast_loader_reports_merge_keys_like_the_pure_python_one() -> None:
    text = "base: &b {x: 1}\nother:\n  <<: *b\n"
    with pytest.raises(SpecError) as fast:
        yaml_io._parse(text, "f.yaml", yaml_io._FAST_LOADER)
    with pytest.raises(SpecError) as slow:
        yaml_io._parse(text, "f.yaml", yaml_io._Loader)
    assert str(fast.value) == str(slow.value)
    assert "merge keys" in str(slow.value)


@needs_libyaml
def test_deep_documents_and_errors_go_to_the_pure_python_loader(monkeypatch) -> None:
    deep = "a: " + "[" * (yaml_io._FAST_MAX_DEPTH + 5) + "]" * (yaml_io._FAST_MAX_DEPTH + 5)
    with pytest.raises(SpecError, match="deeper than the fast parser"):
        yaml_io._parse(deep, "deep.yaml", yaml_io._FAST_LOADER)
    data, _ = load_yaml_mapping_text(deep, "deep.yaml")  # the public reader falls back
    assert list(data) == ["a"]

    calls = []
    parse = yaml_io._parse
    monkeypatch.setattr(
        yaml_io, "_parse", lambda text, shown, cls: calls.append(cls) or parse(text, shown, cls)
    )
    with pytest.raises(SpecError, match="bad.yaml:3: invalid YAML"):
        load_yaml_mapping_text("a: 1\nb: [1, 2\n", "bad.yaml")
    assert calls == [yaml_io._FAST_LOADER, yaml_io._Loader]  # the message is the pure-Python one
