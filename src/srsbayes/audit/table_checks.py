"""Checks of the study table itself: counts, arms, studies, follow-up, homogeneity.

Each function is one registered check (see :mod:`srsbayes.audit.registry`); they need
only the study table and the specs, so they also run on a user's own data.
"""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..families import ARMS, FAMILIES, FamilyInfo, get_family
from ..inputs.data import outcome_table
from .cells import count_rows, raw_cells
from .findings import Finding
from .numbers import exact, fixed, is_missing, matches, short
from .registry import AuditInputs

FOLLOW_UP_RATIO = 1.5
"""Flag an outcome whose longest follow-up is at least this multiple of the shortest."""
HOMOGENEITY_P = 0.05
"""Flag an outcome whose studies are this improbably similar (lower tail of Cochran's Q)."""


def check_events(inputs: AuditInputs) -> list[Finding]:
    """Counts within ``0..n`` and consistent with the percentage when both are given."""
    table = inputs.table
    raw = raw_cells(table, "percent")
    found: list[Finding] = []
    rows = count_rows(table, inputs.specs)
    both = 0
    for rec in rows:
        row, n, ev = int(rec["row"]), rec["n"], rec["events"]
        where = (rec["study"], rec["outcome"], rec["arm"])
        if is_missing(ev):
            found.append(Finding(*where, "events", "error", "no events and no percent", row))
            continue
        if ev < 0 or ev > n or ev != int(ev):
            found.append(Finding(*where, "events", "error",
                                 f"events = {ev:g} is not a whole number in 0..n = {n:g}", row,
                                 {"events": ev, "n": n}))
            continue
        if rec.get("events_rule") != "reported" or is_missing(rec["percent"]):
            continue
        both += 1
        p, d = exact(raw.get(row) or rec["percent"])
        implied = Fraction(100 * int(ev), int(n))
        if not matches(implied, p, d):  # the GRIM rule (srsbayes.written)
            found.append(Finding(*where, "events", "error",
                                 f"{int(ev)} events of {int(n)} is {fixed(implied)}%, which does "
                                 f"not round to the reported {short(p)}%", row,
                                 {"events": int(ev), "n": int(n), "percent": p,
                                  "implied_percent": implied}))
    if not found and rows:
        pairs = (f"{both} report both events and percent, all consistent" if both
                 else "none reports both events and percent")
        found.append(Finding(None, None, None, "events", "info",
                             f"all {len(rows)} binary rows have events within 0..n; {pairs}",
                             values={"rows": len(rows), "both_given": both}))
    return found


def check_arms(inputs: AuditInputs) -> list[Finding]:
    """Exactly one preop and one postop row per study × outcome (contrast rows, with ``arm``
    empty, compare the arms themselves and are not counted)."""
    frame = inputs.table.frame
    frame = frame[frame["arm"] != ""]
    found: list[Finding] = []
    pairs = frame.groupby(["study", "outcome"], sort=False)["arm"]
    for (study, outcome), arms in pairs:
        seen = list(arms)
        missing = [a for a in ARMS if a not in seen]
        dup = sorted({a for a in seen if seen.count(a) > 1})
        if missing or dup:
            what = "; ".join(filter(None, [
                f"missing {', '.join(missing)}" if missing else "",
                f"duplicated {', '.join(dup)}" if dup else ""]))
            found.append(Finding(study, outcome, None, "arms", "error",
                                 f"{what}: a study contributes a comparison only with one row "
                                 "per arm"))
    if not found and pairs.ngroups:
        found.append(Finding(None, None, None, "arms", "info",
                             f"all {pairs.ngroups} study × outcome pairs have exactly one "
                             "preop and one postop row", values={"pairs": pairs.ngroups}))
    return found


def check_poolable(inputs: AuditInputs) -> list[Finding]:
    """An outcome reported by fewer than two studies cannot be meta-analysed.

    Silent when every outcome has two or more studies; ``fit``, ``sweep`` and ``report``
    analyse a one-study outcome as one study and say so, the audit as a finding.
    """
    frame = inputs.table.frame
    found: list[Finding] = []
    for outcome in inputs.table.outcomes():
        studies = list(dict.fromkeys(frame.loc[frame["outcome"] == outcome, "study"]))
        if len(studies) >= 2:
            continue
        found.append(Finding(None, outcome, None, "poolable", "warning",
                             f"only {len(studies)} study ({', '.join(studies)}) reports this "
                             "outcome: it is analysed as one study, not a meta-analysis (a "
                             "meta-analysis needs at least two studies); the prediction for a "
                             "new setting comes from the between-study prior alone",
                             values={"studies": len(studies)}))
    return found


_ANONYMOUS = re.compile(r"^(study|cohort|trial)\s*[A-Za-z0-9]{1,2}$", re.IGNORECASE)


def check_identification(inputs: AuditInputs) -> list[Finding]:
    """Studies named only by anonymous labels ("Study A") cannot be traced to a source."""
    studies = list(dict.fromkeys(inputs.table.frame["study"]))
    anon = [s for s in studies if _ANONYMOUS.match(s)]
    if not anon:
        return []
    return [Finding(None, None, None, "identification", "warning",
                    f"{len(anon)} of {len(studies)} studies have only anonymous labels "
                    f"({', '.join(anon)}) and no citation: the data cannot be checked against "
                    "the primary publications, nor overlap between cohorts ruled out",
                    values={"anonymous": len(anon), "studies": len(studies)})]


