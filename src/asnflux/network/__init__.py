"""The modelling core: declarative models, checks, SBML/Antimony export, simulation engines."""

from ._antimony import to_antimony as to_antimony
from ._checks import check_model as check_model
from ._engine import Engine as Engine
from ._engine import RoadRunnerEngine as RoadRunnerEngine
from ._engine import Trajectory as Trajectory
from ._model import Compartment as Compartment
from ._model import Event as Event
from ._model import Model as Model
from ._model import Parameter as Parameter
from ._model import Reaction as Reaction
from ._model import Species as Species
from ._sbml import from_sbml as from_sbml
from ._sbml import to_sbml as to_sbml
from ._sbml import validate_sbml as validate_sbml

__all__ = [
    "Compartment",
    "Engine",
    "Event",
    "Model",
    "Parameter",
    "Reaction",
    "RoadRunnerEngine",
    "Species",
    "Trajectory",
    "check_model",
    "from_sbml",
    "to_antimony",
    "to_sbml",
    "validate_sbml",
]
