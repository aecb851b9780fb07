"""TDM's view of a population model: one patient's activity at given times for many
parameter sets at once, and the posterior of that patient's random effects.

Predictions come from the exact solution of the patient model's linear PK
(:class:`~asnflux.therapy._pk_exact.ExactPK`, held to the compiled network model by a test),
stepped from event to event (doses, sampling times, the end of the first month, each PEG
dose's clearance split), so TDM and the simulator predict the same activity. The random
effects are the model's standard-normal between-patient effects on clearance and volume
and, where the model has between-occasion variability, one effect on clearance per dose (an
occasion, KB ``tdm.occasion``). The residual error is the model's own (proportional +
additive); levels below the assay's limit are censored (Beal's M3).

The posterior is found by maximising it (MAP, from several starts), approximated by a
Gaussian at the maximum (Laplace) and then sampled by importance sampling from a Student-t
proposal around it, weighted by the exact posterior; the effective sample size is reported
and a poor one is an error, not a silent answer.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, special, stats

from .._errors import FitError
from ..knowledge import load_knowledge_base
from ..models._formulations import Formulation
from ..models._patient_inputs import FIRST_MONTH_H, Population
from ._pk_exact import ExactPK
from ._regimen import Dose

Array = NDArray[np.float64]

#: Longest propagation step (h) under Kloos' clearance ramp, which is evaluated at step
#: midpoints (also for the IM depot it feeds); at 6 h the predictions agree with the
#: simulator (the network model at rtol 1e-6) to 2e-5 (test_the_predictor_is_the_engine).
#: Everywhere else the rate matrix is constant between marks and one step is exact.
H_MAX = 6.0
_NU = 5.0  # degrees of freedom of the importance-sampling proposal (heavier tails than normal)
_MIN_ESS = 100.0


@dataclass(frozen=True)
class Covariates:
    bsa: float  # m²
    weight: float  # kg
    age_y: float | None = None
    female: bool | None = None
    phase: str | None = None  # Kloos 2021's treatment phase (None: induction)
    infection: bool = False
    infection_h: tuple[tuple[float, float], ...] = ()  # infection episodes (h) instead


class Predictor:
    """Activity (IU/mL) at ``times_h`` after ``doses`` of one formulation, for M parameter
    sets: ``z_cl``, ``z_v`` (M,) and ``kappa`` (M, doses) standard-normal effects; from
    ``silent_from_h`` on, clearance is that of a silent inactivation (the simulator's
    multiplier, KB ``imm.clearance_multiplier.silent``). With ``population`` the M sets are
    that population's patients, each with its own size and covariates (``who`` unused)."""

    def __init__(
        self,
        f: Formulation,
        who: Covariates | None,
        doses: Sequence[Dose],
        times_h: Array,
        silent_from_h: float = math.inf,
        population: Population | None = None,
    ) -> None:
        self.f = f
        self.population = population
        self.silent_from_h = silent_from_h
        self.who = who
        self.doses = tuple(doses)
        self.times_h = np.asarray(times_h, float)
        kb = load_knowledge_base()
        self._mult = {
            "silent": kb.value("imm.clearance_multiplier.silent", "dimensionless"),
            "allergy": kb.value("imm.clearance_multiplier.allergy", "dimensionless"),
        }
        marks = {d.time_h for d in self.doses} | set(self.times_h.tolist())
        if f.cl_first_month != 1.0:
            marks.add(FIRST_MONTH_H)
        if f.peg_split_h is not None:
            marks |= {d.time_h + f.peg_split_h for d in self.doses}
        if math.isfinite(silent_from_h):
            marks.add(silent_from_h)
        # clearance changes at each infection episode's edges
        source = population if population is not None else who
        if source is not None:
            marks |= {t for ep in source.infection_h for t in ep}
        self._marks = sorted(marks)  # before the first dose the activity is 0

    def __call__(self, z_cl: Array, z_v: Array, kappa: Array, scale: Array | None = None) -> Array:
        """``scale`` (M, doses) multiplies each dose (e.g. 0 to leave one out)."""
        m = len(z_cl)
        f, who = self.f, self.who
        if self.population is not None or who is None:
            if self.population is None:
                raise ValueError("Predictor needs who or population")
            pop = dataclasses.replace(
                self.population, z_cl=np.asarray(z_cl, float), z_v=np.asarray(z_v, float)
            )
        else:
            pop = Population(
                np.full(m, who.bsa),
                np.full(m, who.weight),
                np.asarray(z_cl, float),
                np.asarray(z_v, float),
                age_y=None if who.age_y is None else np.full(m, who.age_y),
                female=None if who.female is None else np.full(m, who.female),
                phase=who.phase,
                infection=who.infection,
                infection_h=who.infection_h,
            )
        # Between marks the rate matrix is constant, so one exact step covers the span,
        # except under Kloos' clearance ramp (evaluated at step midpoints: H_MAX steps).
        h_max = H_MAX if f.peg_split_h is not None else math.inf
        pk = ExactPK(f, pop, self._mult)
        no = np.zeros(m, dtype=bool)
        yes = np.ones(m, dtype=bool)
        out = np.empty((m, len(self.times_h)))
        by_time: dict[float, list[int]] = {}
        for j, t in enumerate(self.times_h.tolist()):
            by_time.setdefault(t, []).append(j)
        doses_at: dict[float, list[int]] = {}
        for k, d in enumerate(self.doses):
            doses_at.setdefault(d.time_h, []).append(k)
        t = self._marks[0]
        for mark in self._marks:
            span = mark - t
            if span > 0:
                n = 1 if math.isinf(h_max) else math.ceil(span / h_max - 1e-9)
                h = span / n
                for i in range(n):
                    silent = yes if t + (i + 0.5) * h >= self.silent_from_h else no
                    pk.step(t + i * h, h, silent, no)
                t = mark
            for j in by_time.get(mark, ()):  # before a dose given at the same time
                out[:, j] = pk.activity()
            for k in doses_at.get(mark, ()):
                d = self.doses[k]
                if f.iov_cl > 0:
                    pk.set_occasion(np.exp(f.iov_cl * kappa[:, k]))
                amount = d.amount * pop.bsa * f.iu_per_dose_unit * np.ones(m)
                if scale is not None:
                    amount = amount * scale[:, k]
                pk.give(amount, d.route, mark)
        return out

    def typical_cl_v(self, z_cl: float, z_v: float) -> tuple[float, float]:
        """The patient's CL (L/h) and central V (L) on a typical occasion."""
        f, who = self.f, self.who
        assert who is not None, "a population predictor has no single patient"
        cl, v1, _, _ = f.scaled(np.array([who.bsa]), np.array([who.weight]))
        age = None if who.age_y is None else np.array([who.age_y])
        female = None if who.female is None else np.array([who.female])
        cl = cl * f.covariate_cl(age, female, 1, who.phase, who.infection)
        return (
            float(cl[0] * math.exp(float(f.eta_cl(z_cl, z_v)))),
            float(v1[0] * math.exp(f.iiv_v * z_v)),
        )


