"""How an analysis was made: its provenance block, the versions behind it and the command
line that reproduces it."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..inference.fitting import FitSettings
from ..outputs import package_versions
from ..provenance import provenance
from ..resources import BUNDLED_MODELS, default_out

if TYPE_CHECKING:
    from ..inference.summaries import FitSummary
    from ..inputs.data import StudyTable
    from ..inputs.question import Question
    from ..inputs.specs import OutcomeSpec

SAMPLER_SETTINGS = ("draws", "tune", "chains", "target_accept")
"""The sampler settings a provenance block records."""


def run_provenance(table: StudyTable, fitted: Iterable[tuple[OutcomeSpec, FitSummary | None]],
                   settings: FitSettings) -> dict[str, object]:
    """The provenance block (:func:`srsbayes.provenance.provenance`) of an analysis of
    several outcomes (``report``, ``certainty.json``): the data, every spec with the
    priors of its fit (none when it was not fitted), the seed and the sampler settings."""
    pairs = list(fitted)
    return provenance(table=table, specs=[spec for spec, _ in pairs],
                      priors={spec.id: s.priors for spec, s in pairs if s is not None},
                      seed=settings.seed,
                      settings={k: getattr(settings, k) for k in SAMPLER_SETTINGS})


def versions(summaries: Iterable[FitSummary]) -> dict[str, str]:
    """The package versions of the first fit (else of this process), with matplotlib's
    (the figures)."""
    from importlib.metadata import PackageNotFoundError, version

    first = next(iter(summaries), None)
    v = dict(first.versions) if first is not None else package_versions()
    try:
        v["matplotlib (figures)"] = version("matplotlib")
    except PackageNotFoundError:
        v["matplotlib (figures)"] = "not installed"
    return v


def models_folder(specs: dict[str, OutcomeSpec]) -> Path | None:
    """The folder of the outcome specs when it is not the bundled one (``--models``), else
    None (the specs of one folder, as ``load_specs`` reads them)."""
    folders = {Path(s.path).resolve().parent for s in specs.values() if s.path}
    if not folders or folders == {BUNDLED_MODELS.resolve()}:
        return None
    return min(folders)


def reproduce_command(table: StudyTable, settings: FitSettings, bundled: bool, *,
                      models: Path | None = None, out: Path | None = None,
                      question: Question | None = None) -> str:
    """The command line that reproduces the report's numbers: every option of the run
    (``--data`` unless bundled, ``--models`` unless bundled, ``--question`` when given,
    ``--seed``, ``--out`` unless the default ``reports/``)."""
    parts = ["python", "-m", "srsbayes", "report"]
    if not bundled:
        parts += ["--data", str(table.path)]
    if models is not None:
        parts += ["--models", str(models)]
    if question is not None:
        parts += ["--question", question.path]
    parts += ["--seed", str(settings.seed)]
    if out is not None and Path(out).absolute() != default_out():
        parts += ["--out", str(out)]
    cmd = shlex.join(parts)
    default = FitSettings(seed=settings.seed)
    if settings != default:
        cmd += (f"  # sampler settings used: draws={settings.draws}, tune={settings.tune}, "
                f"chains={settings.chains} (the command uses draws={default.draws}, "
                f"tune={default.tune}, chains={default.chains})")
    return cmd
