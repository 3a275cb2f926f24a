"""The top of the report: title line, bottom line, summary table and contents."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...families.measures import pooled_note
from ...status import Status
from ..document import Block, Box, H, Inline, P, S, Section, Table, join
from ..text import pct, verb
from ..vocabulary import family_of, has_absolute
from ..wording import (
    absolute_text,
    ci,
    given,
    opposite,
    short_absolute,
    threshold_label,
    tipping_text,
)
from .audit import checks_with_problems, severity_counts

if TYPE_CHECKING:
    from ..model import OutcomeReport, Report


def n_patients(o: OutcomeReport) -> int | None:
    """Patients in the outcome's studies (both arms), or None when a row gives no ``n``
    (it is optional on a contrast row)."""
    ns = [r["n"] for r in o.count_table]
    if not all(given(n) for n in ns):
        return None
    return int(sum(ns))


def patients_text(o: OutcomeReport) -> str:
    """The outcome's patients for a table cell: a count or "patients not reported"."""
    n = n_patients(o)
    return "patients not reported" if n is None else str(n)


def n_studies(o: OutcomeReport) -> int:
    """Studies reporting the outcome."""
    return len({r["study"] for r in o.count_table})


def subtitle(report: Report) -> list[Block]:
    """The line under the title: data file, source paper, sha256, seed and date.

    The source paper is the review question's (:mod:`srsbayes.inputs.question`): named for
    the bundled data, which were transcribed from it, or when a question was given."""
    sub: list[Inline] = ["Bayesian re-analysis of ",
                         S(report.table.path.rsplit("/", 1)[-1], "code")]
    if report.bundled or report.question is not None:
        sub += [", transcribed from ", S(report.the_question.source, "i")]
    sub += [f". Data sha256 {report.table.sha256[:12]}…, seed {report.settings.seed}, "
            f"generated {report.created}."]
    return [P(sub, "sub")]


def _outcome_groups(report: Report) -> tuple[list, list, list, list]:
    """Outcomes with convincing benefit, convincing harm, inconclusive, and no result."""
    good, bad, unsure, broken = [], [], [], []
    for o in report.outcomes:
        if not o.ok:
            broken.append(o)
            continue
        p, dp = o.summary.prob_benefit, o.summary.decision_probability
        (good if p >= dp else bad if p <= 1 - dp else unsure).append(o)
    return good, bad, unsure, broken


def _robustness_parts(report: Report) -> list[Inline]:
    """Which conclusions flip, and with what kind of setting (priors, data, coding, ...)."""
    assessed = [o for o in report.outcomes if o.ok and o.sweep.available
                and o.sweep.overall.get("assessable")]
    fragile = [o for o in assessed if o.sweep.overall.get("robust") is False]
    if fragile:
        named = [f"{o.spec.label.lower()} ("
                 + (o.sweep.overall.get("range_text")
                    or f"it flips with {o.sweep.overall.get('flip_what') or 'the priors'}")
                 + ")" for o in fragile]
        return [S("Not robust: ", "warn"), *join(named), ". "]
    if assessed and len(assessed) == sum(o.ok for o in report.outcomes):
        if not any(o.sweep.overall.get("n_failed", 0) for o in assessed):
            return ["Each conclusion holds in every sensitivity setting tried. "]
        return ["Each conclusion holds in every sensitivity setting that passed the "
                "convergence gate (some did not; a flip may hide among them). "]
    return ["Sensitivity was not assessed for every outcome. "]


def _pooled(s: dict) -> str:
    """``; <what was pooled>`` when it is not simply the outcome's measure, else ``""``."""
    note = pooled_note(s)
    return f"; {note}" if note else ""


CONDITION = "if the cohorts were free of confounding"
"""The condition every probability of the bottom line rests on: it comes from unadjusted
observational cohorts, so it is stated beside the number, not in a footnote."""


def certainty_words(o: OutcomeReport) -> str:
    """``certainty of evidence: very low`` (GRADE), or that it was not rated."""
    level = None if o.certainty is None else o.certainty.certainty.level
    return f"certainty of evidence {level}" if level else "certainty not rated"


