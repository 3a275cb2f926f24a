"""The review question as data: title, source paper, the two arms and the topic's terms.

The bundled question (``bundled/question.toml``) is the one srsbayes was built for (preop vs
postop SRS for a resected brain metastasis); ``audit``, ``report`` and ``certainty``
``--question FILE`` read another of the same form. The report's title, subtitle and every
sentence that names an arm (the brief, the bottom line, the outcome sections, the figures,
the summary-of-findings statements, the trials), and the audit's reference check
(:func:`srsbayes.audit.paper.derive_facts`) read it instead of writing the question into
code; :func:`asked` gives the bundled question where none was given. The arm codes are the
study table's (``preop`` is the treatment, ``postop`` the control:
:data:`srsbayes.families.ARMS`); a question names its arms' wording, not other codes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..errors import InputError
from ..families import ARMS
from ..resources import BUNDLED
from .specs import read_toml

BUNDLED_QUESTION = BUNDLED / "question.toml"
"""The question of the bundled data."""

_KEYS = {"title", "source", "ask", "comparison", "comparison_short", "arms", "topic"}
_ARM_KEYS = {"label", "short", "word"}
_TOPIC_KEYS = {"terms", "words"}


@dataclass(frozen=True)
class Arm:
    """One arm: its code in the study table and its wording (``label``: in sentences,
    ``short``: in table headings, ``word``: the shortest, in figure labels and compact
    phrases such as "P(preop better)"; default: ``short``)."""

    code: str
    label: str
    short: str
    word: str = ""

    def __post_init__(self) -> None:
        if not self.word:
            object.__setattr__(self, "word", self.short)


@dataclass(frozen=True)
class Topic:
    """What makes a reference on the question's topic: any of ``terms`` (word stems,
    case-insensitive), described in findings as ``words``."""

    terms: tuple[str, ...]
    words: str

    @property
    def pattern(self) -> re.Pattern[str]:
        """The terms as one case-insensitive regular expression (each matched literally)."""
        return re.compile("|".join(re.escape(t) for t in self.terms), re.IGNORECASE)


@dataclass(frozen=True)
class Question:
    """The review question (see the module docstring); ``path`` is its file.

    ``ask`` is the question as the brief asks it, ``comparison`` and ``comparison_short``
    name the comparison in titles (default: the arms' labels, or short forms, joined by
    "vs")."""

    title: str
    source: str
    arms: tuple[Arm, ...]
    topic: Topic
    path: str = ""
    ask: str = ""
    comparison: str = ""
    comparison_short: str = ""

    def __post_init__(self) -> None:
        t, c = self.arms
        for key, default in (("ask", f"Does {t.label} give better outcomes than {c.label}?"),
                             ("comparison", f"{t.label} vs {c.label}"),
                             ("comparison_short", f"{t.short} vs {c.short}")):
            if not getattr(self, key):
                object.__setattr__(self, key, default)

    def arm(self, code: str) -> Arm:
        """The arm of study-table code ``code``."""
        return next(a for a in self.arms if a.code == code)

    @property
    def treatment(self) -> Arm:
        """The treatment arm (``preop`` in the study table)."""
        return self.arm(ARMS[0])

    @property
    def control(self) -> Arm:
        """The control arm (``postop`` in the study table)."""
        return self.arm(ARMS[1])


def _text(table: Mapping[str, object], key: str, f: str, where: str = "",
          optional: bool = False) -> str:
    value = table.get(key)
    if optional and value is None:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise InputError("must be a non-empty string", file=f, column=where + key)
    return value.strip()


def _no_unknown(table: Mapping[str, object], known: set[str], f: str, where: str = "") -> None:
    extra = sorted(set(table) - known)
    if extra:
        raise InputError(f"unknown key; known: {', '.join(sorted(known))}", file=f,
                         column=where + extra[0])


def read_question(path: str | Path) -> Question:
    """Read and validate a question file.

    Raises
    ------
    InputError
        The file is missing or malformed, a key is unknown or missing, the arms are not
        exactly ``preop`` and ``postop``, or ``topic.terms`` is empty (file and key named).
    """
    f = str(path)
    _, raw = read_toml(path, "question file")
    _no_unknown(raw, _KEYS, f)
    arms_raw, topic_raw = raw.get("arms"), raw.get("topic")
    if not isinstance(arms_raw, dict) or set(arms_raw) != set(ARMS):
        raise InputError(f"must be the tables [arms.{ARMS[0]}] and [arms.{ARMS[1]}] (the "
                         "study table's arm codes)", file=f, column="arms")
    arms = []
    for code in ARMS:
        arm = arms_raw[code]
        where = f"arms.{code}."
        if not isinstance(arm, dict):
            raise InputError("must be a table", file=f, column=where.rstrip("."))
        _no_unknown(arm, _ARM_KEYS, f, where)
        arms.append(Arm(code, _text(arm, "label", f, where), _text(arm, "short", f, where),
                        _text(arm, "word", f, where, optional=True)))
    if not isinstance(topic_raw, dict):
        raise InputError("must be a table with `terms` and `words`", file=f, column="topic")
    _no_unknown(topic_raw, _TOPIC_KEYS, f, "topic.")
    terms = topic_raw.get("terms")
    if (not isinstance(terms, list) or not terms
            or not all(isinstance(t, str) and t.strip() for t in terms)):
        raise InputError("must be a non-empty list of non-empty strings", file=f,
                         column="topic.terms")
    topic = Topic(tuple(t.strip() for t in terms), _text(topic_raw, "words", f, "topic."))
    return Question(_text(raw, "title", f), _text(raw, "source", f), tuple(arms), topic, f,
                    *(_text(raw, k, f, optional=True)
                      for k in ("ask", "comparison", "comparison_short")))


@cache
def bundled_question() -> Question:
    """The bundled question (read once)."""
    return read_question(BUNDLED_QUESTION)


def asked(question: Question | None) -> Question:
    """``question``, or the bundled question when none was given (``None``): whose arms'
    wording an output uses."""
    return question or bundled_question()
