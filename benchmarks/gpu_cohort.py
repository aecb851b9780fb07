"""Benchmark: a therapy cohort on the JAX backend — 1,000,000 patients on one GPU.

The patient network model (the object exported as SBML) is compiled into one JAX program
and run in chunks of ``JAX_CHUNK`` patients on JAX's default device: a GPU when JAX has
one (``pip install 'jax[cuda12]'``), else the CPU. Printed: the device, the compile-and-
first-chunk time (warm-up), the simulation time and throughput of the whole cohort, and
the agreement of every endpoint with the compiled CPU backend (numba) on a sample of
patients simulated by both — the largest difference relative to the endpoint's magnitude.

    python benchmarks/gpu_cohort.py [--n 1000000] [--sample 500] [--formulation peg]
                                    [--days 35] [--chunk 16384] [--json]

The regimens are the engine issue's: PEG IV days 0 and 14 (2,500 IU/m²), Erwinia IM every
2 days × 6 (25,000 IU/m²), native E. coli IM weekly × 5 (10,000 IU/m²); immunogenicity
sampled; traces not kept.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

REGIMENS = {
    "peg": ("peg", "2500 IU/m**2", "iv", {"at": "0,14"}),
    "erwinia": ("erwinia", "25000 IU/m**2", "im", {"every": "2d", "doses": 6}),
    "native-ecoli": ("native-ecoli", "10000 IU/m**2", "im", {"every": "7d", "doses": 5}),
}
ENDPOINTS = (
    "days_saa_at_or_above_threshold",
    "days_asn_plasma_below_1uM",
    "days_csf_asn_depleted",
    "gln_nadir_uM",
    "blast_log_kill",
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--sample", type=int, default=500)
    ap.add_argument("--formulation", choices=sorted(REGIMENS), default="peg")
    ap.add_argument("--days", type=float, default=35.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--chunk", type=int, default=None,
        help="patients per JAX program (default: the library's JAX_CHUNK, 16,384); a GPU "
        "with more memory may run wider chunks faster",
    )  # fmt: skip
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not (1 <= args.sample <= args.n):
        ap.error("--sample must be between 1 and --n")

    from asnflux.engine._jax import jax_device
    from asnflux.therapy import _simulate, regimen_from_options, sample_population, simulate

    if args.chunk is not None:
        if args.chunk < 1:
            ap.error("--chunk must be at least 1")
        _simulate.JAX_CHUNK = args.chunk  # read by simulate at each call
    chunk = _simulate.JAX_CHUNK

    form, dose, route, when = REGIMENS[args.formulation]
    reg = regimen_from_options(form, dose, route, **when)
    pop, _ = sample_population(args.n, args.seed, reg, immunogenicity=True)
    device = jax_device()
    # warm-up: compile for every shape the run uses (a full chunk and the last, shorter
    # one; each is padded to a power of two) and run them once
    t0 = time.perf_counter()
    for size in sorted({min(args.n, chunk), args.n % chunk} - {0}):
        part = pop.take(np.arange(size))
        simulate(part, reg, args.days, keep_traces=False, backend="jax", on_failure="report")
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = simulate(pop, reg, args.days, keep_traces=False, backend="jax", on_failure="report")
    wall = time.perf_counter() - t0
    failed = int(np.sum(np.asarray(res.status) != "ok"))
    sample = pop.take(np.arange(args.sample))
    t0 = time.perf_counter()
    ref = simulate(sample, reg, args.days, keep_traces=False, on_failure="report")
    cpu = time.perf_counter() - t0
    per = {}
    for key in ENDPOINTS:
        a = np.asarray(res.endpoints[key][: args.sample], float)
        b = np.asarray(ref.endpoints[key], float)
        # relative to the endpoint, floored at 1e-6 (an endpoint of 0 days, say, would
        # divide by zero; 1e-6 is far below any difference that matters)
        scale = np.maximum(np.abs(b), 1e-6)
        per[key] = float(np.nanmax(np.abs(a - b) / scale))
    report = {
        "device": device,
        "formulation": args.formulation,
        "patients": args.n,
        "days": args.days,
        "chunk": chunk,
        "warmup_s": round(warm, 2),
        "simulate_s": round(wall, 2),
        "patients_per_s": round(args.n / wall, 1),
        "failed": failed,
        "agreement": {
            "sample": args.sample,
            "cpu_backend_s": round(cpu, 2),
            # the compiled backend's throughput in this run, on this machine's cores
            "cpu_backend_patients_per_s": round(args.sample / cpu, 1),
            "worst_relative": max(per.values()),
            "per_endpoint": per,
        },
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"device: {device}")
    print(
        f"{args.n:,} patients x {args.days:g} days ({args.formulation}): {wall:.1f} s, "
        f"{args.n / wall:,.0f} patients/s (warm-up {warm:.1f} s); {failed} failed"
    )
    print(
        f"compiled CPU backend on {args.sample} of them: {cpu:.1f} s, "
        f"{args.sample / cpu:,.0f} patients/s (ratio {args.n / wall / (args.sample / cpu):.3g})"
    )
    print(f"agreement with the compiled CPU backend on {args.sample} patients:")
    for key, worst in per.items():
        print(f"  {key:34s} worst relative difference {worst:.2e}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
