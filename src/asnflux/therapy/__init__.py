"""Asparaginase therapy: formulations, regimens, patient simulation, cohorts and TDM."""

from ..models._formulations import FORMULATIONS as FORMULATIONS
from ..models._formulations import Formulation as Formulation
from ..models._formulations import formulation as formulation
from ..models._formulations import weight_from_bsa as weight_from_bsa
from ..models._patient_inputs import PDParams as PDParams
from ..models._patient_inputs import Population as Population
from ._cohort import CohortResult as CohortResult
from ._cohort import compare_regimens as compare_regimens
from ._cohort import run_cohort as run_cohort
from ._cohort import sample_population as sample_population
from ._cohort import typical_patient as typical_patient
from ._nonmem import read_nonmem as read_nonmem
from ._regimen import Dose as Dose
from ._regimen import Regimen as Regimen
from ._regimen import read_regimen as read_regimen
from ._regimen import regimen_from_options as regimen_from_options
from ._result import SimResult as SimResult
from ._simulate import simulate as simulate
from ._tdm import DosingRules as DosingRules
from ._tdm import TDMResult as TDMResult
from ._tdm import tdm as tdm
from ._tdm import tdm_dataset as tdm_dataset

__all__ = [
    "FORMULATIONS",
    "CohortResult",
    "Dose",
    "DosingRules",
    "Formulation",
    "PDParams",
    "Population",
    "Regimen",
    "SimResult",
    "TDMResult",
    "compare_regimens",
    "formulation",
    "read_nonmem",
    "read_regimen",
    "regimen_from_options",
    "run_cohort",
    "sample_population",
    "simulate",
    "tdm",
    "tdm_dataset",
    "typical_patient",
    "weight_from_bsa",
]
