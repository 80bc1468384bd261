"""Posterior files: provenance stamps, atomic NetCDF writes, verified loads, parameter arrays.

A posterior file is an ArviZ InferenceData in NetCDF (groups ``posterior`` and
``sample_stats``); its ``posterior`` group carries the provenance attributes listed in
:data:`REQUIRED_ATTRS`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simengine.bayes.prepare import ModelData
from simengine.bayes.priors import EXPOSURES, VAR_FACTORS, PriorSet
from simengine.exceptions import DataError, PosteriorMismatchError, SimengineError
from simengine.guards import memory_limit_mb
from simengine.io import check_netcdf_size, dataset_hash, file_sha256, write_netcdf

__all__ = [
    "FORMAT",
    "REQUIRED_ATTRS",
    "load_posterior",
    "model_structure_hash",
    "package_version",
    "params_from_posterior",
    "posterior_content_hash",
    "posterior_to_param_arrays",
    "read_table",
    "save_posterior",
    "stamp_posterior",
    "thin_posterior",
]

FORMAT = "simengine-posterior/1"
DEFAULT_POSTERIOR_PATH = Path(__file__).resolve().parents[1] / "models" / "default_posterior.nc"
#: Equation version of :func:`simengine.bayes.model.build_model`; bump when the model changes.
MODEL_VERSION = "returns-news-carry-studentt+var1-gap-credit-ecm/2"
REQUIRED_ATTRS: tuple[str, ...] = (
    "format",
    "structure_hash",
    "table_hash",
    "prior_hash",
    "date_start",
    "date_end",
    "n_months",
    "simengine_version",
    "assets",
    "exposures",
    "factors",
    "innovations",
    "neutral_rate",
    "level_end",
    "model_file_hash",
    "content_hash",
)
REQUIRED_GROUPS = ("posterior", "sample_stats")
#: Posterior variable -> dims after the (chain, draw) axes.
PARAM_DIMS: dict[str, tuple[str, ...]] = {
    "c": ("factor",),
    "A": ("factor", "lag"),
    "chol": ("factor", "factor_"),
    "g": ("factor",),
    "rho": ("factor",),
    "mu": ("asset",),
    "kappa": ("asset",),
    "beta": ("asset", "exposure"),
    "sigma": ("asset",),
    "chol_a": ("asset", "asset_"),
    "nu_a": (),
    "nu_f": (),
}


#: Posterior variable -> (role of the part, field of its parameters) in ``ModelParams``.
PARAM_FIELDS: dict[str, tuple[str, str]] = {
    "c": ("dynamics", "c"),
    "A": ("dynamics", "A"),
    "chol": ("dynamics", "chol"),
    "g": ("dynamics", "g"),
    "rho": ("dynamics", "rho"),
    "nu_f": ("dynamics", "nu"),
    "neutral": ("policy", "neutral"),
    "mu": ("returns", "mu"),
    "kappa": ("returns", "kappa"),
    "beta": ("returns", "beta"),
    "sigma": ("residuals", "sigma"),
    "chol_a": ("residuals", "chol"),
    "nu_a": ("residuals", "nu"),
}


def package_version() -> str:
    """simengine's version (installed metadata, else ``simengine.version.__version__``)."""
    from importlib import metadata

    try:
        return metadata.version("simengine")
    except metadata.PackageNotFoundError:
        from simengine.version import __version__

        return __version__


def model_structure_hash(
    assets: tuple[str, ...] | list[str], innovations: str = "student_t"
) -> str:
    """sha256 of the model's structure: equations version, assets, exposures, factors, families.

    Two posteriors with the same hash can be used interchangeably by the simulation core
    (same parameter names, shapes and meaning); the data and the priors are hashed separately.
    """
    structure = {
        "model": MODEL_VERSION,
        "assets": list(assets),
        "exposures": list(EXPOSURES),
        "factors": list(VAR_FACTORS),
        "innovations": innovations,
        "residuals": "student_t",
    }
    return hashlib.sha256(json.dumps(structure, sort_keys=True).encode()).hexdigest()


def default_model_file_hash() -> str:
    """Hash (:func:`simengine.params.model_file_hash`) of the packaged default model file."""
    from simengine.params import ModelParams, default_model_path

    return ModelParams.load(default_model_path()).model_hash


