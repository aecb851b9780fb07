"""The RODAS4 integrator, compiled inside each generated model module.

This file is valid Python on its own (so it is linted and type-checked), but it runs as the
first part of a generated module (see :mod:`asnflux.engine._kernel`): the model's compiled
functions and sizes, written after this text, replace the placeholders below before numba
compiles anything, and numba's on-disk cache then keeps the machine code for the next run.

RODAS4 (Hairer & Wanner, *Solving Ordinary Differential Equations II*, 2nd ed., Springer
1996, §IV.7; coefficients as in their rodas.f): six stages, L-stable, stiffly accurate,
order 4 with an embedded order-3 estimate, in the W-transformed form: stage i solves
(I/(h γ) − J) k_i = f(y + Σ a_ij k_j) + Σ (c_ij / h) k_j; stage 6's input is stage 5's plus
k5, y1 is stage 6's input plus k6, and k6 is the error estimate. Step sizes per member:
factor in [1/5, 6] of err^(-1/4) with safety 0.9, no growth right after a rejection.
Outputs between steps: cubic Hermite interpolation from both ends' values and slopes.

Durations (the time a condition holds; states ``M`` to ``M + D − 1``) are not integrated:
after each accepted step the condition is evaluated on the dense output at the step's ends
and middle, and each sign change found is located by bisection on the interpolant (to
1e-9 of the step); at most one change per half step is resolved.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

GAMMA = 0.25
A21 = 1.544
A31, A32 = 0.9466785280815826, 0.2557011698983284
A41, A42, A43 = 3.314825187068521, 2.896124015972201, 0.9986419139977817
A51, A52, A53, A54 = 1.221224509226641, 6.019134481288629, 12.53708332932087, -0.687886036105895
C21 = -5.6688
C31, C32 = -2.430093356833875, -0.2063599157091915
C41, C42, C43 = -0.1073529058151375, -9.594562251023355, -20.47028614809616
C51, C52, C53, C54 = 7.496443313967647, -10.24680431464352, -33.99990352819905, 11.7089089320616
C61, C62, C63 = 8.083246795921522, -7.981132988064893, -31.52159432874371
C64, C65 = 16.31930543123136, -6.058818238834054

# Placeholders, replaced by the generated model code that follows this text: the number of
# states, of entries of the factorised iteration matrix and of outputs, the index of the
# time state (-1: none; set exactly at output times so that ``time >= T`` switches at T's
# own output), and the model's compiled functions.
M = 1
D = 0
N_W = 1
N_OUT = 1
CLOCK = -1


def rhs(y: Any, p: Any, dy: Any) -> None:
    raise NotImplementedError


def wmat(y: Any, p: Any, fac: float, w: Any) -> None:
    raise NotImplementedError


def lu(w: Any) -> bool:
    raise NotImplementedError


def solve(w: Any, b: Any) -> None:
    raise NotImplementedError


def obs(y: Any, p: Any, o: Any) -> None:
    raise NotImplementedError


def event(k: int, y: Any, p: Any, q: Any) -> None:
    raise NotImplementedError


def holds(j: int, g: float) -> bool:
    raise NotImplementedError


def ind(y: Any, p: Any, g: Any) -> None:
    raise NotImplementedError


@numba.njit(cache=True, error_model="numpy")
def hermite(th: float, hh: float, y: Any, y1: Any, f0: Any, f1: Any, yi: Any) -> None:
    """The first M states at fraction ``th`` of the step (cubic Hermite) into ``yi``."""
    for i in range(M):
        d = y1[i] - y[i]
        yi[i] = (
            (1.0 - th) * y[i]
            + th * y1[i]
            + th * (th - 1.0) * ((1.0 - 2.0 * th) * d + (th - 1.0) * hh * f0[i] + th * hh * f1[i])
        )


@numba.njit(cache=True, error_model="numpy")
def crossing(
    j: int, lo: float, hi: float, s_lo: bool, hh: float, y: Any, y1: Any, f0: Any, f1: Any,
    p: Any, yi: Any, g: Any,
) -> float:  # fmt: skip
    """Where duration ``j``'s condition changes sign in (lo, hi), as a step fraction."""
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        hermite(mid, hh, y, y1, f0, f1, yi)
        ind(yi, p, g)
        if holds(j, g[j]) == s_lo:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@numba.njit(cache=True, error_model="numpy")
