"""Where the bundled evidence and specs live, and where outputs go by default.

The bundled files ship inside the package (``srsbayes/bundled/``), so a wheel installed
anywhere finds them; outputs go to ``./reports`` under the current directory, never into
the installed package or the source tree.
"""

from __future__ import annotations

import os
from pathlib import Path

BUNDLED = Path(__file__).resolve().parent / "bundled"
"""The bundled data (``data/``) and outcome specs (``models/``)."""
BUNDLED_DATA = BUNDLED / "data"
BUNDLED_MODELS = BUNDLED / "models"


def default_models_dir() -> Path:
    """``$SRSBAYES_MODELS`` if set, else the bundled ``models/``."""
    return Path(os.environ.get("SRSBAYES_MODELS", BUNDLED_MODELS))


def default_out(*parts: str) -> Path:
    """``./reports/<parts>`` under the current working directory."""
    return Path.cwd().joinpath("reports", *parts)
