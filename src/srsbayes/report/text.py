"""Plain-language wording of results, shared by the CLI and the report.

Probabilities are stated as probabilities ("a 97% probability that ..."); nothing is
called "significant". A fit that failed its convergence gate is never worded as a result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..draws import pct
from ..inputs.question import Question, asked
from .vocabulary import (
    MEASURES,
    absolute_wording,
    family_of,
    has_absolute,
    threshold_fields,
)

if TYPE_CHECKING:
    from ..inference.summaries import FitSummary


def interval(stats: dict[str, Any], fmt: str = "{:.2f}") -> str:
    lo, hi = stats["ci95"]
    return f"{fmt.format(stats['median'])} (95% CrI {fmt.format(lo)} to {fmt.format(hi)})"


def verb(s: FitSummary) -> str:
    """What 'benefit' means for this outcome, as a verb phrase."""
    wording = absolute_wording(s).verb  # e.g. survival: "lengthens {label}"
    if wording:
        return wording.format(label=s["label"].lower())
    event = s.get("event") or s["label"].lower()
    lower = s["benefit"] == "lower"
    # a contrast outcome's measure decides what its event is: a quantity (a mean
    # difference: "increases score gain"), a median time, or a risk, rate or hazard
    code = s.get("measure_code")
    if code == "mean_difference":
        return f"{'decreases' if lower else 'increases'} {event}"
    if code == "ratio_of_medians":
        return f"{'shortens' if lower else 'lengthens'} the median time to {event}"
    return f"lowers the risk of {event}" if lower else f"raises the rate of {event}"


ONE_STUDY = ("One study reports this outcome, so this is not a meta-analysis: the effect is "
             "that study's estimate, shrunk toward no effect by the effect prior; one study "
             "says nothing about heterogeneity (τ), so the prediction for a new setting comes "
             "from the between-study prior alone. Bias adjustment and certainty treat it as "
             "one study.")
"""What a one-study outcome's results are (the CLI and the report)."""


def one_study(s: FitSummary) -> bool:
    """Whether the fit rests on one study."""
    return s.get("n_studies") == 1


def headline(s: FitSummary, question: Question | None = None) -> str:
    """One sentence a clinician can read: the probability that the treatment arm (of
    ``question``; default: the bundled one) is better."""
    q = asked(question)
    if not s["ok"]:
        return (f"{s['label']}: NOT TRUSTWORTHY - the model did not converge "
                f"({'; '.join(s['diagnostics']['failures'])}); no result is reported.")
    return (f"There is a {pct(s['prob_benefit'])} probability that {q.treatment.label} "
            f"{verb(s)} compared with {q.control.label}.")


def threshold_sentence(s: FitSummary, t: dict[str, Any],
                       question: Question | None = None) -> str:
    m, thr = t["measure"], t["threshold"]
    what = MEASURES[m].sentence.format(**threshold_fields(thr, s["benefit"] == "lower",
                                                          family_of(s)),
                                       t_short=asked(question).treatment.short)
    return (f"P({what}) = {pct(t['probability'])} for the pooled effect, "
            f"{pct(t['probability_new_study'])} in a new setting like these studies.")


def describe_fit(s: FitSummary, question: Question | None = None) -> str:
    """Multi-line plain-text summary of a fit (what ``fit`` prints)."""
    d = s["diagnostics"]
    t, c = asked(question).treatment.word, asked(question).control.word
    lines = [f"{s['label']} ({s['outcome']}), {s['n_studies']} studies, "
             f"{s['family']} random-effects model"]
    if one_study(s):
        lines = [f"{s['label']} ({s['outcome']}), 1 study: NOT a meta-analysis "
                 f"({s['family']} model of one study)", "  " + ONE_STUDY]
    if not s["ok"]:
        lines += ["", "!!! CONVERGENCE GATE FAILED - these numbers are NOT a result !!!",
                  "    " + "; ".join(d["failures"]),
                  "    Try more --draws/--tune or different priors."]
        return "\n".join(lines)
    unit = family_of(s).measure_name
    lines += [
        f"  {'estimated' if one_study(s) else 'pooled'} {unit} ({t} vs {c}): "
        f"{interval(s['effect'])}",
        f"  heterogeneity tau: {interval(s['tau'])}",
        f"  {unit} in a new study: {interval(s['prediction'])}",
        "  " + headline(s, question),
    ]
    lines += ["  " + threshold_sentence(s, t, question) for t in s["thresholds"]]
    measure = family_of(s).absolute_measure
    if measure in s["absolute"] and has_absolute(s):
        lines.append("  " + MEASURES[measure].difference.format(
            interval(s["absolute"][measure], "{:+.1f}"), t=t, c=c)
            + f" for a new population ({c} level from the baseline model; secondary)")
    for i, at in enumerate(s.get("absolute_at_baseline", [])):
        # a published ratio's absolute effect at a stated risk is a risk difference
        key = "risk_difference" if "risk_difference" in at else measure
        lines.append("  " + MEASURES[key].difference.format(
            interval(at[key], "{:+.1f}"), t=t, c=c) + " " + at["label"]
            + (" (primary)" if i == 0 else ""))
    lines.append(f"  diagnostics: OK (R-hat {d['rhat_max']:.3f}, min ESS bulk "
                 f"{d['ess_bulk_min']:.0f} / tail {d['ess_tail_min']:.0f}, "
                 f"{d['divergences']} divergences, E-BFMI {d['bfmi_min']:.2f})")
    if s.get("ppc", {}).get("loo", {}).get("warning"):
        lines.append(f"  note: PSIS-LOO Pareto k up to {s['ppc']['loo']['pareto_k_max']:.2f} "
                     "(> 0.7): at least one study is highly influential.")
    for name, error in s.get("ppc", {}).get("errors", {}).items():
        lines.append(f"  note: the {'PSIS-LOO' if name == 'loo' else 'posterior-predictive'} "
                     f"check could not be computed ({error}).")
    return "\n".join(lines)
