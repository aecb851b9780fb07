"""Analysis on top of the models: global sensitivity (Sobol' indices, Morris screening)."""

from ._cell import CELL_OUTPUTS as CELL_OUTPUTS
from ._cell import cell_factors as cell_factors
from ._cell import cell_sensitivity as cell_sensitivity
from ._patient import PATIENT_OUTPUTS as PATIENT_OUTPUTS
from ._patient import patient_factors as patient_factors
from ._patient import patient_sensitivity as patient_sensitivity
from ._sensitivity import Factor as Factor
from ._sensitivity import SensitivityResult as SensitivityResult
from ._sensitivity import morris as morris
from ._sensitivity import sobol as sobol

__all__ = [
    "CELL_OUTPUTS",
    "PATIENT_OUTPUTS",
    "Factor",
    "SensitivityResult",
    "cell_factors",
    "cell_sensitivity",
    "morris",
    "patient_factors",
    "patient_sensitivity",
    "sobol",
]
