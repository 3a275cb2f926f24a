"""One section per outcome: headline, key numbers, figures, sensitivity, posterior-
predictive check and diagnostics (or why there is no result)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...certainty.tipping import bias_caveats, reverse_bayes_sentence, tipping_sentence
from ...families.measures import measure_word
from ...inference.diagnostics import BFMI_MIN, ESS_MIN, PARETO_K_WARN, RHAT_MAX
from ...inputs.question import Question, asked
from ...status import Status
from ..document import Block, Box, Details, Fig, H, Inline, P, S, Section, Table
from ..text import ONE_STUDY, one_study, pct, verb
from ..vocabulary import family_of, has_absolute
from ..wording import (
    absolute_text,
    ci,
    given,
    new_population_text,
    opposite,
    ratio_name,
    threshold_label,
)

if TYPE_CHECKING:
    from ...inference.summaries import FitSummary
    from ..model import OutcomeReport, Report

_FOREST_CAPTION = (
    "Open squares: each study's observed {name} (Wald 95% CI; 0.5 added to every cell of a "
    "study with a zero cell). Filled circles: the study's shrunken estimate from the model "
    "(95% CrI). Diamond: pooled effect. Dashed: 95% prediction interval for a new study.")
_FOREST_CAPTION_CONTINUOUS = (
    "Open squares: each study's observed {name} (95% CI). Filled circles: shrunken "
    "estimates (95% CrI). Diamond: pooled effect. Dashed: 95% prediction interval for a new "
    "study.")


NO_ABSOLUTE = ("not estimable from contrasts: published estimates give no control-arm "
               "risk to apply them to")


def outcome_sections(report: Report) -> list[Block]:
    """One section per outcome, in the order of the data."""
    return [outcome_section(o, report.the_question) for o in report.outcomes]


def outcome_section(o: OutcomeReport, question: Question | None = None) -> Section:
    """An outcome's section: a result, a NOT TRUSTWORTHY box, or why it was not analysed
    (the arms worded as in ``question``; default: the bundled one)."""
    spec = o.spec
    blocks: list[Any] = [H(2, spec.label, spec.id)]
    if o.status == Status.UNAVAILABLE:
        blocks.append(Box("note", [P(f"Not analysed: {o.message}.")]))
    elif not o.ok:
        blocks += failed_blocks(o.summary)
    else:
        blocks += result_blocks(o, asked(question))
    return Section(f"sec-{spec.id}", blocks)


def failed_blocks(s: FitSummary) -> list[Block]:
    """A fit that failed its convergence gate: no number, only the failed checks."""
    return [Box("fail", [
        P([S("NOT TRUSTWORTHY. ", "b"),
           "The sampler did not pass the convergence gate even after a retry with safer "
           "settings, so its draws may not represent the posterior. No estimate, "
           "probability or figure is reported for this outcome."]),
        P(["Failed checks: ", S("; ".join(s.failures), "code")])]),
        *diagnostics_blocks(s)]


def forest_caption(s: FitSummary) -> str:
    """How to read the forest plot (the observed interval depends on the data kind)."""
    fam = family_of(s)
    return (_FOREST_CAPTION if fam.count_data
            else _FOREST_CAPTION_CONTINUOUS).format(name=fam.measure_name)


def result_blocks(o: OutcomeReport, q: Question) -> list[Block]:
    """A converged fit: headline, key numbers, figures, sensitivity, PPC, diagnostics."""
    spec, s = o.spec, o.summary
    blocks: list[Any] = [
        P(S(headline_sentence(s, q), "b"), "lead"),
        key_numbers(s, q),
        *evidence_blocks(s),
        H(3, "Forest plot", f"{spec.id}-forest"),
        Fig(f"{spec.id}_forest", o.figures["forest"], _forest_alt(s), forest_caption(s)),
        H(3, "Posterior of the effect", f"{spec.id}-posterior"),
        Fig(f"{spec.id}_effect", o.figures["effect"], _effect_alt(s, q),
            f"Shaded: the region where {q.treatment.label} is better; hatched: a "
            "clinically meaningful benefit. Areas are probabilities."),
    ]
    blocks += sensitivity_blocks(o, q)
    blocks.append(H(3, "Posterior-predictive check", f"{spec.id}-ppc"))
    if "ppc" in o.figures:
        blocks.append(Fig(f"{spec.id}_ppc", o.figures["ppc"], _ppc_alt(s),
                          "Diamonds: observed values; bars: 50% and 95% intervals of data "
                          "replicated from the fitted model. Observed values far outside their "
                          "bars would show that the model cannot reproduce a study."))
    blocks += ppc_text(s)
    blocks += diagnostics_blocks(s)
    return blocks


def headline_sentence(s: FitSummary, question: Question | None = None) -> str:
    """The probability of benefit (or, when harm is convincing, of harm) in one sentence."""
    p, dp = s["prob_benefit"], s["decision_probability"]
    t, c = asked(question).treatment.label, asked(question).control.label
    if p <= 1 - dp:
        return (f"There is a {pct(1 - p)} probability that {t} {opposite(s)} "
                f"compared with {c}.")
    return (f"There is a {pct(p)} probability that {t} {verb(s)} compared with "
            f"{c}.")


def _measure_word(code: str, plural: bool = False) -> str:
    """A contrast row's measure in running text ("hazard ratio"), its code if unknown."""
    return measure_word(code, plural)


