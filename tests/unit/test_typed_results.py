"""Typed results between layers (issue 21): statuses are StrEnums whose JSON is the word it
always was, and the TypedDicts written into JSON keep their keys and order."""

from __future__ import annotations

import json

import pytest

from srsbayes.audit.findings import SEVERITIES, Finding, Severity
from srsbayes.certainty.levels import LEVELS, Level, Rating, domain, final_level, start_level
from srsbayes.certainty.net_benefit import NetVerdict
from srsbayes.certainty.net_benefit import verdict as net_verdict
from srsbayes.families.nnt import nnt_summary
from srsbayes.outputs import json_text
from srsbayes.trials.result import VERDICTS, Verdict, verdict


def test_finding_severity_is_an_enum_written_as_its_word():
    f = Finding("A", "lmd", "preop", "grim", "warning", "12.5% of 8 is 1/8")
    assert f.severity is Severity.WARNING
    assert json.loads(json_text(f.to_dict()))["severity"] == "warning"
    assert SEVERITIES == ("error", "warning", "info")
    with pytest.raises(ValueError):
        Finding(None, None, None, "grim", "fatal", "no such severity")


def test_certainty_levels_and_ratings_are_enums_written_as_their_words():
    # two levels down from low stops at very low (GRADE: the lowest level)
    assert final_level(Level.LOW, [-1, -1]) is Level.VERY_LOW
    assert final_level("low", [1]) is Level.MODERATE
    assert LEVELS == ("very low", "low", "moderate", "high")
    start, _ = start_level(["rct", "rct"])
    assert start is Level.HIGH
    d = domain("imprecision", "very serious", "wide interval", ci95=[-3.0, 12.5])
    assert d.rating is Rating.VERY_SERIOUS and d.change == -2
    assert json.loads(json_text(d.as_dict())) == {
        "domain": "imprecision", "rating": "very serious", "change": -2,
        "reason": "wide interval", "values": {"ci95": [-3.0, 12.5]}}
    with pytest.raises(ValueError):
        domain("imprecision", "quite serious", "no such rating")


def test_verdicts_are_enums_in_their_order():
    assert VERDICTS == ("preop better", "inconclusive", "postop better")
    assert verdict(0.96, 0.95) is Verdict.PREOP_BETTER
    assert verdict(0.5, 0.95) is Verdict.INCONCLUSIVE
    assert verdict(0.04, 0.95) is Verdict.POSTOP_BETTER
    assert net_verdict(0.96, 0.95) is NetVerdict.BENEFIT
    assert net_verdict(0.05, 0.95) is NetVerdict.HARM
    assert json_text({Verdict.INCONCLUSIVE: NetVerdict.HARM}, indent=None) == (
        '{"inconclusive": "net harm"}')


def test_nnt_summary_keeps_its_json_keys():
    # benefit quantiles -2.5, 8.4 and 20 percentage points: NNT 100/8.4 at the median,
    # the interval from 100/20 = 5 (NNTB) through infinity to 100/-2.5 = -40 (NNTH)
    s = nnt_summary(-2.5, 8.4, 20.0)
    assert list(s) == ["median", "kind", "ci95", "includes_no_effect", "text", "head",
                       "interval_text"]
    assert s["median"] == pytest.approx(100 / 8.4)
    assert s["kind"] == "NNTB"
    assert s["ci95"] == [5.0, -40.0]
    assert s["includes_no_effect"] is True
    assert s["text"] == "NNTB 12 (NNTB 5 to ∞ to NNTH 40)"
