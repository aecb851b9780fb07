"""Compiled kernels: generated rate functions and a batched stiff integrator (numba).

The right-hand side, its Jacobian (differentiated symbolically by sympy), the observables
and the event assignments are printed as Python source from the model's own formulas, with
common subexpressions shared, and compiled by numba. The integrator is RODAS4 (Hairer &
Wanner, *Solving ODEs II*, 2nd ed., 1996, §IV.7): a six-stage, L-stable, stiffly accurate
Rosenbrock method of order 4 with an embedded order-3 estimate, the step size chosen per
member by the usual controller (factor in [0.2, 6], safety 0.9). Output times are filled by
cubic Hermite interpolation between accepted steps; events are step boundaries. Members are
integrated independently and in parallel over all cores (``prange``); a member whose
integration fails carries its status and leaves NaN rows, the others are unaffected.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from .._errors import DataError
from .._io import atomic_write_text
from ._symbolic import SymbolicSystem, event_branches, structure_key

__all__ = ["STATUS", "Kernel", "Plan", "build_kernel", "elimination", "generate_source"]

#: Per-member status codes of an ensemble run.
STATUS = {
    0: "ok",
    1: "maximum number of steps reached",
    2: "step size became too small",
    3: "non-finite state or output",
}


class _Printer(PythonCodePrinter):
    """Python source for numba: states as ``y[i]``, parameters as ``p[j]``, math.*."""

    def __init__(self, names: dict[sp.Symbol, str]) -> None:
        super().__init__({"fully_qualified_modules": True, "strict": False})
        self._names = names

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return self._names.get(expr, expr.name)

    def _print_Float(self, expr: sp.Float) -> str:
        return repr(float(expr))

    def _print_NaN(self, expr: Any) -> str:
        return "math.nan"


def _names(system: SymbolicSystem, n_lifted: int = 0) -> dict[sp.Symbol, str]:
    out = {s: f"y[{i}]" for i, s in enumerate(system.state_symbols)}
    out |= {sp.Symbol(f"q__{i}"): f"q[{i}]" for i in range(n_lifted)}  # an event's numbers
    return out | {s: f"p[{j}]" for j, s in enumerate(system.parameter_symbols)}


def _body(exprs: list[sp.Basic], targets: list[str], printer: _Printer) -> list[str]:
    """Assignment lines computing ``targets[i] = exprs[i]`` with shared subexpressions."""
    if not exprs:
        return ["    pass"]
    subs, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("x__"), optimizations="basic")
    lines = [f"    {printer.doprint(s)} = {printer.doprint(e)}" for s, e in subs]
    lines += [f"    {t} = {printer.doprint(e)}" for t, e in zip(targets, reduced, strict=True)]
    return lines


def generate_source(system: SymbolicSystem, outputs: list[str]) -> tuple[str, int]:
    """Source of the model's compiled functions.

    ``rhs(y, p, dy)``; ``wmat(y, p, fac, w)``: the iteration matrix W = fac·I − J on the
    filled pattern of its sparse LU, as a compact vector; ``lu(w)`` and ``solve(w, b)``:
    that factorisation and its triangular solves, as straight-line code from the
    elimination plan; ``obs(y, p, o)``: the selected outputs; ``event(k, y, p)``: branch k
    of the distinct event assignment groups;
    ``ind(y, p, g)``: the durations' conditions (true where ≥ 0).
    """
    branches, _, lifted = event_branches(system)
    printer = _Printer(_names(system, lifted.shape[1]))
    m = system.n_ode
    lines = ["import math", "", "def rhs(y, p, dy):"]
    lines += _body(list(system.rhs), [f"dy[{i}]" for i in range(m)], printer)
    jac = system.jacobian()
    pattern = np.array([[jac[i, j] != 0 for j in range(m)] for i in range(m)], dtype=bool)
    plan = elimination(pattern)
    slot = {(int(q) // m, int(q) % m): n for n, q in enumerate(plan.fill)}
    entries = [(i, j) for i in range(m) for j in range(m) if pattern[i, j]]
    lines += ["", "def wmat(y, p, fac, w):"]
    lines += [f"    w[{slot[i, j]}] = 0.0" for (i, j) in slot if not pattern[i, j]]
    lines += _body(
        [-jac[i, j] for i, j in entries], [f"w[{slot[i, j]}]" for i, j in entries], printer
    )
    lines += [f"    w[{slot[i, i]}] += fac" for i in range(m)]
    lines += ["", "def lu(w):"]
    for k in plan.order:
        kk = slot[k, k]
        lines.append(f"    d = w[{kk}]")
        lines.append("    if d == 0.0 or not math.isfinite(d):")
        lines.append("        return False")
        rows = plan.rows[k]
        if rows:
            lines.append("    r = 1.0 / d")
        for i in rows:
            lines.append(f"    w[{slot[i, k]}] *= r")
            lines += [
                f"    w[{slot[i, j]}] -= w[{slot[i, k]}] * w[{slot[k, j]}]" for j in plan.cols[k]
            ]
    lines.append("    return True")
    lines += ["", "def solve(w, b):"]
    for k in plan.order:
        lines += [f"    b[{i}] -= w[{slot[i, k]}] * b[{k}]" for i in plan.rows[k]]
    for k in reversed(plan.order):
        terms = "".join(f" - w[{slot[k, j]}] * b[{j}]" for j in plan.cols[k])
        lines.append(f"    b[{k}] = (b[{k}]{terms}) / w[{slot[k, k]}]")
    lines += ["", "def obs(y, p, o):"]
    lines += _body(
        [system.observables[k] for k in outputs], [f"o[{i}]" for i in range(len(outputs))], printer
    )
    lines += ["", "def event(k, y, p, q):"]
    if not branches:
        lines.append("    pass")
    for k, assigned in enumerate(branches):  # one branch per distinct assignment group
        lines.append(f"    if k == {k}:")
        # values from before the event (SBML useValuesFromTriggerTime), then assigned
        body = _body([v for _, v in assigned], [f"v{n}" for n in range(len(assigned))], printer)
        lines += ["    " + line for line in body]
        lines += [f"        y[{i}] = v{n}" for n, (i, _) in enumerate(assigned)]
    lines += ["", "def holds(j, g):"]
    lines += [
        f"    if j == {j}:\n        return g > 0.0"
        if st
        else f"    if j == {j}:\n        return g >= 0.0"
        for j, st in enumerate(system.strict)
    ]
    lines.append("    return g >= 0.0")
    lines += ["", "def ind(y, p, g):"]
    lines += _body(
        list(system.durations), [f"g[{j}]" for j in range(len(system.durations))], printer
    )
    return "\n".join(lines) + "\n", len(plan.fill)


@dataclass(frozen=True)
class Plan:
    """A sparse LU: pivot order, filled pattern (flat indices), and per pivot the rows
    below it and the columns right of it (in pivot order) that the elimination touches."""

    order: list[int]
    fill: np.ndarray
    rows: dict[int, list[int]]
    cols: dict[int, list[int]]


def elimination(pattern: np.ndarray) -> Plan:
    """Plan the LU of matrices with ``pattern`` (boolean, m × m) plus the diagonal.

    Pivots are taken on the diagonal in a greedy minimum-degree order of the symmetrised
    pattern: W = I/(hγ) − J has a non-zero diagonal for a small enough step, and a zero or
    non-finite pivot rejects the step, which shrinks h.
    """
    m = pattern.shape[0]
    filled = pattern.copy() | np.eye(m, dtype=bool)
    sym = filled | filled.T
    order: list[int] = []
    left = set(range(m))
    while left:
        rest = sorted(left)
        k = min(rest, key=lambda v: (int(sym[v, rest].sum()), v))
        order.append(k)
        left.discard(k)
        nb = [v for v in left if sym[v, k]]
        for a in nb:
            for b in nb:
                sym[a, b] = True
    rows: dict[int, list[int]] = {}
    cols: dict[int, list[int]] = {}
    done: set[int] = set()
    for k in order:
        done.add(k)
        rows[k] = [i for i in order if i not in done and filled[i, k]]
        cols[k] = [j for j in order if j not in done and filled[k, j]]
        for i in rows[k]:
            for j in cols[k]:
                filled[i, j] = True
    return Plan(order, np.flatnonzero(filled), rows, cols)


#: Bumped whenever generated code or the integrator changes meaning (part of the cache key).
CODEGEN_VERSION = "5"
_FUNCTIONS = ("rhs", "wmat", "lu", "solve", "obs", "event", "holds", "ind")


def cache_dir() -> Path | None:
    """Where generated modules and numba's machine code are kept between runs:
    ``$ASNFLUX_CACHE_DIR``, else ``$XDG_CACHE_HOME/asnflux/engine`` (``~/.cache``); None
    when no such folder can be made writable."""
    root = os.environ.get("ASNFLUX_CACHE_DIR")
    if root:
        folder = Path(root)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = Path(base) / "asnflux" / "engine"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK | os.X_OK) else None


#: A generated module unused for this long is removed, with numba's machine code for it,
#: whenever a new module is written; beyond this total size, so is the least recently used
#: (but none used within the last hour).
CACHE_MAX_AGE_S = 30 * 86400.0
CACHE_MAX_BYTES = 2**30


def prune_cache(folder: Path, keep: str = "", now: float | None = None) -> list[str]:
    """Remove from ``folder`` the generated modules (and their ``__pycache__`` files) last
    used more than :data:`CACHE_MAX_AGE_S` ago, then the least recently used while the
    folder holds more than :data:`CACHE_MAX_BYTES`; never ``keep`` (a module name).
    A module's last use is the time of its ``.used`` marker, touched at every load (the
    module's own file time must stay: numba's cache is valid only for it). Returns what it
    removed."""
    now = time.time() if now is None else now
    pycache = folder / "__pycache__"
    entries = []
    for path in folder.glob("asnflux_model_*.py"):
        marker = path.with_suffix(".used")
        files = [path, marker, *pycache.glob(f"{path.stem}.*")]
        try:
            used = (marker if marker.exists() else path).stat().st_mtime
            size = sum(f.stat().st_size for f in files if f.exists())
        except OSError:  # removed meanwhile by another process
            continue
        entries.append((used, path.stem, files, size))
    entries.sort()
    total = sum(size for *_, size in entries)
    removed = []
    for used, name, files, size in entries:
        idle = now - used
        if name == keep or not (
            idle > CACHE_MAX_AGE_S or (total > CACHE_MAX_BYTES and idle > 3600)
        ):
            continue
        for f in files:
            with contextlib.suppress(OSError):  # gone already
                f.unlink()
        total -= size
        removed.append(name)
    return removed


def module_text(system: SymbolicSystem, outputs: list[str]) -> str:
    """The whole generated module: the integrator (``_rodas.py``'s text, placeholders
    included), then the model's sizes and functions, which replace the placeholders."""
    source, n_w = generate_source(system, outputs)
    clock = system.states.index("time") if "time" in system.states else -1
    sizes = [
        "",
        "# --- generated from the network model; replaces the placeholders above ---",
        f"M = {system.n_ode}",
        f"D = {len(system.durations)}",
        f"N_W = {n_w}",
        f"N_OUT = {len(outputs)}",
        f"CLOCK = {clock}",
    ]
    jit = [f'{name} = numba.njit(cache=True, error_model="numpy")({name})' for name in _FUNCTIONS]
    template = Path(__file__).with_name("_rodas.py").read_text(encoding="utf-8")
    return "\n".join([template.rstrip(), *sizes, source.replace("import math\n", ""), *jit, ""])