def _a(word: str) -> str:
    """``word`` with its indefinite article ("an odds ratio", "a risk ratio")."""
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def _studies(names: list[str]) -> str:
    """``A``, ``A and B``, ``A, B and C`` (each study once, in order)."""
    names = list(dict.fromkeys(names))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def mixed_sentence(s: FitSummary) -> str:
    """Which studies entered as arm counts and which as published estimates, for an
    outcome with both kinds of row (``count_rules`` and ``se_rules`` both non-empty);
    empty otherwise."""
    arms = [str(r["study"]) for r in s.family_number("count_rules") or []]
    contrasts = s.family_number("se_rules") or []
    if not arms or not contrasts:
        return ""
    codes = list(dict.fromkeys(str(r.get("measure", "")) for r in contrasts))
    if len(contrasts) == 1:
        what = f"a published estimate ({_a(_measure_word(codes[0]))} with its standard error)"
    else:
        what = ("published estimates (" + " or ".join(_measure_word(c, plural=True)
                                                     for c in codes)
                + " with their standard errors)")
    return (f"Mixed evidence: {_studies(arms)} entered as arm counts (events of n per arm), "
            f"{_studies([str(r['study']) for r in contrasts])} as {what}; one model pools "
            "both.")


def approximation_sentences(s: FitSummary) -> list[Inline]:
    """One sentence per contrast row pooled as another measure (``approximations``: the
    spec's ``approximate_measures``, e.g. a hazard ratio pooled as an odds ratio, which
    for a rare event are close)."""
    return [[f"{r['study']}'s {_measure_word(str(r['measure']))} is pooled as "
             f"{_a(_measure_word(str(r['pooled_as'])))} (the spec's ",
             S("approximate_measures", "code"),
             " accepts it as an approximation for a rare event)."]
            for r in s.family_number("approximations") or []]


def evidence_blocks(s: FitSummary) -> list[Block]:
    """How mixed evidence entered the model and which rows are approximations."""
    blocks: list[Block] = []
    if one_study(s):
        blocks.append(Box("note", [P([S("One study. ", "b"), ONE_STUDY])]))
    for r in s.family_number("se_approximations") or []:
        blocks.append(P([S("Approximate standard error. ", "b"),
                         f"{r['study']}: {r['rule']}: {r['detail']}."], "small"))
    if mixed := mixed_sentence(s):
        blocks.append(P(mixed))
    if approx := approximation_sentences(s):
        blocks.append(Box("note", [P([S("Approximation. ", "b"), a]) for a in approx]))
    return blocks


def _absolute_rows(s: FitSummary, q: Question) -> list[list[Inline]]:
    a = s.get("absolute", {})
    rows: list[list[Inline]] = []
    for arm in ("postop", "preop"):
        for key in (f"risk_{arm}", f"median_{arm}"):
            if key in a:
                with_arm = q.arm(arm).short
                what = (f"Risk of {s['event']} with {with_arm}, new population"
                        if key.startswith("risk") else f"Median OS with {with_arm} (months)")
                rows.append([what, ci(a[key], "{:.1f}%" if key.startswith("risk")
                                      else "{:.1f}")])
    return rows


def tau_label(s: FitSummary) -> str:
    """What τ is measured in: the log scale of a ratio, or the units of a difference."""
    fam = family_of(s)
    scale = "log scale" if fam.log_scale else f"in the units of the {fam.measure_name}"
    return f"Between-study heterogeneity τ ({scale})"


def _prior_words(text: str) -> str:
    """``halfnormal(0.25)`` as ``HN(0.25)``."""
    return text.replace("halfnormal", "HN")


