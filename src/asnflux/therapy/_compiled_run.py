"""Cohorts on the compiled backend: the patient network model, one definition, N patients.

The model is :func:`asnflux.models.patient.build_patient_model` — the object exported as
SBML — compiled once per regimen structure by :mod:`asnflux.engine`; each patient is a
member whose values come from :func:`~asnflux.models.patient.patient_values`. Endpoints
that are integrals (days with SAA at or above the threshold, with plasma Asn below 1 µM,
with CSF Asn depleted) are states of the model, integrated with it; the rest are read from
the outputs: pre-dose values are taken 1e-6 h (3.6 ms) before a dose, the Gln nadir is the
minimum over the hourly grid. Patients run in chunks, so memory is bounded by one chunk
when traces are not kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._errors import DataError
from ..models._patient_inputs import PDParams, Population
from ..units import Q_
from ._regimen import Regimen
from ._result import (
    MAX_PATIENTS,
    SimResult,
    allergy_onsets,
    check_run,
    dose_given,
    inactivation_onset,
)

__all__ = ["CHUNK", "simulate_compiled"]

#: Patients per chunk of a compiled cohort run.
CHUNK = 2_000
_PRE_H = 1e-6  # a pre-dose value is read this long before the dose
# Absolute tolerance (mM for concentrations): 10 nM, a hundredth of the smallest level an
# endpoint reads (plasma Asn below 1 µM) and below every assay's LLOQ; rtol stays 1e-6.
ATOL = 1e-8
_OUTPUTS = (
    "SAA",
    "Asn_plasma",
    "Gln_plasma",
    "Asn_csf",
    "Asn_marrow",
    "blasts_s",
    "blasts_r",
    "t_saa_above",
    "t_asn_depleted",
    "t_csf_depleted",
)
_UM_PER_MM = float(Q_(1.0, "mM").to("µM").magnitude)
_COMPILED: dict[str, Any] = {}


def _compiled(model: Any) -> Any:
    from ..engine import compile_model
    from ..engine._symbolic import structure_key

    key = structure_key(model)
    if key not in _COMPILED:
        if len(_COMPILED) >= 16:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = compile_model(model)
    return _COMPILED[key]


def _skipped(pop: Population, regimen: Regimen, end_h: float) -> np.ndarray:
    """Doses not given because the patient had already reacted to that enzyme group."""
    allergy = allergy_onsets(pop)
    skipped = np.zeros(pop.n)
    for d in regimen.doses:
        if d.time_h <= end_h:
            due, given = dose_given(d, allergy)
            skipped += due & ~given
    return skipped


def simulate_compiled(
    pop: Population,
    regimen: Regimen,
    days: float,
    *,
    threshold: float = 0.1,
    keep_traces: bool = True,
    record_every_h: float = 1.0,
    monitor_every_days: float = 7.0,
    sample_times_h: Any = None,
    progress: Callable[[int, int], None] | None = None,
    truncate: bool = False,
) -> SimResult:
    """:func:`asnflux.therapy.simulate` on the compiled backend (same result object)."""
    from ..models.patient import build_patient_model, patient_values

    check_run(pop, regimen, days, truncate)
    for name, value in (
        ("record_every_h", record_every_h),
        ("monitor_every_days", monitor_every_days),
    ):
        if not (math.isfinite(value) and value > 0):
            raise DataError(f"{name} must be a positive number, got {value!r}")
    if pop.n > MAX_PATIENTS:
        raise DataError(f"at most {MAX_PATIENTS:,} patients per run, got {pop.n:,}")
    if not (threshold > 0 and math.isfinite(threshold)):
        raise DataError(f"threshold must be a positive number, got {threshold!r}")
    end_h = days * 24.0
    reg = Regimen(tuple(d for d in regimen.doses if d.time_h <= end_h))
    pd = PDParams.from_kb()
    n = pop.n
    n_days = math.floor(days) + 1
    dose_h = np.unique([d.time_h for d in reg.doses if d.time_h > 0])
    # doses at time 0 are the model's initial state: before them there is no enzyme
    at_zero = any(d.time_h == 0 for d in reg.doses)

    def pre(t: np.ndarray) -> np.ndarray:  # just before a dose given at the same time
        return np.where(np.isin(t, dose_h), t - _PRE_H, t)

    record = np.arange(0.0, end_h + 1e-9, record_every_h) if keep_traces else np.zeros(0)
    doses_in = np.concatenate([[0.0], dose_h]) if at_zero else dose_h
    if not keep_traces:
        doses_in = np.zeros(0)
    # a dose time appears twice, the pre-dose row first
    trace_t = np.sort(np.concatenate([record[~np.isin(record, doses_in)], doses_in, doses_in]))
    trace_pre = np.zeros(len(trace_t), bool)
    if len(doses_in):
        trace_pre[np.searchsorted(trace_t, doses_in)] = True
    trace_grid = np.where(trace_pre & (trace_t > 0), trace_t - _PRE_H, trace_t)
    day_t = pre(np.arange(n_days) * 24.0)
    monitor_step = monitor_every_days * 24.0
    monitor_t = np.arange(monitor_step, end_h + 1e-9, monitor_step)
    monitor_grid = pre(monitor_t)
    samples_t = np.zeros(0) if sample_times_h is None else np.asarray(sample_times_h, float)
    outside = ~np.isfinite(samples_t) | (samples_t < 0) | (samples_t > end_h)
    if np.any(outside):
        bad = float(samples_t[outside][0])
        raise DataError(f"sample time {bad:g} h lies outside 0-{end_h:g} h")
    hourly = np.arange(0.0, end_h + 1e-9, 1.0)
    grid = np.unique(
        np.concatenate(
            [[0.0, end_h], hourly, trace_grid if keep_traces else [], day_t, monitor_grid,
             pre(samples_t)]
        )
    )  # fmt: skip
    where = {float(t): i for i, t in enumerate(grid)}

    def at(ts: np.ndarray) -> np.ndarray:
        return np.array([where[float(t)] for t in ts], dtype=np.int64)

    model = build_patient_model(pop, reg, 0, endpoint_states=True)
    compiled = _compiled(model)
    fixed = {p.id: p.value for p in model.parameters if p.assignment is None}
    fixed["saa_threshold"] = float(threshold)
    values_all = patient_values(pop, reg)
    inact = inactivation_onset(pop)
    traces = {k: np.empty((n, len(trace_t))) for k in _TRACE_OF} if keep_traces else {}
    daily = {k: np.empty((n, n_days)) for k in _DAILY_OF}
    endpoints = {k: np.empty(n) for k in _ENDPOINTS}
    detection = np.full(n, np.nan)
    samples = np.empty((n, len(samples_t))) if sample_times_h is not None else None
    i_trace, i_day, i_mon, i_smp = at(trace_grid), at(day_t), at(monitor_grid), at(pre(samples_t))
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        values = {k: np.full(stop - start, v) for k, v in fixed.items()}
        values |= {k: v[start:stop] for k, v in values_all.items()}
        ds = compiled.simulate(values, times=grid, outputs=list(_OUTPUTS), atol=ATOL)
        out = {k: ds[k].values for k in _OUTPUTS}
        rows = slice(start, stop)
        for key, (name, scale) in _TRACE_OF.items():
            if keep_traces:
                traces[key][rows] = out[name][:, i_trace] * scale
        for key, (name, scale) in _DAILY_OF.items():
            daily[key][rows] = out[name][:, i_day] * scale
        if at_zero:  # pre-dose at time 0: no enzyme yet, the rest as at the start
            daily["saa_IU_per_mL"][rows, 0] = 0.0
            if keep_traces:
                traces["saa_IU_per_mL"][rows, 0] = 0.0
        endpoints["days_saa_at_or_above_threshold"][rows] = out["t_saa_above"][:, -1] / 24.0
        endpoints["days_asn_plasma_below_1uM"][rows] = out["t_asn_depleted"][:, -1] / 24.0
        endpoints["days_csf_asn_depleted"][rows] = out["t_csf_depleted"][:, -1] / 24.0
        endpoints["gln_nadir_uM"][rows] = out["Gln_plasma"].min(axis=1) * _UM_PER_MM
        blasts = out["blasts_s"][:, -1] + out["blasts_r"][:, -1]
        endpoints["blast_log_kill"][rows] = np.log10(pd.blasts0 / blasts)
        saa_mon = out["SAA"][:, i_mon]
        for j, t in enumerate(monitor_t):
            found = np.isnan(detection[rows]) & (t >= inact[rows]) & (saa_mon[:, j] < threshold)
            detection[rows] = np.where(found, t - inact[rows], detection[rows])
        if samples is not None:
            samples[rows] = out["SAA"][:, i_smp]
            if at_zero:
                samples[rows, samples_t == 0] = 0.0
        if progress is not None:
            progress(stop, n)
    endpoints["doses_skipped_after_allergy"] = _skipped(pop, reg, end_h)
    times = trace_t / 24.0 if keep_traces else np.zeros(0)
    return SimResult(times, traces, daily, endpoints, detection, samples)


# SimResult trace/daily name -> (model output, factor to the reported unit)
_TRACE_OF = {
    "saa_IU_per_mL": ("SAA", 1.0),
    "asn_plasma_uM": ("Asn_plasma", _UM_PER_MM),
    "gln_plasma_uM": ("Gln_plasma", _UM_PER_MM),
    "asn_csf_uM": ("Asn_csf", _UM_PER_MM),
    "asn_marrow_uM": ("Asn_marrow", _UM_PER_MM),
    "blasts_sensitive": ("blasts_s", 1.0),
    "blasts_resistant": ("blasts_r", 1.0),
}
_DAILY_OF = {
    k: _TRACE_OF[k] for k in ("saa_IU_per_mL", "asn_plasma_uM", "gln_plasma_uM", "asn_csf_uM")
}
_ENDPOINTS = (
    "days_saa_at_or_above_threshold",
    "days_asn_plasma_below_1uM",
    "days_csf_asn_depleted",
    "gln_nadir_uM",
    "blast_log_kill",
)
