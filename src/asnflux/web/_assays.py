"""``/assays``: upload an export → QC verdicts, curve, results, report; QC history per assay."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from .. import __version__
from .._errors import DataError, FitError, SolverError
from .._tables import read_table
from ..assays import asns_activity, asparaginase_activity, lcms_quantify
from ..assays._asns import TYPES as ASNS_TYPES
from ..assays._asparaginase import _TYPES as NESSLER_TYPES
from ..assays._plates import load_measurements
from ._auth import require
from ._figures import drawing
from ._pages import Upload, read_upload, render, saved_uploads, store_of, user_message
from ._store import AssayRun, User, plain_json

router = APIRouter()

PROTOCOLS = {
    "lcms": "LC-MS/MS isotope dilution (Skyline peak report)",
    "asparaginase": "L-asparaginase activity, Nessler NH3 (long table or plate + layout)",
    "asns": "ASNS activity, AMP-Glo with Bradford protein (long table or plate + layout)",
}
#: Earlier runs a Levey–Jennings chart draws on (Westgard's rules assume about 20).
HISTORY_RUNS = 30
_TEXT = re.compile(r"^[\w .,/*µ()+-]{0,64}$")


def _field(value: str, name: str) -> str:
    value = value.strip()
    if not _TEXT.match(value):
        raise DataError(f"{name} {value[:40]!r}: letters, digits and . , / * µ ( ) + - only")
    return value


def _history(request: Request, molecule: str) -> list[tuple[int, str, dict[str, Any]]]:
    with store_of(request).session() as s:
        runs = list(
            s.scalars(
                select(AssayRun)
                .where(AssayRun.protocol == "lcms", AssayRun.assay == molecule)
                .order_by(AssayRun.id.desc())
                .limit(HISTORY_RUNS)
            )
        )
    return [(r.id, f"run {r.id} ({r.created_at:%Y-%m-%d})", r.results) for r in reversed(runs)]


def _analyse(
    request: Request, protocol: str, uploads: list[Upload], layout: Upload | None, p: dict[str, str]
) -> tuple[Any, str, list[int]]:
    """The library's result, the assay it belongs to, and the history runs it was charted on."""
    with saved_uploads(uploads + ([layout] if layout else [])) as paths:
        inputs, layout_path = (paths[:-1], paths[-1]) if layout else (paths, None)
        if protocol == "lcms":
            result: Any = lcms_quantify(
                [read_table(x) for x in inputs],
                analyte=p["molecule"] or None,
                model=p["model"] or "linear",
                weights=p["weight"] or "1/x2",
                concentration_unit=p["unit"] or None,
            )
            history = _history(request, result.molecule)
            if history:
                result = result.with_history([(label, run) for _, label, run in history])
            return result, result.molecule, [run_id for run_id, _, _ in history]
        if protocol == "asparaginase":
            table = load_measurements(inputs, layout_path, "absorbance", NESSLER_TYPES)
            result = asparaginase_activity(
                table,
                reaction_volume=p["reaction_volume"],
                sample_volume=p["sample_volume"],
                time=p["time"],
                calibration_model=p["model"] or "linear",
                weights=p["weight"] or "none",
            )
            return result, "asparaginase-nessler", []
        if protocol == "asns":
            table = load_measurements(inputs, layout_path, "signal", ASNS_TYPES)
            result = asns_activity(
                table, reaction_volume=p["reaction_volume"], lysate_volume=p["lysate_volume"]
            )
            return result, "asns-amp-glo", []
    raise DataError(f"protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")


@router.get("/assays", response_class=HTMLResponse)
def assays_home(request: Request, user: Annotated[User, Depends(require("viewer"))]) -> Response:
    with store_of(request).session() as s:
        runs = list(s.scalars(select(AssayRun).order_by(AssayRun.id.desc()).limit(100)))
        assays = sorted(set(s.scalars(select(AssayRun.assay).where(AssayRun.protocol == "lcms"))))
    return render(request, "assays.html", user, runs=runs, protocols=PROTOCOLS, assays=assays)


