"""Turn a fit into knowledge-base records with provenance, so models can use a lab's enzyme."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from .._errors import DataError
from ..knowledge import KINDS, Record, Reference
from ..units import Q_, Uncertainty, as_quantity
from ._nls import FitResult

__all__ = ["records_from_fit"]

# Which fitted parameters are which quantity kind, and whether they take x's or y's unit.
_PARAM_KIND = {
    "Vmax": ("Vmax", "y"),
    "Km": ("Km", "x"),
    "Ki": ("Ki", "x2"),
    "KmA": ("Km", "x"),
    "KmB": ("Km", "x2"),
    "KiA": ("Ki", "x"),
}


def records_from_fit(
    result: FitResult,
    *,
    id_prefix: str,
    entity: str,
    data_file: str | Path,
    x_unit: str,
    y_unit: str,
    x2_unit: str | None = None,
    substrate: str = "",
    organism: str = "",
    when: _dt.datetime | None = None,
) -> tuple[list[Record], Reference]:
    """Records for the kinetic constants of ``result``, and the lab reference they cite.

    The reference names the data file, the model and the time of fitting; each record
    carries the parameter's standard error. Units: Km in ``x_unit``, Vmax in ``y_unit``
    (e.g. ``"mM"`` and ``"IU/mg"``), so a fit of rates per mg becomes a specific activity.
    """
    stamp = (when or _dt.datetime.now(_dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    key = f"lab:{id_prefix}"
    ref = Reference(
        key=key,
        kind="lab",
        title=f"{result.model.name} fit to {Path(data_file).name} (n = {result.n})",
        note=f"file {data_file}; model {result.model.equation}; fitted {stamp} with AsnFlux",
    )
    units = {"x": x_unit, "y": y_unit, "x2": x2_unit}
    records = []
    for name, est in result.parameters.items():
        if name not in _PARAM_KIND:
            continue
        kind, axis = _PARAM_KIND[name]
        unit = units[axis]
        if unit is None:
            raise DataError(f"parameter {name} is in the units of x2; give x2_unit")
        q = as_quantity(f"{est.value!r} {unit}", name=name)
        canonical = next(
            (u for u in KINDS[kind].canonical_units if Q_(1, u).dimensionality == q.dimensionality),
            None,
        )
        if canonical is None:
            raise DataError(
                f"{name} in {unit} does not fit quantity kind {kind} "
                f"(expected units like {', '.join(KINDS[kind].canonical_units)})"
            )
        factor = float(Q_(1.0, unit).to(canonical).magnitude)
        records.append(
            Record(
                id=f"{id_prefix}.{name.lower()}",
                topic="enzyme_kinetics",
                quantity=kind,
                entity=entity,
                source=key,
                value=est.value * factor,
                unit=canonical,
                uncertainty=Uncertainty("se", est.stderr * factor),
                printed=f"{est.value:.6g} ± {est.stderr:.3g} {unit}",
                substrate=substrate,
                organism=organism,
                locator=f"parameter {name}",
                notes=f"95 % CI (Wald) {est.ci95[0]:.4g}-{est.ci95[1]:.4g} {unit}",
            )
        )
    if not records:
        raise DataError(f"model {result.model.name} has no kinetic constants to record")
    return records, ref
