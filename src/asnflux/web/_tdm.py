"""``/tdm``: patients (pseudonymous ids), their levels, the Bayesian forecast and advice."""

from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from .. import __version__
from .._errors import AsnfluxError, DataError
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
from ..therapy._result import check_course_covariates
from ..therapy._tdm import RESEARCH_NOTICE, _levels
from ._auth import require
from ._figures import svg
from ._pages import read_upload, render, saved_uploads, store_of, user_message
from ._store import Forecast, Level, Patient, Store, User, plain_json

router = APIRouter()
log = logging.getLogger("asnflux.web")


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


@dataclass(frozen=True)
class _Who:
    """A patient's covariates as the TDM model takes them."""

    bsa: float
    weight: float | None = None
    age: float | None = None
    sex: str | None = None
    phase: str | None = None  # Kloos 2021's treatment phase (None: induction)
    infection: bool = False

    def options(self) -> dict[str, Any]:
        return {"bsa": self.bsa, "weight": self.weight, "age": self.age, "sex": self.sex,
                "phase": self.phase, "infection": self.infection}  # fmt: skip


def _add_patient(
    store: Store,
    user: User,
    pseudonym: str,
    regimen: Regimen,
    who: _Who,
    levels: pd.DataFrame | None = None,
) -> int:
    """File a patient (and its ``levels``, ``day`` and ``saa_IU_per_mL``) in one
    transaction: nothing is stored if any part is refused."""
    low, high = BSA_RANGE_M2
    if not (low <= who.bsa <= high):
        raise DataError(f"BSA {who.bsa:g} m² is outside {low:g}-{high:g} m²")
    if who.weight is not None and not (0.5 <= who.weight <= 300):
        raise DataError(f"body weight {who.weight:g} kg is outside 0.5-300 kg")
    if who.age is not None and not (0 <= who.age <= 120):
        raise DataError(f"age {who.age:g} years is outside 0-120 years")
    with store.session() as s:
        if s.scalar(select(Patient.id).where(Patient.pseudonym == pseudonym)) is not None:
            raise DataError(f"patient id {pseudonym!r} exists already")
    try:
        with store.session() as s:
            p = Patient(
                pseudonym=pseudonym,
                created_by=user.username,
                bsa_m2=who.bsa,
                weight_kg=who.weight,
                age_y=who.age,
                sex=who.sex,
                phase=who.phase,
                infection=who.infection,
                regimen=regimen.to_dict(),
            )
            s.add(p)
            s.flush()
            pid = p.id
            if levels is not None:
                for day, saa in zip(levels["day"], levels["saa_IU_per_mL"], strict=True):
                    s.add(Level(patient_id=pid, day=float(day), saa=str(saa),
                                entered_by=user.username))  # fmt: skip
    except IntegrityError:  # filed by another request between the check and the insert
        raise DataError(f"patient id {pseudonym!r} exists already (filed just now)") from None
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
    phases = [name for name, _ in formulation("peg").phase_cl if name != "induction"]
    return render(
        request, "tdm.html", user, patients=rows, formulations=_formulations(), phases=phases
    )


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
    age: Annotated[str, Form()] = "",
    sex: Annotated[str, Form()] = "",
    phase: Annotated[str, Form()] = "",
    infection: Annotated[str, Form()] = "",
) -> Response:
    pseudonym = _check_pseudonym(pseudonym)
    regimen = regimen_from_options(formulation, dose, route or None, at=at)
    who = _Who(bsa, _optional_number(weight, "body weight"), _optional_number(age, "age"),
               _sex(sex), phase.strip() or None, bool(infection))  # fmt: skip
    check_course_covariates(regimen, who.phase, who.infection)
    pid = _add_patient(store_of(request), user, pseudonym, regimen, who)
    return RedirectResponse(f"/tdm/patients/{pid}", status_code=303)