@router.post("/assays/runs")
async def upload_run(
    request: Request,
    user: Annotated[User, Depends(require("analyst"))],
    protocol: Annotated[str, Form()],
    files: Annotated[list[UploadFile] | None, File()] = None,
    layout: Annotated[UploadFile | None, File()] = None,
    molecule: Annotated[str, Form()] = "",
    model: Annotated[str, Form()] = "",
    weight: Annotated[str, Form()] = "",
    unit: Annotated[str, Form()] = "",
    reaction_volume: Annotated[str, Form()] = "",
    sample_volume: Annotated[str, Form()] = "",
    lysate_volume: Annotated[str, Form()] = "",
    time: Annotated[str, Form()] = "",
    analyst: Annotated[str, Form()] = "",
    instrument: Annotated[str, Form()] = "",
) -> Response:
    if protocol not in PROTOCOLS:
        raise HTTPException(400, f"protocol {protocol[:40]!r} is not one of {', '.join(PROTOCOLS)}")
    given = [f for f in files or [] if f.filename]
    if not given:
        raise HTTPException(400, "choose the instrument export(s) to upload")
    if len(given) > 8:
        raise HTTPException(400, "at most 8 files in one run")
    uploads = [await read_upload(request, f, "an instrument export") for f in given]
    layout_up = (
        await read_upload(request, layout, "a plate layout") if layout and layout.filename else None
    )
    params = {
        "molecule": molecule,
        "model": model,
        "weight": weight,
        "unit": unit,
        "reaction_volume": reaction_volume,
        "sample_volume": sample_volume,
        "lysate_volume": lysate_volume,
        "time": time,
        "analyst": analyst,
        "instrument": instrument,
    }
    params = {k: _field(v, k.replace("_", " ")) for k, v in params.items()}
    needed = {
        "asparaginase": ("reaction_volume", "sample_volume", "time"),
        "asns": ("reaction_volume", "lysate_volume"),
    }.get(protocol, ())
    missing = [k.replace("_", " ") for k in needed if not params[k]]
    if missing:
        raise DataError(f"{PROTOCOLS[protocol]} needs: {', '.join(missing)}")
    names = [u.filename for u in uploads]
    meta = {
        "analyst": params["analyst"],
        "instrument": params["instrument"],
        "uploaded by": user.username,
        "SHA-256": ", ".join(f"{u.filename} {u.sha256}" for u in uploads),
    }

    def work() -> tuple[Any, str, list[int], str]:
        from ..report._html import assay_report_html

        result, assay, history_ids = _analyse(request, protocol, uploads, layout_up, params)
        with drawing():
            report = assay_report_html(
                result, title=f"{PROTOCOLS[protocol]}: {assay}", inputs=names, metadata=meta
            )
        return result, assay, history_ids, report

    try:  # CPU-bound: off the event loop, so other requests go on meanwhile
        result, assay, history_ids, report = await run_in_threadpool(work)
    except (DataError, FitError, SolverError) as exc:
        raise type(exc)(user_message(str(exc))) from None
    results = plain_json(result.to_dict())
    accepted = _accepted(results)
    store = store_of(request)
    with store.session() as s:
        run = AssayRun(
            username=user.username,
            protocol=protocol,
            assay=assay,
            filename=", ".join(names)[:255],
            sha256=_combined(uploads),
            content=_bundle(uploads, layout_up),
            parameters={**params, "history_runs": history_ids},
            results={**results, "report_html": report},
            accepted=accepted,
            version=__version__,
        )
        s.add(run)
        s.flush()
        run_id = run.id
    store.audit(
        user.username, "assay: run uploaded", f"run {run_id}: {protocol} {assay} {', '.join(names)}"
    )
    return RedirectResponse(f"/assays/runs/{run_id}", status_code=303)


def _combined(uploads: list[Upload]) -> str:
    """The file's SHA-256; for several files, the SHA-256 of their hashes in upload order."""
    import hashlib

    if len(uploads) == 1:
        return uploads[0].sha256
    return hashlib.sha256("".join(u.sha256 for u in uploads).encode()).hexdigest()


def _bundle(uploads: list[Upload], layout: Upload | None) -> bytes:
    """Every uploaded file, kept whole: one JSON document of names, hashes and contents."""
    import base64

    files = [*uploads, *([layout] if layout else [])]
    return json.dumps(
        [
            {"name": u.filename, "sha256": u.sha256, "base64": base64.b64encode(u.content).decode()}
            for u in files
        ]
    ).encode()


def _accepted(results: dict[str, Any]) -> bool | None:
    verdicts = results.get("verdicts") or {}
    value = verdicts.get("run_accepted")
    return value if isinstance(value, bool) else None


def _run(request: Request, run_id: int) -> AssayRun:
    with store_of(request).session() as s:
        run = s.get(AssayRun, run_id)
    if run is None:
        raise HTTPException(404, f"no assay run {run_id}")
    return run


_BODY = re.compile(r"<body>(.*)</body>", re.S)


@router.get("/assays/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request, run_id: int, user: Annotated[User, Depends(require("viewer"))]
) -> Response:
    run = _run(request, run_id)
    report = run.results.get("report_html", "")
    m = _BODY.search(report)
    body = re.sub(r"^<h1>.*?</h1>", "", m.group(1), count=1) if m else ""
    return render(request, "assay_run.html", user, run=run, report_body=body)


@router.get("/assays/runs/{run_id}/report")
def run_report(
    request: Request, run_id: int, user: Annotated[User, Depends(require("viewer"))]
) -> Response:
    run = _run(request, run_id)
    store_of(request).audit(user.username, "assay: report downloaded", f"run {run_id}")
    return Response(
        run.results.get("report_html", ""),
        media_type="text/html; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="asnflux-run-{run_id}.html"'},
    )


@router.get("/assays/history/{assay}", response_class=HTMLResponse)
def history_page(
    request: Request, assay: str, user: Annotated[User, Depends(require("viewer"))]
) -> Response:
    """Levey–Jennings charts and Westgard rules for one assay's QC levels, over its runs."""
    with store_of(request).session() as s:
        runs = list(
            s.scalars(
                select(AssayRun)
                .where(AssayRun.protocol == "lcms", AssayRun.assay == assay)
                .order_by(AssayRun.id)
            )
        )
    if not runs:
        raise HTTPException(404, f"no LC-MS runs of {assay[:40]!r}")
    from ..assays._levey import levey_jennings
    from ..report._html import _lj_figure

    last = runs[-1]
    earlier = [(f"run {r.id}", r.results) for r in runs[:-1]][-HISTORY_RUNS:]
    lj = levey_jennings(last.results.get("qcs") or [], earlier)
    with drawing():
        figure = _lj_figure(lj)
    return render(request, "assay_history.html", user, assay=assay, runs=runs, lj=lj, figure=figure)
