"""The review question is data (issue 21): a question file, not code, sets the report's title
and source paper and the audit's topic terms.

A toy question (``tests/data/toy_question.toml``) runs the pipeline — the audit from the
command line, then a fit and the rendered report through the API — and nothing of the
bundled question (preop vs postop SRS for brain metastases) shows where the toy one is
asked for. The data are the bundled data's LMD rows (``bundled/data/studies.csv``); the
paper is the made-up fixture ``tests/data/paper_shaped.txt``.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from conftest import nothing_written
from srsbayes.errors import InputError
from srsbayes.inference.fitting import FitSettings
from srsbayes.inputs.data import DEFAULT_DATA, read_table
from srsbayes.inputs.question import BUNDLED_QUESTION, bundled_question, read_question
from srsbayes.report.markdown import md_escape

DATA = Path(__file__).parents[1] / "data"
TOY = DATA / "toy_question.toml"
PAPER = DATA / "paper_shaped.txt"
BUNDLED_TITLE = ("Preoperative vs postoperative stereotactic radiosurgery (SRS) for resected "
                 "brain metastases")
TOY_TITLE = "Toy question: the timing of radiosurgery in a paper-shaped test fixture"
TOY_SOURCE = "paper_shaped.txt, a made-up test fixture (tests/data)"
# paper_shaped.txt's references: [1], [3] and [4] contain "Fixture"; [3] carries the paper's
# own title (a self-citation), so 3 - 1 = 2 of 5 is less than half: a warning.
TOY_REFERENCES = ("3 of 5 references mention the word fixture ([1], [3], [4]), and [3] is "
                  "this article itself (same title); the others are about unrelated topics")


def _lmd_rows(tmp_path: Path) -> Path:
    """The bundled studies.csv with only its LMD rows (four studies, both arms)."""
    lines = DEFAULT_DATA.read_text(encoding="utf-8").splitlines()
    rows = [lines[0], *(ln for ln in lines[1:] if ln.split(",")[1] == "lmd")]
    assert len(rows) == 9
    path = tmp_path / "toy.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_the_bundled_question_is_the_one_the_package_answers():
    q = bundled_question()
    assert q.path == str(BUNDLED_QUESTION)
    assert q.title == BUNDLED_TITLE
    assert q.source.startswith("Moghadam AM. Comparative Outcomes of Preoperative and "
                               "Postoperative Stereotactic Radiosurgery")
    assert [(a.code, a.label, a.short) for a in q.arms] == [
        ("preop", "preoperative SRS", "preop SRS"), ("postop", "postoperative SRS", "postop SRS")]
    assert q.topic.pattern.pattern == "brain|radiosurg|metastas"  # the audit's former regex
    assert q.topic.words == "brain, radiosurgery or metastases"


def test_a_toy_question_file_is_read():
    q = read_question(TOY)
    assert (q.title, q.source, q.arm("postop").short) == (TOY_TITLE, TOY_SOURCE, "late")
    assert q.topic.terms == ("fixture",)


@pytest.mark.parametrize(("text", "column"), [
    ('title = "t"\nsource = "s"\nsubject = "x"\n', "subject"),
    ('title = "t"\nsource = "s"\n[arms.a]\nlabel = "a"\nshort = "a"\n'
     '[arms.b]\nlabel = "b"\nshort = "b"\n[topic]\nterms = ["x"]\nwords = "x"\n', "arms"),
    ('title = "t"\nsource = "s"\n[arms.preop]\nlabel = "a"\nshort = "a"\n'
     '[arms.postop]\nlabel = "b"\nshort = "b"\n[topic]\nterms = []\nwords = "x"\n',
     "topic.terms"),
    ('title = ""\nsource = "s"\n[arms.preop]\nlabel = "a"\nshort = "a"\n'
     '[arms.postop]\nlabel = "b"\nshort = "b"\n[topic]\nterms = ["x"]\nwords = "x"\n', "title"),
])
def test_a_bad_question_file_is_one_input_error(tmp_path, text, column):
    path = tmp_path / "q.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_question(path)
    assert (err.value.file, err.value.column) == (str(path), column)


def test_audit_reads_the_topic_terms_of_the_question(tmp_path, run_cli):
    data = _lmd_rows(tmp_path)
    status, out, _ = run_cli(["audit", "--data", str(data), "--paper", str(PAPER),
                              "--question", str(TOY), "--json"])
    assert status == 0
    (ref,) = [f for f in json.loads(out) if f["check"] == "references"]
    assert ref["detail"].startswith(TOY_REFERENCES)
    assert (ref["on_topic"], ref["self_citations"], ref["references"]) == (3, 1, 5)
    # the bundled question's terms on the same paper: [1] and [3] (test_audit_paper.py)
    status, out, _ = run_cli(["audit", "--data", str(data), "--paper", str(PAPER), "--json"])
    (ref,) = [f for f in json.loads(out) if f["check"] == "references"]
    assert ref["detail"].startswith("2 of 5 references mention brain, radiosurgery or "
                                    "metastases ([1], [3])")


def test_a_bad_question_option_exits_2_and_writes_nothing(tmp_path, run_cli):
    bad = tmp_path / "q.toml"
    bad.write_text('title = "t"\n', encoding="utf-8")
    data = _lmd_rows(tmp_path)
    with nothing_written(tmp_path):
        status, _, err = run_cli(["report", "--data", str(data),
                                  "--question", str(bad), "--out", str(tmp_path / "r")])
    assert status == 2 and "q.toml" in err


def test_report_on_a_toy_question(tmp_path, specs):
    """Audit, a fit of the LMD rows and the rendered report, for the toy question."""
    from srsbayes.report.build import write_report

    table = read_table(_lmd_rows(tmp_path), specs)
    out = tmp_path / "report"
    report = write_report(table, specs, out, settings=FitSettings(draws=500, tune=1000),
                          sweep=False, paper_path=PAPER, question=read_question(TOY))
    assert report.exit_status == 0 and [o.spec.id for o in report.outcomes] == ["lmd"]
    (ref,) = [f for f in report.findings if f.check == "references"]
    assert ref.detail.startswith(TOY_REFERENCES)
    for name, escape in (("index.html", html.escape), ("index.md", md_escape)):
        page = (out / name).read_text(encoding="utf-8")
        assert escape(TOY_TITLE) in page and escape(TOY_SOURCE) in page
        assert "the word fixture" in page
        assert BUNDLED_TITLE not in page and "Moghadam" not in page
    assert f"--question {TOY}" in report.reproduce


# A question whose arms share no word with the bundled one: every sentence that names an arm
# must take it from here. The optional keys (ask, comparison, comparison_short, word) are
# left out, so their defaults are what the outputs show.
DRUG_QUESTION = """\
title = "Drug A against drug B: a toy question"
source = "none: a toy question of tests/test_question.py"

