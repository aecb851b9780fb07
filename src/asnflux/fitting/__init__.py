"""Curve fitting: weighted nonlinear least squares with Wald and profile intervals."""

from ._equation import equation_model as equation_model
from ._global import GlobalFit as GlobalFit
from ._global import fit_global as fit_global
from ._models import MODELS as MODELS
from ._models import CurveModel as CurveModel
from ._models import get_model as get_model
from ._nls import WEIGHTS as WEIGHTS
from ._nls import FitResult as FitResult
from ._nls import ParameterEstimate as ParameterEstimate
from ._nls import fit_curve as fit_curve
from ._records import records_from_fit as records_from_fit

__all__ = [
    "MODELS",
    "WEIGHTS",
    "CurveModel",
    "FitResult",
    "GlobalFit",
    "ParameterEstimate",
    "equation_model",
    "fit_curve",
    "fit_global",
    "get_model",
]
