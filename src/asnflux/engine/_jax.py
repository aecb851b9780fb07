"""The JAX backend of the compiled ensemble: one XLA program for all members, on a GPU
when JAX has one, else on the CPU.

The model's functions are generated from the same symbolic system as the numba kernel
(:mod:`asnflux.engine._kernel`) — right-hand side, Jacobian, observables, event branches
and the durations' conditions, printed by sympy's JAX printer with common subexpressions
shared — and the integrator is the same RODAS4 scheme with the same error control, step
size controller, event boundaries, dense output and duration bisection as
:mod:`asnflux.engine._rodas` (whose coefficients it uses), written as ``lax.while_loop``
over one member's steps inside a ``lax.scan`` over the output times and mapped over the
members with ``jax.vmap``, then compiled once by XLA per model, output selection and array
shapes. The iteration matrix is dense and factorised by LU with partial pivoting
(``jax.scipy.linalg.lu_factor``, the form batched linear algebra takes on a GPU) where the
numba kernel uses its planned sparse LU. Arithmetic is in double precision (JAX's
``jax_enable_x64`` is switched on, for the whole process, when the backend is first
used). A chunk's members are padded to the next power of two, so that XLA compiles a few
shapes, not one per chunk length.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.numpy import JaxPrinter

from .._errors import DataError
from . import _rodas as R
from ._symbolic import SymbolicSystem, event_branches, structure_key

__all__ = ["JaxKernel", "jax_device"]

# RODAS4 (Hairer & Wanner 1996, §IV.7): the numba integrator's own coefficients
_GAMMA = R.GAMMA
_A = (
    (R.A21,),
    (R.A31, R.A32),
    (R.A41, R.A42, R.A43),
    (R.A51, R.A52, R.A53, R.A54),
)
_C = (
    (R.C21,),
    (R.C31, R.C32),
    (R.C41, R.C42, R.C43),
    (R.C51, R.C52, R.C53, R.C54),
    (R.C61, R.C62, R.C63, R.C64, R.C65),
)

#: Compiled programs of this process, by model structure, outputs and JAX version (the
#: most recently built few; XLA's own cache keeps the machine code on disk).
_PROGRAMS: dict[str, Any] = {}
_MAX_PROGRAMS = 8


def _jax() -> Any:
    """JAX, in double precision, with its compilation cache beside the numba kernels'."""
    try:
        import jax
    except ImportError:
        raise DataError(
            "the jax backend needs JAX: pip install 'asnflux[jax]' (on a GPU, "
            "pip install 'jax[cuda12]')"
        ) from None
    jax.config.update("jax_enable_x64", True)
    chosen = jax.config.jax_compilation_cache_dir  # type: ignore[attr-defined]
    if not chosen and not os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        from ._kernel import cache_dir

        folder = cache_dir()
        try:  # JAX bounds its cache (least recently used out) with filelock's help
            import filelock  # noqa: F401
        except ImportError:  # unbounded it would grow without end: none kept
            folder = None
        if folder is not None:
            jax.config.update("jax_compilation_cache_dir", str(folder / "jax-xla"))
            jax.config.update("jax_compilation_cache_max_size", 2**30)  # bytes
    return jax


def jax_device() -> str:
    """The device JAX computes on, in words (``cpu``, or e.g. ``gpu: NVIDIA H100 80GB HBM3``)."""
    dev = _jax().devices()[0]
    kind = str(getattr(dev, "device_kind", dev.platform))
    return dev.platform if kind.lower() == dev.platform else f"{dev.platform}: {kind}"


class _Printer(JaxPrinter):
    """JAX source: states as ``y[i]``, parameters as ``p[j]``, an event's numbers ``q[i]``."""

    def __init__(self, names: dict[sp.Symbol, str]) -> None:
        super().__init__({"fully_qualified_modules": True})
        self._names = names

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return self._names.get(expr, expr.name)

    def _print_Float(self, expr: sp.Float) -> str:
        return repr(float(expr))


def _function(name: str, args: str, exprs: list[sp.Basic], printer: _Printer) -> list[str]:
    """``def name(args): ... return _vec([...])`` with shared subexpressions."""
    lines = [f"def {name}({args}):"]
    if not exprs:
        return [*lines, "    return _vec([0.0])"]
    subs, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("x__"), optimizations="basic")
    lines += [f"    {printer.doprint(s)} = {printer.doprint(e)}" for s, e in subs]
    lines.append("    return _vec([" + ", ".join(printer.doprint(e) for e in reduced) + "])")
    return lines


