"""Plasma asparagine on both sides of the activity threshold: the in-vivo turnover and the
hydrolysis that goes on in the sample tube, fitted to paired activity/Asn data.

The simulator's plasma Asn obeys ``dAsn/dt = k (Asn0 - Asn) - V(A) Asn / (Km + Asn)`` with
``V = A`` (1 IU/mL hydrolyses 1 mM/min). Asn settles within minutes of a change in serum
activity (1/k ≈ 10 min), so a paired sample taken during a days-long PK decline sees the
quasi-steady state of that equation (:func:`plasma_asn_steady_state`).

A measured Asn is not the Asn in the patient: the enzyme goes on hydrolysing Asn in the
tube between sampling and deproteinisation (Gentili 1994). The observation model integrates
Michaelis–Menten hydrolysis over ``t_exvivo`` minutes of 37 °C-equivalent activity in the
sample (:func:`sampled_asn`, exact, via the Lambert W function).

One study reports both sides of the threshold (Cancer Chemother Pharmacol 2004, 14
children, abstract): near-normal Asn at 2 U/L (4,140 vs 7,235 ng/mL at < 2 U/L), the lowest
detectable Asn at a median 6.5 U/L and Asn kept below the 40 ng/mL LOD from a median 16 U/L.
A single-pool turnover cannot give both a 43 % fall at 2 U/L and a 180-fold fall by
6.5-16 U/L (that needs Km ≈ 1 µM, far below the E. coli enzyme's); ex-vivo hydrolysis, whose
depth grows exponentially with the activity, can. ``k`` and ``t_exvivo`` are fitted jointly
(Asn relative to the study's own untreated level: the mean at 2 U/L, and the LOD where the
two medians that bracket its crossing have their geometric mean — two conditions, two
unknowns, an exact solve whose range over the bracket is recorded); the knowledge base
records the result (``plasma.asn.turnover``, ``assay.asn.exvivo_time``) citing
``lab:asnflux_fit_plasma_asn``, and the tests solve it again. The fit's data are not
validation; the COG, DCOG and marrow observations in the validation suite are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares
from scipy.special import lambertw

from .._errors import DataError
from ..knowledge import load_knowledge_base
from ..units import Q_

__all__ = [
    "AsnFit",
    "ccp2004_points",
    "fit_plasma_asn",
    "plasma_asn_steady_state",
    "sampled_asn",
]

Array = NDArray[np.float64]
# 1 IU/mL hydrolyses 1 µmol/min per mL = 1 mM/min: the capacity per IU/mL, per minute and
# per hour (from the registry).
_MM_PER_MIN_PER_IU_ML = float(Q_(1.0, "IU/mL").to("mM/min").magnitude)
_MM_PER_H_PER_IU_ML = float(Q_(1.0, "IU/mL").to("mM/h").magnitude)


def plasma_asn_steady_state(saa: Any, k: float, asn0_mM: float, km_mM: Any) -> Array:
    """In-vivo plasma Asn (mM) at a constant serum activity ``saa`` (IU/mL): the root of
    ``k (Asn0 - a) = V a / (Km + a)``, ``V`` = the activity's capacity in mM/h."""
    v = _MM_PER_H_PER_IU_ML * np.asarray(saa, float)
    km = np.asarray(km_mM, float)
    b = k * asn0_mM - k * km - v
    return np.asarray((b + np.sqrt(b * b + 4.0 * k * k * asn0_mM * km)) / (2.0 * k))


def sampled_asn(asn_mM: Any, saa: Any, km_mM: Any, t_exvivo_min: float) -> Array:
    """Asn (mM) a sample shows after ``t_exvivo_min`` minutes of Michaelis–Menten hydrolysis
    by its own activity ``saa`` (IU/mL): ``Km ln(a0/a) + (a0 - a) = V t``, solved exactly
    (``a = Km W((a0/Km) exp((a0 - V t)/Km))``). ``t_exvivo_min = 0``: deproteinised at once."""
    if not (t_exvivo_min >= 0 and math.isfinite(t_exvivo_min)):
        raise DataError(
            f"ex-vivo time must be a non-negative number of minutes, got {t_exvivo_min!r}"
        )
    a0 = np.asarray(asn_mM, float)
    km = np.broadcast_to(np.asarray(km_mM, float), a0.shape)
    vt = _MM_PER_MIN_PER_IU_ML * np.asarray(saa, float) * t_exvivo_min
    # W(z) with z = (a0/Km) e^{(a0 - Vt)/Km}: in logs, so a deep fall does not underflow.
    log_z = np.log(np.where(a0 > 0, a0, 1.0) / km) + (a0 - vt) / km
    w = np.where(log_z < 600.0, np.real(lambertw(np.exp(np.minimum(log_z, 600.0)))),
                 log_z - np.log(np.maximum(log_z, 1.0)))  # fmt: skip
    out = np.where(a0 > 0, km * w, 0.0)
    # For tiny z, W(z) = z (to 1e-16 relative): the exponential form without cancellation.
    tiny = log_z < -30.0
    return np.where(tiny & (a0 > 0), km * np.exp(np.where(tiny, log_z, 0.0)), out)


