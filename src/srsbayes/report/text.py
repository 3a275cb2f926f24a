"""Plain-language wording of results, shared by the CLI and the report.

Probabilities are stated as probabilities ("a 97% probability that ..."); nothing is
called "significant". A fit that failed its convergence gate is never worded as a result.
"""

from __future__ import annotations

from typing import Any

from ..draws import pct
from .vocabulary import (
    MEASURES,
    absolute_wording,
    family_of,
    has_absolute,
    threshold_fields,
)


def interval(stats: dict[str, Any], fmt: str = "{:.2f}") -> str:
    lo, hi = stats["ci95"]
    return f"{fmt.format(stats['median'])} (95% CrI {fmt.format(lo)} to {fmt.format(hi)})"


def verb(s: dict[str, Any]) -> str:
    """What 'benefit' means for this outcome, as a verb phrase."""
    wording = absolute_wording(s).verb  # e.g. survival: "lengthens {label}"
    if wording:
        return wording.format(label=s["label"].lower())
    event = s.get("event") or s["label"].lower()
    return (f"lowers the risk of {event}" if s["benefit"] == "lower"
            else f"raises the rate of {event}")


def headline(s: dict[str, Any]) -> str:
    """One sentence a clinician can read: the probability that preop SRS is better."""
    if not s["ok"]:
        return (f"{s['label']}: NOT TRUSTWORTHY - the model did not converge "
                f"({'; '.join(s['diagnostics']['failures'])}); no result is reported.")
    return (f"There is a {pct(s['prob_benefit'])} probability that preoperative SRS "
            f"{verb(s)} compared with postoperative SRS.")


def threshold_sentence(s: dict[str, Any], t: dict[str, Any]) -> str:
    m, thr = t["measure"], t["threshold"]
    what = MEASURES[m].sentence.format(**threshold_fields(thr, s["benefit"] == "lower",
                                                          family_of(s)))
    return (f"P({what}) = {pct(t['probability'])} for the pooled effect, "
            f"{pct(t['probability_new_study'])} in a new setting like these studies.")


def describe_fit(s: dict[str, Any]) -> str:
    """Multi-line plain-text summary of a fit (what ``fit`` prints)."""
    d = s["diagnostics"]
    lines = [f"{s['label']} ({s['outcome']}), {s['n_studies']} studies, "
             f"{s['family']} random-effects model"]
    if not s["ok"]:
        lines += ["", "!!! CONVERGENCE GATE FAILED - these numbers are NOT a result !!!",
                  "    " + "; ".join(d["failures"]),
                  "    Try more --draws/--tune or different priors."]
        return "\n".join(lines)
    unit = family_of(s).measure_name
    lines += [
        f"  pooled {unit} (preop vs postop): {interval(s['effect'])}",
        f"  heterogeneity tau: {interval(s['tau'])}",
        f"  {unit} in a new study: {interval(s['prediction'])}",
        "  " + headline(s),
    ]
    lines += ["  " + threshold_sentence(s, t) for t in s["thresholds"]]
    measure = family_of(s).absolute_measure
    if measure in s["absolute"] and has_absolute(s):
        lines.append("  " + MEASURES[measure].difference.format(
            interval(s["absolute"][measure], "{:+.1f}"))
            + " for a new population (postop level from the baseline model; secondary)")
    for i, at in enumerate(s.get("absolute_at_baseline", [])):
        lines.append("  " + MEASURES[measure].difference.format(
            interval(at[measure], "{:+.1f}")) + " " + at["label"]
            + (" (primary)" if i == 0 else ""))
    lines.append(f"  diagnostics: OK (R-hat {d['rhat_max']:.3f}, min ESS bulk "
                 f"{d['ess_bulk_min']:.0f} / tail {d['ess_tail_min']:.0f}, "
                 f"{d['divergences']} divergences, E-BFMI {d['bfmi_min']:.2f})")
    if s.get("ppc", {}).get("loo", {}).get("warning"):
        lines.append(f"  note: PSIS-LOO Pareto k up to {s['ppc']['loo']['pareto_k_max']:.2f} "
                     "(> 0.7): at least one study is highly influential.")
    return "\n".join(lines)
