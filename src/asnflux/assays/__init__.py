"""Assay analysis: standard curves, the seed's three protocols, plates and isotopes."""

from ._asns import AsnsResult as AsnsResult
from ._asns import asns_activity as asns_activity
from ._asparaginase import AsparaginaseResult as AsparaginaseResult
from ._asparaginase import AspartateActivityResult as AspartateActivityResult
from ._asparaginase import asparaginase_activity as asparaginase_activity
from ._asparaginase import (
    asparaginase_activity_from_aspartate as asparaginase_activity_from_aspartate,
)
from ._calibration import CALIBRATION_MODELS as CALIBRATION_MODELS
from ._calibration import Calibration as Calibration
from ._calibration import InversePrediction as InversePrediction
from ._calibration import calibrate as calibrate
from ._isotopes import IsotopeReport as IsotopeReport
from ._isotopes import isotope_report as isotope_report
from ._lcms import LcmsResult as LcmsResult
from ._lcms import lcms_quantify as lcms_quantify
from ._lcms import standard_addition as standard_addition
from ._plates import Plate as Plate
from ._plates import apply_layout as apply_layout
from ._plates import read_layout as read_layout
from ._plates import read_plate as read_plate

__all__ = [
    "CALIBRATION_MODELS",
    "AsnsResult",
    "AsparaginaseResult",
    "AspartateActivityResult",
    "Calibration",
    "InversePrediction",
    "IsotopeReport",
    "LcmsResult",
    "Plate",
    "apply_layout",
    "asns_activity",
    "asparaginase_activity",
    "asparaginase_activity_from_aspartate",
    "calibrate",
    "isotope_report",
    "lcms_quantify",
    "read_layout",
    "read_plate",
    "standard_addition",
]
