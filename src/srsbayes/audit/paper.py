"""The source paper's text: the facts the audit needs from it, and the checks of them.

The audit needs a few facts from the paper's text: its reference list (each entry's
number, title and topic), the methods its Methods section claims and whether a result
of each is reported, the statistics it reports (confidence intervals, p-values, I², τ²)
and its figure captions. :func:`derive_facts` reads them from the text;
:func:`facts_to_toml` records them, with provenance (the paper's file name, its sha256
and the line of every fact), in ``bundled/data/paper_facts.toml``. By default the audit
reads that recorded file, so it needs no copy of the paper; ``audit --paper PATH``
re-derives the same facts from the text. Regenerate the recorded file with::

    python -m srsbayes.audit.record_facts PATH/TO/PAPER.txt

``reporting``
    Methods the paper says it used but never reports (I², Egger's test, subgroups,
    forest and funnel plots).
``references``
    Whether the reference list is about the paper's topic at all.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..inputs.question import Question, bundled_question
from ..outputs import write_text
from ..resources import BUNDLED_DATA
from .findings import Finding
from .registry import AuditInputs
from .sources import Figure, Method, PaperFacts, Reference, Statistic

DEFAULT_FACTS = BUNDLED_DATA / "paper_facts.toml"
"""The facts recorded from the bundled data's source paper (read when no ``--paper``)."""

_STATISTICS = {
    "confidence_intervals": r"\b(?:95\s*%\s*)?(?:CI|CrI|confidence interval)s?\b",
    "p_values": r"\bp\s*(?:=|<|>|≤|≥)\s*0?\.\d",
    "i2_values": r"I\s*(?:\^\s*2|²)\s*(?:=|was|of)\s*\d",
    "tau2_values": r"(?:τ|tau)\s*(?:\^\s*2|²)?\s*=\s*\d",
}
"""Patterns of reported statistics (case-insensitive)."""

# (method, pattern: the paper says it used it, pattern: a result of it, what is missing)
_METHODS = (
    ("random-effects pooling", r"random-effects", r"\b(?:CI|confidence interval)s?\b",
     "no pooled estimate with a confidence interval, only a single 'Pooled' number per arm"),
    ("the I² statistic", r"I\s*(?:\^\s*2|²)", _STATISTICS["i2_values"], "no I² value"),
    ("Egger's test", r"Egger", r"Egger[^.\n]{0,120}?\bp\s*(?:=|<|>)", "no Egger p-value"),
    ("funnel plots", r"funnel plot", r"(?m)^\s*Figure\s*\d+\.[^\n]*funnel", "no funnel plot"),
    ("subgroup analyses (histology, timing, dose)", r"subgroup analys",
     r"(?m)^\s*(?:Table|Figure)\s*\d+\.[^\n]*subgroup", "no subgroup result"),
    ("RevMan / STATA analyses", r"RevMan|Review Manager|STATA",
     r"(?m)^\s*Figure\s*\d+\.[^\n]*forest", "no forest plot"),
)

TOPICS = {
    "breast cancer surgery": r"breast|mastectomy",
    "dermal/facial fillers": r"filler",
    "Alzheimer's disease": r"alzheimer",
    "stem-cell therapy": r"stem cell",
    "neutrophil-lymphocyte ratio": r"neutrophil",
}
"""Off-topic subjects the reference check counts (an entry may have several)."""

_TITLE = re.compile(r"\(\d{4}[a-z]?\)\.\s*(.+?)(?:\.(?=\s|$)|\s\*|$)")
"""An APA-style entry's title: after "(2021). ", up to the next full stop or italics."""


# ---------------------------------------------------------------------------------------
# Deriving the facts from the text


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _match_lines(pattern: str, text: str) -> list[int]:
    """Line of each match (of its first non-blank character: ``^\\s*`` may start early)."""
    out = []
    for m in re.finditer(pattern, text, re.IGNORECASE):
        lead = len(m.group()) - len(m.group().lstrip())
        out.append(_line(text, m.start() + lead))
    return out


def _lines(lines: list[int]) -> tuple[int, ...]:
    """Distinct line numbers, in order."""
    return tuple(sorted(set(lines)))


def _reference_entries(paper: str) -> list[tuple[int, int, str]]:
    """``(number, line, text)`` of each ``[n] ...`` entry after the last "References"."""
    heads = list(re.finditer(r"(?m)^\s*References\s*$", paper))
    if not heads:
        return []
    start = heads[-1].end()
    body = paper[start:]
    marks = list(re.finditer(r"(?m)^\s*(?:-\s*)?\[(\d+)\]\s*", body))
    ends = [m.start() for m in marks[1:]] + [len(body)]
    return [(int(m.group(1)), _line(paper, start + m.start(1)),
             " ".join(body[m.end():end].split())) for m, end in zip(marks, ends, strict=True)]