def jax_source(system: SymbolicSystem, outputs: list[str]) -> str:
    """Source of the model's JAX functions: ``rhs(y, p)``, ``jac(y, p)`` (its non-zero
    entries, in the order of ``JAC_ROWS``/``JAC_COLS``), ``obs(y, p)``, ``ind(y, p)`` and
    one ``event_k(y, p, q)`` per distinct event template, returning the new states."""
    branches, _, lifted = event_branches(system)
    names = {s: f"y[{i}]" for i, s in enumerate(system.state_symbols)}
    names |= {sp.Symbol(f"q__{i}"): f"q[{i}]" for i in range(lifted.shape[1])}
    names |= {s: f"p[{j}]" for j, s in enumerate(system.parameter_symbols)}
    printer = _Printer(names)
    m = system.n_ode
    jac = system.jacobian()
    entries = [(i, j) for i in range(m) for j in range(m) if jac[i, j] != 0]
    lines = [
        "import jax",
        "",
        "def _vec(xs):",
        "    return jax.numpy.stack([jax.numpy.asarray(x, jax.numpy.float64) for x in xs])",
        "",
        f"JAC_ROWS = {[i for i, _ in entries]!r}",
        f"JAC_COLS = {[j for _, j in entries]!r}",
        "",
    ]
    lines += _function("rhs", "y, p", list(system.rhs), printer)
    lines += ["", *_function("jac", "y, p", [jac[i, j] for i, j in entries], printer)]
    lines += ["", *_function("obs", "y, p", [system.observables[k] for k in outputs], printer)]
    lines += ["", *_function("ind", "y, p", list(system.durations), printer)]
    for k, assigned in enumerate(branches):
        # values from before the event (SBML useValuesFromTriggerTime), then assigned
        lines += ["", *_function(f"_values_{k}", "y, p, q", [v for _, v in assigned], printer)]
        index = [i for i, _ in assigned]
        lines += [
            "",
            f"def event_{k}(y, p, q):",
            f"    return y.at[jax.numpy.array({index!r})].set(_values_{k}(y, p, q))",
        ]
    return "\n".join(lines) + "\n"


class JaxKernel:
    """The JAX program of one model and output selection; ``run`` has the numba kernel's
    signature (it fills ``out``, ``status`` and ``steps``)."""

    def __init__(self, system: SymbolicSystem, outputs: list[str]) -> None:
        jax = _jax()
        key = hashlib.sha256(
            repr(
                (structure_key(system.model, event_times=False), system.states,
                 system.parameters, [repr(b) for b in event_branches(system)[0]], outputs,
                 Path(__file__).read_text(encoding="utf-8"), jax.__version__, sp.__version__)
            ).encode()
        ).hexdigest()  # fmt: skip
        if key not in _PROGRAMS:
            while len(_PROGRAMS) >= _MAX_PROGRAMS:
                _PROGRAMS.pop(next(iter(_PROGRAMS)))
            _PROGRAMS[key] = _program(system, outputs)
        self._program = _PROGRAMS[key]
        self.n_states = len(system.states)
        self.n_outputs = len(outputs)

    def run(
        self,
        y0: np.ndarray,
        params: np.ndarray,
        t_out: np.ndarray,
        ev_at: np.ndarray,
        ev_branch: np.ndarray,
        ev_vals: np.ndarray,
        rtol: float,
        atol: np.ndarray,
        h_init: float,
        max_steps: int,
        out: np.ndarray,
        status: np.ndarray,
        steps: np.ndarray,
    ) -> None:
        n = y0.shape[0]
        size = 1 << max(0, (n - 1).bit_length())  # padded: a few shapes, not one per size
        pad = np.arange(size) % n
        # a sentinel: an event that never comes
        ev_at_p = np.concatenate([np.asarray(ev_at, float), [np.inf]])
        ev_branch_p = np.concatenate([np.asarray(ev_branch, np.int64), [0]])
        vals = np.asarray(ev_vals, float)
        ev_vals_p = np.vstack([vals, np.zeros((1, vals.shape[1]))])
        o, code, taken = self._program(
            y0[pad], params[pad], atol[pad], np.asarray(t_out, float), ev_at_p, ev_branch_p,
            ev_vals_p, float(rtol), float(h_init), int(max_steps),
        )  # fmt: skip
        out[...] = np.asarray(o)[:n]
        status[...] = np.asarray(code)[:n]
        steps[...] = np.asarray(taken)[:n]