def _sex(text: str) -> str | None:
    text = text.strip().lower()
    if text in ("", "f", "m"):
        return text or None
    raise DataError(f"sex {text[:20]!r}: write f or m, or leave it empty")


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
    fit: Annotated[str, Form()] = "",
) -> Response:
    """A NONMEM-style dataset: one patient per ID, with its doses and levels. Every ID that
    can be read is filed (its BSA/WT/AGE/SEX columns override the form's BSA); with ``fit``
    each filed patient is then fitted in the background. The run's page lists every ID's
    status: fitted (with its advice), filed but not fitted, or not imported, with the reason."""
    upload = await read_upload(request, file, "a NONMEM-style dataset")
    errors: dict[str, str] = {}

    def read() -> dict[str, tuple[Regimen, pd.DataFrame]]:
        with saved_uploads([upload]) as paths:
            return read_nonmem(read_table(paths[0]), formulation, route or None, dv_unit, errors)

    try:
        patients = await run_in_threadpool(read)
    except DataError as exc:  # the file as a whole (columns, encoding): nothing is filed
        raise DataError(user_message(str(exc))) from None
    store = store_of(request)

    def file_all() -> tuple[list[dict[str, Any]], list[int]]:
        rows: list[dict[str, Any]] = []
        filed: list[int] = []
        for pid_text, (regimen, levels) in patients.items():
            cov = dict(levels.attrs.get("covariates", {}))
            row: dict[str, Any] = {"id": pid_text, "patient_id": None}
            try:
                pseudonym = _check_pseudonym(pid_text)
                who = _Who(cov.get("bsa", bsa), cov.get("weight"), cov.get("age"),
                           cov.get("sex"))  # fmt: skip
                pid = _add_patient(store, user, pseudonym, regimen, who, levels)
            except DataError as exc:
                rows.append({**row, "status": "not imported", "detail": user_message(str(exc))})
                continue
            except Exception:  # a bug: this patient is left out, the others are filed
                log.error("tdm import: ID %s: %s", pid_text, traceback.format_exc())
                rows.append({**row, "status": "not imported",
                             "detail": "internal error; see the server log"})  # fmt: skip
                continue
            rows.append({**row, "patient_id": pid, "status": "filed", "detail": ""})
            filed.append(pid)
        return rows, filed

    rows, filed = await run_in_threadpool(file_all)
    rows += [
        {"id": pid_text, "patient_id": None, "status": "not imported",
         "detail": user_message(reason)}
        for pid_text, reason in errors.items()
    ]  # fmt: skip
    store.audit(
        user.username,
        "tdm: dataset imported",
        f"{upload.filename}: {len(filed)} of {len(rows)} patients filed",
    )
    params = {"file": upload.filename, "formulation": formulation, "route": route or None,
              "dv_unit": dv_unit, "bsa_m2": bsa, "fit": bool(fit)}  # fmt: skip
    run_id = request.app.state.jobs.submit(
        user.username, "tdm-import", params, _fit_imported(store, user, rows, filed, bool(fit))
    )
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


def _fit_imported(
    store: Store, user: User, rows: list[dict[str, Any]], filed: list[int], fit: bool
) -> Any:
    """The background half of an import: each filed patient, as stored when its turn comes,
    fitted with the default dosing rules and its forecast stored; one patient's failure,
    whatever it is, never stops the others."""

    def one(pid: int) -> tuple[str, str]:
        with store.session() as s:
            p = s.get(Patient, pid)
            if p is None:
                return "filed, not fitted", "the patient was deleted before the fit"
            pseudonym, table = p.pseudonym, _level_table(p.levels)
            regimen = Regimen.from_dict(p.regimen)
            who = _Who(p.bsa_m2, p.weight_kg, p.age_y, p.sex, p.phase, p.infection)
        table.attrs["path"] = "levels"
        res = tdm(table, regimen, **who.options())
        _store_forecast(store, pid, pseudonym, user, res, table, DosingRules().target_low)
        return "fitted", res.recommendation

    def work(progress: Any) -> dict[str, Any]:
        by_pid = {r["patient_id"]: r for r in rows if r["patient_id"] is not None}
        for i, pid in enumerate(filed):
            row = by_pid[pid]
            if not fit:
                row["detail"] = "not fitted (fit on import was off)"
                continue
            try:
                status, detail = one(pid)
            except AsnfluxError as exc:
                status, detail = "filed, not fitted", str(exc)
            except Exception:  # a bug: this patient's row says so, the others go on
                log.error("tdm import: patient %d: %s", pid, traceback.format_exc())
                status, detail = "filed, not fitted", "internal error; see the server log"
            row.update(status=status, detail=detail)
            progress(i + 1, len(filed))
        counts = {s: sum(r["status"] == s for r in rows) for s in _IMPORT_STATUSES}
        return {"patients": rows, "counts": counts, "notice": RESEARCH_NOTICE}

    return work


_IMPORT_STATUSES = ("fitted", "filed", "filed, not fitted", "not imported")


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
    who = _Who(p.bsa_m2, p.weight_kg, p.age_y, p.sex, p.phase, p.infection)
    res = tdm(table, regimen, rules=rules, **who.options())
    _store_forecast(store_of(request), p.id, p.pseudonym, user, res, table, target_trough)
    return RedirectResponse(f"/tdm/patients/{p.id}", status_code=303)


def _store_forecast(
    store: Store, pid: int, pseudonym: str, user: User, res: Any, table: pd.DataFrame,
    target_trough: float,
) -> None:  # fmt: skip
    """A fit's results (with its figure and the levels it used) as the patient's newest
    forecast, audited."""
    from ..report._therapy_plots import plot_tdm

    results = res.to_dict()
    results["figure_svg"] = svg(plot_tdm, res, table)
    results["levels_used"] = table.to_dict(orient="records")
    with store.session() as s:
        s.add(
            Forecast(
                patient_id=pid,
                username=user.username,
                target_trough=target_trough,
                results=plain_json(results),
                version=__version__,
            )
        )
    store.audit(user.username, "tdm: forecast", f"{pseudonym}: {res.recommendation}")
