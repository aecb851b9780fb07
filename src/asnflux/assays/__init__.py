"""Assay analysis: standard curves and the seed's protocols."""

from ._calibration import CALIBRATION_MODELS as CALIBRATION_MODELS
from ._calibration import Calibration as Calibration
from ._calibration import InversePrediction as InversePrediction
from ._calibration import calibrate as calibrate

__all__ = ["CALIBRATION_MODELS", "Calibration", "InversePrediction", "calibrate"]
