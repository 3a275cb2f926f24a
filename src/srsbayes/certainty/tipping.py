"""The bias tipping points and the reverse-Bayes prior of a fit, in words.

The numbers are the fit's own (``summary["tipping_points"]`` and
``summary["reverse_bayes"]``, :mod:`srsbayes.inference.tipping`); this module only says
them, once, for ``certainty`` (text and ``certainty.json``), the report and the README.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypedDict

from ..inputs.question import Question, asked

if TYPE_CHECKING:
    from ..outputs import JSONObject, JSONValue


class Tolerance(TypedDict):
    """How much bias, and how sceptical a prior, a conclusion tolerates: the fit's
    ``tipping_points`` and ``reverse_bayes`` (:mod:`srsbayes.inference.tipping`) with their
    sentences (:func:`tipping_sentence`, :func:`reverse_bayes_sentence`); written into
    ``certainty.json`` as it is."""

    tipping_points: JSONObject
    reverse_bayes: JSONObject | None
    tipping_text: str
    reverse_bayes_text: str


def _ratio_name(scale: str) -> str:
    """"odds ratios" for "log odds ratio" (the ratio of ratios says what it multiplies)."""
    return scale.removeprefix("log ").strip() + "s" if scale.startswith("log ") else scale


def tipping_sentence(summary: Mapping[str, JSONValue], question: Question | None = None) -> str:
    """"The conclusion holds unless the cohorts share a bias exaggerating the benefit by a
    ratio of odds ratios of 1.71 or more ...", or ``""`` when there is no conclusion of
    benefit to tip (or the fit carries no tipping points); the treatment arm worded as in
    ``question`` (default: the bundled one)."""
    tp = summary.get("tipping_points")
    if not tp or not tp.get("applies"):
        return ""
    dp = tp["decision_probability"]
    scale = tp.get("scale", "")
    if tp.get("mean_ratio") is not None:
        size = (f"a ratio of {_ratio_name(scale)} of {tp['mean_ratio']:.2f} or more "
                f"(log {tp['mean']:.2f})")
        at = f"a mean ratio of {tp['sd_at_mean_ratio']:.2f}"
    else:
        size = f"{tp['mean']:.2f} or more on the {scale}"
        at = f"a mean of {tp['sd_at_mean']:.2f}"
    sd = (f"more than {tp['sd']:.1f}" if tp.get("sd_beyond") else f"{tp['sd']:.2f}")
    spread = (f"which a shared bias at the bias source's mean ({at}) already is"
              if tp["sd"] <= 0  # the mean alone tips it: no SD is needed
              else f"or a shared bias around {at} whose SD on the log scale exceeds {sd}")
    return (f"P(benefit) stays at or above {dp:g} unless the studies share a bias "
            f"favouring {asked(question).treatment.word} of {size}, {spread} (tipping points; "
            "Mathur & VanderWeele 2020)")


def reverse_bayes_sentence(summary: Mapping[str, JSONValue]) -> str:
    """"A sceptical prior normal(0, 0.35) on the log odds ratio ... brings P(benefit) to
    0.95", or ``""`` when there is no conclusion of benefit."""
    rb = summary.get("reverse_bayes")
    if not rb or not rb.get("applies"):
        return ""
    scale = summary.get("tipping_points", {}).get("scale", "effect")
    limit = rb.get("sceptical_limit")
    span = (f" (95% probability on ratios between {1 / limit:.2f} and {limit:.2f})"
            if limit else "")
    return (f"reverse-Bayes (Matthews 2018): only a sceptic whose prior on the {scale} is "
            f"normal(0, {rb['sd']:.2f}) or narrower{span} would put P(benefit) below "
            f"{rb['decision_probability']:g} (with normal(0, {rb['sd']:.2f}) exactly: "
            f"{rb['prob_benefit_exact']:.3f})")


def bias_caveats() -> str:
    """What the bundled bias priors are evidence about, said wherever they are used."""
    from ..priors.bias import load_bias_priors

    seen: dict[str, str] = {}
    for name in ("bundled", "wide"):
        for r in load_bias_priors(name).rules:
            if r.caveat:
                seen.setdefault(r.source.split(" (")[0], r.caveat)
    return " ".join(f"{src}: {text[0].upper() + text[1:]}." for src, text in seen.items())
