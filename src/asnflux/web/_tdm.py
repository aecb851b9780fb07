"""``/tdm``: patients (pseudonymous ids), their levels, the Bayesian forecast and advice."""

from __future__ import annotations

import re
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from .. import __version__
from .._errors import DataError
from .._tables import read_table
from ..models._formulations import BSA_RANGE_M2
from ..therapy import (
    FORMULATIONS,
    DosingRules,
    Regimen,
    formulation,
    read_nonmem,
    regimen_from_options,
    tdm,
)
from ..therapy._tdm import _levels
from ._auth import require
from ._figures import svg
from ._pages import read_upload, render, saved_uploads, store_of, user_message
from ._store import Forecast, Level, Patient, User, plain_json

router = APIRouter()


def _formulations() -> dict[str, Any]:
    return {name: formulation(name) for name in FORMULATIONS}


_PSEUDONYM = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def _patient(request: Request, patient_id: int) -> Patient:
    with store_of(request).session() as s:
        p = s.get(Patient, patient_id)
        if p is None:
            raise HTTPException(404, f"no patient {patient_id}")
        _ = p.levels, p.forecasts  # loaded while the session is open
        return p


def _level_table(levels: list[Level]) -> pd.DataFrame:
    return pd.DataFrame(
        {"day": [lv.day for lv in levels], "saa_IU_per_mL": [lv.saa for lv in levels]}
    )


def _check_pseudonym(pseudonym: str) -> str:
    pseudonym = pseudonym.strip()
    if not _PSEUDONYM.match(pseudonym):
        raise DataError(
            f"patient id {pseudonym[:40]!r}: 1-32 letters, digits, _ or - (a study or "
            "pseudonymous id; never a name or a date of birth)"
        )
    return pseudonym


def _add_patient(
    request: Request, user: User, pseudonym: str, regimen: Regimen, bsa: float, weight: float | None
) -> int:
    low, high = BSA_RANGE_M2
    if not (low <= bsa <= high):
        raise DataError(f"BSA {bsa:g} m² is outside {low:g}-{high:g} m²")
    if weight is not None and not (0.5 <= weight <= 300):
        raise DataError(f"body weight {weight:g} kg is outside 0.5-300 kg")
    store = store_of(request)
    try:
        with store.session() as s:
            p = Patient(
                pseudonym=pseudonym,
                created_by=user.username,
                bsa_m2=bsa,
                weight_kg=weight,
                regimen=regimen.to_dict(),
            )
            s.add(p)
            s.flush()
            pid = p.id
    except IntegrityError:
        raise DataError(f"patient id {pseudonym!r} exists already") from None
    store.audit(user.username, "tdm: patient created", pseudonym)
    return pid


@router.get("/tdm", response_class=HTMLResponse)
def tdm_home(request: Request, user: Annotated[User, Depends(require("viewer"))]) -> Response:
    with store_of(request).session() as s:
        rows = s.execute(
            select(Patient, func.count(Level.id))
            .outerjoin(Level)
            .group_by(Patient.id)
            .order_by(Patient.pseudonym)
        ).all()
    return render(request, "tdm.html", user, patients=rows, formulations=_formulations())


@router.post("/tdm/patients")
def create_patient(
    request: Request,
    user: Annotated[User, Depends(require("analyst"))],
    pseudonym: Annotated[str, Form()],
    formulation: Annotated[str, Form()],
    dose: Annotated[str, Form()],
    at: Annotated[str, Form()],
    bsa: Annotated[float, Form()],
    route: Annotated[str, Form()] = "",
    weight: Annotated[str, Form()] = "",
) -> Response:
    pseudonym = _check_pseudonym(pseudonym)
    regimen = regimen_from_options(formulation, dose, route or None, at=at)
    body_weight = _optional_number(weight, "body weight")
    pid = _add_patient(request, user, pseudonym, regimen, bsa, body_weight)
    return RedirectResponse(f"/tdm/patients/{pid}", status_code=303)


def _optional_number(text: str, what: str) -> float | None:
    """An optional number from a form field (empty: not given)."""
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise DataError(f"{what}: {text[:20]!r} is not a number") from None


