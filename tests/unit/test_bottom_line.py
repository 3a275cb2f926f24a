"""The report's bottom line names what a conclusion flips with, and never says "every"
when settings failed the gate."""

from __future__ import annotations

from types import SimpleNamespace

from srsbayes.report.document import S
from srsbayes.report.sections.summary import _robustness_parts


def _outcome(label, **overall):
    sweep = SimpleNamespace(available=True, overall={"assessable": True, **overall})
    return SimpleNamespace(ok=True, sweep=sweep, spec=SimpleNamespace(label=label))


def _text(parts) -> str:
    return "".join(p.text if isinstance(p, S) else str(p) for p in parts)


def test_names_the_kind_of_row_that_flipped():
    report = SimpleNamespace(outcomes=[
        _outcome("RN", robust=False, flip_what="the choice of priors"),
        _outcome("LMD", robust=False, flip_what="leaving out one study"),
        _outcome("LC", robust=True)])
    text = _text(_robustness_parts(report))
    assert "rn (it flips with the choice of priors)" in text
    assert "lmd (it flips with leaving out one study)" in text
    assert "lc" not in text


def test_names_the_range_and_the_settings_that_flip():
    report = SimpleNamespace(outcomes=[_outcome(
        "LMD", robust=False, flip_what="the choice of priors",
        range_text="P(benefit) 0.898 to 0.999 across 22 settings; below 0.95 only with "
                   "'sceptical' (0.898)")])
    text = _text(_robustness_parts(report))
    assert "lmd (P(benefit) 0.898 to 0.999 across 22 settings; below 0.95 only with " \
           "'sceptical' (0.898))" in text and "flips with" not in text


def test_no_every_when_settings_failed_the_gate():
    done = SimpleNamespace(outcomes=[_outcome("LC", robust=True, n_failed=0)])
    assert "every sensitivity setting tried" in _text(_robustness_parts(done))
    failed = SimpleNamespace(outcomes=[_outcome("LC", robust=True, n_failed=1)])
    text = _text(_robustness_parts(failed))
    assert "passed the convergence gate" in text and "setting tried" not in text
