"""What a patient simulation returns (:class:`SimResult`), with the units of its traces
and endpoints, and the checks every backend makes before a run."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._errors import DataError
from ..models._formulations import group_of
from ..models._patient_inputs import Population
from ._regimen import Regimen

__all__ = [
    "MAX_PATIENTS",
    "TRACES",
    "UNITS",
    "SimResult",
    "allergy_onsets",
    "check_run",
    "dose_given",
    "inactivation_onset",
]

Array = NDArray[np.float64]

#: Time courses a simulation records (columns of ``asnflux therapy simulate --output``).
TRACES = (
    "saa_IU_per_mL",
    "asn_plasma_uM",
    "gln_plasma_uM",
    "asn_csf_uM",
    "asn_marrow_uM",
    "blasts_sensitive",
    "blasts_resistant",
)

_ENDPOINT_UNITS = {
    "days_saa_at_or_above_threshold": "day",
    "days_asn_plasma_below_1uM": "day",
    "days_csf_asn_depleted": "day",
    "gln_nadir_uM": "µM",
    "blast_log_kill": "dimensionless",
    "doses_skipped_after_allergy": "dimensionless",
}


#: Unit of each recorded trace and endpoint (pint spelling), carried into every output.
UNITS = {
    "day": "day",
    "saa_IU_per_mL": "IU/mL",
    "asn_plasma_uM": "µM",
    "gln_plasma_uM": "µM",
    "asn_csf_uM": "µM",
    "asn_marrow_uM": "µM",
    "blasts_sensitive": "dimensionless",
    "blasts_resistant": "dimensionless",
}


@dataclass(repr=False)
class SimResult:
    """A simulation of N patients: time courses, daily pre-dose values and endpoints.

    ``times_h`` holds the output times in days (the name is historical); a dose time
    appears twice (pre-dose row first). :meth:`to_dataframe` gives one patient's time course
    as a table and :meth:`to_xarray` all patients as a Dataset, with units.
    """

    times_h: Array  # output times in days; a dose time appears twice (pre-dose row first)
    traces: dict[str, Array]  # name -> [N, T] (empty when traces were not kept)
    daily: dict[str, Array]  # name -> [N, days+1]; pre-dose values at dose times
    endpoints: dict[str, Array]  # name -> [N]
    detection_h: Array  # [N] delay from onset to detection by weekly monitoring (nan: none)
    samples: Array | None = None  # [N, len(sample_times_h)] SAA at requested times
    status: Any = None  # [N] "ok" or why the patient's integration failed (its values NaN)

    def __post_init__(self) -> None:
        if self.status is None:
            self.status = np.full(len(self.detection_h), "ok", dtype=object)

    @property
    def n(self) -> int:
        return len(self.detection_h)

    def units(self) -> dict[str, str]:
        """Unit of every column of :meth:`to_dataframe` and variable of :meth:`to_xarray`."""
        return dict(UNITS) | {k: _ENDPOINT_UNITS.get(k, "dimensionless") for k in self.endpoints}

    def to_dataframe(self, patient: int = 0) -> Any:
        """One patient's time course: ``day`` then one column per trace."""
        import pandas as pd

        if not self.traces or not len(self.times_h):
            raise DataError("this simulation kept no time courses (keep_traces=False)")
        if not 0 <= patient < self.n:
            raise DataError(f"patient {patient} is not in 0-{self.n - 1}")
        table = pd.DataFrame({"day": np.asarray(self.times_h, float)})
        for key in TRACES:
            table[key] = self.traces[key][patient]
        table.attrs["units"] = {k: UNITS[k] for k in table.columns}
        return table

    def to_xarray(self) -> Any:
        """All patients as an xarray Dataset: traces (patient × time), daily values
        (patient × day), endpoints (patient); ``units`` in each variable's ``attrs``."""
        import xarray as xr

        ds = xr.Dataset(coords={"patient": np.arange(self.n)})
        if self.traces and len(self.times_h):
            ds = ds.assign_coords(time=("time", np.asarray(self.times_h, float)))
            ds["time"].attrs["units"] = "day"
            for key in TRACES:
                ds[key] = (("patient", "time"), self.traces[key])
        n_days = next(iter(self.daily.values())).shape[1] if self.daily else 0
        ds = ds.assign_coords(day=("day", np.arange(n_days)))
        for key, values in self.daily.items():
            ds[f"daily_{key}"] = (("patient", "day"), values)
            ds[f"daily_{key}"].attrs["units"] = UNITS[key]
            ds[f"daily_{key}"].attrs["description"] = "pre-dose value at each whole day"
        for key, values in self.endpoints.items():
            ds[key] = ("patient", values)
            ds[key].attrs["units"] = _ENDPOINT_UNITS.get(key, "dimensionless")
        for key in TRACES:
            if key in ds:
                ds[key].attrs["units"] = UNITS[key]
        ds["detection_delay"] = ("patient", self.detection_h / 24.0)
        ds["detection_delay"].attrs["units"] = "day"
        return ds

    def __repr__(self) -> str:
        n_t = len(self.times_h) if self.traces else 0
        days = next(iter(self.daily.values())).shape[1] - 1 if self.daily else 0
        return (
            f"SimResult({self.n} patient(s), {days} days, {n_t} trace points, "
            f"endpoints: {', '.join(self.endpoints)})"
        )

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(
            f"<tr><td>{escape(k)}</td><td>{np.nanmedian(v):.4g}</td>"
            f"<td>{escape(_ENDPOINT_UNITS.get(k, ''))}</td></tr>"
            for k, v in self.endpoints.items()
            if np.isfinite(v).any()
        )
        return (
            f"<p>{escape(repr(self))}</p><table><tr><th>endpoint</th><th>median</th>"
            f"<th>unit</th></tr>{rows}</table>"
        )


