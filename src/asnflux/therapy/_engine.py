"""Vectorised patient simulation: many patients in one numpy time loop.

PK (linear, per formulation: depot → central ⇄ peripheral) is propagated *exactly* over each
3-minute step with the matrix exponential of that step's rate matrix (closed form for the
one-compartment models, precomputed batched exponentials for the two-compartment ones);
piecewise-constant changes (antibody onset, first-month clearance, PEG's rising clearance
evaluated at the step midpoint) switch the matrix between steps. PD (plasma and marrow Asn,
plasma Gln with Michaelis–Menten enzymatic sinks, CSF Asn, blast stress) uses backward Euler,
solved exactly (a quadratic for each Michaelis–Menten sink): unconditionally stable for the
seconds-scale enzymatic depletion, never negative, first-order accurate in time. Blast
populations use the exponential integrator.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import expm

from .._errors import DataError
from ..knowledge import load_knowledge_base
from ..models._formulations import Formulation, formulation, group_of
from ..models._patient_inputs import FIRST_MONTH_H, PDParams, Population
from ..units import Q_
from ._regimen import GRID_H, Regimen
from ._result import (
    MAX_PATIENTS,
    TRACES,
    SimResult,
    allergy_onsets,
    check_run,
    dose_given,
    inactivation_onset,
)

__all__ = ["TIME_BUDGET_S", "simulate"]

Array = NDArray[np.float64]
# Unit factors, from the registry: amounts in IU over volumes in L give IU/L; the engine
# reports IU/mL, and concentrations (mM inside) in µM.
_IU_PER_ML_PER_IU_PER_L = float(Q_(1.0, "IU/L").to("IU/mL").magnitude)
_UM_PER_MM = float(Q_(1.0, "mM").to("µM").magnitude)


class _PK:
    """One formulation's exact linear PK for N patients."""

    def __init__(self, f: Formulation, pop: Population, kb_mult: dict[str, float]) -> None:
        self.f = f
        cl, v1, q, v2 = f.scaled(pop.bsa, pop.weight)
        cl = np.asarray(cl * f.covariate_cl(pop.age_y, pop.female, len(cl)))
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
        self.silent_mult = kb_mult["silent"]
        self.allergy_mult = kb_mult["allergy"]
        self._phi: dict[tuple[bool, float, float], Array] = {}
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

    def cl_multiplier(self, t_mid: float, silent: Any, allergic: Any) -> Array:
        m = np.ones_like(self.cl)
        if self.f.cl_first_month != 1.0 and t_mid < FIRST_MONTH_H:
            m = m * self.f.cl_first_month
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
        pattern = (first, h, hash(silent.tobytes()), hash(allergic.tobytes()))
        if pattern != self._pattern:
            # Matrices differ only through the clearance multiplier: one exponential per
            # distinct multiplier, assembled per patient, reused until the pattern changes.
            uniq, inverse = np.unique(np.round(mult, 12), return_inverse=True)
            size = self.x.shape[1]
            phi = np.empty((len(k10), size, size))
            for j, m in enumerate(uniq):
                sel = inverse == j
                key = (first, float(m), h)
                if key not in self._phi:
                    self._phi[key] = expm(self._matrix(self.cl * m / self.v1) * h)
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


def _mm_backward_euler(
    old: Array,
    h: float,
    k: float,
    base: Array | float,
    vmax: Array,
    km: Array | float,
    extra: Array | float = 0.0,
) -> Array:
    """Solve (1 + h k) y + h V y/(Km + y) = old + h (k base + extra) for y ≥ 0."""
    a = 1.0 + h * k
    b = old + h * (k * base + extra)
    c = h * vmax
    q = a * km + c - b
    disc = np.sqrt(q * q + 4.0 * a * b * km)
    return np.where(q > 0, 2.0 * b * km / np.where(q > 0, q + disc, 1.0), (-q + disc) / (2 * a))


