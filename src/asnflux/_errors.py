"""The one exception hierarchy of AsnFlux.

Every error the library raises on purpose is an :class:`AsnfluxError`. Subclasses also
inherit the matching builtin, so callers may catch either (``except ValueError`` keeps
working for a :class:`UnitError`). Messages name the offending value, what was expected
and, where there is one, how to fix it.
"""

from __future__ import annotations

__all__ = [
    "AsnfluxError",
    "DataError",
    "FitError",
    "NotFoundError",
    "RecordError",
    "SolverError",
    "UnitError",
]


class AsnfluxError(Exception):
    """Root of every error AsnFlux raises deliberately."""


class UnitError(ValueError, AsnfluxError):
    """A unit is unknown, or a quantity has the wrong dimension for its use."""


class DataError(ValueError, AsnfluxError):
    """Input data are malformed, out of range, missing or inconsistent."""


class RecordError(DataError):
    """A knowledge-base file holds an invalid record.

    The message always names the file, the record id and the field, so the curator can
    go straight to the line that needs fixing.
    """

    def __init__(self, file: str, record_id: str | None, field: str | None, problem: str):
        self.file = file
        self.record_id = record_id
        self.field = field
        self.problem = problem
        where = file
        if record_id is not None:
            where += f": record '{record_id}'"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {problem}")


class NotFoundError(KeyError, AsnfluxError):
    """A named thing (record, formulation, cell type, model…) does not exist."""

    def __str__(self) -> str:
        # KeyError.__str__ wraps the message in quotes; show it as written.
        return str(self.args[0]) if self.args else ""


class SolverError(RuntimeError, AsnfluxError):
    """A numerical integration or steady-state search failed."""


class FitError(RuntimeError, AsnfluxError):
    """A fit did not converge, or the data cannot identify the model."""
