"""The cell model: the seed's asparagine network as an executable, exportable model.

One medium (RPMI-1640, DMEM, derived or custom) shared by one or more cell types; per cell
type a cytosol whose volume is the viable cell count times the cell volume, so that growth
dilutes intracellular species and dying cells take their contents with them. Reactions and
signalling are described in ``docs/cell-model.md`` (generated from this module). Units:
mM, hours, litres.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, replace
from typing import Any

from .._errors import DataError
from .._repr import CompactRepr
from ..knowledge import KnowledgeBase, load_knowledge_base
from ..network import Model
from ._cell_builder import Builder, apply_overrides
from ._cell_config import KNOCKOUTS as KNOCKOUTS
from ._cell_config import Addition as Addition
from ._cell_config import CellConfig as CellConfig
from ._cell_config import media_names as media_names
from ._cell_config import medium_composition as medium_composition
from ._cell_data import CELL_TYPES, MEDIA_DERIVED
from ._petab import petab_predictions as petab_predictions
from ._petab import write_cell_petab as write_cell_petab

__all__ = [
    "KNOCKOUTS",
    "Addition",
    "CellConfig",
    "CellRun",
    "build_cell_model",
    "media_names",
    "medium_composition",
    "output_columns",
    "petab_predictions",
    "pre_culture_medium",
    "pre_culture_state",
    "simulate_cell",
    "simulate_cell_ensemble",
    "write_cell_petab",
]


def build_cell_model(config: CellConfig | None = None, kb: KnowledgeBase | None = None) -> Model:
    """Build (and check) the cell model for a configuration.

    Each cell type starts from its own steady state (:func:`pre_culture_state`): the
    intracellular pools and signalling states it settles at when grown in the complete
    form of the experiment's medium, which is then replaced by the experiment's medium at
    time 0. Parameter overrides act on the experiment, not on that pre-culture.
    """
    config = config or CellConfig()
    kb = kb or load_knowledge_base()
    start: dict[str, float] = {}
    if config.cell_types and all(t in CELL_TYPES for t in config.cell_types):
        for t in config.cell_types:
            start |= pre_culture_state(t, config.medium, config.knockdown, config.knockout, kb)
    return Builder(config, kb, start=start).build()


def pre_culture_medium(medium: str) -> str:
    """The complete medium whose steady state an experiment in ``medium`` starts from: an
    Asn-, Gln-, Leu- or amino-acid-free RPMI starts from cells grown in RPMI-1640."""
    if medium in MEDIA_DERIVED:
        return MEDIA_DERIVED[medium][0]
    return "rpmi-1640" if medium == "custom" else medium


_PRE_CULTURE: dict[tuple[Any, ...], dict[str, float]] = {}


def pre_culture_state(
    cell_type: str,
    medium: str = "rpmi-1640",
    knockdown: dict[str, float] | None = None,
    knockout: tuple[str, ...] = (),
    kb: KnowledgeBase | None = None,
) -> dict[str, float]:
    """Steady intracellular concentrations (mM) and signalling states of one cell type grown
    in the complete form of ``medium`` (held at its composition, cell number frozen, no
    enzyme, no ER stress or rapamycin; ``custom`` media start from RPMI-1640): the start of
    every experiment with that cell type and medium.

    Raises :class:`~asnflux.SolverError` if no steady state is reached.
    """
    from ..network import RoadRunnerEngine, to_sbml

    base = pre_culture_medium(medium)
    kb = kb or load_knowledge_base()
    key = (id(kb), cell_type, base, tuple(sorted((knockdown or {}).items())), tuple(knockout))
    if key in _PRE_CULTURE:
        return dict(_PRE_CULTURE[key])
    cfg = CellConfig(
        cell_types=(cell_type,), medium=base, knockdown=dict(knockdown or {}), knockout=knockout
    )
    model = Builder(cfg, kb, pre_culture=True).build()
    k = CELL_TYPES[cell_type].key
    ids = [sp.id for sp in model.species if sp.compartment == f"cyt_{k}" and not sp.boundary]
    ids += [
        p.id
        for p in model.parameters
        if p.rate_rule and p.id.endswith(f"_{k}") and not p.id.startswith(("cells_", "dead_"))
    ]
    state = RoadRunnerEngine().steady_state(to_sbml(model), ids)
    _PRE_CULTURE[key] = {i: float(state[i]) for i in ids}
    return dict(_PRE_CULTURE[key])


@dataclass(frozen=True, repr=False)
class CellRun(CompactRepr):
    """A simulated experiment: the model, its SBML and the trajectory table."""

    config: CellConfig
    model: Model
    sbml: str
    table: Any  # pandas DataFrame: time_h, species (mM), derived outputs

    @property
    def cell_keys(self) -> list[str]:
        return [CELL_TYPES[t].key for t in self.config.cell_types]

    def final(self, column: str) -> float:
        return float(self.table[column].iloc[-1])

    def at(self, column: str, hours: float) -> float:
        import numpy as np

        return float(np.interp(hours, self.table["time_h"], self.table[column]))


DERIVED = (
    "cells",
    "dead",
    "viability",
    "mu",
    "charging",
    "GCN2",
    "PERK",
    "eIF2P",
    "ATF4",
    "ASNS_mRNA",
    "ASNS",
    "mTORC1",
    "Rag",
    "Arf1",
    "S6K1P",
    "EBP1P",
    "stress",
)
#: Culture-level fluxes reported (mmol/h in the simulated volume): reaction id prefixes.
FLUXES = (
    "R_ASNS",
    "R_ASNS_NH3",
    "exchange_Asn_Ser",
    "exchange_Asn_Arg",
    "exchange_Asn_His",
    "uptake_Ser",
    "uptake_Arg",
    "uptake_His",
    "uptake_Asn",
    "nucleotides",
)


def output_columns(model: Model, config: CellConfig) -> tuple[list[str], dict[str, str]]:
    """Selections for a run and the CSV header of each: species with unit, then derived."""
    cols: list[str] = []
    header: dict[str, str] = {}
    for sp in model.species:
        if sp.boundary:
            continue
        cols.append(sp.id)
        header[sp.id] = f"{sp.id} [mM]"
    cols.append("ASNase")
    header["ASNase"] = "ASNase [IU/mL]"
    for t in config.cell_types:
        k = CELL_TYPES[t].key
        for name in DERIVED:
            pid = f"{name}_{k}"
            unit = "1/h" if name == "mu" else "1"
            cols.append(pid)
            header[pid] = f"{pid} [{unit}]"
        for flux in FLUXES:
            rid = f"{flux}_{k}"
            cols.append(rid)
            header[rid] = f"{rid} [mmol/h]"
    return cols, header


def simulate_cell(
    config: CellConfig | None = None,
    hours: float = 72.0,
    points_per_hour: int = 4,
    engine: Any = None,
) -> CellRun:
    """Build, export and simulate a configuration with libroadrunner (or ``engine``)."""
    import numpy as np

    from ..network import to_sbml

    config = config or CellConfig()
    if not (hours > 0 and math.isfinite(hours)):
        raise DataError(f"hours must be a positive number, got {hours!r}")
    if points_per_hour < 1:
        raise DataError("points_per_hour must be ≥ 1")
    n = round(hours * points_per_hour) + 1
    if n > 1_000_000:
        raise DataError(f"{n:,} output points; use fewer points per hour or a shorter run")
    # Parameter sets differ only in values: build and export the structure once, apply the
    # overrides to a copy of the model (checked as always) and hand them to the engine, so
    # an ensemble of parameter sets compiles the model once instead of once per member.
    base, sbml = _built(replace(config, overrides={}), to_sbml)
    model = apply_overrides(copy.copy(base), dict(config.overrides)) if config.overrides else base
    cols, header = output_columns(model, config)
    times = np.linspace(0.0, hours, n)
    traj = (engine or _default_engine()).simulate(
        sbml, times, cols, overrides=dict(config.overrides) or None
    )
    table = traj.table
    table.attrs["units"] = units_of_columns(header)
    return CellRun(config, model, sbml, table)


def simulate_cell_ensemble(
    config: CellConfig,
    values: dict[str, Any],
    hours: float = 72.0,
    points_per_hour: int = 4,
    *,
    on_failure: str = "report",
    scheduler: str | None = None,
    progress: Any = None,
    option: str = "values",
    backend: str = "compiled",
) -> Any:
    """Many parameter sets of one configuration on the compiled backend (``backend="jax"``:
    the same model and scheme as a JAX program, on a GPU when JAX has one).

    ``values`` maps parameter ids (or species ids: initial concentrations, mM) to one value
    per member, each checked as ``--set`` checks it (errors name ``option``). Returns an
    xarray Dataset with the columns of :func:`simulate_cell` per member and time, the
    members' values, and
    ``status``/``status_text`` per member (a failed member is reported, not fatal, unless
    ``on_failure="raise"``). ``scheduler`` runs the chunks on Dask (see
    :meth:`asnflux.engine.CompiledModel.simulate`).
    """
    import numpy as np

    from ..engine import compile_model

    if not (hours > 0 and math.isfinite(hours)):
        raise DataError(f"hours must be a positive number, got {hours!r}")
    if points_per_hour < 1:
        raise DataError("points_per_hour must be ≥ 1")
    from ..engine._compiled import backend_name

    engine_backend = backend_name(backend)
    from ..network import to_sbml

    model = _built(replace(config, overrides={}), to_sbml)[0]
    arrays = {k: np.atleast_1d(np.asarray(v, float)) for k, v in values.items()}
    for key, arr in arrays.items():  # every member's value checked like a --set
        for value in (float(arr.min()), float(arr.max())):
            apply_overrides(copy.copy(model), {key: value}, option=option)
    cols, header = output_columns(model, config)
    times = np.linspace(0.0, hours, round(hours * points_per_hour) + 1)
    key = repr(model)
    if key not in _COMPILED:
        if len(_COMPILED) >= 4:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = compile_model(model)
    compiled = _COMPILED[key]
    ds = compiled.simulate(
        arrays,
        times=times,
        outputs=cols,
        on_failure=on_failure,
        scheduler=scheduler,
        progress=progress,
        backend=engine_backend,
    )
    for key, arr in arrays.items():
        ds[f"value_{key}"] = ("member", np.broadcast_to(arr, (ds.sizes["member"],)))
        unit = next((p.unit for p in model.parameters if p.id == key), "mM")
        ds[f"value_{key}"].attrs["units"] = unit
    for col in cols:
        ds[col].attrs["units"] = units_of_columns(header)[col]
    ds.attrs["model"] = model.name
    return ds


_COMPILED: dict[str, Any] = {}


def units_of_columns(header: dict[str, str]) -> dict[str, str]:
    """Units by column from the CSV headers (``"Asn_med [mM]"`` → ``"mM"``); time in h."""
    units = {"time_h": "h"}
    for col, shown in header.items():
        _, sep, rest = shown.partition(" [")
        unit = rest.rstrip("]") if sep else "1"
        units[col] = "dimensionless" if unit == "1" else unit
    return units


_ENGINE: Any = None
_BUILT: dict[str, tuple[Model, str]] = {}


def _built(config: CellConfig, to_sbml: Any) -> tuple[Model, str]:
    """The model and SBML of an override-free configuration, kept for the last few."""
    key = repr(config)
    if key not in _BUILT:
        model = build_cell_model(config)
        if len(_BUILT) >= 16:
            _BUILT.pop(next(iter(_BUILT)))
        _BUILT[key] = (model, to_sbml(model))
    return _BUILT[key]


def _default_engine() -> Any:
    global _ENGINE
    if _ENGINE is None:
        from ..network import RoadRunnerEngine

        _ENGINE = RoadRunnerEngine()
    return _ENGINE
