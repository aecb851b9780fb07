"""``asnflux therapy``: simulate regimens, virtual cohorts and TDM."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from .._errors import DataError
from .._export import check_output, write_table
from .._tables import read_table
from ..knowledge import load_knowledge_base
from ..models._formulations import BSA_RANGE_M2, formulation_name, pk_models
from ..therapy import (
    FORMULATIONS,
    Regimen,
    formulation,
    read_regimen,
    regimen_from_options,
    run_cohort,
    simulate,
    tdm,
    typical_patient,
)
from ..therapy._regimen import MAX_DAY, with_pk_model, with_switch
from ..therapy._result import MAX_PATIENTS
from ..therapy._tdm import MAX_LEVEL, RESEARCH_NOTICE
from ._common import bounded, echo_json, progress_bar, wide_console

log = logging.getLogger("asnflux")

therapy_app = typer.Typer(help="Asparaginase therapy: PK/PD, cohorts, TDM.", no_args_is_help=True)

Form = Annotated[str | None, typer.Option("--formulation", help=", ".join(FORMULATIONS))]
DoseOpt = Annotated[
    str | None, typer.Option("--dose", help='e.g. "2500 IU/m**2"; a list matching --at')
]
Route = Annotated[str | None, typer.Option(help="iv or im (default: the formulation's first).")]
Every = Annotated[str | None, typer.Option(help="Interval, e.g. 2d or 48h.")]
Doses = Annotated[int | None, typer.Option(help="Number of doses with --every.", min=1, max=1000)]
At = Annotated[str | None, typer.Option(help="Dose days, e.g. 0,14,28.")]
RegimenFile = Annotated[Path | None, typer.Option("--regimen", help="YAML regimen file.")]
PkModel = Annotated[
    str | None,
    typer.Option(
        "--pk-model",
        help="Population PK model (default: the formulation's; peg: kloos2021 or "
        "wurthwein2021-pkpdsim). With --regimen, applies to the doses of the formulation "
        "that has it.",
    ),
]
Bsa = Annotated[
    float,
    typer.Option(
        help=f"Body-surface area (m**2), {BSA_RANGE_M2[0]:g}-{BSA_RANGE_M2[1]:g}.",
        callback=bounded(*BSA_RANGE_M2, unit="m**2"),
    ),
]
Age = Annotated[
    float | None,
    typer.Option(
        help="Age (years): a covariate of the models that have one (wurthwein2021-pkpdsim).",
        callback=bounded(0, 120, unit="years"),
    ),
]
Sex = Annotated[str | None, typer.Option(help="f or m: a covariate as for age.")]
Phase = Annotated[
    str | None,
    typer.Option(
        help="Treatment phase of the course, a covariate of peg's kloos2021 model: induction "
        "(the reference), protocol-1b, protocol-m, mrg-intensification, mrg-maintenance or "
        "srg-protocol-iv (DCOG ALL-11)."
    ),
]
Infection = Annotated[
    bool,
    typer.Option(
        "--infection", help="An infection throughout the course (kloos2021: clearance x 1.38)."
    ),
]
InfectionDays = Annotated[
    str | None,
    typer.Option(
        "--infection-days",
        help="Infection episodes instead of one throughout, as START-END days from the start "
        "of the regimen, comma-separated, e.g. 7-14,21-24 (kloos2021: clearance x 1.38 "
        "inside each).",
    ),
]


def _episodes(text: str | None) -> tuple[tuple[float, float], ...]:
    """``--infection-days 7-14,21-24`` as (start, end) day pairs."""
    if text is None:
        return ()
    out = []
    for item in text.split(","):
        start, sep, end = item.strip().partition("-")
        try:
            a, b = float(start), float(end)
        except ValueError:
            a = b = math.nan
        if not (sep and math.isfinite(a) and math.isfinite(b) and 0 <= a < b):
            raise DataError(
                f"--infection-days {item.strip()!r}: expected START-END in days with "
                "0 <= START < END, e.g. 7-14"
            )
        out.append((a, b))
    return tuple(out)


OnAllergy = Annotated[
    str | None,
    typer.Option(
        help="After an allergy to an E. coli enzyme switch to: erwinia (the Erwinaze label's "
        "replacement doses), erwinia-recombinant (Rylaze every 48 h) or "
        "erwinia-recombinant-mwf (Rylaze 25/25/50 mg/m² Mon/Wed/Fri); given only to patients "
        "who had the allergy."
    ),
]
Days = Annotated[
    float,
    typer.Option(
        help="Simulated days (every dose must fall within them).",
        callback=bounded(0, MAX_DAY, low_inclusive=False, unit="days"),
    ),
]
Threshold = Annotated[
    float,
    typer.Option(
        help="SAA threshold (IU/mL).",
        callback=bounded(0, MAX_LEVEL, low_inclusive=False, unit="IU/mL"),
    ),
]
Seed = Annotated[
    int,
    typer.Option(help="Random seed (reproducible cohorts), ≥ 0.", min=0, max=2**63 - 1),
]
Patients = Annotated[int, typer.Option("--n", help="Patients.", min=1, max=MAX_PATIENTS)]
Output = Annotated[Path | None, typer.Option(help="Table: .csv, .parquet, .nc, .xlsx or .json.")]
Plot = Annotated[Path | None, typer.Option(help="Figure (.png/.svg).")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
Scheduler = Annotated[
    str | None,
    typer.Option(
        help="Run the patients on a Dask cluster: 'local' (a LocalCluster, one worker per "
        "core) or tcp://HOST:PORT (asnflux installed on the workers). Same results."
    ),
]
Backend = Annotated[
    str,
    typer.Option(
        help="Engine backend: compiled (the patient network model, generated and compiled "
        "once per model structure, on all cores) or jax (the same model and scheme as one "
        "JAX program per chunk: a GPU when JAX has one, else the CPU).",
    ),
]


def _regimen(
    form: str | None,
    dose: str | None,
    route: str | None,
    every: str | None,
    doses: int | None,
    at: str | None,
    regimen_file: Path | None,
    pk_model: str | None = None,
    on_allergy: str | None = None,
) -> Regimen:
    if regimen_file is not None:
        if form or dose:
            raise DataError("give either --regimen FILE or --formulation/--dose, not both")
        reg = read_regimen(regimen_file)
        reg = reg if pk_model is None else with_pk_model(reg, pk_model)
    else:
        if form is None or dose is None:
            raise DataError("give --formulation and --dose (or --regimen FILE)")
        name = formulation_name(form, pk_model)
        reg = regimen_from_options(name, dose, route, every, doses, at)
    return reg if on_allergy is None else with_switch(reg, on_allergy)


def _patient_checks(age: float | None, sex: str | None) -> None:
    if age is not None and not 0 <= age <= 120:
        raise DataError(f"--age must be between 0 and 120 years, got {age:g}")
    if sex is not None and sex not in ("f", "m"):
        raise DataError(f"--sex must be f or m, got {sex!r}")


@therapy_app.command("formulations")
def formulations(json_: Json = False) -> None:
    """List formulations with their PK structure and sources."""
    kb = load_knowledge_base()
    rows: list[dict[str, Any]] = []
    for name in FORMULATIONS:
        f = formulation(name)
        rows.append(
            {
                "name": name,
                "label": f.label,
                "dose_unit": f.dose_unit,
                "routes": list(f.routes),
                "compartments": f.transit_n or (2 if f.v2 > 0 else 1),
                "pk_models": list(pk_models(name)),
                "scaling": f.scaling,
                "records": list(dict.fromkeys(f.sources)),
                "sources": [ref.format() for ref in kb.cite(list(dict.fromkeys(f.sources)))],
                "assumptions": [
                    r for r in dict.fromkeys(f.sources) if kb.get(r).source == "assumption"
                ],
            }
        )
    if json_:
        echo_json(rows)
        return
    t = Table(title="Asparaginase formulations")
    for col in ("name", "formulation", "dose unit", "routes", "model", "sources"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            r["name"],
            r["label"],
            r["dose_unit"],
            ", ".join(r["routes"]),
            f"{r['compartments']}-cmt, {r['scaling']} ({', '.join(r['pk_models'])})",
            "; ".join(dict.fromkeys(s.split(". ")[0] for s in r["sources"])),
        )
    wide_console().print(t)


@therapy_app.command("simulate")
def simulate_cmd(
    form: Form = None,
    dose: DoseOpt = None,
    route: Route = None,
    every: Every = None,
    doses: Doses = None,
    at: At = None,
    regimen_file: RegimenFile = None,
    pk_model: PkModel = None,
    on_allergy: OnAllergy = None,
    bsa: Bsa = 1.0,
    age: Age = None,
    sex: Sex = None,
    phase: Phase = None,
    infection: Infection = False,
    infection_days: InfectionDays = None,
    days: Days = 35.0,
    threshold: Threshold = 0.1,
    output: Output = None,
    plot: Plot = None,
    json_: Json = False,
) -> None:
    """A typical patient (random effects at zero) on a regimen; --output is hourly."""
    _patient_checks(age, sex)
    episodes = _episodes(infection_days)
    check_output(output, "table", "--output")
    check_output(plot, "figure", "--plot")
    reg = _regimen(form, dose, route, every, doses, at, regimen_file, pk_model, on_allergy)
    with progress_bar(f"{days:g} days") as advance:
        patient = typical_patient(
            bsa, age=age, sex=sex, phase=phase, infection=infection,
            infection_days=episodes,
        )  # fmt: skip
        res = simulate(patient, reg, days, threshold=threshold, progress=advance)
    table = res.to_dataframe()
    if output is not None:
        write_table(
            table,
            output,
            units=res.units(),
            attrs={"regimen": reg.to_dict(), "bsa_m2": bsa},
            index="day",
            float_format="%.8g",
        )
        typer.echo(f"wrote {output}", err=True)
    if plot is not None:
        from ..report._therapy_plots import plot_patient

        plot_patient(table, reg, threshold, plot)
        typer.echo(f"wrote {plot}", err=True)
    ends = {k: float(v[0]) for k, v in res.endpoints.items()}
    troughs = _troughs(table, reg)
    payload: dict[str, Any] = {
        "regimen": reg.to_dict(),
        "bsa_m2": bsa,
        "days": days,
        "threshold_IU_per_mL": threshold,
        "endpoints": ends,
        "troughs": troughs,
    }
    if json_:
        echo_json(payload)
        return
    console = wide_console()
    console.print(
        "Regimen: "
        + "; ".join(
            f"day {d['day']:g} {d['formulation']} {d['dose']} {d['route']}"
            for d in payload["regimen"]
        )
    )
    for k, v in ends.items():
        console.print(f"  {k}: {v:.3g}")
    for tr in troughs:
        console.print(f"  trough day {tr['day']:g}: {tr['saa_IU_per_mL']:.3g} IU/mL")


def _troughs(table: pd.DataFrame, reg: Regimen) -> list[dict[str, float]]:
    out = []
    for d in reg.doses[1:]:
        rows = table[np.isclose(table["day"], d.time_h / 24)]
        if len(rows):
            out.append(
                {"day": d.time_h / 24, "saa_IU_per_mL": float(rows["saa_IU_per_mL"].iloc[0])}
            )
    return out


@therapy_app.command("cohort")
def cohort_cmd(
    form: Form = None,
    dose: DoseOpt = None,
    route: Route = None,
    every: Every = None,
    doses: Doses = None,
    at: At = None,
    regimen_file: RegimenFile = None,
    pk_model: PkModel = None,
    on_allergy: OnAllergy = None,
    bsa: Bsa = 1.0,
    age: Age = None,
    sex: Sex = None,
    phase: Phase = None,
    infection: Infection = False,
    infection_days: InfectionDays = None,
    days: Days = 35.0,
    n: Patients = 1000,
    seed: Seed = 1,
    threshold: Threshold = 0.1,
    no_immunogenicity: Annotated[
        bool, typer.Option("--no-immunogenicity", help="No allergy or inactivation.")
    ] = False,
    p_allergy: Annotated[
        float | None,
        typer.Option(
            help="Probability that a patient given the whole regimen has an allergy, per antibody "
            "group (default: per-dose rates fitted to trials, KB).",
            callback=bounded(0, 1),
        ),
    ] = None,
    p_silent: Annotated[
        float | None,
        typer.Option(
            help="Probability of a silent inactivation over the regimen, per antibody group "
            "(default: fitted per-dose rates; alone, the other follows the silent share).",
            callback=bounded(0, 1),
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Per-patient table: .csv, .parquet, .nc, .xlsx, .json.")
    ] = None,
    plot: Plot = None,
    json_: Json = False,
    backend: Backend = "compiled",
    scheduler: Scheduler = None,
) -> None:
    """A seeded virtual cohort: per-day SAA quantiles (troughs on dose days), endpoints."""
    _patient_checks(age, sex)
    episodes = _episodes(infection_days)
    if no_immunogenicity and (p_allergy is not None or p_silent is not None):
        raise DataError("--no-immunogenicity excludes --p-allergy and --p-silent")
    if p_allergy is not None and p_silent is not None and p_allergy + p_silent > 1:
        raise DataError(
            f"--p-allergy {p_allergy:g} plus --p-silent {p_silent:g} exceeds 1 (they are "
            "probabilities of exclusive outcomes)"
        )
    check_output(output, "table", "--output")
    check_output(plot, "figure", "--plot")
    reg = _regimen(form, dose, route, every, doses, at, regimen_file, pk_model, on_allergy)
    with progress_bar(f"cohort of {n:,}") as advance:
        res = run_cohort(
            reg,
            n,
            seed,
            bsa=bsa,
            days=days,
            threshold=threshold,
            immunogenicity=not no_immunogenicity,
            p_allergy=p_allergy,
            p_silent=p_silent,
            age=age,
            sex=sex,
            phase=phase,
            infection=infection,
            infection_days=episodes,
            progress=advance,
            backend=backend,
            scheduler=scheduler,
        )
    summary: dict[str, Any] = res.summary()
    if output is not None:
        write_table(
            res.patients,
            output,
            units=res.units(),
            attrs={"regimen": reg.to_dict(), "seed": seed, "n": n},
            index="patient" if "patient" in res.patients.columns else None,
            float_format="%.6g",
        )
        typer.echo(f"wrote {output}", err=True)
    if plot is not None:
        from ..report._therapy_plots import plot_cohort

        plot_cohort(summary, plot)
        typer.echo(f"wrote {plot}", err=True)
    if json_:
        echo_json(summary)
        return
    console = wide_console()
    t = Table(title=f"Cohort of {n} (seed {seed}): endpoints (median \\[p5, p95])")
    t.add_column("endpoint")
    t.add_column("value")
    for k, v in summary["endpoints"].items():
        if v and "p50" in v:
            t.add_row(k, f"{v['p50']:.3g} [{v['p5']:.3g}, {v['p95']:.3g}]")
        elif v:
            t.add_row(k, ", ".join(f"{a}: {b}" for a, b in v.items()))
    console.print(t)
    frac = summary["fraction_saa_at_or_above_threshold"]
    console.print("Fraction ≥ threshold by day: " + " ".join(f"{x:.2f}" for x in frac))


@therapy_app.command("compare")
def compare_cmd(
    regimen_files: Annotated[list[Path], typer.Option("--regimen", help="YAML regimen; repeat.")],
    bsa: Bsa = 1.0,
    days: Days = 35.0,
    n: Annotated[
        int, typer.Option("--n", help="Patients per regimen.", min=1, max=MAX_PATIENTS)
    ] = 1000,
    seed: Seed = 1,
    threshold: Threshold = 0.1,
    plot: Plot = None,
    json_: Json = False,
    backend: Backend = "compiled",
    scheduler: Scheduler = None,
) -> None:
    """Regimens side by side on the same virtual patients."""
    from ..therapy import compare_regimens

    if len(regimen_files) < 2:
        raise DataError("give at least two --regimen files to compare")
    check_output(plot, "figure", "--plot")
    stems = [p.stem for p in regimen_files]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        raise DataError(f"--regimen files share the name(s) {', '.join(twice)}; rename one")
    regs = {p.stem: read_regimen(p) for p in regimen_files}
    with progress_bar(f"{len(regs)} regimens × {n:,} patients") as advance:
        out = compare_regimens(
            regs,
            n,
            seed,
            bsa=bsa,
            days=days,
            threshold=threshold,
            progress=advance,
            backend=backend,
            scheduler=scheduler,
        )
    if plot is not None:
        from ..report._therapy_plots import plot_cohort

        plot_cohort(out, plot)
        typer.echo(f"wrote {plot}", err=True)
    if json_:
        echo_json(out)
        return
    t = Table(title=f"{n} patients per regimen (seed {seed}): median \\[p5, p95]")
    t.add_column("endpoint")
    for label in out:
        t.add_column(label)
    for key in next(iter(out.values()))["endpoints"]:
        cells = []
        for s in out.values():
            v = s["endpoints"][key]
            cells.append(
                f"{v['p50']:.3g} [{v['p5']:.3g}, {v['p95']:.3g}]" if v and "p50" in v else str(v)
            )
        t.add_row(key, *cells)
    wide_console().print(t)


@therapy_app.command("tdm")
def tdm_cmd(
    levels: Annotated[
        Path | None,
        typer.Option(help="CSV: day, saa_IU_per_mL (e.g. '<0.02'), optional lloq."),
    ] = None,
    dataset: Annotated[
        Path | None,
        typer.Option(
            help="NONMEM-style dataset instead of --levels and a regimen: ID, TIME (or DATE "
            "and a clock TIME), AMT, DV, EVID, MDV, CMT, BLQ, LLOQ, BSA, WT, AGE, SEX; one or "
            "many patients (needs --formulation)."
        ),
    ] = None,
    dv_unit: Annotated[str, typer.Option(help="Unit of DV in --dataset: IU/mL or IU/L.")] = "IU/mL",
    form: Form = None,
    dose: DoseOpt = None,
    route: Route = None,
    every: Every = None,
    doses: Doses = None,
    at: At = None,
    regimen_file: RegimenFile = None,
    pk_model: PkModel = None,
    bsa: Annotated[
        float | None,
        typer.Option(
            help=f"Body-surface area (m**2), {BSA_RANGE_M2[0]:g}-{BSA_RANGE_M2[1]:g}; with "
            "--levels default 1, with --dataset the BSA column (or this for every patient).",
            callback=bounded(*BSA_RANGE_M2, unit="m**2"),
        ),
    ] = None,
    body_weight: Annotated[
        float | None,
        typer.Option(
            "--body-weight",
            help="Body weight (kg); else from BSA.",
            callback=bounded(0.5, 300, unit="kg"),
        ),
    ] = None,
    weight: Annotated[
        float | None,
        typer.Option(
            "--weight", hidden=True, help="Old name of --body-weight.", callback=bounded(0.5, 300)
        ),
    ] = None,
    age: Age = None,
    sex: Sex = None,
    phase: Phase = None,
    infection: Infection = False,
    infection_days: InfectionDays = None,
    target_trough: Annotated[
        float,
        typer.Option(
            help="Target trough, the lower end of the target range (IU/mL).",
            callback=bounded(0, MAX_LEVEL, low_inclusive=False, unit="IU/mL"),
        ),
    ] = 0.1,
    target_high: Annotated[
        float | None,
        typer.Option(
            help="Upper end of the target trough range (IU/mL).",
            callback=bounded(0, MAX_LEVEL, low_inclusive=False, unit="IU/mL"),
        ),
    ] = None,
    probability: Annotated[
        float | None,
        typer.Option(
            help="Posterior probability of reaching the target trough (default 0.9).",
            callback=bounded(0.5, 1, high_inclusive=False),
        ),
    ] = None,
    min_dose: Annotated[
        float | None,
        typer.Option(help="Smallest dose to advise (the formulation's dose unit)."),
    ] = None,
    dose_step: Annotated[
        float | None,
        typer.Option(help="Round advised doses up to this step (default 50 IU/m**2, 0.5 mg/m**2)."),
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Forecast figure (.png/.svg).")] = None,
    json_: Json = False,
) -> None:
    """Fit a patient's levels (Bayesian, the population model's IIV, IOV and residual
    error), forecast, flag, advise the first dose after the last level by explicit rules.

    For research use; not a medical device.
    """
    from ..therapy._tdm import DosingRules, tdm_dataset

    if weight is not None:
        if body_weight is not None:
            raise DataError("give --body-weight only (--weight is its old name)")
        body_weight = weight
    check_output(plot, "figure", "--plot")
    _patient_checks(age, sex)
    rules = DosingRules(target_trough, target_high, probability, min_dose, dose_step)
    options: dict[str, Any] = {"target_trough": target_trough, "rules": rules}
    episodes = _episodes(infection_days)
    if dataset is not None:
        if episodes:
            raise DataError(
                "--infection-days: a NONMEM dataset has no infection column, and episodes "
                "differ by patient; give one patient's --levels and regimen"
            )
        if levels is not None or dose or every or doses or at or regimen_file:
            raise DataError("--dataset holds the doses and levels: give no --levels or regimen")
        if form is None:
            raise DataError("--dataset needs --formulation (NONMEM datasets do not name it)")
        if plot is not None:
            raise DataError("--plot draws one patient; use --levels for a figure")
        name = formulation_name(form, pk_model)
        from ..therapy._result import check_covariates_of

        check_covariates_of([name], phase, infection)  # once, not once per patient
        for key, value in (("weight", body_weight), ("age", age), ("sex", sex),
                           ("phase", phase)):  # fmt: skip
            if value is not None:
                options[key] = value
        if infection:
            options["infection"] = True
        results = tdm_dataset(
            read_table(dataset), name, route=route, dv_unit=dv_unit, bsa=bsa, **options
        )
        _print_tdm_dataset(results, json_)
        return
    if levels is None:
        raise DataError("give --levels FILE with a regimen, or --dataset FILE")
    reg = _regimen(form, dose, route, every, doses, at, regimen_file, pk_model)
    res = tdm(
        read_table(levels),
        reg,
        bsa=1.0 if bsa is None else bsa,
        weight=body_weight,
        age=age,
        sex=sex,
        phase=phase,
        infection=infection,
        infection_days=episodes,
        **options,
    )
    if weight is not None:  # after the work, so it never precedes an error line
        log.warning("--weight is now --body-weight (--weight means curve weighting in 'fit')")
    if plot is not None:
        from ..report._therapy_plots import plot_tdm

        plot_tdm(res, read_table(levels), plot)
        typer.echo(f"wrote {plot}", err=True)
    if json_:
        echo_json(res.to_dict())
        return
    _print_tdm(res)


def _print_tdm(res: Any) -> None:
    console = wide_console()
    console.print(
        f"{res.formulation} ({res.pk_model}): CL {res.clearance_L_per_h:.4g} L/h (z "
        f"{res.map_z_cl:+.2f}, 90 % CI {res.ci90_z_cl[0]:+.2f} to {res.ci90_z_cl[1]:+.2f}), V1 "
        f"{res.volume_L:.3g} L; residual error {res.residual_error.source}"
    )
    flag = "[red]YES[/red]" if res.inactivation_suspected else "no"
    console.print(f"Silent inactivation suspected: {flag}")
    console.print(
        f"Trough at day {res.trough_day:g} with {res.next_dose:g} {res.dose_unit} on day "
        f"{res.next_dose_day:g}: {res.predicted_trough_p50:.3g} IU/mL (90 % "
        f"{res.predicted_trough_p5:.3g}-{res.predicted_trough_p95:.3g}; P ≥ target "
        f"{res.probability_trough_at_target:.2f})"
    )
    console.print(f"Advice: {res.recommendation}")
    console.print(f"[italic]{RESEARCH_NOTICE}[/italic]")


def _print_tdm_dataset(results: dict[str, Any], json_: bool) -> None:
    if json_:
        echo_json(
            {
                "notice": RESEARCH_NOTICE,
                "patients": {
                    pid: {"status": "error", "error": r}
                    if isinstance(r, str)
                    else {"status": "ok", **r.to_dict()}
                    for pid, r in results.items()
                },
            }
        )
    else:
        t = Table(title="TDM per patient")
        for col in ("ID", "status", "next dose day", "trough p50 (IU/mL)", "advice"):
            t.add_column(col)
        for pid, r in results.items():
            if isinstance(r, str):
                t.add_row(pid, "error", "", "", r)
            else:
                t.add_row(
                    pid,
                    "inactivation?" if r.inactivation_suspected else "ok",
                    f"{r.next_dose_day:g}",
                    f"{r.predicted_trough_p50:.3g}",
                    r.recommendation,
                )
        console = wide_console()
        console.print(t)
        console.print(f"[italic]{RESEARCH_NOTICE}[/italic]")
    failed = [pid for pid, r in results.items() if isinstance(r, str)]
    if failed:
        raise typer.Exit(1)


@therapy_app.command("tdm-study")
def tdm_study_cmd(
    n: Annotated[
        int, typer.Option("--n", help="Patients per formulation.", min=10, max=10_000)
    ] = 200,
    formulations: Annotated[
        list[str] | None, typer.Option("--formulation", help="Only these; repeatable.")
    ] = None,
    seed: Seed = 0,
    markdown: Annotated[Path | None, typer.Option(help="Write the table as Markdown.")] = None,
    json_: Json = False,
) -> None:
    """Simulation-estimation study of TDM per formulation: forecast bias and precision,
    interval coverage, target attainment of advised doses. For research use."""
    from .._io import atomic_write_text, check_writable
    from ..therapy._tdm_study import DESIGNS, run_tdm_study, tdm_study_markdown

    names = tuple(formulations or DESIGNS)
    unknown = [x for x in names if x not in DESIGNS]
    if unknown:
        raise DataError(f"--formulation {unknown[0]!r}: choose from {', '.join(DESIGNS)}")
    if markdown is not None:
        check_writable(markdown)
    with progress_bar(f"{n} patients x {len(names)}") as advance:
        table = run_tdm_study(names, n, seed, progress=advance)
    if markdown is not None:
        atomic_write_text(markdown, tdm_study_markdown(table))
        typer.echo(f"wrote {markdown}", err=True)
    if json_:
        echo_json({"notice": RESEARCH_NOTICE, "rows": table.to_dict(orient="records")})
        return
    t = Table(title=f"TDM simulation-estimation, {n} patients per formulation")
    for col in table.columns:
        t.add_column(col)
    for row in table.itertuples(index=False):
        t.add_row(*(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row))
    wide_console().print(t)


@therapy_app.command("validate")
def validate_cmd(
    check: Annotated[
        list[str] | None, typer.Option("--check", help="Run only this check; repeatable.")
    ] = None,
    markdown: Annotated[
        Path | None, typer.Option(help="Also write the results as Markdown (docs page).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Also write an HTML page with the figures.")
    ] = None,
    vpc: Annotated[
        Path | None,
        typer.Option(help="Also write the visual predictive checks as a figure (.png/.svg)."),
    ] = None,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Simulate each published clinical observation the way its source measured it and
    compare (tolerances fixed in advance); exit 1 if any check misses."""
    from .._io import atomic_write_text, check_writable
    from ..therapy._validation import summary, validate, validation_markdown
    from ..therapy._vpc import panels_for

    check_output(report, "html", "--report")
    check_output(vpc, "figure", "--vpc")
    if markdown is not None:
        check_writable(markdown)
    if vpc is not None and check and not panels_for(check):
        raise DataError(
            "--vpc: none of the checks chosen is a level with a predictive-check panel "
            "(the medians and means of SAA are)"
        )
    rows = validate(check)
    if vpc is not None:
        from ..report._therapy_plots import plot_vpc
        from ..therapy._vpc import vpc as vpc_panel

        by_key = {r.key: r for r in rows}
        plot_vpc([vpc_panel(k, by_key) for k in panels_for(list(by_key))], vpc)
        typer.echo(f"wrote {vpc}", err=True)
    if markdown is not None:
        atomic_write_text(markdown, validation_markdown(rows))
        typer.echo(f"wrote {markdown}", err=True)
    if report is not None:
        from ..report._validation import validation_report_html

        atomic_write_text(report, validation_report_html(rows))
        typer.echo(f"wrote {report}", err=True)
    if json_:
        independent = [r for r in rows if r.fitted_by is None]
        echo_json({"checks": [r.to_dict() for r in rows], "summary": summary(rows),
                   "passed": sum(r.passed for r in independent),
                   "total": len(independent)})  # fmt: skip
    else:
        table = Table(title=f"clinical validation: {summary(rows)}")
        for col in ("check", "observed", "predicted", "verdict", "criterion"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                r.key, r.shown("observed"), r.shown("predicted"),
                "fit data" if r.fitted_by else ("pass" if r.passed else "MISS"),
                r.criterion.split(" (")[0],
            )  # fmt: skip
        wide_console().print(table)
    if not all(r.passed for r in rows if r.fitted_by is None):
        raise typer.Exit(1)
