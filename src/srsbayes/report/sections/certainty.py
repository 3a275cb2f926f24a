"""Certainty of evidence: the summary-of-findings table (GRADE) and the net clinical
benefit, from a :class:`~srsbayes.certainty.CertaintyReport` the report carries as
``report.certainty`` (no section when it has none).

The SoF table follows Guyatt et al. (2011, J Clin Epidemiol 64:383): per outcome the
relative effect, absolute effects at the stated baselines, studies and patients, the
certainty with the reason for every level it moved, and GRADE's plain-language statement
(Santesso et al. 2020, J Clin Epidemiol 119:126).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...certainty.formatting import absolute_text, new_population_text
from ...inputs.question import Question, asked
from ..document import UL, Block, Box, Details, Fig, H, Inline, P, S, Section, Table

if TYPE_CHECKING:
    from ...certainty import CertaintyReport, SoFRow
    from ...certainty.net_benefit import NetBenefit
    from ..model import Report

NAME = "certainty"
HEAD = ["Outcome", "Relative effect (95% CrI)",
        "Absolute effect (primary: at the stated baseline risk)",
        "Absolute effect in a new population (secondary, predictive)", "Studies (patients)",
        "Certainty", "What happens"]
LEVEL_STYLE = {"high": "pass", "moderate": "pass", "low": "warn", "very low": "fail"}


def sof_row_cells(r: SoFRow, question: Question | None = None) -> list[Inline]:
    """The cells of one outcome's row."""
    c = r.certainty
    # n is optional on a contrast row: no patients counted means none reported
    studies = f"{r.n_studies} ({r.n_patients or 'patients not reported'})"
    if not c.assessable or r.relative is None:
        return [r.label, "—", "—", "—", studies, S(c.note, "fail"), r.statement]
    rel: Inline = (f"{r.measure} {r.relative.median:.2f} "
                   f"({r.relative.ci95[0]:.2f} to {r.relative.ci95[1]:.2f})")
    if r.pooled_note:  # e.g. hazard ratios pooled as odds ratios
        rel = [rel, S(f" ({r.pooled_note})", "muted")]
    absolute: list[Inline] = [r.absolute_note] if r.absolute_note else []
    for i, a in enumerate(r.absolute):
        absolute += (["; "] if i else []) + [absolute_text(a, question)]
    assert c.level is not None
    new = new_population_text(r) or "—"
    return [r.label, rel, absolute, new, studies, S(c.level, LEVEL_STYLE[c.level]),
            r.statement]


def absolute_note(report: CertaintyReport, question: Question | None = None) -> str:
    """What each absolute-effect column is conditional on, said once under the table."""
    c = asked(question).control.word
    cond = next((r.new_population_conditional_on for r in report.rows
                 if r.new_population_conditional_on), "")
    return ("Primary absolute effect: the summary-of-findings effect at the baseline named in "
            f"its cell (the studies' pooled {c} level unless one was stated), conditional on "
            "that baseline; the bottom line, the summary table, the imprecision rating and the "
            "net benefit use it. Secondary: the effect in " + (cond or "a new population")
            + "." )


def sof_table(report: CertaintyReport, question: Question | None = None) -> Table:
    """The summary-of-findings table."""
    return Table(HEAD, [sof_row_cells(r, question) for r in report.rows], "sof",
                 f"Summary of findings: {asked(question).comparison}")


def reasons(report: CertaintyReport) -> list[Block]:
    """Why each outcome has its certainty: where it started and every level it moved."""
    blocks: list[Block] = []
    for r in report.rows:
        c = r.certainty
        if not c.assessable:
            items: list[Inline] = [c.note]
        else:
            items = [f"started {c.start}: {c.start_reason}", *c.reasons]
            items += [f"{d.name}: {d.rating}: {d.reason}" for d in c.domains
                      if not d.change and d.rating not in ("not serious", "none")]
            items += [c.tolerance[k] for k in ("tipping_text", "reverse_bayes_text")
                      if c.tolerance and c.tolerance.get(k)]
        blocks += [P([S(r.label, "b"), f": {c.level or 'not assessable'}"]), UL(items)]
    return blocks


