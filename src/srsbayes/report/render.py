"""Render a :class:`srsbayes.report.Report` as one self-contained HTML page and as Markdown.

The content is built once as a small document tree (headings, paragraphs, tables,
figures, call-out boxes) whose text is plain strings; the two writers escape every
string when they emit it, so text from data (study labels, covariates, sources, claims)
can never become markup. The HTML embeds its figures as ``data:`` URIs, carries its
style sheet inline, has no script and declares a Content-Security-Policy that forbids
any fetch: opening it contacts nothing.
"""

from __future__ import annotations

import base64
import html
import inspect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..families import get_family
from ..inference.diagnostics import BFMI_MIN, ESS_MIN, PARETO_K_WARN, RHAT_MAX
from .text import pct, verb

if TYPE_CHECKING:
    from ..inputs.specs import OutcomeSpec
    from .build import OutcomeReport, Report

# ---------------------------------------------------------------------------------------
# Document tree


@dataclass
class S:
    """Styled inline text: ``b`` bold, ``i`` italic, ``code``, ``pass``/``fail``/``warn``/
    ``na`` status badges, ``muted``; ``href`` makes an in-page link (``#id`` only)."""

    text: str
    style: str = ""
    href: str = ""


Inline = str | S | Sequence["Inline"]


@dataclass
class H:
    level: int
    text: str
    id: str = ""


@dataclass
class P:
    content: Inline
    cls: str = ""


@dataclass
class UL:
    items: list[Inline]


@dataclass
class Table:
    head: list[Inline]
    rows: list[list[Inline]]
    cls: str = ""
    caption: str = ""


@dataclass
class Fig:
    key: str
    data: bytes
    alt: str
    caption: Inline = ""


@dataclass
class Box:
    kind: str  # bottom, fail, note
    blocks: list[Any] = field(default_factory=list)


@dataclass
class Pre:
    text: str


@dataclass
class Details:
    """Collapsed content (HTML ``<details>``; Markdown shows it in full)."""

    summary: str
    blocks: list[Any] = field(default_factory=list)


@dataclass
class Section:
    id: str
    blocks: list[Any]


# ---------------------------------------------------------------------------------------
# Wording


def ci(stats: dict[str, Any], fmt: str = "{:.2f}") -> str:
    lo, hi = stats["ci95"]
    return f"{fmt.format(stats['median'])} ({fmt.format(lo)} to {fmt.format(hi)})"


def ratio_name(s: dict[str, Any], short: bool = False) -> str:
    if s["measure"] == "odds_ratio":
        return "OR" if short else "odds ratio"
    return "ratio of medians"


def _signed(v: float, more: str, fewer: str, d: int = 1) -> str:
    return f"{abs(v):.{d}f} {fewer if v < 0 else more}"


def directional(stats: dict[str, Any], more: str, fewer: str, d: int = 1,
                label: str = "95% CrI ") -> str:
    """A difference with its interval in words: ``8.4 fewer (95% CrI 2.7 to 19.2 fewer)``."""
    med, (lo, hi) = stats["median"], stats["ci95"]
    if hi < 0:
        iv = f"{abs(hi):.{d}f} to {abs(lo):.{d}f} {fewer}"
    elif lo > 0:
        iv = f"{lo:.{d}f} to {hi:.{d}f} {more}"
    else:
        iv = f"{abs(lo):.{d}f} {fewer} to {hi:.{d}f} {more}"
    return f"{_signed(med, more, fewer, d)} ({label}{iv})"


def absolute_text(s: dict[str, Any], label: str = "95% CrI ") -> list[str]:
    """The absolute effect in words: per 100 patients and NNT, or months of median OS."""
    a = s.get("absolute", {})
    out = []
    if "risk_difference" in a:
        out.append(directional(a["risk_difference"], "more", "fewer", label=label)
                   + " per 100 patients")
        nnt = s.get("nnt") or {}
        med, iv = nnt.get("median"), nnt.get("ci95")
        if med is not None and med > 0:
            out.append(f"NNT {med:.0f}" + (f" ({label}{iv[0]:.0f} to {iv[1]:.0f})" if iv
                                           else " (interval includes no benefit)"))
        else:
            out.append("NNT not defined (the median effect favours postop SRS)")
    if "months" in a:
        out.append(directional(a["months"], "months longer", "months shorter", label=label)
                   + " median OS")
    return out


def threshold_label(s: dict[str, Any], t: dict[str, Any]) -> str:
    m, thr = t["measure"], t["threshold"]
    lower = s["benefit"] == "lower"
    if m == "risk_difference":
        return f"≥ {thr:g} {'fewer' if lower else 'more'} per 100"
    if m == "odds_ratio":
        return f"OR {'≤' if lower else '≥'} {thr:g}"
    if m == "ratio":
        return f"ratio ≥ {thr:g}" if not lower else f"ratio ≤ {thr:g}"
    if m == "months":
        return f"≥ {thr:g} month{'s' if thr != 1 else ''} longer"
    return f"{m} {thr:g}"


def opposite(s: dict[str, Any]) -> str:
    """What harm means, as a verb phrase (the opposite of :func:`srsbayes.text.verb`)."""
    v = verb(s)
    swaps = (("lowers", "raises"), ("raises", "lowers"), ("lengthens", "shortens"))
    for a, b in swaps:
        if v.startswith(a):
            return b + v[len(a):]
    return "is worse for " + s["label"].lower()


def _short_absolute(s: dict[str, Any]) -> str:
    a = s.get("absolute", {})
    if "risk_difference" in a:
        v = a["risk_difference"]["median"]
        return f"about {abs(v):.1f} {'fewer' if v < 0 else 'more'} per 100 patients"
    if "months" in a:
        v = a["months"]["median"]
        return f"about {abs(v):.1f} months {'longer' if v >= 0 else 'shorter'} median survival"
    return f"{ratio_name(s)} {s['effect']['median']:.2f}"


def _join(items: Sequence[Inline]) -> list[Inline]:
    """``a``, ``a and b``, ``a, b and c`` for inline parts."""
    items = list(items)
    out: list[Inline] = []
    for i, it in enumerate(items):
        if i:
            out.append(" and " if i == len(items) - 1 else ", ")
        out.append(it)
    return out


