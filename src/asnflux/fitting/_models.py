"""Named curve models: equation, analytic Jacobian, bounds and data-derived starting points.

Each model is a :class:`CurveModel`. ``x`` is the first independent variable (substrate,
concentration, time), ``x2`` the second (inhibitor or co-substrate) where the model has
one. Jacobians are analytic; the tests check every one against a complex-step derivative.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from .._errors import NotFoundError

__all__ = ["MODELS", "CurveModel", "get_model"]

Array = NDArray[np.float64]
Fn = Callable[[Array, Array, Array], Array]
StartFn = Callable[[Array, Array, Array], list[Array]]

_INF = np.inf


@dataclass(frozen=True)
class CurveModel:
    """A named model ``y = f(x[, x2]; θ)``.

    ``lower``/``upper`` bound each parameter (kinetic constants are positive);
    ``nonnegative_x`` marks models whose x is a concentration, so negative x is a data
    error; ``linear`` models are fitted by one weighted linear least-squares solve.
    """

    name: str
    params: tuple[str, ...]
    equation: str
    f: Fn
    jac: Fn
    starts: StartFn
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    needs_x2: bool = False
    nonnegative_x: bool = False
    linear: bool = False
    description: str = field(default="")

    def __call__(self, x: Array, p: Array, x2: Array | None = None) -> Array:
        return self.f(np.asarray(x, float), _x2(x, x2), np.asarray(p, float))


def _x2(x: Array, x2: Array | None) -> Array:
    return np.zeros_like(np.asarray(x, float)) if x2 is None else np.asarray(x2, float)


def _half_point(x: Array, y: Array, frac: float = 0.5) -> float:
    """x at which y first reaches ``frac`` of its maximum (linear interpolation)."""
    order = np.argsort(x)
    xs, ys = x[order], y[order]
    target = frac * np.max(ys)
    above = np.nonzero(ys >= target)[0]
    if len(above) == 0 or above[0] == 0:
        return float(np.median(xs[xs > 0])) if np.any(xs > 0) else 1.0
    i = above[0]
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    return float(x0 + (target - y0) * (x1 - x0) / (y1 - y0)) if y1 != y0 else float(x1)


def _positive(v: float, fallback: float = 1.0) -> float:
    return float(v) if np.isfinite(v) and v > 0 else fallback


# -- Michaelis-Menten family ------------------------------------------------------------
def _mm(x: Array, _: Array, p: Array) -> Array:
    return p[0] * x / (p[1] + x)


def _mm_jac(x: Array, _: Array, p: Array) -> Array:
    d = p[1] + x
    return np.column_stack([x / d, -p[0] * x / d**2])


def _mm_starts(x: Array, _: Array, y: Array) -> list[Array]:
    vmax = _positive(np.max(y))
    km = _positive(_half_point(x, y), _positive(np.median(x)))
    starts = [np.array([vmax * a, km * b]) for a in (1.0, 1.5, 3.0) for b in (0.5, 1.0, 3.0)]
    # Hanes-Woolf: x/y = Km/V + x/V, a linearisation whose estimate is often close.
    ok = (x > 0) & (y > 0)
    if ok.sum() >= 2:
        slope, icpt = np.polyfit(x[ok], x[ok] / y[ok], 1)
        if slope > 0 and icpt > 0:
            starts.insert(0, np.array([1 / slope, icpt / slope]))
    return starts


def _si(x: Array, _: Array, p: Array) -> Array:
    return p[0] * x / (p[1] + x * (1 + x / p[2]))


def _si_jac(x: Array, _: Array, p: Array) -> Array:
    d = p[1] + x + x**2 / p[2]
    v = p[0]
    return np.column_stack([x / d, -v * x / d**2, v * x**3 / (p[2] ** 2 * d**2)])


def _si_starts(x: Array, _: Array, y: Array) -> list[Array]:
    vmax = _positive(np.max(y))
    x_peak = _positive(x[np.argmax(y)], _positive(np.median(x)))
    km0 = _positive(_half_point(x, y), x_peak / 3)
    out = []
    for a in (1.0, 2.0, 4.0):
        for km in (km0, km0 / 3, x_peak):
            ki = x_peak**2 / km  # the peak of v(x) is at sqrt(Km·Ki)
            out.append(np.array([vmax * a, km, ki]))
    return out


def _inhib_starts(n_extra: int) -> StartFn:
    def starts(x: Array, i: Array, y: Array) -> list[Array]:
        base = i <= np.min(i) if np.any(i > 0) else np.ones_like(x, dtype=bool)
        mm = _mm_starts(x[base], i[base], y[base]) if base.sum() >= 2 else _mm_starts(x, i, y)
        ki0 = _positive(np.median(i[i > 0]) if np.any(i > 0) else 1.0)
        out = []
        for s in mm[:4]:
            for k in (ki0, ki0 / 5, ki0 * 5):
                extra = [k] + ([1.0] if n_extra == 2 else [])
                out.append(np.array([*s, *extra]))
        return out

    return starts


def _comp(x: Array, i: Array, p: Array) -> Array:
    return p[0] * x / (p[1] * (1 + i / p[2]) + x)


def _comp_jac(x: Array, i: Array, p: Array) -> Array:
    v, km, ki = p
    d = km * (1 + i / ki) + x
    return np.column_stack([x / d, -v * x * (1 + i / ki) / d**2, v * x * km * i / (ki**2 * d**2)])


def _uncomp(x: Array, i: Array, p: Array) -> Array:
    return p[0] * x / (p[1] + x * (1 + i / p[2]))


def _uncomp_jac(x: Array, i: Array, p: Array) -> Array:
    v, km, ki = p
    d = km + x * (1 + i / ki)
    return np.column_stack([x / d, -v * x / d**2, v * x * x * i / (ki**2 * d**2)])


def _noncomp(x: Array, i: Array, p: Array) -> Array:
    return p[0] * x / ((p[1] + x) * (1 + i / p[2]))


def _noncomp_jac(x: Array, i: Array, p: Array) -> Array:
    v, km, ki = p
    f = v * x / ((km + x) * (1 + i / ki))
    return np.column_stack([f / v, -f / (km + x), f * (i / ki**2) / (1 + i / ki)])


def _mixed(x: Array, i: Array, p: Array) -> Array:
    v, km, ki, a = p
    return v * x / (km * (1 + i / ki) + x * (1 + i / (a * ki)))


def _mixed_jac(x: Array, i: Array, p: Array) -> Array:
    v, km, ki, a = p
    d = km * (1 + i / ki) + x * (1 + i / (a * ki))
    return np.column_stack(
        [
            x / d,
            -v * x * (1 + i / ki) / d**2,
            v * x * (km * i / ki**2 + x * i / (a * ki**2)) / d**2,
            v * x**2 * i / (a**2 * ki * d**2),
        ]
    )


# -- two-substrate kinetics ---------------------------------------------------------------
def _seq(a: Array, b: Array, p: Array) -> Array:
    v, kma, kmb, kia = p
    return v * a * b / (kia * kmb + kmb * a + kma * b + a * b)


def _seq_jac(a: Array, b: Array, p: Array) -> Array:
    v, kma, kmb, kia = p
    d = kia * kmb + kmb * a + kma * b + a * b
    n = v * a * b
    return np.column_stack([a * b / d, -n * b / d**2, -n * (kia + a) / d**2, -n * kmb / d**2])


def _pp(a: Array, b: Array, p: Array) -> Array:
    v, kma, kmb = p
    return v * a * b / (kmb * a + kma * b + a * b)


def _pp_jac(a: Array, b: Array, p: Array) -> Array:
    v, kma, kmb = p
    d = kmb * a + kma * b + a * b
    n = v * a * b
    return np.column_stack([a * b / d, -n * b / d**2, -n * a / d**2])


def _bi_starts(n: int) -> StartFn:
    def starts(a: Array, b: Array, y: Array) -> list[Array]:
        vmax = _positive(np.max(y))
        ka, kb = _positive(np.median(a)), _positive(np.median(b))
        out = []
        for s in (1.0, 2.0, 4.0):
            for f in (0.3, 1.0, 3.0):
                p = [vmax * s, ka * f, kb * f] + ([ka * f] if n == 4 else [])
                out.append(np.array(p))
        return out

    return starts


# -- progress curves, dose-response, peaks ------------------------------------------------
def _exp(x: Array, _: Array, p: Array) -> Array:
    return p[0] * -np.expm1(-p[1] * x)


def _exp_jac(x: Array, _: Array, p: Array) -> Array:
    e = np.exp(-p[1] * x)
    return np.column_stack([-np.expm1(-p[1] * x), p[0] * x * e])


def _exp_starts(x: Array, _: Array, y: Array) -> list[Array]:
    top = float(np.max(np.abs(y))) * np.sign(y[np.argmax(np.abs(y))]) or 1.0
    span = _positive(np.ptp(x), 1.0)
    x63 = _half_point(x, y * np.sign(top), 0.63)
    out = []
    for a in (1.0, 1.5, 3.0, 10.0):
        for r in (1 / _positive(x63, span), 1 / span, 0.1 / span, 10 / span):
            out.append(np.array([top * a, r]))
    return out


def _log3(x: Array, _: Array, p: Array) -> Array:
    return p[0] / (1 + np.exp(-p[1] * (x - p[2])))


def _log3_jac(x: Array, _: Array, p: Array) -> Array:
    top, s, x50 = p
    e = np.exp(-s * (x - x50))
    return np.column_stack(
        [1 / (1 + e), top * e * (x - x50) / (1 + e) ** 2, -top * e * s / (1 + e) ** 2]
    )


def _log3_starts(x: Array, _: Array, y: Array) -> list[Array]:
    top = float(np.max(y)) or 1.0
    x50 = _half_point(x, y)
    span = _positive(np.ptp(x), 1.0)
    return [np.array([top * a, k / span, x50]) for a in (1.0, 1.2, 2.0) for k in (2.0, 4.0, 8.0)]


def _u(x: Array, ec50: float, h: float) -> Array:
    with np.errstate(divide="ignore", over="ignore"):
        return np.exp(h * (np.log(ec50) - np.log(x)))


def _log4(x: Array, _: Array, p: Array) -> Array:
    bottom, top, ec50, h = p
    return bottom + (top - bottom) / (1 + _u(x, ec50, h))


def _log4_jac(x: Array, _: Array, p: Array) -> Array:
    bottom, top, ec50, h = p
    u = _u(x, ec50, h)
    g = 1 / (1 + u)
    with np.errstate(invalid="ignore"):
        gu = np.where(np.isfinite(u), g * g * u, 0.0)
        ln = np.where(x > 0, np.log(ec50) - np.log(np.where(x > 0, x, 1.0)), 0.0)
    return np.column_stack([1 - g, g, -(top - bottom) * gu * h / ec50, -(top - bottom) * gu * ln])


def _log5(x: Array, _: Array, p: Array) -> Array:
    bottom, top, ec50, h, s = p
    return bottom + (top - bottom) / (1 + _u(x, ec50, h)) ** s


def _log5_jac(x: Array, _: Array, p: Array) -> Array:
    bottom, top, ec50, h, s = p
    u = _u(x, ec50, h)
    g = (1 + u) ** -s
    with np.errstate(invalid="ignore"):
        q = np.where(np.isfinite(u), s * (1 + u) ** (-s - 1) * u, 0.0)
        ln = np.where(x > 0, np.log(ec50) - np.log(np.where(x > 0, x, 1.0)), 0.0)
        l1u = np.where(np.isfinite(u), np.log1p(u), 0.0)
    return np.column_stack(
        [
            1 - g,
            g,
            -(top - bottom) * q * h / ec50,
            -(top - bottom) * q * ln,
            -(top - bottom) * g * l1u,
        ]
    )


def _log_starts(n: int) -> StartFn:
    def starts(x: Array, _: Array, y: Array) -> list[Array]:
        pos = x[x > 0]
        mid = float(np.exp(np.mean(np.log(pos)))) if len(pos) else 1.0
        order = np.argsort(x)
        rising = y[order][-1] >= y[order][0]
        lo, hi = float(np.min(y)), float(np.max(y))
        bottom, top = (lo, hi) if rising else (hi, lo)
        half = _half_point(x, (y - lo) if rising else (hi - y))
        out = []
        for ec in (half, mid, mid / 10, mid * 10):
            for h in (1.0, 2.0, 0.5):
                p = [bottom, top, _positive(ec, mid), h] + ([1.0] if n == 5 else [])
                out.append(np.array(p))
        return out

    return starts


def _gauss(x: Array, _: Array, p: Array) -> Array:
    return p[0] * np.exp(-0.5 * ((x - p[1]) / p[2]) ** 2)


def _gauss_jac(x: Array, _: Array, p: Array) -> Array:
    h, c, s = p
    z = (x - c) / s
    e = np.exp(-0.5 * z**2)
    return np.column_stack([e, h * e * z / s, h * e * z**2 / s])


def _gauss_starts(x: Array, _: Array, y: Array) -> list[Array]:
    i = int(np.argmax(np.abs(y)))
    h = float(y[i])
    above = x[np.abs(y) >= abs(h) / 2]
    fwhm = _positive(np.ptp(above), _positive(np.ptp(x) / 4))
    return [np.array([h, x[i], fwhm / 2.3548 * f]) for f in (1.0, 0.5, 2.0)]


# -- linear-in-parameters models ----------------------------------------------------------
def _lin(x: Array, _: Array, p: Array) -> Array:
    return p[0] + p[1] * x


def _lin_jac(x: Array, _: Array, p: Array) -> Array:
    return np.column_stack([np.ones_like(x), x])


def _lin0(x: Array, _: Array, p: Array) -> Array:
    return p[0] * x


def _lin0_jac(x: Array, _: Array, p: Array) -> Array:
    return x[:, None].astype(float)


def _quad(x: Array, _: Array, p: Array) -> Array:
    return p[0] + p[1] * x + p[2] * x**2


def _quad_jac(x: Array, _: Array, p: Array) -> Array:
    return np.column_stack([np.ones_like(x), x, x**2])


def _no_starts(x: Array, _: Array, y: Array) -> list[Array]:
    return []


def _hill(x: Array, _: Array, p: Array) -> Array:
    # GraphPad Prism "Allosteric sigmoidal": Y = Vmax·X^h / (Khalf^h + X^h).
    xh = np.power(x, p[2])
    kh = np.power(p[1], p[2])
    return p[0] * xh / (kh + xh)


def _hill_jac(x: Array, _: Array, p: Array) -> Array:
    vmax, k, h = p
    xh = np.power(x, h)
    kh = np.power(k, h)
    d = kh + xh
    with np.errstate(divide="ignore", invalid="ignore"):
        lx = np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), 0.0)
    dh = vmax * xh * kh * (lx - np.log(k)) / d**2
    return np.column_stack([xh / d, -vmax * xh * h * kh / (k * d**2), dh])


def _hill_starts(x: Array, _: Array, y: Array) -> list[Array]:
    vmax = _positive(np.max(y))
    k = _positive(_half_point(x, y), _positive(np.median(x)))
    return [
        np.array([vmax * a, k * b, h])
        for a in (1.0, 1.5)
        for b in (0.7, 1.0, 1.5)
        for h in (1.0, 2.0, 4.0)
    ]


def _morrison(x: Array, x2: Array, p: Array) -> Array:
    # Morrison (1969) tight binding, as in Prism's "Morrison Ki": x is the inhibitor
    # concentration, x2 the total enzyme concentration (same units); for a competitive
    # inhibitor the apparent Ki is Ki·(1 + S/Km), here fitted as one constant.
    v0, ki = p
    b = x2 + x + ki
    return v0 * (1 - (b - np.sqrt(np.maximum(b**2 - 4 * x2 * x, 0.0))) / (2 * x2))


def _morrison_jac(x: Array, x2: Array, p: Array) -> Array:
    v0, ki = p
    b = x2 + x + ki
    root = np.sqrt(np.maximum(b**2 - 4 * x2 * x, 1e-300))
    frac = 1 - (b - root) / (2 * x2)
    dki = -v0 * (1 - b / root) / (2 * x2)
    return np.column_stack([frac, dki])


def _morrison_starts(x: Array, x2: Array, y: Array) -> list[Array]:
    v0 = _positive(np.max(y))
    mid = float(np.median(x[x > 0])) if np.any(x > 0) else 1.0
    e = float(np.median(x2)) if len(x2) else 0.0
    ki = max(mid - e / 2, mid * 0.1)
    return [np.array([v0 * a, ki * b]) for a in (1.0, 1.2) for b in (0.1, 0.5, 1.0, 3.0)]


def _model(
    name: str,
    params: tuple[str, ...],
    equation: str,
    f: Fn,
    jac: Fn,
    starts: StartFn,
    lower: tuple[float, ...] | None = None,
    *,
    needs_x2: bool = False,
    nonnegative_x: bool = False,
    linear: bool = False,
) -> CurveModel:
    n = len(params)
    return CurveModel(
        name=name,
        params=params,
        equation=equation,
        f=f,
        jac=jac,
        starts=starts,
        lower=lower if lower is not None else (-_INF,) * n,
        upper=(_INF,) * n,
        needs_x2=needs_x2,
        nonnegative_x=nonnegative_x,
        linear=linear,
    )


_POS2, _POS3, _POS4 = (0.0,) * 2, (0.0,) * 3, (0.0,) * 4
_ORDERED_MODELS = (
    _model(
        "michaelis-menten",
        ("Vmax", "Km"),
        "Vmax·x/(Km + x)",
        _mm,
        _mm_jac,
        _mm_starts,
        _POS2,
        nonnegative_x=True,
    ),
    _model(
        "hill",
        ("Vmax", "Khalf", "h"),
        "Vmax·x^h/(Khalf^h + x^h)",
        _hill,
        _hill_jac,
        _hill_starts,
        _POS3,
        nonnegative_x=True,
    ),
    _model(
        "morrison",
        ("v0", "Ki_app"),
        "v0·(1 − ((E + x + Ki_app) − √((E + x + Ki_app)² − 4·E·x))/(2·E)), E = x2",
        _morrison,
        _morrison_jac,
        _morrison_starts,
        _POS2,
        needs_x2=True,
        nonnegative_x=True,
    ),
    _model(
        "substrate-inhibition",
        ("Vmax", "Km", "Ki"),
        "Vmax·x/(Km + x·(1 + x/Ki))",
        _si,
        _si_jac,
        _si_starts,
        _POS3,
        nonnegative_x=True,
    ),
    _model(
        "competitive",
        ("Vmax", "Km", "Ki"),
        "Vmax·x/(Km·(1 + x2/Ki) + x)",
        _comp,
        _comp_jac,
        _inhib_starts(1),
        _POS3,
        needs_x2=True,
        nonnegative_x=True,
    ),
    _model(
        "uncompetitive",
        ("Vmax", "Km", "Ki"),
        "Vmax·x/(Km + x·(1 + x2/Ki))",
        _uncomp,
        _uncomp_jac,
        _inhib_starts(1),
        _POS3,
        needs_x2=True,
        nonnegative_x=True,
    ),
    _model(
        "noncompetitive",
        ("Vmax", "Km", "Ki"),
        "Vmax·x/((Km + x)·(1 + x2/Ki))",
        _noncomp,
        _noncomp_jac,
        _inhib_starts(1),
        _POS3,
        needs_x2=True,
        nonnegative_x=True,
    ),
    _model(
        "mixed",
        ("Vmax", "Km", "Ki", "alpha"),
        "Vmax·x/(Km·(1 + x2/Ki) + x·(1 + x2/(alpha·Ki)))",
        _mixed,
        _mixed_jac,
        _inhib_starts(2),
        _POS4,
        needs_x2=True,
        nonnegative_x=True,
    ),
    _model(
        "ordered-bi-bi",
        ("Vmax", "KmA", "KmB", "KiA"),
        "Vmax·A·B/(KiA·KmB + KmB·A + KmA·B + A·B)",
        _seq,
        _seq_jac,
        _bi_starts(4),
        _POS4,
        needs_x2=True,
        nonnegative_x=True,
    ),
    _model(
        "ping-pong",
        ("Vmax", "KmA", "KmB"),
        "Vmax·A·B/(KmB·A + KmA·B + A·B)",
        _pp,
        _pp_jac,
        _bi_starts(3),
        _POS3,
        needs_x2=True,
        nonnegative_x=True,
    ),
    _model(
        "exponential-rise",
        ("plateau", "rate"),
        "plateau·(1 − exp(−rate·x))",
        _exp,
        _exp_jac,
        _exp_starts,
        (-_INF, 0.0),
    ),
    _model(
        "logistic3",
        ("top", "slope", "x50"),
        "top/(1 + exp(−slope·(x − x50)))",
        _log3,
        _log3_jac,
        _log3_starts,
    ),
    _model(
        "logistic4",
        ("bottom", "top", "ec50", "hill"),
        "bottom + (top − bottom)/(1 + (ec50/x)^hill)",
        _log4,
        _log4_jac,
        _log_starts(4),
        (-_INF, -_INF, 0.0, -_INF),
        nonnegative_x=True,
    ),
    _model(
        "logistic5",
        ("bottom", "top", "ec50", "hill", "asym"),
        "bottom + (top − bottom)/(1 + (ec50/x)^hill)^asym",
        _log5,
        _log5_jac,
        _log_starts(5),
        (-_INF, -_INF, 0.0, -_INF, 0.0),
        nonnegative_x=True,
    ),
    _model(
        "gaussian",
        ("height", "center", "sigma"),
        "height·exp(−½((x − center)/sigma)²)",
        _gauss,
        _gauss_jac,
        _gauss_starts,
        (-_INF, -_INF, 0.0),
    ),
    _model(
        "linear",
        ("intercept", "slope"),
        "intercept + slope·x",
        _lin,
        _lin_jac,
        _no_starts,
        linear=True,
    ),
    _model("linear-through-zero", ("slope",), "slope·x", _lin0, _lin0_jac, _no_starts, linear=True),
    _model(
        "quadratic",
        ("c0", "c1", "c2"),
        "c0 + c1·x + c2·x²",
        _quad,
        _quad_jac,
        _no_starts,
        linear=True,
    ),
)
_ORDERED_BI = next(m for m in _ORDERED_MODELS if m.name == "ordered-bi-bi")
# Rapid-equilibrium random bi-bi has the same initial-rate law as ordered bi-bi (with
# KiA·KmB = KmA·KiB); only the interpretation of KiA differs.
_RANDOM_BI = replace(
    _ORDERED_BI,
    name="random-bi-bi",
    equation="Vmax·A·B/(KiA·KmB + KmB·A + KmA·B + A·B) (rapid equilibrium)",
)
MODELS: dict[str, CurveModel] = {m.name: m for m in (*_ORDERED_MODELS, _RANDOM_BI)}


def get_model(name: str) -> CurveModel:
    """The named model; :class:`~asnflux.NotFoundError` lists the names on a typo."""
    try:
        return MODELS[name]
    except KeyError:
        raise NotFoundError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}") from None