@dataclass(frozen=True)
class ResidualError:
    proportional: float
    additive: float  # IU/mL
    source: str  # the model's KB records, or the TDM assumption's

    @classmethod
    def of(cls, f: Formulation) -> ResidualError:
        if math.isfinite(f.ruv_prop) and math.isfinite(f.ruv_add):
            return cls(f.ruv_prop, f.ruv_add, f"{f.pk_model} (its published residual error)")
        kb = load_knowledge_base()
        return cls(
            kb.value("tdm.residual.proportional", "dimensionless"),
            kb.value("tdm.residual.additive", "IU/mL"),
            f"assumption (tdm.residual.*): {f.pk_model} publishes no residual error",
        )

    def sd(self, pred: Array) -> Array:
        return np.sqrt((self.proportional * pred) ** 2 + self.additive**2)


def log_likelihood(pred: Array, y: Array, lloq: Array, ruv: ResidualError) -> Array:
    """Per parameter set: Σ log p(level | prediction); NaN ``lloq`` = measured, else M3."""
    sd = ruv.sd(pred)
    cens = np.isfinite(lloq)
    measured = stats.norm.logpdf(y[None, :], pred, sd)
    below = special.log_ndtr((np.nan_to_num(lloq)[None, :] - pred) / sd)
    return np.where(cens[None, :], below, measured).sum(axis=1)


@dataclass(frozen=True)
class Posterior:
    """θ = (z_cl, z_v, κ_1..κ_K): MAP, importance samples (S, d) and their weights."""

    mode: Array
    samples: Array
    weights: Array  # (S,), sum 1
    ess: float


