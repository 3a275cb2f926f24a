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
BUNDLED_STUDIES = BUNDLED_DATA / "studies.csv"
"""The bundled study table (``srsbayes.inputs.data.DEFAULT_DATA``)."""


def is_bundled_data(path: Path | str) -> bool:
    """Whether ``path`` is the bundled ``studies.csv``: the data the bundled paper's pooled
    rows, claims and text describe (a user's own studies never are), whose outputs go to
    ``reports/`` itself. The one place this is decided."""
    try:
        return Path(path).resolve() == BUNDLED_STUDIES.resolve() and BUNDLED_STUDIES.is_file()
    except OSError:
        return False


def default_models_dir() -> Path:
    """``$SRSBAYES_MODELS`` if set, else the bundled ``models/``."""
    return Path(os.environ.get("SRSBAYES_MODELS", BUNDLED_MODELS))


DATASETS: dict[str, tuple[Path, Path]] = {
    "real": (BUNDLED_DATA / "real_record.csv", BUNDLED / "models_real"),
}
"""Bundled datasets besides the default, by the name ``--data`` accepts: (data, specs). ``real``
is the public record's one comparative study with per-arm numbers (``data/README.md``)."""


def dataset(data: Path | str | None, models: Path | str | None
            ) -> tuple[Path | None, Path | None]:
    """``--data`` and ``--models`` with a bundled dataset's name (``real``) resolved to its
    files; the name's specs are used unless ``--models`` is given. A file of that name in
    the current folder wins over the bundled dataset."""
    if data is not None and str(data) in DATASETS and not Path(data).exists():
        path, specs = DATASETS[str(data)]
        return path, Path(models) if models is not None else specs
    return (None if data is None else Path(data),
            None if models is None else Path(models))


def default_out(*parts: str, data: Path | str | None = None) -> Path:
    """``./reports/<parts>`` under the current working directory for the bundled data;
    ``./reports/<data file's stem>/<parts>`` for any other ``data``, so that analysing one's
    own studies never overwrites the bundled report's outputs."""
    if data is not None and not is_bundled_data(data):
        return Path.cwd().joinpath("reports", Path(data).stem, *parts)
    return Path.cwd().joinpath("reports", *parts)
