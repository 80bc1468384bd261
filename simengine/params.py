"""Model parameters as numpy arrays, and their conversion to the simulation grid.

Every array has a leading *draw* axis ``D``: ``D = 1`` for point values from a model file, ``D``
= number of posterior draws for a Bayesian run, where each path uses one draw.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np

from simengine.exceptions import NumericalError, SimulationError
from simengine.guards import check_dynamics, check_params, correlation_cholesky
from simengine.spec.model_file import ASSET_EXPOSURES, STOCHASTIC_FACTORS, ModelFile

__all__ = ["ModelParams", "default_model_path"]

K = len(STOCHASTIC_FACTORS)


def default_model_path() -> Path:
    """Path of the packaged default model file."""
    return Path(str(resources.files("simengine") / "models" / "default.yaml"))


def _vector(mapping: dict[str, float], names: tuple[str, ...]) -> np.ndarray:
    return np.array([float(mapping.get(n, 0.0)) for n in names])


def _matrix(mapping: dict[str, dict[str, float]], names: tuple[str, ...]) -> np.ndarray:
    return np.array([[float(mapping.get(r, {}).get(c, 0.0)) for c in names] for r in names])


def _corr(mapping: dict[str, dict[str, float]], names: tuple[str, ...], what: str) -> np.ndarray:
    """Symmetric correlation matrix from upper/lower entries; checks positive definiteness."""
    n = len(names)
    corr = np.eye(n)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i == j:
                continue
            v = mapping.get(a, {}).get(b, mapping.get(b, {}).get(a, 0.0))
            corr[i, j] = v
    if not np.allclose(corr, corr.T):
        raise NumericalError(f"{what} is not symmetric: entries given twice disagree")
    return corr


def cholesky_or_raise(
    corr: np.ndarray,
    what: str,
    names: tuple[str, ...] | None = None,
    *,
    repair: bool = False,
    repair_field: str = "",
) -> np.ndarray:
    """Cholesky factor of a correlation matrix, with an error naming the matrix if not PD.

    With ``repair=True`` the nearest valid correlation matrix (Higham 2002) is used instead,
    with a warning; see :func:`simengine.guards.correlation_cholesky`.
    """
    names = names or tuple(f"x{i}" for i in range(corr.shape[0]))
    return correlation_cholesky(corr, what, names, repair=repair, repair_field=repair_field)


@dataclass(frozen=True)
class ModelParams:
    """Parameters of the factor model with a leading draw axis ``D``.

    Notes
    -----
    Factor block (monthly), ``K = 4`` factors ``(rates, growth, inflation, credit)``::

        z_t = c + A z_{t-1} + g (p_{t-1} - n) + s surprise_t + m dtau_t + u_t,   u_t = chol eps_t

    Assets ``a = 1..N`` with exposures ``x_t = (rates, dtau, growth, inflation, credit)``::

        r_{a,t} = (mu_a - kappa_a (p_{t-1} - n)) dt + beta_a . x_t + b_a surprise_t
                  + sigma_a sqrt(dt) e_{a,t} + l_a J_t
    """

    assets: tuple[str, ...]
    c: np.ndarray  # (D, K)
    A: np.ndarray  # (D, K, K)
    chol: np.ndarray  # (D, K, K) Cholesky factor of the innovation covariance
    nu_f: np.ndarray  # (D,) innovation dof, inf = Gaussian
    g: np.ndarray  # (D, K) response per month to (p_{t-1} - n)
    s: np.ndarray  # (D, K) response to the policy surprise (pp)
    m: np.ndarray  # (D, K) response to the tariff change (pp)
    neutral: np.ndarray  # (D,)
    mu: np.ndarray  # (D, N) annual log drift at p = n
    kappa: np.ndarray  # (D, N) annual drift lost per pp of (p - n)
    beta: np.ndarray  # (D, N, 5)
    sigma: np.ndarray  # (D, N) annual residual volatility
    surprise_beta: np.ndarray  # (D, N) log return per pp of policy surprise (announcement)
    chol_a: np.ndarray  # (D, N, N) Cholesky factor of the residual correlation
    nu_a: np.ndarray  # (D,) residual dof, inf = Gaussian
    squeeze_loading: np.ndarray  # (D, N)
    base_intensity: np.ndarray  # (D,) squeezes per year at normal short interest
    normal_si: np.ndarray  # (D,) $bn
    elasticity: np.ndarray  # (D,)
    jump_mean: np.ndarray  # (D,)
    jump_sd: np.ndarray  # (D,)
    start_levels: tuple[float, ...] = ()
    labels: tuple[str, ...] = ()
    model_hash: str = ""
    posterior_hash: str = ""
    source: str = field(default="", compare=False)

    @property
    def n_draws(self) -> int:
        return int(self.c.shape[0])

    @classmethod
    def from_model_file(
        cls,
        model: ModelFile,
        model_hash: str = "",
        source: str = "",
        *,
        repair_correlation: bool | None = None,
    ) -> ModelParams:
        """Build point parameters (``D = 1``) from a validated model file.

        Parameters
        ----------
        model : ModelFile
        model_hash, source : str
            Stamped on results; ``source`` also names the file in errors.
        repair_correlation : bool, optional
            Override the file's ``dynamics.repair_correlation`` and
            ``residuals.repair_correlation`` (use the nearest valid correlation matrix when a
            matrix is not positive definite).

        Raises
        ------
        NumericalError
            A correlation matrix is not positive definite (and no repair was asked), the VAR is
            explosive beyond :data:`simengine.guards.MAX_SPECTRAL_RADIUS`, or a value is invalid.
        """
        dyn = model.dynamics
        names = tuple(model.assets)
        assets = [model.assets[a] for a in names]
        where = f" in {source}" if source else ""
        sd = _vector(dyn.innovation_sd, STOCHASTIC_FACTORS)
        corr_f = _corr(dyn.innovation_corr, STOCHASTIC_FACTORS, "dynamics.innovation_corr")
        chol = np.diag(sd) @ cholesky_or_raise(
            corr_f,
            f"dynamics.innovation_corr{where}",
            STOCHASTIC_FACTORS,
            repair=dyn.repair_correlation if repair_correlation is None else repair_correlation,
            repair_field="dynamics.repair_correlation",
        )
        corr_a = _corr(model.residuals.corr, names, "residuals.corr")
        chol_a = cholesky_or_raise(
            corr_a,
            f"residuals.corr{where}",
            names,
            repair=(
                model.residuals.repair_correlation
                if repair_correlation is None
                else repair_correlation
            ),
            repair_field="residuals.repair_correlation",
        )
        sq = model.squeeze

        def one(x: float | None) -> np.ndarray:
            return np.array([np.inf if x is None else float(x)])

        return cls(
            assets=names,
            c=_vector(dyn.const, STOCHASTIC_FACTORS)[None],
            A=_matrix(dyn.ar, STOCHASTIC_FACTORS)[None],
            chol=chol[None],
            nu_f=one(dyn.innovation_dof),
            g=_vector(dyn.policy_gap, STOCHASTIC_FACTORS)[None],
            s=_vector(dyn.surprise_pass_through, STOCHASTIC_FACTORS)[None],
            m=_vector(dyn.tariff_pass_through, STOCHASTIC_FACTORS)[None],
            neutral=one(model.neutral_rate),
            mu=np.array([[a.mu for a in assets]]),
            kappa=np.array([[a.kappa for a in assets]]),
            beta=np.array([[_vector(a.beta, ASSET_EXPOSURES) for a in assets]]),
            sigma=np.array([[a.sigma for a in assets]]),
            surprise_beta=np.array([[a.surprise_response for a in assets]]),
            chol_a=chol_a[None],
            nu_a=one(model.residuals.dof),
            squeeze_loading=np.array([[a.squeeze_loading for a in assets]]),
            base_intensity=one(sq.base_intensity),
            normal_si=one(sq.normal_short_interest_bn),
            elasticity=one(sq.elasticity),
            jump_mean=one(sq.jump_mean),
            jump_sd=one(sq.jump_sd),
            start_levels=tuple(a.start_level for a in assets),
            labels=tuple(a.label or n for n, a in zip(names, assets, strict=True)),
            model_hash=model_hash,
            source=source,
        )._checked(f"model file{where}", "dynamics.ar")

    def _checked(self, what: str, ar_what: str) -> ModelParams:
        """Run the numerical guards (:mod:`simengine.guards`) and return ``self``."""
        check_params(self, what)
        check_dynamics(self.A, f"{ar_what} ({what})")
        return self

    def with_draws(self, arrays: dict[str, np.ndarray], posterior_hash: str) -> ModelParams:
        """Replace some parameters by posterior draws; the others are tiled along the draw axis.

        Parameters
        ----------
        arrays : dict
            Field name -> array with a leading draw axis, in the units of this class.
        posterior_hash : str
            Hash of the posterior file, stamped on results.
        """
        n = {a.shape[0] for a in arrays.values()}
        if len(n) != 1:
            raise SimulationError(f"posterior arrays disagree on the number of draws: {sorted(n)}")
        d = n.pop()
        out = {}
        for f in self._array_fields():
            cur = getattr(self, f)
            new = arrays.get(f)
            if new is None:
                out[f] = np.repeat(cur, d, axis=0) if cur.shape[0] == 1 else cur
            elif new.shape[1:] != cur.shape[1:]:
                raise SimulationError(
                    f"posterior field {f} has shape {new.shape[1:]}, expected {cur.shape[1:]}"
                )
            else:
                out[f] = np.asarray(new, dtype=np.float64)
        result = replace(self, posterior_hash=posterior_hash, **out)
        return result._checked("posterior draws", "A")

    @staticmethod
    def _array_fields() -> tuple[str, ...]:
        return _ARRAY_FIELDS

    def select_assets(self, names: tuple[str, ...] | list[str]) -> ModelParams:
        """Keep (and order) the given assets."""
        idx = [self.assets.index(a) for a in names]
        return replace(
            self,
            assets=tuple(names),
            mu=self.mu[:, idx],
            kappa=self.kappa[:, idx],
            beta=self.beta[:, idx],
            sigma=self.sigma[:, idx],
            surprise_beta=self.surprise_beta[:, idx],
            chol_a=_sub_chol(self.chol_a, idx),
            squeeze_loading=self.squeeze_loading[:, idx],
            start_levels=tuple(self.start_levels[i] for i in idx),
            labels=tuple(self.labels[i] for i in idx),
        )

    def spectral_radius(self) -> float:
        """Largest modulus of the VAR's eigenvalues over all draws."""
        return float(np.abs(np.linalg.eigvals(self.A)).max())


_ARRAY_FIELDS: tuple[str, ...] = tuple(
    (
        "c A chol nu_f g s m neutral mu kappa beta sigma surprise_beta chol_a nu_a squeeze_loading "
        "base_intensity normal_si elasticity jump_mean jump_sd"
    ).split()
)


def _sub_chol(chol: np.ndarray, idx: list[int]) -> np.ndarray:
    corr = chol @ np.swapaxes(chol, -1, -2)
    sub = corr[:, idx][:, :, idx]
    return np.linalg.cholesky(sub)


def model_file_hash(model: ModelFile) -> str:
    """sha256 of the canonical JSON of a validated model file.

    The opt-in ``repair_correlation`` flags are left out while false, so that model files
    written before the flags existed keep their hash.
    """
    data = model.model_dump(mode="json")
    for section in ("dynamics", "residuals"):
        if not data[section].get("repair_correlation"):
            data[section].pop("repair_correlation", None)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
