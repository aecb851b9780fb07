"""The compiled ensemble backend: one network model, compiled once, many parameter sets.

    compiled = compile_model(model)
    ds = compiled.simulate({"Km_ASNS_Asp": values, ...}, times=np.linspace(0, 72, 289),
                           outputs=["Asn_med", "cells_all_blast"])

Members differ in parameter values and initial concentrations (the same ids a
:class:`~asnflux.network.RoadRunnerEngine` override takes, with the same meaning: species
keep their concentrations when a compartment is resized; initial assignments that read an
overridden value are evaluated again unless their own target is overridden). The result is
an xarray Dataset (member × time per output, ``status`` per member, units in ``attrs``);
members are integrated in chunks (the work arrays of one chunk at a time) and the result can
be written to a NetCDF file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from .._errors import DataError, SolverError
from ..network import Model
from ..network._math import symbols
from ._kernel import STATUS, build_kernel
from ._symbolic import SymbolicSystem, event_branches, symbolic_system, to_sympy

__all__ = ["CompiledModel", "compile_model"]

#: Members integrated per chunk (bounds the memory of one chunk's outputs).
CHUNK = 2_000

#: Ensemble backends: ``numba`` (generated code compiled by numba, members in parallel on
#: all cores; also called ``compiled``, its name in the therapy and cell layers and the
#: CLI) and ``jax`` (the same model and scheme as one XLA program vmapped over the
#: members, on a GPU when JAX has one).
BACKENDS = ("numba", "jax")
_ALIASES = {"compiled": "numba"}


def backend_name(backend: str, names: tuple[str, ...] = ("compiled", "jax")) -> str:
    """The engine backend of ``backend`` (``compiled`` is ``numba``); ``names`` are the
    caller's spellings, listed in the one-line error for anything else."""
    name = _ALIASES.get(backend, backend)
    if backend not in names or name not in BACKENDS:
        raise DataError(f"backend must be one of {', '.join(names)}, got {backend!r}")
    return name


@dataclass(frozen=True)
class _Init:
    """How each state and parameter gets its initial value from a member's inputs."""

    inputs: tuple[str, ...]  # ids a member may set (defaults: the model's values)
    defaults: np.ndarray


def compile_model(model: Model) -> CompiledModel:
    """Translate ``model`` into its compiled form (numba compiles on first use)."""
    return CompiledModel(model)