def check_follow_up(inputs: AuditInputs) -> list[Finding]:
    """Missing follow-up of arm rows, follow-up borrowed from another table, and follow-up
    spreads (longest ≥ :data:`FOLLOW_UP_RATIO` × shortest) that make estimates incomparable."""
    found: list[Finding] = []
    frame = inputs.table.frame
    for outcome in inputs.table.outcomes():
        rows = frame[frame["outcome"] == outcome]
        # a contrast row (arm empty) states its horizon, if any, in time_months; a hazard
        # ratio has none, so only arm rows need a follow-up
        arm_rows = rows[rows["arm"] != ""]
        for rec in arm_rows[arm_rows["follow_up_months"].isna()].to_dict("records"):
            found.append(Finding(rec["study"], outcome, rec["arm"], "follow_up", "warning",
                                 "no follow-up: the time horizon of this estimate is unknown",
                                 int(rec["row"])))
        if "source" in rows.columns:
            src_col = rows["source"].fillna("").astype(str)
            borrowed = rows[src_col.str.contains("follow-up from", case=False, regex=False)]
            if not borrowed.empty:
                src = "; ".join(dict.fromkeys(borrowed["source"]))
                found.append(Finding(None, outcome, None, "follow_up", "info",
                                     f"follow-up of {len(borrowed)} rows is borrowed from another "
                                     f"table (source: {src}); the paper gives none for this "
                                     "outcome", values={"borrowed_rows": len(borrowed)}))
        fu = rows.dropna(subset=["follow_up_months"])
        if not fu.empty:
            found.append(_follow_up_spread(fu, outcome, FAMILIES[inputs.specs[outcome].family]))
    return found


def _follow_up_spread(fu: pd.DataFrame, outcome: str, info: FamilyInfo) -> Finding:
    """How far apart the follow-ups of one outcome's rows are, and why it matters."""
    lo, hi = float(fu["follow_up_months"].min()), float(fu["follow_up_months"].max())
    per = fu.groupby("study", sort=False)["follow_up_months"].agg(
        lambda s: "/".join(short(v) for v in dict.fromkeys(s)))
    listing = ", ".join(f"{s} {v}" for s, v in per.items())
    values = {"min_months": lo, "max_months": hi, "ratio": hi / lo}
    if hi < FOLLOW_UP_RATIO * lo:
        return Finding(None, outcome, None, "follow_up", "info",
                       f"follow-up {short(lo)}-{short(hi)} months ({listing})", values=values)
    if info.count_data:
        why = (f"cumulative incidences at {short(lo)} and {short(hi)} months are not "
               "comparable, and pooling them mixes time horizons")
    else:
        why = (f"{info.audit_kind} from cohorts followed {short(lo)} vs {short(hi)} "
               "months differ in maturity")
    return Finding(None, outcome, None, "follow_up", "warning",
                   f"follow-up {short(lo)}-{short(hi)} months ({listing}): the longest is "
                   f"{hi / lo:.1f}× the shortest; {why}", values=values)


def check_homogeneity(inputs: AuditInputs) -> list[Finding]:
    """Lower tail of Cochran's Q: studies that agree *too* well.

    Under no heterogeneity Q ~ chi-square(k - 1), so P(chi2 <= Q) small means the study
    estimates are closer to each other than their own standard errors allow. Real
    studies rarely do this; rounding, copied or invented numbers do (the logic of
    Carlisle's checks of too-similar trial data; Carlisle JB 2017, Anaesthesia
    72:944-952). The standard errors are the forest-plot ones of each family (Wald for
    log odds ratios; the OS standard-error rules, before inflation), so the check is
    approximate with four small studies.
    """
    found: list[Finding] = []
    for outcome in inputs.table.outcomes():
        spec = inputs.specs[outcome]
        try:
            wide = outcome_table(inputs.table, spec)
        except InputError:
            continue
        if len(wide) < 2:
            continue  # one study has no spread to test (the poolable check says so)
        arms = [f"n_{arm}" for arm in ARMS]  # contrast rows have no arm sizes
        if set(arms) <= set(wide.columns) and wide[arms].isna().any(axis=None):
            continue  # a study without one arm: the arms check says so
        eff = get_family(spec.family).observed_effects(wide)
        y = eff["estimate"].to_numpy(float)
        se = (eff["hi"] - eff["lo"]).to_numpy(float) / (2 * 1.959964)
        w = 1 / se**2
        q = float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2))
        df = len(y) - 1
        p_low = float(stats.chi2.cdf(q, df))
        values = {"Q": q, "df": df, "p_lower": p_low}
        head = (f"Cochran's Q = {q:.2f} on {df} df (expected about {df} if the studies differ "
                "only by chance)")
        if p_low < HOMOGENEITY_P:
            found.append(Finding(None, outcome, None, "homogeneity", "warning",
                                 f"{head}; P(Q this small) = {p_low:.3f}: the studies agree more "
                                 "closely than their sampling error allows, as rounded, copied or "
                                 "invented numbers do", values=values))
        else:
            found.append(Finding(None, outcome, None, "homogeneity", "info",
                                 f"{head}; P(Q this small) = {p_low:.2f}", values=values))
    return found
