"""Refit the meta-analysis with a simulated trial added, where reweighting is not trusted.

The trial enters the study table as its own study (``design = rct``, ``rob = low``): for an
outcome of event counts as two arm rows with the simulated counts (the model gives it its
own intercept, where the reweighting of :mod:`.likelihood` draws its control risk from the
baseline model), otherwise as a contrast row with its estimate and standard error (exactly
the likelihood of the reweighting). A randomised trial judged at low risk of bias gets no
bias term in a bias-adjusted fit (``bundled/data/bias_priors.toml``). The study CSV is written to a
temporary folder and read back through :func:`srsbayes.inputs.data.read_table`, so the row
is validated like any other.
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..families import get_family
from ..families.measures import is_ratio, measure_code
from ..inputs.data import StudyTable, read_table
from ..inputs.specs import OutcomeSpec
from .preposterior import Refit
from .simulate import Posterior, Simulated, TrialSetup, rng_for

REFIT_STREAM = 13
"""Entropy word of the refits' seeds (one per simulation index)."""
_ADDED = ("n", "events", "measure", "estimate", "se", "design", "rob", "source")


def can_refit(spec: OutcomeSpec, setup: TrialSetup) -> bool:
    """Whether the trial can be added to the table: as arm rows of counts, or as a contrast
    row of a family that accepts one (binomial and contrast do)."""
    return setup.counts or get_family(spec.family).contrast_measures(spec) is not None


def trial_csv(table: StudyTable, spec: OutcomeSpec, sims: Simulated, k: int,
              setup: TrialSetup, name: str) -> str:
    """The study CSV of ``table`` with the ``k``-th simulated trial of ``sims`` appended."""
    text = Path(table.path).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    extra = [c for c in _ADDED if c not in header]
    header = header + extra
    body = [r + [""] * (len(header) - len(r)) for r in rows[1:] if any(c.strip() for c in r)]
    common = {"study": name, "outcome": spec.id, "design": "rct", "rob": "low",
              "source": "simulated trial"}
    if setup.counts:
        added = [{**common, "arm": arm, "n": str(n), "events": str(int(ev))}
                 for arm, n, ev in (("preop", setup.n_preop, sims.events_preop[k]),
                                    ("postop", setup.n_postop, sims.events_postop[k]))]
    else:
        code = get_family(spec.family).contrast_measures(spec)[0]
        code = measure_code(code) or code
        y = float(sims.estimate[k])
        added = [{**common, "arm": "", "measure": code,
                  "estimate": repr(math.exp(y) if is_ratio(code) else y),
                  "se": repr(float(sims.se[k])), "n": str(setup.n_preop + setup.n_postop)}]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    w.writerows(body)
    w.writerows([[row.get(c, "") for c in header] for row in added])
    return out.getvalue()


def refitter(table: StudyTable, specs: dict[str, OutcomeSpec], fit: Any, *,
             setup: TrialSetup, name: str, seed: int, bias: Any = None,
             draws: int | None = None) -> Refit:
    """A :data:`~srsbayes.trials.preposterior.Refit` for the fitted outcome ``fit``: the
    same priors (as resolved), sampler settings (``draws`` per chain if given) and bias
    adjustment; seed derived from the simulation index."""
    from ..inference.fitting import fit_outcome

    spec = fit.spec

    settings = fit.settings if draws is None else replace(fit.settings, draws=draws)

    def refit(sims: Simulated, k: int) -> Posterior | None:
        index = int(sims.index[k])
        sub_seed = int(rng_for(seed, REFIT_STREAM, index).integers(2**31 - 1))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "studies_with_trial.csv"
            path.write_text(trial_csv(table, spec, sims, k, setup, name), encoding="utf-8")
            new_table = read_table(path, specs)
            result = fit_outcome(new_table, spec, priors=fit.priors,
                                 settings=replace(settings, seed=sub_seed),
                                 checks=False, bias=bias)
        return Posterior.from_fit(result) if result.ok else None

    return refit
