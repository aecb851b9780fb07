"""The benchmark scripts run (at small sizes) and their agreement checks hold: what `make
bench` reports is computed by code the suite exercises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _run(script: str, *args: str, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
        check=True, env=None if env is None else {**os.environ, **env},
    )  # fmt: skip
    return json.loads(out.stdout[out.stdout.index("{") :])


@pytest.mark.slow
def test_cell_ensemble_benchmark_compares_every_output():
    r = _run("bench_cell_ensemble.py", "--n", "8", "--hours", "12", "--procs", "1", "--dask")
    assert r["members_failed"] == 0
    assert r["fraction_members_all_outputs_within_1_percent"] == 1.0
    assert r["outputs_compared"] > 40
    assert r["dask_identical_to_local"] is True


@pytest.mark.slow
def test_cohort_benchmark_compares_every_endpoint():
    r = _run("bench_cohort.py", "--n", "40", "--reference", "6", "--days", "22", "--procs", "1")
    for label in ("peg", "erwinia", "native-ecoli"):
        assert r[label]["fraction_patients_all_endpoints_within_1_percent"] == 1.0
        assert len(r[label]["worst_relative_difference"]) == 7


@pytest.mark.slow
def test_the_gpu_benchmark_runs_on_jaxs_cpu_at_small_n():
    """``benchmarks/gpu_cohort.py`` at small N on JAX's CPU backend: throughput, and the
    agreement of every endpoint with the compiled CPU backend on its sample."""
    pytest.importorskip("jax")
    # on JAX's CPU backend even where a GPU is present (the suite's small-N check)
    r = _run("gpu_cohort.py", "--n", "64", "--sample", "16", "--json",
             env={"JAX_PLATFORMS": "cpu"})  # fmt: skip
    assert r["patients"] == 64
    assert r["failed"] == 0
    assert r["device"] == "cpu"
    assert r["patients_per_s"] > 0
    assert r["agreement"]["cpu_backend_patients_per_s"] > 0  # the reference, same run
    assert r["agreement"]["sample"] == 16
    assert set(r["agreement"]["per_endpoint"]) == {
        "days_saa_at_or_above_threshold", "days_asn_plasma_below_1uM",
        "days_csf_asn_depleted", "gln_nadir_uM", "blast_log_kill",
    }  # fmt: skip
    assert r["agreement"]["worst_relative"] < 1e-6
