"""Simulation backends generated from a network model: the compiled ensemble backend.

:func:`compile_model` translates an :class:`asnflux.network.Model` (the one definition of
a model, also exported as SBML) into generated, compiled code and integrates many
parameter sets at once on all cores (numba), or as one JAX program vmapped over the
members (``backend="jax"``, on a GPU when JAX has one). The reference single-run engine is
libroadrunner (:class:`asnflux.network.RoadRunnerEngine`), run on the exported SBML.
"""

from ._compiled import BACKENDS as BACKENDS
from ._compiled import CompiledModel as CompiledModel
from ._compiled import compile_model as compile_model
from ._kernel import STATUS as STATUS

__all__ = ["BACKENDS", "STATUS", "CompiledModel", "compile_model"]