def _tipping(s: dict) -> str:
    """``; tipping point: ...`` when the summary carries the bias tipping points."""
    tip = tipping_text(s)
    return f"; tipping point: {tip}" if tip else ""


def bottom_line_parts(report: Report) -> list[Inline]:
    """The bottom line as one paragraph: convincing benefits and harms (P(benefit) at or
    beyond the spec's decision probability), inconclusive outcomes, failed fits,
    robustness and the audit's caveat."""
    good, bad, unsure, broken = _outcome_groups(report)
    q = report.the_question
    known = [n for n in map(n_patients, report.outcomes) if n is not None]
    n_pat = f" ({max(known)} patients)" if known else ""
    k = len(report.studies)
    parts: list[Inline] = [f"Across {k} stud{'y' if k == 1 else 'ies'}{n_pat}, "
                           f"compared with {q.control.label}: "]
    clauses: list[Inline] = []
    for o in good:
        s = o.summary
        clauses.append([S(f"a {pct(s['prob_benefit'])} probability", "b"),
                        f" that {q.treatment.label} {verb(s)} {CONDITION} "
                        f"({short_absolute(s)}{_pooled(s)}; {certainty_words(o)}{_tipping(s)})"])
    for o in bad:
        s = o.summary
        clauses.append([S(f"a {pct(1 - s['prob_benefit'])} probability", "b"),
                        f" that {q.treatment.label} {opposite(s)} {CONDITION} "
                        f"({short_absolute(s)}{_pooled(s)}; {certainty_words(o)}{_tipping(s)})"])
    if clauses:
        parts += ["there is ", *join(clauses), ". "]
    if unsure:
        dps = {o.summary.decision_probability for o in unsure}
        below = f" (probability of benefit below {pct(dps.pop())})" if len(dps) == 1 else ""
        parts.append(("The evidence is inconclusive" if clauses
                      else "the evidence is inconclusive") + f"{below} for ")
        parts += join([f"{o.spec.label.lower()} ({pct(o.summary['prob_benefit'])}"
                       f"{_pooled(o.summary)}; {certainty_words(o)})" for o in unsure])
        parts.append(". ")
    if broken:
        parts += ["No result for ", *join([o.spec.label.lower() for o in broken]), ": ",
                  S("NOT TRUSTWORTHY", "fail"),
                  " (the model did not converge or could not be run). "]
    parts += _robustness_parts(report)
    sev = severity_counts(report.findings)
    if sev["warning"] or sev["error"]:
        parts += [S("Caution: ", "b"), f"the evidence audit found "
                  f"{checks_with_problems(report.findings)} (see ",
                  S("Evidence audit", "", "#audit"), "); these probabilities assume the "
                  "reported numbers are right."]
    return parts


def bottom_line(report: Report) -> list[Block]:
    """The bottom-line box."""
    return [Box("bottom", [H(2, "Bottom line", "bottom-line"),
                           P(bottom_line_parts(report), "lead")])]


def diag_badge(o: OutcomeReport) -> Inline:
    """The convergence gate's verdict for the summary table."""
    if o.status == Status.UNAVAILABLE:
        return S("NOT RUN", "na")
    if not o.ok:
        return S("FAIL — NOT TRUSTWORTHY", "fail")
    d = o.summary.diagnostics
    return [S("PASS", "pass"), S(f"R-hat {d.rhat_max:.3f}, ESS ≥ "
                                 f"{min(d.ess_bulk_min, d.ess_tail_min):.0f}, "
                                 f"{d.divergences} divergences", "sub")]


