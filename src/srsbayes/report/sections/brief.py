"""The tumour-board brief: one printable page at the top of the report.

What a board needs before the technical report: the question, the evidence it rests on,
the summary-of-findings numbers (the primary absolute effect, the probability with the
condition it rests on, the certainty), the bottom line with its certainty and tipping
points, and what would change the answer. Every number is read from the same summaries
as the rest of the report (and formatted by the same functions), so the brief and the
report agree digit for digit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...draws import pct
from ..document import UL, Block, Box, H, Inline, P, S, Section, Table
from ..vocabulary import family_of
from ..wording import absolute_cell, ci, tipping_text
from .summary import CONDITION, certainty_words, n_patients

if TYPE_CHECKING:
    from ..model import OutcomeReport, Report

def _row(o: OutcomeReport) -> list[Inline]:
    s = o.summary
    if not o.ok or not s:
        return [o.spec.label, S("no result (did not converge or not run)", "fail"),
                "—", "—", "—", "—"]
    absolute = absolute_cell(s)
    tip = tipping_text(s)
    return [S(o.spec.label, "b", f"#{o.spec.id}"),
            f"{family_of(s).measure_abbrev} {ci(s['effect'])}", absolute,
            [S(pct(s["prob_benefit"]), "b"), f" {CONDITION}"],
            certainty_words(o).replace("certainty of evidence ", ""),
            tip if tip else ("no conclusion of benefit to tip" if tip == ""
                             else "not computed in this run")]


def brief_table(report: Report) -> Table:
    """One row per outcome: the numbers of the bottom line and the SoF table."""
    t = report.the_question.treatment
    head = ["Outcome", "Relative effect (95% CrI)",
            f"Absolute effect of {t.short} (primary, 95% CrI)", f"P({t.word} better)",
            "Certainty (GRADE)", "Tipping point (shared bias)"]
    return Table(head, [_row(o) for o in report.outcomes], cls="summary brief")


def _changes(report: Report) -> list[Inline]:
    """What would change the answer: bias, priors, correlation between outcomes, data."""
    items: list[Inline] = []
    tips = [(o, tipping_text(o.summary)) for o in report.outcomes if o.ok and o.summary]
    shown = [f"{o.spec.label.lower()}: {t}" for o, t in tips if t]
    items.append("Confounding or other bias shared by the cohorts: "
                 + ("; ".join(shown) if shown else
                    "the tipping points were not computed in this run (see each outcome's "
                    "bias-adjusted probability)") + ".")
    fragile = [o.spec.label.lower() for o in report.outcomes if o.ok and o.sweep.available
               and o.sweep.overall.get("robust") is False]
    named = (", ".join(fragile[:-1]) + " and " + fragile[-1]) if len(fragile) > 1 else \
        "".join(fragile)
    items.append([("A sceptical prior: the conclusion for " + named + " changes under it "
                   if fragile else
                   "A sceptical prior changes no conclusion "),
                  "(", S("defined in Methods", "", "#methods-sceptical"), ")."])
    nb = None if report.certainty is None else report.certainty.net_benefit
    if nb is not None and nb.available:
        items.append("Correlation between the outcomes (the same cohorts report them): the "
                     "net-benefit verdict " + (
                         f"changes from ρ = {nb.tipping_rho:g}" if nb.tipping_rho is not None
                         else "holds for every ρ up to 0.99") + ".")
    items.append("Randomised evidence, or cohorts with risk-of-bias judgements: every "
                 "probability here assumes the published numbers are right and the cohorts "
                 "comparable (see the evidence audit).")
    return items


def brief_section(report: Report) -> list[Block]:
    """Registered builder: the brief, before the bottom line."""
    known = [n for n in map(n_patients, report.outcomes) if n is not None]
    evidence = (f"{len(report.studies)} comparative cohort studies"
                + (f" ({max(known)} patients)" if known else "")
                + ", no randomised trial; outcomes fitted with Bayesian random-effects "
                "models. Absolute effects are per 100 patients at the stated "
                f"{report.the_question.control.word} risk "
                "(the studies' pooled risk unless a risk was stated).")
    return [Section("sec-brief", [Box("brief", [
        H(2, "Tumour-board brief", "brief"),
        P([S("Question. ", "b"), report.the_question.ask]),
        P([S("Evidence. ", "b"), evidence]),
        brief_table(report),
        P([S("What would change the answer. ", "b")]),
        UL(_changes(report)),
        P("The bottom line follows; the full technical report is below it.", "small"),
    ])])]