@router.post("/tdm/import")
async def import_dataset(
    request: Request,
    user: Annotated[User, Depends(require("analyst"))],
    formulation: Annotated[str, Form()],
    bsa: Annotated[float, Form()],
    file: Annotated[UploadFile | None, File()] = None,
    route: Annotated[str, Form()] = "",
    dv_unit: Annotated[str, Form()] = "IU/mL",
) -> Response:
    """A NONMEM-style dataset: one patient per ID, with its doses and levels."""
    upload = await read_upload(request, file, "a NONMEM-style dataset")

    def read() -> dict[str, tuple[Regimen, pd.DataFrame]]:
        with saved_uploads([upload]) as paths:
            return read_nonmem(read_table(paths[0]), formulation, route or None, dv_unit)

    try:
        patients = await run_in_threadpool(read)
    except DataError as exc:
        raise DataError(user_message(str(exc))) from None
    first = None
    for pid_text, (regimen, levels) in patients.items():
        pseudonym = _check_pseudonym(pid_text)
        pid = _add_patient(request, user, pseudonym, regimen, bsa, None)
        first = first or pid
        with store_of(request).session() as s:
            for day, saa in zip(levels["day"], levels["saa_IU_per_mL"], strict=True):
                s.add(Level(patient_id=pid, day=float(day), saa=str(saa), entered_by=user.username))
    store_of(request).audit(
        user.username, "tdm: dataset imported", f"{upload.filename} ({len(patients)} patients)"
    )
    target = f"/tdm/patients/{first}" if len(patients) == 1 else "/tdm"
    return RedirectResponse(target, status_code=303)


@router.get("/tdm/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(
    request: Request, patient_id: int, user: Annotated[User, Depends(require("viewer"))]
) -> Response:
    p = _patient(request, patient_id)
    forecast = p.forecasts[-1] if p.forecasts else None
    return render(request, "tdm_patient.html", user, patient=p, forecast=forecast)


@router.post("/tdm/patients/{patient_id}/levels")
def add_level(
    request: Request,
    patient_id: int,
    user: Annotated[User, Depends(require("analyst"))],
    day: Annotated[float, Form()],
    saa: Annotated[str, Form()],
) -> Response:
    p = _patient(request, patient_id)
    saa = saa.strip()
    levels = [*p.levels, Level(day=day, saa=saa)]
    levels.sort(key=lambda lv: lv.day)
    table = _level_table(levels)
    try:
        _levels(table)  # the library's checks, on the levels with the new one
    except DataError as exc:
        text = re.sub(r"^levels: row \d+: ", "", str(exc))
        raise DataError(f"level on day {day:g} ({saa[:20]!r}): {text}") from None
    with store_of(request).session() as s:
        s.add(Level(patient_id=p.id, day=day, saa=saa, entered_by=user.username))
    store_of(request).audit(user.username, "tdm: level added", f"{p.pseudonym} day {day:g}: {saa}")
    return RedirectResponse(f"/tdm/patients/{p.id}", status_code=303)


@router.post("/tdm/patients/{patient_id}/forecast")
def forecast(
    request: Request,
    patient_id: int,
    user: Annotated[User, Depends(require("analyst"))],
    target_trough: Annotated[float, Form()] = 0.1,
    target_high: Annotated[str, Form()] = "",
    min_dose: Annotated[str, Form()] = "",
    dose_step: Annotated[str, Form()] = "",
) -> Response:
    p = _patient(request, patient_id)
    if not p.levels:
        raise DataError("enter at least one level before asking for a forecast")
    table = _level_table(p.levels)
    table.attrs["path"] = "levels"
    regimen = Regimen.from_dict(p.regimen)
    rules = DosingRules(
        target_trough,
        _optional_number(target_high, "target high"),
        None,
        _optional_number(min_dose, "minimum dose"),
        _optional_number(dose_step, "dose step"),
    )
    res = tdm(table, regimen, bsa=p.bsa_m2, weight=p.weight_kg, rules=rules)
    from ..report._therapy_plots import plot_tdm

    results = res.to_dict()
    results["figure_svg"] = svg(plot_tdm, res, table)
    results["levels_used"] = table.to_dict(orient="records")
    with store_of(request).session() as s:
        s.add(
            Forecast(
                patient_id=p.id,
                username=user.username,
                target_trough=target_trough,
                results=plain_json(results),
                version=__version__,
            )
        )
    store_of(request).audit(user.username, "tdm: forecast", f"{p.pseudonym}: {res.recommendation}")
    return RedirectResponse(f"/tdm/patients/{p.id}", status_code=303)
