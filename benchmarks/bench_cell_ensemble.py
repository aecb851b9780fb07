"""Benchmark: a cell-model ensemble of parameter sets, compiled backend vs libroadrunner.

AsnFlux compiles the cell network model once (``asnflux.engine.compile_model``: generated
right-hand side, Jacobian and sparse LU, RODAS4, members in parallel on all cores) and runs
every member at its default tolerance (rtol 1e-6). The reference is what a libroadrunner
user scripts: load the exported SBML once per process, then per member ``resetAll()``, set
the values and simulate the same output grid, at libroadrunner's usual tolerance (rtol
1e-6), in as many processes as there are cores. Every output of every member is compared
(difference relative to that member's range of the output). The ratio is of wall times in
this run; the one-off compile time is reported beside it and in a second ratio.

    python benchmarks/bench_cell_ensemble.py [--n 10000] [--hours 72] [--procs N] [--dask]

``--dask`` also runs the ensemble on a ``distributed.LocalCluster`` (one single-threaded
worker process per core) and reports its wall time, its overhead over the local executor
and whether its results are identical.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from multiprocessing import get_context
from typing import Any

import numpy as np

from asnflux.engine import compile_model
from asnflux.models.cell import CellConfig, build_cell_model, output_columns
from asnflux.network import to_sbml

# Perturbed parameters and their ranges (×0.5-2 of the model's value, log-uniform).
PARAMS = ("Km_ASNS_Asp", "Km_ASNS_Gln", "V_GLS", "Vtr_Asn", "K_GCN2", "kd_max")
_WORKER: dict[str, Any] = {}


def _load(sbml: str, cols: list[str], times: np.ndarray) -> None:
    import roadrunner

    roadrunner.Logger.setLevel(roadrunner.Logger.LOG_FATAL)
    rr = roadrunner.RoadRunner(sbml)
    rr.integrator.relative_tolerance = 1e-6  # libroadrunner's default, stated
    species = set(rr.model.getFloatingSpeciesIds())
    _WORKER.update(
        rr=rr, sel=["time", *(f"[{c}]" if c in species else c for c in cols)], times=times
    )


def _reference(chunk: list[dict[str, float]]) -> np.ndarray:
    rr, sel, times = _WORKER["rr"], _WORKER["sel"], _WORKER["times"]
    out = []
    for member in chunk:
        rr.resetAll()
        for k, v in member.items():
            rr.setValue(k, v)
        out.append(np.asarray(rr.simulate(times=list(times), selections=sel))[:, 1:])
    return np.stack(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--hours", type=float, default=72.0)
    ap.add_argument("--procs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dask", action="store_true", help="also run on a Dask LocalCluster")
    args = ap.parse_args()
    cfg = CellConfig(asparaginase="0.1 IU/mL")
    model = build_cell_model(cfg)
    cols, _ = output_columns(model, cfg)
    times = np.linspace(0.0, args.hours, round(args.hours * 4) + 1)
    rng = np.random.default_rng(args.seed)
    values = {
        p: model.parameter(p).value * np.exp(rng.uniform(np.log(0.5), np.log(2.0), args.n))
        for p in PARAMS
    }

    t0 = time.perf_counter()
    compiled = compile_model(model)
    compiled.simulate({k: v[:1] for k, v in values.items()}, times=times, outputs=cols)
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    ds = compiled.simulate(values, times=times, outputs=cols, on_failure="report")
    t_ours = time.perf_counter() - t0
    ours = np.stack([ds[c].values for c in cols], axis=-1)
    dask: dict[str, Any] = {}
    if args.dask:  # the same members on a LocalCluster of one worker process per core
        t0 = time.perf_counter()
        on_dask = compiled.simulate(
            values, times=times, outputs=cols, on_failure="report", scheduler="local"
        )
        t_dask = time.perf_counter() - t0
        same = all(np.array_equal(on_dask[c].values, ds[c].values, equal_nan=True) for c in cols)
        dask = {
            "dask_local_cluster_s": round(t_dask, 2),
            "dask_overhead_s": round(t_dask - t_ours, 2),
            "dask_identical_to_local": same,
        }

    members = [{p: float(values[p][i]) for p in PARAMS} for i in range(args.n)]
    size = max(1, args.n // (8 * args.procs))
    chunks = [members[i : i + size] for i in range(0, args.n, size)]
    t0 = time.perf_counter()
    with get_context("fork").Pool(
        args.procs, initializer=_load, initargs=(to_sbml(model), cols, times)
    ) as pool:
        ref = np.concatenate(pool.map(_reference, chunks))
    t_ref = time.perf_counter() - t0

    scale = np.maximum(np.abs(ref).max(axis=1, keepdims=True), 1e-12)
    diff = (np.abs(ours - ref) / scale).max(axis=1)  # member × output
    worst = diff.max(axis=1)
    print(
        json.dumps(
            {
                "members": args.n,
                "hours": args.hours,
                "output_times": len(times),
                "outputs_compared": len(cols),
                "cores": os.cpu_count(),
                "libroadrunner_processes": args.procs,
                "compile_s": round(t_compile, 2),
                "asnflux_s": round(t_ours, 2),
                "libroadrunner_s": round(t_ref, 2),
                "ratio_libroadrunner_over_asnflux": round(t_ref / t_ours, 2),
                "ratio_including_compile": round(t_ref / (t_ours + t_compile), 2),
                "members_failed": int((ds.status.values != 0).sum()),
                "worst_difference_relative_to_member_range": float(worst.max()),
                "fraction_members_all_outputs_within_1_percent": float((worst < 0.01).mean()),
                "median_steps_per_member": float(np.median(ds.steps.values)),
                **dask,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