def held(th: float, start: bool, c1: float, c2: float) -> float:
    """How much of the step fraction [0, th] the condition holds, given its state at the
    start and its sign changes at c1 ≤ c2 (negative: none)."""
    total = 0.0
    pos = 0.0
    state = start
    for c in (c1, c2):
        if c < 0.0:
            continue
        if c >= th:
            break
        if state:
            total += c - pos
        pos = c
        state = not state
    if state:
        total += th - pos
    return total


@numba.njit(cache=True, error_model="numpy")
def member(
    y: Any,
    p: Any,
    t_out: Any,
    ev_at: Any,
    ev_branch: Any,
    ev_vals: Any,
    rtol: float,
    atol: Any,
    h_init: float,
    max_steps: int,
    out: Any,
) -> tuple[int, int]:
    n_t = t_out.shape[0]
    t_end = t_out[n_t - 1]
    w = np.zeros(N_W)
    f0 = np.zeros(M)
    f1 = np.zeros(M)
    dy = np.zeros(M)
    yn = np.zeros(M)
    y1 = np.zeros(M)
    k1 = np.zeros(M)
    k2 = np.zeros(M)
    k3 = np.zeros(M)
    k4 = np.zeros(M)
    k5 = np.zeros(M)
    k6 = np.zeros(M)
    yi = y.copy()  # interpolated states, durations included (for obs)
    o = np.zeros(N_OUT)
    nd = max(D, 1)
    g0 = np.zeros(nd)
    gm = np.zeros(nd)
    g1 = np.zeros(nd)
    gb = np.zeros(nd)
    start = np.zeros(nd, np.bool_)
    c1 = np.zeros(nd)
    c2 = np.zeros(nd)
    t = 0.0
    n_ev = ev_at.shape[0]
    e = 0
    while e < n_ev and ev_at[e] <= t:  # events at (or before) the start fire at once
        event(ev_branch[e], y, p, ev_vals[e])
        e += 1
    i_out = 0
    while i_out < n_t and t_out[i_out] <= t:
        obs(y, p, o)
        for i in range(N_OUT):
            if not math.isfinite(o[i]):
                return 3, 0
            out[i_out, i] = o[i]
        i_out += 1
    rhs(y, p, f0)
    h = h_init
    steps = 0
    rejected = False
    while t < t_end:
        stop = t_end
        if e < n_ev and ev_at[e] < stop:
            stop = ev_at[e]
        # an output at an event's time shows the state after the event (as
        # libroadrunner reports it): the step that ends there leaves it to the events
        at_event = e < n_ev and ev_at[e] <= stop * (1.0 + 1e-14)
        edge = stop * (1.0 - 1e-14) if at_event else stop * (1.0 + 1e-14)
        while t < stop:
            if steps >= max_steps:
                return 1, steps
            last = t + h >= stop * (1.0 - 1e-14)
            hh = stop - t if last else h
            if hh < 1e-14 * max(1.0, abs(t)):
                return 2, steps
            steps += 1
            wmat(y, p, 1.0 / (hh * GAMMA), w)
            if not lu(w):
                h = 0.25 * hh
                rejected = True
                continue
            hi = 1.0 / hh
            for i in range(M):
                k1[i] = f0[i]
            solve(w, k1)
            for i in range(M):
                yi[i] = y[i] + A21 * k1[i]
            rhs(yi, p, dy)
            for i in range(M):
                k2[i] = dy[i] + hi * C21 * k1[i]
            solve(w, k2)
            for i in range(M):
                yi[i] = y[i] + A31 * k1[i] + A32 * k2[i]
            rhs(yi, p, dy)
            for i in range(M):
                k3[i] = dy[i] + hi * (C31 * k1[i] + C32 * k2[i])
            solve(w, k3)
            for i in range(M):
                yi[i] = y[i] + A41 * k1[i] + A42 * k2[i] + A43 * k3[i]
            rhs(yi, p, dy)
            for i in range(M):
                k4[i] = dy[i] + hi * (C41 * k1[i] + C42 * k2[i] + C43 * k3[i])
            solve(w, k4)
            for i in range(M):
                yi[i] = y[i] + A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]
            rhs(yi, p, dy)
            for i in range(M):
                k5[i] = dy[i] + hi * (C51 * k1[i] + C52 * k2[i] + C53 * k3[i] + C54 * k4[i])
            solve(w, k5)
            for i in range(M):
                yn[i] = yi[i] + k5[i]
            rhs(yn, p, dy)
            for i in range(M):
                k6[i] = dy[i] + hi * (
                    C61 * k1[i] + C62 * k2[i] + C63 * k3[i] + C64 * k4[i] + C65 * k5[i]
                )
            solve(w, k6)
            for i in range(M):
                y1[i] = yn[i] + k6[i]
            err = 0.0
            finite = True
            for i in range(M):
                if not math.isfinite(y1[i]):
                    finite = False
                    break
                sk = atol[i] + rtol * max(abs(y[i]), abs(y1[i]))
                err += (k6[i] / sk) ** 2
            if not finite:
                h = 0.25 * hh
                rejected = True
                continue
            err = math.sqrt(err / M)
            factor = max(1.0 / 6.0, min(5.0, err**0.25 / 0.9))
            h_new = hh / factor
            if err > 1.0:
                h = h_new
                rejected = True
                continue
            rhs(y1, p, f1)
            t1 = stop if last else t + hh
            if D > 0:  # where each duration's condition holds within the step
                ind(y, p, g0)
                ind(y1, p, g1)
                hermite(0.5, hh, y, y1, f0, f1, yi)
                ind(yi, p, gm)
                for j in range(D):
                    s0 = holds(j, g0[j])
                    sm = holds(j, gm[j])
                    s1 = holds(j, g1[j])
                    start[j] = s0
                    c1[j] = (
                        crossing(j, 0.0, 0.5, s0, hh, y, y1, f0, f1, p, yi, gb)
                        if s0 != sm
                        else -1.0
                    )
                    c2[j] = (
                        crossing(j, 0.5, 1.0, sm, hh, y, y1, f0, f1, p, yi, gb)
                        if sm != s1
                        else -1.0
                    )
            # outputs inside (t, t1]: cubic Hermite from y, f0, y1, f1
            reach = edge if last else t1 * (1.0 + 1e-14)
            while i_out < n_t and t_out[i_out] <= reach:
                th = (t_out[i_out] - t) / hh
                if th > 1.0:
                    th = 1.0
                hermite(th, hh, y, y1, f0, f1, yi)
                for j in range(D):
                    yi[M + j] = y[M + j] + hh * held(th, start[j], c1[j], c2[j])
                if CLOCK >= 0:
                    yi[CLOCK] = t_out[i_out]
                obs(yi, p, o)
                for i in range(N_OUT):
                    if not math.isfinite(o[i]):
                        return 3, steps
                    out[i_out, i] = o[i]
                i_out += 1
            for j in range(D):
                y[M + j] += hh * held(1.0, start[j], c1[j], c2[j])
            for i in range(M):
                y[i] = y1[i]
                f0[i] = f1[i]
            t = t1
            if rejected:
                h_new = min(h_new, hh)
            rejected = False
            if not last:
                h = h_new
        while e < n_ev and ev_at[e] <= t * (1.0 + 1e-14):
            event(ev_branch[e], y, p, ev_vals[e])
            e += 1
        for i in range(M):
            if not math.isfinite(y[i]):
                return 3, steps
        while i_out < n_t and t_out[i_out] <= t * (1.0 + 1e-14):
            obs(y, p, o)
            for i in range(N_OUT):
                if not math.isfinite(o[i]):
                    return 3, steps
                out[i_out, i] = o[i]
            i_out += 1
        rhs(y, p, f0)
    return 0, steps


@numba.njit(parallel=True, cache=True, error_model="numpy")
def run(
    y0: Any,
    params: Any,
    t_out: Any,
    ev_at: Any,
    ev_branch: Any,
    ev_vals: Any,
    rtol: float,
    atol: Any,
    h_init: float,
    max_steps: int,
    out: Any,
    status: Any,
    steps: Any,
) -> None:
    for k in numba.prange(y0.shape[0]):
        y = y0[k].copy()
        code, n = member(
            y, params[k], t_out, ev_at, ev_branch, ev_vals, rtol, atol[k], h_init, max_steps,
            out[k],
        )  # fmt: skip
        status[k] = code
        steps[k] = n