def _generator_text() -> str:
    """The integrator template and the generators' own source: a change to any of them
    makes new cache entries (no stale machine code after an upgrade)."""
    here = Path(__file__).parent
    return "".join(
        (here / name).read_text(encoding="utf-8")
        for name in ("_rodas.py", "_kernel.py", "_symbolic.py")
    )


class Kernel:
    """The compiled functions and integrator of one model and output selection.

    The generated module is keyed by the model's structure (:func:`structure_key` without
    event times), its states and parameters in order (which ids events set decides which
    states are durations, and so the order), its event templates (distinct event
    assignments with their numbers lifted out: not when, how often or with which numbers
    the events fire), the outputs, and the generator's source and versions; it is written
    once to the cache folder, and numba keeps its machine code there, so a second
    process loads it in about a second, and a process loads each module once.
    """

    def __init__(self, system: SymbolicSystem, outputs: list[str]) -> None:
        import numba

        key = hashlib.sha256(
            repr(
                (structure_key(system.model, event_times=False), system.states,
                 system.parameters, [repr(b) for b in event_branches(system)[0]], outputs,
                 CODEGEN_VERSION,
                 _generator_text(),
                 numba.__version__, sp.__version__)
            ).encode()
        ).hexdigest()[:32]  # fmt: skip
        name = f"asnflux_model_{key}"
        if name in sys.modules:  # loaded already by this process
            self._bind(sys.modules[name], system, outputs)
            return
        # no usable cache folder: a private temporary one (this process compiles afresh)
        folder = cache_dir() or Path(tempfile.mkdtemp(prefix="asnflux-engine-"))
        path = folder / f"{name}.py"
        if not path.exists():
            atomic_write_text(path, module_text(system, outputs))
            prune_cache(folder, keep=name)
        with contextlib.suppress(OSError):  # a read-only cache: no record of use
            path.with_suffix(".used").touch()  # its last use, for pruning
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise DataError(f"cannot load the generated model {path}")
        module = importlib.util.module_from_spec(spec)
        # registered by name: numba's cached machine code refers to its module by name
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        self._bind(module, system, outputs)

    def _bind(self, module: Any, system: SymbolicSystem, outputs: list[str]) -> None:
        self.module = module
        self.functions = {k: getattr(module, k) for k in _FUNCTIONS}
        self.run = module.run
        self.n_states = len(system.states)
        self.n_outputs = len(outputs)


def build_kernel(system: SymbolicSystem, outputs: list[str]) -> Kernel:
    return Kernel(system, outputs)
