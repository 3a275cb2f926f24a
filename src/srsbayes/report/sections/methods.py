"""Methods: the sampler and its convergence gate, each family's model, priors, clinical
thresholds, the data (:mod:`.data`) and what is needed to reproduce the numbers.

References
----------
Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). A re-evaluation of random-effects
meta-analysis. J R Stat Soc A 172:137-159 (the predictive effect in a new study).

Vehtari A, Gelman A, Simpson D, Carpenter B, Bürkner P-C (2021). Rank-normalization,
folding, and localization: an improved R-hat. Bayesian Anal 16:667-718.

Betancourt M (2016). Diagnosing suboptimal cotangent disintegrations in Hamiltonian
Monte Carlo. arXiv:1604.00695 (E-BFMI).
"""

from __future__ import annotations

import hashlib
import inspect
import re
from typing import TYPE_CHECKING, Any

from ...families import FAMILIES, get_family, measure_info
from ...inference.derived import DERIVED_STREAM
from ...inference.diagnostics import BFMI_MIN, ESS_MIN, RHAT_MAX
from ...inference.fitting import PPC_STREAM, RETRY_MIN_TUNE, FitSettings
from ..document import Block, H, Inline, P, Pre, S, Section, Table
from .data import data_methods

if TYPE_CHECKING:
    from ..model import Report


def _sampler_paragraph(report: Report) -> P:
    retry = report.settings.retry()
    return P(
        "Each outcome is fitted with a Bayesian random-effects model by the No-U-Turn "
        "sampler (PyMC model, nutpie sampler). Intervals are central (equal-tailed) 95% "
        "credible intervals (CrI); probabilities are proportions of posterior draws. "
        "P(benefit) is the posterior probability that the pooled effect favours "
        f"{report.the_question.treatment.label}; 'in a new study' uses the predictive "
        "effect θ + τz, z ~ N(0, 1) "
        "(Higgins, Thompson & Spiegelhalter 2009). A fit is reported only if it passes the "
        f"convergence gate: R-hat ≤ {RHAT_MAX}, bulk and tail ESS ≥ {ESS_MIN}, no "
        f"divergent transitions, E-BFMI ≥ {BFMI_MIN} (Vehtari et al. 2021; Betancourt "
        f"2016); a failing fit is rerun once with target acceptance {retry.target_accept}, "
        f"{_retry_tune(report.settings)} and, if R-hat or an ESS failed, "
        f"{retry.chains} chains of {retry.draws} draws; "
        "if it still fails it is shown as NOT TRUSTWORTHY.")


_ROLE = re.compile(r":[a-z]+:`~?\.?([^`<]+?)(?: <[^>]+>)?`")
_LITERAL = re.compile(r"``([^`]+)``")
_EMPHASIS = re.compile(r"(?<![\w*])\*(\w[^*\n]*?)\*(?![\w*])")


def plain_docstring(doc: str) -> str:
    """A docstring as clean text for the report: Sphinx roles (``:mod:`.bias_term```,
    ``:func:`count_set```) become their target's name; double back-quotes, emphasis
    asterisks and the ``::`` that opens a literal block are dropped."""
    text = _ROLE.sub(lambda m: m.group(1), inspect.cleandoc(doc))
    text = _LITERAL.sub(lambda m: m.group(1), text)
    text = _EMPHASIS.sub(lambda m: m.group(1), text)
    return re.sub(r"::$", ":", text, flags=re.M)


def sceptical_prior_blocks(report: Report) -> list[Block]:
    """What the sceptical prior of the default sweep is, per measure in the report: the
    prior behind a "not robust" verdict (Spiegelhalter, Abrams & Myles 2004, section 5.5),
    as the sweep builds it (:func:`srsbayes.sensitivity.grid.default_grid`)."""
    from ...errors import InputError
    from ...sensitivity.grid import _effect_priors, difference_grid

    seen: dict[tuple[str, str], str] = {}
    for o in report.outcomes:
        key = (o.spec.family, o.spec.measure)
        if key in seen or o.spec.family not in FAMILIES:
            continue
        info = measure_info(o.spec.family, o.spec.measure)
        try:
            cfg = info.default_grid if info.log_scale else difference_grid(o.spec)
        except InputError:  # no default grid without a difference threshold
            continue
        prior = _effect_priors(o.spec, cfg)[0][1]
        seen[key] = f"{info.measure_name}: {prior.display}"
    if not seen:
        return []
    return [H(3, "The sceptical prior", "methods-sceptical"),
            P(["The sensitivity sweep evaluates every outcome under a sceptical prior for the "
               "effect: centred on no effect, it puts 95% of its mass on effects a sceptic "
               "finds plausible and little on large ones (Spiegelhalter, Abrams & Myles "
               "2004, section 5.5). ", "; ".join(seen.values()), " (on the analysis scale: "
               "log ratios, or differences). Crossed with the wider heterogeneity priors it "
               "is the setting most likely to pull a probability of benefit below the "
               "decision probability; an outcome whose conclusion changes under it is "
               "marked not robust."])]


