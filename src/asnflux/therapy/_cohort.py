"""Virtual cohorts: seeded sampling of covariates, random effects and immunogenicity."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import DataError, SolverError
from ..knowledge import load_knowledge_base
from ..models._formulations import formulation, weight_from_bsa
from ..models._patient_inputs import Population, check_infection_episodes
from ._immunogenicity import draw_reactions
from ._regimen import Regimen
from ._result import MAX_PATIENTS, SimResult
from ._simulate import simulate

__all__ = ["CohortResult", "run_cohort", "sample_population", "typical_patient"]

QUANTILES = (5, 25, 50, 75, 95)


def _check_age_sex(age: float | None, sex: str | None) -> None:
    """A given age (years) and sex, as the population's covariates accept them."""
    if age is not None and not 0 <= age <= 120:
        raise DataError(f"age must be between 0 and 120 years, got {age:g}")
    if sex is not None and sex not in ("f", "m"):
        raise DataError(f"sex must be f or m, got {sex!r}")


def episodes_h(days: Any, throughout: bool = False) -> tuple[tuple[float, float], ...]:
    """Infection episodes given as (start, end) day pairs, in hours (checked; none with an
    infection ``throughout``)."""
    try:
        out = tuple((float(a) * 24.0, float(b) * 24.0) for a, b in days)
    except (TypeError, ValueError):
        raise DataError(f"infection_days: expected (start, end) day pairs, got {days!r}") from None
    check_infection_episodes(out, throughout)
    return out


def typical_patient(
    bsa: float = 1.0, weight: float | None = None, age: float | None = None,
    sex: str | None = None, phase: str | None = None, infection: bool = False,
    infection_days: Any = (),
) -> Population:  # fmt: skip
    """One patient with random effects at zero and no antibodies. Age (years), sex ("f"
    or "m"), the treatment phase and an infection throughout the course, or infection
    episodes ``infection_days`` ((start, end) day pairs from the start of the regimen),
    enter the models that have them as covariates; without them such a model's reference
    patient is simulated."""
    if not (bsa > 0):
        raise DataError(f"BSA must be positive, got {bsa:g} m**2")
    if weight is not None and not weight > 0:
        raise DataError(f"weight must be positive, got {weight:g} kg")
    _check_age_sex(age, sex)
    b = np.array([float(bsa)])
    w = weight_from_bsa(b) if weight is None else np.array([float(weight)])
    return Population(
        b, w, np.zeros(1), np.zeros(1),
        age_y=None if age is None else np.array([float(age)]),
        female=None if sex is None else np.array([sex == "f"]),
        phase=phase, infection=bool(infection), infection_h=episodes_h(infection_days),
    )  # fmt: skip


