"""The robustness verdict of a sweep: does the conclusion survive every setting tried?

Each converged row of a sweep table is one of three things:

* it **holds** the decision rule ``P(benefit) >= decision_probability``,
* it **fails** it, or
* it is **borderline**: its P(benefit) lies within :data:`BORDERLINE_MCSE` Monte Carlo
  standard errors of the decision probability, so another seed could put it on either
  side. A borderline row is neither a hold nor a flip.

The verdict compares the decided rows with the reference (spec-default) row and names the
rows that flip and their kind (prior, leave-one-out, rounding, ...). It never says "every"
without saying how many settings failed the convergence gate or were borderline: a flip
can hide among them.

References
----------
Spiegelhalter DJ, Abrams KR, Myles JP (2004). Bayesian Approaches to Clinical Trials and
Health-Care Evaluation. Wiley, Section 3.10 (sensitivity analysis).

Vehtari A, Gelman A, Simpson D, Carpenter B, Bürkner P-C (2021). Rank-normalization,
folding, and localization: an improved R-hat for assessing convergence of MCMC. Bayesian
Analysis 16:667-718 (the effective sample size behind the Monte Carlo standard error).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import pandas as pd

BORDERLINE_MCSE = 2.0
"""A row is borderline when ``|P(benefit) - decision_probability| < 2 MCSE``."""

MCSE_COLUMN = "prob_benefit_mcse"
"""Sweep-table column with the Monte Carlo standard error of P(benefit)."""

KIND_WORDS = {
    "prior": "the choice of priors",
    "leave-one-out": "leaving out one study",
    "rounding": "the rounding of the counts",
    "coding": "the coding of the arms",
    "rate type": "reading the rates as Kaplan-Meier estimates",
    "bias": "adjusting for a shared bias of the size indirect meta-epidemiological evidence "
            "suggests",
}
"""What a row kind varies, for "not robust to ..." (other kinds read "the KIND rows")."""

class Status(StrEnum):
    """A converged row's status under the decision rule (a ``str``: JSON reads the same)."""

    HOLDS = "holds"
    FAILS = "fails"
    BORDERLINE = "borderline"


@dataclass(frozen=True)
class Entry:
    """A converged row as the verdict lists it (a flip or a borderline row)."""

    setting: str
    kind: str
    prob_benefit: float
    mcse: float
    conclusion: str

    def as_dict(self) -> dict[str, object]:
        """The entry in ``flips``/``borderline`` of the verdict's dict."""
        return asdict(self)


# -- one row -------------------------------------------------------------------------------------


def indicator_mcse(indicator: Any) -> float:
    """Monte Carlo standard error of the mean of a 0/1 indicator of posterior draws.

    The MCSE of the mean from its effective sample size (arviz-stats ``mcse``, method
    ``"mean"``; Vehtari et al. 2021), about ``sqrt(p (1 - p) / ESS)``. Zero when every draw
    agrees.

    Parameters
    ----------
    indicator
        Boolean or 0/1 draws with ``chain`` and ``draw`` dimensions (an
        ``xarray.DataArray``).
    """
    from arviz_stats import mcse

    values = indicator.astype(float)
    if float(values.min()) == float(values.max()):  # constant: no Monte Carlo error
        return 0.0
    return float(mcse(values, method="mean"))


def is_borderline(p: float, mcse: float, decision_probability: float) -> bool:
    """Whether ``p`` lies within :data:`BORDERLINE_MCSE` standard errors of the threshold."""
    if not math.isfinite(mcse) or mcse <= 0:
        return False
    return abs(p - decision_probability) < BORDERLINE_MCSE * mcse


def status(p: float, mcse: float, decision_probability: float) -> Status:
    """:class:`Status` ``holds``, ``fails`` or ``borderline`` for one converged row."""
    if is_borderline(p, mcse, decision_probability):
        return Status.BORDERLINE
    return Status.HOLDS if p >= decision_probability else Status.FAILS