#: Most patients in one simulation (the engine holds every patient's state at once).
MAX_PATIENTS = 1_000_000


def check_run(pop: Population, regimen: Regimen, days: float, truncate: bool) -> None:
    """The checks every backend makes before a run (population, days, doses, occasions)."""
    pop.check()
    if not (days > 0 and math.isfinite(days)):
        raise DataError(f"days must be a positive number, got {days!r}")
    end_h = days * 24.0
    late = [d for d in regimen.doses if d.time_h > end_h]
    if late and not truncate:
        raise DataError(
            f"{len(late)} dose(s) fall after the simulated {days:g} days (first on day "
            f"{late[0].time_h / 24:g}); simulate at least {regimen.doses[-1].time_h / 24:g} days "
            "(--days)"
        )
    check_course_covariates(regimen, pop.phase, pop.infection, bool(pop.infection_h))
    after = [a for a, _ in pop.infection_h if a >= end_h]
    if after:
        raise DataError(
            f"infection episode from day {after[0] / 24:g} starts after the simulated "
            f"{days:g} days; leave it out or simulate longer (--days)"
        )
    if pop.z_occ is not None and pop.z_occ.shape[1] < len(regimen.doses):
        raise DataError(
            f"population z_occ has {pop.z_occ.shape[1]} occasion(s) for a regimen of "
            f"{len(regimen.doses)} doses"
        )


def check_course_covariates(
    regimen: Regimen, phase: str | None, infection: bool, episodes: bool = False
) -> None:
    """A treatment phase or an infection needs a formulation in the regimen whose model has
    that covariate (Kloos 2021's PEG), and a phase that model knows; given to a regimen
    without one it would change nothing, which is refused rather than ignored."""
    check_covariates_of(regimen.formulations, phase, infection, episodes)


def check_covariates_of(
    names: Any, phase: str | None, infection: bool, episodes: bool = False
) -> None:
    """:func:`check_course_covariates` for formulation ``names``."""
    from ..models._formulations import formulation

    forms = [formulation(name) for name in names]
    if phase is not None:
        with_phase = [f for f in forms if f.phase_cl]
        if not with_phase:
            raise DataError(
                f"--phase {phase}: no formulation of the regimen has a treatment-phase "
                "covariate (peg with its default kloos2021 model has)"
            )
        for f in with_phase:
            f.covariate_cl(None, None, 1, phase)  # an unknown phase is an error
    if (infection or episodes) and not any(f.infection_cl != 1.0 for f in forms):
        option = "--infection" if infection else "--infection-days"
        raise DataError(
            f"{option}: no formulation of the regimen has an infection covariate (peg with "
            "its default kloos2021 model has)"
        )


def allergy_onsets(pop: Population) -> dict[str, Array]:
    """Each antibody group's allergy onset (h) per patient; infinite where none."""
    return {g: pop.allergy_onset_h.get(g, np.full(pop.n, np.inf)) for g in ("ecoli", "erwinia")}


def inactivation_onset(pop: Population) -> Array:
    """When each patient's enzyme first stops working (allergy or silent inactivation, any
    group; h; infinite where never): the start of the delay that monitoring detects."""
    allergy = allergy_onsets(pop)
    return np.minimum.reduce(
        [
            np.minimum(pop.silent_onset_h.get(g, np.full(pop.n, np.inf)), a)
            for g, a in allergy.items()
        ]
    )


def dose_given(dose: Any, allergy: dict[str, Array]) -> tuple[Any, Any]:
    """(due, given) per patient for ``dose``: a replacement is due only after the allergy
    it replaces for; a due dose is given unless the patient already reacted to its group."""
    t = dose.time_h
    due = allergy[dose.if_allergy] < t if dose.if_allergy is not None else True
    return due, due & (t < allergy[group_of(dose.formulation)])