def sample_population(
    n: int,
    seed: int,
    regimen: Regimen,
    bsa: float = 1.0,
    immunogenicity: bool = True,
    p_allergy: float | None = None,
    p_silent: float | None = None,
    age: float | None = None,
    sex: str | None = None,
    phase: str | None = None,
    infection: bool = False,
    infection_days: Any = (),
) -> tuple[Population, pd.DataFrame]:
    """N patients: log-normal BSA around ``bsa``, age and sex (sampled, or every patient
    ``age`` years old / of ``sex`` "f" or "m" when given), standard-normal random effects,
    and the reactions drawn at each dose (:func:`draw_reactions`: per antibody group, an
    allergy or a silent inactivation from the dose where it happens; with ``p_allergy`` /
    ``p_silent``, the probabilities that a patient given the whole regimen reacts so).
    ``phase`` and ``infection`` (or the episodes ``infection_days``, (start, end) day
    pairs) are every patient's (covariates of Kloos 2021's PEG)."""
    for name, p in (("p_allergy", p_allergy), ("p_silent", p_silent)):
        if p is not None and not 0 <= p <= 1:
            raise DataError(f"{name} must be a probability between 0 and 1, got {p:g}")
    if p_allergy is not None and p_silent is not None and p_allergy + p_silent > 1:
        raise DataError("p_allergy + p_silent must not exceed 1")
    if n < 1:
        raise DataError(f"a cohort needs at least one patient, got {n}")
    if n > MAX_PATIENTS:
        raise DataError(f"at most {MAX_PATIENTS:,} patients per cohort, got {n:,}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**63:
        raise DataError(f"seed must be a whole number from 0 to 2**63 - 1, got {seed!r}")
    if not bsa > 0:
        raise DataError(f"BSA must be positive, got {bsa:g} m**2")
    kb = load_knowledge_base()
    rng = np.random.default_rng(seed)
    cv = kb.value("cohort.bsa_cv", "dimensionless")
    b = bsa * np.exp(rng.normal(0.0, cv, n) - 0.0)
    _check_age_sex(age, sex)
    # drawn even when given, so that a seed gives the same patients otherwise
    ages = rng.uniform(kb.value("cohort.age.min", "year"), kb.value("cohort.age.max", "year"), n)
    female = rng.random(n) < kb.value("cohort.female_fraction", "dimensionless")
    if age is not None:
        ages = np.full(n, float(age))
    if sex is not None:
        female = np.full(n, sex == "f")
    pop = Population(
        b, weight_from_bsa(b), rng.normal(size=n), rng.normal(size=n), age_y=ages, female=female,
        phase=phase, infection=bool(infection), infection_h=episodes_h(infection_days),
    )  # fmt: skip
    table = {
        "bsa_m2": b,
        "weight_kg": pop.weight,
        "age_y": ages,
        "sex": np.where(female, "f", "m"),
        "z_cl": pop.z_cl,
        "z_v": pop.z_v,
    }
    if phase is not None:  # the course's covariates, where given, so outputs record them
        table["phase"] = np.full(n, phase)
    if infection:
        table["infection"] = np.full(n, True)
    if pop.infection_h:
        shown = ",".join(f"{a / 24:g}-{b / 24:g}" for a, b in pop.infection_h)
        table["infection_days"] = np.full(n, shown)
    reactions = draw_reactions(
        regimen, n, rng, enabled=immunogenicity, p_allergy=p_allergy, p_silent=p_silent
    )
    if any(formulation(name).iov_cl > 0 for name in regimen.formulations):
        # A stream of its own, so that the patients drawn above do not depend on it.
        # Dose by dose, so that the k-th dose's effects do not depend on the dose count.
        occ_rng = np.random.default_rng([seed, 1])
        pop.z_occ = occ_rng.standard_normal((len(regimen.doses), n)).T
    pop.allergy_onset_h.update(reactions.allergy_onset_h)
    pop.silent_onset_h.update(reactions.silent_onset_h)
    table |= reactions.columns()
    return pop, pd.DataFrame(table)


@dataclass(repr=False)
class CohortResult:
    regimen: Regimen
    threshold: float
    patients: pd.DataFrame  # covariates and endpoints per patient
    sim: SimResult

    def units(self) -> dict[str, str]:
        """Unit of each column of :attr:`patients`."""
        units = {
            "bsa_m2": "m**2",
            "weight_kg": "kg",
            "age_y": "year",
            "z_cl": "dimensionless",
            "z_v": "dimensionless",
            "days_to_inactivation_detection": "day",
        }
        units |= {c: "day" for c in self.patients.columns if "onset_day" in c}
        units |= {c: "dimensionless" for c in self.patients.columns if "_dose_" in c}
        units |= {k: v for k, v in self.sim.units().items() if k in self.patients.columns}
        return units

    def to_xarray(self) -> Any:
        """Patients (covariates, endpoints, status) and their daily pre-dose values as an
        xarray Dataset (patient × day), units in ``attrs``."""
        ds = self.sim.to_xarray()
        for col in self.patients.columns:
            if col not in ds:
                values = self.patients[col].to_numpy()
                ds[col] = ("patient", values.astype(str) if values.dtype == object else values)
        for col, unit in self.units().items():
            if col in ds:
                ds[col].attrs["units"] = unit
        ds.attrs["regimen"] = str(self.regimen.to_dict())
        ds.attrs["threshold_IU_per_mL"] = self.threshold
        return ds

    def __repr__(self) -> str:
        ok = int((self.patients["status"] == "ok").sum())
        return (
            f"CohortResult({len(self.patients)} patients, {ok} ok, regimen of "
            f"{len(self.regimen.doses)} dose(s) of {', '.join(self.regimen.formulations)})"
        )

    def _repr_html_(self) -> str:
        from html import escape

        try:
            ends = self.summary()["endpoints"]
        except SolverError as exc:
            return f"<p>{escape(repr(self))}</p><p>{escape(str(exc))}</p>"
        rows = "".join(
            f"<tr><td>{escape(k)}</td><td>{v['p50']:.4g}</td><td>{v['p5']:.4g}</td>"
            f"<td>{v['p95']:.4g}</td></tr>"
            for k, v in ends.items()
            if v and "p50" in v
        )
        return (
            f"<p>{escape(repr(self))}</p><table><tr><th>endpoint</th><th>median</th>"
            f"<th>p5</th><th>p95</th></tr>{rows}</table>"
        )

    def summary(self) -> dict[str, Any]:
        """Quantiles over the members whose status is ``ok``; failed members are counted.

        Raises
        ------
        SolverError
            If no member succeeded (there is nothing to summarise).
        """
        ok = (self.patients["status"] == "ok").to_numpy()
        if not ok.any():
            reasons = ", ".join(sorted(set(self.patients["status"])))
            raise SolverError(
                f"all {len(ok)} patients of the cohort failed ({reasons}); no summary"
            )
        saa = self.sim.daily["saa_IU_per_mL"][ok]
        days = list(range(saa.shape[1]))
        q = {f"p{p}": np.percentile(saa, p, axis=0).tolist() for p in QUANTILES}
        endpoints: dict[str, Any] = {}
        for name, values in self.sim.endpoints.items():
            v = values[np.isfinite(values)]
            endpoints[name] = (
                {f"p{p}": float(np.percentile(v, p)) for p in QUANTILES}
                | {"mean": float(np.mean(v))}
                if len(v)
                else None
            )
        det = self.sim.detection_h
        inactivated = (
            np.isfinite(self.patients.filter(like="onset_day").to_numpy(float)).any(axis=1)
            if any(c for c in self.patients.columns if "onset_day" in c)
            else np.zeros(len(det), bool)
        )
        okp = self.patients[ok]
        allergic = np.isfinite(okp.filter(like="allergy_onset_day").to_numpy(float)).any(axis=1)
        silent = np.isfinite(okp.filter(like="silent_onset_day").to_numpy(float)).any(axis=1)
        endpoints["inactivation"] = {
            "patients_with_antibodies": int(inactivated.sum()),
            "detected": int(np.isfinite(det).sum()),
            "median_days_to_detection": float(np.nanmedian(det) / 24)
            if np.isfinite(det).any()
            else None,
        }
        failed = int((self.patients["status"] != "ok").sum())
        return {
            "days": days,
            "patients_failed": failed,
            "saa_IU_per_mL": q,
            "fraction_saa_at_or_above_threshold": (saa >= self.threshold).mean(axis=0).tolist(),
            # ok patients with a clinical allergy / a silent inactivation (any group, dose)
            "fraction_allergy": float(allergic.mean()),
            "fraction_silent_inactivation": float(silent.mean()),
            "threshold_IU_per_mL": self.threshold,
            "n": int(saa.shape[0]),
            "regimen": self.regimen.to_dict(),
            "covariates": {
                "phase": str(self.patients["phase"].iloc[0]) if "phase" in self.patients else None,
                "infection": "infection" in self.patients,
                "infection_days": str(self.patients["infection_days"].iloc[0])
                if "infection_days" in self.patients
                else None,
            },
            "endpoints": endpoints,
        }


def run_cohort(
    regimen: Regimen,
    n: int,
    seed: int,
    *,
    bsa: float = 1.0,
    days: float = 35.0,
    threshold: float = 0.1,
    immunogenicity: bool = True,
    p_allergy: float | None = None,
    p_silent: float | None = None,
    age: float | None = None,
    sex: str | None = None,
    phase: str | None = None,
    infection: bool = False,
    infection_days: Any = (),
    progress: Callable[[int, int], None] | None = None,
    backend: str = "compiled",
    scheduler: str | None = None,
) -> CohortResult:
    """Simulate a seeded virtual cohort on ``regimen``; daily values are pre-dose troughs.

    ``age`` (years) and ``sex`` ("f"/"m"), when given, are every patient's (covariates of
    the models that have them); otherwise they are sampled. ``progress(done, total)`` is
    called along the run (see :func:`simulate`). ``backend``: the engine backend
    (``"compiled"``: the patient network model, generated and compiled; ``"jax"``: the same
    as a JAX program, on a GPU when JAX has one). ``scheduler``
    runs the chunks of patients on a Dask cluster (``"local"`` or ``"tcp://HOST:PORT"``; see
    :func:`simulate`), with the same results. A patient whose integration fails keeps its
    row, with the reason in ``status``.
    """
    if not (math.isfinite(threshold) and threshold > 0):
        raise DataError(f"threshold must be a finite positive activity, got {threshold:g} IU/mL")
    pop, table = sample_population(
        n, seed, regimen, bsa, immunogenicity, p_allergy, p_silent, age=age, sex=sex,
        phase=phase, infection=infection, infection_days=infection_days,
    )  # fmt: skip
    sim = simulate(
        pop,
        regimen,
        days,
        threshold=threshold,
        keep_traces=False,
        progress=progress,
        backend=backend,
        on_failure="report",
        scheduler=scheduler,
    )
    for name, values in sim.endpoints.items():
        table[name] = values
    table["days_to_inactivation_detection"] = sim.detection_h / 24
    # A status per member: a patient whose simulation produced a non-finite value is
    # reported, never silently averaged in (the summary quantiles skip it).
    finite = np.all([np.isfinite(v) for v in sim.endpoints.values()], axis=0)
    finite &= np.isfinite(sim.daily["saa_IU_per_mL"]).all(axis=1)
    checked = np.where(finite, "ok", "non-finite values")
    table["status"] = np.where(sim.status != "ok", sim.status, checked)
    return CohortResult(regimen, threshold, table, sim)


def compare_regimens(
    regimens: dict[str, Regimen], n: int, seed: int, **kwargs: Any
) -> dict[str, dict[str, Any]]:
    """Cohort summaries side by side; the same seed gives every regimen the same patients
    (covariates, random effects and the uniform draws behind immunogenicity).

    ``progress(done, total)``, if given, follows all the regimens' runs as one.
    """
    if not regimens:
        raise DataError("no regimens to compare")
    progress = kwargs.pop("progress", None)
    out: dict[str, dict[str, Any]] = {}
    for k, (label, reg) in enumerate(regimens.items()):
        step = None
        if progress is not None:  # one bar over all regimens: regimen k fills its share

            def step(done: int, total: int, k: int = k) -> None:
                progress(k * total + done, len(regimens) * total)

        out[label] = run_cohort(reg, n, seed, progress=step, **kwargs).summary()
    return out
