"""``python -m srsbayes validate``: simulation-based calibration of every model family.

For each family the outcome whose priors and design are used is fixed
(:data:`FAMILY_OUTCOMES`): the binomial-normal model with the ``lmd`` spec and the
log-normal median model with the ``os`` spec, each with the four bundled studies' arm
sizes and follow-up; the contrast (normal-normal) model, which has no bundled outcome,
with the standard errors of the four bundled ``lmd`` log odds ratios and the priors of
:data:`~srsbayes.families.contrast.CONTRAST_SBC_PRIORS` (its ``sbc_design``). Per family it
writes ``sbc_<family>.json`` (ranks, p-values, negative controls, every fit's gate verdict,
provenance) and ``sbc_<family>.png`` (ECDF difference plot), every family's files as one unit
(:class:`srsbayes.outputs.OutputUnit`), and prints one PASS/FAIL line per checked quantity.

A family with an exact posterior (a ``normal_normal`` hook: the contrast family) also gets an
exact-posterior SBC of :data:`EXACT_SIMS_PER_SIM` times as many data sets, the PIT of the
truth under the quadrature posterior (``exact_posterior`` in its record,
``sbc_<family>_exact.png``); it is part of the verdict.

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
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..errors import InputError
from ..families import FAMILIES, get_family
from ..inference.fitting import resolve_priors
from ..inputs.data import StudyTable, outcome_table
from ..outputs import JSONObject, OutputUnit, write_json, write_with
from ..parallel import Backend
from ..provenance import provenance
from .sbc import (
    ALPHA,
    N_NULL,
    SBC_SETTINGS,
    TAU_CONTROL_FACTOR,
    ExactSBCResult,
    SBCResult,
    nuts_exact_agreement,
    plot_ecdf_difference,
    run_exact_sbc,
    run_sbc,
    sbc_design,
    widened,
)

EXIT_SBC_REJECTED = 4
"""Exit status when a uniformity test rejects (the model's posterior is miscalibrated)."""

FAMILY_OUTCOMES = {name: info.sbc_outcome for name, info in FAMILIES.items()
                   if info.sbc_outcome}
"""Family -> outcome whose spec priors and bundled design the family is calibrated with (or,
for a family with an ``sbc_design`` rule, whose bundled data its design is derived from)."""

MIN_SIMS = 10

EXACT_SIMS_PER_SIM = 5
"""Data sets of the exact-posterior SBC per NUTS data set (``--sims``): a quadrature
posterior costs about 5 ms against 0.3 s for a NUTS fit."""


def result_record(result: SBCResult, table: StudyTable, spec_text: str, spec_path: str,
                  design: JSONObject) -> JSONObject:
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
            **provenance(table=table,
                         specs=[SimpleNamespace(id=result.outcome, path=spec_path,
                                                text=spec_text)],
                         priors={result.outcome: result.priors}, seed=result.seed,
                         settings=result.settings.__dict__),
            "seconds": round(result.seconds, 1),
        },
    }


def format_result(result: SBCResult) -> list[str]:
    """One line per quantity: ECDF and chi-square p-values and the verdict."""
    pv, passed = result.pvalues(), result.passed()
    failed = len(result.gate_failures())
    lines = [f"{result.family} ({result.design}): {result.n_sims} data sets, "
             f"{result.max_rank + 1} rank values, gate failures {failed}, "
             f"test level {result.alpha_each:.4g} per quantity "
             f"(family-wise {ALPHA} Bonferroni)"]
    for q in result.ranks:
        lines.append(f"  {q:<14} ECDF p = {pv[q]['ecdf']:.3f}   chi-square p = "
                     f"{pv[q]['chisq']:.3f}   {'PASS' if passed[q] else 'FAIL'}")
    return lines


