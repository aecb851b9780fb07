"""AsnFlux: L-asparagine metabolism made computable, from the enzyme to the patient.

The public API is what this module exports; everything else is private.
"""

from ._errors import AsnfluxError as AsnfluxError
from ._errors import DataError as DataError
from ._errors import FitError as FitError
from ._errors import NotFoundError as NotFoundError
from ._errors import RecordError as RecordError
from ._errors import SolverError as SolverError
from ._errors import UnitError as UnitError
from .knowledge import KnowledgeBase as KnowledgeBase
from .knowledge import Record as Record
from .knowledge import Reference as Reference
from .knowledge import load_knowledge_base as load_knowledge_base
from .units import Q_ as Q_
from .units import molar_mass as molar_mass
from .units import parse_quantity as parse_quantity
from .units import ureg as ureg

__version__ = "0.1.0"

__all__ = [
    "Q_",
    "AsnfluxError",
    "DataError",
    "FitError",
    "KnowledgeBase",
    "NotFoundError",
    "Record",
    "RecordError",
    "Reference",
    "SolverError",
    "UnitError",
    "__version__",
    "load_knowledge_base",
    "molar_mass",
    "parse_quantity",
    "ureg",
]
