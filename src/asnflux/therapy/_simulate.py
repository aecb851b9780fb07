"""Patient simulation: the patient network model, one definition, N patients.

The model is :func:`asnflux.models.patient.build_patient_model` — the object exported as
SBML — compiled by :mod:`asnflux.engine` (once per structure: regimens that differ only in
dose times or amounts share the compiled code); each patient is a member whose values come
from :func:`~asnflux.models.patient.patient_values` and the PD constants from
:func:`~asnflux.models.patient.pd_values`. Endpoints
that are integrals (days with SAA at or above the threshold, with plasma Asn below 1 µM,
with CSF Asn depleted) are states of the model, integrated with it; the rest are read from
the outputs: pre-dose values are taken 1e-6 h (3.6 ms) before a dose, the Gln nadir is the
minimum over the hourly grid. Patients run in chunks, so memory is bounded by one chunk
when traces are not kept.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import DataError, SolverError
from ..models._patient_inputs import PDParams, Population
from ..units import Q_
from ._regimen import Regimen
from ._result import (
    MAX_PATIENTS,
    TRACES,
    SimResult,
    allergy_onsets,
    check_run,
    dose_given,
    inactivation_onset,
)

__all__ = ["BACKENDS", "CHUNK", "simulate"]

#: Backends of :func:`simulate`: ``compiled`` (numba, all cores) and ``jax`` (one XLA
#: program per chunk, a GPU when JAX has one).
BACKENDS = ("compiled", "jax")

#: Patients per chunk of a compiled cohort run.
CHUNK = 2_000
#: Patients per chunk on the JAX backend (a GPU wants wide batches: about 1.3 GiB of
#: outputs per chunk of a 35-day run).
JAX_CHUNK = 16_384
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


#: Most patient-days one run accepts: 1,000,000 patients × 100 days. On the project's 2-core
#: VM a patient-day costs 6-19 µs (PEG IV to Erwinia IM, docs/performance.md), so the
#: limit is 10-32 min there; runs beyond it are refused before they start.
MAX_PATIENT_DAYS = 100_000_000


def _check_memory(n: int, n_days: int, n_records: int) -> None:
    """Refuse a run whose result arrays would not fit in memory, before allocating them."""
    need = 8 * n * (4 * n_days + len(TRACES) * n_records + 16)
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return
    if need > 0.8 * avail:
        raise DataError(
            f"{n:,} patients need about {need / 2**30:.1f} GiB, more than the "
            f"{avail / 2**30:.1f} GiB free; use fewer patients or drop the traces"
        )


def _skipped(pop: Population, regimen: Regimen, end_h: float) -> np.ndarray:
    """Doses not given because the patient had already reacted to that enzyme group."""
    allergy = allergy_onsets(pop)
    skipped = np.zeros(pop.n)
    for d in regimen.doses:
        if d.time_h <= end_h:
            due, given = dose_given(d, allergy)
            skipped += due & ~given
    return skipped


def simulate(
    pop: Population,
    regimen: Regimen,
    days: float,
    *,
    threshold: float = 0.1,
    keep_traces: bool = True,
    record_every_h: float = 1.0,
    monitor_every_days: float = 7.0,
    pd: PDParams | None = None,
    sample_times_h: Any = None,
    progress: Callable[[int, int], None] | None = None,
    truncate: bool = False,
    backend: str = "compiled",
    on_failure: str = "raise",
    scheduler: str | None = None,
) -> SimResult:
    """Simulate N patients on one regimen for ``days``; doses after allergy are not given.

    ``keep_traces`` records every output each ``record_every_h`` hours, with a pre- and a
    post-dose row at each dose. ``monitor_every_days`` is the SAA sampling interval used to
    time the detection of inactivation (weekly in DCOG-style monitoring).
    ``sample_times_h`` records the SAA at those times (before any dose given then) into
    ``SimResult.samples``. ``pd`` replaces the knowledge base's PD constants (a field may be
    an array, one entry per patient). ``progress(done, total)`` is called after each chunk
    of patients. A dose after ``days`` is an error unless ``truncate`` (simulate only the
    start of a regimen). The ODEs are integrated by the compiled backend
    (:mod:`asnflux.engine`, RODAS4 at rtol 1e-6, atol 1e-8 mM; ``backend="jax"``: the same
    model and scheme as a JAX program, on a GPU when JAX has one); a patient whose
    integration fails is an error naming it, or with ``on_failure="report"`` has its
    reason in ``SimResult.status`` and NaN values. ``scheduler`` runs the chunks on a Dask
    cluster (``"local"``: a LocalCluster of one single-threaded worker process per core; or
    ``"tcp://HOST:PORT"``), each reduced to its endpoints on the worker; the results equal
    the local run's.
    """
    from ..models.patient import build_patient_model, patient_values, pd_values

    if on_failure not in ("raise", "report"):
        raise DataError(f"on_failure must be 'raise' or 'report', got {on_failure!r}")
    from ..engine._compiled import backend_name

    engine_backend = backend_name(backend, BACKENDS)
    check_run(pop, regimen, days, truncate)
    for name, value in (
        ("record_every_h", record_every_h),
        ("monitor_every_days", monitor_every_days),
    ):
        if not (math.isfinite(value) and value > 0):
            raise DataError(f"{name} must be a positive number, got {value!r}")
    if pop.n > MAX_PATIENTS:
        raise DataError(f"at most {MAX_PATIENTS:,} patients per run, got {pop.n:,}")
    if pop.n * days > MAX_PATIENT_DAYS:
        raise DataError(
            f"{pop.n:,} patient(s) over {days:g} days are {pop.n * days:,.0f} patient-days, "
            f"more than the {MAX_PATIENT_DAYS:,} one run accepts; use fewer patients or days"
        )
    if not (threshold > 0 and math.isfinite(threshold)):
        raise DataError(f"threshold must be a positive number, got {threshold!r}")
    end_h = days * 24.0
    reg = Regimen(tuple(d for d in regimen.doses if d.time_h <= end_h))
    pd = pd or PDParams.from_kb()
    n = pop.n
    n_days = math.floor(days) + 1
    per_member = {}
    for k, v in pd_values(pd).items():
        if np.ndim(v) and np.size(v) != n:
            raise DataError(f"pd: {k} has {np.size(v)} values for {n} patients")
        per_member[k] = np.broadcast_to(np.asarray(v, float), (n,))
    blasts0 = np.broadcast_to(np.asarray(pd.blasts0, float), (n,))
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

    _check_memory(n, n_days, len(trace_t))
    model = build_patient_model(pop, reg, 0, endpoint_states=True, pd=pd)
    fixed = {p.id: p.value for p in model.parameters if p.assignment is None}
    fixed["saa_threshold"] = float(threshold)
    settable = set(fixed) | {s.id for s in model.species}
    values_all = patient_values(pop, reg) | {k: v for k, v in per_member.items() if k in settable}
    inact = inactivation_onset(pop)
    traces = {k: np.empty((n, len(trace_t))) for k in _TRACE_OF} if keep_traces else {}
    daily = {k: np.empty((n, n_days)) for k in _DAILY_OF}
    endpoints = {k: np.empty(n) for k in _ENDPOINTS}
    detection = np.full(n, np.nan)
    status = np.full(n, "ok", dtype=object)
    samples = np.empty((n, len(samples_t))) if sample_times_h is not None else None
    plan = _Plan(
        grid, at(trace_grid), at(day_t), at(monitor_grid), at(pre(samples_t)), monitor_t,
        samples_t == 0, keep_traces, samples is not None, at_zero, float(threshold),
        engine_backend,
    )  # fmt: skip
    chunk = JAX_CHUNK if engine_backend == "jax" else CHUNK

    def payloads() -> Any:
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            values = {k: np.full(stop - start, v) for k, v in fixed.items()}
            values |= {k: v[start:stop] for k, v in values_all.items()}
            yield values, blasts0[start:stop], inact[start:stop], plan

    if scheduler is None:
        from ..engine import compile_model

        compiled = compile_model(model)  # the code is cached by structure; values come here
        results: Any = (_chunk(compiled, p) for p in payloads())
    else:  # each worker compiles (or loads) the model itself
        from ..engine._dask import map_chunks

        results = map_chunks(model, _chunk, list(payloads()), scheduler)
    with contextlib.closing(results):  # a failure stops a cluster's run at once
        _collect(results, n, chunk, on_failure, status, traces, daily, endpoints, detection,
                 samples, progress)  # fmt: skip
    endpoints["doses_skipped_after_allergy"] = _skipped(pop, reg, end_h)
    times = trace_t / 24.0 if keep_traces else np.zeros(0)
    return SimResult(times, traces, daily, endpoints, detection, samples, status)


def _collect(
    results: Any, n: int, chunk: int, on_failure: str, status: Any, traces: dict[str, Any],
    daily: dict[str, Any], endpoints: dict[str, Any], detection: Any, samples: Any,
    progress: Callable[[int, int], None] | None,
) -> None:  # fmt: skip
    """The chunks' reduced results into the cohort's arrays, in order."""
    for start, part in zip(range(0, n, chunk), results, strict=True):
        stop = min(n, start + chunk)
        rows = slice(start, stop)
        status[rows] = part["status"]
        failed = np.flatnonzero(part["failed"])
        if failed.size and on_failure == "raise":
            raise SolverError(
                f"patient {start + int(failed[0])} (of {n}): {status[start + failed[0]]} "
                "(on_failure='report' keeps the others)"
            )
        for key in traces:
            traces[key][rows] = part["traces"][key]
        for key in daily:
            daily[key][rows] = part["daily"][key]
        for key in endpoints:
            endpoints[key][rows] = part["endpoints"][key]
        detection[rows] = part["detection"]
        if samples is not None:
            samples[rows] = part["samples"]
        if progress is not None:
            progress(stop, n)


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


@dataclass(frozen=True)
class _Plan:
    """What every chunk's reduction needs: the time grid and where each kind of reading
    sits on it (picklable: it travels to Dask workers with each chunk)."""

    grid: np.ndarray
    i_trace: np.ndarray
    i_day: np.ndarray
    i_mon: np.ndarray
    i_smp: np.ndarray
    monitor_t: np.ndarray
    sample_at_zero: np.ndarray
    keep_traces: bool
    samples: bool
    at_zero: bool
    threshold: float
    backend: str  # the engine's: numba or jax


def _chunk(compiled: Any, payload: tuple[Any, ...]) -> dict[str, Any]:
    """One chunk of patients simulated and reduced to what :class:`SimResult` keeps —
    where the chunk ran (on a Dask worker only this travels back, not the hourly grid)."""
    values, blasts0, inact, plan = payload
    ds = compiled.simulate(
        values,
        times=plan.grid,
        outputs=list(_OUTPUTS),
        atol=ATOL,
        on_failure="report",
        backend=plan.backend,
        chunk=max(1, len(blasts0)),  # the caller's chunk, in one piece
    )
    out = {k: ds[k].values for k in _OUTPUTS}
    traces = (
        {key: out[name][:, plan.i_trace] * scale for key, (name, scale) in _TRACE_OF.items()}
        if plan.keep_traces
        else {}
    )
    daily = {key: out[name][:, plan.i_day] * scale for key, (name, scale) in _DAILY_OF.items()}
    if plan.at_zero:  # pre-dose at time 0: no enzyme yet, the rest as at the start
        daily["saa_IU_per_mL"][:, 0] = 0.0
        if plan.keep_traces:
            traces["saa_IU_per_mL"][:, 0] = 0.0
    blasts = out["blasts_s"][:, -1] + out["blasts_r"][:, -1]
    endpoints = {
        "days_saa_at_or_above_threshold": out["t_saa_above"][:, -1] / 24.0,
        "days_asn_plasma_below_1uM": out["t_asn_depleted"][:, -1] / 24.0,
        "days_csf_asn_depleted": out["t_csf_depleted"][:, -1] / 24.0,
        "gln_nadir_uM": out["Gln_plasma"].min(axis=1) * _UM_PER_MM,
        "blast_log_kill": np.log10(blasts0 / blasts),
    }
    detection = np.full(len(blasts), np.nan)
    saa_mon = out["SAA"][:, plan.i_mon]
    for j, t in enumerate(plan.monitor_t):
        found = np.isnan(detection) & (t >= inact) & (saa_mon[:, j] < plan.threshold)
        detection = np.where(found, t - inact, detection)
    samples = None
    if plan.samples:
        samples = out["SAA"][:, plan.i_smp]
        if plan.at_zero:
            samples[:, plan.sample_at_zero] = 0.0
    return {
        "status": ds["status_text"].values,
        "failed": ds["status"].values,
        "traces": traces,
        "daily": daily,
        "endpoints": endpoints,
        "detection": detection,
        "samples": samples,
    }