[arms.preop]
label = "drug A"
short = "drug A"

[arms.postop]
label = "drug B"
short = "drug B"

[topic]
terms = ["drug"]
words = "drug"
"""
# The toy outcome's spec: the bundled LMD spec's model (family, priors, threshold) with
# wording of its own, so that nothing of the bundled question enters through the spec.
TOY_SPEC = """\
id = "lmd"
label = "Toy event"
family = "binomial"
event = "the toy event"
benefit = "lower"
decision_probability = 0.95

[[thresholds]]
measure = "risk_difference"
threshold = 5
rationale = "the bundled LMD spec's threshold"

[priors.effect]
dist = "normal(0, 1.5)"
rationale = "the bundled LMD spec's effect prior"

[priors.tau]
dist = "halfnormal(0.5)"
rationale = "the bundled LMD spec's heterogeneity prior"

[priors.baseline]
dist = "normal(0, 2.5)"
rationale = "the bundled LMD spec's baseline prior"
"""
BUNDLED_WORDS = re.compile(r"preoperative|postoperative|\bSRS\b|brain|radiosurg|metastas",
                           re.IGNORECASE)
"""The bundled question's wording (``SRS`` as a word: ``srsbayes`` is the tool's name). The
arm codes ``preop``/``postop`` are the data format's and still show where outputs name data
rows or the fit's baseline ("at a postop risk of 12.5%": the families word it)."""


def _bundled_words(text: str) -> list[str]:
    return BUNDLED_WORDS.findall(text)


def test_the_arms_wording_defaults_from_label_and_short(tmp_path):
    path = tmp_path / "q.toml"
    path.write_text(DRUG_QUESTION, encoding="utf-8")
    q = read_question(path)
    assert (q.treatment.word, q.control.word) == ("drug A", "drug B")
    assert q.ask == "Does drug A give better outcomes than drug B?"
    assert (q.comparison, q.comparison_short) == ("drug A vs drug B", "drug A vs drug B")
    b = bundled_question()
    assert (b.treatment.word, b.control.word) == ("preop", "postop")
    assert (b.comparison, b.comparison_short) == ("preoperative vs postoperative SRS",
                                                  "preop vs postop SRS")


