"""Benchmark: a 10,000-patient, 35-day asparaginase cohort, vectorised vs libroadrunner.

The reference is the field's standard engine: the same patients simulated one by one with
libroadrunner from the exported patient SBML (loaded once; per patient the parameters are
set and the model reset, as a tellurium user would script it). Both run in this process on
this machine; the result is reported as a ratio. By default the reference runs a random
subset of the cohort and is scaled to the whole cohort (stated in the output); use
``--reference-all`` for the full 10,000.

    python benchmarks/bench_cohort.py [--n 10000] [--reference 200] [--reference-all]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import roadrunner

from asnflux.models.patient import build_patient_model
from asnflux.network import to_sbml
from asnflux.therapy import regimen_from_options, sample_population, simulate
from asnflux.therapy._formulations import formulation


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--days", type=float, default=35.0)
    ap.add_argument("--reference", type=int, default=200, help="patients run by libroadrunner")
    ap.add_argument("--reference-all", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    reg = regimen_from_options("erwinia", "25000 IU/m**2", "im", every="2d", doses=6)
    pop, _ = sample_population(args.n, args.seed, reg, immunogenicity=False)

    t0 = time.perf_counter()
    res = simulate(pop, reg, args.days, keep_traces=False)
    t_vec = time.perf_counter() - t0

    sbml = to_sbml(build_patient_model(pop, reg, 0))
    rr = roadrunner.RoadRunner(sbml)
    rr.integrator.relative_tolerance = 1e-9
    rr.integrator.absolute_tolerance = 1e-12
    f = formulation("erwinia")
    cl, v1, q, v2 = f.scaled(pop.bsa, pop.weight)
    cl = cl * np.exp(f.iiv_cl * pop.z_cl)
    v1 = v1 * np.exp(f.iiv_v * pop.z_v)
    v2 = v2 * np.exp(f.iiv_v * pop.z_v)
    m = args.n if args.reference_all else min(args.reference, args.n)
    idx = np.random.default_rng(args.seed).choice(args.n, m, replace=False)
    times = np.arange(0, args.days * 24 + 1e-9, 24.0)
    t0 = time.perf_counter()
    saa_ref = np.empty((m, len(times)))
    for j, i in enumerate(idx):
        rr.resetAll()
        for key, val in (
            ("bsa", pop.bsa[i]),
            ("CL_erwinia", cl[i]),
            ("V1_erwinia", v1[i]),
            ("Q_erwinia", q[i]),
            ("V2_erwinia", v2[i]),
        ):
            rr.setValue(key, float(val))
        # The first dose is an initial amount in the SBML: rescale it to this patient's BSA.
        rr.setValue("depot_erwinia", float(rr.getValue("depot_erwinia") * pop.bsa[i] / pop.bsa[0]))
        out = rr.simulate(times=list(times), selections=["time", "SAA"])
        saa_ref[j] = np.asarray(out)[:, 1]
    t_ref_subset = time.perf_counter() - t0
    t_ref = t_ref_subset * args.n / m
    saa_vec = res.daily["saa_IU_per_mL"][idx]
    # Daily values of the vectorised engine are pre-dose; compare off-dose days only.
    off = [d for d in range(len(times)) if d % 2 == 1]
    rel = np.abs(saa_vec[:, off] - saa_ref[:, off]) / np.maximum(saa_ref[:, off], 1e-12)
    report = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "patients": args.n,
        "days": args.days,
        "vectorised_s": round(t_vec, 3),
        "libroadrunner_patients_run": m,
        "libroadrunner_s_for_cohort": round(t_ref, 3),
        "libroadrunner_extrapolated": m < args.n,
        "speed_ratio": round(t_ref / t_vec, 2),
        "max_relative_difference_saa_off_dose_days": float(rel.max()),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
