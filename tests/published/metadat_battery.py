"""The public battery: classic meta-analyses of R's metadat package (``tests/data/metadat``).

``binary.csv`` (2x2 tables, fitted with the binomial family from exact counts; the treated arm
is written as ``preop``, the control arm as ``postop``), ``contrast.csv`` (published-style
estimates, fitted with the contrast family) and ``reference.csv`` (metafor's estimates) were
written once by ``tests/data/metadat/export.R``; their provenance is in that folder's
README. This module writes a spec per dataset and fits it; ``tests/published/test_metadat.py`` and
``benchmarks/bench_metadat.py`` use it.
"""

from __future__ import annotations

import csv
from pathlib import Path

from srsbayes.inference.fitting import FitResult, FitSettings, fit_outcome
from srsbayes.inputs.data import StudyTable, read_table
from srsbayes.inputs.specs import OutcomeSpec, load_specs

DATA = Path(__file__).parents[1] / "data" / "metadat"

PRIORS = {
    "binomial": {"effect": "normal(0, 2.5)", "tau": "halfnormal(1)", "baseline": "normal(0, 5)"},
    "contrast": {"effect": "normal(0, 2.5)", "tau": "halfnormal(1)"},
}
"""Weakly informative priors on the log odds ratio (or log hazard ratio, or standardised mean
difference) scale: an effect prior 10 or more times wider than any of the battery's ML standard
errors, a between-study SD prior whose median (0.67) is near the largest ML estimates
(0.5-1.1), and vague study baselines (log odds of the two arms' average risk from 0.005% to
99.995%)."""

SCALE = {"normand1999": 40.0}
"""Datasets not on a unit scale: the priors above times this (normand1999: length of hospital
stay in days, between-study SD about 25 days by REML)."""

MEASURE = {"binomial": None, "contrast": {"raudenbush1985": "mean_difference",
                                          "normand1999": "mean_difference",
                                          "bangertdrowns2004": "mean_difference",
                                          "hackshaw1998": "odds_ratio",
                                          "riley2003": "hazard_ratio"}}
"""The contrast datasets' measures (standardised mean differences are pooled as mean
differences: the model only needs the estimate and its SE)."""


def reference() -> dict[str, dict[str, float | str]]:
    """``reference.csv`` by dataset: metafor's ML (``glmm_*``: ``rma.glmm`` for binary data,
    ``rma(method = "ML")`` for contrasts) and REML (``reml_*``) estimate, SE and tau."""
    with (DATA / "reference.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {r["dataset"]: {k: (v if k in ("dataset", "family", "note") else float(v))
                           for k, v in r.items()} for r in rows}


def _spec_text(name: str, family: str) -> str:
    scale = SCALE.get(name, 1.0)
    lines = [f'id = "{name}"', f'label = "metadat dat.{name}"', f'family = "{family}"',
             'event = "event"', 'benefit = "lower"']
    measure = MEASURE[family] and MEASURE[family][name]
    if measure:
        lines.append(f'measure = "{measure}"')
    for slot, text in PRIORS[family].items():
        dist, arg = text[:-1].split("(")
        args = ", ".join(f"{float(a) * (scale if slot != 'baseline' else 1):g}"
                         for a in arg.split(","))
        lines += [f"[priors.{slot}]", f'dist = "{dist}({args})"',
                  'rationale = "weakly informative (tests/published/metadat_battery.py PRIORS)"']
    return "\n".join(lines) + "\n"


def load(folder: Path) -> tuple[dict[str, OutcomeSpec], StudyTable, StudyTable]:
    """Write a spec per dataset into ``folder`` and read both tables against them."""
    for name, ref in reference().items():
        (folder / f"{name}.toml").write_text(_spec_text(name, str(ref["family"])))
    specs = load_specs(folder)
    return specs, read_table(DATA / "binary.csv", specs), read_table(DATA / "contrast.csv", specs)


def fit(specs: dict[str, OutcomeSpec], tables: dict[str, StudyTable], name: str, seed: int,
        **settings) -> FitResult:
    """One gated fit of dataset ``name`` (the family's default settings, seed ``seed``)."""
    spec = specs[name]
    return fit_outcome(tables[spec.family], spec, settings=FitSettings(seed=seed, **settings),
                       checks=False)