def parse_references(paper: str) -> dict[int, str]:
    """Numbered entries of the paper's reference list (``[n] ...``), text joined per entry."""
    return {num: text for num, _, text in _reference_entries(paper)}


def _title_words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _references(paper: str, title: str, question: Question) -> tuple[Reference, ...]:
    lines = {num: line for num, line, _ in _reference_entries(paper)}
    words = _title_words(title)[:8]
    on_topic = question.topic.pattern
    out = []
    for num, text in parse_references(paper).items():
        on = bool(on_topic.search(text))
        self_cite = on and len(words) == 8 and " ".join(words) in " ".join(_title_words(text))
        m = _TITLE.search(text)
        topics = tuple(name for name, p in TOPICS.items() if re.search(p, text, re.IGNORECASE))
        out.append(Reference(num, lines[num], m.group(1) if m else text, on, self_cite, topics))
    return tuple(out)


def derive_facts(paper: str, *, file: str, sha256: str,
                 question: Question | None = None) -> PaperFacts:
    """The audit's facts from the paper's text (lines joined by ``\\n``).

    Parameters
    ----------
    paper
        The text.
    file, sha256
        Its file name and the sha256 of its bytes (recorded as provenance).
    question
        The review question whose topic terms mark a reference on topic (default: the
        bundled question, :func:`srsbayes.inputs.question.bundled_question`).
    """
    title, title_line = "", 0
    for i, ln in enumerate(paper.split("\n"), start=1):
        if ln.strip():
            title, title_line = ln.strip(), i
            break
    methods = tuple(Method(what, _lines(_match_lines(claimed, paper)),
                           _lines(_match_lines(reported, paper)), missing)
                    for what, claimed, reported, missing in _METHODS)
    statistics = tuple(Statistic(kind, len(ls), _lines(ls))
                       for kind, p in _STATISTICS.items()
                       for ls in [_match_lines(p, paper)])
    figures = tuple(Figure(_line(paper, m.start(1)), m.group(1).strip())
                    for m in re.finditer(r"(?m)^\s*Figure\s*\d+\.\s*([^\n]*)", paper))
    return PaperFacts(file, sha256, title, title_line,
                      _references(paper, title, question or bundled_question()), methods,
                      statistics, figures)


def read_paper(path: str | Path, question: Question | None = None) -> PaperFacts:
    """Derive the facts from a paper's UTF-8 text file (topic terms from ``question``, by
    default the bundled one).

    Raises
    ------
    InputError
        The file does not exist or is not UTF-8 text.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("file not found", file=p, column="paper")
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=p, column="paper") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads it
    return derive_facts(text, file=p.name, sha256=hashlib.sha256(raw).hexdigest(),
                        question=question)


# ---------------------------------------------------------------------------------------
# Recording the facts (TOML)

_HEADER = """\
# Facts the srsbayes evidence audit reads from a paper's text: the file named in [source].
# Generated by srsbayes.audit.paper.facts_to_toml; do not edit by hand. Regenerate with:
#     python -m srsbayes.audit.record_facts PATH/TO/PAPER.txt [--out THIS_FILE]
# `line` and `*_lines` are line numbers in that file (first line = 1).
"""

_TABLES = (("reference", "references", Reference), ("method", "methods", Method),
           ("statistic", "statistics", Statistic), ("figure", "figures", Figure))


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        # a JSON string is a TOML basic string, except that TOML also escapes DEL
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    return "[" + ", ".join(_toml_value(x) for x in v) + "]"


def _toml_fields(obj: Any) -> list[str]:
    """``key = value`` lines of a dataclass's scalar and list fields."""
    nested = {attr for _, attr, _ in _TABLES}
    return [f"{f.name} = {_toml_value(getattr(obj, f.name))}" for f in fields(obj)
            if f.name not in nested]


def facts_to_toml(facts: PaperFacts) -> str:
    """The facts as TOML: a ``[source]`` table, then one array of tables per kind."""
    out = [_HEADER, "[source]", *_toml_fields(facts)]
    for table, attr, _ in _TABLES:
        for item in getattr(facts, attr):
            out += ["", f"[[{table}]]", *_toml_fields(item)]
    return "\n".join(out) + "\n"


