"""The source paper's pooled values and claims against the posterior.

:func:`srsbayes.analysis.paper.compare_claims` computes, per claim, the posterior
quantities that answer it (relative risk reduction, P(difference within the region of
practical equivalence), P(benefit)); :func:`claim_assessment` words them. A posterior
has no notion of significance, so "significantly" claims are answered with P(benefit)
and the interval, and absence of a difference is never read as similarity unless the
equivalence probability reaches the decision probability (Kruschke 2018).

References
----------
Kruschke JK (2018). Rejecting or accepting parameter values in Bayesian estimation.
Adv Methods Pract Psychol Sci 1:270-280.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ...inputs.question import Question, asked
from ..document import Block, H, Inline, P, S, Table
from ..text import pct, verb
from ..vocabulary import MEASURES
from ..wording import ci, ratio_name

if TYPE_CHECKING:
    from ...analysis.results import ClaimAnswer, Equivalence
    from ...inference.summaries import FitSummary
    from ...inputs.specs import OutcomeSpec
    from ..model import Report


def _reduction(e: ClaimAnswer) -> str:
    r, target = e.rrr, e.target
    assert r is not None and target is not None  # a reduction claim has both
    lo, hi = r.ci95
    inside = lo <= target <= hi
    return (f"Posterior relative risk reduction {100 * r.median:.0f}% (95% CrI "
            f"{100 * lo:.0f}% to {100 * hi:.0f}%); probability that it is at least "
            f"{100 * target:.0f}%: {pct(e.prob_at_least)}. The paper's value is "
            f"{'within' if inside else 'outside'} the credible interval, which is wide; "
            "the paper gave no interval at all.")


def _significance(s: FitSummary, p: float, dp: float, eff: str, t: str) -> str:
    if p >= dp:
        return (f"The direction is supported: a {pct(p)} probability that {t} "
                f"{verb(s)} ({eff}). The paper reports no test or interval behind "
                "'significantly'.")
    return (f"Not supported at the {100 * dp:.0f}% level: a {pct(p)} probability that "
            f"{t} {verb(s)} ({eff}).")


def equivalence_region(eq: Equivalence) -> str:
    """The region of practical equivalence of :func:`srsbayes.analysis.outcome.equivalence`
    in words, e.g. "the odds ratio lies between 0.80 and 1.25"."""
    thr = eq.threshold
    margin = abs(math.log(thr)) if thr > 0 else 0.0  # ratio measures: 1/r to r
    return MEASURES[eq.measure].equivalence.format(thr=thr, lo=math.exp(-margin),
                                                     hi=math.exp(margin))


def _equivalence(s: FitSummary, eq: Equivalence | None, p: float, dp: float,
                 eff: str, t: str) -> str:
    if eq is None:
        return f"A {pct(p)} probability that {t} {verb(s)} ({eff})."
    text = f"A {pct(eq.probability)} probability that {equivalence_region(eq)}"
    if eq.probability >= dp:
        return text + "; the data support similarity."
    return (text + f", and a {pct(p)} probability that {t} {verb(s)} "
            f"({eff}). Not showing a difference is not evidence of similarity: the data "
            "remain compatible with clinically relevant differences.")


def claim_assessment(spec: OutcomeSpec, s: FitSummary, e: ClaimAnswer,
                     question: Question | None = None) -> str:
    """What the posterior says about one of the paper's claims (factual, no verdict on
    'significance', which a posterior does not have).

    Parameters
    ----------
    spec
        The outcome's spec (its decision probability).
    s
        The fit's summary.
    e
        One entry of :func:`srsbayes.analysis.paper.compare_claims`.
    question
        The review question whose treatment arm is named (default: the bundled one).
    """
    p, dp = s["prob_benefit"], spec.decision_probability
    t = asked(question).treatment.label
    eff = f"pooled {ratio_name(s)} {ci(s['effect'])}"
    kind = e.kind
    if kind == "reduction":
        return _reduction(e)
    if kind == "significance":
        return _significance(s, p, dp, eff, t)
    if kind == "equivalence":
        return _equivalence(s, e.equivalence, p, dp, eff, t)
    return f"A {pct(p)} probability that {t} {verb(s)} ({eff})."


def _pooled_rows(report: Report) -> list[list[Inline]]:
    rows = []
    for o in report.outcomes:
        for c in o.pooled:
            ours = c.ours
            if not o.ok:
                ours_text: Inline = S("no result (not trustworthy)", "na")
            elif ours:
                ours_text = ci(ours, "{:.1f}" + c.unit)
            else:
                ours_text = "—"
            rows.append([o.spec.label, c.arm, c.paper_text, ours_text])
    return rows


def _claim_rows(report: Report) -> list[list[Inline]]:
    rows = []
    for o in report.outcomes:
        for c in o.claims:
            said: Inline = (claim_assessment(o.spec, o.summary, c, report.the_question)
                            if o.summary and o.ok
                            else S("no result (not trustworthy)", "na"))
            rows.append([o.spec.label, [S(f"“{c.quote}”", "i"),
                                        S(f" — {c.source}", "muted")], said])
    return rows


def paper_comparison(report: Report) -> list[Block]:
    """The paper's pooled rows and claims beside the posterior (bundled data only)."""
    blocks: list[Block] = [H(3, "The paper's numbers and claims against the posterior",
                             "paper")]
    if not report.paper_compared:
        blocks.append(P("Not compared: the source paper's pooled values and claims describe "
                        "the bundled data, not this study table."))
        return blocks
    prow = _pooled_rows(report)
    if prow:
        blocks.append(P("The paper's 'Pooled' rows are unweighted means of the study values "
                        "(see pooled_mean above). The model's values are the pooled absolute "
                        "values for a new population like the studies', with 95% CrI."))
        blocks.append(Table(["Outcome", "Arm", "Paper's pooled value",
                             "Model: posterior median (95% CrI)"], prow, cls="compact"))
    crow = _claim_rows(report)
    if crow:
        blocks.append(Table(["Outcome", "The paper says", "The posterior says"], crow,
                            cls="claims"))
    return blocks