def key_numbers(s: FitSummary, question: Question | None = None) -> Table:
    """The outcome's posterior in one table."""
    name = ratio_name(s)
    q = asked(question)
    t, c = q.treatment, q.control
    rows: list[list[Inline]] = [
        [f"{'Estimated' if one_study(s) else 'Pooled'} {name} ({t.word} vs {c.word}"
         f"{'; one study, not pooled' if one_study(s) else ''})", ci(s["effect"])],
        [f"{name[:1].upper() + name[1:]} expected in a new study (95% prediction interval)",
         ci(s["prediction"])],
        [tau_label(s), ci(s["tau"])],
        *_absolute_rows(s, q),
    ]
    if (inflation := s.family_number("se_inflation")) is not None:
        rows.append(["Standard-error inflation factor λ (rules "
                     + ", ".join(str(r) for r in inflation.get("applies_to_rules", []))
                     + ")", ci(inflation)])
    for line in absolute_text(s):
        rows.append([f"Absolute effect of {t.short} (primary, as in the summary of findings)",
                     line])
    if (new := new_population_text(s)):
        rows.append([f"Absolute effect in a new population (secondary: {c.word} level drawn "
                     "from the baseline model, predictive)", new])
    if (sens := s.family_number("baseline_sd_sensitivity")):
        rows.append([f"{c.word[:1].upper() + c.word[1:]} risk of a new population, by the "
                     "prior on the spread between "
                     "populations (what the secondary effect rests on; no published "
                     "between-centre variation is at hand to set it)",
                     "; ".join(f"{_prior_words(r['sd_prior'])}"
                               f"{' (default)' if r['default'] else ''}: "
                               f"{ci(r['risk_postop_new'], '{:.1f}%')}"
                               for r in sens["rows"])])
    if not has_absolute(s):
        rows.append([f"Absolute effect of {t.short}", NO_ABSOLUTE])
    rows.append([f"P({t.short} is better) — pooled effect", S(pct(s["prob_benefit"]), "b")])
    rows.append([f"P({t.short} is better) — in a new study",
                 pct(s["prob_benefit_new_study"])])
    for t in s["thresholds"]:
        rows.append([f"P(clinically meaningful benefit: {threshold_label(s, t)})",
                     [S(pct(t["probability"]), "b"),
                      f" (new study: {pct(t['probability_new_study'])})"]])
    return Table(["Quantity", "Posterior median (95% CrI) or probability"], rows,
                 cls="keys")


def _forest_alt(s: FitSummary) -> str:
    shown = family_of(s).shown  # observed estimates are on the analysis scale
    studies = "; ".join(
        f"{r['study']} observed {float(shown(r['observed']['estimate'])):.2f}, shrunken "
        f"{r['shrunken']['median']:.2f}" for r in s["study_effects"])
    return (f"Forest plot of {s['label']}: {studies}; pooled {ratio_name(s)} "
            f"{ci(s['effect'])}; new-study prediction {ci(s['prediction'])}.")


def _effect_alt(s: FitSummary, q: Question) -> str:
    return (f"Posterior density of the pooled {ratio_name(s)} of {s['label']}, median "
            f"{s['effect']['median']:.2f}; probability that {q.treatment.label} is better "
            f"{pct(s['prob_benefit'])}.")


def _ppc_alt(s: FitSummary) -> str:
    return (f"Posterior-predictive check of {s['label']}: observed values per study and arm "
            "against intervals of replicated data.")


def sensitivity_blocks(o: OutcomeReport, question: Question | None = None) -> list[Block]:
    """The sweep's verdicts over priors and data, its figure and its table."""
    spec, sw = o.spec, o.sweep
    blocks: list[Any] = [H(3, "Sensitivity to priors and data", f"{spec.id}-sensitivity")]
    if not sw.available:
        blocks.append(Box("note", [P(f"Sensitivity analysis not available: {sw.note}.")]))
        return blocks
    rule = sw.overall.get("rule", f"P(benefit) >= {spec.decision_probability:g}")
    rounded = (" and with the event counts rounded the other way"
               if family_of(o.summary).count_data else "")
    blocks.append(P(f"The sweep computes the model under alternative priors and, at the "
                    f"default priors, without each study in turn{rounded} (from the default "
                    f"fit by Pareto-smoothed importance sampling where that is reliable, "
                    f"otherwise by refitting); it asks whether the conclusion {rule} "
                    f"changes."))
    blocks.append(P([verdict_badge(sw.robust, "priors"), " ", sw.text]))
    if sw.data_text:
        blocks.append(P([verdict_badge(sw.data_robust, "data"), " ", sw.data_text]))
    blocks += [P(t[0].upper() + t[1:] + ".") for t in (tipping_sentence(o.summary, question),
                                                      reverse_bayes_sentence(o.summary)) if t]
    if any(r.get("kind") == "bias" for r in sw.rows):
        blocks.append(P("Bias-adjusted rows: a bias shared by the studies (Welton et al. "
                        "2009). " + bias_caveats(), "small"))
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


def verdict_badge(robust: bool | None, what: str) -> S:
    """``Robust to priors`` / ``Not robust to priors`` / ``Priors: not assessable``."""
    if robust is None:
        return S(f"{what.capitalize()}: not assessable", "na")
    return S(f"Robust to {what}", "pass") if robust else S(f"Not robust to {what}", "warn")


