"""The patient model as a function of its uncertain inputs, for global sensitivity analysis.

An output is one endpoint of one regimen (``PATIENT_OUTPUTS``) for a typical child
(BSA 1 m²) without immunogenicity. The factors are the PD constants whose knowledge-base
value is an assumption, each over the range of ``sensitivity.assumed_fold`` (as for the cell
model), and the patient's PK random effects on clearance and volume (``z_CL``, ``z_V``,
in SD units of the formulation's own between-subject variability, over its central 95 %:
uniform from -1.96 to 1.96), so measured PK variability and assumed PD constants are ranked
on one scale. Every parameter set is one member of a vectorised cohort run: the whole design
is simulated in chunks of ``_CHUNK`` patients, each PD constant an array over the chunk.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._errors import NotFoundError
from ..knowledge import load_knowledge_base
from ._sensitivity import Factor, SensitivityResult, analyse, assumed_factor, select

__all__ = ["PATIENT_OUTPUTS", "patient_factors", "patient_sensitivity"]

#: Output name → (formulation, dose, route, every, doses, simulated days, endpoint, meaning).
PATIENT_OUTPUTS: dict[str, tuple[str, str, str, str | None, int, float, str, str]] = {
    "peg_days_asn_below_1uM": (
        "peg", "2500 IU/m**2", "iv", None, 1, 42.0, "days_asn_plasma_below_1uM",
        "days with plasma Asn below 1 µM in the 6 weeks after one PEG dose (2,500 IU/m² IV)",
    ),
    "peg_days_csf_depleted": (
        "peg", "2500 IU/m**2", "iv", None, 1, 42.0, "days_csf_asn_depleted",
        "days with CSF Asn below its assay's LLOQ in the 6 weeks after one PEG dose",
    ),
    "peg_blast_log_kill": (
        "peg", "2500 IU/m**2", "iv", None, 1, 42.0, "blast_log_kill",
        "log10 kill of blasts in the 6 weeks after one PEG dose",
    ),
    "erwinia_days_asn_below_1uM": (
        "erwinia", "25000 IU/m**2", "im", "2d", 6, 14.0, "days_asn_plasma_below_1uM",
        "days with plasma Asn below 1 µM over two weeks of Erwinia 25,000 IU/m² IM q2d x6",
    ),
}  # fmt: skip
_RE_RANGE = 1.96  # central 95 % of a standard normal random effect
_CHUNK = 4096


def _check(output: str) -> None:
    if output not in PATIENT_OUTPUTS:
        raise NotFoundError(f"no patient output {output!r}; outputs: {', '.join(PATIENT_OUTPUTS)}")


def patient_factors(output: str, names: list[str] | None = None) -> list[Factor]:
    """The patient model's uncertain inputs behind ``output`` with their ranges (``names``:
    a subset, in that order)."""
    from ..models._patient_inputs import PD_RECORDS

    _check(output)
    kb = load_knowledge_base()
    fold = kb.value("sensitivity.assumed_fold", "dimensionless")
    out: dict[str, Factor] = {}
    for z, what in (("z_CL", "clearance"), ("z_V", "volume")):
        out[z] = Factor(
            z, -_RE_RANGE, _RE_RANGE, "linear", 0.0,
            f"random effect on {what} (SD units of the formulation's between-subject "
            "variability; where CL and V share one effect, as in Kloos 2021, z_V carries "
            "it and z_CL is inert); range: its central 95 %",
        )  # fmt: skip
    for field, (record, unit) in PD_RECORDS.items():
        rec = kb.get(record)
        if rec.source != "assumption" or field == "blasts0":
            continue  # measured values stay fixed; the burden only shifts the log-kill scale
        out[field] = assumed_factor(field, kb.value(record, unit), rec.quantity, fold, record)
    return select(out, names, f"an uncertain input of {output}")


def _evaluator(
    output: str, factors: list[Factor], progress: Callable[[int, int], None] | None
) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    from ..therapy import PDParams, Population, regimen_from_options, simulate, weight_from_bsa

    name, dose, route, every, doses, days, endpoint, _ = PATIENT_OUTPUTS[output]
    at = "0" if doses == 1 else None
    regimen = regimen_from_options(
        name, dose, route, every=every, doses=None if at else doses, at=at
    )
    pd0 = PDParams.from_kb()
    names = [f.name for f in factors]

    def evaluate(values: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.empty(len(values))
        for start in range(0, len(values), _CHUNK):
            rows = values[start : start + _CHUNK]
            n = len(rows)
            col = {f: rows[:, i] for i, f in enumerate(names)}
            pop = Population(
                bsa=np.ones(n),
                weight=weight_from_bsa(np.ones(n)),
                z_cl=col.get("z_CL", np.zeros(n)),
                z_v=col.get("z_V", np.zeros(n)),
            )
            arrays: dict[str, Any] = {f: v for f, v in col.items() if f not in ("z_CL", "z_V")}
            pd = dataclasses.replace(pd0, **arrays)  # PD constants as arrays over the chunk
            run = simulate(pop, regimen, days, pd=pd, keep_traces=False)
            out[start : start + n] = run.endpoints[endpoint]
            if progress:
                progress(start + n, len(values))
        return out

    return evaluate


def patient_sensitivity(
    output: str,
    method: str = "morris",
    n: int = 10,
    seed: int = 1,
    *,
    factors: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SensitivityResult:
    """Sobol' indices (``n`` base samples, a power of 2) or Morris screening (``n``
    trajectories) of a patient-model endpoint over its uncertain inputs (or ``factors``)."""
    chosen = patient_factors(output, factors)
    evaluate = _evaluator(output, chosen, progress)
    return analyse(method, evaluate, chosen, n, seed, output)
