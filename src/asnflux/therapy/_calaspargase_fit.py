"""Calaspargase pegol per m², derived from the label's dose-normalised exposure.

The Asparlas label (section 12.3, Table 3; COG AALL07P4, 2,500 U/m² IV over 1 h) gives the
arithmetic means of its patients' Cmax, AUC over 25 days, AUC to infinity and terminal
half-life, and an absolute clearance (0.147 L/day) and Vss (2.96 L) for a population of
1-26-year-olds of unknown body size. Taking those as a 1 m² child's values, with Vss as
the central volume and the half-life's 52 % CV as the variability of clearance, gave half
the published peak (defect 4 of the therapy issue). Per m² they follow from the exposure
alone, because every patient got the same dose per m²:

* a bi-exponential C(t) = A·e^(−αt) + B·e^(−βt) after the dose, with β = ln 2 / t½ and
  A, α, B solving A + B = Cmax, A/α + B/β = AUC∞ and the same integral to day 25 = AUC25d
  (three equations, three unknowns: an exact solve, no fitting freedom left);
* its two-compartment micro-constants, and volumes per m² from the dose per m²
  (V1 = dose/Cmax, CL = dose/AUC∞);
* between-patient variability of CL per m² from the CV of AUC∞ (AUC = dose/CL), of V1 from
  the CV of Cmax (Cmax = dose/V1), each as a log-normal SD, ω = √ln(1 + CV²).

Assumptions, each in the record ``pk.calaspargase.label_fit_assumptions``: the 1-h infusion is
taken as a bolus (Tmax 1.17 h; the fast phase's half-life is ~12 h), means of the patients'
non-compartmental values are treated as the values of the typical curve, and the CVs (which
include assay error) as between-patient variability — an upper bound. The result is a fit
recorded in the knowledge base (``pk.calaspargase.*.fit``, lab reference
``asnflux_fit_calaspargase``); the tests repeat it and compare. The label's half-life, Cmax
and AUC are therefore the fit's data, not a validation; DFCI 11-001 (another trial) is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.optimize import brentq

from .._errors import DataError
from ..knowledge import load_knowledge_base

__all__ = ["CalaspargaseFit", "fit_calaspargase"]

_AUC_WINDOW_DAYS = 25.0  # the label's AUC0-25d


@dataclass(frozen=True)
class CalaspargaseFit:
    """Two-compartment disposition per m² (volumes L/m², flows L/h/m²) and its variability."""

    a: float  # IU/mL, fast-phase intercept
    alpha_per_day: float
    b: float  # IU/mL, terminal-phase intercept
    beta_per_day: float
    cl: float
    v1: float
    q: float
    v2: float
    omega_cl: float
    omega_v: float


def _biexponential(
    cmax: float, auc_window: float, auc_inf: float, beta: float, window: float
) -> tuple[float, float, float]:
    """(A, α, B) of A·e^(−αt) + B·e^(−βt) with the given peak, AUCs and terminal rate."""

    def parts(alpha: float) -> tuple[float, float]:
        # A + B = cmax and A/α + B/β = auc_inf fix A and B for a given α
        b = (auc_inf - cmax / alpha) / (1.0 / beta - 1.0 / alpha)
        return cmax - b, b

    def window_error(alpha: float) -> float:
        a, b = parts(alpha)
        return (a / alpha * (1 - math.exp(-alpha * window))
                + b / beta * (1 - math.exp(-beta * window)) - auc_window)  # fmt: skip

    lo, hi = beta * (1 + 1e-6), 1e4 * beta  # the fast phase is faster than the terminal
    grid = [lo * (hi / lo) ** (i / 400) for i in range(401)]
    values = [window_error(x) for x in grid]
    for x0, x1, f0, f1 in zip(grid, grid[1:], values, values[1:], strict=False):
        if f0 * f1 <= 0 and f0 != f1:
            alpha = brentq(window_error, x0, x1, xtol=1e-14)
            a, b = parts(alpha)
            if a > 0 and b > 0:
                return a, alpha, b
    raise DataError(
        "calaspargase label: no bi-exponential with positive phases has the label's Cmax, "
        "AUC0-25d, AUC0-inf and half-life"
    )


def fit_calaspargase() -> CalaspargaseFit:
    """Per-m² two-compartment disposition of calaspargase pegol from the label's means."""
    kb = load_knowledge_base()
    dose = kb.value("dose.calaspargase.label", "IU/m**2")
    cmax_rec = kb.get("pk.calaspargase.cmax.label")
    auc_inf_rec = kb.get("pk.calaspargase.auc_inf.label")
    cmax = kb.value("pk.calaspargase.cmax.label", "IU/mL")
    auc25 = kb.value("pk.calaspargase.auc_25d.label", "day*IU/mL")
    auc_inf = kb.value("pk.calaspargase.auc_inf.label", "day*IU/mL")
    beta = math.log(2) / kb.value("pk.calaspargase.t_half.label", "day")
    a, alpha, b = _biexponential(cmax, auc25, auc_inf, beta, _AUC_WINDOW_DAYS)
    k21 = (a * beta + b * alpha) / (a + b)
    k10 = alpha * beta / k21
    k12 = alpha + beta - k21 - k10
    v1 = dose / (a + b) / 1000.0  # IU/m² over IU/mL -> mL/m² -> L/m²
    per_h = 1.0 / 24.0

    def omega(rec_cv: float) -> float:
        return math.sqrt(math.log(1.0 + rec_cv**2))

    def cv(rec: object) -> float:
        unc = getattr(rec, "uncertainty", None)
        if unc is None or unc.kind != "cv":
            raise DataError(f"{getattr(rec, 'id', rec)}: the fit needs the label's %CV")
        return float(unc.value)

    return CalaspargaseFit(
        a, alpha, b, beta,
        cl=k10 * v1 * per_h, v1=v1, q=k12 * v1 * per_h, v2=k12 * v1 / k21,
        omega_cl=omega(cv(auc_inf_rec)), omega_v=omega(cv(cmax_rec)),
    )  # fmt: skip
