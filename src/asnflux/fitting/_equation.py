"""User-defined equations: ``y = b1*(1-exp(-b2*x))`` as a :class:`CurveModel`.

The text is parsed by libsbml's infix (SBML Level 3) formula parser into a syntax tree,
which is walked node by node into a sympy expression: no Python ``eval`` of user text
anywhere. The Jacobian is sympy's exact derivative of that expression, compiled with
``lambdify``. Names: ``x`` (and ``x2``) are the variables, every other name a parameter;
functions ``exp``, ``ln`` (natural), ``log`` (base 10, as in GraphPad Prism and SBML),
``log10``, ``sqrt``, ``abs``, ``sin``, ``cos``, ``tan``, ``tanh``; constants ``pi`` and
``exponentiale``; ``^`` or ``**`` for powers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import libsbml
import numpy as np
import sympy

from .._errors import DataError
from ..network._math import sympy_of
from ._models import Array, CurveModel

__all__ = ["equation_model"]

_MAX_TEXT = 2000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _to_sympy(node: Any, symbols: dict[str, sympy.Symbol], text: str) -> Any:
    def name(n: str) -> Any:
        if not _NAME.match(n):
            raise DataError(f"equation {text!r}: {n!r} is not a usable name")
        return symbols.setdefault(n, sympy.Symbol(n, real=True))

    return sympy_of(node, name, f"equation {text!r}", " (see asnflux fit --help)")


def _parse(text: str) -> tuple[Any, dict[str, sympy.Symbol]]:
    if not isinstance(text, str) or not text.strip():
        raise DataError("equation: empty; write e.g. 'y = b1*(1-exp(-b2*x))'")
    if len(text) > _MAX_TEXT:
        raise DataError(f"equation: longer than {_MAX_TEXT} characters")
    body = text.strip()
    left, sep, right = body.partition("=")
    if sep:
        if left.strip() != "y":
            raise DataError(f"equation {text!r}: the left side must be 'y'")
        body = right
    if "=" in body:
        raise DataError(f"equation {text!r}: only one '=' is allowed")
    ast = libsbml.parseL3Formula(body.replace("**", "^"))
    if ast is None:
        why = " ".join(libsbml.getLastParseL3Error().split())
        raise DataError(f"equation {text!r}: cannot parse ({why})")
    symbols: dict[str, sympy.Symbol] = {}
    return _to_sympy(ast, symbols, text), symbols


def equation_model(
    text: str,
    starts: Mapping[str, float],
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    fixed: Mapping[str, float] | None = None,
) -> CurveModel:
    """A curve model from an equation in x (and x2), with a start for every parameter.

    Parameters
    ----------
    text
        ``"y = b1*(1-exp(-b2*x))"`` (the ``y =`` is optional).
    starts
        A starting value per free parameter (as GraphPad Prism asks for them).
    bounds
        Optional ``(low, high)`` per parameter; default unbounded.
    fixed
        Parameters held at a value (substituted into the equation, not fitted).

    Raises
    ------
    DataError
        On a parse error, an unsupported construct, a parameter without a start or a
        start/bound/fixed value for a name the equation does not have.
    """
    expr, symbols = _parse(text)
    x, x2 = symbols.pop("x", None), symbols.pop("x2", None)
    if x is None:
        raise DataError(f"equation {text!r}: does not use x")
    fixed = dict(fixed or {})
    bounds = dict(bounds or {})
    for what, names in (("--start", starts), ("--fix", fixed), ("--bounds", bounds)):
        unknown = [n for n in names if n not in symbols]
        if unknown:
            raise DataError(
                f"{what}: {', '.join(unknown)} not in the equation (parameters: "
                f"{', '.join(symbols) or 'none'})"
            )
    expr = expr.subs({symbols[n]: sympy.Float(v, 17) for n, v in fixed.items()})
    if expr.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        raise DataError(
            f"equation {text!r}: is undefined or infinite as written (e.g. a division by "
            "zero such as x-x); rewrite it"
        )
    params = [n for n in symbols if n not in fixed]
    if not params:
        raise DataError(f"equation {text!r}: no free parameter to fit")
    missing = [n for n in params if n not in starts]
    if missing:
        raise DataError(
            f"--start: give a starting value for {', '.join(missing)} (e.g. --start {missing[0]}=1)"
        )
    p_syms = [symbols[n] for n in params]
    x_sym = x
    x2_sym = x2 if x2 is not None else sympy.Symbol("x2", real=True)
    args = (x_sym, x2_sym, *p_syms)
    f_num = sympy.lambdify(args, expr, modules="numpy")
    grads = [sympy.lambdify(args, sympy.diff(expr, p), modules="numpy") for p in p_syms]

    def f(xv: Array, x2v: Array, p: Array) -> Array:
        return np.broadcast_to(np.asarray(f_num(xv, x2v, *p), float), xv.shape).astype(float)

    def jac(xv: Array, x2v: Array, p: Array) -> Array:
        cols = [np.broadcast_to(np.asarray(g(xv, x2v, *p), float), xv.shape) for g in grads]
        return np.column_stack(cols).astype(float)

    start = np.array([float(starts[n]) for n in params])
    lower = tuple(float(bounds.get(n, (-np.inf, np.inf))[0]) for n in params)
    upper = tuple(float(bounds.get(n, (-np.inf, np.inf))[1]) for n in params)
    for n, lo, hi in zip(params, lower, upper, strict=True):
        if not lo < hi:
            raise DataError(f"--bounds {n}: low {lo:g} must be below high {hi:g}")
    shown = sympy.sstr(expr)
    return CurveModel(
        name="equation",
        params=tuple(params),
        equation=f"y = {shown}",
        f=f,
        jac=jac,
        starts=lambda xv, x2v, yv: [start.copy()],
        lower=lower,
        upper=upper,
        needs_x2=x2 is not None,
        description=f"user equation {text.strip()}",
    )