def test_a_question_defined_only_by_data_words_every_output(tmp_path, run_cli):
    """The report (its pages with the figures' alt texts, the results table), the
    certainty command and the audit, for data, spec and question of this test only: no
    bundled wording anywhere, the toy question's arms wherever an arm is named."""
    from srsbayes.certainty.formatting import format_text
    from srsbayes.inputs.specs import load_specs
    from srsbayes.report.build import write_report

    qpath = tmp_path / "drugs.toml"
    qpath.write_text(DRUG_QUESTION, encoding="utf-8")
    models = tmp_path / "models"
    models.mkdir()
    (models / "lmd.toml").write_text(TOY_SPEC, encoding="utf-8")
    specs = load_specs(models)
    data = _lmd_rows(tmp_path)
    question = read_question(qpath)
    out = tmp_path / "report"
    report = write_report(read_table(data, specs), specs, out,
                          settings=FitSettings(draws=500, tune=1000), sweep=False,
                          question=question)
    assert report.exit_status == 0
    pages = {name: (out / name).read_text(encoding="utf-8")
             for name in ("index.md", "index.html", "results_table.md")}
    pages["certainty text"] = format_text(report.certainty, question)
    for name, text in pages.items():
        assert _bundled_words(text) == [], name
    md = pages["index.md"]
    assert "**Question.** Does drug A give better outcomes than drug B?" in md
    assert "*Summary of findings: drug A vs drug B*" in md
    assert "probability that drug A lowers the risk of the toy event" in md
    assert "compared with drug B" in md
    assert "| P(drug A is better) — pooled effect |" in md
    assert "The evidence is very uncertain about the effect of drug A on toy event " \
           "compared with drug B." in md
    assert "| P(drug A better) |" in md  # the brief's column
    assert "pooled effect, drug A vs drug B (95% CrI)" in pages["results_table.md"]
    assert "drug B 12.5 vs drug A" in pages["certainty text"]  # the SoF's absolute effect

    # the certainty command fits again (its own seed and settings) and words the same way
    status, out_text, _ = run_cli(["certainty", "--data", str(data), "--models", str(models),
                                   "--question", str(qpath), "--out", str(tmp_path / "c")])
    assert status == 0
    assert _bundled_words(out_text) == []
    assert out_text.startswith("Summary of findings: drug A vs drug B\n")
    assert "effect of drug A on toy event compared with drug B." in out_text
    certainty_json = (tmp_path / "c" / "certainty.json").read_text(encoding="utf-8")
    assert _bundled_words(certainty_json) == []

    status, audit_text, _ = run_cli(["audit", "--data", str(data), "--models", str(models),
                                     "--question", str(qpath)])
    assert status == 0 and _bundled_words(audit_text) == []


def test_trial_sentences_word_the_arms_of_the_question(tmp_path, run_cli):
    """The trials' sentences (the ``trial`` command, the report's trials section) name the
    arms by the question's words; the trial's verdicts and choices keep the data's codes
    in trial.json and are worded when said."""
    from srsbayes.trials.wording import _arm_words, headline, lines

    path = tmp_path / "q.toml"
    path.write_text(DRUG_QUESTION, encoding="utf-8")
    q = read_question(path)
    # 90 + 90: the size of the bundled design NCT03741673 (test_trials.py)
    d = {"design": {"id": "T"}, "n_preop": 90, "n_postop": 90, "label": "Toy event",
         "assurance": {"value": 0.5, "mcse": 0.01}, "success_rule": {"meaning": "P > 0.95"}}
    assert headline(d, q) == ("T (90 drug A, 90 drug B patients) has a 50% (Monte Carlo "
                              "error ±1.0 points) chance of showing a benefit of drug A on "
                              "toy event (P > 0.95), given what the studies show today "
                              "(assurance).")
    assert headline(d).startswith("T (90 preop, 90 postop patients)")
    assert headline(d).count("benefit of preop SRS on") == 1
    assert [_arm_words(v, q) for v in ("preop better", "inconclusive", "postop better",
                                       "postop")] == ["drug A better", "inconclusive",
                                                      "drug B better", "drug B"]
    # every sentence of a simulated trial of the toy outcome (the bundled LMD rows)
    models = tmp_path / "models"
    models.mkdir()
    (models / "lmd.toml").write_text(TOY_SPEC, encoding="utf-8")
    out = tmp_path / "t"
    status, _, _ = run_cli(["trial", "lmd", "--data", str(_lmd_rows(tmp_path)), "--models",
                            str(models), "--n-per-arm", "90", "90", "--sims", "200",
                            "--max-refits", "0", "--out", str(out)])
    assert status == 0
    text = "\n".join(lines(json.loads((out / "trial.json").read_text(encoding="utf-8")), q))
    assert _bundled_words(text) == [] and "preop" not in text and "postop" not in text
    assert "Today P(drug A better) = " in text and "drug B better in " in text
