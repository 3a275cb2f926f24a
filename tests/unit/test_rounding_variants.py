"""The sweep's data variants for counts given as percentages: the nearest count taken as
exact (kind "rounding", the analysis before the rounding-aware likelihood), and every rate
read as Kaplan-Meier (kind "rate type")."""

from __future__ import annotations

import numpy as np

from srsbayes.families import binomial as b
from srsbayes.inputs.data import outcome_table
from srsbayes.sensitivity.variants import rounding_variants


def _variants(wide, family="binomial"):
    return {v.key: v for v in rounding_variants(wide, family, -1)}


def test_lmd_variants_by_hand(bundled_table, specs):
    wide = outcome_table(bundled_table, specs["lmd"])
    variants = _variants(wide)
    assert set(variants) == {"counts:nearest", "rates:km"}
    nearest, km = variants["counts:nearest"], variants["rates:km"]
    assert (nearest.kind, km.kind) == ("rounding", "rate type")
    # Nearest counts: every arm one count, the old point values; the reported percentages
    # are kept (no count is moved away from what the paper says).
    data = b.model_data(nearest.wide)
    assert data["y_preop"].tolist() == [1, 2, 2, 2] and data["y_postop"].tolist() == [5, 8, 6, 7]
    for arm in ("preop", "postop"):
        assert data[f"k_width_{arm}"].tolist() == [1, 1, 1, 1]
        np.testing.assert_array_equal(nearest.wide[f"percent_{arm}"], wide[f"percent_{arm}"])
    # only the postop percentages (all GRIM failures) allow two counts
    assert nearest.detail.endswith("Study A postop, Study B postop, Study C postop, "
                                   "Study D postop")
    # Kaplan-Meier: every set widened (see tests/unit/test_km.py for the rule), e.g. Study A preop
    # 2% of 45 -> 0..2 and Study B postop 13% of 65 -> 4..13.
    data = b.model_data(km.wide)
    assert data["k_width_preop"].tolist() == [3, 5, 5, 5]
    assert data["k_width_postop"].tolist() == [8, 10, 8, 8]
    assert int(data["y_postop"][1] - data["k_below_postop"][1]) == 4
    assert all(r.endswith("(Kaplan-Meier, sensitivity)") for r in km.wide["events_rule_preop"])


def test_reported_counts_have_no_variants(bundled_table, specs):
    wide = outcome_table(bundled_table, specs["lmd"])
    for arm in ("preop", "postop"):
        wide[f"events_rule_{arm}"] = "reported"
    assert _variants(wide) == {}


def test_no_nearest_count_row_when_every_set_is_one_count(bundled_table, specs):
    # LMD preop percentages each have exactly one count (1/45, 2/60, 2/38, 2/52); with the
    # postop counts reported the nearest-count row would equal the default fit.
    wide = outcome_table(bundled_table, specs["lmd"])
    wide["events_rule_postop"] = "reported"
    assert set(_variants(wide)) == {"rates:km"}


def test_medians_have_no_rounding_variants(bundled_table, specs):
    wide = outcome_table(bundled_table, specs["os"])
    assert _variants(wide, "lognormal_median") == {}
