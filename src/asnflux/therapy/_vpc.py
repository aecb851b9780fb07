"""Visual predictive checks of the clinical validation suite.

A panel is one published regimen: the virtual cohort the suite simulates for it (same
patients, same seed), its serum activity over time as percentiles across patients, and the
suite's level observations for that regimen (medians or means at the source's sampling
times) with the range each must hit. A model that reproduces the population puts every
observation inside the simulated 5-95 % band, near the matching statistic; the panels show
where it does not. Fractions above a threshold and immunogenicity are checked in the
table only (they have no level to place on the axis).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import DataError
from ._im_fit import DFCI_NADIR_DAYS
from ._simulate import simulate

__all__ = ["PANELS", "VPCPanel", "panels_for", "vpc"]


@dataclass(frozen=True)
class VPCPanel:
    key: str
    title: str
    formulation: str
    dose: str
    route: str
    at: str  # dose days, as the suite's check gives them
    days: float  # simulated
    window: tuple[float, float]  # days shown
    # (check key, all its sampling days: the statistic pools them; the window shows some)
    points: tuple[tuple[str, tuple[float, ...]], ...]


def _panels() -> tuple[VPCPanel, ...]:
    from ._validation import (
        _DCOG_SPECTRILA,
        _DFCI_ERWINIA_AT,
        _LAST_48H_DAY,
        _LAST_72H_DAY,
        _LAST_72H_DAY_1C,
        _MWF,
        _MWF_1C,
        _after_dose,
    )

    dfci_window = (35.0, 56.0)
    rylaze = tuple(
        VPCPanel(
            f"rylaze_{c}",
            f"Rylaze IM {shown} Mon/Wed/Fri (AALL1931 cohort {c})",
            "erwinia-recombinant",
            dose,
            "im",
            at,
            15.0,
            (0.0, 15.0),
            ((f"rylaze_im_{c}_mean_saa_48h", (_LAST_48H_DAY,)),
             (f"rylaze_im_{c}_mean_saa_72h", (day72,))),
        )
        for c, shown, dose, at, day72 in (
            ("1a", "25 mg/m²", "25 mg/m**2", _MWF, _LAST_72H_DAY),
            ("1b", "37.5 mg/m²", "37.5 mg/m**2", _MWF, _LAST_72H_DAY),
            ("1c", "25/25/50 mg/m²", ",".join(["25 mg/m**2", "25 mg/m**2", "50 mg/m**2"] * 2),
             _MWF_1C, _LAST_72H_DAY_1C),
        )
    )  # fmt: skip
    return (
        VPCPanel(
            "erwinia_im_dfci",
            "Erwinia 25,000 IU/m² IM twice weekly (DFCI 00-01; the IM fit's data)",
            "erwinia",
            "25000 IU/m**2",
            "im",
            _DFCI_ERWINIA_AT,
            175.0,
            dfci_window,
            (
                ("erwinia_im_dfci_median_3d", DFCI_NADIR_DAYS["3d"]),
                ("erwinia_im_dfci_median_4d", DFCI_NADIR_DAYS["4d"]),
            ),
        ),
        VPCPanel(
            "erwinia_iv_mwf",
            "Erwinia 25,000 IU/m² IV Mon/Wed/Fri (Vrooman 2016)",
            "erwinia",
            "25000 IU/m**2",
            "iv",
            _MWF,
            15.0,
            (0.0, 15.0),
            (
                ("erwinia_iv_mwf_mean_48h", (_after_dose(_MWF, 5, 48.0) / 24,)),
                ("erwinia_iv_mwf_mean_72h", (_after_dose(_MWF, 6, 72.0) / 24,)),
            ),
        ),
        *rylaze,
        VPCPanel(
            "ecoli_recombinant_iv_dcog",
            "Recombinant E. coli 5,000 U/m² IV every 3 days (DCOG; Völler's data)",
            "ecoli-recombinant",
            "5000 IU/m**2",
            "iv",
            _DCOG_SPECTRILA[0],
            24.0,
            (0.0, 24.0),
            (
                (
                    "ecoli_recombinant_iv_induction_trough_median",
                    _DCOG_SPECTRILA[1],
                ),
            ),
        ),
        VPCPanel(
            "peg_iv_dfci",
            "PEG 2,500 IU/m² IV, one dose (DFCI 11-001)",
            "peg",
            "2500 IU/m**2",
            "iv",
            "0",
            30.0,
            (0.0, 30.0),
            (("peg_iv_saa_d25_median", (25.0,)),),
        ),
        VPCPanel(
            "calaspargase_iv_dfci",
            "Calaspargase 2,500 IU/m² IV, one dose (DFCI 11-001)",
            "calaspargase",
            "2500 IU/m**2",
            "iv",
            "0",
            30.0,
            (0.0, 30.0),
            (("calaspargase_iv_saa_d25_median", (25.0,)),),
        ),
    )


#: The panels, in the report's order.
PANELS = {p.key: p for p in _panels()}


def vpc(key: str, rows: dict[str, Any] | None = None) -> dict[str, Any]:
    """One panel's data: times (days), the 5/25/50/75/95th percentiles and the mean of the
    cohort's SAA (IU/mL) at each, and per observation its check key, its sampling days in the
    window, observed value, accepted range, statistic, the cohort's value of that statistic
    on all its sampling days (the suite's prediction) and the suite's verdict (``rows``: the
    suite's rows by key, or they are computed)."""
    from ._validation import _N, _cohort, validate

    if key not in PANELS:
        raise DataError(f"no VPC panel {key!r}; panels: {', '.join(PANELS)}")
    p = PANELS[key]
    regimen, pop = _cohort(p.formulation, p.dose, p.route, p.at)
    sample_days = sorted({d for _, days in p.points for d in days})
    run = simulate(pop, regimen, p.days, keep_traces=True, record_every_h=2.0, truncate=True,
                   sample_times_h=[24.0 * d for d in sample_days])  # fmt: skip
    assert run.samples is not None
    keep = (run.times_h >= p.window[0]) & (run.times_h <= p.window[1])
    saa = run.traces["saa_IU_per_mL"][:, keep]
    pct = np.percentile(saa, [5, 25, 50, 75, 95], axis=0)
    keys = [k for k, _ in p.points]
    if rows is None or any(k not in rows for k in keys):
        rows = {r.key: r for r in validate(keys)}
    column = {d: j for j, d in enumerate(sample_days)}
    observations = []
    for k, days in p.points:
        r = rows[k]
        statistic = "mean" if "_mean_" in k else "median"
        values = run.samples[:, [column[d] for d in days]]
        simulated = float(np.mean(values) if statistic == "mean" else np.median(values))
        shown = [d for d in days if p.window[0] <= d <= p.window[1]]
        observations.append({
            "check": k, "days": shown, "observed": r.observed, "accepted": r.accepted,
            "statistic": statistic, "simulated": simulated, "passed": r.passed,
            "fit_data": r.fitted_by is not None,
        })  # fmt: skip
    return {
        "key": key,
        "title": p.title,
        "patients": _N,
        "days": run.times_h[keep],
        "percentiles": {q: pct[i] for i, q in enumerate((5, 25, 50, 75, 95))},
        "mean": saa.mean(axis=0),
        "observations": observations,
    }


def panels_for(keys: list[str]) -> list[str]:
    """The panels that show at least one of the checks ``keys``."""
    wanted = set(keys)
    return [p.key for p in PANELS.values() if any(k in wanted for k, _ in p.points)]
