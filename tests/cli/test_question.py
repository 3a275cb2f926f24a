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