def _program(system: SymbolicSystem, outputs: list[str]) -> Any:
    """The jitted, vmapped integrator of ``system``."""
    jax = _jax()
    jnp = jax.numpy
    lax = jax.lax
    from jax.scipy.linalg import lu_factor, lu_solve

    namespace: dict[str, Any] = {}
    exec(compile(jax_source(system, outputs), "<asnflux jax model>", "exec"), namespace)
    m, d = system.n_ode, len(system.durations)
    clock = system.states.index("time") if "time" in system.states else -1
    rhs, jac_entries, obs, ind = (namespace[k] for k in ("rhs", "jac", "obs", "ind"))
    rows = np.asarray(namespace["JAC_ROWS"], np.int64)
    cols = np.asarray(namespace["JAC_COLS"], np.int64)
    n_branches = len(event_branches(system)[0])
    events = [namespace[f"event_{k}"] for k in range(n_branches)]
    strict = np.array(system.strict or (False,), bool)
    eye = np.eye(m)

    def jac(y: Any, p: Any) -> Any:
        full = jnp.zeros((m, m))
        return full.at[rows, cols].set(jac_entries(y, p)) if len(rows) else full

    def holds(g: Any) -> Any:
        return jnp.where(strict, g > 0.0, g >= 0.0)

    def fire(k: Any, y: Any, p: Any, q: Any) -> Any:
        return lax.switch(k, events, y, p, q) if events else y

    def hermite(th: Any, hh: Any, y: Any, y1: Any, f0: Any, f1: Any) -> Any:
        dd = y1 - y
        return (
            (1.0 - th) * y
            + th * y1
            + th * (th - 1.0) * ((1.0 - 2.0 * th) * dd + (th - 1.0) * hh * f0 + th * hh * f1)
        )

    def held(th: Any, start: Any, c1: Any, c2: Any) -> Any:
        """How much of the step fraction [0, th] each condition holds (vector over the
        durations), given its state at the start and its changes at c1 ≤ c2 (< 0: none)."""
        total = jnp.zeros_like(c1)
        pos = jnp.zeros_like(c1)
        state = start
        for c in (c1, c2):
            active = (c >= 0.0) & (c < th)
            total = total + jnp.where(active & state, c - pos, 0.0)
            pos = jnp.where(active, c, pos)
            state = jnp.where(active, ~state, state)
        return total + jnp.where(state, th - pos, 0.0)

    def crossing(lo: Any, hi: Any, s_lo: Any, hh: Any, y: Any, y1: Any, f0: Any, f1: Any,
                 p: Any) -> Any:  # fmt: skip
        """Where each condition changes sign in (lo, hi), as a step fraction (bisection,
        30 halvings, all durations at once)."""

        def halve(_: int, bounds: Any) -> Any:
            a, b = bounds
            mid = 0.5 * (a + b)
            yi = hermite(mid[:, None], hh, y, y1, f0, f1)
            g = jnp.diagonal(jax.vmap(ind, in_axes=(0, None))(yi, p))
            same = holds(g) == s_lo
            return jnp.where(same, mid, a), jnp.where(same, b, mid)

        # unrolled: on a GPU each loop iteration would cost a round trip to the host
        a, b = lax.fori_loop(0, 30, halve, (lo, hi), unroll=True)
        return 0.5 * (a + b)

    def member(y: Any, p: Any, atol: Any, t_out: Any, ev_at: Any, ev_branch: Any,
               ev_vals: Any, rtol: Any, h_init: Any, max_steps: Any) -> Any:  # fmt: skip
        t_end = t_out[-1]

        def fire_until(y: Any, e: Any, limit: Any) -> Any:
            def one(c: Any) -> Any:
                yy, ee = c
                return fire(ev_branch[ee], yy, p, ev_vals[ee]), ee + 1

            if not events:
                return y, e
            return lax.while_loop(lambda c: ev_at[c[1]] <= limit, one, (y, e))

        def step(c: Any) -> Any:
            """One step attempt; an accepted one becomes the dense output's last step
            (its start, size, states and slopes at both ends, durations at its start,
            where their conditions change, and the last output time it covers)."""
            (t, y, f0, h, steps, e, rejected, status), dense = c
            ym = y[:m]
            stop = jnp.minimum(t_end, ev_at[e])
            at_event = ev_at[e] <= stop * (1.0 + 1e-14)
            edge = jnp.where(at_event, stop * (1.0 - 1e-14), stop * (1.0 + 1e-14))
            last = t + h >= stop * (1.0 - 1e-14)
            hh = jnp.where(last, stop - t, h)
            status = jnp.where(steps >= max_steps, 1, status)
            status = jnp.where(
                (status == 0) & (hh < 1e-14 * jnp.maximum(1.0, jnp.abs(t))), 2, status
            )
            go = status == 0
            steps = jnp.where(go, steps + 1, steps)
            lu = lu_factor(eye / (hh * _GAMMA) - jac(ym, p))
            lu_ok = jnp.all(jnp.isfinite(lu[0])) & jnp.all(jnp.diagonal(lu[0]) != 0.0)
            hi = 1.0 / hh
            ks = [lu_solve(lu, f0)]
            yi = ym
            for a_row, c_row in zip(_A, _C[:4], strict=True):
                yi = ym + sum(a * k for a, k in zip(a_row, ks, strict=True))
                shift = hi * sum(c * k for c, k in zip(c_row, ks, strict=True))
                ks.append(lu_solve(lu, rhs(yi, p) + shift))
            yn = yi + ks[4]
            shift = hi * sum(c * k for c, k in zip(_C[4], ks, strict=True))
            k6 = lu_solve(lu, rhs(yn, p) + shift)
            y1 = yn + k6
            sk = atol[:m] + rtol * jnp.maximum(jnp.abs(ym), jnp.abs(y1))
            err = jnp.sqrt(jnp.mean((k6 / sk) ** 2))
            good = lu_ok & jnp.all(jnp.isfinite(y1)) & jnp.isfinite(err)
            err = jnp.where(good, err, 2.0)
            h_new = hh / jnp.clip(err**0.25 / 0.9, 1.0 / 6.0, 5.0)
            accept = go & good & (err <= 1.0)
            y1 = jnp.where(accept, y1, ym)
            f1 = rhs(y1, p)
            t1 = jnp.where(last, stop, t + hh)
            if d > 0:  # where each duration's condition holds within the step
                g0, g1 = holds(ind(ym, p)), holds(ind(y1, p))
                gm = holds(ind(hermite(0.5, hh, ym, y1, f0, f1), p))
                c1 = jnp.where(g0 != gm, crossing(jnp.zeros(d), jnp.full(d, 0.5), g0, hh, ym,
                                                  y1, f0, f1, p), -1.0)  # fmt: skip
                c2 = jnp.where(gm != g1, crossing(jnp.full(d, 0.5), jnp.ones(d), gm, hh, ym,
                                                  y1, f0, f1, p), -1.0)  # fmt: skip
            else:
                g0, c1, c2 = jnp.zeros(0, bool), jnp.zeros(0), jnp.zeros(0)
            reach = jnp.where(last, edge, t1 * (1.0 + 1e-14))
            taken = (t, hh, ym, y1, f0, f1, y[m:], g0, c1, c2, reach)
            dense = tuple(jnp.where(accept, a, b) for a, b in zip(taken, dense, strict=True))
            y = jnp.where(accept, jnp.concatenate([y1, y[m:] + hh * held(1.0, g0, c1, c2)]), y)
            t = jnp.where(accept, t1, t)
            h_new = jnp.where(rejected, jnp.minimum(h_new, hh), h_new)
            h = jnp.where(accept, jnp.where(last, h, h_new), jnp.where(good, h_new, 0.25 * hh))
            f0 = jnp.where(accept, f1, f0)
            # the end of a segment: its events (an output at its time shows their effect)
            end = accept & last
            y, e = fire_until(y, e, jnp.where(end, t * (1.0 + 1e-14), -jnp.inf))
            status = jnp.where(end & ~jnp.all(jnp.isfinite(y)), 3, status)
            f0 = jnp.where(end, rhs(y, p), f0)
            return (t, y, f0, h, steps, e, ~accept, status), dense

        def output(c: Any, ti: Any) -> Any:
            """Steps until the solution covers ``ti``, then the states there: the dense
            output of the last step, or the states themselves at a segment's end."""

            def short(c: Any) -> Any:
                t, status = c[0][0], c[0][7]
                return (status == 0) & (t < t_end) & (ti > t * (1.0 + 1e-14))

            c = lax.while_loop(short, step, c)
            state, dense = c
            tp, hh, ya, yb, fa, fb, dp, g0, c1, c2, reach = dense
            th = jnp.minimum((ti - tp) / hh, 1.0)
            yy = jnp.concatenate([hermite(th, hh, ya, yb, fa, fb), dp + hh * held(th, g0, c1, c2)])
            if clock >= 0:
                yy = yy.at[clock].set(ti)
            o = obs(jnp.where(ti <= reach, yy, state[1]), p)
            # a non-finite output ends the member at once, as on the numba backend
            bad = (state[7] == 0) & ~jnp.all(jnp.isfinite(o))
            state = (*state[:7], jnp.where(bad, 3, state[7]))
            return (state, dense), o

        y, e = fire_until(y, jnp.int64(0), 0.0)  # events at the start fire at once
        f0 = rhs(y, p)
        zero = jnp.float64(0.0)
        dense = (zero, jnp.float64(1.0), y[:m], y[:m], f0, f0, y[m:], jnp.zeros(d, bool),
                 -jnp.ones(d), -jnp.ones(d), jnp.float64(-jnp.inf))  # fmt: skip
        state = (zero, y, f0, jnp.float64(h_init), jnp.int64(0), e, jnp.bool_(False),
                 jnp.int64(0))  # fmt: skip
        (state, _), outs = lax.scan(output, (state, dense), t_out)
        return outs, state[7], state[4]

    mapped = jax.vmap(member, in_axes=(0, 0, 0, None, None, None, None, None, None, None))
    return jax.jit(mapped)