def robust_badge(o: OutcomeReport) -> Inline:
    """The sweep's verdict for the summary table (which way the conclusion holds)."""
    if not o.ok:
        return "—"
    sw = o.sweep
    if not sw.available:
        return S("not assessed", "na")
    rule = f"{100 * o.spec.decision_probability:g}%"
    meets = o.summary.prob_benefit >= o.spec.decision_probability
    # The colour says what holds: green only for a benefit (or harm) that every prior
    # keeps; an outcome inconclusive under every prior is robustly *un*decided (neutral),
    # and one that changes with the prior is a warning, naming the sceptical prior.
    every = "every prior" if not sw.failed else "every converged prior"
    borderline = f" ({sw.borderline} borderline)" if sw.borderline else ""
    main: Inline
    if sw.robust is None:
        main = S("not assessable", "na")
    elif sw.robust and meets:
        main = S(f"Yes: ≥ {rule} under {every}{borderline}", "pass")
    elif sw.robust:
        main = S(f"Inconclusive (< {rule}) under {every}{borderline}", "na")
    else:
        main = [S(f"No: ≥ {rule} or not, depending on the prior", "warn"),
                S("see the sceptical prior", "", "#methods-sceptical")]
    if sw.data_robust is None:
        return main
    return [main, S("data (leave-one-out, rounding): "
                    + ("robust" if sw.data_robust else "NOT robust"), "sub")]


def _summary_row(o: OutcomeReport) -> list[Inline]:
    first: Inline = S(o.spec.label, "b", f"#{o.spec.id}")
    size = f"{n_studies(o)} ({patients_text(o)})"
    if not o.ok:
        why = ("NOT TRUSTWORTHY — did not converge; no result" if o.status == Status.FAILED
               else f"not analysed: {o.message}")
        return [first, size, S(why, "fail" if o.status == Status.FAILED else "na"),
                "—", "—", "—", robust_badge(o), diag_badge(o)]
    s = o.summary
    thr = [f"{threshold_label(s, t)}: {pct(t['probability'])}" for t in s["thresholds"]]
    return [first, size, f"{family_of(s).measure_abbrev} {ci(s['effect'])}",
            "; ".join(absolute_text(s, label="")) or (
                "—" if has_absolute(s) else "not estimable from contrasts"),
            S(pct(s["prob_benefit"]), "b"), "; ".join(thr) or "—",
            robust_badge(o), diag_badge(o)]


def summary_table(report: Report) -> Table:
    """One row per outcome: effect, absolute effect, probabilities, robustness, gate."""
    head = ["Outcome", "Studies (patients)", "Pooled effect (95% CrI)",
            f"Absolute effect of {report.the_question.treatment.short} (95% CrI)", "P(benefit)",
            "P(clinically meaningful benefit)",
            "Robust across priors", "Diagnostics"]
    return Table(head, [_summary_row(o) for o in report.outcomes], cls="summary")


def summary_section(report: Report) -> list[Block]:
    """The summary section: the table and how to read it."""
    q = report.the_question
    return [Section("sec-summary", [
        H(2, "Summary", "summary"),
        summary_table(report),
        P([pooled_effect_note(report), " P(benefit): posterior probability that "
           f"{q.treatment.short} is better. "
          "Clinically meaningful: the smallest benefit the outcome's spec calls relevant "
          f"(see Methods); an absolute threshold is judged at the {q.control.word} level of a new "
          "population (the secondary absolute effect's baseline model). Robust: the "
          "sweep's verdict over alternative priors, among them a sceptical one (defined "
          "in Methods). "
          "Diagnostics: the convergence gate."], "small")])]


def pooled_effect_note(report: Report) -> str:
    """What the table's pooled effects are, measure by measure: a ratio below 1, or a
    difference below 0, means a lower value with the treatment arm."""
    t, c = report.the_question.treatment, report.the_question.control
    seen: dict[str, str] = {}
    for o in report.outcomes:
        if o.ok:
            fam = family_of(o.summary)
            seen.setdefault(fam.measure_name, f"{fam.measure_abbrev} = {fam.measure_name}")
    if not seen:
        return f"Pooled effect: {t.word} vs {c.word}."
    return (f"Pooled effect, {t.word} vs {c.word} (" + "; ".join(seen.values()) + "): a ratio "
            f"below 1, or a difference below 0, means a lower value with {t.short} (fewer "
            "events, or shorter survival).")
