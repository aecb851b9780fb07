"""Recombinant Erwinia asparaginase (Rylaze) IM, per m², fitted to the label's simulated exposure.

The Rylaze label (section 12.3, Table 4) summarises the sponsor's population model (built on
COG AALL1931) by the geometric means (%CV) of the peak and trough serum asparaginase activity
after the last dose of its two recommended IM schedules, simulated in a virtual population:

* 25 mg/m² every 48 h: Cmax 2.3 U/mL (55 %), trough at 48 h 0.46 U/mL (75 %);
* 25/25/50 mg/m² Mon/Wed/Fri: after the Wednesday-morning 25 mg/m² dose Cmax 2.3 (54 %) and
  the trough at the longest interval, 58 h, 0.3 (75 %); after the Friday-afternoon 50 mg/m²
  dose Cmax 4.1 (57 %) and a trough 0.39 (87 %) whose time the label's excerpt read here does
  not state.

The label states no model parameters, and SAA is modelled against doses in mg, so only the
activity reaching plasma per mg over the volume is identifiable (F·specific activity / V), not
F, V or the specific activity apart. This module fits the smallest model that has the label's
shape — one compartment with first-order absorption, linear (the label: Cmax and AUC rise in
proportion to dose from 12.5 to 50 mg/m²) — to the five values with a stated time, on the
log scale (least squares, three parameters: ka, ke and the dose-normalised amplitude). The
Friday trough is left out of the fit and reported at 62-67 h (the Friday dose 53-58 h after
Wednesday's, the next Monday's at the same time as the first) to show how well the fit holds
on a value it was not given.

Between-patient variability: the peak moves with the amplitude (1/V at a fixed ke), the trough
also with ke, so ln V and ln ke are taken as independent normals, their SDs solved so that the
first-order (delta-method) variance of ln Cmax and ln Ctrough of the every-48-h schedule is
ln(1 + CV²) of the label's CVs. CL = ke·V then has ω_CL = √(ω_V² + ω_ke²) and correlates
with V (ρ = ω_V/ω_CL), which the engine takes as a correlation of the two random effects.

For the engine, the amplitude becomes an apparent volume V/F per m² at the knowledge base's
nominal specific activity (``pk.erwinia_recombinant.specific_activity``) with F = 1: SAA does
not depend on that number, only the IU amounts reported alongside it do. Assumptions are in
the record ``pk.erwinia_recombinant.label_fit_assumptions``; the fit's values in
``pk.erwinia_recombinant.*.fit`` (lab reference ``asnflux_fit_rylaze``), which the tests
repeat. The label's values are therefore the fit's data, not a validation; AALL1931's
observed means and NSAA fractions (Maese 2023) are the checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

from .._errors import DataError
from ..knowledge import load_knowledge_base

__all__ = ["RylazeFit", "fit_rylaze", "rylaze_label_exposure"]

Array = NDArray[np.float64]

#: The label's schedules (h): seven doses every 48 h (one PEG dose's replacement, label
#: Table 1), and two weeks Mon/Wed/Fri with the Friday dose 58 h after Wednesday's (the
#: longest interval, footnote a of Table 4). The next Monday is 168 h after the last one.
_Q48_TIMES = tuple(48.0 * k for k in range(7))
_MWF_FRI_H = 48.0 + 58.0
_MWF_TIMES = (0.0, 48.0, _MWF_FRI_H, 168.0, 216.0, 168.0 + _MWF_FRI_H)
_MWF_DOSES = (25.0, 25.0, 50.0, 25.0, 25.0, 50.0)
_FRI_TROUGH_H = (62.0, 67.0)  # Friday 6 pm or 1 pm to Monday 8 am

#: The fitted label values, in the order :func:`rylaze_label_exposure` returns them.
_RECORDS = (
    "pk.erwinia_recombinant.cmax_q48h.label",
    "pk.erwinia_recombinant.ctrough_q48h.label",
    "pk.erwinia_recombinant.cmax_wed.label",
    "pk.erwinia_recombinant.ctrough_wed_58h.label",
    "pk.erwinia_recombinant.cmax_fri.label",
)


@dataclass(frozen=True)
class RylazeFit:
    """One-compartment IM model per m²; ``amplitude`` is F·activity/V per mg/m² dose."""

    ka_per_h: float
    ke_per_h: float
    amplitude: float  # (IU/mL) per (mg/m²)
    v_over_f: float  # L/m² at the nominal specific activity
    cl_over_f: float  # L/h/m²
    omega_cl: float  # log-SD of CL
    omega_v: float  # log-SD of V (= of the amplitude)
    omega_ke: float  # log-SD of ke = CL/V, independent of V
    cl_v_corr: float  # correlation of ln CL with ln V: ω_V / ω_CL
    observed: tuple[float, ...]  # the five fitted label values (IU/mL)
    predicted: tuple[float, ...]
    friday_trough: tuple[float, float]  # predicted at 62 and 67 h (IU/mL)
    friday_trough_label: float


def _curve(t: Array, times: tuple[float, ...], doses: tuple[float, ...],
           ka: float, ke: float, amp: float) -> Array:  # fmt: skip
    """SAA (IU/mL) at ``t`` (h) after IM doses (mg/m²) at ``times``: superposed Bateman terms."""
    out = np.zeros_like(t)
    for t0, d in zip(times, doses, strict=True):
        s = np.clip(t - t0, 0.0, None)
        out += d * amp * ka / (ka - ke) * (np.exp(-ke * s) - np.exp(-ka * s))
    return out


def rylaze_label_exposure(ka: float, ke: float, amp: float) -> tuple[Array, Array]:
    """The label's five fitted exposure values and the Friday troughs (62, 67 h), as the
    one-compartment model gives them."""
    q48_doses = (25.0,) * len(_Q48_TIMES)
    last = _Q48_TIMES[-1]
    after = np.linspace(last, last + 48.0, 4801)
    q48 = _curve(after, _Q48_TIMES, q48_doses, ka, ke, amp)
    wed = _MWF_TIMES[4]
    after_wed = np.linspace(wed, wed + 58.0, 5801)
    c_wed = _curve(after_wed, _MWF_TIMES[:5], _MWF_DOSES[:5], ka, ke, amp)
    fri = _MWF_TIMES[5]
    after_fri = np.linspace(fri, fri + 72.0, 7201)
    c_fri = _curve(after_fri, _MWF_TIMES, _MWF_DOSES, ka, ke, amp)
    fitted = np.array([q48.max(), q48[-1], c_wed.max(), c_wed[-1], c_fri.max()])
    troughs = _curve(fri + np.array(_FRI_TROUGH_H), _MWF_TIMES, _MWF_DOSES, ka, ke, amp)
    return fitted, troughs


def _cv(kb: object, rid: str) -> float:
    rec = kb.get(rid)  # type: ignore[attr-defined]
    unc = getattr(rec, "uncertainty", None)
    if unc is None or unc.kind != "cv":
        raise DataError(f"{rid}: the fit needs the label's %CV")
    return float(unc.value)


def fit_rylaze() -> RylazeFit:
    """Fit ka, ke and the amplitude to the label's Table 4, then the variability."""
    kb = load_knowledge_base()
    observed = np.array([kb.value(r, "IU/mL") for r in _RECORDS])
    fri_label = kb.value("pk.erwinia_recombinant.ctrough_fri.label", "IU/mL")

    def residuals(x: Array) -> Array:
        ka, ke, amp = np.exp(x)
        return np.log(rylaze_label_exposure(ka, ke, amp)[0]) - np.log(observed)

    # Start: absorption ~12 h, elimination ~16 h, amplitude from the first peak (~0.06)
    start = np.log([math.log(2) / 12.0, math.log(2) / 16.0, 0.08])
    sol = least_squares(residuals, start, method="lm", xtol=1e-12, ftol=1e-12)
    ka, ke, amp = (float(v) for v in np.exp(sol.x))
    if not sol.success or ka <= ke * 1.01 or not np.all(np.isfinite(sol.x)):
        raise DataError(
            "Rylaze label fit: no one-compartment absorption model reproduces Table 4 "
            f"({sol.message}; ka {ka:.3g}/h, ke {ke:.3g}/h)"
        )
    predicted, fri = rylaze_label_exposure(ka, ke, amp)
    sa = kb.value("pk.erwinia_recombinant.specific_activity", "IU/mg")
    v = sa / amp / 1000.0  # IU per mg over (IU/mL per mg/m²) -> mL/m² -> L/m²

    # Variability: the peak follows the amplitude (1/V at fixed ke), the trough also ke; so
    # ln V and ln ke vary independently, and CL = ke·V carries both (correlated with V).
    def q48(log_amp: float, log_ke: float) -> Array:
        peak_trough = rylaze_label_exposure(ka, ke * math.exp(log_ke), amp * math.exp(log_amp))
        return np.log(peak_trough[0][:2])

    h = 1e-4
    d_amp = (q48(h, 0.0) - q48(-h, 0.0)) / (2 * h)
    d_ke = (q48(0.0, h) - q48(0.0, -h)) / (2 * h)
    target = np.log1p(np.array([_cv(kb, _RECORDS[0]), _cv(kb, _RECORDS[1])]) ** 2)
    omega_sq = np.linalg.solve(np.column_stack([d_amp**2, d_ke**2]), target)
    if np.any(omega_sq <= 0):
        raise DataError(
            "Rylaze label fit: the label's Cmax and trough CVs need a negative variance of "
            f"the amplitude or of ke in this model (ω² {omega_sq[0]:.3g}, {omega_sq[1]:.3g})"
        )
    omega_v, omega_ke = (float(math.sqrt(x)) for x in omega_sq)
    omega_cl = math.hypot(omega_v, omega_ke)
    return RylazeFit(
        ka, ke, amp, v_over_f=v, cl_over_f=v * ke,
        omega_cl=omega_cl, omega_v=omega_v, omega_ke=omega_ke, cl_v_corr=omega_v / omega_cl,
        observed=tuple(float(x) for x in observed),
        predicted=tuple(float(x) for x in predicted),
        friday_trough=(float(fri[0]), float(fri[1])), friday_trough_label=fri_label,
    )  # fmt: skip