def conclusion_text(p: float | None, decision_probability: float, mcse: float = 0.0) -> str:
    """``P(benefit) >= 0.95``, ``P(benefit) < 0.95``, ``borderline ...`` or ``not assessable``."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "not assessable"
    if is_borderline(p, mcse, decision_probability):
        return (f"borderline: P(benefit) within {BORDERLINE_MCSE:g} Monte Carlo SEs of "
                f"{decision_probability:g}")
    op = ">=" if p >= decision_probability else "<"
    return f"P(benefit) {op} {decision_probability:g}"


def kinds_phrase(kinds: Sequence[str]) -> str:
    """What the rows of ``kinds`` vary, joined: "the choice of priors and leaving out one
    study" (empty for no kinds)."""
    words = [KIND_WORDS.get(k, f"the {k} rows") for k in kinds]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


# -- the table -----------------------------------------------------------------------------------


def _statuses(conv: pd.DataFrame, decision_probability: float) -> pd.Series:
    mcse = (conv[MCSE_COLUMN].fillna(0.0) if MCSE_COLUMN in conv
            else pd.Series(0.0, index=conv.index))
    return pd.Series([status(float(p), float(m), decision_probability)
                      for p, m in zip(conv["prob_benefit"], mcse, strict=True)],
                     index=conv.index, dtype=object)


def _kinds(rows: pd.DataFrame) -> pd.Series:
    return rows["kind"] if "kind" in rows else pd.Series("prior", index=rows.index)


def _reference(rows: pd.DataFrame, conv: pd.DataFrame, st: pd.Series,
               reference: str | None) -> tuple[bool | None, str, str | None]:
    """(reference meets the rule, how the text says where it comes from, reference label).

    The spec-default row when it converged and is decided; otherwise the conclusion of
    most decided rows (None when no row is decided).
    """
    decided = st[st != Status.BORDERLINE]
    if reference is not None:
        ref = st[conv["setting"] == reference]
        if len(ref) and ref.iloc[0] != Status.BORDERLINE:
            return ref.iloc[0] == Status.HOLDS, "under the default priors", reference
    majority = None if decided.empty else bool(
        (decided == Status.HOLDS).sum() * 2 >= len(decided))
    if reference is not None and len(st[conv["setting"] == reference]):
        note = "in most decided settings (the default setting is borderline)"
    elif reference is not None and reference in set(rows["setting"]):
        note = "in most converged settings (the default setting did not converge)"
    else:
        note = "in most converged settings"
    return majority, note, None


def _scope(n_settings: int, n_conv: int, n_decided: int, n_borderline: int,
           meets: bool, rng_text: str) -> str:
    """Where the rule is (not) met: "all 15 converged settings (...)" only when nothing
    failed the gate or was borderline, else "every setting that converged (n of m; ...)"."""
    n_failed = n_settings - n_conv
    if not n_failed and not n_borderline:
        return f"{'all' if meets else 'none of the'} {n_conv} converged settings ({rng_text})"
    which = "every setting that converged" if meets else "none of the settings that converged"
    if n_borderline:
        which += " and " + ("is" if meets else "are") + " not borderline"
    parts = [f"{n_failed} failed the gate"] if n_failed else []
    parts += [f"{n_borderline} borderline"] if n_borderline else []
    return f"{which} ({n_decided} of {n_settings}; {', '.join(parts)}; {rng_text})"


def _count_kinds(kinds: Sequence[str]) -> str:
    counts: dict[str, int] = {}
    for k in kinds:
        counts[k] = counts.get(k, 0) + 1
    return ", ".join(f"{n} {k} row{'s' if n > 1 else ''}" for k, n in counts.items())


def _listing(entries: list[Entry], *, mcse: bool = False, limit: int = 8) -> str:
    shown = ", ".join(f"'{e.setting}' ({e.prob_benefit:.3f}"
                      + (f" ± {e.mcse:.3f}" if mcse else "") + ")" for e in entries[:limit])
    return shown + (f" and {len(entries) - limit} more" if len(entries) > limit else "")


