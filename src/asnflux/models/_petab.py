"""PEtab (v1) export of the cell model: a calibration problem for pyPESTO, AMICI or any tool
that reads PEtab.

The problem is the one the knowledge base can pose from measurements: 143B osteosarcoma
cells in DMEM, whose intracellular amino acids were measured by LC-MS (krdav lab work), and
the same cells with 1 mM Asn added. The model's initial pools are those measurements; the
problem asks for them after ``MEASUREMENT_TIME_H`` of culture, when the model's pools have
relaxed to its own steady state, so a calibration moves the assumed constants until the
model holds what was measured. Parameters to estimate are the model's assumed constants
(the ones the sensitivity table lists); measured and derived constants stay fixed.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from .._errors import DataError, SolverError
from .._io import atomic_write_text, check_writable
from ..knowledge import KnowledgeBase, load_knowledge_base
from ..network import to_sbml
from ._cell_config import CellConfig

__all__ = ["MEASUREMENT_TIME_H", "petab_predictions", "write_cell_petab"]

#: When the measured pools are compared with the model (h after seeding): an assumption,
#: stated in the problem's YAML. The cells were measured growing exponentially, so any time
#: after the model's pools have settled (about a day) is the same measurement.
MEASUREMENT_TIME_H = 24.0
_CELL = "143b"
_KEY = "c143b"
# (condition id, medium Asn in mM): DMEM as the records measured it, and with 1 mM Asn
_CONDITIONS = (("dmem", 0.0), ("dmem_asn_1mM", 1.0))
_MEASURED = {
    # record id -> (metabolite, condition)
    "cell.143b.intracellular.asn": ("Asn", "dmem"),
    "cell.143b.intracellular.asp": ("Asp", "dmem"),
    "cell.143b.intracellular.gln": ("Gln", "dmem"),
    "cell.143b.intracellular.glu": ("Glu", "dmem"),
    "cell.143b.intracellular.ser": ("Ser", "dmem"),
    "cell.143b.intracellular.arg": ("Arg", "dmem"),
    "cell.143b.intracellular.leu": ("Leu", "dmem"),
    "cell.143b.intracellular.asn_with_asn": ("Asn", "dmem_asn_1mM"),
}


def _parameter_rows(model: object, kb: KnowledgeBase) -> list[dict[str, object]]:
    """Every model constant: the assumed ones estimated within ``calibration.bounds_fold``
    (log10 scale; fractions linear, inside (0, 1); Hill exponents 1 to twice their value),
    the rest fixed at their value."""
    from ._cell_docs import _assumed

    fold = kb.value("calibration.bounds_fold", "dimensionless")
    assumed = {p.id for p in _assumed(model, kb)}
    rows = []
    for p in model.parameters:  # type: ignore[attr-defined]
        if p.assignment or p.rate_rule or p.variable:
            continue
        v = float(p.value)
        kind = kb.get(p.record).quantity if p.record else ""
        row: dict[str, object] = {
            "parameterId": p.id,
            "parameterName": p.name,
            "parameterScale": "lin",
            "lowerBound": v,
            "upperBound": v,
            "nominalValue": v,
            "estimate": 0,
        }
        if p.id in assumed:
            if kind == "fraction" and v < 1:
                row.update(lowerBound=v / fold, upperBound=1 - (1 - v) / fold)
            elif kind == "exponent":
                row.update(lowerBound=1.0, upperBound=max(2 * v, 1.0))
            else:
                row.update(parameterScale="log10", lowerBound=v / fold, upperBound=v * fold)
            row["estimate"] = 1
        rows.append(row)
    return rows


def write_cell_petab(directory: str | Path, kb: KnowledgeBase | None = None) -> Path:
    """Write the PEtab problem into ``directory`` (created if needed) and return the path of
    its YAML file. Files: ``model.xml`` (SBML L3V2), ``conditions.tsv``,
    ``observables.tsv``, ``measurements.tsv``, ``parameters.tsv``, ``problem.yaml``."""
    from .cell import build_cell_model

    kb = kb or load_knowledge_base()
    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: not a folder (the PEtab problem is several files)")
    out.mkdir(parents=True, exist_ok=True)
    model = build_cell_model(CellConfig(cell_types=(_CELL,), medium="dmem"), kb)
    # the medium's Asn is set by each condition, so it must not be a fixed initial value only
    species = {s.id for s in model.species}
    if "Asn_med" not in species:
        raise DataError("the cell model has no Asn_med species to set per condition")
    sd = kb.value("calibration.intracellular.log_sd", "dimensionless")
    conditions = pd.DataFrame(
        [{"conditionId": c, "conditionName": c, "Asn_med": asn} for c, asn in _CONDITIONS]
    )
    metabolites = sorted({met for met, _ in _MEASURED.values()})
    observables = pd.DataFrame(
        [
            {
                "observableId": f"intracellular_{met}",
                "observableName": f"intracellular {met} (mM)",
                "observableFormula": f"{met}_cyt_{_KEY}",
                "observableTransformation": "log",
                "noiseFormula": repr(sd),
                "noiseDistribution": "normal",
            }
            for met in metabolites
        ]
    )
    rows = []
    for record, (met, cond) in _MEASURED.items():
        value = kb.value(record, "mM")
        if not (math.isfinite(value) and value > 0):
            raise DataError(f"knowledge-base record {record}: {value!r} mM is not a positive level")
        rows.append(
            {
                "observableId": f"intracellular_{met}",
                "simulationConditionId": cond,
                "measurement": value,
                "time": MEASUREMENT_TIME_H,
                "datasetId": record,
            }
        )
    measurements = pd.DataFrame(rows)
    parameters = pd.DataFrame(_parameter_rows(model, kb))
    sbml_model = replace(model, notes=model.notes + " Exported for PEtab by asnflux.")
    files = {
        "model.xml": to_sbml(sbml_model),
        "conditions.tsv": conditions.to_csv(sep="\t", index=False),
        "observables.tsv": observables.to_csv(sep="\t", index=False),
        "measurements.tsv": measurements.to_csv(sep="\t", index=False),
        "parameters.tsv": parameters.to_csv(sep="\t", index=False),
        "problem.yaml": _yaml(sd),
    }
    for name in files:
        check_writable(out / name)
    for name, text in files.items():
        atomic_write_text(out / name, text)
    return out / "problem.yaml"


def _yaml(sd: float) -> str:
    return (
        "# PEtab v1 problem written by asnflux: 143B cells in DMEM, intracellular amino acids\n"
        "# (krdav lab work, LC-MS) compared with the cell model "
        f"{MEASUREMENT_TIME_H:g} h after seeding\n"
        f"# (an assumption: the cells were measured growing exponentially). Noise: log-normal,\n"
        f"# SD {sd:g} on the natural-log scale (knowledge-base assumption\n"
        "# calibration.intracellular.log_sd). Estimated: the model's assumed constants.\n"
        "format_version: 1\n"
        "parameter_file: parameters.tsv\n"
        "problems:\n"
        "  - sbml_files: [model.xml]\n"
        "    condition_files: [conditions.tsv]\n"
        "    measurement_files: [measurements.tsv]\n"
        "    observable_files: [observables.tsv]\n"
    )


def petab_predictions(problem_yaml: str | Path) -> pd.DataFrame:
    """Each measurement of a PEtab problem written by :func:`write_cell_petab` beside the
    model's value at the nominal parameters, simulated from the problem's own files (its
    SBML, each condition's settings and the fixed parameter table) with libroadrunner.

    Columns: ``observableId``, ``simulationConditionId``, ``time``, ``measurement``,
    ``simulation``, ``z`` (log residual over the noise SD: ``ln(measurement/simulation)/SD``).
    """
    import numpy as np
    import yaml

    from ..network import RoadRunnerEngine

    path = Path(problem_yaml)
    try:
        spec = yaml.safe_load(path.read_text())
        part = spec["problems"][0]
        folder = path.parent
        sbml = (folder / part["sbml_files"][0]).read_text()

        def read(key: str) -> list[dict[str, Any]]:
            frame = pd.read_csv(folder / part[key][0], sep="\t")
            return [{str(k): v for k, v in r.items()} for r in frame.to_dict(orient="records")]

        conditions = {str(r.pop("conditionId")): r for r in read("condition_files")}
        observables = {str(r["observableId"]): r for r in read("observable_files")}
        measurements = read("measurement_files")
        parameters = pd.read_csv(folder / spec["parameter_file"], sep="\t")
    except (OSError, KeyError, IndexError, TypeError, yaml.YAMLError, pd.errors.ParserError) as e:
        raise DataError(f"{path}: not a PEtab problem written by asnflux ({e})") from None
    nominal = {
        str(k): float(v)
        for k, v in zip(parameters["parameterId"], parameters["nominalValue"], strict=True)
    }
    engine = RoadRunnerEngine(relative_tolerance=1e-8, absolute_tolerance=1e-12)
    groups: dict[tuple[str, float], list[dict[str, Any]]] = {}
    for m in measurements:
        groups.setdefault((str(m["simulationConditionId"]), float(m["time"])), []).append(m)
    rows = []
    for (cond, time), group in groups.items():
        settings = {k: float(v) for k, v in conditions[cond].items() if k != "conditionName"}
        formulas = [str(observables[m["observableId"]]["observableFormula"]) for m in group]
        run = engine.simulate(
            sbml, np.linspace(0.0, time, 9), sorted(set(formulas)), {**nominal, **settings}
        )
        for m, formula in zip(group, formulas, strict=True):
            sim = run.final(formula)
            if not (math.isfinite(sim) and sim > 0):
                raise SolverError(
                    f"{path}: condition {cond!r} gave {formula} = {sim!r} at {time:g} h; "
                    "a log-scale observable must be positive"
                )
            sd = float(observables[m["observableId"]]["noiseFormula"])
            measured = float(m["measurement"])
            rows.append(
                {
                    "observableId": m["observableId"],
                    "simulationConditionId": cond,
                    "time": time,
                    "measurement": measured,
                    "simulation": sim,
                    "z": math.log(measured / sim) / sd,
                }
            )
    return pd.DataFrame(rows)
