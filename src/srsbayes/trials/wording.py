"""What a trial analysis means, in sentences for a tumour board (the ``trial`` command's text
and the report's section "The trials under way" both read :meth:`TrialResult.as_dict`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..draws import pct
from ..inputs.question import Question, asked
from .assurance import SuccessRule

if TYPE_CHECKING:
    from ..outputs import JSONObject

MARTINGALE_Z = 3.0
"""Largest |z| at which the martingale check is read as agreeing (about 1 in 370 by chance)."""


def _pm(p: JSONObject) -> str:
    return f"{pct(p['value'])} (Monte Carlo error ±{100 * p['mcse']:.1f} points)"


def _arm_words(text: str, q: Question) -> str:
    """A verdict or choice of :meth:`TrialResult.as_dict` ("preop better", "postop"), which
    names the arms by their data codes, in the question's words."""
    for arm in q.arms:
        if text == arm.code or text.startswith(arm.code + " "):
            return arm.word + text[len(arm.code):]
    return text


def headline(d: JSONObject, question: Question | None = None) -> str:
    """One sentence: how likely the trial is to show a benefit (the arms worded as in
    ``question``; default: the bundled one)."""
    t, c = asked(question).treatment, asked(question).control
    who = d["design"]["id"] if d.get("design") else "A trial"
    r = d["success_rule"]  # its "meaning" names the bundled arm: worded here again
    rule = (SuccessRule(r["kind"], r["level"], r.get("text", "")).describe(t.word)
            if "kind" in r else r["meaning"])
    return (f"{who} ({d['n_preop']} {t.word}, {d['n_postop']} {c.word} patients) has a "
            f"{_pm(d['assurance'])} chance of showing a benefit of {t.short} on "
            f"{d['label'].lower()} ({rule}), given what the studies "
            "show today (assurance).")


def lines(d: JSONObject, question: Question | None = None) -> list[str]:
    """The result as short paragraphs of plain text."""
    q_ = asked(question)
    tr, co = q_.treatment.word, q_.control.word
    out = [headline(d, q_)]
    for p in d["power"]:
        if p["power"] is None:
            out.append(f"Power at the {p['at']}: not available ({p['note']}).")
        else:
            risk = ("" if p["control_risk"] is None
                    else f", {co} risk {100 * p['control_risk']:.1f}%")
            out.append(f"Power if the true effect were the {p['at'].replace('_', ' ')} "
                       f"({p['shown']:.3g}{risk}): "
                       f"{_pm(p['power'])}.")
    today, post = d["today"], d["post_trial"]
    q = post["p_benefit_quantiles"]
    v = post["verdicts"]
    out.append(
        f"Today P({tr} better) = {pct(today['p_benefit'])} "
        f"({_arm_words(today['verdict'], q_)} at the "
        f"decision probability {today['decision_probability']:g}). Once the trial is added to "
        f"the meta-analysis it would lie between {pct(q['0.05'])} and {pct(q['0.95'])} in 90% "
        f"of the simulated trials (median {pct(q['0.5'])}); the reading would be {tr} "
        f"better in {pct(v['preop better'])}, inconclusive in {pct(v['inconclusive'])} and "
        f"{co} better in {pct(v['postop better'])} of them: the trial changes today's "
        "reading with "
        f"probability {pct(post['p_verdict_changes'])}.")
    for t in post["thresholds"]:
        out.append(f"P(benefit reaches {t['measure'].replace('_', ' ')} {t['threshold']:g}): "
                   f"{pct(t['today'])} today, {pct(t['post_trial_mean'])} on average after the "
                   f"trial (90% of trials: {pct(t['post_trial_quantiles']['0.05'])} to "
                   f"{pct(t['post_trial_quantiles']['0.95'])}).")
    m = post["martingale"]
    # the preposterior mean must equal today's P (a martingale); say the check's result, not
    # the theory: with few simulations the MCSE of a mean of near-1 probabilities is unstable
    agree = abs(m["z"]) <= MARTINGALE_Z
    out.append(f"Check: the mean post-trial P({tr} better), {m['mean_post_trial']:.4f}, "
               + (f"equals today's {m['today']:.4f} within Monte Carlo error ({m['z']:+.1f} "
                  "MCSE), as it must." if agree else
                  f"differs from today's {m['today']:.4f} by {m['z']:+.1f} MCSE; it must agree "
                  "within Monte Carlo error, so run more simulations (--sims) before reading "
                  "the preposterior."))
    k = post["pareto_k"]
    why = ("over --max-refits" if k["refits_possible"] else
           "this outcome's model cannot take the trial as a study")
    out.append(f"Reweighting: Pareto k above {k['threshold']} in {k['n_above']} of {d['sims']} "
               f"simulated trials; {k['n_refitted']} refitted ({k['n_refit_failed']} failed the "
               f"convergence gate), {k['n_above_not_refitted']} not refitted ({why}).")
    val = d["value_of_information"]
    pop = ("" if val["population"] is None else
           f" For {val['population']:,.0f} patients: EVSI {val['evsi_population']:.3g}, "
           f"EVPI {val['evpi_population']:.3g}.")
    out.append(f"Value of the trial's information ({val['units']}; {val['weighting']}): "
               f"EVSI {val['evsi_per_patient']:.3g} (±{val['evsi_mcse']:.2g}) against EVPI "
               f"{val['evpi_per_patient']:.3g} per patient; today's choice is "
               f"{_arm_words(val['decision_today'], q_)}, and the trial would change it with "
               "probability "
               f"{pct(val['p_choice_changes'])}.{pop}")
    return out