def bottom_line_parts(report: Report) -> list[Inline]:
    """The bottom line as one paragraph: convincing benefits and harms (P(benefit) at or
    beyond the spec's decision probability), inconclusive outcomes, failed fits,
    robustness and the audit's caveat."""
    good, bad, unsure, broken = [], [], [], []
    for o in report.outcomes:
        if not o.ok:
            broken.append(o)
            continue
        p, dp = o.summary["prob_benefit"], o.summary["decision_probability"]
        (good if p >= dp else bad if p <= 1 - dp else unsure).append(o)
    n_pat = max((_n_patients(o) for o in report.outcomes), default=0)
    parts: list[Inline] = [f"Across {len(report.studies)} studies ({n_pat} patients), "
                           "compared with postoperative SRS: "]
    clauses: list[Inline] = []
    for o in good:
        s = o.summary
        clauses.append([S(f"a {pct(s['prob_benefit'])} probability", "b"),
                        f" that preoperative SRS {verb(s)} ({_short_absolute(s)})"])
    for o in bad:
        s = o.summary
        clauses.append([S(f"a {pct(1 - s['prob_benefit'])} probability", "b"),
                        f" that preoperative SRS {opposite(s)} ({_short_absolute(s)})"])
    if clauses:
        parts += ["there is ", *_join(clauses), ". "]
    if unsure:
        dps = {o.summary["decision_probability"] for o in unsure}
        below = f" (probability of benefit below {pct(dps.pop())})" if len(dps) == 1 else ""
        parts.append(("The evidence is inconclusive" if clauses
                      else "the evidence is inconclusive") + f"{below} for ")
        parts += _join([f"{o.spec.label.lower()} ({pct(o.summary['prob_benefit'])})"
                        for o in unsure])
        parts.append(". ")
    if broken:
        parts += ["No result for ", *_join([o.spec.label.lower() for o in broken]), ": ",
                  S("NOT TRUSTWORTHY", "fail"),
                  " (the model did not converge or could not be run). "]
    assessed = [o for o in report.outcomes if o.ok and o.sweep.available
                and o.sweep.robust is not None]
    fragile = [o for o in assessed if o.sweep.robust is False]
    if fragile:
        parts += [S("Not robust to the choice of priors: ", "warn"),
                  *_join([o.spec.label.lower() for o in fragile]), ". "]
    elif assessed and len(assessed) == sum(o.ok for o in report.outcomes):
        parts.append("Each conclusion holds under every alternative prior tried. ")
    else:
        parts.append("Sensitivity to the priors was not assessed for every outcome. ")
    sev = _severity_counts(report.findings)
    if sev["warning"] or sev["error"]:
        problems = _checks_with_problems(report.findings)
        parts += [S("Caution: ", "b"), f"the evidence audit found {problems} (see ",
                  S("Evidence audit", "", "#audit"), "); these probabilities assume the "
                  "reported numbers are right."]
    return parts


def claim_assessment(spec: OutcomeSpec, s: dict[str, Any], e: dict[str, Any]) -> str:
    """What the posterior says about one of the paper's claims (factual, no verdict on
    'significance', which a posterior does not have)."""
    p, dp = s["prob_benefit"], spec.decision_probability
    eff = f"pooled {ratio_name(s)} {ci(s['effect'])}"
    kind = e.get("kind")
    if kind == "reduction":
        r, target = e["rrr"], e["target"]
        lo, hi = r["ci95"]
        inside = lo <= target <= hi
        return (f"Posterior relative risk reduction {100 * r['median']:.0f}% (95% CrI "
                f"{100 * lo:.0f}% to {100 * hi:.0f}%); probability that it is at least "
                f"{100 * target:.0f}%: {pct(e['prob_at_least'])}. The paper's value is "
                f"{'within' if inside else 'outside'} the credible interval, which is wide; "
                "the paper gave no interval at all.")
    if kind == "significance":
        if p >= dp:
            return (f"The direction is supported: a {pct(p)} probability that preoperative "
                    f"SRS {verb(s)} ({eff}). The paper reports no test or interval behind "
                    "'significantly'.")
        return (f"Not supported at the {100 * dp:.0f}% level: a {pct(p)} probability that "
                f"preoperative SRS {verb(s)} ({eff}).")
    if kind == "equivalence":
        eq = e.get("equivalence")
        if eq is None:
            return f"A {pct(p)} probability that preoperative SRS {verb(s)} ({eff})."
        text = f"A {pct(eq['probability'])} probability that {eq['what']}"
        if eq["probability"] >= dp:
            return text + "; the data support similarity."
        return (text + f", and a {pct(p)} probability that preoperative SRS {verb(s)} "
                f"({eff}). Not showing a difference is not evidence of similarity: the data "
                "remain compatible with clinically relevant differences.")
    return f"A {pct(p)} probability that preoperative SRS {verb(s)} ({eff})."


# ---------------------------------------------------------------------------------------
# Content


def _n_patients(o: OutcomeReport) -> int:
    return int(sum(r["n"] for r in o.count_table))


def _n_studies(o: OutcomeReport) -> int:
    return len({r["study"] for r in o.count_table})


def _diag_badge(o: OutcomeReport) -> Inline:
    if o.status == "unavailable":
        return S("NOT RUN", "na")
    if not o.ok:
        return S("FAIL — NOT TRUSTWORTHY", "fail")
    d = o.summary["diagnostics"]
    return [S("PASS", "pass"), S(f"R-hat {d['rhat_max']:.3f}, ESS ≥ "
                                 f"{min(d['ess_bulk_min'], d['ess_tail_min']):.0f}, "
                                 f"{d['divergences']} divergences", "sub")]


def _robust(o: OutcomeReport) -> Inline:
    if not o.ok:
        return "—"
    sw = o.sweep
    if not sw.available:
        return S("not assessed", "na")
    rule = f"{100 * o.spec.decision_probability:g}%"
    meets = o.summary["prob_benefit"] >= o.spec.decision_probability
    # "Yes" alone would read as "robust benefit" for an outcome that is robustly inconclusive.
    yes = f"Yes: ≥ {rule} under every prior" if meets else f"Yes: < {rule} under every prior"
    main: Inline = (S("not assessable", "na") if sw.robust is None
                    else S(yes, "pass") if sw.robust else S("No", "warn"))
    if sw.data_robust is None:
        return main
    return [main, S("data (leave-one-out, rounding): "
                    + ("robust" if sw.data_robust else "NOT robust"), "sub")]


