"""Prior files of the Bayesian calibration: loading, validation and hashing.

A prior file (``simengine/models/priors.yaml``) declares one prior per parameter, each with
its justification (``why:``). See that file for the format and the sources.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from simengine.exceptions import Issue, ModelFileError
from simengine.structure import default_structure

__all__ = [
    "DEFAULT_PRIORS_PATH",
    "EXPOSURES",
    "VAR_FACTORS",
    "Prior",
    "PriorSet",
    "load_priors",
]

DEFAULT_PRIORS_PATH = Path(__file__).resolve().parents[1] / "models" / "priors.yaml"
#: Asset exposures, the order of ``beta``'s last axis (the packaged model's vocabulary).
EXPOSURES: tuple[str, ...] = default_structure().exposures
#: Stochastic (VAR) factors, the order of ``c``, ``A``, ``g``, ``chol`` (the packaged model's).
VAR_FACTORS: tuple[str, ...] = default_structure().stochastic
FORMAT = "simengine-priors/1"

_PARAMS: dict[str, tuple[str, ...]] = {
    "normal": ("mu", "sigma"),
    "halfnormal": ("sigma",),
    "gamma": ("alpha", "beta", "shift"),
    "lkj": ("eta",),
}
_ASSET_DISTS = {"mu": "normal", "kappa": "normal", "sigma": "halfnormal"}
_DYNAMICS_DISTS = {
    "const": "normal",
    "ar_own": "normal",
    "ar_cross": "normal",
    "policy_gap": "normal",
    "innovation_sd": "halfnormal",
    "innovation_corr": "lkj",
    "innovation_dof": "gamma",
}
_RESIDUAL_DISTS = {"corr": "lkj", "dof": "gamma"}
_POSITIVE = {"sigma", "alpha", "beta", "eta"}


@dataclass(frozen=True)
class Prior:
    """One prior distribution.

    Attributes
    ----------
    dist : str
        ``normal``, ``halfnormal``, ``gamma`` (of ``x - shift``) or ``lkj``.
    params : dict
        Its parameters (``mu, sigma`` / ``sigma`` / ``alpha, beta, shift`` / ``eta``).
    why : str
        Justification, as written in the prior file.
    """

    dist: str
    params: Mapping[str, float]
    why: str = ""

    def __getitem__(self, key: str) -> float:
        return float(self.params[key])


@dataclass(frozen=True)
class PriorSet:
    """A validated prior file.

    Attributes
    ----------
    assets : tuple of str
        Asset names, in file order (the order of the ``asset`` axis).
    asset_priors : dict
        ``asset -> {"mu"|"kappa"|"sigma": Prior, "beta": {exposure: Prior}}``.
    residuals, dynamics : dict
        ``name -> Prior`` (see the prior file).
    innovations : str
        ``student_t`` or ``gaussian`` (factor innovations).
    neutral_rate : float
        Fixed neutral policy rate n (%).
    prior_hash : str
        sha256 of the canonical JSON of the parsed file (comments and layout do not count).
    source : str
        Where the priors came from (a path or ``<mapping>``).
    """

    assets: tuple[str, ...]
    asset_priors: Mapping[str, Mapping[str, Any]]
    residuals: Mapping[str, Prior]
    dynamics: Mapping[str, Prior]
    innovations: str
    neutral_rate: float
    prior_hash: str
    source: str


def load_priors(priors: PriorSet | Mapping[str, Any] | str | Path | None = None) -> PriorSet:
    """Load and validate a prior file.

    Parameters
    ----------
    priors : PriorSet, mapping, path or None
        ``None`` loads the packaged ``simengine/models/priors.yaml``; a mapping is validated as
        if read from a file; a PriorSet is returned unchanged.

    Returns
    -------
    PriorSet

    Raises
    ------
    ModelFileError
        Listing every problem (missing or unknown entries, bad distributions, bad values).
    """
    if isinstance(priors, PriorSet):
        return priors
    if priors is None or isinstance(priors, str | Path):
        path = Path(priors) if priors is not None else DEFAULT_PRIORS_PATH
        try:
            raw = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as err:
            raise ModelFileError(
                [Issue(str(path), None, "", f"cannot read prior file: {err}")]
            ) from err
        return _parse(raw, str(path))
    return _parse(dict(priors), "<mapping>")


def _parse(raw: Any, source: str) -> PriorSet:
    issues: list[Issue] = []

    def bad(field: str, message: str, hint: str = "") -> None:
        issues.append(Issue(source, None, field, message, hint))

    if not isinstance(raw, Mapping):
        raise ModelFileError(
            [Issue(source, None, "", f"expected a mapping, got {type(raw).__name__}")]
        )
    if raw.get("format") != FORMAT:
        bad("format", f"expected {FORMAT!r}, got {raw.get('format')!r}")
    assets_raw = raw.get("assets")
    if not isinstance(assets_raw, Mapping) or not assets_raw:
        bad("assets", "expected a non-empty mapping asset -> priors")
        assets_raw = {}
    asset_priors = {str(a): _parse_asset(str(a), spec, bad) for a, spec in assets_raw.items()}
    residuals = _parse_group("residuals", raw.get("residuals"), _RESIDUAL_DISTS, bad)
    dyn_raw = raw.get("dynamics") if isinstance(raw.get("dynamics"), Mapping) else {}
    dynamics = _parse_group(
        "dynamics", dyn_raw, _DYNAMICS_DISTS, bad, extra=("innovations", "scaling")
    )
    innovations = dyn_raw.get("innovations", "student_t")
    if innovations not in ("student_t", "gaussian"):
        bad("dynamics.innovations", f"got {innovations!r}", "expected student_t or gaussian")
    neutral = raw.get("neutral_rate")
    neutral_value = neutral.get("value") if isinstance(neutral, Mapping) else neutral
    if not isinstance(neutral_value, int | float) or isinstance(neutral_value, bool):
        bad("neutral_rate.value", f"expected a number (%), got {neutral_value!r}")
        neutral_value = float("nan")
    for field, prior in (
        ("residuals.dof", residuals.get("dof")),
        ("dynamics.innovation_dof", dynamics.get("innovation_dof")),
    ):
        if prior is not None and prior["shift"] < 2:
            bad(
                f"{field}.shift",
                f"must be >= 2 (unit-variance Student-t needs nu > 2), got {prior['shift']}",
            )
    if issues:
        raise ModelFileError(issues)
    canonical = json.dumps(raw, sort_keys=True, default=str, separators=(",", ":"))
    return PriorSet(
        assets=tuple(asset_priors),
        asset_priors=asset_priors,
        residuals=residuals,
        dynamics=dynamics,
        innovations=str(innovations),
        neutral_rate=float(neutral_value),
        prior_hash=hashlib.sha256(canonical.encode()).hexdigest(),
        source=source,
    )


def _parse_asset(asset: str, spec: Any, bad) -> dict[str, Any]:
    field = f"assets.{asset}"
    if not isinstance(spec, Mapping):
        bad(field, "expected a mapping with mu, kappa, sigma, beta")
        return {}
    out: dict[str, Any] = _parse_group(
        field, {k: v for k, v in spec.items() if k != "beta"}, _ASSET_DISTS, bad
    )
    beta = spec.get("beta")
    if not isinstance(beta, Mapping):
        bad(f"{field}.beta", f"expected a mapping over {list(EXPOSURES)}")
        beta = {}
    out["beta"] = _parse_group(f"{field}.beta", beta, dict.fromkeys(EXPOSURES, "normal"), bad)
    return out


def _parse_group(
    field: str, spec: Any, expected: Mapping[str, str], bad, extra: tuple[str, ...] = ()
) -> dict[str, Prior]:
    if not isinstance(spec, Mapping):
        bad(field, f"expected a mapping with {sorted(expected)}")
        return {}
    for key in spec:
        if key not in expected and key not in extra:
            bad(f"{field}.{key}", "unknown entry", f"expected one of {sorted(expected)}")
    out = {}
    for key, dist in expected.items():
        if key not in spec:
            bad(
                f"{field}.{key}", "missing", f"declare a {dist} prior with its justification (why:)"
            )
            continue
        prior = _parse_prior(f"{field}.{key}", spec[key], dist, bad)
        if prior is not None:
            out[key] = prior
    return out


def _parse_prior(field: str, spec: Any, dist: str, bad) -> Prior | None:
    if not isinstance(spec, Mapping):
        bad(field, f"expected a mapping with dist: {dist}, got {spec!r}")
        return None
    if spec.get("dist") != dist:
        bad(f"{field}.dist", f"got {spec.get('dist')!r}", f"this parameter takes dist: {dist}")
        return None
    if not str(spec.get("why", "")).strip():
        bad(f"{field}.why", "missing justification", "say where the prior comes from")
    params: dict[str, float] = {}
    for name in _PARAMS[dist]:
        value = spec.get(name, 0.0 if name == "shift" else None)
        if not isinstance(value, int | float) or isinstance(value, bool):
            bad(f"{field}.{name}", f"expected a number, got {value!r}")
            continue
        if name in _POSITIVE and value <= 0:
            bad(f"{field}.{name}", f"must be > 0, got {value}")
        params[name] = float(value)
    for key in spec:
        if key not in (*_PARAMS[dist], "dist", "why"):
            bad(f"{field}.{key}", "unknown entry", f"{dist} takes {list(_PARAMS[dist])}")
    return Prior(dist, params, str(spec.get("why", "")).strip())
