"""Exact linear PK for N patients: the closed-form solution of the patient model's PK.

The patient network model (:func:`asnflux.models.patient.build_patient_model`) is the one
definition of each formulation's PK; its PK part is linear between events (depot →
central ⇄ peripheral, or Würthwein's transit chain; Kloos' PEG with one clearance clock per
dose), so it has an exact solution over any interval with piecewise-constant clearance:
closed form for one compartment, the matrix exponential of the rate matrix otherwise. TDM
and the IM absorption fits evaluate thousands of PK-only predictions per patient, which
this does in milliseconds without an ODE solver. ``tests/test_tdm.py`` holds it to the
simulator (the compiled network model) on random patients of every formulation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import expm

from .._errors import DataError
from ..models._formulations import Formulation
from ..models._patient_inputs import FIRST_MONTH_H, Population
from ..units import Q_

__all__ = ["ExactPK", "expm_batch"]

Array = NDArray[np.float64]
# amounts in IU over volumes in L give IU/L; activities are reported in IU/mL
_IU_PER_ML_PER_IU_PER_L = float(Q_(1.0, "IU/L").to("IU/mL").magnitude)


def expm_batch(a: Array) -> Array:
    """exp of each matrix of ``a`` (n × k × k), by eigendecomposition where the eigenvalues
    are real, distinct and their eigenvectors well conditioned (compartmental rate matrices
    nearly always are), by scipy's Padé ``expm`` for the rest (an absorption rate equal to a
    disposition rate, say). One vectorised call instead of a Python loop over the batch."""
    if a.shape[1] > 4:  # a transit chain: repeated eigenvalues, so Padé throughout
        return np.asarray(expm(a))
    lam, vec = np.linalg.eig(a)
    scale = np.maximum(np.abs(lam).max(axis=1), 1e-300)
    gaps = np.where(
        np.eye(a.shape[1], dtype=bool), np.inf, np.abs(lam[:, :, None] - lam[:, None, :])
    )
    real = np.abs(lam.imag).max(axis=1) <= 1e-12 * scale
    distinct = gaps.min(axis=(1, 2)) > 1e-6 * scale
    good = real & distinct & (np.linalg.cond(vec) < 1e6)
    out = np.empty_like(a)
    if good.any():
        v = vec[good].real
        out[good] = np.einsum("nij,nj,njk->nik", v, np.exp(lam[good].real), np.linalg.inv(v))
    if (~good).any():
        out[~good] = expm(a[~good])
    return out


class ExactPK:
    """One formulation's exact linear PK for N patients."""

    def __init__(self, f: Formulation, pop: Population, kb_mult: dict[str, float]) -> None:
        self.f = f
        cl, v1, q, v2 = f.scaled(pop.bsa, pop.weight)
        cl = np.asarray(cl * f.covariate_cl(pop.age_y, pop.female, len(cl), pop.phase,
                                            pop.infection))  # fmt: skip
        self.cl = cl * np.exp(f.eta_cl(pop.z_cl, pop.z_v))
        self._cl_patient = self.cl
        self.v1 = v1 * np.exp(f.iiv_v * pop.z_v)
        self.q = q * np.ones_like(cl)
        self.v2 = v2 * np.exp(f.iiv_v * pop.z_v) if f.v2 > 0 else np.zeros_like(cl)
        self.two_cmt = f.v2 > 0
        # A transit chain (Würthwein): the "central" amount is spread over n compartments,
        # each eliminating at CL/V and passing on at Q/V (the last passes out of the body);
        # activity is the chain's total over V.
        self.transit = f.transit_n
        n = len(cl)
        # depot, central, peripheral (IU); or depot and the chain's compartments
        self.x = np.zeros((n, 1 + self.transit if self.transit else 3))
        # IV-only formulations have no absorption rate; their depot stays empty, so any
        # finite rate gives the same result (1 /h keeps the matrix well defined).
        self.ka = f.ka_im if not math.isnan(f.ka_im) else 1.0
        # Kloos' clearance rises with the time since *a* dose: each dose's drug keeps its
        # own clock, so doses superpose (linear PK). One (depot, central) pair per dose.
        self.per_dose = f.peg_split_h is not None and f.peg_slope_per_h is not None
        if self.per_dose and f.v2 > 0:
            raise DataError(f"{f.name}: a per-dose clearance clock needs one compartment")
        self.xd = np.zeros((n, 0, 2))  # per dose: depot, central (IU)
        self.t_dose = np.zeros(0)  # h, one per column of xd
        self.episodes = pop.infection_h  # infection episodes (h): the factor inside each
        self.silent_mult = kb_mult["silent"]
        self.allergy_mult = kb_mult["allergy"]
        self._phi: dict[tuple[bool, bool, float, float], Array] = {}
        self._pattern: tuple[Any, ...] | None = None
        self._assembled: Array = np.zeros((0, 3, 3))

    def set_occasion(self, factor: Array) -> None:
        """Clearance is the patient's value times ``factor`` from now on (an occasion's
        between-occasion effect); the cached propagators hold the old clearance."""
        self.cl = self._cl_patient * factor
        self._phi.clear()
        self._pattern = None

    def _matrix(self, k10: Array) -> Array:
        n = len(k10)
        size = self.x.shape[1]
        a = np.zeros((n, size, size))
        a[:, 0, 0] = -self.ka
        a[:, 1, 0] = self.ka
        if self.transit:
            k_tr = self.q / self.v1
            for i in range(1, size):
                a[:, i, i] = -(k10 + k_tr)
                if i + 1 < size:
                    a[:, i + 1, i] = k_tr
        elif self.two_cmt:
            k12 = self.q / self.v1
            k21 = self.q / self.v2
            a[:, 1, 1] = -(k10 + k12)
            a[:, 1, 2] = k21
            a[:, 2, 1] = k12
            a[:, 2, 2] = -k21
        else:
            a[:, 1, 1] = -k10
        return a

    def _in_episode(self, t_mid: float) -> bool:
        return self.f.infection_cl != 1.0 and any(a <= t_mid < b for a, b in self.episodes)

    def cl_multiplier(self, t_mid: float, silent: Any, allergic: Any) -> Array:
        m = np.ones_like(self.cl)
        if self.f.cl_first_month != 1.0 and t_mid < FIRST_MONTH_H:
            m = m * self.f.cl_first_month
        if self._in_episode(t_mid):
            m = m * self.f.infection_cl
        m = np.where(silent, m * self.silent_mult, m)
        return np.where(allergic, m * self.allergy_mult, m)

    def give(self, amount: Array, route: str, t: float) -> None:
        """Add a dose (IU per patient, zero where not given) at time ``t`` (h)."""
        into = amount * self.f.f_im if route == "im" else amount
        if self.per_dose:
            column = np.zeros((len(amount), 1, 2))
            column[:, 0, 0 if route == "im" else 1] = into
            self.xd = np.concatenate([self.xd, column], axis=1)
            self.t_dose = np.append(self.t_dose, t)
        else:
            self.x[:, 0 if route == "im" else 1] += into

    def _one_compartment(self, d0: Array, c0: Array, k10: Array, h: float) -> tuple[Array, Array]:
        """Exact step of depot -> central -> out (first order) over ``h``."""
        ka = self.ka
        e_ka = math.exp(-ka * h)
        e_k = np.exp(-k10 * h)
        diff = ka - k10
        safe = np.abs(diff) > 1e-12
        cross = np.where(safe, ka * (e_k - e_ka) / np.where(safe, diff, 1.0), ka * h * e_k)
        return d0 * e_ka, c0 * e_k + d0 * cross

    def step(self, t: float, h: float, silent: Any, allergic: Any) -> None:
        t_mid = t + 0.5 * h
        mult = self.cl_multiplier(t_mid, silent, allergic)
        if self.per_dose:
            assert self.f.peg_split_h is not None
            assert self.f.peg_slope_per_h is not None
            since = np.clip(t_mid - self.t_dose - self.f.peg_split_h, 0.0, None)
            ramp = 1.0 + self.f.peg_slope_per_h * since  # one factor per dose's clock
            k10 = (self.cl * mult / self.v1)[:, None] * ramp[None, :]
            self.xd[:, :, 0], self.xd[:, :, 1] = self._one_compartment(
                self.xd[:, :, 0], self.xd[:, :, 1], k10, h
            )
            return
        k10 = self.cl * mult / self.v1
        if not self.two_cmt and not self.transit:
            self.x[:, 0], self.x[:, 1] = self._one_compartment(self.x[:, 0], self.x[:, 1], k10, h)
            return
        first = bool(t_mid < FIRST_MONTH_H and self.f.cl_first_month != 1.0)
        ill = self._in_episode(t_mid)
        pattern = (first, ill, h, hash(silent.tobytes()), hash(allergic.tobytes()))
        if pattern != self._pattern:
            # Matrices differ only through the clearance multiplier: one exponential per
            # distinct multiplier, assembled per patient, reused until the pattern changes.
            uniq, inverse = np.unique(np.round(mult, 12), return_inverse=True)
            size = self.x.shape[1]
            phi = np.empty((len(k10), size, size))
            for j, m in enumerate(uniq):
                sel = inverse == j
                key = (first, ill, float(m), h)
                if key not in self._phi:
                    self._phi[key] = expm_batch(self._matrix(self.cl * m / self.v1) * h)
                phi[sel] = self._phi[key][sel]
            self._assembled, self._pattern = phi, pattern
        self.x = np.einsum("nij,nj->ni", self._assembled, self.x)

    def activity(self) -> Array:
        """Serum activity (IU/mL) from the central amount (IU) and volume (L)."""
        if self.per_dose:
            central = self.xd[:, :, 1].sum(axis=1)
        elif self.transit:
            central = self.x[:, 1:].sum(axis=1)
        else:
            central = self.x[:, 1]
        return np.asarray(central / self.v1 * _IU_PER_ML_PER_IU_PER_L)