def summary_table(report: Report) -> Table:
    head = ["Outcome", "Studies (patients)", "Pooled effect (95% CrI)",
            "Absolute effect of preop SRS (95% CrI)", "P(benefit)",
            "P(clinically meaningful benefit)",
            "Robust across priors", "Diagnostics"]
    rows = []
    for o in report.outcomes:
        first: Inline = S(o.spec.label, "b", f"#{o.spec.id}")
        size = f"{_n_studies(o)} ({_n_patients(o)})"
        if not o.ok:
            why = ("NOT TRUSTWORTHY — did not converge; no result" if o.status == "failed"
                   else f"not analysed: {o.message}")
            rows.append([first, size, S(why, "fail" if o.status == "failed" else "na"),
                         "—", "—", "—", _robust(o), _diag_badge(o)])
            continue
        s = o.summary
        thr = [f"{threshold_label(s, t)}: {pct(t['probability'])}" for t in s["thresholds"]]
        rows.append([
            first, size, f"{'OR' if s['measure'] == 'odds_ratio' else 'Ratio'} "
            f"{ci(s['effect'])}",
            "; ".join(absolute_text(s, label="")) or "—",
            S(pct(s["prob_benefit"]), "b"),
            "; ".join(thr) or "—",
            _robust(o), _diag_badge(o)])
    return Table(head, rows, cls="summary")


def bottom_line(report: Report) -> Box:
    return Box("bottom", [H(2, "Bottom line", "bottom-line"),
                          P(bottom_line_parts(report), "lead")])


def _severity_counts(findings) -> dict[str, int]:
    out = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        out[f.severity] = out.get(f.severity, 0) + 1
    return out


SHORT_CHECK = {
    "grim": "{n} percentages that no whole count of patients reproduces",
    "events": "impossible event counts",
    "arms": "missing arms",
    "identification": "studies that cannot be identified",
    "follow_up": "follow-up that differs between studies or is missing",
    "homogeneity": "studies that agree more closely than chance allows ({n} outcomes)",
    "pooled_mean": "'pooled' values that are plain means",
    "pooled_weighted": "pooled values",
    "pooled_n": "pooled sizes",
    "pooled_follow_up": "a pooled follow-up matching no study summary",
    "claim": "claims without supporting statistics",
    "reporting": "methods claimed but not reported",
    "references": "an off-topic reference list",
}
"""Plain names of the audit's checks for the bottom line (``{n}``: number of findings)."""


def _checks_with_problems(findings) -> str:
    counts: dict[str, int] = {}
    for f in findings:
        # GRIM's overall line repeats the per-row warnings it summarises
        if f.severity in ("warning", "error") and not (f.check == "grim" and f.study is None):
            counts[f.check] = counts.get(f.check, 0) + 1
    return ", ".join(SHORT_CHECK.get(c, c).format(n=n) for c, n in counts.items())


def outcome_section(o: OutcomeReport, report: Report) -> Section:
    spec = o.spec
    blocks: list[Any] = [H(2, spec.label, spec.id)]
    if o.status == "unavailable":
        blocks.append(Box("note", [P(f"Not analysed: {o.message}.")]))
        return Section(f"sec-{spec.id}", blocks)
    s = o.summary
    if not o.ok:
        blocks.append(Box("fail", [
            P([S("NOT TRUSTWORTHY. ", "b"),
               "The sampler did not pass the convergence gate even after a retry with safer "
               "settings, so its draws may not represent the posterior. No estimate, "
               "probability or figure is reported for this outcome."]),
            P(["Failed checks: ", S("; ".join(s["diagnostics"]["failures"]), "code")])]))
        blocks += diagnostics_blocks(s)
        return Section(f"sec-{spec.id}", blocks)
    blocks.append(P(S(headline_sentence(s), "b"), "lead"))
    blocks.append(key_numbers(s))
    blocks.append(H(3, "Forest plot", f"{spec.id}-forest"))
    blocks.append(Fig(f"{spec.id}_forest", o.figures["forest"], _forest_alt(s, o),
                      "Open squares: each study's observed odds ratio (Wald 95% CI; 0.5 added "
                      "to every cell of a study with a zero cell). Filled circles: the study's "
                      "shrunken estimate from the model (95% CrI). Diamond: pooled effect. "
                      "Dashed: 95% prediction interval for a new study."
                      if s["measure"] == "odds_ratio" else
                      "Open squares: each study's observed ratio (95% CI). Filled circles: "
                      "shrunken estimates (95% CrI). Diamond: pooled effect. Dashed: 95% "
                      "prediction interval for a new study."))
    blocks.append(H(3, "Posterior of the effect", f"{spec.id}-posterior"))
    blocks.append(Fig(f"{spec.id}_effect", o.figures["effect"], _effect_alt(s),
                      "Shaded: the region where preoperative SRS is better; hatched: a "
                      "clinically meaningful benefit. Areas are probabilities."))
    blocks += sensitivity_blocks(o)
    blocks.append(H(3, "Posterior-predictive check", f"{spec.id}-ppc"))
    if "ppc" in o.figures:
        blocks.append(Fig(f"{spec.id}_ppc", o.figures["ppc"], _ppc_alt(s),
                          "Diamonds: observed values; bars: 50% and 95% intervals of data "
                          "replicated from the fitted model. Observed values far outside their "
                          "bars would show that the model cannot reproduce a study."))
    blocks += ppc_text(s)
    blocks += diagnostics_blocks(s)
    return Section(f"sec-{spec.id}", blocks)


def headline_sentence(s: dict[str, Any]) -> str:
    p, dp = s["prob_benefit"], s["decision_probability"]
    if p <= 1 - dp:
        return (f"There is a {pct(1 - p)} probability that preoperative SRS {opposite(s)} "
                "compared with postoperative SRS.")
    return (f"There is a {pct(p)} probability that preoperative SRS {verb(s)} compared with "
            "postoperative SRS.")


def key_numbers(s: dict[str, Any]) -> Table:
    name = ratio_name(s)
    rows: list[list[Inline]] = [
        [f"Pooled {name} (preop vs postop)", ci(s["effect"])],
        [f"{name.capitalize()} expected in a new study (95% prediction interval)",
         ci(s["prediction"])],
        ["Between-study heterogeneity τ (log scale)", ci(s["tau"])],
    ]
    a = s.get("absolute", {})
    for arm in ("postop", "preop"):
        for key in (f"risk_{arm}", f"median_{arm}"):
            if key in a:
                what = (f"Risk of {s['event']} with {arm} SRS, new population"
                        if key.startswith("risk") else f"Median OS with {arm} SRS (months)")
                rows.append([what, ci(a[key], "{:.1f}%" if key.startswith("risk")
                                      else "{:.1f}")])
    if "se_inflation" in s:
        rows.append(["Standard-error inflation factor λ (rules "
                     + ", ".join(str(r) for r in s["se_inflation"].get("applies_to_rules", []))
                     + ")", ci(s["se_inflation"])])
    for line in absolute_text(s):
        rows.append(["Absolute effect of preop SRS", line])
    rows.append(["P(preop SRS is better) — pooled effect", S(pct(s["prob_benefit"]), "b")])
    rows.append(["P(preop SRS is better) — in a new study",
                 pct(s["prob_benefit_new_study"])])
    for t in s["thresholds"]:
        rows.append([f"P(clinically meaningful benefit: {threshold_label(s, t)})",
                     [S(pct(t["probability"]), "b"),
                      f" (new study: {pct(t['probability_new_study'])})"]])
    return Table(["Quantity", "Posterior median (95% CrI) or probability"], rows,
                 cls="keys")