class _Objective:
    """Negative log posterior of θ = (z_cl, z_v, κ of every dose given up to the last level;
    a dose given at the last level's time has only its prior)."""

    def __init__(self, pred: Predictor, y: Array, lloq: Array, ruv: ResidualError, k: int):
        self.pred, self.y, self.lloq, self.ruv, self.k = pred, y, lloq, ruv, k
        self.n_doses = len(pred.doses)

    def kappa(self, theta: Array) -> Array:
        out = np.zeros((len(theta), self.n_doses))
        out[:, : self.k] = theta[:, 2 : 2 + self.k]
        return out

    def __call__(self, theta: Array) -> Array:
        theta = np.atleast_2d(theta)
        p = self.pred(theta[:, 0], theta[:, 1], self.kappa(theta))
        loglik = log_likelihood(p, self.y, self.lloq, self.ruv)
        return np.asarray(0.5 * np.sum(theta**2, axis=1) - loglik)

    def value_and_grad(self, x: Array, h: float = 1e-5) -> tuple[float, Array]:
        d = len(x)
        pts = np.vstack([x, x + h * np.eye(d), x - h * np.eye(d)])
        v = self(pts)
        return float(v[0]), (v[1 : 1 + d] - v[1 + d :]) / (2 * h)

    def hessian(self, x: Array, h: float = 1e-3) -> Array:
        d = len(x)
        eye = np.eye(d)
        pts = [x]
        for i in range(d):
            pts += [x + h * eye[i], x - h * eye[i]]
            for j in range(i + 1, d):
                pts += [x + h * (eye[i] + eye[j]), x - h * (eye[i] + eye[j])]
        v = self(np.vstack(pts))
        f0, hess, at = v[0], np.empty((d, d)), 1
        diag = np.empty(d)
        pair: dict[tuple[int, int], float] = {}
        for i in range(d):
            diag[i] = (v[at] + v[at + 1] - 2 * f0) / h**2
            at += 2
            for j in range(i + 1, d):
                pair[(i, j)] = v[at] + v[at + 1]
                at += 2
        for i in range(d):
            hess[i, i] = diag[i]
            for j in range(i + 1, d):
                # f(x+h(ei+ej)) + f(x-h(ei+ej)) - 2f = h²(Hii + Hjj + 2Hij)
                hij = ((pair[(i, j)] - 2 * f0) / h**2 - diag[i] - diag[j]) / 2
                hess[i, j] = hess[j, i] = hij
        return hess


def posterior(
    pred: Predictor,
    y: Array,
    lloq: Array,
    ruv: ResidualError,
    occasions: int,
    rng: np.random.Generator,
    n_samples: int = 1000,
) -> Posterior:
    """MAP, Laplace and importance-sampled posterior of one patient's random effects."""
    obj = _Objective(pred, y, lloq, ruv, occasions)
    d = 2 + occasions
    best: optimize.OptimizeResult | None = None
    for start_cl in (0.0, 2.5, -2.5):
        x0 = np.zeros(d)
        x0[0] = start_cl
        if pred.f.cl_v_corr == 1.0:  # CL's effect is V's: move that one
            x0[0], x0[1] = 0.0, start_cl
        res = optimize.minimize(obj.value_and_grad, x0, jac=True, method="BFGS")
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    mode = np.asarray(best.x)
    if not np.all(np.isfinite(mode)) or np.max(np.abs(mode)) > 12:
        raise FitError(
            f"TDM: the posterior has no finite maximum for these levels (random effects "
            f"{np.round(mode, 2).tolist()}); check the levels and the doses"
        )
    hess = obj.hessian(mode)
    w_eig, vecs = np.linalg.eigh(0.5 * (hess + hess.T))
    # Curvature below the prior's 1 can be real (a likelihood curving away), but the
    # proposal only has to cover the posterior: a floor of 0.5 keeps it from collapsing onto
    # a numerically flat or negative direction; the weights correct the rest.
    w_eig = np.clip(w_eig, 0.5, None)
    cov = (vecs / w_eig) @ vecs.T
    for attempt in (1, 4):
        s = n_samples * attempt
        chol = np.linalg.cholesky(cov * 1.2**2)
        z = rng.standard_normal((s, d))
        u = rng.chisquare(_NU, size=(s, 1)) / _NU
        theta = mode + (z / np.sqrt(u)) @ chol.T
        log_q = stats.multivariate_t(mode, cov * 1.2**2, df=_NU).logpdf(theta)
        log_w = -obj(theta) - np.atleast_1d(log_q)
        log_w -= np.max(log_w)
        w = np.exp(log_w)
        w /= w.sum()
        ess = float(1.0 / np.sum(w**2))
        if ess >= _MIN_ESS:
            break
    if not ess >= _MIN_ESS:  # NaN weights fail here too
        raise FitError(
            f"TDM: importance sampling of the posterior failed (effective sample size "
            f"{ess:.0f} of {s}); the levels do not fit this population model"
        )
    return Posterior(mode, theta, w, ess)


def weighted_quantiles(values: Array, weights: Array, q: float) -> Array:
    """The weighted ``q`` quantile of each column of ``values`` (samples × columns)."""
    order = np.argsort(values, axis=0)
    v = np.take_along_axis(values, order, axis=0)
    cdf = np.cumsum(weights[order], axis=0) / np.sum(weights)
    first = np.minimum((cdf < q).sum(axis=0), len(values) - 1)  # first cdf ≥ q
    return np.asarray(v[first, np.arange(values.shape[1])])


def weighted_quantile(values: Array, weights: Array, q: float) -> float:
    return float(weighted_quantiles(values[:, None], weights, q)[0])
