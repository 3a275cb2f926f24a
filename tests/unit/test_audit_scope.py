"""A user's own studies are audited on their own, never against the bundled paper (issue 23.3).

The bundled paper's pooled rows, claims and recorded text facts describe the bundled
``studies.csv`` only; for any other table the paper-level checks run only on the files the
user gives (``--pooled``, ``--claims``, ``--paper``). Contrast rows of a binary outcome get the
contrast checks, never the count checks of arm rows.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from srsbayes.audit import REGISTRY, Finding, run_audit
from srsbayes.certainty.source_audit import rate_source_audit
from srsbayes.inputs.data import DEFAULT_CLAIMS, DEFAULT_POOLED, read_table
from srsbayes.resources import BUNDLED_MODELS

MIXED = Path(__file__).parents[1] / "data" / "mixed_lmd.csv"
PAPER_CHECKS = {c.id for c in REGISTRY.values() if not set(c.needs) <= {"table", "specs"}}


def test_paper_checks_are_the_pooled_claim_and_text_checks():
    assert PAPER_CHECKS == {"pooled_mean", "pooled_weighted", "pooled_n", "pooled_follow_up",
                            "claim", "reporting", "references"}


def test_user_csv_gets_no_finding_about_the_bundled_paper(run_cli):
    status, out, err = run_cli(["audit", "--data", MIXED, "--json"])
    assert status == 0, err
    found = json.loads(out)
    assert not [f for f in found if f["check"] in PAPER_CHECKS]
    # Study A's published OR (line 2) is not an arm row: no count check flags it
    assert not [f for f in found if f["row"] == 2 or f["severity"] == "error"]
    (events,) = [f for f in found if f["check"] == "events"]
    assert events["detail"] == ("all 6 binary rows have events within 0..n; none reports "
                                "both events and percent")


def test_text_output_names_no_paper_check(run_cli):
    status, out, _ = run_cli(["audit", "--data", MIXED])
    assert status == 0
    for text in ("pooled n", "claim", "references mention"):
        assert text not in out


def test_bundled_data_still_compared_with_its_paper(bundled_table, specs):
    checks = {f.check for f in run_audit(bundled_table, specs)}
    assert PAPER_CHECKS <= checks


def test_pooled_and_claims_given_for_user_data_are_checked(specs):
    table = read_table(MIXED, specs)
    only_pooled = {f.check for f in run_audit(table, specs, DEFAULT_POOLED)}
    assert {"pooled_mean", "pooled_n"} <= only_pooled
    assert not only_pooled & {"claim", "reporting", "references"}
    both = {f.check for f in run_audit(table, specs, DEFAULT_POOLED,
                                       claims_path=DEFAULT_CLAIMS)}
    assert "claim" in both and not both & {"reporting", "references"}


def test_user_models_do_not_meet_the_bundled_pooled_file(tmp_path, run_cli):
    # specs of the user's own with no 'lc' outcome: the bundled reported_pooled.csv (which
    # has lc rows) would be an unknown-outcome error if it were read
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(BUNDLED_MODELS / "lmd.toml", models / "lmd.toml")
    status, out, err = run_cli(["audit", "--data", MIXED, "--models", models, "--json"])
    assert status == 0, err
    assert {f["check"] for f in json.loads(out)}.isdisjoint(PAPER_CHECKS)


def test_claims_option_without_pooled_rows_is_accepted(run_cli):
    status, out, err = run_cli(["audit", "--data", MIXED, "--claims", DEFAULT_CLAIMS,
                                "--json"])
    assert status == 0, err
    # the claim check recomputes claims from pooled rows too: without them it does not run
    assert "claim" not in {f["check"] for f in json.loads(out)}


def test_paper_level_error_never_rates_certainty_down():
    claim = Finding(None, "lmd", None, "claim", "error", "a claim about the paper", 4)
    rating = rate_source_audit([claim], "lmd")
    assert rating.change == 0 and rating.values["counted"] == []
    events = Finding("S", "lmd", "preop", "events", "error", "impossible count", 3)
    rating = rate_source_audit([claim, events], "lmd")
    assert rating.change == -1 and rating.values["counted"] == ["events"]


def test_certainty_of_mixed_data_is_not_rated_down_for_contrast_rows(specs):
    table = read_table(MIXED, specs)
    found = run_audit(table, specs)
    rating = rate_source_audit(found, "lmd")
    # GRIM failures of Studies B-D and the anonymous labels question the data; Study A's
    # contrast row does not
    assert rating.values["counted"] == ["grim", "identification"]
    assert "events" not in rating.values["checks"]