def _forest_alt(s: dict[str, Any], o: OutcomeReport) -> str:
    studies = "; ".join(
        f"{r['study']} observed {_exp(r['observed']['estimate']):.2f}, shrunken "
        f"{r['shrunken']['median']:.2f}" for r in s["study_effects"])
    return (f"Forest plot of {s['label']}: {studies}; pooled {ratio_name(s)} "
            f"{ci(s['effect'])}; new-study prediction {ci(s['prediction'])}.")


def _exp(x: float) -> float:
    import math

    return math.exp(x)


def _effect_alt(s: dict[str, Any]) -> str:
    return (f"Posterior density of the pooled {ratio_name(s)} of {s['label']}, median "
            f"{s['effect']['median']:.2f}; probability that preoperative SRS is better "
            f"{pct(s['prob_benefit'])}.")


def _ppc_alt(s: dict[str, Any]) -> str:
    return (f"Posterior-predictive check of {s['label']}: observed values per study and arm "
            "against intervals of replicated data.")


def sensitivity_blocks(o: OutcomeReport) -> list[Any]:
    spec, sw = o.spec, o.sweep
    blocks: list[Any] = [H(3, "Sensitivity to priors and data", f"{spec.id}-sensitivity")]
    if not sw.available:
        blocks.append(Box("note", [P(f"Sensitivity analysis not available: {sw.note}.")]))
        return blocks
    rule = sw.overall.get("rule", f"P(benefit) >= {spec.decision_probability:g}")
    blocks.append(P(f"The sweep refits the model under alternative priors and, at the "
                    f"default priors, without each study in turn and with the event counts "
                    f"rounded the other way; it asks whether the conclusion {rule} changes."))
    blocks.append(P([_verdict_badge(sw.robust, "priors"), " ", sw.text]))
    if sw.data_text:
        blocks.append(P([_verdict_badge(sw.data_robust, "data"), " ", sw.data_text]))
    if "sweep" in o.figures:
        blocks.append(Fig(f"{spec.id}_sweep", o.figures["sweep"],
                          f"Sensitivity of {spec.label}: P(benefit) and the pooled effect "
                          f"under each of {len(sw.rows)} settings. {sw.overall.get('text', '')}",
                          "Left: P(benefit) per setting against the decision threshold. "
                          "Right: pooled effect with 95% CrI. Bold: the default setting."))
    for line in sw.extra:
        blocks.append(P(line, "small"))
    if sw.rows:
        blocks.append(Details(f"All {len(sw.rows)} settings", [sweep_table(sw.rows,
                                                                           sw.reference)]))
    return blocks


def _verdict_badge(robust: bool | None, what: str) -> S:
    if robust is None:
        return S(f"{what.capitalize()}: not assessable", "na")
    return S(f"Robust to {what}", "pass") if robust else S(f"Not robust to {what}", "warn")


def sweep_table(rows: list[dict[str, Any]], reference: str = "") -> Table:
    out = []
    for r in rows:
        ok = bool(r.get("ok"))
        med, lo, hi = r.get("effect_median"), r.get("effect_lo"), r.get("effect_hi")
        eff = (f"{med:.2f} ({lo:.2f} to {hi:.2f})" if ok and _given(med) and _given(lo)
               and _given(hi) else "—")
        pb = r.get("prob_benefit")
        tau = r.get("tau_median")
        label: Inline = str(r.get("setting", ""))
        if label == reference:
            label = [S(str(label), "b"), S(" (default)", "muted")]
        out.append([label, str(r.get("data", "")),
                    pct(pb) if ok and _given(pb) else "—", eff,
                    f"{tau:.2f}" if ok and _given(tau) else "—",
                    S("pass", "pass") if ok else S("FAIL — not assessable", "fail")])
    return Table(["Setting", "Data", "P(benefit)", "Pooled effect (95% CrI)", "τ median",
                  "Diagnostics"], out, cls="compact")


def ppc_text(s: dict[str, Any]) -> list[Any]:
    ppc = s.get("ppc")
    if not ppc:
        return []
    flagged = []
    for name, ps in ppc.get("pvalues", {}).items():
        for study, p in zip(s["studies"], ps, strict=False):
            if p < 0.05 or p > 0.95:
                flagged.append(f"{study} ({name.replace('_', ' ')}: {p:.2f})")
    text = ("Posterior-predictive mid-p-values are all between 0.05 and 0.95: the model "
            "reproduces every study." if not flagged else
            "Studies the model reproduces poorly (mid-p-value < 0.05 or > 0.95): "
            + "; ".join(flagged) + ".")
    blocks: list[Any] = [P(text)]
    loo = ppc.get("loo") or {}
    if loo:
        k = loo.get("pareto_k", [])
        ks = ", ".join(f"{st} {v:.2f}" for st, v in zip(s["studies"], k, strict=False))
        note = (f"Leave-one-study-out (PSIS-LOO) Pareto k: {ks}. ")
        note += (f"Values above {PARETO_K_WARN} mean a study is highly influential: with so "
                 "few studies, removing one changes the posterior noticeably."
                 if loo.get("warning") else "No study is unduly influential.")
        blocks.append(P(note, "small"))
    return blocks