def family_blocks(name: str) -> list[Block]:
    """A family's heading and its model module's docstring (the model, in words)."""
    info = FAMILIES.get(name)
    blocks: list[Block] = [H(3, info.title if info else name, f"methods-{name}")]
    try:
        blocks.append(Pre(plain_docstring(get_family(name).__doc__ or "")))
    except ImportError:
        blocks.append(P("Model code not available in this version."))
    return blocks


def _priors_table(report: Report) -> Table:
    rows = []
    for o in report.outcomes:
        s = o.summary
        labels = (s or {}).get("prior_labels") or {k: str(v) for k, v in o.spec.priors.items()}
        rationales = (s or {}).get("prior_rationales") or o.spec.rationales
        for name, lab in labels.items():
            rows.append([o.spec.label, S(name, "code"), S(str(lab), "code"),
                         str(rationales.get(name, ""))])
    return Table(["Outcome", "Parameter", "Prior", "Rationale"], rows, cls="compact priors")


def _thresholds_table(report: Report) -> Table:
    rows: list[list[Inline]] = []
    for o in report.outcomes:
        for t in o.spec.thresholds:
            rows.append([o.spec.label, t.measure, f"{t.threshold:g}", t.rationale])
        rows.append([o.spec.label, "decision probability",
                     f"{o.spec.decision_probability:g}",
                     "P(benefit) at or above which the report calls the evidence convincing; "
                     "at or below 1 minus it, convincing for harm"])
    return Table(["Outcome", "Measure", "Threshold", "Rationale"], rows, cls="compact")


def methods_section(report: Report) -> list[Block]:
    """The Methods section."""
    blocks: list[Any] = [H(2, "Methods", "methods"), _sampler_paragraph(report)]
    for name in dict.fromkeys(o.spec.family for o in report.outcomes):
        blocks += family_blocks(name)
    blocks += [H(3, "Priors and their rationale", "methods-priors"), _priors_table(report),
               H(3, "Clinical thresholds", "methods-thresholds"), _thresholds_table(report)]
    blocks += sceptical_prior_blocks(report)
    blocks.append(P(
        "Claims that the arms are 'comparable', 'similar' or 'did not differ' are checked "
        "as the probability that the difference lies within ± the outcome's first clinical "
        "threshold (a region of practical equivalence; Kruschke 2018). The relative risk "
        "reduction is 1 − p_preop / p_postop at the pooled effect in a new population."))
    blocks += data_methods(report)
    blocks += provenance(report)
    return [Section("sec-methods", blocks)]


def _tune(st: Any) -> str:
    """The tuning length: as set, or each family's own (``FamilyInfo.tune``)."""
    if st.tune is not None:
        return str(st.tune)
    return "the family's (" + ", ".join(f"{n} {f.tune}" for n, f in FAMILIES.items()) + ")"


def _retry_tune(st: FitSettings) -> str:
    """The retry's tuning length in words (twice the family's when the settings name none)."""
    if st.tune is not None:
        return f"{st.retry().tune} tuning steps"
    return f"twice the family's tuning steps (at least {RETRY_MIN_TUNE})"


def provenance(report: Report) -> list[Block]:
    """Seed, sampler, data and spec hashes, the command, and software versions."""
    st = report.settings
    rows: list[list[Inline]] = [
        ["Seed", str(st.seed)],
        ["Sampler", f"{st.chains} chains × {st.draws} draws, {_tune(st)} tuning steps, "
                    f"target acceptance {st.target_accept} (retry: target acceptance "
                    f"{st.retry().target_accept}, {_retry_tune(st)}, "
                    f"{st.retry().chains} chains × {st.retry().draws} draws if R-hat or "
                    f"an ESS failed, {st.retry(more_draws=False).chains} × "
                    f"{st.retry(more_draws=False).draws} otherwise)"],
        ["Derived draws", "new-study effect and the baseline model's "
                          f"{report.the_question.control.word} level behind "
                          "every absolute effect, drawn once per fit and read by the summary, "
                          f"the sweep and the report: numpy default_rng([{st.seed}, "
                          f"{DERIVED_STREAM}]); replicated data: default_rng([{st.seed}, "
                          f"{PPC_STREAM}])"],
        ["Data", f"{report.table.path} (sha256 {report.table.sha256})"],
    ]
    for o in report.outcomes:
        digest = hashlib.sha256(o.spec.text.encode("utf-8")).hexdigest()
        rows.append([f"Spec {o.spec.id}", f"{o.spec.path} (sha256 {digest})"])
    rows.append(["Report generated", report.created])
    rows.append(["Command run", report.command])
    rows.append(["To reproduce", S(report.reproduce, "code")])
    return [H(3, "Reproducibility", "methods-provenance"),
            P("Each outcome's posterior.nc and summary.json (next to this report, in a folder "
              "named after the outcome id) record the same provenance."),
            Table(["Item", "Value"], rows, cls="compact"),
            H(3, "Software versions", "methods-versions"),
            Table(["Package", "Version"], [[k, v] for k, v in report.versions.items()],
                  cls="compact")]
