"""Issue 22 item 2: GRADE's rules as GRADE states them, each on constructed evidence whose
right rating is known. Study estimates come from the bundled table (the paper's Tables
2-3) or are constructed numbers said to be so; summaries are constructed."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from srsbayes.audit.findings import Finding
from srsbayes.certainty import OutcomeEvidence, rate_outcome
from srsbayes.certainty.evidence import pooled_baseline, studies_of
from srsbayes.certainty.imprecision import (
    information_size,
    optimal_information_size,
    rate_imprecision,
)
from srsbayes.certainty.inconsistency import heterogeneity, rate_inconsistency
from srsbayes.certainty.source_audit import rate_source_audit
from srsbayes.inputs.data import outcome_table

PP = " percentage points"


def _summary(ci=(0.8, 14.7), pi=(-6.0, 22.0), tau=(0.25, (0.01, 0.87)),
             tau_prior="halfnormal(0.5)"):
    """A constructed fit summary (the issue's RN numbers where it gives them: benefit 6.2
    (0.8 to 14.7) per 100, τ 0.25 (0.01 to 0.87) under a HN(0.5) prior)."""
    return {"absolute": {"benefit": {"median": 6.2, "ci95": list(ci)},
                         "benefit_new": {"median": 6.2, "ci95": list(pi)}},
            "tau": {"median": tau[0], "ci95": list(tau[1])},
            "effect": {"median": 0.4, "ci95": [0.17, 0.88]}, "prob_benefit": 0.987,
            "priors": {"tau": tau_prior, "effect": "normal(0, 1.5)"}}


def _evidence(spec, table, design, rob, **kw):
    wide = outcome_table(table, spec).assign(design=design, rob=rob)
    return OutcomeEvidence(spec, True, _summary(**kw), studies_of(wide, spec),
                           pooled_baseline(wide, spec), np.full(10, -0.9), np.full(10, 6.0))


def test_rn_as_four_low_risk_trials_is_not_rated_down_for_inconsistency(specs, bundled_table):
    """RN's four studies agree closely (Q 0.17 on 3 df, as the issue measured) and τ's
    posterior is close to its HN(0.5) prior: the wide prediction interval restates the
    prior and must not rate inconsistency down."""
    ev = _evidence(specs["rn"], bundled_table, "rct", "low")
    het = heterogeneity([s.estimate for s in ev.studies], [s.se for s in ev.studies])
    assert round(het["q"], 2) == 0.17 and het["df"] == 3 and het["i2"] == 0.0
    c = rate_outcome(ev, [])
    d = {x.name: x for x in c.domains}
    assert c.start == "high"
    assert (d["inconsistency"].rating, d["inconsistency"].change) == ("not serious", 0)
    assert d["inconsistency"].values["tau_informed"] is False
    assert "all lie on one side of no effect" in d["inconsistency"].reason
    assert (d["risk of bias"].rating, d["risk of bias"].change) == ("not serious", 0)


def test_inconsistency_is_rated_from_split_estimates_beyond_chance():
    # constructed log ORs: two studies each side of no effect
    split = rate_inconsistency([-1.0, -0.8, 0.9, 1.1], [0.2] * 4, (-1.0, 9.0), (-2.0, 10.0),
                               0.9, (0.5, 1.6), (0.02, 1.12), 5.0, PP)
    assert split.values["estimates_split"] and split.values["intervals_disjoint"]
    assert split.values["heterogeneity"]["i2"] > 0.9
    assert (split.rating, split.change) == ("very serious", -2)
    # constructed: on both sides, overlapping, Q small: chance explains the spread
    chance = rate_inconsistency([-0.2, 0.1, -0.1], [0.4] * 3, (-1.0, 9.0), (-2.0, 10.0),
                                0.2, (0.01, 0.8), (0.02, 1.12), 5.0, PP)
    assert chance.values["estimates_split"] and not chance.values["intervals_disjoint"]
    assert chance.values["heterogeneity"]["p"] > 0.10
    assert (chance.rating, chance.change) == ("not serious", 0)


def test_prediction_interval_counts_only_when_tau_is_informed():
    args = ([-0.9, -1.0, -0.8], [0.3] * 3, (6.0, 12.0), (-1.0, 20.0), 0.3)
    vague = rate_inconsistency(*args, (0.01, 0.87), (0.016, 1.12), 5.0, PP)
    assert (vague.rating, vague.values["tau_informed"]) == ("not serious", False)
    assert "prediction interval is not used" in vague.reason
    informed = rate_inconsistency(*args, (0.2, 0.45), (0.016, 1.12), 5.0, PP)
    assert informed.values["tau_informed"]
    assert (informed.rating, informed.values["extra_thresholds_crossed"]) == (
        "very serious", [0.0, 5.0])


def test_never_rated_down_for_both_too_much_and_too_little_spread(specs, bundled_table):
    ev = _evidence(specs["lmd"], bundled_table, "rct", "low")
    # constructed estimates on both sides of no effect with narrow intervals
    studies = tuple(replace(s, estimate=e, se=0.15)
                    for s, e in zip(ev.studies, (-1.0, -0.9, 0.8, 1.0), strict=True))
    ev = replace(ev, studies=studies)
    homog = Finding(None, "lmd", None, "homogeneity", "warning", "agree too closely")
    c = rate_outcome(ev, [homog])
    d = {x.name: x for x in c.domains}
    assert d["inconsistency"].change < 0
    assert d["source audit"].change == 0 and d["source audit"].values["counted"] == []
    # with consistent studies the same finding is counted
    assert rate_source_audit([homog], "lmd").change == -1


def test_optimal_information_size_rates_lmd_down_as_grade_34(specs, bundled_table):
    """LMD: 33 events in 403 patients (the issue's GRADE 34 example); OIS from its pooled
    postop risk 26/208 and a 25% relative reduction is about 3,100 patients."""
    spec = specs["lmd"]
    wide = outcome_table(bundled_table, spec)
    st = studies_of(wide, spec)
    ois = information_size(sum(s.n for s in st), sum(s.events for s in st),
                           pooled_baseline(wide, spec).value)
    assert (ois.patients, ois.events) == (403, 33.0)
    # the pooled postop risk over the count sets of the four GRIM-failing arms: within a
    # count of the nearest counts' 26/208
    assert ois.control_risk == pytest.approx(26 / 208, abs=1 / 208)
    # two-proportion formula by hand: 2 * ceil(7.849 (p0 q0 + p1 q1) / (p0 - p1)^2)
    p0 = ois.control_risk
    p1 = 0.75 * p0
    z = 1.959963984540054 + 0.8416212335729143
    assert ois.required == 2 * int(np.ceil(z**2 * (p0 * (1 - p0) + p1 * (1 - p1))
                                           / (p0 - p1) ** 2)) == optimal_information_size(p0)
    d = rate_imprecision((6.0, 12.0), 5.0, PP, ois)  # crosses nothing, but fragile
    assert (d.rating, d.change) == ("serious", -1)
    assert "403 patients with 33 events" in d.reason and "not met" in d.reason
    met = rate_imprecision((6.0, 12.0), 5.0, PP, replace(ois, patients=5000))
    assert (met.rating, met.change) == ("not serious", 0)
    # an interval that already crosses a threshold is not rated down again
    both = rate_imprecision((2.0, 12.0), 5.0, PP, ois)
    assert (both.rating, both.change) == ("serious", -1)


@pytest.mark.parametrize(("check", "counted"), [
    ("events", True),        # reads the study table: about the data analysed
    ("pooled_mean", False),  # the paper's pooled rows: not the data analysed
    ("claim", False),
])
def test_source_audit_counts_only_findings_about_the_data(check, counted):
    f = Finding("Study A", "lmd", "preop", check, "error", "detail")
    d = rate_source_audit([f], "lmd")
    assert (d.change == -1) is counted
