"""Tests of the scenario spec layer: schema, safe YAML loading, extends, error messages."""

from __future__ import annotations

import ast
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simengine.calendar import FOMC_DECISION_DATES
from simengine.exceptions import SpecError
from simengine.spec import ScenarioSpec, check_assets, load_scenario, load_scenario_text

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
BROKEN = Path(__file__).resolve().parent / "fixtures" / "broken"
BASE = SCENARIOS / "base_2025h2.yaml"
REMAINING_2025 = [date(2025, 7, 30), date(2025, 9, 17), date(2025, 10, 29), date(2025, 12, 10)]

MINIMAL = """\
name: minimal
start: 2025-07-16
horizon: 2025-12-31
assets: [small_cap, large_cap]
initial:
  policy_rate: 4.375
  tariff: 15.3
"""


def _doc(extra: str) -> str:
    """MINIMAL with the top-level keys of ``extra`` replaced (or appended)."""
    keys = {line.split(":")[0] for line in extra.splitlines() if line and not line[0].isspace()}
    kept = [line for line in MINIMAL.splitlines() if line.split(":")[0] not in keys]
    return "\n".join(kept) + "\n" + extra


def _error(path: Path) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_scenario(path)
    return info.value


def _text_error(text: str, **kwargs) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_scenario_text(text, **kwargs)
    return info.value


# ----------------------------------------------------------------------------- the library


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_scenario_loads(path: Path) -> None:
    spec = load_scenario(path)
    assert spec.source == path
    assert spec.description.strip(), "every library scenario says what it assumes"
    assert spec.assets == ("small_cap", "large_cap")
    assert spec.start == date(2025, 7, 16)
    # the year-end horizon, or the end of the FOMC calendar (base_2026)
    assert spec.horizon in (date(2025, 12, 31), date(2026, 12, 31))
    assert spec.paths == 100_000 and spec.seed == 20250716
    assert len(spec.spec_hash()) == 64


def test_library_names_are_unique() -> None:
    names = [load_scenario(p).name for p in SCENARIOS.glob("*.yaml")]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    ("file", "decisions"),
    [
        ("fed_cut_september.yaml", [0, -25, 0, 0]),
        ("fed_cut_october.yaml", [0, 0, -25, 0]),
        ("fed_cut_september_50bp.yaml", [0, -50, 0, 0]),
        ("fed_three_cuts.yaml", [0, -25, -25, -25]),
        ("fed_no_cut.yaml", [0, 0, 0, 0]),
    ],
)
def test_fed_scenarios_fix_every_remaining_meeting(file: str, decisions: list[int]) -> None:
    spec = load_scenario(SCENARIOS / file)
    assert [d.meeting for d in spec.fomc] == REMAINING_2025
    assert [d.change_bp for d in spec.fomc] == decisions
    base = load_scenario(BASE)
    # timing is the only difference: everything but name, description and fomc is inherited
    keep = {"name", "description", "fomc"}
    assert spec.model_dump(exclude=keep) == base.model_dump(exclude=keep)


def test_base_market_pricing_is_mid_july_2025() -> None:
    spec = load_scenario(BASE)
    expected = {p.fomc: sum(bp * q for bp, q in p.outcomes.items()) for p in spec.market_pricing}
    assert list(expected) == REMAINING_2025
    assert expected[date(2025, 7, 30)] > -2.5  # July: hold ~95%
    assert -20 < expected[date(2025, 9, 17)] < -12  # September: a cut ~60%
    assert -50 < sum(expected.values()) < -25  # one to two cuts by December
    assert spec.tariffs[0].date == date(2025, 8, 1) and spec.tariffs[0].level == 17.0
    assert spec.positioning is not None and spec.positioning.short_interest_bn == 16.0
    assert spec.initial.index_levels == {"small_cap": 2226.99, "large_cap": 22907.97}


# ----------------------------------------------------------------------------- broken fixtures

