"""Benchmark: a cell-model ensemble of parameter sets, AsnFlux vs plain libroadrunner.

AsnFlux runs each member through ``simulate_cell`` (configuration → model → engine, with
the member's parameter values as overrides). The reference is what a libroadrunner user
scripts: load the exported SBML once, then per member ``resetAll()``, set the values and
simulate the same output grid. Both run in this process, one core, at libroadrunner's
usual tolerance (rtol 1e-6); every output column of every member is compared. The result
is a ratio of wall times. (This measures the ensemble path's overhead over libroadrunner;
the compiled ensemble backend of the engine issue is still to come.)

    python benchmarks/bench_cell_ensemble.py [--n 200] [--hours 72]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import roadrunner

from asnflux.models.cell import CellConfig, build_cell_model, output_columns, simulate_cell
from asnflux.network import RoadRunnerEngine, to_sbml

# Perturbed parameters and their ranges (×0.5-2 of the model's value, log-uniform).
PARAMS = ("Km_ASNS_Asp", "Km_ASNS_Gln", "V_GLS", "Vtr_Asn", "K_GCN2", "kd_max")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--hours", type=float, default=72.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    cfg = CellConfig(asparaginase="0.1 IU/mL")
    model = build_cell_model(cfg)
    base = {p: model.parameter(p).value for p in PARAMS}
    rng = np.random.default_rng(args.seed)
    members = [
        {p: v * float(np.exp(rng.uniform(np.log(0.5), np.log(2.0)))) for p, v in base.items()}
        for _ in range(args.n)
    ]
    cols, _ = output_columns(model, cfg)
    n_points = round(args.hours * 4) + 1
    times = np.linspace(0.0, args.hours, n_points)

    engine = RoadRunnerEngine(relative_tolerance=1e-6)
    simulate_cell(cfg, args.hours, engine=engine)  # warm: compile once, as the reference does
    t0 = time.perf_counter()
    ours = [
        simulate_cell(CellConfig(asparaginase="0.1 IU/mL", overrides=m), args.hours, engine=engine)
        for m in members
    ]
    t_ours = time.perf_counter() - t0

    rr = roadrunner.RoadRunner(to_sbml(model))
    rr.integrator.relative_tolerance = 1e-6
    rr.integrator.absolute_tolerance = engine.atol
    species = set(rr.model.getFloatingSpeciesIds())
    sel = ["time", *(f"[{c}]" if c in species else c for c in cols)]
    t0 = time.perf_counter()
    ref = []
    for m in members:
        rr.resetAll()
        for k, v in m.items():
            rr.setValue(k, v)
        ref.append(np.asarray(rr.simulate(times=list(times), selections=sel)))
    t_ref = time.perf_counter() - t0

    worst = 0.0
    for run, r in zip(ours, ref, strict=True):
        a, b = run.table.to_numpy(), r
        scale = np.maximum(np.abs(b).max(axis=0), 1e-12)
        worst = max(worst, float(np.max(np.abs(a - b) / scale)))
    print(
        json.dumps(
            {
                "members": args.n,
                "hours": args.hours,
                "asnflux_s": round(t_ours, 3),
                "libroadrunner_s": round(t_ref, 3),
                "ratio_libroadrunner_over_asnflux": round(t_ref / t_ours, 3),
                "worst_difference_relative_to_column_range": worst,
                "outputs_compared": len(cols) + 1,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
