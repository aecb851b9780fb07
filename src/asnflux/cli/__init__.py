"""The ``asnflux`` command line: parse, call the library, print, exit."""

from ._main import app as app
from ._main import main as main

__all__ = ["app", "main"]
