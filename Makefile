# The two commands of the quick start: `make demo` and `make test`.
# Each creates .venv with the machine's python3 and installs the package first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench bench-gpu fuzz serve screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/asnflux demo --out out

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

# Long fuzzing campaign (thousands of generated inputs per loader; not part of CI).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -q tests/test_fuzz.py -p no:cacheprovider

# Benchmarks (not part of CI): the compiled backend vs libroadrunner (in as many processes
# as cores, every output compared) for cohorts and cell-model ensembles, and cohort size
# against time and peak memory.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_cohort.py
	$(BIN)/python benchmarks/bench_cohort_scale.py
	$(BIN)/python benchmarks/bench_cell_ensemble.py

# 1,000,000 patients on the JAX backend (for a machine with a GPU and jax[cuda12]; on a
# CPU it runs, slowly: use --n to shrink it).
bench-gpu: $(STAMP)
	$(BIN)/python benchmarks/gpu_cohort.py

# The web app on http://127.0.0.1:8000 with ./asnflux.db (make the first admin with
# `.venv/bin/asnflux users add NAME --role admin`).
serve: $(STAMP)
	$(BIN)/asnflux serve

# Rewrite the screenshots docs/web.md shows (the browser tests take them).
screenshots: $(STAMP)
	ASNFLUX_SCREENSHOTS=docs/web $(BIN)/pytest -q tests/test_web_browser.py -p no:cacheprovider

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache asnflux.db