def diagnostics_blocks(s: dict[str, Any]) -> list[Any]:
    d = s["diagnostics"]

    def st(ok: bool) -> S:
        return S("pass", "pass") if ok else S("FAIL", "fail")

    rows = [
        ["R-hat (max)", f"{d['rhat_max']:.3f}", f"≤ {RHAT_MAX}", st(d["rhat_max"] <= RHAT_MAX)],
        ["Bulk ESS (min)", f"{d['ess_bulk_min']:.0f}", f"≥ {ESS_MIN}",
         st(d["ess_bulk_min"] >= ESS_MIN)],
        ["Tail ESS (min)", f"{d['ess_tail_min']:.0f}", f"≥ {ESS_MIN}",
         st(d["ess_tail_min"] >= ESS_MIN)],
        ["Divergent transitions", str(d["divergences"]), "0", st(d["divergences"] == 0)],
        ["E-BFMI (min)", f"{d['bfmi_min']:.2f}", f"≥ {BFMI_MIN}", st(d["bfmi_min"] >= BFMI_MIN)],
    ]
    status = (S("PASS — the fit converged", "pass") if d["ok"]
              else S("FAIL — NOT TRUSTWORTHY", "fail"))
    return [H(3, "Diagnostics", f"{s['outcome']}-diagnostics"),
            P(["Status: ", status, f" (sampling attempts: {d.get('attempts', 1)}; "
               f"{s['chains']} chains × {s['draws']} draws after {s['tune']} tuning steps, "
               f"target acceptance {s['target_accept']})"]),
            Table(["Check", "Value", "Criterion", "Status"], rows, cls="compact")]


# ---------------------------------------------------------------------------------------
# Evidence audit and the paper


def audit_section(report: Report) -> Section:
    from ..audit.checks import CHECKS

    f = report.findings
    sev = _severity_counts(f)
    blocks: list[Any] = [
        H(2, "Evidence audit", "audit"),
        P(f"{len(f)} findings: {sev['error']} error(s), {sev['warning']} warning(s), "
          f"{sev['info']} informational. Warnings are problems for inference; errors are "
          "impossible data. (Rerun with `python -m srsbayes audit`.)"),
    ]
    overview = []
    for check, title in CHECKS.items():
        group = [x for x in f if x.check == check]
        if not group:
            continue
        c = _severity_counts(group)
        badge = (S(f"{c['error']} error(s)", "fail") if c["error"] else
                 S(f"{c['warning']} warning(s)", "warn") if c["warning"] else S("ok", "pass"))
        overview.append([S(check, "code"), title, badge, str(c["info"])])
    blocks.append(Table(["Check", "What it tests", "Problems", "Info"], overview,
                        cls="compact"))
    problems = [x for x in f if x.severity in ("error", "warning")]
    if problems:
        blocks.append(H(3, "Problems found", "audit-problems"))
        blocks.append(_findings_table(problems))
    blocks += paper_comparison(report)
    info = [x for x in f if x.severity == "info"]
    if info:
        blocks.append(H(3, "Informational findings", "audit-info"))
        blocks.append(_findings_table(info))
    return Section("sec-audit", blocks)


def _findings_table(findings) -> Table:
    rows = []
    for x in findings:
        where = " ".join(v for v in (x.study, x.outcome, x.arm) if v) or "—"
        line = f"{x.file.rsplit('/', 1)[-1]}:{x.row}" if x.row is not None and x.file else "—"
        rows.append([S(x.severity, "fail" if x.severity == "error" else
                       "warn" if x.severity == "warning" else "na"),
                     S(x.check, "code"), where, line, x.detail])
    return Table(["Severity", "Check", "About", "Line", "Detail"], rows, cls="findings")


def paper_comparison(report: Report) -> list[Any]:
    blocks: list[Any] = [H(3, "The paper's numbers and claims against the posterior",
                           "paper")]
    if not report.paper_compared:
        blocks.append(P("Not compared: the source paper's pooled values and claims describe "
                        "the bundled data, not this study table."))
        return blocks
    prow = []
    for o in report.outcomes:
        for c in o.pooled:
            ours = c["ours"]
            if not o.ok:
                ours_text: Inline = S("no result (not trustworthy)", "na")
            elif ours:
                ours_text = ci(ours, "{:.1f}" + c["unit"])
            else:
                ours_text = "—"
            prow.append([o.spec.label, c["arm"], c["paper_text"], ours_text])
    if prow:
        blocks.append(P("The paper's 'Pooled' rows are unweighted means of the study values "
                        "(see pooled_mean above). The model's values are the pooled absolute "
                        "values for a new population like the studies', with 95% CrI."))
        blocks.append(Table(["Outcome", "Arm", "Paper's pooled value",
                             "Model: posterior median (95% CrI)"], prow, cls="compact"))
    crow = []
    for o in report.outcomes:
        for c in o.claims:
            crow.append([o.spec.label, [S(f"“{c['quote']}”", "i"), S(f" — {c['source']}",
                                                                    "muted")],
                         c["assessment"] if o.ok else S("no result (not trustworthy)", "na")])
    if crow:
        blocks.append(Table(["Outcome", "The paper says", "The posterior says"], crow,
                            cls="claims"))
    return blocks


# ---------------------------------------------------------------------------------------
# Methods


FAMILY_TITLE = {"binomial": "Binary outcomes: binomial-normal random-effects model",
                "lognormal_median": "Median overall survival: log-normal median model"}


def _doc(module: Any) -> str:
    return inspect.cleandoc(module.__doc__ or "")


