"""``/therapy``: regimen builder, typical patient, cohorts and regimens side by side.

Every run goes to the background (:mod:`._jobs`); its page polls for progress and shows
the results when they are in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from .._errors import DataError
from ..models._formulations import BSA_RANGE_M2
from ..therapy import (
    FORMULATIONS,
    Regimen,
    compare_regimens,
    formulation,
    run_cohort,
    simulate,
    typical_patient,
)
from ..therapy._regimen import MAX_DAY
from ..therapy._tdm import MAX_LEVEL
from ._auth import require
from ._figures import svg
from ._pages import render, store_of
from ._store import Simulation, User

router = APIRouter()


def _formulations() -> dict[str, Any]:
    return {name: formulation(name) for name in FORMULATIONS}


ROWS = 4  # dose lines per regimen in the builder
MAX_PATIENTS = 20_000
_KEYS = ("day", "formulation", "dose", "route", "every", "count")


def _regimen(form: Any, prefix: str) -> Regimen | None:
    """The builder's dose lines ``{prefix}{key}{row}`` as a regimen; no lines → ``None``."""
    entries = []
    for row in range(ROWS):
        values = {k: str(form.get(f"{prefix}{k}{row}", "")).strip() for k in _KEYS}
        if not values["dose"]:
            continue
        entry: dict[str, Any] = {"formulation": values["formulation"], "dose": values["dose"]}
        try:
            entry["day"] = float(values["day"] or 0)
            if values["count"]:
                entry["count"] = int(values["count"])
        except ValueError:
            raise DataError(
                f"regimen {prefix.upper()}, line {row + 1}: day and count are numbers"
            ) from None
        if values["route"]:
            entry["route"] = values["route"]
        if values["every"]:
            entry["every"] = values["every"]
        entries.append(entry)
    if not entries:
        return None
    try:
        return Regimen.from_dict(entries)
    except DataError as exc:
        raise DataError(f"regimen {prefix.upper()}: {exc}") from None


def _number(form: Any, key: str, low: float, high: float, default: float) -> float:
    text = str(form.get(key, "")).strip()
    try:
        value = float(text) if text else default
    except ValueError:
        raise DataError(f"{key} {text[:20]!r} is not a number") from None
    if not low <= value <= high:
        raise DataError(f"{key} {value:g} is outside {low:g}-{high:g}")
    return value


@router.get("/therapy", response_class=HTMLResponse)
def therapy_home(request: Request, user: Annotated[User, Depends(require("viewer"))]) -> Response:
    with store_of(request).session() as s:
        runs = list(
            s.scalars(
                select(Simulation)
                .where(Simulation.kind.in_(("typical", "cohort", "compare")))
                .order_by(Simulation.id.desc())
                .limit(50)
            )
        )
    return render(request, "therapy.html", user, runs=runs, formulations=_formulations(), rows=ROWS)


def _typical(
    reg: Regimen, bsa: float, days: float, threshold: float
) -> Callable[..., dict[str, Any]]:
    def work(progress: Callable[[int, int], None]) -> dict[str, Any]:
        from ..report._therapy_plots import plot_patient

        res = simulate(typical_patient(bsa), reg, days, threshold=threshold, progress=progress)
        table = res.to_dataframe()
        return {
            "endpoints": {k: float(v[0]) for k, v in res.endpoints.items()},
            "figure_svg": svg(plot_patient, table, reg, threshold),
        }

    return work


def _cohort(
    reg: Regimen, n: int, seed: int, bsa: float, days: float, threshold: float
) -> Callable[..., dict[str, Any]]:
    def work(progress: Callable[[int, int], None]) -> dict[str, Any]:
        from ..report._therapy_plots import plot_cohort

        res = run_cohort(reg, n, seed, bsa=bsa, days=days, threshold=threshold, progress=progress)
        summary = res.summary()
        return {"summary": summary, "figure_svg": svg(plot_cohort, summary)}

    return work


def _compare(
    regs: dict[str, Regimen], n: int, seed: int, bsa: float, days: float, threshold: float
) -> Callable[..., dict[str, Any]]:
    def work(progress: Callable[[int, int], None]) -> dict[str, Any]:
        from ..report._therapy_plots import plot_cohort

        out = compare_regimens(
            regs, n, seed, bsa=bsa, days=days, threshold=threshold, progress=progress
        )
        return {"summaries": out, "figure_svg": svg(plot_cohort, out)}

    return work


@router.post("/therapy/runs")
async def start_run(
    request: Request, user: Annotated[User, Depends(require("analyst"))]
) -> Response:
    form = await request.form()
    action = str(form.get("action", ""))
    a, b = _regimen(form, "a"), _regimen(form, "b")
    if a is None:
        raise DataError("regimen A needs at least one dose line (a dose amount)")
    bsa = _number(form, "bsa", *BSA_RANGE_M2, 1.0)
    days = _number(form, "days", 1, MAX_DAY, 35.0)
    threshold = _number(form, "threshold", 1e-6, MAX_LEVEL, 0.1)
    n = int(_number(form, "n", 1, MAX_PATIENTS, 500))
    seed = int(_number(form, "seed", 0, 2**31 - 1, 1))
    params: dict[str, Any] = {
        "regimen_a": a.to_dict(),
        "bsa_m2": bsa,
        "days": days,
        "threshold_IU_per_mL": threshold,
    }
    if action == "typical":
        work = _typical(a, bsa, days, threshold)
    elif action == "cohort":
        params.update(n=n, seed=seed)
        work = _cohort(a, n, seed, bsa, days, threshold)
    elif action == "compare":
        if b is None:
            raise DataError("comparing needs regimen B too")
        params.update(n=n, seed=seed, regimen_b=b.to_dict())
        work = _compare({"A": a, "B": b}, n, seed, bsa, days, threshold)
    else:
        raise HTTPException(
            400, f"unknown action {action[:20]!r}; expected typical, cohort or compare"
        )
    run_id = request.app.state.jobs.submit(user.username, action, params, work)
    store_of(request).audit(user.username, f"therapy: {action} started", f"run {run_id}")
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


def _simulation(request: Request, run_id: int) -> Simulation:
    with store_of(request).session() as s:
        sim = s.get(Simulation, run_id)
    if sim is None:
        raise HTTPException(404, f"no run {run_id}")
    return sim


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request, run_id: int, user: Annotated[User, Depends(require("viewer"))]
) -> Response:
    return render(request, "run.html", user, run=_simulation(request, run_id))


@router.get("/runs/{run_id}/status")
def run_status(
    request: Request, run_id: int, user: Annotated[User, Depends(require("viewer"))]
) -> Response:
    sim = _simulation(request, run_id)
    return JSONResponse({"status": sim.status, "progress": sim.progress, "error": sim.error})
