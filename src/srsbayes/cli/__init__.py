"""The command layer: argument parsing (:mod:`.main`) and one module per command.

Nothing in the library imports this package.
"""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