def methods_section(report: Report) -> Section:
    retry = report.settings.retry()
    blocks: list[Any] = [H(2, "Methods", "methods")]
    blocks.append(P(
        "Each outcome is fitted with a Bayesian random-effects model by the No-U-Turn "
        "sampler (PyMC model, nutpie sampler). Intervals are central (equal-tailed) 95% "
        "credible intervals (CrI); probabilities are proportions of posterior draws. "
        "P(benefit) is the posterior probability that the pooled effect favours "
        "preoperative SRS; 'in a new study' uses the predictive effect θ + τz, z ~ N(0, 1) "
        "(Higgins, Thompson & Spiegelhalter 2009). A fit is reported only if it passes the "
        f"convergence gate: R-hat ≤ {RHAT_MAX}, bulk and tail ESS ≥ {ESS_MIN}, no "
        f"divergent transitions, E-BFMI ≥ {BFMI_MIN} (Vehtari et al. 2021; Betancourt "
        f"2016); a failing fit is rerun once with target acceptance {retry.target_accept} "
        f"and {retry.tune} tuning steps, and if it still fails it is shown as NOT "
        "TRUSTWORTHY."))
    families = list(dict.fromkeys(o.spec.family for o in report.outcomes))
    for fam_name in families:
        blocks.append(H(3, FAMILY_TITLE.get(fam_name, fam_name), f"methods-{fam_name}"))
        try:
            blocks.append(Pre(_doc(get_family(fam_name))))
        except ImportError:
            blocks.append(P("Model code not available in this version."))
    blocks.append(H(3, "Priors and their rationale", "methods-priors"))
    prow = []
    for o in report.outcomes:
        s = o.summary
        labels = (s or {}).get("prior_labels") or {k: str(v) for k, v in o.spec.priors.items()}
        rationales = (s or {}).get("prior_rationales") or o.spec.rationales
        for name, lab in labels.items():
            prow.append([o.spec.label, S(name, "code"), S(str(lab), "code"),
                         str(rationales.get(name, ""))])
    blocks.append(Table(["Outcome", "Parameter", "Prior", "Rationale"], prow, cls="compact"))
    blocks.append(H(3, "Clinical thresholds", "methods-thresholds"))
    trow = []
    for o in report.outcomes:
        for t in o.spec.thresholds:
            trow.append([o.spec.label, t.measure, f"{t.threshold:g}", t.rationale])
        trow.append([o.spec.label, "decision probability",
                     f"{o.spec.decision_probability:g}",
                     "P(benefit) at or above which the report calls the evidence convincing; "
                     "at or below 1 minus it, convincing for harm"])
    blocks.append(Table(["Outcome", "Measure", "Threshold", "Rationale"], trow,
                        cls="compact"))
    blocks.append(P(
        "Claims that the arms are 'comparable', 'similar' or 'did not differ' are checked "
        "as the probability that the difference lies within ± the outcome's first clinical "
        "threshold (a region of practical equivalence; Kruschke 2018). The relative risk "
        "reduction is 1 − p_preop / p_postop at the pooled effect in a new population."))
    blocks += data_methods(report)
    blocks += provenance(report)
    return Section("sec-methods", blocks)


def data_methods(report: Report) -> list[Any]:
    blocks: list[Any] = [H(3, "Data", "methods-data")]
    t = report.table
    blocks.append(P(["Study table ", S(t.path, "code"), ", sha256 ", S(t.sha256, "code"),
                     "."]))
    covs = t.covariates
    head = ["Study", "Outcomes", "n preop", "n postop", "Follow-up (months)", "Source",
            *covs]
    rows = []
    for st in report.studies:
        rows.append([st["study"], ", ".join(st["outcomes"]),
                     "/".join(str(v) for v in st["n_preop"]),
                     "/".join(str(v) for v in st["n_postop"]),
                     "/".join(f"{v:g}" for v in st["follow_up"]) or "not reported",
                     "; ".join(st["sources"]),
                     *["; ".join(st["covariates"].get(c, [])) for c in covs]])
    blocks.append(Table(head, rows, cls="compact"))
    blocks.append(P(
        "Conversion rule: when a study reports only a percentage, the event count is the "
        "whole number whose percentage of n is nearest to it, halves rounded up "
        "(events = round_half_up(percent × n / 100)). The binomial models see these counts; "
        "the evidence audit lists the percentages no whole count reproduces."))
    for o in report.outcomes:
        if not o.count_table:
            continue
        binary = o.spec.family == "binomial"
        head = (["Study", "Arm", "n", "Reported %", "Events used", "Rule", "Line"] if binary
                else ["Study", "Arm", "n", "Median (months)", "Follow-up", "Deaths",
                      "Median CI", "Line"])
        rows = []
        for r in o.count_table:
            if binary:
                rows.append([str(r["study"]), r["arm"], _num(r["n"]), _num(r["percent"]),
                             _num(r["events"]), str(r.get("events_rule") or ""),
                             _num(r["row"])])
            else:
                cil, cih = r.get("median_ci_low"), r.get("median_ci_high")
                rows.append([str(r["study"]), r["arm"], _num(r["n"]),
                             _num(r["median_months"]), _num(r["follow_up_months"]),
                             _num(r["deaths"]),
                             f"{_num(cil)} to {_num(cih)}" if _given(cil) else "—",
                             _num(r["row"])])
        blocks.append(Table(head, rows, cls="compact", caption=o.spec.label))
        se = (o.summary or {}).get("se_rules")
        if se:
            blocks.append(se_rules_table(o.spec.label, se))
    return blocks


def se_rules_table(label: str, rules: Any) -> Any:
    """The standard error each median got, and by which rule (see the model above)."""
    if not (isinstance(rules, list) and rules and all(isinstance(r, dict) for r in rules)):
        return _generic(rules)
    rows = []
    for r in rules:
        se = r.get("se")
        rows.append([str(r.get("study", "")), str(r.get("arm", "")),
                     f"{r.get('rule', '')} ({r.get('rule_name', '')})",
                     str(r.get("detail", "")),
                     f"{se:.3f}" if isinstance(se, int | float) else "—",
                     "yes" if r.get("inflated") else "no"])
    return Table(["Study", "Arm", "Rule", "How", "SE of log median", "Inflated by λ"], rows,
                 cls="compact", caption=f"{label}: standard errors of the log medians")


def _given(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and v != v) and v != ""


def _num(v: Any) -> str:
    if not _given(v):
        return "—"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return f"{v:g}" if isinstance(v, float) else str(v)


def _generic(obj: Any) -> Any:
    """A table or paragraph for an arbitrary JSON-like value (e.g. ``se_rules``)."""
    if isinstance(obj, list) and obj and all(isinstance(r, dict) for r in obj):
        keys = list(dict.fromkeys(k for r in obj for k in r))
        return Table(keys, [[_plain(r.get(k, "")) for k in keys] for r in obj],
                     cls="compact")
    if isinstance(obj, dict):
        return Table(["Key", "Value"], [[str(k), _plain(v)] for k, v in obj.items()],
                     cls="compact")
    return P(_plain(obj))


