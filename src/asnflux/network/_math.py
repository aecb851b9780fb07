"""Infix formulas: parsed by libsbml (never ``eval``), walked for symbols and units."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

import libsbml

from .._errors import DataError
from ..units import Q_

__all__ = ["canonical", "evaluate", "parse", "symbols", "sympy_of", "unit_of"]


def parse(formula: str, where: str) -> Any:
    """The libsbml AST of an SBML Level 3 infix formula; a syntax error names ``where``."""
    ast = libsbml.parseL3Formula(formula)
    if ast is None:
        raise DataError(f"{where}: cannot parse {formula!r}: {libsbml.getLastParseL3Error()}")
    return ast


@cache
def canonical(formula: str) -> str:
    """The formula as libsbml writes it back (so round trips compare equal)."""
    return str(libsbml.formulaToL3String(parse(formula, "formula")))


def symbols(formula: str, where: str = "formula") -> set[str]:
    """Names referenced by a formula (``time`` excluded)."""
    out: set[str] = set()

    def walk(node: Any) -> None:
        if node.getType() == libsbml.AST_NAME:
            out.add(node.getName())
        for i in range(node.getNumChildren()):
            walk(node.getChild(i))

    walk(parse(formula, where))
    return out


def evaluate(formula: str, values: dict[str, float], where: str) -> float:
    """The number ``formula`` gives for ``values`` (one per symbol it reads)."""
    quantities = {k: Q_(v, "dimensionless") for k, v in values.items()}
    return float(unit_of(formula, quantities, where)[1])


_RELATIONAL = {
    libsbml.AST_RELATIONAL_EQ,
    libsbml.AST_RELATIONAL_GEQ,
    libsbml.AST_RELATIONAL_GT,
    libsbml.AST_RELATIONAL_LEQ,
    libsbml.AST_RELATIONAL_LT,
    libsbml.AST_RELATIONAL_NEQ,
}
_DIMENSIONLESS_FUNCS = {
    libsbml.AST_FUNCTION_EXP: math.exp,
    libsbml.AST_FUNCTION_LN: math.log,
    libsbml.AST_FUNCTION_LOG: math.log10,
    libsbml.AST_FUNCTION_TANH: math.tanh,
}


def _is_zero(node: Any) -> bool:
    literal = (libsbml.AST_INTEGER, libsbml.AST_REAL, libsbml.AST_REAL_E, libsbml.AST_RATIONAL)
    return bool(node.getType() in literal and node.getValue() == 0)


def unit_of(formula: str, values: dict[str, Any], where: str) -> tuple[Any, float]:
    """Evaluate ``formula`` twice: with pint quantities (for its unit) and with bare numbers.

    ``values`` maps each symbol to a quantity in the unit the model declares for it;
    ``time`` is 1 h. The bare-number result is what an SBML engine computes; comparing it
    with the pint result converted to the expected unit catches scale errors (a volume in
    pL where litres are meant) that a dimension check alone would pass. Adding quantities
    of different dimensions, or an exponent or function argument with units, raises
    :class:`DataError` naming ``where``.
    """
    import pint

    def ev(node: Any) -> tuple[Any, float]:
        t = node.getType()
        kids = [node.getChild(i) for i in range(node.getNumChildren())]
        if t in (libsbml.AST_INTEGER, libsbml.AST_REAL, libsbml.AST_REAL_E, libsbml.AST_RATIONAL):
            return Q_(node.getValue(), "dimensionless"), float(node.getValue())
        if t == libsbml.AST_NAME_TIME:
            return Q_(1.0, "h"), 1.0
        if t == libsbml.AST_NAME:
            q = values[node.getName()]
            return q, float(q.magnitude)
        if t == libsbml.AST_PLUS:
            q, f = ev(kids[0])
            for k in kids[1:]:
                q2, f2 = ev(k)
                q, f = q + q2, f + f2
            return q, f
        if t == libsbml.AST_MINUS:
            if len(kids) == 1:
                q, f = ev(kids[0])
                return -q, -f
            (q1, f1), (q2, f2) = ev(kids[0]), ev(kids[1])
            return q1 - q2, f1 - f2
        if t == libsbml.AST_TIMES:
            q, f = ev(kids[0])
            for k in kids[1:]:
                q2, f2 = ev(k)
                q, f = q * q2, f * f2
            return q, f
        if t == libsbml.AST_DIVIDE:
            (q1, f1), (q2, f2) = ev(kids[0]), ev(kids[1])
            return q1 / q2, f1 / f2
        if t in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
            (base, fb), (expo, fe) = ev(kids[0]), ev(kids[1])
            if not expo.dimensionless:
                raise DataError(f"{where}: an exponent must be dimensionless, got {expo.units}")
            return base ** float(expo.to("dimensionless").magnitude), fb**fe
        if t in _DIMENSIONLESS_FUNCS:
            arg, fa = ev(kids[0])
            if not arg.dimensionless:
                raise DataError(
                    f"{where}: the argument of {node.getName()} must be dimensionless, got "
                    f"{arg.units}"
                )
            fn = _DIMENSIONLESS_FUNCS[t]
            return Q_(fn(float(arg.to("dimensionless").magnitude)), ""), fn(fa)
        if t == libsbml.AST_FUNCTION_ABS:
            q, f = ev(kids[0])
            return abs(q), abs(f)
        if t in (libsbml.AST_FUNCTION_MIN, libsbml.AST_FUNCTION_MAX):
            vals = [ev(k) for k in kids]
            for v, _ in vals[1:]:
                v.to(vals[0][0].units)  # raises on mismatched dimensions
            pick = min if t == libsbml.AST_FUNCTION_MIN else max
            return pick(vals, key=lambda p: p[1])
        if t == libsbml.AST_FUNCTION_PIECEWISE:
            for cond in kids[1::2]:
                ev(cond)
            # A literal 0 branch fits any unit (zero is zero in every unit).
            branches = [ev(k) for k in kids[::2] if not _is_zero(k)] or [ev(kids[0])]
            for b, _ in branches[1:]:
                b.to(branches[0][0].units)
            return branches[0]
        if t in _RELATIONAL:
            (a, _), (b, _) = ev(kids[0]), ev(kids[1])
            if not (_is_zero(kids[0]) or _is_zero(kids[1])):
                b.to(a.units)
            return Q_(1.0, ""), 1.0
        raise DataError(f"{where}: operator {node.getName() or t} is not supported in rate laws")

    try:
        return ev(parse(formula, where))
    except pint.DimensionalityError as exc:
        raise DataError(f"{where}: units are inconsistent in {formula!r} ({exc})") from None


def sympy_of(node: Any, name: Callable[[str], Any], where: str, suffix: str = "") -> Any:
    """The sympy expression of a libsbml formula tree (never ``eval``).

    ``name`` gives the expression of each name (``"time"`` for SBML's time); integers and
    rationals stay exact; ``log`` is base 10 (``log(b, x)`` base b), as in SBML; ``min``
    and ``max`` become piecewise functions, so that they differentiate. A construct outside
    this set raises :class:`DataError` naming ``where`` (and ``suffix``, a hint).
    """
    import sympy

    funcs: dict[int, Any] = {
        libsbml.AST_FUNCTION_EXP: sympy.exp,
        libsbml.AST_FUNCTION_LN: sympy.log,
        libsbml.AST_FUNCTION_ABS: sympy.Abs,
        libsbml.AST_FUNCTION_SIN: sympy.sin,
        libsbml.AST_FUNCTION_COS: sympy.cos,
        libsbml.AST_FUNCTION_TAN: sympy.tan,
        libsbml.AST_FUNCTION_TANH: sympy.tanh,
        libsbml.AST_FUNCTION_FLOOR: sympy.floor,
        libsbml.AST_FUNCTION_CEILING: sympy.ceiling,
    }
    relations: dict[int, Any] = {
        libsbml.AST_RELATIONAL_EQ: sympy.Eq,
        libsbml.AST_RELATIONAL_NEQ: sympy.Ne,
        libsbml.AST_RELATIONAL_GEQ: sympy.Ge,
        libsbml.AST_RELATIONAL_GT: sympy.Gt,
        libsbml.AST_RELATIONAL_LEQ: sympy.Le,
        libsbml.AST_RELATIONAL_LT: sympy.Lt,
    }
    logic: dict[int, Any] = {
        libsbml.AST_LOGICAL_AND: sympy.And,
        libsbml.AST_LOGICAL_OR: sympy.Or,
        libsbml.AST_LOGICAL_NOT: sympy.Not,
        libsbml.AST_FUNCTION_MIN: lambda *a: sympy.Min(*a).rewrite(sympy.Piecewise),
        libsbml.AST_FUNCTION_MAX: lambda *a: sympy.Max(*a).rewrite(sympy.Piecewise),
    }
    constants: dict[int, Any] = {
        libsbml.AST_CONSTANT_PI: sympy.pi,
        libsbml.AST_CONSTANT_E: sympy.E,
        libsbml.AST_CONSTANT_TRUE: sympy.true,
        libsbml.AST_CONSTANT_FALSE: sympy.false,
    }

    def ev(n: Any) -> Any:
        t = n.getType()
        kids = [ev(n.getChild(i)) for i in range(n.getNumChildren())]
        if t == libsbml.AST_INTEGER:
            return sympy.Integer(n.getInteger())
        if t in (libsbml.AST_REAL, libsbml.AST_REAL_E):
            return sympy.Float(n.getReal(), 17)
        if t == libsbml.AST_RATIONAL:
            return sympy.Rational(n.getNumerator(), n.getDenominator())
        if t == libsbml.AST_NAME:
            return name(n.getName())
        if t == libsbml.AST_NAME_TIME:
            return name("time")
        if t in constants:
            return constants[t]
        if t == libsbml.AST_PLUS:
            return sympy.Add(*kids)
        if t == libsbml.AST_TIMES:
            return sympy.Mul(*kids)
        if t == libsbml.AST_MINUS:
            return -kids[0] if len(kids) == 1 else kids[0] - kids[1]
        if t == libsbml.AST_DIVIDE:
            return kids[0] / kids[1]
        if t in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
            return kids[0] ** kids[1]
        if t == libsbml.AST_FUNCTION_ROOT:
            return kids[-1] ** (1 / kids[0]) if len(kids) == 2 else sympy.sqrt(kids[0])
        if t == libsbml.AST_FUNCTION_LOG:
            return sympy.log(kids[-1], kids[0] if len(kids) == 2 else 10)
        if t in funcs and len(kids) == 1:
            return funcs[t](kids[0])
        if t == libsbml.AST_FUNCTION and n.getName() in ("sqrt", "log10") and len(kids) == 1:
            return sympy.sqrt(kids[0]) if n.getName() == "sqrt" else sympy.log(kids[0], 10)
        if t == libsbml.AST_FUNCTION_PIECEWISE:
            pairs = [(kids[i], kids[i + 1]) for i in range(0, len(kids) - 1, 2)]
            otherwise = kids[-1] if len(kids) % 2 else sympy.nan
            return sympy.Piecewise(*pairs, (otherwise, True))
        if t in relations and len(kids) == 2:
            return relations[t](kids[0], kids[1])
        if t in logic:
            return logic[t](*kids)
        shown = libsbml.formulaToL3String(n) or n.getName() or str(t)
        raise DataError(f"{where}: {shown!r} is not supported{suffix}")

    return ev(node)
