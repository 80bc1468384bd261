"""Adversarial input: mutated scenario files either load and run, or fail with a located SpecError.

Every scenario in ``scenarios/`` is resolved to a standalone document and mutated by hypothesis
(dropped keys, swapped types, random unicode, huge numbers, NaN and infinities, impossible and
out-of-range dates, deep nesting, long strings) or replaced by hostile text (alias bombs, Python
tags, empty and binary files, truncation, byte flips). Each mutant is written to a file and
loaded. The contract: either the spec loads (and, for a sample of them, simulates 64 paths),
or :class:`SpecError` is raised whose every issue names the file and a line (a problem with
the whole file - empty, too large - has no line). Any other exception fails the test.

The three tests run 1,400 + 500 + 200 = 2,100 mutants with a fixed (derandomised) profile so
CI is stable, in about a minute: most mutants fail validation within a millisecond.
"""

from __future__ import annotations

import copy
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simengine import api
from simengine.exceptions import LimitError, NumericalError, SpecError
from simengine.spec import load_scenario

from ..conftest import SCENARIOS


def fuzz(n: int) -> settings:
    """Fixed profile: derandomised (stable in CI), no deadline, no example database."""
    return settings(
        max_examples=n,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


WORK = Path(tempfile.mkdtemp(prefix="simengine-fuzz-"))
WHOLE_FILE = (
    "file is empty",
    "larger than the limit",
    "file not found",
    "document is nested too deeply",
)


def _seeds() -> list[dict[str, Any]]:
    out = []
    for path in sorted(SCENARIOS.glob("*.yaml")):
        data = load_scenario(path).to_data()
        data.pop("model", None)  # 'default': keep the file standalone
        out.append(data)
    return out


SEEDS = _seeds()


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key/index path in a document."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _set(doc: Any, path: tuple, value: Any, drop: bool = False) -> None:
    node = doc
    for key in path[:-1]:
        node = node[key]
    if drop:
        del node[path[-1]]
    else:
        node[path[-1]] = value


def _deep(depth: int) -> Any:
    value: Any = 1
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([10**400, -(10**400), 2**63, -(2**63) - 1, 0, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324]),
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0x80, max_codepoint=0x10FFFF), max_size=20),
    st.sampled_from(["9999-12-31", "0001-01-01", "2025-02-30", "2025-13-01", "1900-01-01"]),
    st.sampled_from(["2025-09-17T14:00:00", "17/09/2025", "2025-9-17", "yes", "~", "null"]),
    st.sampled_from(["x" * 100_000, "../../etc/passwd", "a" * 81, "/abs/path", "A..b"]),
    st.integers(min_value=50, max_value=300).map(_deep),
    st.lists(st.integers(-100, 100), max_size=5),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
)


def _write(text: str | bytes, name: str = "mutant.yaml") -> Path:
    path = WORK / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


def _dump(doc: dict[str, Any]) -> str:
    try:
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1 << 20)
    except (RecursionError, yaml.YAMLError):  # our own dumper's limit, not the loader's
        return yaml.safe_dump({"name": "too-deep", "note": "x"})


def _check(path: Path, run: bool) -> None:
    """The contract of the module docstring."""
    try:
        spec = load_scenario(path)
    except SpecError as err:
        assert err.issues, "SpecError without issues"
        for issue in err.issues:
            assert issue.file == str(path), issue.format()
            assert issue.line is not None or issue.message.startswith(WHOLE_FILE), issue.format()
            assert issue.message, issue.format()
        return
    if not run:
        return
    try:
        result = api.simulate(spec, n_paths=64, seed=0, n_sample=8)
    except SpecError as err:  # e.g. an unknown asset, a value out of the safety range
        assert all(i.file == str(path) and i.line is not None for i in err.issues), str(err)
        return
    except (NumericalError, LimitError) as err:  # loud, with a message: never a wrong number
        assert "limit" in str(err) or "non-finite" in str(err), str(err)
        return
    assert result.summary(wide=True).notna().all().all()


@fuzz(1400)
@given(
    seed=st.sampled_from(range(len(SEEDS))),
    n_edits=st.integers(1, 3),
    data=st.data(),
    run=st.integers(0, 19),
)
def test_mutated_documents(seed: int, n_edits: int, data: st.DataObject, run: int) -> None:
    doc = copy.deepcopy(SEEDS[seed])
    for _ in range(n_edits):
        paths = _paths(doc)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        action = data.draw(st.sampled_from(["drop", "replace", "replace", "add"]))
        if action == "drop":
            _set(doc, path, None, drop=True)
        elif action == "replace":
            _set(doc, path, data.draw(VALUES))
        else:
            key = data.draw(st.sampled_from(["extra", "descripton", "paths", "seed", "fomc"]))
            doc[key] = data.draw(VALUES)
    _check(_write(_dump(doc)), run == 0)


HOSTILE = [
    "",
    "   \n\n",
    "# only a comment\n",
    "- a list\n- not a mapping\n",
    "just a string",
    "name: x\nname: y\n",
    "a: &a [1,1,1,1,1,1,1,1,1]\n"
    + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "name: bomb\n",
    "name: !!python/object/apply:os.system ['echo pwned']\n",
    "!!python/object:simengine.spec.ScenarioSpec {name: x}\n",
    "name: !custom x\n",
    "<<: {name: x}\n",
    "name: x\nstart: !!timestamp 2025-07-16\n",
    "name: [unclosed\n",
    "name: x\n\tstart: tab\n",
    "{" * 600 + "}" * 600,
    "[" * 600 + "]" * 600,
    "- " * 3000 + "x\n",
]


@fuzz(500)
@given(
    seed=st.sampled_from(range(len(SEEDS))),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=4),
)
def test_truncated_and_corrupted_bytes(
    seed: int, cut: float, flips: list[tuple[float, int]]
) -> None:
    raw = bytearray(_dump(SEEDS[seed]).encode())
    raw = raw[: max(0, int(len(raw) * cut))] if cut < 0.999 else raw
    for where, byte in flips:
        if raw:
            raw[min(len(raw) - 1, int(where * len(raw)))] = byte
    _check(_write(bytes(raw)), run=False)


@fuzz(200)
@given(
    attack=st.sampled_from(range(len(HOSTILE))),
    prefix=st.sampled_from(["", "\ufeff", "---\n", "%YAML 1.1\n---\n"]),
    binary=st.binary(max_size=64),
    as_binary=st.booleans(),
)
def test_hostile_files(attack: int, prefix: str, binary: bytes, as_binary: bool) -> None:
    payload: str | bytes = prefix + HOSTILE[attack]
    if as_binary:
        payload = binary + b"\x00" + HOSTILE[attack].encode()
    _check(_write(payload), run=False)


def test_oversized_file_is_rejected_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMENGINE_MAX_SPEC_BYTES", "1000")
    path = _write("name: x\n" + "# padding\n" * 200, "big.yaml")
    with pytest.raises(SpecError) as err:
        load_scenario(path)
    text = str(err.value)
    assert "larger than the limit of 1000 bytes" in text and "SIMENGINE_MAX_SPEC_BYTES" in text