def _plain(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list | tuple):
        return ", ".join(_plain(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_plain(x)}" for k, x in v.items())
    return str(v)


def provenance(report: Report) -> list[Any]:
    import hashlib

    st = report.settings
    rows = [
        ["Seed", str(st.seed)],
        ["Sampler", f"{st.chains} chains × {st.draws} draws, {st.tune} tuning steps, "
                    f"target acceptance {st.target_accept} (retry: target acceptance "
                    f"{st.retry().target_accept}, {st.retry().tune} tuning steps)"],
        ["Derived draws", "absolute effects for figures and claims: numpy default_rng"
                          f"([{st.seed}, 7])"],
        ["Data", f"{report.table.path} (sha256 {report.table.sha256})"],
    ]
    for o in report.outcomes:
        digest = hashlib.sha256(o.spec.text.encode("utf-8")).hexdigest()
        rows.append([f"Spec {o.spec.id}", f"{o.spec.path} (sha256 {digest})"])
    rows.append(["Report generated", report.created])
    rows.append(["Command run", report.command])
    rows.append(["To reproduce", S(report.reproduce, "code")])
    vrows = [[k, v] for k, v in report.versions.items()]
    return [H(3, "Reproducibility", "methods-provenance"),
            P("Each outcome's posterior.nc and summary.json (next to this report, in a folder "
              "named after the outcome id) record the same provenance."),
            Table(["Item", "Value"], rows, cls="compact"),
            H(3, "Software versions", "methods-versions"),
            Table(["Package", "Version"], vrows, cls="compact")]


# ---------------------------------------------------------------------------------------
# Document


TITLE = "Preoperative vs postoperative stereotactic radiosurgery (SRS) for resected brain " \
        "metastases"
SOURCE = ("Moghadam AM. Comparative Outcomes of Preoperative and Postoperative Stereotactic "
          "Radiosurgery in Patients Undergoing Resection for Brain Metastases: Systematic "
          "Review and Meta-Analysis (accepted 26.02.2026)")


def document(report: Report) -> tuple[str, list[Any]]:
    """The report's title and blocks (shared by the HTML and Markdown writers)."""
    sub = ["Bayesian re-analysis of ", S(report.table.path.rsplit("/", 1)[-1], "code")]
    if report.bundled:
        sub += [", transcribed from ", S(SOURCE, "i")]
    sub += [f". Data sha256 {report.table.sha256[:12]}…, seed {report.settings.seed}, "
            f"generated {report.created}."]
    nav = [S("Summary", "", "#summary")]
    for o in report.outcomes:
        nav += [" · ", S(o.spec.label, "", f"#{o.spec.id}")]
    nav += [" · ", S("Evidence audit", "", "#audit"), " · ", S("Methods", "", "#methods")]
    blocks: list[Any] = [
        P(sub, "sub"),
        bottom_line(report),
        Section("sec-summary", [
            H(2, "Summary", "summary"),
            summary_table(report),
            P("Pooled effect: odds ratio (binary outcomes) or ratio of medians (overall "
              "survival), preop vs postop; below 1 means fewer events (or shorter survival) "
              "with preop SRS. P(benefit): posterior probability that preop SRS is better. "
              "Clinically meaningful: the smallest benefit the outcome's spec calls relevant "
              "(see Methods). Robust: the sweep's verdict over alternative priors. "
              "Diagnostics: the convergence gate.", "small")]),
        P(["Contents: ", nav], "nav"),
    ]
    blocks += [outcome_section(o, report) for o in report.outcomes]
    blocks.append(audit_section(report))
    blocks.append(methods_section(report))
    return TITLE, blocks


def figure_files(report: Report) -> dict[str, bytes]:
    """PNG files the Markdown twin links to, by path relative to the report folder."""
    out = {}
    _, blocks = document(report)
    for b in _walk(blocks):
        if isinstance(b, Fig):
            out[f"figures/{b.key}.png"] = b.data
    return out


def _walk(blocks: Iterable[Any]) -> Iterable[Any]:
    for b in blocks:
        yield b
        if isinstance(b, Box | Section | Details):
            yield from _walk(b.blocks)


# ---------------------------------------------------------------------------------------
# HTML writer

CSS = """
:root{--fg:#1b1f24;--muted:#5b6470;--line:#d8dde3;--bg:#fff;--soft:#f5f7f9;
--pass:#0a6b2d;--passbg:#e3f4e8;--fail:#a1120b;--failbg:#fde7e5;--warn:#7a4d00;
--warnbg:#fff1d6;--na:#4a5360;--nabg:#eceff2;--accent:#0b5cad}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,
"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:20px 28px 60px}
h1{font-size:1.6em;line-height:1.25;margin:.2em 0 .2em}
h2{font-size:1.3em;margin:1.6em 0 .5em;padding-bottom:.2em;border-bottom:2px solid var(--line)}
h3{font-size:1.08em;margin:1.3em 0 .4em}
p{margin:.45em 0}
p.sub,p.small,.muted{color:var(--muted)}
p.sub{margin-bottom:.8em}
p.small{font-size:.88em}
p.lead{font-size:1.08em}
p.nav{font-size:.92em;margin:1em 0;padding:.5em .8em;background:var(--soft);border-radius:6px}
a{color:var(--accent)}
.box{border-radius:8px;padding:.6em 1.1em;margin:.8em 0}
.box.bottom{background:#eef5fc;border:1px solid #b9d3ee}
.box.bottom h2{border:0;margin:.3em 0 .2em}
.box.bottom ul{margin:.3em 0 .5em;padding-left:1.2em}
.box.bottom li{margin:.25em 0}
.box.fail{background:var(--failbg);border:2px solid var(--fail);color:#5c0a06}
.box.note{background:var(--soft);border:1px solid var(--line)}
table{border-collapse:collapse;margin:.5em 0 1em;width:100%;font-size:.92em}
th,td{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
table.summary{font-size:.9em}
.subline{display:block;color:var(--muted);font-size:.88em}
table.compact{width:auto;max-width:100%}
table.keys{width:auto}
table.keys td:first-child{color:var(--muted)}
caption{text-align:left;font-weight:600;padding:.3em 0}
code,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.88em}
code{background:var(--soft);padding:0 3px;border-radius:3px;overflow-wrap:anywhere}
pre{background:var(--soft);padding:.8em 1em;border-radius:6px;white-space:pre-wrap;
overflow-wrap:anywhere}
figure{margin:.6em 0 1.2em}
figure img{max-width:100%;height:auto;border:1px solid var(--line);border-radius:4px}
figcaption{font-size:.86em;color:var(--muted);max-width:900px}
.badge{display:inline-block;padding:0 .45em;border-radius:4px;font-weight:600;
font-size:.9em;white-space:nowrap}
.pass{background:var(--passbg);color:var(--pass)}
.fail{background:var(--failbg);color:var(--fail)}
.warn{background:var(--warnbg);color:var(--warn)}
.na{background:var(--nabg);color:var(--na)}
details{margin:.4em 0 1em}
summary{cursor:pointer;color:var(--accent)}
@media print{main{max-width:none;padding:0}h2{break-after:avoid}figure{break-inside:avoid}}
"""

# Forbid every fetch: images only from data: URIs, styles only inline, nothing else.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; " \
      "form-action 'none'"


def esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def _inline_html(x: Inline) -> str:
    if isinstance(x, str):
        return esc(x)
    if isinstance(x, S):
        t = esc(x.text)
        if x.href:
            # in-page anchors only: never a URL that could leave the page
            return f'<a href="#{esc(_anchor(x.href))}">{t}</a>' if x.style != "b" else \
                f'<a href="#{esc(_anchor(x.href))}"><strong>{t}</strong></a>'
        return {
            "b": f"<strong>{t}</strong>", "i": f"<em>{t}</em>", "code": f"<code>{t}</code>",
            "muted": f'<span class="muted">{t}</span>',
            "sub": f'<span class="subline">{t}</span>',
        }.get(x.style, f'<span class="badge {x.style}">{t}</span>' if x.style else t)
    return "".join(_inline_html(y) for y in x)


def _anchor(href: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", href.lstrip("#"))


def _block_html(b: Any) -> str:
    if isinstance(b, H):
        ident = f' id="{esc(_anchor(b.id))}"' if b.id else ""
        return f"<h{b.level}{ident}>{esc(b.text)}</h{b.level}>"
    if isinstance(b, P):
        cls = f' class="{esc(b.cls)}"' if b.cls else ""
        return f"<p{cls}>{_inline_html(b.content)}</p>"
    if isinstance(b, UL):
        return "<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in b.items) + "</ul>"
    if isinstance(b, Table):
        cls = f' class="{esc(b.cls)}"' if b.cls else ""
        cap = f"<caption>{esc(b.caption)}</caption>" if b.caption else ""
        head = "".join(f'<th scope="col">{_inline_html(h)}</th>' for h in b.head)
        body = "".join("<tr>" + "".join(f"<td>{_inline_html(c)}</td>" for c in r) + "</tr>"
                       for r in b.rows)
        return f"<table{cls}>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if isinstance(b, Fig):
        uri = "data:image/png;base64," + base64.b64encode(b.data).decode("ascii")
        cap = f"<figcaption>{_inline_html(b.caption)}</figcaption>" if b.caption else ""
        return f'<figure><img src="{uri}" alt="{esc(b.alt)}">{cap}</figure>'
    if isinstance(b, Box):
        role = ' role="alert"' if b.kind == "fail" else ""
        return (f'<div class="box {esc(b.kind)}"{role}>'
                + "\n".join(_block_html(x) for x in b.blocks) + "</div>")
    if isinstance(b, Pre):
        return f"<pre>{esc(b.text)}</pre>"
    if isinstance(b, Details):
        return (f"<details><summary>{esc(b.summary)}</summary>"
                + "\n".join(_block_html(x) for x in b.blocks) + "</details>")
    if isinstance(b, Section):
        return (f'<section id="{esc(_anchor(b.id))}">'
                + "\n".join(_block_html(x) for x in b.blocks) + "</section>")
    raise TypeError(f"unknown block {type(b).__name__}")


def render_html(report: Report) -> str:
    """One self-contained HTML page: inline style, embedded figures, no script, no URL."""
    title, blocks = document(report)
    body = "\n".join(_block_html(b) for b in blocks)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="referrer" content="no-referrer">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
            f"<h1>{esc(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n")


# ---------------------------------------------------------------------------------------
# Markdown writer

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])")


