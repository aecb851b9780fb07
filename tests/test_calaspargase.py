"""Calaspargase pegol per m² from the label's dose-normalised exposure (therapy defect 4):
the fit, the peak and exposure a child of any size gets, and the variability — each with
the old parameterisation (label CL and Vss taken as a 1 m² child's central compartment, the
half-life's CV as clearance variability) as the ablation that fails."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from asnflux.knowledge import load_knowledge_base
from asnflux.models import _formulations
from asnflux.therapy import simulate
from asnflux.therapy._calaspargase_fit import _biexponential, fit_calaspargase
from asnflux.therapy._cohort import sample_population, typical_patient
from asnflux.therapy._regimen import regimen_from_options

KB = load_knowledge_base()
CMAX = KB.value("pk.calaspargase.cmax.label", "IU/mL")
AUC_INF = KB.value("pk.calaspargase.auc_inf.label", "day*IU/mL")
AUC_25 = KB.value("pk.calaspargase.auc_25d.label", "day*IU/mL")
DAYS = 150.0


def _old_parameterisation() -> _formulations.Formulation:
    """Before: the label's absolute CL and Vss as a 1 m² child's one compartment, and the
    half-life's 52 % CV as the variability of clearance."""
    f = _formulations.formulation("calaspargase")
    return dataclasses.replace(
        f, cl=KB.value("pk.calaspargase.cl.label", "L/h"),
        v1=KB.value("pk.calaspargase.vss.label", "L"), q=0.0, v2=0.0, iiv_cl=0.52,
    )  # fmt: skip


@pytest.fixture
def old_model(monkeypatch):
    monkeypatch.setitem(_formulations._build(), "calaspargase", _old_parameterisation())


def _profiles(pop) -> tuple[np.ndarray, np.ndarray]:
    """(Cmax, AUC to infinity in day·IU/mL) per patient after 2,500 IU/m² IV, from hourly
    traces over 150 days (the rest, at the terminal slope, is under 0.2 % of the AUC)."""
    regimen = regimen_from_options("calaspargase", "2500 IU/m**2", "iv", at="0")
    run = simulate(pop, regimen, DAYS, keep_traces=True, record_every_h=1.0)
    saa = run.traces["saa_IU_per_mL"]
    t = np.asarray(run.times_h)  # days (the field's name is historical)
    auc = np.trapezoid(saa, t, axis=1)
    slope = (np.log(saa[:, -1]) - np.log(saa[:, -25])) / (t[-1] - t[-25])
    return saa.max(axis=1), auc + saa[:, -1] / -slope


def test_the_recorded_values_are_the_fit():
    fit = fit_calaspargase()
    f = _formulations.formulation("calaspargase")
    assert f.scaling == "bsa"
    for got, want in ((fit.cl, f.cl), (fit.v1, f.v1), (fit.q, f.q), (fit.v2, f.v2),
                      (fit.omega_cl, f.iiv_cl), (fit.omega_v, f.iiv_v)):  # fmt: skip
        assert got == pytest.approx(want, rel=1e-3)


def test_the_biexponential_has_the_label_means():
    fit = fit_calaspargase()
    a, alpha, b, beta = fit.a, fit.alpha_per_day, fit.b, fit.beta_per_day
    assert a + b == pytest.approx(CMAX, rel=1e-9)
    assert a / alpha + b / beta == pytest.approx(AUC_INF, rel=1e-9)
    auc25 = a / alpha * (1 - math.exp(-25 * alpha)) + b / beta * (1 - math.exp(-25 * beta))
    assert auc25 == pytest.approx(AUC_25, rel=1e-9)
    assert math.log(2) / beta == pytest.approx(KB.value("pk.calaspargase.t_half.label", "day"))
    assert alpha > 10 * beta  # a distinct fast phase


def test_a_profile_without_a_second_phase_is_refused():
    beta = math.log(2) / 16.1
    with pytest.raises(Exception, match="no bi-exponential"):
        _biexponential(1.62, 100.0, 25.5, beta, 25.0)  # AUC25 above AUC∞: impossible


def _meets_label(cmax: np.ndarray, auc: np.ndarray) -> bool:
    return bool(np.all(np.abs(cmax / CMAX - 1) < 0.05) and np.all(np.abs(auc / AUC_INF - 1) < 0.03))


def _typical_children() -> tuple[np.ndarray, np.ndarray]:
    small, large = typical_patient(0.6), typical_patient(1.8)
    c_s, a_s = _profiles(small)
    c_l, a_l = _profiles(large)
    return np.concatenate([c_s, c_l]), np.concatenate([a_s, a_l])


def test_a_child_of_any_size_gets_the_label_peak_and_exposure_per_m2():
    cmax, auc = _typical_children()
    assert _meets_label(cmax, auc), (cmax, auc)


def test_ablation_label_values_as_a_1m2_central_compartment_miss_the_peak(old_model):
    cmax, auc = _typical_children()
    assert not _meets_label(cmax, auc)
    assert cmax.max() < 0.6 * CMAX  # the old peak: about half the label's


def _cohort_cvs() -> tuple[float, float]:
    regimen = regimen_from_options("calaspargase", "2500 IU/m**2", "iv", at="0")
    pop, _ = sample_population(400, 7, regimen, bsa=1.0, immunogenicity=False)
    cmax, auc = _profiles(pop)
    return float(np.std(cmax) / np.mean(cmax)), float(np.std(auc) / np.mean(auc))


def _meets_label_cvs(cv_cmax: float, cv_auc: float) -> bool:
    """Each within 25 % of the label's CV: the CV of a 43-patient sample has a relative
    standard error of about 1/sqrt(2·43) = 11 %."""
    want_cmax = KB.get("pk.calaspargase.cmax.label").uncertainty.value
    want_auc = KB.get("pk.calaspargase.auc_inf.label").uncertainty.value
    return abs(cv_cmax / want_cmax - 1) < 0.25 and abs(cv_auc / want_auc - 1) < 0.25


def test_the_cohort_spreads_as_the_label_population():
    assert _meets_label_cvs(*_cohort_cvs())


def test_ablation_half_life_cv_as_clearance_variability_overspreads_exposure(monkeypatch):
    f = _formulations.formulation("calaspargase")
    monkeypatch.setitem(_formulations._build(), "calaspargase", dataclasses.replace(f, iiv_cl=0.52))
    cv_cmax, cv_auc = _cohort_cvs()
    assert not _meets_label_cvs(cv_cmax, cv_auc)
    assert cv_auc > 0.45
