"""``python -m srsbayes validate``: simulation-based calibration of both model families.

For each family the outcome whose priors and design are used is fixed
(:data:`FAMILY_OUTCOMES`): the binomial-normal model with the ``lmd`` spec and the
log-normal median model with the ``os`` spec, each with the four bundled studies' arm
sizes and follow-up. Per family it writes ``sbc_<family>.json`` (ranks, p-values,
negative controls, every fit's gate verdict, provenance) and ``sbc_<family>.png`` (ECDF
difference plot), atomically, and prints one PASS/FAIL line per checked quantity.

Its power is checked too: the same simulated data sets are fitted again with a τ prior
:data:`~srsbayes.validation.sbc.TAU_CONTROL_FACTOR` (1.5) times wider than the one they were
simulated from, and the record says whether the test rejects that (``negative_controls``
→ ``tau_prior``); a test that cannot has not shown calibration to that precision.

Exit status: 0 when every uniformity test passes, 4 (:data:`EXIT_SBC_REJECTED`) when any
rejects, 2 for bad options. Fits that fail the convergence gate are counted and listed
but their ranks are kept (see :func:`srsbayes.validation.sbc.run_sbc`).

References
----------
Talts S, Betancourt M, Simpson D, Vehtari A, Gelman A (2018). Validating Bayesian inference
algorithms with simulation-based calibration. arXiv:1804.06788.

Säilynoja T, Bürkner P-C, Vehtari A (2022). Graphical test for discrete uniformity and its
applications in goodness-of-fit evaluation and multiple sample comparison. Stat Comput 32:32.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..families import FAMILIES
from ..inference.fitting import resolve_priors
from ..inputs.data import StudyTable, outcome_table
from ..outputs import command_line, package_versions, write_json, write_with
from .sbc import (
    ALPHA,
    N_NULL,
    SBC_SETTINGS,
    TAU_CONTROL_FACTOR,
    SBCResult,
    plot_ecdf_difference,
    run_sbc,
    widened,
)

EXIT_SBC_REJECTED = 4
"""Exit status when a uniformity test rejects (the model's posterior is miscalibrated)."""

FAMILY_OUTCOMES = {name: info.sbc_outcome for name, info in FAMILIES.items()
                   if info.sbc_outcome}
"""Family -> outcome whose spec priors and bundled design the family is calibrated with."""

MIN_SIMS = 10


def result_record(result: SBCResult, table: StudyTable, spec_text: str, spec_path: str,
                  design: dict[str, Any]) -> dict[str, Any]:
    """Everything ``sbc_<family>.json`` holds."""
    pv = result.pvalues()
    passed = result.passed()
    ok_idx = [f["sim"] for f in result.fits if f["ok"]]
    failures = result.gate_failures()
    quantities = {}
    for q, ranks in result.ranks.items():
        entry = {"ecdf_p": pv[q]["ecdf"], "chisq_p": pv[q]["chisq"], "pass": passed[q],
                 "rank_counts_10_bins": np.bincount(ranks // 10, minlength=10).tolist(),
                 "ranks": ranks.tolist()}
        if failures and len(ok_idx) >= MIN_SIMS:
            from .sbc import ecdf_uniformity_pvalue

            entry["ecdf_p_converged_only"] = ecdf_uniformity_pvalue(ranks[ok_idx],
                                                                    result.max_rank)
        quantities[q] = entry
    return {
        "family": result.family,
        "outcome": result.outcome,
        "passed": all(passed.values()),
        "n_sims": result.n_sims,
        "max_rank": result.max_rank,
        "test": {
            "method": "simultaneous ECDF test for discrete uniformity (Säilynoja, Bürkner & "
                      "Vehtari 2022), null simulated with "
                      f"{N_NULL} rank sets; Pearson chi-square on 10 rank bins reported "
                      "alongside (not used for the verdict)",
            "alpha_familywise": ALPHA,
            "alpha_each": result.alpha_each,
            "bonferroni_over": list(result.ranks),
        },
        "quantities": quantities,
        "negative_controls": {
            "description": "ECDF p-values of ranks from deliberately wrong posteriors built "
                           "from the same thinned draws; the test should reject these",
            "p_values": result.negative_controls(),
        },
        "gate": {
            "failed": len(failures),
            "retried": sum(f["attempts"] > 1 for f in result.fits),
            "divergent_fits": sum(f["divergences"] > 0 for f in result.fits),
            "failures": [{"sim": f["sim"], "failures": f["failures"]} for f in failures],
            "note": "ranks of every simulated data set are used, including fits that failed "
                    "the convergence gate after the retry",
        },
        "priors": {k: str(v) for k, v in result.priors.items()},
        "design": design,
        "settings": {**result.settings.__dict__, "thinned_draws": result.max_rank},
        "fits": result.fits,
        "provenance": {
            "seed": result.seed,
            "data_path": table.path,
            "data_sha256": table.sha256,
            "spec_path": spec_path,
            "spec": spec_text,
            "seconds": round(result.seconds, 1),
            "versions": package_versions(),
            "command": command_line(),
        },
    }


def format_result(result: SBCResult) -> list[str]:
    """One line per quantity: ECDF and chi-square p-values and the verdict."""
    pv, passed = result.pvalues(), result.passed()
    failed = len(result.gate_failures())
    lines = [f"{result.family} ({result.outcome} priors): {result.n_sims} data sets, "
             f"{result.max_rank + 1} rank values, gate failures {failed}, "
             f"test level {result.alpha_each:.4g} per quantity "
             f"(family-wise {ALPHA} Bonferroni)"]
    for q in result.ranks:
        lines.append(f"  {q:<14} ECDF p = {pv[q]['ecdf']:.3f}   chi-square p = "
                     f"{pv[q]['chisq']:.3f}   {'PASS' if passed[q] else 'FAIL'}")
    return lines


def prior_control_record(control: SBCResult, factor: float) -> dict[str, Any]:
    """The power check of a run: SBC whose fit uses a τ prior ``factor`` times too wide.

    The same simulated data sets and fit seeds as the main run (same ``seed``), fitted with
    the widened prior (:func:`srsbayes.validation.sbc.widened`): the uniformity test should
    reject at the same Bonferroni level. ``rejected`` is False when SBC with this many data
    sets cannot see an error of that size.
    """
    pv = control.pvalues()
    rejected_by = [q for q, p in pv.items() if p["ecdf"] < control.alpha_each]
    fit = control.fit_priors or control.priors
    return {
        "description": f"SBC fitted with a tau prior {factor:g}x wider than the one the data "
                       f"are simulated from ({fit['tau']} vs {control.priors['tau']}); the "
                       "uniformity test should reject",
        "factor": factor,
        "simulated_prior": str(control.priors["tau"]),
        "fit_prior": str(fit["tau"]),
        "ecdf_p": {q: p["ecdf"] for q, p in pv.items()},
        "alpha_each": control.alpha_each,
        "rejected": bool(rejected_by),
        "rejected_by": rejected_by,
        "gate_failed": len(control.gate_failures()),
        "ranks": {q: r.tolist() for q, r in control.ranks.items()},
    }


def format_control(rec: dict[str, Any]) -> str:
    """One line: whether the τ-prior negative control was rejected, as it should be."""
    smallest = min(rec["ecdf_p"].items(), key=lambda kv: kv[1])
    verdict = ("rejected, as it should be" if rec["rejected"] else
               "NOT rejected: SBC with this many data sets misses an error of this size")
    return (f"  negative control (tau prior {rec['factor']:g}x too wide, {rec['fit_prior']}): "
            f"smallest ECDF p = {smallest[1]:.2g} ({smallest[0]}), {verdict}")


def run_validation(table: StudyTable, specs: dict, out: Path, *, n_sims: int, seed: int,
                   echo: Callable[[str], None] = print,
                   control_factor: float | None = TAU_CONTROL_FACTOR) -> bool:
    """Run SBC for every family and write ``sbc_<family>.json`` / ``.png`` into ``out``.

    With ``control_factor``, each family also runs the negative control of
    :func:`prior_control_record` (a second SBC run of ``n_sims`` fits), recorded under
    ``negative_controls.tau_prior`` and printed; it does not change the verdict (a test too
    weak to reject it has not found a miscalibration, it has shown its limit).

    Returns
    -------
    bool
        Whether every uniformity test passed.
    """
    if n_sims < MIN_SIMS:
        raise InputError(f"must be >= {MIN_SIMS}, got {n_sims}", column="--sims")
    all_passed = True
    for family, outcome in FAMILY_OUTCOMES.items():
        spec = specs[outcome]
        wide = outcome_table(table, spec)
        priors = resolve_priors(spec, wide)
        start = time.perf_counter()

        def progress(i: int, n: int, family: str = family, start: float = start) -> None:
            if i % max(1, n // 10) == 0 or i == n:
                print(f"  {family}: {i}/{n} fits ({time.perf_counter() - start:.0f} s)",
                      file=sys.stderr, flush=True)

        result = run_sbc(family, outcome, wide, priors, n_sims=n_sims, seed=seed,
                         settings=SBC_SETTINGS, progress=progress)
        design = {"studies": list(wide["study"]),
                  **{c: wide[c].tolist() for c in wide.columns
                     if c.startswith(("n_", "follow_up_months_", "median_months_"))}}
        record = result_record(result, table, spec.text, spec.path, design)
        control = None
        if control_factor:
            fit_priors = {**priors, "tau": widened(priors["tau"], control_factor)}
            control = prior_control_record(
                run_sbc(family, outcome, wide, priors, n_sims=n_sims, seed=seed,
                        settings=SBC_SETTINGS, progress=progress, fit_priors=fit_priors),
                control_factor)
            record["negative_controls"]["tau_prior"] = control
        write_json(out / f"sbc_{family}.json", record)
        write_with(out / f"sbc_{family}.png",
                   lambda tmp, r=result: plot_ecdf_difference(
                       r, lambda fig: fig.savefig(tmp, format="png", dpi=110)))
        echo("\n".join(format_result(result) + ([format_control(control)] if control else [])))
        all_passed &= record["passed"]
    return all_passed