def md_escape(text: str) -> str:
    """Escape text for Markdown: HTML-escaped (renderers pass raw HTML through) and
    inline Markdown punctuation backslash-escaped; line breaks become spaces."""
    t = html.escape(str(text), quote=False)
    t = _MD_SPECIAL.sub(r"\\\1", t)
    return re.sub(r"\s*[\r\n\u2028\u2029\x0b\x0c\x85]+\s*", " ", t)


def _md_line(text: str) -> str:
    """Keep a block's first characters from starting a heading, list or quote."""
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text, count=1)


def _inline_md(x: Inline) -> str:
    if isinstance(x, str):
        return md_escape(x)
    if isinstance(x, S):
        t = md_escape(x.text)
        if x.href:
            t = f"[{t}](#{_anchor(x.href)})"
        if x.style in ("b", "fail", "pass", "warn", "i", "muted") and t.strip():
            # emphasis markers must touch the text: keep outer spaces outside them
            mark = "**" if x.style in ("b", "fail", "pass", "warn") else "*"
            core = t.strip()
            return t[: len(t) - len(t.lstrip())] + mark + core + mark + t[len(t.rstrip()):]
        if x.style == "sub":
            return f" ({t})"
        if x.style == "code":
            code = re.sub(r"\s+", " ", str(x.text)).replace("`", "'").replace("|", "\\|")
            return "`" + code + "`"
        return t
    return "".join(_inline_md(y) for y in x)


def _block_md(b: Any) -> str:
    if isinstance(b, H):
        anchor = f'<a id="{_anchor(b.id)}"></a>\n\n' if b.id else ""
        return f"{anchor}{'#' * b.level} {md_escape(b.text)}"
    if isinstance(b, P):
        return _md_line(_inline_md(b.content))
    if isinstance(b, UL):
        return "\n".join(f"- {_md_line(_inline_md(i))}" for i in b.items)
    if isinstance(b, Table):
        lines = [f"*{md_escape(b.caption)}*", ""] if b.caption else []
        lines.append("| " + " | ".join(_inline_md(h) for h in b.head) + " |")
        lines.append("|" + "---|" * len(b.head))
        lines += ["| " + " | ".join(_inline_md(c) for c in r) + " |" for r in b.rows]
        return "\n".join(lines)
    if isinstance(b, Fig):
        cap = f"\n\n*{_inline_md(b.caption)}*" if b.caption else ""
        alt = md_escape(b.alt)
        return f"![{alt}](figures/{b.key}.png){cap}"
    if isinstance(b, Box):
        inner = "\n\n".join(_block_md(x) for x in b.blocks)
        return "\n".join("> " + ln if ln else ">" for ln in inner.split("\n"))
    if isinstance(b, Pre):
        fence = "````" if "```" in b.text else "```"
        return f"{fence}text\n{b.text}\n{fence}"
    if isinstance(b, Section):
        return "\n\n".join(_block_md(x) for x in b.blocks)
    if isinstance(b, Details):
        return "\n\n".join([f"*{md_escape(b.summary)}:*", *(_block_md(x) for x in b.blocks)])
    raise TypeError(f"unknown block {type(b).__name__}")


def render_markdown(report: Report) -> str:
    """The Markdown twin: same content, figures as PNG files under ``figures/``."""
    title, blocks = document(report)
    return f"# {md_escape(title)}\n\n" + "\n\n".join(_block_md(b) for b in blocks) + "\n"
