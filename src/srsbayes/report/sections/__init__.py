"""The report's sections, as an ordered registry that the document is built from.

Each section is a builder ``(report) -> list of blocks`` (:mod:`srsbayes.report.document`)
registered under a name; :func:`build_document` calls them in order, once per report,
and both writers (HTML, Markdown) render the one tree it returns. A new section is one
:func:`register_section` call, without editing this package::

    from srsbayes.report.document import H, P, Section
    from srsbayes.report.sections import register_section

    def tumour_board(report):
        return [Section("sec-board", [H(2, "Tumour-board notes", "board"), P("...")])]

    register_section("tumour-board", tumour_board, after="audit")

A top-level :class:`~srsbayes.report.document.Section` whose first block is a level-2
heading with an ``id`` gets an entry in the report's contents line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..document import Block, Document, H, Inline, P, S, Section
from . import audit, brief, certainty, methods, outcome, summary, trials

if TYPE_CHECKING:
    from ..model import Report

SectionBuilder = Callable[["Report"], list[Block]]
"""A section: the report in, its blocks out (pure: no file, no randomness)."""


@dataclass(frozen=True)
class RegisteredSection:
    """A section of the report: its registry name and its builder."""

    name: str
    build: SectionBuilder


@dataclass(frozen=True)
class Contents:
    """Placeholder for the contents line: :func:`build_document` replaces it with links to
    every top-level section's level-2 heading, once all sections are built."""

    label: str = "Contents: "


SECTIONS: list[RegisteredSection] = []
"""The registered sections, in report order."""


def section_names() -> list[str]:
    """Names of the registered sections, in report order."""
    return [s.name for s in SECTIONS]


def _position(after: str | None, before: str | None) -> int:
    names = section_names()
    if after is not None and before is not None:
        raise ValueError("give after= or before=, not both")
    anchor = after if after is not None else before
    if anchor is None:
        return len(names)
    if anchor not in names:
        raise KeyError(f"no report section {anchor!r} (sections: {', '.join(names)})")
    return names.index(anchor) + (1 if after is not None else 0)


def register_section(name: str, builder: SectionBuilder, *, after: str | None = None,
                     before: str | None = None) -> SectionBuilder:
    """Add a section to the report (at the end, or right after/before a named section).

    Parameters
    ----------
    name
        Unique name of the section (see :func:`section_names`).
    builder
        ``builder(report)`` returns the section's blocks.
    after, before
        Name of the section it follows or precedes (at most one).

    Returns
    -------
    SectionBuilder
        ``builder``, so that the function can be used as a decorator's body.

    Raises
    ------
    ValueError
        ``name`` is already registered, or both ``after`` and ``before`` are given.
    KeyError
        ``after``/``before`` names no registered section.
    """
    if name in section_names():
        raise ValueError(f"report section {name!r} is already registered")
    SECTIONS.insert(_position(after, before), RegisteredSection(name, builder))
    return builder


def unregister_section(name: str) -> None:
    """Remove a registered section (``KeyError`` if there is none of that name)."""
    names = section_names()
    if name not in names:
        raise KeyError(f"no report section {name!r}")
    del SECTIONS[names.index(name)]


def contents_line(blocks: list[Block], label: str = "Contents: ") -> P:
    """Links to the level-2 heading that opens each top-level section."""
    links: list[Inline] = []
    for b in blocks:
        if isinstance(b, Section) and b.blocks and isinstance(b.blocks[0], H) \
                and b.blocks[0].level == 2 and b.blocks[0].id:
            links += [" · "] if links else []
            links.append(S(b.blocks[0].text, "", f"#{b.blocks[0].id}"))
    return P([label, links], "nav")


def build_document(report: Report) -> Document:
    """The report's document tree: every registered section, in order, built once."""
    blocks: list[Block | Contents] = [b for sec in SECTIONS for b in sec.build(report)]
    built = [b for b in blocks if not isinstance(b, Contents)]
    return Document(report.the_question.title,
                    [contents_line(built, b.label) if isinstance(b, Contents) else b
                     for b in blocks])


def _contents(_report: Report) -> list[Block]:
    return [Contents()]  # type: ignore[list-item]  # resolved by build_document


register_section("subtitle", summary.subtitle)
register_section("brief", brief.brief_section)
register_section("bottom-line", summary.bottom_line)
register_section("certainty", certainty.certainty_section)
register_section("summary", summary.summary_section)
register_section("contents", _contents)
register_section("outcomes", outcome.outcome_sections)
register_section(trials.NAME, trials.trials_section)
register_section("audit", audit.audit_section)
register_section("methods", methods.methods_section)
