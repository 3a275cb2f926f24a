"""The SoF table and the net benefit as plain text (``python -m srsbayes certainty``)."""

from __future__ import annotations

from .net_benefit import NetBenefit
from .run import CertaintyReport
from .sof import AbsoluteEffect, SoFRow


def _interval(lo: float, hi: float, fmt: str = ".2f") -> str:
    return f"{lo:{fmt}} to {hi:{fmt}}"


def absolute_text(a: AbsoluteEffect) -> str:
    """E.g. ``postop 125 vs preop 41 per 1,000 (84 fewer; difference 95% CrI -108 to -36)``."""
    d = a.difference
    if a.unit == "months":
        return (f"postop {a.control:.1f} vs preop {a.intervention.median:.1f} months "
                f"({d.median:+.1f}, 95% CrI {d.ci95[0]:+.1f} to {d.ci95[1]:+.1f}) "
                f"at the {a.baseline.label}")
    more = "more" if d.median >= 0 else "fewer"
    return (f"postop {a.control:.0f} vs preop {a.intervention.median:.0f} per 1,000 "
            f"({abs(d.median):.0f} {more}; difference 95% CrI {d.ci95[0]:+.0f} to "
            f"{d.ci95[1]:+.0f}) at the {a.baseline.label}")


def row_text(r: SoFRow) -> list[str]:
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
    lines += [f"  absolute: {absolute_text(a)}" for a in r.absolute]
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


def net_text(nb: NetBenefit) -> list[str]:
    """The lines of the net clinical benefit."""
    if not nb.available:
        return ["Net clinical benefit: " + nb.note]
    assert nb.net is not None and nb.p_net_positive is not None
    crit = " and ".join(f"{c['outcome']} benefit >= {c['min_benefit']:g}"
                        for c in nb.criteria)
    weights = ", ".join(f"{k} {w:g}" for k, w in (nb.weights or {}).items())
    return [
        "Net clinical benefit (preop vs postop)",
        f"  P({crit}) = {nb.p_all_criteria:.2f}",
        f"  weighted net benefit ({weights}): {nb.net.median:.1f} "
        f"(95% CrI {_interval(*nb.net.ci95, '.1f')}); P(> 0) = {nb.p_net_positive:.3f}: "
        f"{nb.verdict}",
        f"  weights: the verdict holds in {nb.holds_in} of {len(nb.sensitivity)} settings of "
        "the multiplier grid",
        f"  {nb.assumption}",
    ]


def format_text(report: CertaintyReport) -> str:
    """The whole report as text: SoF rows, then the net benefit."""
    lines = ["Summary of findings: preoperative vs postoperative SRS", ""]
    for r in report.rows:
        lines += [*row_text(r), ""]
    lines += net_text(report.net_benefit)
    return "\n".join(lines)