def prior_control_record(control: SBCResult | ExactSBCResult, factor: float) -> JSONObject:
    """The power check of a run: SBC whose fit uses a τ prior ``factor`` times too wide.

    The same simulated data sets and fit seeds as the main run (same ``seed``), fitted with
    the widened prior (:func:`srsbayes.validation.sbc.widened`): the uniformity test should
    reject at the same Bonferroni level. ``rejected`` is False when SBC with this many data
    sets cannot see an error of that size. For an exact-posterior SBC the "fit" is the
    exact posterior under the widened prior.
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
        **({"gate_failed": len(control.gate_failures())} if isinstance(control, SBCResult)
           else {}),
        "ranks": {q: r.tolist() for q, r in control.ranks.items()},
    }


def format_control(rec: JSONObject) -> str:
    """One line: whether the τ-prior negative control was rejected, as it should be."""
    smallest = min(rec["ecdf_p"].items(), key=lambda kv: kv[1])
    verdict = ("rejected, as it should be" if rec["rejected"] else
               "NOT rejected: SBC with this many data sets misses an error of this size")
    return (f"  negative control (tau prior {rec['factor']:g}x too wide, {rec['fit_prior']}): "
            f"smallest ECDF p = {smallest[1]:.2g} ({smallest[0]}), {verdict}")


def exact_record(exact: ExactSBCResult, nuts: SBCResult,
                 control: ExactSBCResult | None, factor: float | None) -> JSONObject:
    """The exact-posterior SBC of a family (``exact_posterior`` in ``sbc_<family>.json``)."""
    pv, passed = exact.pvalues(), exact.passed()
    rec: JSONObject = {
        "description": "PIT of the true theta and tau under the exact (quadrature) posterior "
                       "of srsbayes.inference.exact, which the gate checks every NUTS fit "
                       "of the family against; data set i is data set i of the NUTS run",
        "passed": all(passed.values()),
        "n_sims": exact.n_sims,
        "test": {
            "method": f"simultaneous ECDF test of the PIT in {exact.max_rank + 1} equal cells "
                      "(the verdict); Kolmogorov-Smirnov test of the continuous PIT "
                      "reported alongside",
            "alpha_familywise": ALPHA,
            "alpha_each": exact.alpha_each,
            "bonferroni_over": list(exact.pit),
        },
        "quantities": {q: {"ecdf_p": pv[q]["ecdf"], "ks_p": pv[q]["ks"], "pass": passed[q],
                           "pit": np.round(u, 6).tolist()} for q, u in exact.pit.items()},
        "nuts_agreement": nuts_exact_agreement(nuts, exact),
        "seconds": round(exact.seconds, 1),
    }
    if control is not None and factor:
        rec["negative_controls"] = {"tau_prior": prior_control_record(control, factor)}
    return rec


def format_exact(exact: ExactSBCResult, rec: JSONObject) -> list[str]:
    """Printed lines of the exact-posterior SBC: per quantity, its control, NUTS agreement."""
    lines = [f"{exact.family} exact posterior ({exact.design}): "
             f"{exact.n_sims} data sets, PIT of the truth under the quadrature posterior, "
             f"test level {exact.alpha_each:.4g} per quantity"]
    for q, e in rec["quantities"].items():
        lines.append(f"  {q:<14} ECDF p = {e['ecdf_p']:.3f}   KS p = {e['ks_p']:.3f}   "
                     f"{'PASS' if e['pass'] else 'FAIL'}")
    if "negative_controls" in rec:
        lines.append(format_control(rec["negative_controls"]["tau_prior"]))
    agree = rec["nuts_agreement"]
    lines.append(f"  NUTS vs exact: {agree['data_sets']} converged fits, "
                 f"{sum(agree['below_level'].values())} ranks unlikely under their exact PIT "
                 f"at level {agree['level_each']:.2g} (smallest binomial p = "
                 f"{agree['smallest_p']:.2g})")
    return lines


def run_validation(table: StudyTable, specs: dict, out: Path, *, n_sims: int, seed: int,
                   echo: Callable[[str], None] = print,
                   control_factor: float | None = TAU_CONTROL_FACTOR,
                   backend: Backend | None = None) -> bool:
    """Run SBC for every family and write ``sbc_<family>.json`` / ``.png`` into ``out``
    (together, when the last family is done).

    With ``control_factor``, each family also runs the negative control of
    :func:`prior_control_record` (a second SBC run of ``n_sims`` fits), recorded under
    ``negative_controls.tau_prior`` and printed; it does not change the verdict (a test too
    weak to reject it has not found a miscalibration, it has shown its limit).
    ``backend`` fits the data sets on Dask workers (:mod:`srsbayes.parallel`), with the
    same ranks as in this process.

    Returns
    -------
    bool
        Whether every uniformity test passed.
    """
    if n_sims < MIN_SIMS:
        raise InputError(f"must be >= {MIN_SIMS}, got {n_sims}", column="--sims")
    all_passed = True
    # the files of every family appear together when the last one is done, or not at all
    unit = OutputUnit(out, "validate", provenance(
        table=table, specs=[specs[o] for o in FAMILY_OUTCOMES.values()], seed=seed))
    with unit:
        stage = unit.folder()
        for family, outcome in FAMILY_OUTCOMES.items():
            spec = specs[outcome]
            table_wide = outcome_table(table, spec)
            wide, priors = sbc_design(family, table_wide, resolve_priors(spec, table_wide))
            start = time.perf_counter()

            def progress(i: int, n: int, family: str = family, start: float = start) -> None:
                if i % max(1, n // 10) == 0 or i == n:
                    print(f"  {family}: {i}/{n} fits ({time.perf_counter() - start:.0f} s)",
                          file=sys.stderr, flush=True)

            result = run_sbc(family, outcome, wide, priors, n_sims=n_sims, seed=seed,
                             settings=SBC_SETTINGS, progress=progress, backend=backend)
            design = get_family(family).sbc_design_record(wide)
            record = result_record(result, table, spec.text, spec.path, design)
            control = None
            if control_factor:
                fit_priors = {**priors, "tau": widened(priors["tau"], control_factor)}
                control = prior_control_record(
                    run_sbc(family, outcome, wide, priors, n_sims=n_sims, seed=seed,
                            settings=SBC_SETTINGS, progress=progress, fit_priors=fit_priors,
                            backend=backend),
                    control_factor)
                record["negative_controls"]["tau_prior"] = control
            lines = format_result(result) + ([format_control(control)] if control else [])
            if get_family(family).has_exact_posterior:
                exact, record["exact_posterior"] = exact_validation(
                    result, wide, priors, n_sims=EXACT_SIMS_PER_SIM * n_sims,
                    control_factor=control_factor)
                record["passed"] = record["passed"] and record["exact_posterior"]["passed"]
                write_with(stage / f"sbc_{family}_exact.png",
                           lambda tmp, r=exact: plot_ecdf_difference(
                               r, lambda fig: fig.savefig(tmp, format="png", dpi=110)))
                lines += format_exact(exact, record["exact_posterior"])
            write_json(stage / f"sbc_{family}.json", record)
            write_with(stage / f"sbc_{family}.png",
                       lambda tmp, r=result: plot_ecdf_difference(
                           r, lambda fig: fig.savefig(tmp, format="png", dpi=110)))
            echo("\n".join(lines))
            all_passed &= record["passed"]
    return all_passed


def exact_validation(nuts: SBCResult, wide: Any, priors: dict, *, n_sims: int,
                     control_factor: float | None) -> tuple[ExactSBCResult, JSONObject]:
    """The exact-posterior SBC of ``nuts``'s family (same seed, so its first data sets are
    those of the NUTS run) and its τ-prior control; returns the result and its record."""
    exact = run_exact_sbc(nuts.family, nuts.outcome, wide, priors, n_sims=n_sims,
                          seed=nuts.seed)
    control = None
    if control_factor:
        control = run_exact_sbc(
            nuts.family, nuts.outcome, wide, priors, n_sims=n_sims, seed=nuts.seed,
            fit_priors={**priors, "tau": widened(priors["tau"], control_factor)})
    return exact, exact_record(exact, nuts, control, control_factor)