def net_benefit_statement(nb: NetBenefit) -> list[Inline]:
    """One paragraph for the top of the report (also usable in the bottom line)."""
    if not nb.available or nb.net is None:
        return [S("Net clinical benefit: ", "b"), nb.note]
    return [S("Net clinical benefit: ", "b"), net_benefit_words(nb)]


def net_benefit_words(nb: NetBenefit) -> str:
    """The net benefit in words: its criteria, value with its unit, verdict, weights and
    the verdict across the correlation between outcomes, with the tipping ρ."""
    from ...draws import pct

    assert nb.net is not None and nb.p_net_positive is not None
    crit = " and ".join(f"{c['outcome']} benefit ≥ {c['min_benefit']:g}" for c in nb.criteria)
    states = ", ".join(f"{k}{' without ' + '/'.join(v) if v else ''} × {w:g}"
                       for k, w in (nb.weights or {}).items()
                       for v in [(nb.contains or {}).get(k, ())])
    corr = "; ".join(f"ρ = {c.rho:g}: {pct(c.p_net_positive)}, {c.verdict}"
                     for c in nb.correlation)
    tip = (f"the verdict changes from ρ = {nb.tipping_rho:g}" if nb.tipping_rho is not None
           else "the verdict holds for every ρ up to 0.99")
    return ("At the baselines of the primary absolute effects: "
            f"P({crit}): {pct(nb.p_all_criteria or 0.0)} if the outcomes were independent; "
            f"weighted net benefit ({states}) {nb.net.median:.1f} {nb.unit} (95% CrI "
            f"{nb.net.ci95[0]:.1f} to {nb.net.ci95[1]:.1f}), P(> 0): "
            f"{pct(nb.p_net_positive)}: {nb.verdict}; the verdict holds in {nb.holds_in} of "
            f"{len(nb.sensitivity)} weight settings. Correlated outcomes (the same cohorts "
            f"report them; Gaussian copula, correlation ρ between the outcomes' benefits): "
            f"{corr}; {tip}. {nb.assumption}")


def certainty_blocks(report: CertaintyReport, question: Question | None = None
                     ) -> list[Block]:
    """The section's blocks for a :class:`~srsbayes.certainty.CertaintyReport` (the arms
    worded as in ``question``; default: the bundled one)."""
    from ...certainty.grade import TARGET
    from ...certainty.run import REFERENCES

    refs: list[Inline] = []
    for i, ref in enumerate(REFERENCES):
        refs += ([" "] if i else []) + [S(ref, "muted")]
    return [Section("sec-certainty", [
        H(2, "Summary of findings and certainty of evidence", NAME),
        sof_table(report, question),
        P(absolute_note(report, question), "small"),
        Box("note", [P(net_benefit_statement(report.net_benefit))]),
        Details("Why each certainty rating", reasons(report)),
        *funnel_figures(report),
        P([f"Certainty (GRADE) rates {TARGET}. ", refs], "small"),
    ])]


def funnel_figures(report: CertaintyReport) -> list[Block]:
    """A funnel plot for every outcome whose publication bias could be assessed (>= 10
    studies; :mod:`srsbayes.plots.funnel`), with the asymmetry test as its caption."""
    from ...plots.funnel import funnel_png

    figs: list[Block] = []
    for r in report.rows:
        d = next((d for d in r.certainty.domains if d.name == "publication bias"), None)
        if d is None or "funnel" not in d.values:
            continue
        test = d.reason.split(" (")[0]
        axis = f"Observed {r.measure} (log scale for ratios)"
        figs.append(Fig(f"{r.outcome}_funnel", funnel_png(d.values["funnel"], axis, test=test),
                        f"Funnel plot of {r.label}: observed effects against their "
                        f"standard errors ({d.values['n_studies']} studies)",
                        f"{r.label}: funnel plot. {d.reason}."))
    return figs


def certainty_section(report: Report) -> list[Block]:
    """Registered builder: nothing when the report carries no certainty results."""
    return [] if report.certainty is None else certainty_blocks(
        report.certainty, report.the_question)
