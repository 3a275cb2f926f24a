"""The trials under way: for each randomised trial of the trials file and each outcome its
endpoint covers, how likely it is to show a benefit (assurance, power), what the
meta-analysis would say after it (preposterior) and what its information is worth
(EVSI against EVPI). Shown when the report is asked for trials (``report --trials``),
from ``report.trials`` (the ``TrialResult.as_dict`` of :mod:`srsbayes.trials`); methods in
``docs/methods/trial.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...draws import pct
from ...trials.wording import lines
from ..document import Block, Details, H, Inline, P, S, Section, Table

if TYPE_CHECKING:
    from ..model import Report

NAME = "trials"
HEAD = ["Trial", "Outcome", "Patients ({t} + {c})", "Assurance", "P({t} better) today",
        "After the trial (90% of trials)", "Reading changes", "EVSI / EVPI per patient"]
"""Column heads; ``{t}`` and ``{c}`` are the arms' ``word`` of the review question."""
INTRO = ("Randomised trials of {comparison_short} are under way (those of the trials file, "
         "each with its public source below) and none has reported. "
         "For each, and each outcome its primary endpoint covers, the table gives the chance "
         "that it shows a benefit of {t_short} given today's evidence (assurance: its power "
         "averaged over what the studies say the effect may be, heterogeneity included), "
         "where today's probability that {t} is better would stand once its result is "
         "added to the meta-analysis, how often that would change today's reading, and the "
         "expected value of its information (EVSI) against the value of knowing the effect "
         "exactly (EVPI), in LMD-equivalent events avoided per patient. A small EVPI means "
         "that no trial could change the decision much; an EVSI close to the EVPI, that this "
         "trial resolves most of the decision's uncertainty.")


def _row(d: dict[str, Any]) -> list[Inline]:
    trial: Inline = d["design"]["id"]  # the report links nothing outside itself
    if "missing" in d:
        return [trial, d["label"], S(d["missing"], "warn"), "—", "—", "—", "—", "—"]
    a, post, val = d["assurance"], d["post_trial"], d["value_of_information"]
    q = post["p_benefit_quantiles"]
    return [trial, d["label"], f"{d['n_preop']} + {d['n_postop']}",
            f"{pct(a['value'])} (±{100 * a['mcse']:.1f})", pct(d["today"]["p_benefit"]),
            f"{pct(q['0.05'])} to {pct(q['0.95'])}", pct(post["p_verdict_changes"]),
            f"{val['evsi_per_patient']:.2g} / {val['evpi_per_patient']:.2g}"]


def trials_section(report: Report) -> list[Block]:
    """The section, or nothing when the report was not asked for trials."""
    trials = report.trials
    if not trials:
        return []
    q = report.the_question
    words = {"t": q.treatment.word, "c": q.control.word, "t_short": q.treatment.short,
             "comparison_short": q.comparison_short}
    blocks: list[Block] = [H(2, "The trials under way", "trials"), P(INTRO.format(**words)),
                           Table([h.format(**words) for h in HEAD],
                                 [_row(d) for d in trials], "trials",
                                 f"Randomised trials of {q.comparison_short}: what they may "
                                 "show")]
    for d in trials:
        if "missing" in d:
            continue
        design = d["design"]
        detail: list[Block] = [P(f"{design['title']}; {design['status']}; source: "
                                 f"{design['source']}."),
                               P(f"Primary endpoint (verbatim): {design['endpoint']}"),
                               P(f"How it is simulated: {design['endpoint_match']}; "
                                 f"{d['trial_result']}; size: {d['size_source']}.")]
        detail += [P(x) for x in lines(d, q)]
        blocks.append(Details(f"{design['id']}: {d['label']}", detail))
    return [Section("sec-trials", blocks)]