def _text(n_settings: int, n: int, p: pd.Series, rule: str, decision_probability: float,
          ref_meets: bool | None, ref_text: str | None, ref_note: str,
          flips: list[Entry], borderline: list[Entry],
          not_assessable: list[str]) -> str:
    """The verdict in words: headline, where the rule holds or flips (with the kinds of
    the flipping rows), then the borderline and not-assessable rows."""
    rng_text = f"P(benefit) {p.min():.3f} to {p.max():.3f}"
    if ref_meets is None:
        return (f"BORDERLINE: in each of the {n} converged settings P(benefit) lies within "
                f"{BORDERLINE_MCSE:g} Monte Carlo SEs of {decision_probability:g} "
                f"({rng_text}), so none decides the rule {rule}; more draws would."
                + _not_assessable_text(not_assessable))
    n_b = len(borderline)
    if not flips:
        text = (f"ROBUST: the decision threshold {rule} is met in "
                f"{_scope(n_settings, n, n - n_b, n_b, ref_meets, rng_text)}.")
    else:
        text = (f"NOT ROBUST: {ref_text} {ref_note}, but the conclusion flips in "
                f"{len(flips)} of {n} converged settings "
                f"({_count_kinds([f.kind for f in flips])}): {_listing(flips)} "
                f"({rng_text}).")
    if borderline:
        text += (f" Borderline (P(benefit) within {BORDERLINE_MCSE:g} Monte Carlo SEs of "
                 f"{decision_probability:g}, neither a hold nor a flip): "
                 f"{_listing(borderline, mcse=True)}.")
    return text + _not_assessable_text(not_assessable)


def _not_assessable_text(not_assessable: list[str]) -> str:
    if not not_assessable:
        return ""
    return (" Not assessable (failed the convergence gate, excluded; a flip may hide among "
            f"them): {', '.join(repr(s) for s in not_assessable)}.")


def range_text(p: pd.Series, flips: list[Entry], decision_probability: float,
               ref_meets: bool | None, limit: int = 4) -> str:
    """The range of P(benefit) over the converged settings and the settings that flip, by
    name: "P(benefit) 0.898 to 0.999 across 16 settings; below 0.95 only with 'a' (0.898)"
    — what a reader needs instead of "flips with the choice of priors"."""
    text = f"P(benefit) {p.min():.3f} to {p.max():.3f} across {len(p)} settings"
    if not flips or ref_meets is None:
        return text
    side = "below" if ref_meets else "at or above"
    return f"{text}; {side} {decision_probability:g} only with {_listing(flips, limit=limit)}"


def _not_assessable_verdict(rows: pd.DataFrame, rule: str, reference: str | None,
                            not_assessable: list[str]) -> dict[str, Any]:
    return {"robust": False, "holds_everywhere": False, "assessable": False, "complete": False,
            "rule": rule, "conclusion": None, "reference": reference,
            "n_settings": len(rows), "n_converged": 0, "n_failed": len(rows),
            "n_decided": 0, "n_borderline": 0, "flips": [], "flip_kinds": [], "flip_what": "",
            "borderline": [], "not_assessable": not_assessable, "prob_benefit_range": None,
            "threshold_ranges": {}, "range_text": "not assessable",
            "text": f"NOT ASSESSABLE: none of the {len(rows)} settings passed the "
                    "convergence gate, so no conclusion is reported."}