def _check_memory(n: int, n_days: int, n_records: int) -> None:
    """Refuse a run whose arrays would not fit in memory, before allocating them."""
    if n > MAX_PATIENTS:
        raise DataError(f"at most {MAX_PATIENTS:,} patients per run, got {n:,}")
    need = 8 * n * (4 * n_days + len(TRACES) * n_records + 400)
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return
    if need > 0.8 * avail:
        raise DataError(
            f"{n:,} patients need about {need / 2**30:.1f} GiB, more than the "
            f"{avail / 2**30:.1f} GiB free; use fewer patients or drop the traces"
        )


#: Longest run accepted by default (s), judged by :func:`_check_time` before starting.
TIME_BUDGET_S = 900.0
# Cost of the 3-minute-step engine, measured on the project's 2-core machine (one patient,
# 35 days: 4.7 s; 5,000 patients: 23 s): a fixed cost per step plus a cost per patient-step.
_S_PER_STEP = 2.8e-4
_S_PER_PATIENT_STEP = 2.2e-7


def _check_time(n: int, n_steps: int, budget: float | None) -> None:
    """Refuse a run that would take longer than ``budget`` seconds (None: no limit)."""
    if budget is None:
        return
    estimate = n_steps * (_S_PER_STEP + _S_PER_PATIENT_STEP * n)
    if estimate > budget:
        raise DataError(
            f"{n:,} patient(s) over {n_steps * GRID_H / 24:g} days would take about "
            f"{estimate / 60:.0f} min on this engine (limit {budget / 60:.0f} min); use fewer "
            "patients or days"
        )


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
    pk_only: bool = False,
    progress: Callable[[int, int], None] | None = None,
    truncate: bool = False,
    time_budget_s: float | None = TIME_BUDGET_S,
    backend: str = "numpy",
) -> SimResult:
    """Simulate N patients on one regimen for ``days``; doses after allergy are not given.

    ``monitor_every_days`` is the SAA sampling interval used to time the detection of
    inactivation (weekly in DCOG-style monitoring). ``sample_times_h`` records the SAA at
    those times (nearest 3-minute step, before any dose given then) into
    ``SimResult.samples``; ``pk_only`` skips the PD (for fitting). ``progress(done, total)``
    is called about a hundred times along the run (for progress bars). A dose after
    ``days`` is an error unless ``truncate`` (simulate only the start of a regimen).

    ``backend="compiled"`` runs the patient network model (the one exported as SBML) on the
    compiled ensemble backend (:mod:`asnflux.engine`) instead of this module's numpy time
    loop: the same result object, with the PD integrated to the solver's tolerance rather
    than by 3-minute implicit steps.
    """
    if backend not in ("numpy", "compiled"):
        raise DataError(f"backend must be 'numpy' or 'compiled', got {backend!r}")
    if backend == "compiled":
        if pk_only or pd is not None:
            raise DataError("the compiled backend runs the full model with the KB's PD")
        from ._compiled_run import simulate_compiled

        return simulate_compiled(
            pop,
            regimen,
            days,
            threshold=threshold,
            keep_traces=keep_traces,
            record_every_h=record_every_h,
            monitor_every_days=monitor_every_days,
            sample_times_h=sample_times_h,
            progress=progress,
            truncate=truncate,
        )
    check_run(pop, regimen, days, truncate)
    pd = pd or PDParams.from_kb()
    kb = load_knowledge_base()
    mult = {
        "silent": kb.value("imm.clearance_multiplier.silent", "dimensionless"),
        "allergy": kb.value("imm.clearance_multiplier.allergy", "dimensionless"),
    }
    n = pop.n
    pks = {name: _PK(formulation(name), pop, mult) for name in regimen.formulations}
    end_h = days * 24.0
    n_steps = round(end_h / GRID_H)
    dose_steps: dict[int, list[Any]] = {}
    for k, d in enumerate(regimen.doses):
        if d.time_h <= end_h:
            dose_steps.setdefault(round(d.time_h / GRID_H), []).append((k, d))
    rec_every = max(1, round(record_every_h / GRID_H))
    _check_memory(n, math.floor(days) + 1, (n_steps // rec_every + 1) if keep_traces else 0)
    _check_time(n, n_steps, time_budget_s)
    # PD state
    asn = np.full(n, pd.asn0_mM)
    gln = np.full(n, pd.gln0_mM)
    csf = np.full(n, pd.asn0_mM * pd.csf_ratio)
    marrow = np.full(n, pd.asn0_mM + pd.msc_supply / pd.k_marrow)
    s_sens = np.zeros(n)
    s_res = np.zeros(n)
    sens = np.full(n, pd.blasts0 * (1 - pd.resistant0))
    res = np.full(n, pd.blasts0 * pd.resistant0)
    # Endpoint accumulators
    above = np.zeros(n, dtype=np.int64)  # steps; times GRID_H at the end (no rounding drift)
    asn_low = np.zeros(n, dtype=np.int64)
    csf_low = np.zeros(n, dtype=np.int64)
    gln_min = gln.copy()
    onset = {g: pop.silent_onset_h.get(g, np.full(n, np.inf)) for g in ("ecoli", "erwinia")}
    allergy = allergy_onsets(pop)
    inact_onset = inactivation_onset(pop)
    detection = np.full(n, np.nan)
    monitor_every = round(monitor_every_days * 24.0 / GRID_H)
    times: list[float] = []
    trace_rows: dict[str, list[Array]] = {k: [] for k in TRACES}
    n_days = math.floor(days) + 1
    daily = {
        k: np.full((n, n_days), np.nan)
        for k in ("saa_IU_per_mL", "asn_plasma_uM", "gln_plasma_uM", "asn_csf_uM")
    }
    skipped = np.zeros(n, dtype=int)

    def saa_total() -> Array:
        return sum((pk.activity() for pk in pks.values()), start=np.zeros(n))

    def record(t: float) -> None:
        if not keep_traces:
            return
        times.append(t / 24.0)
        trace_rows["saa_IU_per_mL"].append(saa_total())
        trace_rows["asn_plasma_uM"].append(asn * _UM_PER_MM)
        trace_rows["gln_plasma_uM"].append(gln * _UM_PER_MM)
        trace_rows["asn_csf_uM"].append(csf * _UM_PER_MM)
        trace_rows["asn_marrow_uM"].append(marrow * _UM_PER_MM)
        trace_rows["blasts_sensitive"].append(sens.copy())
        trace_rows["blasts_resistant"].append(res.copy())

    sample_steps: dict[int, list[int]] = {}
    if sample_times_h is not None:
        for j, ts in enumerate(np.asarray(sample_times_h, float)):
            if not (0 <= ts <= end_h):
                raise DataError(f"sample time {ts:g} h lies outside 0-{end_h:g} h")
            sample_steps.setdefault(round(ts / GRID_H), []).append(j)
    samples = np.full((n, len(sample_steps) and sum(map(len, sample_steps.values()))), np.nan)
    saa_now = saa_total()
    tick = max(1, n_steps // 100)
    for step in range(n_steps + 1):
        t = step * GRID_H
        if progress is not None and (step % tick == 0 or step == n_steps):
            progress(step, n_steps)
        for j in sample_steps.get(step, ()):
            samples[:, j] = saa_now
        if step % round(24.0 / GRID_H) == 0:  # whole day: pre-dose value
            day = step // round(24.0 / GRID_H)
            if day < n_days:
                daily["saa_IU_per_mL"][:, day] = saa_total()
                daily["asn_plasma_uM"][:, day] = asn * _UM_PER_MM
                daily["gln_plasma_uM"][:, day] = gln * _UM_PER_MM
                daily["asn_csf_uM"][:, day] = csf * _UM_PER_MM
        if step % monitor_every == 0 and step > 0:
            found = np.isnan(detection) & (t >= inact_onset) & (saa_now < threshold)
            detection[found] = t - inact_onset[found]
        is_dose = step in dose_steps
        if is_dose or step % rec_every == 0:
            record(t)
        if is_dose:
            for k, d in dose_steps[step]:
                pk = pks[d.formulation]
                if pop.z_occ is not None and pk.f.iov_cl > 0:  # each dose starts an occasion
                    pk.set_occasion(np.exp(pk.f.iov_cl * pop.z_occ[:, k]))
                due, given = dose_given(d, allergy)
                skipped += due & ~given
                amount = d.amount * pop.bsa * pk.f.iu_per_dose_unit
                pk.give(np.where(given, amount, 0.0), d.route, t)
            record(t)  # post-dose row
        if step == n_steps:
            break
        for name, pk in pks.items():
            g = group_of(name)
            pk.step(t, GRID_H, t + 0.5 * GRID_H >= onset[g], t + 0.5 * GRID_H >= allergy[g])
        # PD: activity-weighted Km across formulations present.
        act = {name: pk.activity() for name, pk in pks.items()}
        total = sum(act.values(), start=np.zeros(n))
        if pk_only:
            saa_now = total
            above += saa_now >= threshold
            continue
        vmax = pd.rate_per_iu_ml * total
        safe_total = np.where(total > 0, total, 1.0)
        km = sum((a * pks[k].f.km_mM for k, a in act.items()), start=np.zeros(n)) / safe_total
        km = np.where(total > 0, km, 1.0)  # no enzyme: vmax is 0 and Km is irrelevant
        v_gln = pd.rate_per_iu_ml * sum(
            (a * pks[k].f.glutaminase for k, a in act.items()), start=np.zeros(n)
        )
        h = GRID_H
        asn = _mm_backward_euler(asn, h, pd.k_asn, pd.asn0_mM, vmax, km)
        gln = _mm_backward_euler(gln, h, pd.k_gln, pd.gln0_mM, v_gln, pd.km_gln_mM)
        csf = (csf + h * pd.k_csf * pd.csf_ratio * asn) / (1 + h * pd.k_csf)
        marrow = _mm_backward_euler(
            marrow, h, pd.k_marrow, asn, pd.marrow_access * vmax, km, extra=pd.msc_supply
        )
        starve_s = pd.k_starve / (pd.k_starve + marrow)
        starve_r = pd.k_gln_starve / (pd.k_gln_starve + gln)
        s_sens = (s_sens + h * starve_s / pd.tau_stress) / (1 + h / pd.tau_stress)
        s_res = (s_res + h * starve_r / pd.tau_stress) / (1 + h / pd.tau_stress)
        kn = pd.k_stress**pd.n_death
        death_s = pd.kd_max * s_sens**pd.n_death / (kn + s_sens**pd.n_death)
        death_r = pd.kd_max * s_res**pd.n_death / (kn + s_res**pd.n_death)
        grow_s = pd.mu_max * marrow / (pd.k_growth + marrow)
        grow_r = pd.mu_max * gln / (pd.k_nt_gln + gln)
        sens = sens * np.exp((grow_s - death_s) * h)
        res = res * np.exp((grow_r - death_r) * h)
        saa_now = total
        above += saa_now >= threshold
        asn_low += asn < pd.asn_depleted_mM
        csf_low += csf <= pd.csf_depleted_mM
        gln_min = np.minimum(gln_min, gln)

    traces = {k: np.column_stack(v) for k, v in trace_rows.items() if v} if keep_traces else {}
    blasts_end = sens + res
    endpoints = {
        "days_saa_at_or_above_threshold": above * GRID_H / 24.0,
        "days_asn_plasma_below_1uM": asn_low * GRID_H / 24.0,
        "days_csf_asn_depleted": csf_low * GRID_H / 24.0,
        "gln_nadir_uM": gln_min * _UM_PER_MM,
        "blast_log_kill": np.log10(pd.blasts0 / blasts_end),
        "doses_skipped_after_allergy": skipped.astype(float),
    }
    return SimResult(np.asarray(times), traces, daily, endpoints, detection, samples)
