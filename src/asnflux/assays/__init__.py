"""Assay analysis: standard curves and the seed's protocols."""

from ._asparaginase import AsparaginaseResult as AsparaginaseResult
from ._asparaginase import asparaginase_activity as asparaginase_activity
from ._calibration import CALIBRATION_MODELS as CALIBRATION_MODELS
from ._calibration import Calibration as Calibration
from ._calibration import InversePrediction as InversePrediction
from ._calibration import calibrate as calibrate

__all__ = [
    "CALIBRATION_MODELS",
    "AsparaginaseResult",
    "Calibration",
    "InversePrediction",
    "asparaginase_activity",
    "calibrate",
]