def verdict(rows: pd.DataFrame, decision_probability: float, *,
            reference: str | None = None) -> dict[str, Any]:
    """Does ``P(benefit) >= decision_probability`` give the same answer in every setting?

    A pure function of the sweep table.

    Parameters
    ----------
    rows
        Needs columns ``setting``, ``ok`` and ``prob_benefit``; uses ``kind`` (default
        ``"prior"``) and :data:`MCSE_COLUMN` (default 0, no row borderline) when present.
        Every column starting with ``p_`` is treated as a threshold probability and its
        range reported.
    decision_probability
        The spec's decision threshold.
    reference
        Label of the spec-default setting, whose conclusion the others are compared with.
        If it did not converge or is borderline (or is not given), the conclusion of most
        decided settings is the reference.

    Returns
    -------
    dict
        ``robust`` (no decided converged row flips, and at least one is decided),
        ``holds_everywhere`` (every converged setting decidedly meets the rule),
        ``complete`` (no setting failed the gate or was borderline, so "all" means all),
        ``conclusion`` (the reference conclusion), ``flips`` (decided rows whose conclusion
        differs: setting, kind, P(benefit), its MCSE, conclusion), ``flip_kinds`` (the
        kinds of those rows, in table order) and ``flip_what`` (the same in words, e.g.
        "the choice of priors"), ``borderline`` (rows within 2 MCSE of the threshold),
        ``not_assessable`` (settings that failed the convergence gate), the counts
        ``n_settings``, ``n_converged``, ``n_failed``, ``n_decided``, ``n_borderline``,
        ranges of P(benefit) and of each threshold probability over converged settings,
        ``text``, a plain-language summary, and ``range_text``, the range of P(benefit)
        with the settings that flip named (:func:`range_text`).
    """
    ok = rows["ok"].astype(bool)
    conv = rows[ok]
    not_assessable = [str(s) for s in rows.loc[~ok, "setting"]]
    rule = f"P(benefit) >= {decision_probability:g}"
    if conv.empty:
        return _not_assessable_verdict(rows, rule, reference, not_assessable)
    st = _statuses(conv, decision_probability)
    kinds = _kinds(conv)
    mcse = conv[MCSE_COLUMN] if MCSE_COLUMN in conv else pd.Series(0.0, index=conv.index)
    ref_meets, ref_note, ref_label = _reference(rows, conv, st, reference)
    entries = [Entry(str(s), str(k), float(p), float(m) if pd.notna(m) else 0.0,
                     conclusion_text(float(p), decision_probability))
               for s, k, p, m in zip(conv["setting"], kinds, conv["prob_benefit"], mcse,
                                     strict=True)]
    borderline = [e for e, s in zip(entries, st, strict=True) if s == Status.BORDERLINE]
    flips = [] if ref_meets is None else [
        e for e, s in zip(entries, st, strict=True)
        if s != Status.BORDERLINE and (s == Status.HOLDS) != ref_meets]
    flip_kinds = list(dict.fromkeys(f.kind for f in flips))
    p = conv["prob_benefit"]
    thresholds = {c: [float(conv[c].min()), float(conv[c].max())]
                  for c in rows.columns if c.startswith("p_") and conv[c].notna().any()}
    n, n_b = len(conv), len(borderline)
    ref_text = (None if ref_meets is None
                else conclusion_text(1.0 if ref_meets else 0.0, decision_probability))
    text = _text(len(rows), n, p, rule, decision_probability, ref_meets, ref_text, ref_note,
                 flips, borderline, not_assessable)
    return {
        "robust": ref_meets is not None and not flips,
        "holds_everywhere": bool((st == Status.HOLDS).all()), "assessable": True,
        "complete": not not_assessable and not borderline,
        "rule": rule, "conclusion": ref_text, "reference": ref_label,
        "n_settings": len(rows), "n_converged": n, "n_failed": len(not_assessable),
        "n_decided": n - n_b, "n_borderline": n_b,
        "flips": [f.as_dict() for f in flips], "flip_kinds": flip_kinds,
        "flip_what": kinds_phrase(flip_kinds),
        "borderline": [b.as_dict() for b in borderline], "not_assessable": not_assessable,
        "prob_benefit_range": [float(p.min()), float(p.max())],
        "threshold_ranges": thresholds, "text": text,
        "range_text": range_text(p, flips, decision_probability, ref_meets),
    }