def _typed(cls: type, data: Any, where: str) -> Any:
    """``cls(**data)`` with every field present and of its annotated type."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: not a table")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in fields(cls)]
    if sorted(data) != sorted(names):
        raise ValueError(f"{where}: keys {sorted(data)}, expected {sorted(names)}")
    out = {}
    for name in names:
        hint, v = hints[name], data[name]
        if typing.get_origin(hint) is tuple:
            item = typing.get_args(hint)[0]
            if not isinstance(v, list) or not all(_is(x, item) for x in v):
                raise ValueError(f"{where}: {name} must be a list of {item.__name__}")
            v = tuple(v)
        elif not _is(v, hint):
            raise ValueError(f"{where}: {name} must be {hint.__name__}")
        out[name] = v
    return cls(**out)


def _is(v: Any, t: type) -> bool:
    return isinstance(v, t) and (t is bool or not isinstance(v, bool))


def facts_from_toml(text: str) -> PaperFacts:
    """Inverse of :func:`facts_to_toml`.

    Raises
    ------
    ValueError
        Not TOML, or not of that shape.
    """
    doc = tomllib.loads(text)
    kinds = {}
    for table, _, cls in _TABLES:
        items = doc.get(table, [])
        if not isinstance(items, list):
            raise ValueError(f"{table}: not an array of tables")
        kinds[table] = [_typed(cls, d, f"[[{table}]] {i + 1}") for i, d in enumerate(items)]
    extra = set(doc) - {"source", *kinds}
    if extra:
        raise ValueError(f"unknown table(s) {sorted(extra)}")
    source = dict(doc.get("source", {}))
    source.update({attr: kinds[table] for table, attr, _ in _TABLES})
    return _typed(PaperFacts, source, "[source]")


def read_facts(path: str | Path = DEFAULT_FACTS) -> PaperFacts:
    """Read recorded facts (default: the bundled ``paper_facts.toml``).

    Raises
    ------
    InputError
        The file is missing, not UTF-8, or not a facts file.
    """
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError("file not found", file=p, column="paper") from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=p, column="paper") from None
    try:
        return facts_from_toml(text)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise InputError(f"not a paper-facts file: {exc}", file=p) from None


def write_facts(paper_path: str | Path, out: str | Path = DEFAULT_FACTS) -> PaperFacts:
    """Derive the facts from ``paper_path`` and record them in ``out`` (atomically)."""
    facts = read_paper(paper_path)
    write_text(out, facts_to_toml(facts))
    return facts


# ---------------------------------------------------------------------------------------
# The checks


def check_reporting(inputs: AuditInputs) -> list[Finding]:
    """Each method the paper claims, without any result of it in the text."""
    facts = inputs.paper
    assert facts is not None
    captions = [f.caption for f in facts.figures]
    figs = (f" (figure captions: {'; '.join(repr(c) for c in captions)})" if captions
            else " (no figures)")
    found = []
    for m in facts.methods:
        if m.claimed_lines and not m.reported_lines:
            detail = f"the Methods claim {m.method}, but the paper reports {m.missing}"
            if "plot" in m.missing:
                detail += figs
            found.append(Finding(None, None, None, "reporting", "warning", detail,
                                 values={"method": m.method}))
    return found


def check_references(inputs: AuditInputs) -> list[Finding]:
    """Whether most references are about the paper's topic (self-citations not counted)."""
    facts = inputs.paper
    assert facts is not None
    refs = facts.references
    if not refs:
        return []
    on = [r.number for r in refs if r.on_topic]
    self_cite = [r.number for r in refs if r.self_citation]
    topics = {name: sum(name in r.topics for r in refs) for name in TOPICS}
    listing = ", ".join(f"{name} {c}" for name, c in topics.items() if c)
    words = (inputs.question or bundled_question()).topic.words
    detail = (f"{len(on)} of {len(refs)} references mention {words}"
              f" ({', '.join(f'[{i}]' for i in on) or 'none'})")
    if self_cite:
        detail += (f", and {', '.join(f'[{i}]' for i in self_cite)} is this article itself "
                   "(same title)")
    ok = len(on) - len(self_cite) >= len(refs) / 2
    if not ok:
        detail += (f"; the others are about unrelated topics ({listing or 'various'}, ...): "
                   "the pooled studies cannot be identified from the references")
    return [Finding(None, None, None, "references", "info" if ok else "warning", detail,
                    values={"references": len(refs), "on_topic": len(on),
                            "self_citations": len(self_cite), **topics})]