def _log_sampled_ratio(saa: Any, k: float, t_min: float, asn0: float, km: float) -> Array:
    live = plasma_asn_steady_state(saa, k, asn0, km)
    return np.asarray(np.log(sampled_asn(live, saa, km, t_min) / asn0))


def ccp2004_points() -> tuple[float, float, tuple[float, float]]:
    """The 2004 study's two conditions: (Asn at 2 U/L relative to its untreated level, the
    LOD relative to that level, the two median activities (IU/mL) that bracket the LOD
    crossing: lowest detectable Asn at 6.5 U/L, kept below the LOD from 16 U/L)."""
    kb = load_knowledge_base()
    untreated = kb.value("obs.asn.untreated.ccp2004", "g/L")
    at_2 = kb.value("obs.asn.at_2_u_per_l.ccp2004", "g/L")
    lod = kb.value("obs.asn.lod.ccp2004", "g/L")
    bracket = (kb.value("obs.saa.asn_min_detectable.ccp2004", "IU/mL"),
               kb.value("obs.saa.asn_below_lod_min.ccp2004", "IU/mL"))  # fmt: skip
    return at_2 / untreated, lod / untreated, bracket


@dataclass(frozen=True)
class AsnFit:
    """The solved turnover and ex-vivo time, and their range over the LOD bracket."""

    k_per_h: float
    t_exvivo_min: float
    crossing_IU_per_mL: float  # where the sampled Asn meets the LOD (bracket's geometric mean)
    #: (k, t) solved with the crossing at each end of the bracket; None where no turnover
    #: and ex-vivo time meet both conditions (a crossing that low would also empty the
    #: 2 U/L sample)
    ends: dict[float, tuple[float, float] | None]


def _solve(ratio_2: float, ratio_lod: float, crossing: float, asn0: float, km: float
           ) -> tuple[float, float]:  # fmt: skip
    def residual(p: Any) -> Any:
        k, t = np.exp(p)
        y = _log_sampled_ratio(np.array([0.002, crossing]), k, t, asn0, km)
        return y - np.log([ratio_2, ratio_lod])

    sol = least_squares(residual, np.log([3.0, 3.0]), xtol=1e-14, ftol=1e-14, gtol=1e-14)
    if not sol.success or np.max(np.abs(sol.fun)) > 1e-8:
        raise DataError(
            f"plasma Asn fit: no turnover and ex-vivo time reproduce the data with the LOD "
            f"crossing at {crossing:g} IU/mL (largest log residual {np.max(np.abs(sol.fun)):.2g})"
        )
    k, t = np.exp(sol.x)
    return float(k), float(t)


def fit_plasma_asn() -> AsnFit:
    """``k`` (1/h) and ``t_exvivo`` (min) solved from the 2004 study's two conditions — the
    mean Asn at 2 U/L, and the LOD met where the two median activities that bracket it
    (6.5 and 16 U/L) have their geometric mean — with the E. coli enzyme's Km (the abstract
    does not name the enzyme; E. coli asparaginase was the first-line enzyme of the period,
    an assumption). Two conditions, two unknowns: an exact solve, no standard errors; the
    bracket's ends, where solvable, give the range."""
    kb = load_knowledge_base()
    asn0 = kb.value("seed.t2.plasma.asn", "mM")
    km = kb.value("asnase.ecoli.km", "mM")
    ratio_2, ratio_lod, (lo, hi) = ccp2004_points()
    crossing = math.sqrt(lo * hi)
    k, t = _solve(ratio_2, ratio_lod, crossing, asn0, km)
    ends: dict[float, tuple[float, float] | None] = {}
    for c in (lo, hi):
        try:
            ends[c] = _solve(ratio_2, ratio_lod, c, asn0, km)
        except DataError:
            ends[c] = None
    return AsnFit(k, t, crossing, ends)