def _sweep_row(r: dict[str, Any], reference: str) -> list[Inline]:
    ok = bool(r.get("ok"))
    med, lo, hi = r.get("effect_median"), r.get("effect_lo"), r.get("effect_hi")
    eff = (f"{med:.2f} ({lo:.2f} to {hi:.2f})" if ok and given(med) and given(lo)
           and given(hi) else "—")
    pb, tau = r.get("prob_benefit"), r.get("tau_median")
    label: Inline = str(r.get("setting", ""))
    if label == reference:
        label = [S(str(label), "b"), S(" (default)", "muted")]
    return [label, str(r.get("data", "")), pct(pb) if ok and given(pb) else "—", eff,
            f"{tau:.2f}" if ok and given(tau) else "—",
            S("pass", "pass") if ok else S("FAIL — not assessable", "fail")]


def sweep_table(rows: list[dict[str, Any]], reference: str = "") -> Table:
    """Every setting of the sweep: P(benefit), pooled effect, τ and its gate."""
    return Table(["Setting", "Data", "P(benefit)", "Pooled effect (95% CrI)", "τ median",
                  "Diagnostics"], [_sweep_row(r, reference) for r in rows], cls="compact")


def _loo_note(s: FitSummary, loo: dict[str, Any]) -> str:
    k = loo.get("pareto_k", [])
    ks = ", ".join(f"{st} {v:.2f}" for st, v in zip(s["studies"], k, strict=False)
                   if given(v))
    note = f"Leave-one-study-out (PSIS-LOO) Pareto k: {ks}. "
    return note + (f"Values above {PARETO_K_WARN} mean a study is highly influential: with "
                   "so few studies, removing one changes the posterior noticeably."
                   if loo.get("warning") else "No study is unduly influential.")


def ppc_text(s: FitSummary) -> list[Block]:
    """Studies the model reproduces poorly (mid-p-values) and PSIS-LOO influence."""
    ppc = s.get("ppc")
    if not ppc:
        return []
    flagged = []
    for name, ps in ppc.get("pvalues", {}).items():
        for study, p in zip(s["studies"], ps, strict=False):
            # NaN (None in a summary.json read from disk): the study has no value for name
            if given(p) and (p < 0.05 or p > 0.95):
                flagged.append(f"{study} ({name.replace('_', ' ')}: {p:.2f})")
    text = ("Posterior-predictive mid-p-values are all between 0.05 and 0.95: the model "
            "reproduces every study." if not flagged else
            "Studies the model reproduces poorly (mid-p-value < 0.05 or > 0.95): "
            + "; ".join(flagged) + ".")
    blocks: list[Block] = [P(text)]
    loo = ppc.get("loo") or {}
    if loo:
        blocks.append(P(_loo_note(s, loo), "small"))
    for name, error in (ppc.get("errors") or {}).items():
        blocks.append(P(f"The {'PSIS-LOO' if name == 'loo' else 'posterior-predictive'} "
                        f"check could not be computed for this fit ({error}).", "small"))
    return blocks


def _gate(ok: bool) -> S:
    return S("pass", "pass") if ok else S("FAIL", "fail")


def diagnostics_blocks(s: FitSummary) -> list[Block]:
    """The convergence gate, check by check (Vehtari et al. 2021; Betancourt 2016)."""
    d = s.diagnostics
    rows: list[list[Inline]] = [
        ["R-hat (max)", f"{d.rhat_max:.3f}", f"≤ {RHAT_MAX}", _gate(d.rhat_max <= RHAT_MAX)],
        ["Bulk ESS (min)", f"{d.ess_bulk_min:.0f}", f"≥ {ESS_MIN}",
         _gate(d.ess_bulk_min >= ESS_MIN)],
        ["Tail ESS (min)", f"{d.ess_tail_min:.0f}", f"≥ {ESS_MIN}",
         _gate(d.ess_tail_min >= ESS_MIN)],
        ["Divergent transitions", str(d.divergences), "0", _gate(d.divergences == 0)],
        ["E-BFMI (min)", f"{d.bfmi_min:.2f}", f"≥ {BFMI_MIN}", _gate(d.bfmi_min >= BFMI_MIN)],
    ]
    status = (S("PASS — the fit converged", "pass") if d.ok
              else S("FAIL — NOT TRUSTWORTHY", "fail"))
    return [H(3, "Diagnostics", f"{s.outcome}-diagnostics"),
            P(["Status: ", status, f" (sampling attempts: {d.attempts}; "
               f"{s.chains} chains × {s.draws} draws after {s.tune} tuning steps, "
               f"target acceptance {s.target_accept})"]),
            Table(["Check", "Value", "Criterion", "Status"], rows, cls="compact")]
