"""The README's results table, generated from a report (``results_table.md``).

The README quotes the bundled results; typing them by hand let it drift from the report
(a probability rounded differently, an absolute effect at another baseline). ``report``
writes this table beside ``index.html``, with the digits of the bottom line and the
summary-of-findings table (the same formatting functions), for the README to paste.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..draws import pct
from ..inputs.question import Question, asked, bundled_question
from .sections.summary import CONDITION
from .vocabulary import family_of
from .wording import absolute_cell, ci, tipping_text

if TYPE_CHECKING:
    from .model import OutcomeReport, Report



def header(question: Question | None = None) -> str:
    """The table's header row, the arms worded as in ``question`` (default: the bundled
    one)."""
    t, c = asked(question).treatment, asked(question).control
    return (f"| outcome | pooled effect, {t.word} vs {c.word} (95% CrI) | absolute effect of "
            f"{t.short} (primary; 95% CrI) | P({t.word} better), " + CONDITION
            + " | bias-adjusted P | robust to priors? | certainty (GRADE) | tipping point "
            "(shared bias) |")


HEADER = header(bundled_question())
"""The header of the bundled question's table (the README's)."""


def _robust(o: OutcomeReport) -> str:
    sw = o.sweep
    if not sw.available or sw.robust is None:
        return "not assessed"
    meets = o.summary.prob_benefit >= o.spec.decision_probability
    if sw.robust:
        return "yes" if meets else "yes (inconclusive everywhere)"
    return "no: depends on the prior (the sceptical prior)"


def _bias_adjusted(o: OutcomeReport) -> str:
    row = next((r for r in o.sweep.rows if r.get("kind") == "bias"), None)
    if row is None or not row.get("ok"):
        return "—"
    return pct(float(row["prob_benefit"]))


def _row(o: OutcomeReport) -> str:
    s = o.summary
    if not o.ok:
        return f"| {o.spec.label} | no result (did not converge) | — | — | — | — | — | — |"
    level = o.certainty.certainty.level if o.certainty is not None else None
    cells = [o.spec.label, f"{family_of(s).measure_abbrev} {ci(s['effect'])}",
             absolute_cell(s), pct(s["prob_benefit"]), _bias_adjusted(o), _robust(o),
             level or "not rated", tipping_text(s) or "—"]
    return "| " + " | ".join(cells) + " |"


def results_table(report: Report) -> str:
    """The README's results table (Markdown) of ``report``."""
    head = header(report.the_question)
    sep = "|" + "---|" * head.count(" | ") + "---|"
    return "\n".join([head, sep, *(_row(o) for o in report.outcomes)]) + "\n"
