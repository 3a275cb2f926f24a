"""The report's document model: a small tree of blocks whose text is plain strings.

Section builders (:mod:`srsbayes.report.sections`) produce these blocks; the writers
(:mod:`srsbayes.report.html`, :mod:`srsbayes.report.markdown`) escape every string when
they emit it, so text from data (study labels, covariates, sources, claims) can never
become markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class S:
    """Styled inline text: ``b`` bold, ``i`` italic, ``code``, ``pass``/``fail``/``warn``/
    ``na`` status badges, ``muted``; ``href`` makes an in-page link (``#id`` only)."""

    text: str
    style: str = ""
    href: str = ""


Inline = str | S | Sequence["Inline"]
"""Inline content: a string, a styled span, or a sequence of them."""


@dataclass
class H:
    """A heading; ``id`` is its in-page anchor."""

    level: int
    text: str
    id: str = ""


@dataclass
class P:
    """A paragraph (``cls``: ``lead``, ``sub``, ``small``, ``nav``)."""

    content: Inline
    cls: str = ""


@dataclass
class UL:
    """A bulleted list."""

    items: list[Inline]


@dataclass
class Table:
    """A table with one header row."""

    head: list[Inline]
    rows: list[list[Inline]]
    cls: str = ""
    caption: str = ""


@dataclass
class Fig:
    """A PNG figure: embedded in HTML, written to ``figures/{key}.png`` for Markdown."""

    key: str
    data: bytes
    alt: str
    caption: Inline = ""


@dataclass
class Box:
    """A call-out box (``kind``: ``bottom``, ``fail``, ``note``)."""

    kind: str
    blocks: list[Any] = field(default_factory=list)


@dataclass
class Pre:
    """Preformatted text."""

    text: str


@dataclass
class Details:
    """Collapsed content (HTML ``<details>``; Markdown shows it in full)."""

    summary: str
    blocks: list[Any] = field(default_factory=list)


@dataclass
class Section:
    """A top-level part of the report; its first level-2 heading is its contents entry."""

    id: str
    blocks: list[Any]


Block = H | P | UL | Table | Fig | Box | Pre | Details | Section
"""Any block of the tree."""


@dataclass
class Document:
    """The whole report: a title and its blocks, built once and given to every writer."""

    title: str
    blocks: list[Block]

    def walk(self) -> Iterator[Block]:
        """Every block, depth first (children of boxes, sections and details included)."""
        return walk(self.blocks)

    def figure_files(self) -> dict[str, bytes]:
        """PNG files the Markdown twin links to, by path relative to the report folder."""
        return {f"figures/{b.key}.png": b.data for b in self.walk() if isinstance(b, Fig)}


def walk(blocks: Iterable[Block]) -> Iterator[Block]:
    """``blocks`` and their descendants, depth first."""
    for b in blocks:
        yield b
        if isinstance(b, Box | Section | Details):
            yield from walk(b.blocks)


def join(items: Sequence[Inline]) -> list[Inline]:
    """``a``, ``a and b``, ``a, b and c`` for inline parts."""
    out: list[Inline] = []
    for i, it in enumerate(items):
        if i:
            out.append(" and " if i == len(items) - 1 else ", ")
        out.append(it)
    return out


def anchor(href: str) -> str:
    """An in-page anchor name from ``href`` (``#id`` or ``id``): letters, digits, ``-``, ``_``."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", href.lstrip("#"))
