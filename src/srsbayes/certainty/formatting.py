"""The SoF table and the net benefit as plain text (``python -m srsbayes certainty``)."""

from __future__ import annotations

from ..draws import directional, pct
from ..inputs.question import Question, asked
from .net_benefit import NetBenefit
from .run import CertaintyReport
from .sof import AbsoluteEffect, SoFRow


def _interval(lo: float, hi: float, fmt: str = ".2f") -> str:
    return f"{lo:{fmt}} to {hi:{fmt}}"


def effect_words(unit: str) -> tuple[str, str, str]:
    """``(more, fewer, suffix)`` of an absolute effect in ``unit``."""
    if unit == "months":
        return "months longer", "months shorter", " median OS"
    return "more", "fewer", f" {unit}"


def absolute_text(a: AbsoluteEffect, question: Question | None = None) -> str:
    """E.g. ``8.3 fewer per 100 patients (95% CrI 3.4 to 10.8 fewer): postop 12.5 vs preop
    4.2, at the pooled postop risk of the 4 studies (...)`` — the digits of the bottom line
    and the imprecision reason (:func:`srsbayes.draws.directional`, one decimal); the arms
    worded as in ``question`` (default: the bundled one)."""
    more, fewer, suffix = effect_words(a.unit)
    d = a.difference
    t, c = asked(question).treatment.word, asked(question).control.word
    return (directional(d.median, *d.ci95, more, fewer, unit=suffix)
            + f": {c} {a.control:.1f} vs {t} {a.intervention.median:.1f}, "
            f"at the {a.baseline.label}")


def new_population_text(r: SoFRow) -> str:
    """The secondary (new-population, predictive) absolute effect of a row, in words."""
    if r.new_population is None:
        return ""
    more, fewer, suffix = effect_words(r.new_population_unit)
    d = r.new_population
    return directional(d.median, *d.ci95, more, fewer, unit=suffix)


def row_text(r: SoFRow, question: Question | None = None) -> list[str]:
    """The lines of one outcome."""
    c = r.certainty
    head = f"{r.label} ({r.n_studies} studies, {r.n_patients} patients)"
    if not c.assessable:
        return [head, f"  certainty: {c.note}", f"  {r.statement}"]
    assert r.relative is not None
    lines = [head, f"  relative effect: {r.measure} {r.relative.median:.2f} "
                   f"(95% CrI {_interval(*r.relative.ci95)})"]
    if r.pooled_note:  # e.g. hazard ratios pooled as odds ratios
        lines.append(f"  pooled: {r.pooled_note}")
    lines += [f"  absolute (primary): {absolute_text(a, question)}" for a in r.absolute[:1]]
    lines += [f"  absolute: {absolute_text(a, question)}" for a in r.absolute[1:]]
    if r.new_population is not None:
        lines.append(f"  absolute (secondary): {new_population_text(r)}, for "
                     f"{r.new_population_conditional_on}")
    if r.absolute_note:  # e.g. published contrasts: no baseline to compute them at
        lines.append(f"  absolute: {r.absolute_note}")
    lines.append(f"  certainty: {c.level} (started {c.start}: {c.start_reason})")
    lines += [f"    - {reason}" for reason in c.reasons]
    noted = [d for d in c.domains if not d.change and d.rating not in ("not serious", "none")]
    lines += [f"    · {d.name}: {d.rating}: {d.reason}" for d in noted]
    for key in ("tipping_text", "reverse_bayes_text"):
        if c.tolerance and c.tolerance.get(key):
            lines.append(f"  {c.tolerance[key]}")
    lines.append(f"  {r.statement}")
    return lines


def net_text(nb: NetBenefit, question: Question | None = None) -> list[str]:
    """The lines of the net clinical benefit."""
    if not nb.available:
        return ["Net clinical benefit: " + nb.note]
    assert nb.net is not None and nb.p_net_positive is not None
    crit = " and ".join(f"{c['outcome']} benefit >= {c['min_benefit']:g}"
                        for c in nb.criteria)
    nested = nb.contains or {}
    weights = ", ".join(f"{k}{' without ' + '/'.join(nested[k]) if k in nested else ''} {w:g}"
                        for k, w in (nb.weights or {}).items())
    lines = [
        f"Net clinical benefit ({asked(question).treatment.word} vs "
        f"{asked(question).control.word})",
        f"  P({crit}) = {pct(nb.p_all_criteria or 0.0)} (outcomes independent)",
        f"  weighted net benefit ({weights}): {nb.net.median:.1f} {nb.unit} "
        f"(95% CrI {_interval(*nb.net.ci95, '.1f')}); P(> 0) = {pct(nb.p_net_positive)}: "
        f"{nb.verdict}",
        f"  weights: the verdict holds in {nb.holds_in} of {len(nb.sensitivity)} settings of "
        "the multiplier grid",
    ]
    lines += [f"  correlation rho = {c.rho:g}: P(all criteria) = {pct(c.p_all_criteria)}, "
              f"P(net > 0) = {pct(c.p_net_positive)}: {c.verdict}" for c in nb.correlation]
    lines.append("  tipping rho: " + (f"{nb.tipping_rho:g}" if nb.tipping_rho is not None
                                      else "none up to 0.99"))
    lines.append(f"  {nb.assumption}")
    return lines


def format_text(report: CertaintyReport, question: Question | None = None) -> str:
    """The whole report as text: SoF rows, then the net benefit (the arms worded as in
    ``question``; default: the bundled one)."""
    lines = [f"Summary of findings: {asked(question).comparison}", ""]
    for r in report.rows:
        lines += [*row_text(r, question), ""]
    lines += net_text(report.net_benefit, question)
    return "\n".join(lines)