class CompiledModel:
    """A model's generated, compiled right-hand side, Jacobian and observables."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.system: SymbolicSystem = symbolic_system(model)
        self._kernels: dict[tuple[str, ...], Any] = {}
        kinds = model.ids()
        self._species = {s.id: s for s in model.species}
        self._params = {p.id: p for p in model.parameters}
        self._compartments = {c.id: c for c in model.compartments}
        self._settable = [
            k
            for k, kind in kinds.items()
            if kind == "species"
            or (kind == "parameter" and self._params[k].assignment is None)
            or (kind == "compartment" and self._compartments[k].size_rule is None)
        ]
        self._selectable = set(self.system.observables)
        self._units = {s.id: "mM" for s in model.species}
        self._units |= {p.id: p.unit for p in model.parameters}
        self._units |= {c.id: "L" for c in model.compartments}
        self._units |= {r.id: "mmol/h" for r in model.reactions}

    # -- inputs -------------------------------------------------------------------------
    def _inputs(self, values: Mapping[str, Any], n: int | None) -> tuple[dict[str, Any], int]:
        sizes = {np.size(v) for v in values.values() if np.ndim(v) > 0}
        if len(sizes) > 1:
            raise DataError(f"parameter sets differ in length: {sorted(sizes)}")
        size = sizes.pop() if sizes else (n or 1)
        if n is not None and size != n:
            raise DataError(f"{size} values per parameter for {n} members")
        out: dict[str, Any] = {}
        for key, v in values.items():
            if key not in self._settable:
                raise DataError(
                    f"parameter set: the model has no settable species, parameter or "
                    f"compartment {key!r}"
                )
            try:
                arr = np.broadcast_to(np.asarray(v, float), (size,)).astype(float)
            except (TypeError, ValueError):
                raise DataError(
                    f"parameter set: {key} must be a number or one number per member"
                ) from None
            if not np.all(np.isfinite(arr)):
                bad = int(np.argmin(np.isfinite(arr)))
                raise DataError(
                    f"parameter set: {key} of member {bad} is {float(arr[bad])}, "
                    "not a finite number"
                )
            out[key] = arr
        return out, size

    def _initial(self, given: dict[str, Any], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(initial states, parameter vectors, state scales), one row per member; a
        species' scale is its compartment's initial size, so that an absolute tolerance on
        its amount means the same concentration in every compartment."""
        m = self.model
        vals: dict[str, Any] = {}
        for s in m.species:
            vals[s.id] = given.get(s.id, np.full(n, s.initial))
        for p in m.parameters:
            if p.assignment is None:
                vals[p.id] = given.get(p.id, np.full(n, p.value))
        for c in m.compartments:
            if c.size_rule is None:
                vals[c.id] = given.get(c.id, np.full(n, c.size))
        rules = {p.id: p.assignment for p in m.parameters if p.assignment is not None}
        rules |= {c.id: c.size_rule for c in m.compartments if c.size_rule is not None}

        def value_of(formula: str, where: str, seen: tuple[str, ...] = ()) -> Any:
            reads = symbols(formula, where)
            env = {}
            for name in reads:
                if name in vals:
                    env[name] = vals[name]
                elif name in rules and name not in seen:
                    env[name] = value_of(rules[name], name, (*seen, name))
                else:
                    raise DataError(f"{where}: {name!r} has no initial value")
            names = {k: sp.Symbol(f"s{i}") for i, k in enumerate(sorted(env))}
            expr = to_sympy(formula, names, where)
            fn = sp.lambdify([names[k] for k in sorted(env)], expr, "numpy")
            return np.broadcast_to(np.asarray(fn(*(env[k] for k in sorted(env))), float), (n,))

        # initial assignments, in passes until settled (one may read another's target)
        pending = [p for p in m.parameters if p.initial is not None and p.id not in given]
        for _ in range(len(pending) + 1):
            moved = False
            for p in pending:
                assert p.initial is not None
                new = value_of(p.initial, f"initial value of {p.id}")
                if not np.array_equal(new, vals[p.id]):
                    vals[p.id] = np.array(new)
                    moved = True
            if not moved:
                break
        size0 = {
            c.id: vals[c.id] if c.size_rule is None else value_of(c.size_rule, c.id)
            for c in m.compartments
        }
        y0 = np.empty((n, len(self.system.states)))
        scale = np.ones_like(y0)
        for i, name in enumerate(self.system.states):
            if name == "time":
                y0[:, i] = 0.0
            elif name in self._species:
                scale[:, i] = size0[self._species[name].compartment]
                y0[:, i] = vals[name] * scale[:, i]
            else:
                y0[:, i] = vals[name]
        pv = np.empty((n, len(self.system.parameters)))
        for j, name in enumerate(self.system.parameters):
            if name.startswith("amount__"):
                sid = name.removeprefix("amount__")
                pv[:, j] = vals[sid] * size0[self._species[sid].compartment]
            else:
                pv[:, j] = vals[name]
        if not (np.all(np.isfinite(y0)) and np.all(np.isfinite(pv))):
            raise DataError("initial values are not finite for some members")
        return y0, pv, scale

    # -- running ------------------------------------------------------------------------
    def kernel(self, outputs: list[str], backend: str = "numba") -> Any:
        """The compiled kernel of ``outputs`` on ``backend`` (see :data:`BACKENDS`)."""
        backend = backend_name(backend, (*BACKENDS, *_ALIASES))
        key = (backend, *outputs)
        if key not in self._kernels:
            unknown = [o for o in outputs if o not in self._selectable]
            if unknown:
                raise DataError(
                    f"outputs: the model has no species, parameter or reaction {unknown[0]!r}"
                )
            if backend == "jax":
                from ._jax import JaxKernel

                self._kernels[key] = JaxKernel(self.system, outputs)
            else:
                self._kernels[key] = build_kernel(self.system, outputs)
        return self._kernels[key]

    def simulate(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        times: Any,
        outputs: list[str],
        n: int | None = None,
        rtol: float = 1e-6,
        atol: float = 1e-9,
        max_steps: int = 100_000,
        chunk: int = CHUNK,
        on_failure: str = "raise",
        progress: Callable[[int, int], None] | None = None,
        path: str | None = None,
        scheduler: str | None = None,
        backend: str = "numba",
    ) -> Any:
        """Simulate one member per row of ``values`` (arrays of equal length; scalars are
        shared) and return an xarray Dataset: ``member × time`` per output and
        ``status``/``status_text``/``steps`` per member.

        ``on_failure="raise"`` raises :class:`SolverError` naming the first failed member;
        ``"report"`` keeps its status and NaN rows. ``path`` also writes the Dataset to a
        NetCDF file (``.nc``) or a Zarr store (``.zarr``), atomically. Members are
        integrated ``chunk`` at a time, here on all cores, or with ``scheduler`` on a Dask
        cluster: ``"local"`` starts a ``distributed.LocalCluster`` of one single-threaded
        worker per core, a
        ``"tcp://HOST:PORT"`` address uses that cluster's scheduler; chunks carry the
        members' values, and each worker process compiles (or loads) the model once.
        Members are independent, so the results are the same on every executor.
        ``backend="jax"`` integrates each chunk as one JAX program (a GPU when JAX has one;
        the same scheme and tolerances, so the results agree within them).
        """

        if on_failure not in ("raise", "report"):
            raise DataError(f"on_failure must be 'raise' or 'report', got {on_failure!r}")
        t = np.asarray(times, float)
        if (
            t.ndim != 1
            or len(t) < 2
            or not np.all(np.isfinite(t))
            or np.any(np.diff(t) <= 0)
            or t[0] < 0
        ):
            raise DataError("simulation times must be increasing, non-negative, at least two")
        if not (0 < rtol < 1 and atol > 0):
            raise DataError(f"tolerances must be positive (rtol < 1), got {rtol}, {atol}")
        if chunk < 1:
            raise DataError("chunk must be at least 1 member")
        if path is not None:
            from .._io import check_dataset_path

            check_dataset_path(path, "path")  # before the work, not after
        given, size = self._inputs(values or {}, n)
        self.kernel(list(outputs), backend)  # generated and compiled before any chunk
        settings = (tuple(outputs), rtol, atol, max_steps, backend)
        bounds = [(a, min(size, a + chunk)) for a in range(0, size, chunk)]
        pieces = [{k: v[a:b] for k, v in given.items()} for a, b in bounds]
        # one array for every member: chunks write into their rows, no copies afterwards
        out = np.empty((size, len(t), len(outputs)))
        status = np.zeros(size, np.int64)
        steps = np.zeros(size, np.int64)
        results: Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]
        if scheduler is None:
            results = (self.run_chunk(piece, b - a, t, settings, out[a:b]) for piece, (a, b) in
                       zip(pieces, bounds, strict=True))  # fmt: skip
        else:
            from ._dask import run_chunks

            results = run_chunks(self.model, pieces, [b - a for a, b in bounds], t, settings,
                                 scheduler)  # fmt: skip
        for (start, stop), (rows, code, taken) in zip(bounds, results, strict=True):
            if not np.shares_memory(rows, out):  # a Dask chunk; local chunks wrote in place
                out[start:stop] = rows
            status[start:stop] = code
            steps[start:stop] = taken
            bad = np.flatnonzero(code)
            if bad.size and on_failure == "raise":
                k = int(bad[0])
                raise SolverError(
                    f"member {start + k}: {STATUS[int(code[k])]} after {int(taken[k])} steps"
                    " (check its parameter values; on_failure='report' keeps the others)"
                )
            if progress is not None:
                progress(stop, size)
        ds = self._dataset(out, status, steps, t, outputs)
        if path is not None:
            from .._io import write_dataset

            write_dataset(ds, path, "path")
        return ds

    def run_chunk(
        self,
        values: dict[str, Any],
        n: int,
        t: np.ndarray,
        settings: tuple[Any, ...],
        out: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Integrate ``n`` members: (outputs member × time × output, status, steps), the
        outputs written into ``out`` when given (C-contiguous); a failed member's rows are
        NaN."""
        outputs, rtol, atol, max_steps, backend = settings
        kern = self.kernel(list(outputs), backend)
        ev_at = np.array([at for at, _ in self.system.events], float)
        _, ev_branch, ev_vals = event_branches(self.system)
        h0 = 1e-6 * max(float(t[-1]), 1.0)
        y0, pv, scale = self._initial(values, n)
        if out is None:
            out = np.empty((n, len(t), len(outputs)))
        status = np.zeros(n, np.int64)
        steps = np.zeros(n, np.int64)
        kern.run(
            y0, pv, t, ev_at, ev_branch, ev_vals, rtol, atol * scale, h0, max_steps, out, status,
            steps,
        )  # fmt: skip
        out[np.flatnonzero(status)] = np.nan
        return out, status, steps

    def _dataset(
        self,
        out: np.ndarray,
        status: np.ndarray,
        steps: np.ndarray,
        t: np.ndarray,
        outputs: list[str],
    ) -> Any:
        import xarray as xr

        members = np.arange(out.shape[0])
        ds = xr.Dataset(coords={"member": members, "time": t})
        ds["time"].attrs["units"] = "h"
        for i, name in enumerate(outputs):
            ds[name] = (("member", "time"), out[:, :, i])
            ds[name].attrs["units"] = self._units.get(name, "dimensionless")
        ds["status"] = ("member", status)
        ds["status_text"] = ("member", np.array([STATUS[int(s)] for s in status], dtype=object))
        ds["steps"] = ("member", steps)
        return ds
