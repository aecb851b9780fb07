"""``/cell``: the scenario library with its figures, the pathway diagram, SBML download."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from .._errors import AsnfluxError, DataError
from ..models._cell_config import CellConfig, media_names
from ..models._cell_data import CELL_TYPES
from ._auth import require
from ._figures import svg
from ._pages import render, store_of
from ._store import Simulation, User

router = APIRouter()


@functools.lru_cache(maxsize=1)
def _diagram() -> str:
    from ..models.cell import build_cell_model
    from ..report._diagram import draw_network

    model = build_cell_model(CellConfig(cell_types=("all-blast",)))
    return svg(draw_network, model)


@router.get("/cell", response_class=HTMLResponse)
def cell_home(request: Request, user: Annotated[User, Depends(require("viewer"))]) -> Response:
    from ..models.scenarios import SCENARIOS

    with store_of(request).session() as s:
        runs = list(
            s.scalars(
                select(Simulation)
                .where(Simulation.kind == "scenario")
                .order_by(Simulation.id.desc())
                .limit(30)
            )
        )
    return render(
        request,
        "cell.html",
        user,
        scenarios=SCENARIOS,
        runs=runs,
        cell_types=sorted(CELL_TYPES),
        media=media_names(),
    )


@router.get("/cell/diagram.svg")
def diagram(user: Annotated[User, Depends(require("viewer"))]) -> Response:
    try:
        return Response(_diagram(), media_type="image/svg+xml")
    except AsnfluxError as exc:  # Graphviz missing on the server: say so, do not draw
        return Response(str(exc), status_code=503, media_type="text/plain")


@router.post("/cell/scenarios")
def run_scenario_page(
    request: Request,
    user: Annotated[User, Depends(require("analyst"))],
    name: Annotated[str, Form()],
) -> Response:
    from ..models.scenarios import SCENARIOS, run_scenario

    if name not in SCENARIOS:
        raise HTTPException(400, f"no scenario {name[:40]!r}")

    def work(progress: Any) -> dict[str, Any]:
        from ..report._cell_plots import plot_scenario

        result = run_scenario(name)
        out = result.to_dict()
        out["figure_svg"] = svg(plot_scenario, result)
        out["references"] = [str(r) for r in result.scenario.references()]
        return out

    run_id = request.app.state.jobs.submit(user.username, "scenario", {"name": name}, work)
    store_of(request).audit(user.username, "cell: scenario started", f"run {run_id}: {name}")
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.get("/cell/model.xml")
def sbml(
    request: Request,
    user: Annotated[User, Depends(require("viewer"))],
    cell_type: str = "all-blast",
    medium: str = "rpmi-1640",
) -> Response:
    from ..models.cell import build_cell_model
    from ..network import to_sbml

    if cell_type not in CELL_TYPES:
        raise DataError(
            f"cell type {cell_type[:40]!r} is not one of {', '.join(sorted(CELL_TYPES))}"
        )
    if medium not in media_names() or medium == "custom":
        raise DataError(f"medium {medium[:40]!r} is not one of the presets")
    text = to_sbml(build_cell_model(CellConfig(cell_types=(cell_type,), medium=medium)))
    store_of(request).audit(user.username, "cell: SBML downloaded", f"{cell_type} in {medium}")
    return Response(
        text,
        media_type="application/sbml+xml",
        headers={
            "content-disposition": f'attachment; filename="asnflux-cell-{cell_type}-{medium}.xml"'
        },
    )