# file, line, field, text that must appear (the file name must appear too)
BROKEN_CASES = [
    ("unknown_key.yaml", 3, "descripton", "did you mean 'description'?"),
    ("bad_date.yaml", 3, "start", "expected an ISO date YYYY-MM-DD"),
    ("wrong_type.yaml", 3, "paths", "received 'lots'; expected a whole number"),
    ("meeting_between.yaml", 6, "fomc[1].meeting", "did you mean 2025-09-17?"),
    ("meeting_outside.yaml", 4, "fomc[0].meeting", "outside the scenario window"),
    ("bp_30.yaml", 5, "fomc[0].change_bp", "allow_any_bp: true"),
    ("prob_sum.yaml", 5, "fomc[0].outcomes", "probabilities sum to 0.9; expected 1"),
    ("python_tag.yaml", 6, "", "'!!python/object/apply:os.system' is not allowed"),
    ("alias_bomb.yaml", 7, "", "alias bomb"),
    ("empty.yaml", None, "", "file is empty"),
    ("duplicate_key.yaml", 5, "paths", "duplicate key 'paths' (first given on line 3)"),
    ("bad_name.yaml", 2, "name", "'../../etc/passwd'"),
    ("cycle_a.yaml", 1, "extends", "extends cycle: cycle_a.yaml -> cycle_b.yaml -> cycle_a.yaml"),
    ("not_mapping.yaml", 1, "", "top level is not a mapping"),
    ("nan_value.yaml", 4, "initial.policy_rate", "expected a finite number"),
    ("bad_parent.yaml", 5, "initial.tariff", "received 115.0; expected a value <= 100.0"),
]


@pytest.mark.parametrize(
    ("file", "line", "field", "text"), BROKEN_CASES, ids=[c[0] for c in BROKEN_CASES]
)
def test_broken_fixture_message(file: str, line: int | None, field: str, text: str) -> None:
    err = _error(BROKEN / file)
    message = str(err)
    assert len(err.issues) == 1, message
    issue = err.issues[0]
    where = f"{issue.file}:{line}" if line else issue.file
    assert where in message and Path(issue.file).name in message
    assert issue.line == line
    assert issue.field == field
    assert text in message


def test_every_broken_fixture_is_covered() -> None:
    covered = {c[0] for c in BROKEN_CASES} | {
        "cycle_b.yaml",
        "multiple_problems.yaml",
        "extends_bad_parent.yaml",
    }
    assert {p.name for p in BROKEN.glob("*.yaml")} == covered


def test_problem_in_parent_is_reported_with_parents_file_and_line() -> None:
    err = _error(BROKEN / "extends_bad_parent.yaml")
    (issue,) = err.issues
    assert Path(issue.file).name == "bad_parent.yaml" and issue.line == 5
    assert "bad_parent.yaml:5: initial.tariff" in str(err)


def test_multiple_problems_are_all_reported() -> None:
    err = _error(BROKEN / "multiple_problems.yaml")
    got = [(i.line, i.field) for i in err.issues]
    assert got == [
        (3, "frequency"),
        (4, "paths"),
        (6, "fomc[0].meeting"),
        (9, "fomc[1].change_bp"),
        (12, "tariffs[0].level"),
        (14, "drifts[0].factor"),
    ]
    message = str(err)
    assert message.startswith("6 problems found:")
    assert "did you mean 'monthly'?" in message and "did you mean 'growth'?" in message
    assert "did you mean 2025-09-17?" in message


def test_alias_bomb_fails_fast() -> None:
    # CPU time of this process, not wall time, so a loaded machine does not fail it; an
    # unguarded expansion of the bomb takes minutes and gigabytes.
    t0 = time.process_time()
    _error(BROKEN / "alias_bomb.yaml")
    assert time.process_time() - t0 < 5.0


# ----------------------------------------------------------------------------- file-level guards


def test_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(MINIMAL + "description: " + "x" * (1 << 20) + "\n")
    err = _error(path)
    assert "limit" in str(err) and "SIMENGINE_MAX_SPEC_BYTES" in str(err)


