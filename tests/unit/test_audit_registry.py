"""Extending the audit: a toy check registered from outside the package runs and prints."""

from __future__ import annotations

import json

import pytest

from srsbayes.audit import (
    CHECKS,
    REGISTRY,
    Finding,
    format_text,
    register_check,
    run_audit,
    unregister_check,
)

BUILT_IN = ["grim", "events", "arms", "poolable", "identification", "contrast_ci_asymmetry",
            "contrast_p_ci", "contrast_se_approximation", "follow_up",
            "homogeneity", "pooled_mean", "pooled_weighted", "pooled_n", "pooled_follow_up",
            "claim", "reporting", "references"]


@pytest.fixture
def toy_check():
    """Register ``small_arms`` (arms of fewer than 40 patients) for one test."""

    @register_check("small_arms", "arms with fewer than 40 patients", needs=("table",))
    def small_arms(inputs):
        frame = inputs.table.frame
        return [Finding(r.study, r.outcome, r.arm, "small_arms", "warning",
                        f"only {r.n:g} patients", int(r.row))
                for r in frame[frame["n"] < 40].itertuples()]

    yield small_arms
    unregister_check("small_arms")


def test_built_in_checks_and_their_inputs():
    assert list(CHECKS) == BUILT_IN
    assert CHECKS["grim"] == REGISTRY["grim"].title
    assert REGISTRY["claim"].needs == ("table", "specs", "pooled", "claims")
    assert REGISTRY["claim"].rows_in == "claims"
    assert REGISTRY["references"].needs == ("paper",)


def test_a_registered_check_runs_and_prints(toy_check, bundled_table, specs, run_cli):
    assert list(CHECKS) == [*BUILT_IN, "small_arms"]  # after the built-in checks
    found = run_audit(bundled_table, specs)
    toy = [f for f in found if f.check == "small_arms"]
    # Study C's preop arm has 38 patients in each of the five outcomes (lines 6, 14, ...)
    assert [(f.study, f.outcome, f.arm, f.row) for f in toy] == [
        ("Study C", o, "preop", row) for o, row in
        (("lc", 6), ("lmd", 14), ("rn", 22), ("dbf", 30), ("os", 38))]
    assert found[-5:] == toy  # shown last
    assert all(f.file == bundled_table.path for f in toy)  # located in the study table
    text = format_text(found, bundled_table)
    assert "== small_arms: arms with fewer than 40 patients (5 warnings) ==" in text
    status, out, _ = run_cli(["audit"])
    assert status == 0 and "== small_arms: arms with fewer than 40 patients" in out
    status, out, _ = run_cli(["audit", "--json"])
    assert sum(r["check"] == "small_arms" for r in json.loads(out)) == 5


def test_checks_whose_inputs_are_absent_are_skipped(bundled_table, specs):

    @register_check("needs_paper", "a check of the paper's text", needs=("paper",), order=0)
    def needs_paper(inputs):
        return [Finding(None, None, None, "needs_paper", "info", inputs.paper.file)]

    try:
        assert list(CHECKS)[:2] == ["needs_paper", "grim"]  # order=0: before grim
        found = run_audit(bundled_table, specs)
        assert found[0].detail == "000_ab0d3ca6619c68da.txt"
        assert not [f for f in run_audit(bundled_table, specs, compare_paper=False)
                    if f.check == "needs_paper"]
    finally:
        unregister_check("needs_paper")
    assert list(CHECKS) == BUILT_IN


def test_registration_errors(toy_check):
    with pytest.raises(ValueError, match="already registered"):
        register_check("small_arms", "again")
    with pytest.raises(ValueError, match="unknown audit input"):
        register_check("x", "y", needs=("table", "the moon"))