def stamp_posterior(
    idata, data: ModelData, priors: PriorSet, model_file_hash: str | None = None, **extra: Any
):
    """Write the provenance attributes on ``idata.posterior`` (in place; returns ``idata``).

    ``model_file_hash`` names the point model file that completes the draws (squeeze terms,
    pass-through, start levels); default: the packaged default model. A posterior is only
    used with that model file (see :func:`params_from_posterior`).

    Lists are stored as JSON strings (NetCDF attributes are scalars); ``extra`` entries (sampler,
    seed, draws, ...) are added as given, JSON-encoding anything that is not a str/int/float.
    """
    attrs = {
        "format": FORMAT,
        "structure_hash": model_structure_hash(data.assets, priors.innovations),
        "table_hash": data.table_hash,
        "prior_hash": priors.prior_hash,
        "prior_source": priors.source,
        "date_start": data.date_range[0],
        "date_end": data.date_range[1],
        "n_months": int(len(data.dates)),
        "simengine_version": package_version(),
        "assets": json.dumps(list(data.assets)),
        "exposures": json.dumps(list(EXPOSURES)),
        "factors": json.dumps(list(VAR_FACTORS)),
        "innovations": priors.innovations,
        "neutral_rate": float(data.neutral_rate),
        "level_end": float(data.level_end),
        "model_file_hash": model_file_hash or default_model_file_hash(),
        "volatility_state": (
            "none: constant variance"
            if data.v is None
            else f"given the model file's curves (plug-in), mixing_sd {data.mixing_sd:.4g}"
        ),
        "state_hash": data.state_hash,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    for key, value in extra.items():
        attrs[key] = (
            value if isinstance(value, str | int | float) else json.dumps(value, default=str)
        )
    idata.posterior.attrs.update(attrs)
    return idata


def save_posterior(idata, path: str | Path, *, force: bool = False) -> Path:
    """Write a stamped posterior to NetCDF atomically (temp file in the same folder + os.replace).

    The posterior group gets its ``content_hash`` (:func:`posterior_content_hash`).

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is false.
    PosteriorMismatchError
        ``idata`` lacks a group or a provenance attribute (stamp it with :func:`stamp_posterior`).
    """
    path = Path(path)
    _verify(idata, str(path), check_hash=False)
    groups = [g for g in idata.groups() if g in ("posterior", "sample_stats", "observed_data")]
    idata.posterior.attrs["content_hash"] = posterior_content_hash(idata.posterior)
    return write_netcdf(path, {g: idata[g] for g in groups}, overwrite=force, compress=True)


def posterior_content_hash(posterior) -> str:
    """sha256 over the posterior group: every parameter's draws and every stamp.

    The stamps include ``model_hash`` (structure) and ``model_file_hash`` (the point model
    that completes the draws), so the hash covers the parameters and their model: editing a
    draw or an attribute, or re-labelling the model, makes :func:`load_posterior` refuse the
    file.
    """
    return dataset_hash(posterior)


def load_posterior(
    path: str | Path,
    expect_structure_hash: str | None = None,
    expect_table_hash: str | None = None,
):
    """Load a posterior file and verify it.

    Parameters
    ----------
    path : str or Path
    expect_structure_hash : str, optional
        The :func:`model_structure_hash` the caller needs; a different one is refused. (Results
        carry ``model_hash``, the hash of the model *file*; a posterior carries the hash of the
        model's *structure*, ``structure_hash``: files written before the rename call it
        ``model_hash`` and are read the same.)
    expect_table_hash : str, optional
        Refuse a posterior fitted on another data table.

    Returns
    -------
    arviz.InferenceData
        Loaded into memory (the file is closed).

    Raises
    ------
    PosteriorMismatchError
        Unreadable file, missing group/attribute/variable, internally inconsistent model hash, or
        a hash different from the expected one.
    """
    import arviz as az

    path = Path(path)
    if not path.exists():
        raise PosteriorMismatchError(f"posterior file {path} does not exist")
    if not path.is_file():
        raise PosteriorMismatchError(
            f"posterior {path} is not a regular file (a folder, FIFO or device); "
            "give the path of a .nc file written by `simengine calibrate`"
        )
    try:
        check_netcdf_size(path, "posterior file", memory_limit_mb())
        idata = az.from_netcdf(path)
        for group in idata.groups():
            idata[group].load()
    except SimengineError as err:
        raise PosteriorMismatchError(str(err)) from None
    except Exception as err:  # corrupted file: OSError, KeyError, MemoryError, ...
        raise PosteriorMismatchError(
            f"cannot read posterior file {path} ({type(err).__name__}: {err}); "
            "it is corrupted or not a posterior: refit with `simengine calibrate`"
        ) from None
    _verify(idata, str(path), check_hash=True)
    attrs = idata.posterior.attrs
    for label, expected, got in (
        ("model", expect_structure_hash, attrs["structure_hash"]),
        ("data table", expect_table_hash, attrs["table_hash"]),
    ):
        if expected is not None and expected != got:
            raise PosteriorMismatchError(
                f"posterior {path} was fitted for another {label}: its hash is {got[:12]}..., "
                f"expected {expected[:12]}...; refit with `simengine calibrate` for this {label}"
            )
    return idata


def _verify(idata, where: str, check_hash: bool) -> None:
    missing = [g for g in REQUIRED_GROUPS if g not in idata.groups()]
    if missing:
        raise PosteriorMismatchError(
            f"posterior {where} lacks groups {missing}; has {list(idata.groups())}"
        )
    attrs = idata.posterior.attrs
    if "structure_hash" not in attrs and "model_hash" in attrs:  # written before the rename
        attrs["structure_hash"] = attrs.pop("model_hash")
    absent = [a for a in REQUIRED_ATTRS if a not in attrs and (check_hash or a != "content_hash")]
    if absent:
        raise PosteriorMismatchError(
            f"posterior {where} lacks provenance attributes {absent}; it was not written by "
            "simengine.bayes (fit it with `simengine calibrate`)"
        )
    if attrs["format"] != FORMAT:
        raise PosteriorMismatchError(
            f"posterior {where} has format {attrs['format']!r}, expected {FORMAT!r}"
        )
    try:
        assets = json.loads(attrs["assets"])
    except (TypeError, ValueError) as err:
        raise PosteriorMismatchError(
            f"posterior {where}: attribute 'assets' is not a JSON list"
        ) from err
    if model_structure_hash(assets, attrs["innovations"]) != attrs["structure_hash"]:
        raise PosteriorMismatchError(
            f"posterior {where}: structure_hash does not match its structure (assets {assets}, "
            f"innovations {attrs['innovations']}); it was written by another model version"
        )
    needed = [v for v in PARAM_DIMS if v != "nu_f" or attrs["innovations"] == "student_t"]
    lacking = [v for v in needed if v not in idata.posterior.data_vars]
    if lacking:
        raise PosteriorMismatchError(f"posterior {where} lacks parameter variables {lacking}")
    if check_hash and posterior_content_hash(idata.posterior) != attrs["content_hash"]:
        raise PosteriorMismatchError(
            f"posterior {where} failed verification: its draws or attributes were changed after "
            "it was written (content hash mismatch); refit with `simengine calibrate`"
        )
    _check_values(idata.posterior, where)


def _check_values(post, where: str) -> None:
    """Attributes and draws the simulation relies on: a number, finite draws, Cholesky factors."""
    try:
        neutral = float(post.attrs["neutral_rate"])
    except (TypeError, ValueError):
        neutral = float("nan")
    if not np.isfinite(neutral):
        raise PosteriorMismatchError(
            f"posterior {where}: attribute neutral_rate is {post.attrs['neutral_rate']!r}; "
            "expected a finite number (% a year)"
        )
    for name in PARAM_DIMS:
        if name in post.data_vars and not np.issubdtype(post[name].dtype, np.number):
            raise PosteriorMismatchError(f"posterior {where}: variable {name} is not numeric")
    for name in ("chol", "chol_a"):
        if name not in post.data_vars:
            continue
        diag = np.diagonal(post[name].values, axis1=-2, axis2=-1)
        if not (np.all(np.isfinite(post[name].values)) and np.all(diag > 0)):
            raise PosteriorMismatchError(
                f"posterior {where}: {name} has draws that are not Cholesky factors of a "
                "positive definite matrix (non-positive or non-finite diagonal)"
            )


def posterior_to_param_arrays(idata) -> dict[str, np.ndarray]:
    """Posterior draws as arrays named like the ``ModelParams`` fields, leading draw axis D.

    Parameters
    ----------
    idata : arviz.InferenceData
        A stamped posterior (:func:`load_posterior` or :func:`simengine.bayes.fit.fit`).

    Returns
    -------
    dict of str to ndarray
        D = chains x draws (chain-major). In the contract's monthly units:
        ``c (D,K)``, ``A (D,K,K)``, ``chol (D,K,K)`` (Cholesky factor of the innovation
        covariance of u_t), ``g (D,K)`` (per pp of p - n), ``nu_f (D,)`` (inf if Gaussian),
        ``neutral (D,)`` (fixed: the prior file's neutral rate), ``mu (D,N)``, ``kappa (D,N)``,
        ``sigma (D,N)`` (annual), ``beta (D,N,5)`` (exposures rates, tariff, growth, inflation,
        credit), ``chol_a (D,N,N)`` (Cholesky factor of the residual correlation R),
        ``nu_a (D,)``. K = 4 factors (rates, growth, inflation, credit); N assets in the order of
        ``idata.posterior.attrs["assets"]``.

    Notes
    -----
    Not sampled, so not returned: the surprise and tariff pass-through ``s, m`` and the squeeze
    terms (``squeeze_loading, base_intensity, normal_si, elasticity, jump_mean, jump_sd``); take
    them from the point model file.
    """
    post = idata.posterior
    n = post.sizes["chain"] * post.sizes["draw"]
    out: dict[str, np.ndarray] = {}
    for name, dims in PARAM_DIMS.items():
        if name not in post.data_vars:
            continue
        da = post[name].transpose("chain", "draw", *dims)
        out[name] = np.ascontiguousarray(da.values.reshape(n, *da.shape[2:]), dtype=float)
    out.setdefault("nu_f", np.full(n, np.inf))
    out["neutral"] = np.full(n, float(post.attrs.get("neutral_rate", np.nan)))
    return out


def params_from_posterior(params, path: str | Path | None = None):
    """Replace a ``ModelParams``' sampled fields by the draws of a posterior file.

    Parameters
    ----------
    params : simengine.params.ModelParams
        Point parameters (one draw) from the model file; supplies everything not sampled
        (``s, m, surprise_beta``, squeeze terms, start levels).
    path : str, Path or None
        Posterior file; ``None`` or ``"default"`` = ``simengine/models/default_posterior.nc``.

    Returns
    -------
    ModelParams
        D = number of posterior draws; ``posterior_hash`` = sha256 of the file.

    Raises
    ------
    PosteriorMismatchError
        The file fails verification, or lacks one of ``params.assets``.
    """
    path = DEFAULT_POSTERIOR_PATH if path is None or str(path) == "default" else Path(path)
    file_hash = file_sha256(path)
    draws, attrs = _posterior_arrays(str(Path(path).resolve()), file_hash)
    paired = attrs["model_file_hash"]
    if paired != params.model_hash:
        raise PosteriorMismatchError(
            f"posterior {path} completes the model file with hash {paired[:12]}..., but the "
            f"scenario's model ({params.source or 'in code'}) has hash {params.model_hash[:12]}...: "
            "under method bayesian the posterior draws replace the model's mu, kappa, beta, "
            "sigma, correlations and VAR, so the model's own values would be ignored. Use "
            "method monte_carlo with this model, or fit a posterior for it "
            "(`simengine calibrate --model FILE`) and name it in posterior:"
        )
    structure = params.structure
    if tuple(json.loads(attrs["factors"])) != structure.stochastic:
        raise PosteriorMismatchError(
            f"posterior {path} has factors {json.loads(attrs['factors'])}; the model's stochastic "
            f"factors are {list(structure.stochastic)}: refit the posterior for this model"
        )
    arrays = _select_assets(
        {k: v.copy() for k, v in draws.items()}, json.loads(attrs["assets"]), params.assets, path
    )
    have = tuple(json.loads(attrs["exposures"]))
    if have != structure.exposures:
        missing = sorted(set(structure.exposures) - set(have))
        if missing:
            raise PosteriorMismatchError(
                f"posterior {path} lacks exposures {missing} of the model: refit it for this model"
            )
        arrays["beta"] = arrays["beta"][..., [have.index(e) for e in structure.exposures]]
    # The posterior samples sigma on the monthly returns; the model file's out-of-sample
    # recalibration (residuals sigma_scale, 1 = none) applies to every draw as to the point value.
    arrays["sigma"] = arrays["sigma"] * params["residuals"].sigma_scale[:1]
    arrays["c"] = _absolute_intercept(
        arrays, params["dynamics"].level0[0], float(attrs["level_end"])
    )
    nested: dict[str, dict[str, np.ndarray]] = {}
    for name, value in arrays.items():
        role, field = PARAM_FIELDS[name]
        nested.setdefault(role, {})[field] = value
    return params.with_draws(nested, posterior_hash=file_hash)


@lru_cache(maxsize=4)
def _posterior_arrays(path: str, file_hash: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Verified parameter arrays and attributes of a posterior file, read once per process.

    Keyed by the file's sha256, so a rewritten file is read (and verified) again; callers get
    copies. Reading and verifying the NetCDF costs more than a 1e5-path Bayesian run.
    """
    idata = load_posterior(path)
    return posterior_to_param_arrays(idata), dict(idata.posterior.attrs)


def _absolute_intercept(
    arrays: dict[str, np.ndarray], level_at_fit: np.ndarray, level_end: float
) -> np.ndarray:
    """``c`` for the absolute level: the posterior's ``c`` is relative to the running sum ``R``
    of the error-correcting factor's changes; with ``S = S_end - level_end + R`` (``S_end``: the
    model file's ``level_at_fit``, the level at the end of the same sample),
    ``c_abs = c - rho (S_end - level_end)``."""
    rho = arrays.get("rho")
    if rho is None:
        return arrays["c"]
    return arrays["c"] - rho * (level_at_fit[None, :] - level_end)


def _select_assets(
    arrays: dict[str, np.ndarray], have: list[str], want, path
) -> dict[str, np.ndarray]:
    missing = [a for a in want if a not in have]
    if missing:
        raise PosteriorMismatchError(
            f"posterior {path} has assets {have}; the model needs {list(want)} (missing {missing}). "
            "Refit with priors for those assets or drop them from the scenario"
        )
    idx = [have.index(a) for a in want]
    out = dict(arrays)
    for name in ("mu", "kappa", "sigma", "beta"):
        out[name] = arrays[name][:, idx]
    corr = arrays["chol_a"] @ np.swapaxes(arrays["chol_a"], 1, 2)
    try:
        out["chol_a"] = np.linalg.cholesky(corr[:, idx][:, :, idx])
    except np.linalg.LinAlgError:
        raise PosteriorMismatchError(
            f"posterior {path}: the residual correlation of some draws is not positive definite"
        ) from None
    return out


def thin_posterior(idata, n_draws: int):
    """Keep about ``n_draws`` draws in total, evenly spaced within each chain (deterministic).

    Keeps the ``sample_stats`` rows of the kept draws and the attributes.
    """
    chains, draws = idata.posterior.sizes["chain"], idata.posterior.sizes["draw"]
    per_chain = max(1, min(draws, int(np.ceil(n_draws / chains))))
    keep = np.unique(np.linspace(0, draws - 1, per_chain).round().astype(int))
    thinned = idata.isel(draw=keep, inplace=False)
    for group in thinned.groups():
        thinned[group] = thinned[group].assign_coords(draw=np.arange(len(keep)))
        thinned[group].attrs.update(idata[group].attrs)
    return thinned


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a calibration table from Parquet or CSV.

    A table saved by ``simengine.data.save_table`` (Parquet schema metadata or a ``.json``
    sidecar) is loaded with ``simengine.data.load_table`` (hash verified, ``attrs["table_hash"]``
    set); any other file is read as is (first column or ``date`` = month; content-hashed on use).

    Raises
    ------
    DataError
        Missing file, unknown extension, or a saved table whose values no longer match its hash.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"table file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv"):
        raise DataError(f"table file {path}: expected .parquet or .csv, got {path.suffix!r}")
    if _is_saved_table(path):
        from simengine.data import load_table

        return load_table(path).frame
    if suffix == ".csv":
        frame = pd.read_csv(path)
        key = "date" if "date" in frame.columns else frame.columns[0]
        dates = pd.DatetimeIndex(pd.to_datetime(frame.pop(key)))
        return frame.set_index(dates)
    return pd.read_parquet(path)


def _is_saved_table(path: Path) -> bool:
    if path.suffix.lower() == ".csv":
        return path.with_name(path.name + ".json").is_file()
    import pyarrow.parquet as pq

    return b"simengine.table" in (pq.read_schema(path).metadata or {})