@pytest.mark.parametrize(
    ("raw", "text"),
    [(b"name: a\x00b\n", "binary file"), (b"name: caf\xe9\n", "not valid UTF-8")],
)
def test_binary_or_undecodable_file(tmp_path: Path, raw: bytes, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(raw)
    err = _error(path)
    assert text in str(err) and err.issues[0].line == 1


def test_missing_file(tmp_path: Path) -> None:
    assert "file not found" in str(_error(tmp_path / "nope.yaml"))


def test_yaml_syntax_error_has_line() -> None:
    err = _text_error(MINIMAL + "fomc:\n  - meeting: [2025-09-17\n")
    assert err.issues[0].line is not None and "invalid YAML" in str(err)


def test_merge_keys_rejected() -> None:
    err = _text_error(MINIMAL + "positioning:\n  <<: {short_interest_bn: 3.0}\n")
    assert "merge keys" in str(err) and err.issues[0].line == 9


def test_extends_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "child.yaml"
    path.write_text("extends: nowhere.yaml\nname: child\n")
    err = _error(path)
    assert err.issues[0].field == "extends" and "file not found" in str(err)


# ----------------------------------------------------------------------------- schema rules


@pytest.mark.parametrize(
    ("extra", "field", "text"),
    [
        ("horizon: 2036-12-31\n", "horizon", "SIMENGINE_MAX_HORIZON_YEARS"),
        ("horizon: 2025-07-01\n", "horizon", "not after start"),
        ("horizon: 2027-03-31\n", "horizon", "past the end of the built-in FOMC calendar"),
        ("frequency: hourly\n", "frequency", "expected one of monthly, weekly, daily"),
        ("paths: 200000000\n", "paths", "SIMENGINE_MAX_PATHS"),
        ("paths: '1000'\n", "paths", "expected a whole number"),
        ("seed: -3\n", "seed", "expected a value >= 0"),
        ("method: mcmc\n", "method", "expected one of monte_carlo, bayesian"),
        ("antithetic: 1\n", "antithetic", "expected true or false"),
        ("start: 2025-07-16 10:00\n", "start", "expected an ISO date"),
        ("name: Fed Cut\n", "name", "lowercase"),
        ("assets: []\n", "assets", "at least one asset"),
        ("assets: [a, a]\n", "assets[1]", "listed twice"),
        ("tariffs: [{date: 2025-07-01, level: 17.0}]\n", "tariffs[0].date", "outside"),
        (
            "tariffs: [{date: 2025-08-01, level: 17.0, probability: 0}]\n",
            "tariffs[0].probability",
            "> 0",
        ),
        (
            "drifts: [{factor: tariff, shift: 1.0}]\n",
            "drifts[0].factor",
            "rates, growth, inflation, credit",
        ),
        ("drifts: [{factor: growth, shift: .inf}]\n", "drifts[0].shift", "finite"),
        ("drifts: [{factor: growth, shift: 1.0, end: 2026-03-01}]\n", "drifts[0].end", "outside"),
        ("shocks: [{factor: credit, date: 2026-01-15, size: 1.0}]\n", "shocks[0].date", "outside"),
        (
            "pins: [{factor: inflation, values: {2026-01-31: 1.0}}]\n",
            "pins[0].values.2026-01-31",
            "outside",
        ),
        (
            "fomc: [{meeting: 2025-09-17, outcomes: {0: 1.2, -25: -0.2}}]\n",
            "fomc[0].outcomes[0]",
            "<= 1",
        ),
        ("fomc: [{meeting: 2025-09-17}]\n", "fomc[0]", "neither of 'change_bp' and 'outcomes'"),
        (
            "fomc: [{meeting: 2025-09-17, change_bp: 0}, {meeting: 2025-09-17, change_bp: -25}]\n",
            "fomc[1]",
            "listed twice",
        ),
        (
            "market_pricing: [{fomc: 2025-09-17, expected_bp: -15, outcomes: {0: 1.0}}]\n",
            "market_pricing[0]",
            "both of 'outcomes' and 'expected_bp'",
        ),
        ("fomc_calendar: [2025-09-17, 2025-07-30]\n", "fomc_calendar", "increasing order"),
    ],
)
def test_schema_rule(extra: str, field: str, text: str) -> None:
    err = _text_error(_doc(extra))
    fields = [i.field for i in err.issues]
    assert field in fields, str(err)
    assert text in str(err)


def test_index_levels_must_name_listed_assets() -> None:
    err = _text_error(MINIMAL + "  index_levels: {small_caps: 2226.99}\n")
    assert err.issues[0].field == "initial.index_levels.small_caps"
    assert "did you mean 'small_cap'?" in str(err) and err.issues[0].line == 8


def test_allow_any_bp_and_calendar_override() -> None:
    spec = load_scenario_text(
        MINIMAL
        + "allow_any_bp: true\n"
        + "fomc_calendar: [2025-07-30, 2025-08-20, 2025-09-17]\n"
        + "fomc: [{meeting: 2025-08-20, change_bp: -30}]\n"
    )
    assert spec.fomc[0].change_bp == -30 and spec.calendar[1] == date(2025, 8, 20)


def test_quoted_iso_dates_and_expected_bp() -> None:
    spec = load_scenario_text(
        MINIMAL + "market_pricing: [{fomc: '2025-09-17', expected_bp: -15}]\n"
    )
    assert spec.market_pricing[0].fomc == date(2025, 9, 17)
    assert spec.market_pricing[0].expected_bp == -15.0


def test_no_pydantic_or_yaml_error_escapes_from_bad_python_input() -> None:
    with pytest.raises(SpecError):
        ScenarioSpec.from_data({"name": 3, "start": object()})
    with pytest.raises(SpecError):
        ScenarioSpec.from_data(["not", "a", "mapping"])  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_arbitrary_text_gives_spec_error_or_spec(text: str) -> None:
    try:
        load_scenario_text(text)
    except SpecError as err:
        assert err.issues


# ----------------------------------------------------------------------------- extends, paths


def test_extends_relative_and_deep_merge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # ../base.yaml is inside the project run from
    (tmp_path / "sub").mkdir()
    (tmp_path / "models").mkdir()
    (tmp_path / "base.yaml").write_text(MINIMAL + "model: models/mine.yaml\npaths: 500\n")
    child = tmp_path / "sub" / "child.yaml"
    child.write_text("extends: ../base.yaml\nname: child\ninitial: {tariff: 20.0}\n")
    spec = load_scenario(child)
    assert spec.initial.tariff == 20.0 and spec.initial.policy_rate == 4.375  # deep merge
    assert spec.paths == 500
    assert spec.model == "../models/mine.yaml"  # rebased to the child's folder
    assert spec.resolve_path(spec.model).resolve() == (tmp_path / "models" / "mine.yaml").resolve()
    assert spec.resolve_path("default") is None


def test_lists_replace_and_text_extends(tmp_path: Path) -> None:
    text = f"extends: {BASE.name}\nname: one-step\ntariffs: [{{date: 2025-09-01, level: 30.0}}]\n"
    spec = load_scenario_text(text, base_dir=SCENARIOS)
    assert [(t.date, t.level) for t in spec.tariffs] == [(date(2025, 9, 1), 30.0)]
    assert spec.source is None


# ----------------------------------------------------------------------------- hashing, overrides


def test_spec_hash_ignores_source_and_tracks_content(tmp_path: Path) -> None:
    spec = load_scenario(BASE)
    copy = tmp_path / "copy.yaml"
    copy.write_text(spec.to_yaml())
    again = load_scenario(copy)
    assert again == spec and again.spec_hash() == spec.spec_hash()
    assert again.source != spec.source
    assert (
        "source" not in spec.model_dump()
        and "/" not in spec.canonical_json().split('"model"')[1][:12]
    )
    assert spec.with_overrides(seed=1).spec_hash() != spec.spec_hash()


def test_with_overrides() -> None:
    spec = load_scenario(SCENARIOS / "fed_cut_september.yaml")
    other = spec.with_overrides(paths=1000, seed=7, method="bayesian")
    assert (other.paths, other.seed, other.method) == (1000, 7, "bayesian")
    assert other.source == spec.source and spec.paths == 100_000
    assert other.fomc == spec.fomc
    with pytest.raises(SpecError, match="did you mean 'paths'"):
        spec.with_overrides(pathz=10)
    with pytest.raises(SpecError) as info:
        spec.with_overrides(paths=0)
    assert info.value.issues[0].line is None  # set in code, not in the file


def test_check_assets() -> None:
    spec = load_scenario(BASE)
    check_assets(spec, ["small_cap", "large_cap", "mid_cap"])
    with pytest.raises(SpecError) as info:
        check_assets(spec, ["small_cap", "large_caps"])
    (issue,) = info.value.issues
    assert (Path(issue.file).name, issue.line, issue.field) == ("base_2025h2.yaml", 13, "assets[1]")
    assert "did you mean 'large_caps'?" in str(info.value)


def test_spec_layer_does_not_import_numerical_code() -> None:
    # checked on the source: importing simengine.spec also runs the package __init__
    allowed = ("simengine.exceptions", "simengine.calendar", "simengine.io", "simengine.spec")
    for path in (ROOT / "simengine" / "spec").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith("simengine") or name.startswith(allowed), (path, name)
                assert name.split(".")[0] not in ("pymc", "arviz", "dask", "matplotlib"), (
                    path,
                    name,
                )


# ----------------------------------------------------------------------------- round trip


@st.composite
def specs(draw: st.DrawFn) -> ScenarioSpec:
    start = draw(st.dates(date(2021, 1, 1), date(2026, 6, 30)))
    horizon = draw(st.dates(start + timedelta(days=1), date(2026, 12, 31)))
    meetings = [m for m in FOMC_DECISION_DATES if start < m <= horizon]
    in_window = st.dates(start + timedelta(days=1), horizon)
    assets = draw(
        st.lists(st.sampled_from(["small_cap", "large_cap", "mid", "X_1"]), min_size=1, unique=True)
    )
    finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
    factor = st.sampled_from(["rates", "growth", "inflation", "credit"])
    data = {
        "name": draw(st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True)),
        "description": draw(st.text(max_size=40)),
        "start": start,
        "horizon": horizon,
        "frequency": draw(st.sampled_from(["monthly", "weekly", "daily"])),
        "assets": assets,
        "initial": {
            "policy_rate": draw(st.floats(0, 10)),
            "tariff": draw(st.floats(0, 100)),
            "factors": draw(st.dictionaries(factor, finite, max_size=4)),
            "index_levels": {a: draw(st.floats(1, 1e5)) for a in assets},
        },
        "fomc": [
            {"meeting": m, "change_bp": draw(st.sampled_from([-50, -25, 0, 25]))}
            for m in draw(st.lists(st.sampled_from(meetings), unique=True))
            if meetings
        ]
        if meetings
        else [],
        "market_pricing": [{"fomc": m, "outcomes": {0: 0.25, -25: 0.75}} for m in meetings[:2]],
        "tariffs": [
            {"date": d, "level": draw(st.floats(0, 100))}
            for d in sorted(draw(st.sets(in_window, max_size=3)))
        ],
        "drifts": draw(
            st.lists(st.fixed_dictionaries({"factor": factor, "shift": finite}), max_size=2)
        ),
        "shocks": [{"factor": "credit", "date": draw(in_window), "size": draw(finite)}],
        "pins": [
            {
                "factor": "inflation",
                "values": draw(st.dictionaries(in_window, finite, min_size=1, max_size=3)),
            }
        ],
        "paths": draw(st.integers(1, 10**8)),
        "seed": draw(st.none() | st.integers(0, 2**64)),
        "method": draw(st.sampled_from(["monte_carlo", "bayesian"])),
        "antithetic": draw(st.booleans()),
    }
    return ScenarioSpec.from_data(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_round_trip_through_yaml(spec: ScenarioSpec) -> None:
    text = spec.to_yaml()
    again = load_scenario_text(text)
    assert again == spec
    assert again.spec_hash() == spec.spec_hash()
    assert yaml.safe_load(text)["name"] == spec.name


@pytest.mark.parametrize("text", ["08", "0E0", "1:30", "-1", ".5", "1_000"])
def test_number_like_text_round_trips_through_yaml(text: str) -> None:
    """Text that starts like a number is quoted, so the strict loader reads it back as text."""
    spec = load_scenario_text(MINIMAL).with_overrides(description=text)
    assert load_scenario_text(spec.to_yaml()) == spec
