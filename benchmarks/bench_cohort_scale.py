"""Benchmark: cohort size against time and peak memory on the compiled backend.

Each size runs in a fresh process (so its peak resident memory is its own): PEG IV on days
0 and 14 (the engine issue's first target regimen), 35 days, immunogenicity sampled,
traces not kept, patients in chunks of 2,000. Reported per size: wall time of the
simulation (the compiled model is loaded from the on-disk cache, warmed first), and the
process's peak RSS. What must grow with N is only the result itself (daily values and
endpoints, about 1.2 kB per patient); the working memory is one chunk's.

    python benchmarks/bench_cohort_scale.py [--sizes 10000,50000,100000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = """
import json, resource, sys, time
from asnflux.therapy import regimen_from_options, sample_population, simulate
n = int(sys.argv[1])
reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14")
warm, _ = sample_population(10, 1, reg, immunogenicity=True)
simulate(warm, reg, 35, keep_traces=False)
pop, _ = sample_population(n, 1, reg, immunogenicity=True)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
res = simulate(pop, reg, 35, keep_traces=False)
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
result = sum(v.nbytes for v in res.daily.values()) + sum(v.nbytes for v in res.endpoints.values())
print(json.dumps({"patients": n, "simulate_s": round(wall, 2),
                  "peak_rss_MiB": round(peak), "rss_before_run_MiB": round(before),
                  "result_MiB": round(result / 2**20, 1)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,50000,100000")
    args = ap.parse_args()
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(n)], capture_output=True, text=True, check=True
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
